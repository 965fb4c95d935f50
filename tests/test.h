// The project's test runner: each tests/test_*.c is one program (and one
// implementation translation unit of the generated beat.h) with a table of
// cases. Output: one line per case, notes from stress tests, and the last
// line "N passed, N failed[, N skipped]". Exit status 1 on any failure.
//
//   static void deque_is_lifo_for_the_owner(void) { CHECK(...); }
//   int main(int argc, char **argv) { static const bt_case cases[] = {
//       BT_CASE(deque_is_lifo_for_the_owner), ... }; return BT_RUN(cases); }
//
// argv[1], if given, runs only the cases whose name contains it.
// BEAT_TEST_QUICK (set for sanitizer builds) scales stress loops down.
#ifndef BEAT_TEST_H
#define BEAT_TEST_H

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BT_UNUSED __attribute__((unused))

typedef struct bt_case {
    const char *name;
    void (*fn)(void);
} bt_case;

#define BT_CASE(fn)                                                                                \
    {                                                                                              \
#fn, fn                                                                                    \
    }
#define BT_RUN(cases) bt_run(cases, sizeof(cases) / sizeof((cases)[0]), argc, argv)

#ifdef BEAT_TEST_QUICK
#define BT_SCALE(full, quick) (quick)
#else
#define BT_SCALE(full, quick) (full)
#endif

// Seconds one case may take before the runner declares it hung.
#ifndef BT_TIMEOUT_S
#define BT_TIMEOUT_S 120
#endif

static const char *bt_current;
static int bt_case_failed, bt_case_skipped;

BT_UNUSED static void bt_fail(const char *file, int line, const char *fmt, ...)
{
    va_list args;
    if (!bt_case_failed)
        printf("FAIL %s\n", bt_current);
    printf("     %s:%d: ", file, line);
    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);
    printf("\n");
    fflush(stdout);
    bt_case_failed = 1;
}

// Marks the current case skipped (counted separately); say why.
BT_UNUSED static void bt_skip(const char *why)
{
    printf("skip %s: %s\n", bt_current, why);
    bt_case_skipped = 1;
}

// A line of evidence from the current case ("what it checked").
BT_UNUSED static void bt_note(const char *fmt, ...)
{
    va_list args;
    printf("     # ");
    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);
    printf("\n");
    fflush(stdout);
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            bt_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                       \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            bt_fail(__FILE__, __LINE__, __VA_ARGS__);                                              \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        unsigned long long bt_a_ = (unsigned long long)(a), bt_b_ = (unsigned long long)(b);       \
        if (bt_a_ != bt_b_) {                                                                      \
            bt_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s): %llu != %llu", #a, #b, bt_a_, bt_b_);   \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static void bt_on_alarm(int sig)
{
    static const char msg[] = "TIMEOUT: a case did not finish in time (hang?)\n";
    (void)sig;
    if (write(STDOUT_FILENO, msg, sizeof msg - 1) < 0) {
    }
    _exit(3);
}

BT_UNUSED static double bt_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int bt_run(const bt_case *cases, size_t n, int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    const char *filter = argc > 1 ? argv[1] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, bt_on_alarm);
    for (size_t i = 0; i < n; i++) {
        if (filter != NULL && strstr(cases[i].name, filter) == NULL)
            continue;
        bt_current = cases[i].name;
        bt_case_failed = 0;
        bt_case_skipped = 0;
        alarm(BT_TIMEOUT_S);
        double start = bt_seconds();
        cases[i].fn();
        alarm(0);
        if (bt_case_failed) {
            failed++;
        } else if (bt_case_skipped) {
            skipped++;
        } else {
            passed++;
            printf("ok   %s (%.2f s)\n", cases[i].name, bt_seconds() - start);
        }
    }
    if (skipped)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else
        printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}

#endif // BEAT_TEST_H
