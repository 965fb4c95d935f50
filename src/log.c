// Logging: setup paths and misuse reports go to beat_config.logger; without
// one Beat prints nothing. Hot paths never log.
#include "config.h"

#include <stdarg.h>
#ifndef BEAT_NO_STDIO
#include <stdio.h>
#endif

#define BEAT__LOG_MAX 512

// Formats and sends one message (truncated to BEAT__LOG_MAX bytes). Under
// BEAT_NO_STDIO there is no formatter: the format string is sent as is.
BEAT__PRIVATE void beat__log(const beat_logger *logger, beat_log_level level, const char *fmt, ...)
{
    if (logger == NULL || logger->fn == NULL)
        return;
#ifndef BEAT_NO_STDIO
    char message[BEAT__LOG_MAX];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    logger->fn(level, message, logger->user);
#else
    logger->fn(level, fmt, logger->user);
#endif
}

#ifndef BEAT_NO_STDIO
BEAT__DEF void beat_log_stderr(beat_log_level level, const char *message, void *user)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    const char *name = (unsigned)level < 4u ? names[level] : "log";
    (void)user;
    fprintf(stderr, "beat: %s: %s\n", name, message);
}
#endif
