// BEAT_NO_TRACE: the recorder is compiled out. beat_config.trace_path and
// BEAT_TRACE still compile and are accepted, but the pool logs a warning
// at create, writes no file, and beat_pool_trace_status says UNSUPPORTED.
#define BEAT_NO_TRACE
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"

#include <sys/stat.h>

static char dir[64];
static char log_text[4096];

static void capture_log(beat_log_level level, const char *message, void *user)
{
    (void)user;
    size_t used = strlen(log_text);
    snprintf(log_text + used, sizeof log_text - used, "%d %s\n", (int)level, message);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    ++*(unsigned *)arg;
}

// Runs a pool configured with trace_path (NULL: the environment decides)
// and returns the create result; the jobs must run as usual.
static beat_result run_pool(const char *trace_path, beat_result *status)
{
    beat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 1;
    cfg.trace_path = trace_path;
    cfg.trace_events = 16;
    cfg.logger.fn = capture_log;
    log_text[0] = '\0';
    beat_pool *pool;
    beat_result r = beat_pool_create(&cfg, &pool);
    if (r != BEAT_OK)
        return r;
    unsigned ran = 0;
    beat_submit(pool, job, &ran);
    beat_pool_wait(pool);
    beat_trace_status st;
    *status = beat_pool_trace_status(pool, &st);
    beat_pool_destroy(pool);
    return ran == 1 ? BEAT_OK : BEAT_ERROR_INVALID_ARGUMENT;
}

static void a_requested_trace_is_refused_with_a_warning(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/t.json", dir);
    beat_result status = BEAT_OK;
    CHECK(run_pool(path, &status) == BEAT_OK);
    CHECK_EQ(status, BEAT_ERROR_UNSUPPORTED);
    CHECK_MSG(strstr(log_text, "1 beat_pool_create") != NULL &&
                  strstr(log_text, "BEAT_NO_TRACE") != NULL,
              "no warning naming BEAT_NO_TRACE: %s", log_text);
    CHECK(!exists(path));
}

static void the_environment_is_refused_too(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/env.json", dir);
    CHECK(setenv("BEAT_TRACE", path, 1) == 0);
    beat_result status = BEAT_OK;
    beat_result r = run_pool(NULL, &status);
    unsetenv("BEAT_TRACE");
    CHECK(r == BEAT_OK);
    CHECK_EQ(status, BEAT_ERROR_UNSUPPORTED);
    CHECK(strstr(log_text, "BEAT_NO_TRACE") != NULL);
    CHECK(!exists(path));
}

static void no_request_no_warning(void)
{
    beat_result status = BEAT_OK;
    CHECK(run_pool(NULL, &status) == BEAT_OK);
    CHECK_EQ(status, BEAT_ERROR_UNSUPPORTED);
    CHECK_MSG(log_text[0] == '\0', "unexpected log: %s", log_text);
    beat_trace_status st;
    CHECK(beat_pool_trace_status(NULL, &st) == BEAT_ERROR_INVALID_ARGUMENT);
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(a_requested_trace_is_refused_with_a_warning),
        BT_CASE(the_environment_is_refused_too),
        BT_CASE(no_request_no_warning),
    };
    snprintf(dir, sizeof dir, "/tmp/beat_trace_off_XXXXXX");
    if (mkdtemp(dir) == NULL) {
        printf("cannot create a temporary directory\n0 passed, 1 failed\n");
        return 1;
    }
    unsetenv("BEAT_TRACE");
    int rc = BT_RUN(cases);
    rmdir(dir); // empty unless a case failed
    return rc;
}
