// The pool adapting to what it measures: memory pressure (throttled
// workers, deferrable jobs, level callbacks, driven by a fake pressure
// source and by a fake cgroup tree) and execution-time prediction (timed
// jobs and loop chunks, beat_predict_ns, loop chunk sizes, chains of tiny
// jobs).
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"
#include "tree.h"

#include <pthread.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void spin_ns(uint64_t ns)
{
    uint64_t until = now_ns() + ns;
    while (now_ns() < until) {
    }
}

static void sleep_us(unsigned us)
{
    struct timespec ts = {0, (long)us * 1000};
    nanosleep(&ts, NULL);
}

// ---------------------------------------------------------------------------
// A fake pressure source and jobs that record how many run at once.

static unsigned fake_level; // beat_pressure_level the source returns (atomic)
static unsigned running, max_running, ran;

static beat_pressure_level fake_source(void *user)
{
    (void)user;
    return (beat_pressure_level)__atomic_load_n(&fake_level, __ATOMIC_ACQUIRE);
}

static void set_level(beat_pressure_level level)
{
    __atomic_store_n(&fake_level, (unsigned)level, __ATOMIC_RELEASE);
}

static void reset_counts(void)
{
    __atomic_store_n(&running, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&max_running, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&ran, 0, __ATOMIC_RELAXED);
}

// Runs for about arg microseconds (sleeping, so that even on 2 CPUs every
// worker that takes one is counted as running at once).
static void tracked_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    unsigned now = __atomic_add_fetch(&running, 1, __ATOMIC_ACQ_REL);
    unsigned seen = __atomic_load_n(&max_running, __ATOMIC_RELAXED);
    while (now > seen && !__atomic_compare_exchange_n(&max_running, &seen, now, 0, __ATOMIC_RELAXED,
                                                      __ATOMIC_RELAXED)) {
    }
    sleep_us((unsigned)(uintptr_t)arg);
    __atomic_sub_fetch(&running, 1, __ATOMIC_ACQ_REL);
    __atomic_add_fetch(&ran, 1, __ATOMIC_ACQ_REL);
}

static beat_pool *aware_pool(unsigned workers, unsigned pressure_workers)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = workers;
    cfg.memory_aware = 1;
    cfg.pressure_interval_ms = 1;
    cfg.pressure_workers = pressure_workers;
    cfg.pressure_source = fake_source;
    beat_pool *pool = NULL;
    if (beat_pool_create(&cfg, &pool) != BEAT_OK)
        return NULL;
    return pool;
}

// Runs short jobs until the pool has sampled level (sampling needs busy
// workers). Returns 1 when it did within 5 s.
static int pool_reaches(beat_pool *pool, beat_pressure_level level)
{
    double give_up = bt_seconds() + 5;
    while (beat_pool_pressure(pool) != level) {
        if (bt_seconds() > give_up)
            return 0;
        for (int i = 0; i < 8; i++)
            if (beat_submit(pool, tracked_job, (void *)(uintptr_t)200) != BEAT_OK)
                return 0;
        beat_pool_wait(pool);
    }
    return 1;
}

static void advanced_profile_turns_memory_awareness_on(void)
{
    CHECK(beat_config_default(BEAT_PROFILE_ADVANCED).memory_aware == 1);
    CHECK(beat_config_default(BEAT_PROFILE_BASIC).memory_aware == 0);
    CHECK(beat_config_default(BEAT_PROFILE_PERFORMANCE).memory_aware == 0);
    CHECK(beat_config_default(BEAT_PROFILE_DEVELOPMENT).memory_aware == 0);
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    beat_pool *pool = NULL;
    cfg.pressure_interval_ms = 60001;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_ERROR_INVALID_ARGUMENT);
    cfg.pressure_interval_ms = 0;
    cfg.predict_slots = 65537;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK(pool == NULL);
    CHECK_EQ(beat_pool_pressure(NULL), BEAT_PRESSURE_NONE);
}

static void high_pressure_limits_running_workers_and_none_restores_them(void)
{
    set_level(BEAT_PRESSURE_HIGH);
    beat_pool *pool = aware_pool(4, 2);
    CHECK(pool != NULL);
    CHECK_MSG(pool_reaches(pool, BEAT_PRESSURE_HIGH), "the pool never sampled HIGH");
    reset_counts();
    for (int i = 0; i < 200; i++)
        CHECK_EQ(beat_submit(pool, tracked_job, (void *)(uintptr_t)300), BEAT_OK);
    beat_pool_wait(pool);
    unsigned high_max = max_running;
    CHECK_EQ(ran, 200);
    CHECK_MSG(high_max <= 2, "%u jobs ran at once at HIGH with pressure_workers 2", high_max);
    beat_stats stats;
    CHECK_EQ(beat_pool_stats(pool, &stats, NULL, 0), BEAT_OK);
    CHECK_MSG(stats.throttles >= 2, "throttles %llu", (unsigned long long)stats.throttles);

    set_level(BEAT_PRESSURE_NONE);
    CHECK_MSG(pool_reaches(pool, BEAT_PRESSURE_NONE), "the pool never sampled NONE");
    reset_counts();
    for (int i = 0; i < 200; i++)
        CHECK_EQ(beat_submit(pool, tracked_job, (void *)(uintptr_t)300), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(ran, 200);
    bt_note("at most %u of 4 workers ran at once at HIGH, %u after NONE; %llu throttle parks",
            high_max, max_running, (unsigned long long)stats.throttles);
    CHECK_MSG(max_running > 2, "only %u jobs ran at once after the level fell", max_running);
    beat_pool_destroy(pool);
}

static void critical_pressure_runs_one_worker(void)
{
    set_level(BEAT_PRESSURE_CRITICAL);
    beat_pool *pool = aware_pool(3, 0);
    CHECK(pool != NULL);
    CHECK(pool_reaches(pool, BEAT_PRESSURE_CRITICAL));
    reset_counts();
    for (int i = 0; i < 100; i++)
        CHECK_EQ(beat_submit(pool, tracked_job, (void *)(uintptr_t)300), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(ran, 100);
    CHECK_MSG(max_running == 1, "%u jobs ran at once at CRITICAL", max_running);
    beat_pool_destroy(pool);
}

static unsigned deferred_ran;

static void deferred_job(beat_ctx *ctx, void *arg)
{
    (void)ctx, (void)arg;
    __atomic_add_fetch(&deferred_ran, 1, __ATOMIC_ACQ_REL);
}

static void deferrable_jobs_wait_for_the_level_to_fall(void)
{
    set_level(BEAT_PRESSURE_HIGH);
    beat_pool *pool = aware_pool(2, 1);
    CHECK(pool != NULL);
    CHECK(pool_reaches(pool, BEAT_PRESSURE_HIGH));
    __atomic_store_n(&deferred_ran, 0, __ATOMIC_RELAXED);
    for (int i = 0; i < 10; i++)
        CHECK_EQ(beat_submit_deferrable(pool, deferred_job, NULL), BEAT_OK);
    // Ordinary jobs still run meanwhile.
    reset_counts();
    for (int i = 0; i < 20; i++)
        CHECK_EQ(beat_submit(pool, tracked_job, (void *)(uintptr_t)100), BEAT_OK);
    double until = bt_seconds() + 5;
    while (__atomic_load_n(&ran, __ATOMIC_ACQUIRE) < 20 && bt_seconds() < until)
        sleep_us(1000);
    CHECK_EQ(__atomic_load_n(&ran, __ATOMIC_ACQUIRE), 20);
    sleep_us(50000);
    CHECK_MSG(__atomic_load_n(&deferred_ran, __ATOMIC_ACQUIRE) == 0,
              "%u deferrable jobs ran at HIGH", deferred_ran);
    beat_stats stats;
    CHECK_EQ(beat_pool_stats(pool, &stats, NULL, 0), BEAT_OK);
    CHECK_EQ(stats.deferred, 10);
    // The level falls while the pool is idle: the timed park notices it
    // and releases the jobs without any new submit or wait.
    set_level(BEAT_PRESSURE_LOW);
    until = bt_seconds() + 5;
    while (__atomic_load_n(&deferred_ran, __ATOMIC_ACQUIRE) < 10 && bt_seconds() < until)
        sleep_us(1000);
    CHECK_MSG(__atomic_load_n(&deferred_ran, __ATOMIC_ACQUIRE) == 10,
              "%u of 10 deferrable jobs ran after the level fell", deferred_ran);
    CHECK_EQ(beat_pool_pressure(pool), BEAT_PRESSURE_LOW);
    // Without pressure a deferrable job is an ordinary one.
    CHECK_EQ(beat_submit_deferrable(pool, deferred_job, NULL), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(deferred_ran, 11);
    CHECK_EQ(beat_pool_stats(pool, &stats, NULL, 0), BEAT_OK);
    CHECK_EQ(stats.deferred, 10);
    CHECK_EQ(beat_submit_deferrable(NULL, deferred_job, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_submit_deferrable(pool, NULL, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    beat_pool_destroy(pool);
}

static void defer_one(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    sleep_us(500);
    if (beat_submit_deferrable((beat_pool *)arg, deferred_job, NULL) != BEAT_OK)
        abort();
}

static void jobs_deferred_while_pool_wait_waits_are_not_held(void)
{
    // Running jobs submit deferrable ones while beat_pool_wait waits: it
    // waits for them too, so it must not let them be held.
    set_level(BEAT_PRESSURE_HIGH);
    beat_pool *pool = aware_pool(2, 1);
    CHECK(pool != NULL);
    CHECK(pool_reaches(pool, BEAT_PRESSURE_HIGH));
    __atomic_store_n(&deferred_ran, 0, __ATOMIC_RELAXED);
    for (int i = 0; i < 40; i++)
        CHECK_EQ(beat_submit(pool, defer_one, pool), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(deferred_ran, 40);
    beat_pool_destroy(pool);
}

static void level_falls_only_to_a_reading_two_levels_lower(void)
{
    set_level(BEAT_PRESSURE_HIGH);
    beat_pool *pool = aware_pool(2, 1);
    CHECK(pool != NULL);
    CHECK(pool_reaches(pool, BEAT_PRESSURE_HIGH));
    set_level(BEAT_PRESSURE_MEDIUM); // one below: stays HIGH
    for (int i = 0; i < 20; i++) {
        CHECK_EQ(beat_submit(pool, tracked_job, (void *)(uintptr_t)2000), BEAT_OK);
        beat_pool_wait(pool);
    }
    CHECK_EQ(beat_pool_pressure(pool), BEAT_PRESSURE_HIGH);
    set_level(BEAT_PRESSURE_LOW); // two below: falls to it
    CHECK(pool_reaches(pool, BEAT_PRESSURE_LOW));
    set_level(BEAT_PRESSURE_CRITICAL); // rises at once, several levels
    CHECK(pool_reaches(pool, BEAT_PRESSURE_CRITICAL));
    set_level(BEAT_PRESSURE_NONE); // NONE is always taken
    CHECK(pool_reaches(pool, BEAT_PRESSURE_NONE));
    beat_pool_destroy(pool);
}

static void pool_and_counter_waits_and_destroy_run_held_jobs_under_pressure(void)
{
    set_level(BEAT_PRESSURE_CRITICAL);
    beat_pool *pool = aware_pool(2, 0);
    CHECK(pool != NULL);
    CHECK(pool_reaches(pool, BEAT_PRESSURE_CRITICAL));
    __atomic_store_n(&deferred_ran, 0, __ATOMIC_RELAXED);
    for (int i = 0; i < 50; i++)
        CHECK_EQ(beat_submit_deferrable(pool, deferred_job, NULL), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(deferred_ran, 50);
    // So does a wait for a counter of held jobs (it releases them all).
    beat_counter c = {0};
    beat_task_desc t = {0};
    t.fn = deferred_job;
    t.counter = &c;
    t.flags = BEAT_TASK_DEFERRABLE;
    for (int i = 0; i < 50; i++)
        CHECK_EQ(beat_submit_task(pool, &t), BEAT_OK);
    CHECK_EQ(beat_counter_wait(pool, &c), BEAT_OK);
    CHECK_EQ(deferred_ran, 100);
    for (int i = 0; i < 50; i++)
        CHECK_EQ(beat_submit_deferrable(pool, deferred_job, NULL), BEAT_OK);
    beat_pool_destroy(pool);
    CHECK_EQ(deferred_ran, 150);
}

// A job that forks: spawned children waited on, and pcalls, so that
// throttled workers' deques hold tasks the running worker waits for.
static void fib_task(beat_ctx *ctx, void *arg);

typedef struct fib_arg {
    int n;
    long result;
} fib_arg;

static void fib_task(beat_ctx *ctx, void *arg)
{
    fib_arg *f = (fib_arg *)arg;
    if (f->n < 2) {
        f->result = f->n;
        return;
    }
    fib_arg a = {f->n - 1, 0}, b = {f->n - 2, 0};
    if (f->n % 3 == 0) {
        beat_counter c = {0};
        beat_spawn(ctx, &c, fib_task, &a);
        fib_task(ctx, &b);
        beat_wait(ctx, &c);
    } else {
        beat_pcall(ctx, fib_task, &a, fib_task, &b);
    }
    f->result = a.result + b.result;
}

static unsigned flip_after; // the source turns CRITICAL after this many calls
static unsigned source_calls;

static beat_pressure_level flipping_source(void *user)
{
    (void)user;
    unsigned n = __atomic_add_fetch(&source_calls, 1, __ATOMIC_RELAXED);
    return n > __atomic_load_n(&flip_after, __ATOMIC_RELAXED) ? BEAT_PRESSURE_CRITICAL
                                                              : BEAT_PRESSURE_NONE;
}

static void fib_job(beat_ctx *ctx, void *arg)
{
    fib_task(ctx, arg);
    __atomic_add_fetch(&ran, 1, __ATOMIC_ACQ_REL);
}

static void no_deadlock_when_every_worker_but_one_is_parked(void)
{
    // 4 workers, the level turns CRITICAL while forking jobs run: three
    // workers park between jobs while the tasks they queued are waited for.
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 4;
    cfg.memory_aware = 1;
    cfg.pressure_interval_ms = 1;
    cfg.pressure_source = flipping_source;
    __atomic_store_n(&source_calls, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&flip_after, 3, __ATOMIC_RELAXED);
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    reset_counts();
    enum { JOBS = 64 };
    static fib_arg args[JOBS];
    for (int i = 0; i < JOBS; i++) {
        args[i].n = 18 + i % 5;
        args[i].result = 0;
        CHECK_EQ(beat_submit(pool, fib_job, &args[i]), BEAT_OK);
    }
    beat_pool_wait(pool);
    static const long fib[] = {2584, 4181, 6765, 10946, 17711};
    for (int i = 0; i < JOBS; i++)
        CHECK_MSG(args[i].result == fib[i % 5], "fib(%d) = %ld", args[i].n, args[i].result);
    CHECK_EQ(beat_pool_pressure(pool), BEAT_PRESSURE_CRITICAL);
    // Loops and beat_run under CRITICAL: the caller and one worker.
    fib_arg big = {24, 0};
    CHECK_EQ(beat_run(pool, fib_task, &big), BEAT_OK);
    CHECK_EQ(big.result, 46368);
    beat_stats stats;
    CHECK_EQ(beat_pool_stats(pool, &stats, NULL, 0), BEAT_OK);
    bt_note("%u jobs with spawns and pcalls finished; %llu throttle parks, %llu steals",
            (unsigned)JOBS, (unsigned long long)stats.throttles, (unsigned long long)stats.steals);
    CHECK(stats.throttles >= 1);
    beat_pool_destroy(pool);
}

static unsigned reported[16], nreported;

static void record_level(beat_pressure_level level, void *user)
{
    (void)user;
    unsigned i = __atomic_fetch_add(&nreported, 1, __ATOMIC_RELAXED);
    if (i < 16)
        reported[i] = (unsigned)level;
}

static void level_changes_are_reported_once_each(void)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 2;
    cfg.memory_aware = 1;
    cfg.pressure_interval_ms = 1;
    cfg.pressure_source = fake_source;
    cfg.on_pressure = record_level;
    __atomic_store_n(&nreported, 0, __ATOMIC_RELAXED);
    set_level(BEAT_PRESSURE_NONE);
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    static const beat_pressure_level steps[] = {BEAT_PRESSURE_MEDIUM, BEAT_PRESSURE_HIGH,
                                                BEAT_PRESSURE_LOW};
    for (int i = 0; i < 3; i++) {
        set_level(steps[i]);
        CHECK(pool_reaches(pool, steps[i]));
        for (int k = 0; k < 20; k++) // more samples at the same level: no new report
            CHECK_EQ(beat_submit(pool, tracked_job, (void *)(uintptr_t)100), BEAT_OK);
        beat_pool_wait(pool);
    }
    beat_pool_destroy(pool);
    CHECK_EQ(nreported, 3);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(reported[i], steps[i]);
}

static void level_comes_from_the_cgroup_headroom_below_sysfs_root(void)
{
    // A cgroup v2 group at 96 % of memory.max, no PSI files: HIGH.
    const char *root = tree_new();
    put(root, "proc/self/cgroup", "0::/job\n");
    put(root, "sys/fs/cgroup/job/memory.current", "%u\n", 960u << 20);
    put(root, "sys/fs/cgroup/job/memory.max", "%u\n", 1000u << 20);
    put(root, "sys/fs/cgroup/job/memory.stat", "anon 1\ninactive_file 0\n");
    beat_config cfg = beat_config_default(BEAT_PROFILE_ADVANCED);
    cfg.workers = 2;
    cfg.pin_workers = 0;
    cfg.sysfs_root = root;
    cfg.pressure_interval_ms = 1;
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    CHECK_MSG(pool_reaches(pool, BEAT_PRESSURE_HIGH), "level %s",
              beat_pressure_level_name(beat_pool_pressure(pool)));
    // The group shrinks (inactive page cache counts as free): NONE.
    put(root, "sys/fs/cgroup/job/memory.stat", "anon 1\ninactive_file %u\n", 500u << 20);
    CHECK(pool_reaches(pool, BEAT_PRESSURE_NONE));
    beat_pool_destroy(pool);

    // Nothing readable: a warning, and the level stays NONE.
    cfg.sysfs_root = tree_new();
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    CHECK(pool_reaches(pool, BEAT_PRESSURE_NONE));
    beat_pool_destroy(pool);
}

// ---------------------------------------------------------------------------
// Prediction

static void job_20us(beat_ctx *ctx, void *arg)
{
    (void)ctx, (void)arg;
    spin_ns(20000);
}

static void job_never_run(beat_ctx *ctx, void *arg) { (void)ctx, (void)arg; }

static void submitted_jobs_are_timed_and_predicted(void)
{
    beat_pool *pool = NULL;
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 2;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    uint64_t ns = 1;
    CHECK_EQ(beat_predict_ns(pool, job_20us, &ns), BEAT_ERROR_NO_DATA);
    CHECK_EQ(ns, 0);
    CHECK_EQ(beat_predict_ns(NULL, job_20us, &ns), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_predict_ns(pool, NULL, &ns), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_predict_ns(pool, job_20us, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    for (int i = 0; i < 200; i++)
        CHECK_EQ(beat_submit(pool, job_20us, NULL), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(beat_predict_ns(pool, job_20us, &ns), BEAT_OK);
    bt_note("20 us jobs predicted at %.1f us", (double)ns / 1000);
    // Preemption on a shared machine can only lengthen runs.
    CHECK_MSG(ns >= 19000 && ns < 60000, "estimate %llu ns", (unsigned long long)ns);
    CHECK_EQ(beat_predict_ns(pool, job_never_run, &ns), BEAT_ERROR_NO_DATA);
    beat_stats stats;
    CHECK_EQ(beat_pool_stats(pool, &stats, NULL, 0), BEAT_OK);
    CHECK_MSG(stats.timed >= 190, "%llu of 200 jobs of 20 us timed",
              (unsigned long long)stats.timed); // longer than 32 us of work each: always
    beat_pool_destroy(pool);

    cfg.predict_off = 1;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    CHECK_EQ(beat_submit(pool, job_20us, NULL), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(beat_predict_ns(pool, job_20us, &ns), BEAT_ERROR_UNSUPPORTED);
    CHECK_EQ(beat_pool_stats(pool, &stats, NULL, 0), BEAT_OK);
    CHECK_EQ(stats.timed, 0);
    beat_pool_destroy(pool);
}

static size_t first_chunk;

static void body_200ns(beat_ctx *ctx, size_t begin, size_t end, void *arg)
{
    (void)ctx, (void)arg;
    size_t expect = 0;
    __atomic_compare_exchange_n(&first_chunk, &expect, end - begin, 0, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
    spin_ns(200 * (end - begin));
}

static void grain0_loop_chunks_follow_the_body_estimate(void)
{
    beat_pool *pool = NULL;
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 2;
    for (int off = 0; off < 2; off++) {
        cfg.predict_off = off;
        CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
        for (int round = 0; round < 4; round++)
            CHECK_EQ(beat_pool_parallel_for(pool, 0, 20000, 0, body_200ns, NULL), BEAT_OK);
        __atomic_store_n(&first_chunk, 0, __ATOMIC_RELAXED);
        CHECK_EQ(beat_pool_parallel_for(pool, 0, 20000, 0, body_200ns, NULL), BEAT_OK);
        uint64_t ns = 0;
        beat_result r = beat_predict_range_ns(pool, body_200ns, 1000, &ns);
        bt_note("predict_off %d: first chunk %zu elements; 1000 items predicted %.0f us (%s)", off,
                first_chunk, (double)ns / 1000, beat_result_string(r));
        if (off) {
            CHECK_EQ(r, BEAT_ERROR_UNSUPPORTED);
            CHECK_EQ(first_chunk, 1);
        } else {
            CHECK_EQ(r, BEAT_OK);
            CHECK_MSG(ns >= 190000 && ns < 600000, "1000 items of 200 ns predicted at %llu ns",
                      (unsigned long long)ns);
            // About 2 us of work: 10 elements, fewer as the estimate runs
            // high (4 to 9 under ASan+UBSan, where the body takes 210-330
            // ns; 2 once in a loaded CI run). The lower bound only has to
            // tell a sized chunk from predict_off's 1.
            CHECK_MSG(first_chunk >= 2 && first_chunk <= 10, "first chunk %zu", first_chunk);
        }
        beat_pool_destroy(pool);
    }
}

enum { TINY_JOBS = 200000 };
static unsigned char tiny_done[TINY_JOBS];

static void tiny_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    unsigned char *slot = (unsigned char *)arg;
    __atomic_add_fetch(slot, 1, __ATOMIC_RELAXED);
}

static void tiny_jobs_are_chained_and_each_runs_once(void)
{
    beat_pool *pool = NULL;
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 2;
    unsigned jobs = BT_SCALE(TINY_JOBS, TINY_JOBS / 10);
    for (int off = 0; off < 2; off++) {
        cfg.predict_off = off;
        CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
        memset(tiny_done, 0, sizeof tiny_done);
        for (int round = 0; round < 2; round++) { // the first round teaches the predictor
            for (unsigned i = 0; i < jobs; i++)
                CHECK_EQ(beat_submit(pool, tiny_job, &tiny_done[i]), BEAT_OK);
            beat_pool_wait(pool);
        }
        for (unsigned i = 0; i < jobs; i++)
            CHECK_MSG(tiny_done[i] == 2, "job %u ran %u times in 2 rounds", i, tiny_done[i]);
        beat_stats stats;
        CHECK_EQ(beat_pool_stats(pool, &stats, NULL, 0), BEAT_OK);
        bt_note("predict_off %d: %u jobs twice, %llu of them taken in chains, %llu tasks counted",
                off, jobs, (unsigned long long)stats.chained, (unsigned long long)stats.tasks);
        CHECK_EQ(stats.tasks, 2ull * jobs); // a chain is not a task of its own
        if (off)
            CHECK_EQ(stats.chained, 0);
        else
            CHECK_MSG(stats.chained > jobs / 4, "only %llu jobs chained",
                      (unsigned long long)stats.chained);
        beat_pool_destroy(pool);
    }
}

static void batch_jobs_are_timed_per_job(void)
{
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(NULL, &pool), BEAT_OK);
    enum { N = 400 };
    static beat_job jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i].fn = job_20us;
        jobs[i].arg = NULL;
    }
    CHECK_EQ(beat_submit_batch(pool, jobs, N), BEAT_OK);
    beat_pool_wait(pool);
    uint64_t ns = 0;
    CHECK_EQ(beat_predict_ns(pool, job_20us, &ns), BEAT_OK);
    CHECK_MSG(ns >= 19000 && ns < 60000, "estimate %llu ns", (unsigned long long)ns);
    beat_pool_destroy(pool);
}

// ---------------------------------------------------------------------------
// Concurrent queries while workers record (for TSan).

static volatile int querying;

static void *query_loop(void *arg)
{
    beat_pool *pool = (beat_pool *)arg;
    uint64_t ns, found = 0;
    while (__atomic_load_n(&querying, __ATOMIC_ACQUIRE)) {
        found += beat_predict_ns(pool, tiny_job, &ns) == BEAT_OK;
        found += beat_predict_range_ns(pool, body_200ns, 10, &ns) == BEAT_OK;
        (void)beat_pool_pressure(pool);
    }
    return (void *)(uintptr_t)found;
}

static void predictions_are_read_while_workers_record(void)
{
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(NULL, &pool), BEAT_OK);
    __atomic_store_n(&querying, 1, __ATOMIC_RELEASE);
    pthread_t reader;
    CHECK(pthread_create(&reader, NULL, query_loop, pool) == 0);
    for (int round = 0; round < BT_SCALE(20, 4); round++) {
        for (unsigned i = 0; i < 5000; i++)
            CHECK_EQ(beat_submit(pool, tiny_job, &tiny_done[i]), BEAT_OK);
        CHECK_EQ(beat_pool_parallel_for(pool, 0, 2000, 0, body_200ns, NULL), BEAT_OK);
        beat_pool_wait(pool);
    }
    __atomic_store_n(&querying, 0, __ATOMIC_RELEASE);
    void *found;
    pthread_join(reader, &found);
    bt_note("%llu estimates read while the workers recorded", (unsigned long long)(uintptr_t)found);
    beat_pool_destroy(pool);
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(advanced_profile_turns_memory_awareness_on),
        BT_CASE(high_pressure_limits_running_workers_and_none_restores_them),
        BT_CASE(critical_pressure_runs_one_worker),
        BT_CASE(deferrable_jobs_wait_for_the_level_to_fall),
        BT_CASE(pool_and_counter_waits_and_destroy_run_held_jobs_under_pressure),
        BT_CASE(jobs_deferred_while_pool_wait_waits_are_not_held),
        BT_CASE(level_falls_only_to_a_reading_two_levels_lower),
        BT_CASE(no_deadlock_when_every_worker_but_one_is_parked),
        BT_CASE(level_changes_are_reported_once_each),
        BT_CASE(level_comes_from_the_cgroup_headroom_below_sysfs_root),
        BT_CASE(submitted_jobs_are_timed_and_predicted),
        BT_CASE(grain0_loop_chunks_follow_the_body_estimate),
        BT_CASE(tiny_jobs_are_chained_and_each_runs_once),
        BT_CASE(batch_jobs_are_timed_per_job),
        BT_CASE(predictions_are_read_while_workers_record),
    };
    return BT_RUN(cases);
}
