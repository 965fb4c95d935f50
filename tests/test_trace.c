// The trace recorder (beat_config.trace_path, BEAT_TRACE): known workloads
// run with tracing on, and tests/trace_check.py checks each file (valid
// JSON, one track per worker, slices that nest, flows that pair up,
// counters) against the counts the workload makes known. The .k rule for
// several pools, the environment against the config field, full rings, and
// no file at all when tracing is off.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "fib.h"
#include "test.h"

#include <dirent.h>
#include <sys/stat.h>

static char dir[64];            // this run's temporary directory
static char checker[256];       // tests/trace_check.py
static int python_checked = -1; // 1: python3 runs, 0: it does not
static char log_text[4096];     // what the capturing logger saw
static unsigned log_warnings;
// warnings and errors it saw

static void capture_log(beat_log_level level, const char *message, void *user)
{
    (void)user;
    if (level <= BEAT_LOG_WARN)
        log_warnings++;
    size_t used = strlen(log_text);
    snprintf(log_text + used, sizeof log_text - used, "%s\n", message);
}

static const char *in_dir(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
    return out;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static unsigned files_in_dir(void)
{
    unsigned n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n;
}

// Finds tests/trace_check.py next to this source file (tests run from the
// repository root) and checks that python3 runs. 0 when it cannot.
static int have_checker(void)
{
    if (python_checked < 0) {
        const char *file = __FILE__;
        const char *slash = strrchr(file, '/');
        if (slash != NULL)
            snprintf(checker, sizeof checker, "%.*s/trace_check.py", (int)(slash - file), file);
        else
            snprintf(checker, sizeof checker, "trace_check.py");
        if (!exists(checker))
            snprintf(checker, sizeof checker, "tests/trace_check.py");
        python_checked = exists(checker) && system("python3 -c '' 2>/dev/null") == 0;
    }
    return python_checked;
}

// Runs the checker on path with extra arguments; its exit status (0 = ok).
static int check_trace(const char *path, const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s' %s", checker, path, args);
    fflush(stdout);
    int status = system(cmd);
    return status == 0 ? 0 : 1;
}

#define CHECK_TRACE(path, ...)                                                                     \
    do {                                                                                           \
        if (!have_checker()) {                                                                     \
            bt_skip("python3 or tests/trace_check.py not found: the file was not checked");        \
            return;                                                                                \
        }                                                                                          \
        char args_[512];                                                                           \
        snprintf(args_, sizeof args_, __VA_ARGS__);                                                \
        CHECK_MSG(check_trace(path, args_) == 0, "trace_check.py rejected %s", path);              \
    } while (0)

static beat_config traced_config(unsigned workers, const char *path)
{
    beat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = workers;
    cfg.trace_path = path;
    cfg.logger.fn = capture_log;
    log_text[0] = '\0';
    log_warnings = 0;
    return cfg;
}

static void small_work(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    volatile unsigned sum = 0; // work the compiler must keep
    for (unsigned i = 0; i < 2000; i++)
        sum += i;
    (void)sum;
}

// Sleeps: the other workers are free to steal while this one waits.
static void sleepy_work(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
}

// A pcall tree with 2^depth sleepy leaves.
static void sleepy_tree(beat_ctx *ctx, void *arg)
{
    uintptr_t depth = (uintptr_t)arg;
    if (depth == 0) {
        sleepy_work(ctx, NULL);
        return;
    }
    beat_pcall(ctx, sleepy_tree, (void *)(depth - 1), sleepy_tree, (void *)(depth - 1));
}

static beat_stats stats_of(beat_pool *pool)
{
    beat_stats total;
    memset(&total, 0, sizeof total);
    beat_pool_stats(pool, &total, NULL, 0);
    return total;
}

// ---------------------------------------------------------------------------

static void submitted_jobs_make_one_job_slice_each(void)
{
    char path[128];
    beat_config cfg = traced_config(2, in_dir(path, sizeof path, "jobs.json"));
    beat_pool *pool;
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK);
    for (int i = 0; i < 300; i++)
        CHECK(beat_submit(pool, small_work, NULL) == BEAT_OK);
    beat_pool_wait(pool);
    beat_trace_status st;
    CHECK(beat_pool_trace_status(pool, &st) == BEAT_OK);
    CHECK(strcmp(st.path, path) == 0);
    CHECK_EQ(st.ring_events, 65536);
    CHECK_EQ(st.rings, 2 + BEAT_OUTSIDE_SLOTS);
    CHECK_EQ(st.dropped, 0);
    CHECK(st.recorded >= 300);
    CHECK(!exists(path)); // written by destroy, not before
    beat_pool_destroy(pool);
    CHECK(exists(path));
    CHECK_MSG(strstr(log_text, "trace written to") != NULL, "no info line: %s", log_text);
    CHECK_TRACE(path, "--workers 2 --count job=300 --dropped 0");
}

static void other_work(beat_ctx *ctx, void *arg) { small_work(ctx, arg); }

static void slices_take_the_names_of_named_functions(void)
{
    char path[128];
    beat_config cfg = traced_config(2, in_dir(path, sizeof path, "names.json"));
    beat_pool *pool;
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK);
    CHECK(beat_name_fn(pool, small_work, "named \"job\"\\") == BEAT_OK); // escaped in JSON
    for (int i = 0; i < 8; i++)
        CHECK(beat_submit(pool, i < 5 ? small_work : other_work, NULL) == BEAT_OK);
    beat_pool_destroy(pool);
    CHECK_TRACE(path, "--count job=8 --named 'named \"job\"\\=5' --named job=3");
}

static void promoted_frames_make_pcall_slices_and_steals_make_flows(void)
{
    char path[128];
    beat_config cfg = traced_config(2, in_dir(path, sizeof path, "fib.json"));
    cfg.heartbeat_us = 20; // many promotions
    beat_pool *pool;
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK);
    fib_arg a = {24, 0};
    CHECK(beat_run(pool, fib_task, &a) == BEAT_OK);
    CHECK_EQ(a.result, fib_serial(24));
    CHECK(beat_run(pool, sleepy_tree, (void *)(uintptr_t)5) == BEAT_OK);
    beat_stats s = stats_of(pool);
    beat_pool_destroy(pool);
    bt_note("fib(24) and 32 sleepy leaves: %llu promotions, %llu steals",
            (unsigned long long)s.promotions, (unsigned long long)s.steals);
    // Every promoted frame runs once (by a thief or by its owner's join),
    // every steal took a promoted frame, and beat_run ran twice.
    CHECK_TRACE(path, "--workers 2 --count pcall=%llu --flows %llu --count run=2 --dropped 0",
                (unsigned long long)s.promotions, (unsigned long long)s.steals);
}

typedef struct spawner {
    unsigned tasks;
} spawner;

static void spawn_and_wait(beat_ctx *ctx, void *arg)
{
    spawner *sp = (spawner *)arg;
    beat_counter done = {0};
    for (unsigned i = 0; i < sp->tasks; i++)
        beat_spawn(ctx, &done, sleepy_work, NULL);
    beat_wait(ctx, &done);
}

static void spawned_tasks_and_their_wait_make_slices(void)
{
    char path[128];
    beat_config cfg = traced_config(2, in_dir(path, sizeof path, "spawn.json"));
    beat_pool *pool;
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK);
    spawner sp = {64};
    CHECK(beat_run(pool, spawn_and_wait, &sp) == BEAT_OK);
    beat_stats s = stats_of(pool);
    beat_pool_destroy(pool);
    bt_note("64 spawned tasks, %llu stolen", (unsigned long long)s.steals);
    CHECK_TRACE(path, "--workers 2 --count spawn=64 --count wait=1 --count run=1 --flows %llu",
                (unsigned long long)s.steals);
}

static void loop_body(beat_ctx *ctx, size_t begin, size_t end, void *arg)
{
    (void)ctx;
    (void)arg;
    volatile size_t sum = 0;
    for (size_t i = begin; i < end; i++)
        for (unsigned k = 0; k < 20; k++)
            sum += i * k;
    (void)sum;
}

static void parallel_for_chunks_tile_the_range(void)
{
    char path[128];
    beat_config cfg = traced_config(2, in_dir(path, sizeof path, "loop.json"));
    beat_pool *pool;
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK);
    CHECK(beat_pool_parallel_for(pool, 0, 100000, 0, loop_body, NULL) == BEAT_OK);
    beat_stats s = stats_of(pool);
    beat_pool_destroy(pool);
    bt_note("%llu chunks, %llu splits, %llu steals", (unsigned long long)s.chunks,
            (unsigned long long)s.promotions, (unsigned long long)s.steals);
    // Each split makes a piece that runs once; each steal took a piece.
    CHECK_TRACE(path,
                "--workers 2 --chunks 0,100000 --count chunk=%llu --count 'loop piece=%llu' "
                "--flows %llu",
                (unsigned long long)s.chunks, (unsigned long long)s.promotions,
                (unsigned long long)s.steals);
}

// Pool number k of a path: k jobs, so each file says which pool wrote it.
static beat_result traced_pool(const char *path, beat_pool **out, unsigned jobs)
{
    beat_config cfg = traced_config(1, path);
    beat_result r = beat_pool_create(&cfg, out);
    for (unsigned i = 0; r == BEAT_OK && i < jobs; i++)
        r = beat_submit(*out, small_work, NULL);
    return r;
}

static void pools_tracing_to_one_path_insert_k_before_the_extension(void)
{
    char path[128], second[128], third[128], bare[128], bare1[128];
    in_dir(path, sizeof path, "two.json");
    in_dir(second, sizeof second, "two.1.json");
    in_dir(third, sizeof third, "two.2.json");
    beat_pool *a, *b, *c, *d, *e;
    CHECK(traced_pool(path, &a, 10) == BEAT_OK);
    CHECK(traced_pool(path, &b, 20) == BEAT_OK);
    beat_trace_status st;
    CHECK(beat_pool_trace_status(b, &st) == BEAT_OK);
    CHECK_MSG(strcmp(st.path, second) == 0, "second pool traces to %s", st.path);
    beat_pool_destroy(b);
    beat_pool_destroy(a);
    CHECK(traced_pool(path, &c, 30) == BEAT_OK); // a third pool, after the others
    beat_pool_destroy(c);
    // No extension: ".k" goes at the end; a dot in a directory name is not one.
    in_dir(bare, sizeof bare, "dotted.d");
    CHECK(mkdir(bare, 0700) == 0);
    in_dir(bare, sizeof bare, "dotted.d/bare");
    in_dir(bare1, sizeof bare1, "dotted.d/bare.1");
    CHECK(traced_pool(bare, &d, 1) == BEAT_OK);
    CHECK(traced_pool(bare, &e, 2) == BEAT_OK);
    beat_pool_destroy(d);
    beat_pool_destroy(e);
    CHECK(exists(path) && exists(second) && exists(third) && exists(bare) && exists(bare1));
    CHECK_TRACE(path, "--workers 1 --count job=10");
    CHECK_TRACE(second, "--workers 1 --count job=20");
    CHECK_TRACE(third, "--workers 1 --count job=30");
    CHECK_TRACE(bare1, "--workers 1 --count job=2");
}

static void config_path_wins_over_the_environment(void)
{
    char env[128], env1[128], cfg_path[128];
    in_dir(env, sizeof env, "env.json");
    in_dir(env1, sizeof env1, "env.1.json");
    in_dir(cfg_path, sizeof cfg_path, "cfg.json");
    beat_pool *pool;
    beat_trace_status st;

    unsetenv("BEAT_TRACE");
    unsigned before = files_in_dir();
    beat_config cfg = traced_config(1, NULL); // neither: no trace, no file
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK);
    CHECK(beat_submit(pool, small_work, NULL) == BEAT_OK);
    CHECK(beat_pool_trace_status(pool, &st) == BEAT_ERROR_NO_DATA);
    beat_pool_destroy(pool);
    CHECK_EQ(files_in_dir(), before);

    CHECK(setenv("BEAT_TRACE", env, 1) == 0); // the environment alone
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK);
    CHECK(beat_submit(pool, small_work, NULL) == BEAT_OK);
    CHECK(beat_pool_trace_status(pool, &st) == BEAT_OK && strcmp(st.path, env) == 0);
    beat_pool_destroy(pool);
    CHECK(exists(env));

    cfg.trace_path = cfg_path; // the field wins: the environment's path is not counted
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK);
    CHECK(beat_submit(pool, small_work, NULL) == BEAT_OK);
    beat_pool_destroy(pool);
    CHECK(exists(cfg_path) && !exists(env1));

    before = files_in_dir();
    cfg.trace_path = ""; // off, whatever the environment says
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK);
    CHECK(beat_submit(pool, small_work, NULL) == BEAT_OK);
    CHECK(beat_pool_trace_status(pool, &st) == BEAT_ERROR_NO_DATA);
    beat_pool_destroy(pool);
    unsetenv("BEAT_TRACE");
    CHECK_EQ(files_in_dir(), before);
    CHECK_TRACE(env, "--workers 1 --count job=1");
    CHECK_TRACE(cfg_path, "--workers 1 --count job=1");
}

static void full_rings_stop_recording_and_count_what_they_drop(void)
{
    char path[128];
    beat_config cfg = traced_config(1, in_dir(path, sizeof path, "full.json"));
    cfg.trace_events = 32;
    beat_pool *pool;
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK);
    for (int i = 0; i < 500; i++)
        CHECK(beat_submit(pool, small_work, NULL) == BEAT_OK);
    beat_pool_wait(pool);
    beat_trace_status st;
    CHECK(beat_pool_trace_status(pool, &st) == BEAT_OK);
    CHECK_EQ(st.ring_events, 32);
    CHECK(st.recorded <= 32u * st.rings);
    CHECK(st.dropped > 0);
    // 500 slices at least were asked for, and every ask is kept or counted.
    CHECK(st.recorded + st.dropped >= 500);
    beat_pool_destroy(pool);
    bt_note("%llu events kept, %llu dropped", (unsigned long long)st.recorded,
            (unsigned long long)st.dropped);
    CHECK_TRACE(path, "--workers 1 --dropped %llu", (unsigned long long)st.dropped);
}

static beat_pressure_level high_pressure(void *user)
{
    (void)user;
    return BEAT_PRESSURE_HIGH;
}

static void pressure_samples_make_a_counter(void)
{
    char path[128];
    beat_config cfg = traced_config(2, in_dir(path, sizeof path, "pressure.json"));
    cfg.memory_aware = 1;
    cfg.pressure_source = high_pressure;
    cfg.pressure_interval_ms = 1;
    beat_pool *pool;
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK);
    for (int i = 0; i < 50; i++)
        CHECK(beat_submit(pool, small_work, NULL) == BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(beat_pool_pressure(pool), BEAT_PRESSURE_HIGH);
    beat_pool_destroy(pool);
    CHECK_TRACE(path, "--workers 2 --count job=50 --pressure %d", (int)BEAT_PRESSURE_HIGH);
}

static void errors_say_what_to_do(void)
{
    beat_trace_status st;
    CHECK(beat_pool_trace_status(NULL, &st) == BEAT_ERROR_INVALID_ARGUMENT);
    char path[128];
    beat_config cfg = traced_config(1, in_dir(path, sizeof path, "never.json"));
    cfg.trace_events = (1u << 24) + 1;
    beat_pool *pool;
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(log_text, "trace_events") != NULL);
    CHECK(!exists(path));

    cfg = traced_config(1, "/nonexistent-beat-dir/t.json");
    CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK);
    CHECK(beat_pool_trace_status(pool, NULL) == BEAT_ERROR_INVALID_ARGUMENT);
    beat_pool_destroy(pool);
    CHECK_MSG(strstr(log_text, "cannot write the trace") != NULL &&
                  strstr(log_text, "writable") != NULL,
              "log: %s", log_text);
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("     # could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(submitted_jobs_make_one_job_slice_each),
        BT_CASE(slices_take_the_names_of_named_functions),
        BT_CASE(promoted_frames_make_pcall_slices_and_steals_make_flows),
        BT_CASE(spawned_tasks_and_their_wait_make_slices),
        BT_CASE(parallel_for_chunks_tile_the_range),
        BT_CASE(pools_tracing_to_one_path_insert_k_before_the_extension),
        BT_CASE(config_path_wins_over_the_environment),
        BT_CASE(full_rings_stop_recording_and_count_what_they_drop),
        BT_CASE(pressure_samples_make_a_counter),
        BT_CASE(errors_say_what_to_do),
    };
    snprintf(dir, sizeof dir, "/tmp/beat_trace_XXXXXX");
    if (mkdtemp(dir) == NULL) {
        printf("cannot create a temporary directory\n0 passed, 1 failed\n");
        return 1;
    }
    unsetenv("BEAT_TRACE"); // the cases set it themselves
    int rc = BT_RUN(cases);
    remove_dir();
    return rc;
}
