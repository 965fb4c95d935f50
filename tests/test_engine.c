// Engine features: jobs pinned to a worker or to the main thread (beat_pump,
// beat_pump_wait) and job priorities. Built with 3 priority levels;
// test_engine_p1.c builds the same cases with 1 (priorities accepted,
// no order).
#ifndef BEAT_PRIORITIES
#define BEAT_PRIORITIES 3
#endif

// Profiler hooks that count: begins and ends per worker (balanced, never
// deeper than the nesting allows), begins that carried a given name, and
// thread announcements. (A system header before beat.h's implementation
// needs _GNU_SOURCE first, as base.h says.)
#define _GNU_SOURCE 1
#include <string.h>
static unsigned hook_depth[64], hook_max_depth, hook_unbalanced, hook_threads;
static unsigned hook_named; // begins with the name "named-job"
#define BEAT_PROFILE_BEGIN(name, worker) test_hook_begin((name), (worker))
#define BEAT_PROFILE_END(worker) test_hook_end(worker)
#define BEAT_PROFILE_THREAD(name) __atomic_fetch_add(&hook_threads, 1, __ATOMIC_RELAXED)
static void test_hook_begin(const char *name, unsigned worker)
{
    unsigned d = ++hook_depth[worker % 64]; // each worker touches its own entry
    if (d > __atomic_load_n(&hook_max_depth, __ATOMIC_RELAXED))
        __atomic_store_n(&hook_max_depth, d, __ATOMIC_RELAXED);
    if (name != NULL && strcmp(name, "named-job") == 0)
        __atomic_fetch_add(&hook_named, 1, __ATOMIC_RELAXED);
}
static void test_hook_end(unsigned worker)
{
    if (hook_depth[worker % 64]-- == 0)
        __atomic_fetch_add(&hook_unbalanced, 1, __ATOMIC_RELAXED);
}

#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"

#include <pthread.h>
#include <time.h>

#define MAX_WORKERS 4

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

// Worker threads, recorded by on_worker_start.
static pthread_t worker_thread[MAX_WORKERS];

static void record_thread(unsigned worker, void *user)
{
    (void)user;
    worker_thread[worker] = pthread_self();
}

static beat_pool *make_pool(unsigned workers)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = workers;
    cfg.on_worker_start = record_thread;
    beat_pool *pool = NULL;
    beat_result r = beat_pool_create(&cfg, &pool);
    BEAT_ASSERT(r == BEAT_OK);
    return pool;
}

// ---------------------------------------------------------------------------
// Worker-pinned jobs

typedef struct pinned_job {
    unsigned target, seq;
} pinned_job;

static unsigned wrong_thread, out_of_order, pinned_ran;
static unsigned last_seq[MAX_WORKERS];

static void pinned_fn(beat_ctx *ctx, void *arg)
{
    const pinned_job *j = (const pinned_job *)arg;
    if (beat_ctx_worker(ctx) != j->target ||
        !pthread_equal(pthread_self(), worker_thread[j->target]))
        __atomic_fetch_add(&wrong_thread, 1, __ATOMIC_RELAXED);
    // Only the target runs these, so last_seq[target] has one writer.
    if (j->seq <= last_seq[j->target] && j->seq != 0)
        __atomic_fetch_add(&out_of_order, 1, __ATOMIC_RELAXED);
    last_seq[j->target] = j->seq;
    __atomic_fetch_add(&pinned_ran, 1, __ATOMIC_RELAXED);
}

static void worker_pinned_jobs_run_only_on_their_worker_in_order(void)
{
    enum { WORKERS = 3, JOBS = 3000 };
    static pinned_job jobs[JOBS];
    beat_pool *pool = make_pool(WORKERS);
    wrong_thread = out_of_order = pinned_ran = 0;
    for (unsigned w = 0; w < WORKERS; w++)
        last_seq[w] = 0;
    for (unsigned i = 0; i < JOBS; i++) {
        jobs[i] = (pinned_job){i % WORKERS, i / WORKERS + 1};
        CHECK_EQ(beat_submit_pinned(pool, jobs[i].target, pinned_fn, &jobs[i]), BEAT_OK);
    }
    beat_pool_wait(pool); // worker-pinned jobs count for it
    CHECK_EQ(pinned_ran, JOBS);
    CHECK_EQ(wrong_thread, 0);
    CHECK_EQ(out_of_order, 0);
    beat_pool_destroy(pool);
}

static void pinned_jobs_wake_parked_workers(void)
{
    enum { WORKERS = 3, ROUNDS = 20 };
    static pinned_job jobs[ROUNDS];
    beat_pool *pool = make_pool(WORKERS);
    wrong_thread = pinned_ran = 0;
    for (unsigned w = 0; w < WORKERS; w++)
        last_seq[w] = 0;
    for (unsigned i = 0; i < ROUNDS; i++) {
        sleep_ms(i % 4 == 0 ? 20 : 1); // long enough, at times, for every worker to park
        jobs[i] = (pinned_job){2 - i % 2, 0};
        CHECK_EQ(beat_submit_pinned(pool, jobs[i].target, pinned_fn, &jobs[i]), BEAT_OK);
        beat_pool_wait(pool);
        CHECK_EQ(pinned_ran, i + 1);
    }
    CHECK_EQ(wrong_thread, 0);
    beat_pool_destroy(pool);
}

// A job that pins a job to another worker from inside the pool.
static void pin_from_inside(beat_ctx *ctx, void *arg)
{
    pinned_job *j = (pinned_job *)arg;
    BEAT_ASSERT(beat_submit_pinned(beat_ctx_pool(ctx), j->target, pinned_fn, j) == BEAT_OK);
}

static void jobs_pin_jobs_and_pool_wait_waits_for_them(void)
{
    enum { WORKERS = 2, JOBS = 500 };
    static pinned_job jobs[JOBS];
    beat_pool *pool = make_pool(WORKERS);
    wrong_thread = pinned_ran = 0;
    for (unsigned i = 0; i < JOBS; i++) {
        jobs[i] = (pinned_job){i % WORKERS, 0};
        CHECK_EQ(beat_submit(pool, pin_from_inside, &jobs[i]), BEAT_OK);
    }
    beat_pool_wait(pool);
    CHECK_EQ(pinned_ran, JOBS);
    CHECK_EQ(wrong_thread, 0);
    beat_pool_destroy(pool);
}

// ---------------------------------------------------------------------------
// Main-thread jobs

static pthread_t pump_thread;
static unsigned main_ran, main_wrong_thread, main_out_of_order, main_last;

static void main_fn(beat_ctx *ctx, void *arg)
{
    unsigned seq = (unsigned)(uintptr_t)arg;
    if (!pthread_equal(pthread_self(), pump_thread) ||
        beat_ctx_worker(ctx) < beat_pool_workers(beat_ctx_pool(ctx)))
        main_wrong_thread++;
    if (seq != 0 && seq <= main_last)
        main_out_of_order++;
    if (seq != 0)
        main_last = seq;
    main_ran++;
}

static void reset_main(void)
{
    pump_thread = pthread_self();
    main_ran = main_wrong_thread = main_out_of_order = main_last = 0;
}

static void main_jobs_run_only_in_pump_on_its_caller_in_order(void)
{
    beat_pool *pool = make_pool(2);
    reset_main();
    for (unsigned i = 1; i <= 100; i++)
        CHECK_EQ(beat_submit_pinned(pool, BEAT_MAIN_THREAD, main_fn, (void *)(uintptr_t)i),
                 BEAT_OK);
    beat_pool_wait(pool); // does not wait for (or run) main-thread jobs
    sleep_ms(5);
    CHECK_EQ(main_ran, 0);
    unsigned ran = 99;
    CHECK_EQ(beat_pump(pool, &ran), BEAT_OK);
    CHECK_EQ(ran, 100);
    CHECK_EQ(main_ran, 100);
    CHECK_EQ(main_wrong_thread, 0);
    CHECK_EQ(main_out_of_order, 0);
    CHECK_EQ(beat_pump(pool, &ran), BEAT_OK);
    CHECK_EQ(ran, 0);
    beat_pool_destroy(pool);
}

// A main-thread job that queues another one.
static void main_requeue(beat_ctx *ctx, void *arg)
{
    main_fn(ctx, NULL);
    if (arg != NULL)
        BEAT_ASSERT(beat_submit_pinned(beat_ctx_pool(ctx), BEAT_MAIN_THREAD, main_requeue, NULL) ==
                    BEAT_OK);
}

// A worker job that queues a main-thread job.
static void queue_main_from_worker(beat_ctx *ctx, void *arg)
{
    (void)arg;
    BEAT_ASSERT(beat_submit_pinned(beat_ctx_pool(ctx), BEAT_MAIN_THREAD, main_fn, NULL) == BEAT_OK);
}

static void a_pump_runs_what_was_queued_when_it_started(void)
{
    beat_pool *pool = make_pool(2);
    reset_main();
    CHECK_EQ(beat_submit_pinned(pool, BEAT_MAIN_THREAD, main_requeue, (void *)1), BEAT_OK);
    unsigned ran = 0;
    CHECK_EQ(beat_pump(pool, &ran), BEAT_OK);
    CHECK_EQ(ran, 1);
    CHECK_EQ(beat_pump(pool, &ran), BEAT_OK);
    CHECK_EQ(ran, 1);
    CHECK_EQ(main_ran, 2);
    // Queued from workers, pumped here.
    for (int i = 0; i < 50; i++)
        CHECK_EQ(beat_submit(pool, queue_main_from_worker, NULL), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(beat_pump(pool, &ran), BEAT_OK);
    CHECK_EQ(ran, 50);
    CHECK_EQ(main_wrong_thread, 0);
    beat_pool_destroy(pool);
}

// A dedicated thread looping on beat_pump_wait until told to stop.
static unsigned io_stop, io_ran;
static void *io_thread_main(void *arg)
{
    beat_pool *pool = (beat_pool *)arg;
    pump_thread = pthread_self(); // set before the first job is queued (see below)
    __atomic_store_n(&io_ran, 0, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&io_stop, __ATOMIC_ACQUIRE)) {
        unsigned ran = 0;
        BEAT_ASSERT(beat_pump_wait(pool, 50, &ran) == BEAT_OK);
        __atomic_fetch_add(&io_ran, ran, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void pump_wait_sleeps_until_a_job_or_the_timeout(void)
{
    beat_pool *pool = make_pool(2);
    reset_main();
    unsigned ran = 7;
    CHECK_EQ(beat_pump_wait(pool, 20, &ran), BEAT_OK);
    CHECK_EQ(ran, 0);
    // A dedicated thread serves jobs queued from workers and from here.
    main_ran = 0;
    __atomic_store_n(&io_stop, 0, __ATOMIC_RELEASE);
    pthread_t io;
    pthread_create(&io, NULL, io_thread_main, pool);
    sleep_ms(10); // the thread has set pump_thread and waits
    for (int i = 0; i < 100; i++) {
        if (i % 2)
            CHECK_EQ(beat_submit(pool, queue_main_from_worker, NULL), BEAT_OK);
        else
            CHECK_EQ(beat_submit_pinned(pool, BEAT_MAIN_THREAD, main_fn, NULL), BEAT_OK);
        if (i % 10 == 0)
            sleep_ms(2); // let it go back to sleep
    }
    beat_pool_wait(pool);
    for (int spins = 0; __atomic_load_n(&io_ran, __ATOMIC_ACQUIRE) < 100 && spins < 10000; spins++)
        sleep_ms(1);
    __atomic_store_n(&io_stop, 1, __ATOMIC_RELEASE);
    pthread_join(io, NULL);
    CHECK_EQ(io_ran, 100);
    CHECK_EQ(main_wrong_thread, 0);
    beat_pool_destroy(pool);
}

static void destroy_runs_main_jobs_left_over(void)
{
    beat_pool *pool = make_pool(2);
    reset_main();
    for (int i = 0; i < 10; i++)
        CHECK_EQ(beat_submit_pinned(pool, BEAT_MAIN_THREAD, main_fn, NULL), BEAT_OK);
    CHECK_EQ(beat_submit_pinned(pool, BEAT_MAIN_THREAD, main_requeue, (void *)1), BEAT_OK);
    beat_pool_destroy(pool);
    CHECK_EQ(main_ran, 12);
    CHECK_EQ(main_wrong_thread, 0);
}

static beat_result pump_from_job;
static void pump_inside(beat_ctx *ctx, void *arg)
{
    (void)arg;
    pump_from_job = beat_pump(beat_ctx_pool(ctx), NULL);
}

static void misuse_is_refused(void)
{
    beat_pool *pool = make_pool(2);
    CHECK_EQ(beat_submit_pinned(NULL, 0, main_fn, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_submit_pinned(pool, 2, main_fn, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_submit_pinned(pool, 0, NULL, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_pump(NULL, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_pump_wait(NULL, 1, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_submit_priority(pool, (beat_priority)3, main_fn, NULL),
             BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_submit_priority(pool, BEAT_PRIORITY_HIGH, NULL, NULL),
             BEAT_ERROR_INVALID_ARGUMENT);
    pump_from_job = BEAT_OK;
    CHECK_EQ(beat_submit(pool, pump_inside, NULL), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(pump_from_job, BEAT_ERROR_DEADLOCK);
    beat_pool_destroy(pool);
}

// ---------------------------------------------------------------------------
// Priorities

static unsigned gate, order_next;
static unsigned order_of[3][16]; // position at which each job ran

static void blocker(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    while (!__atomic_load_n(&gate, __ATOMIC_ACQUIRE))
        sleep_ms(1);
}

static void ordered(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    unsigned id = (unsigned)(uintptr_t)arg; // priority * 16 + i
    order_of[id / 16][id % 16] = __atomic_fetch_add(&order_next, 1, __ATOMIC_RELAXED);
}

static void every_priority_runs_and_order_follows_priority(void)
{
    beat_pool *pool = make_pool(1); // one worker: it has the choice every time
    __atomic_store_n(&gate, 0, __ATOMIC_RELEASE);
    order_next = 0;
    CHECK_EQ(beat_submit(pool, blocker, NULL), BEAT_OK);
    sleep_ms(5); // the worker is inside the blocker
    for (unsigned i = 0; i < 16; i++)
        for (unsigned p = 3; p-- > 0;)
            CHECK_EQ(beat_submit_priority(pool, (beat_priority)p, ordered,
                                          (void *)(uintptr_t)(p * 16 + i)),
                     BEAT_OK);
    __atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
    beat_pool_wait(pool);
    CHECK_EQ(order_next, 48);
#if BEAT_PRIORITIES == 3
    unsigned last_high = 0, first_normal = 99, last_normal = 0, first_low = 99;
    for (unsigned i = 0; i < 16; i++) {
        last_high = order_of[0][i] > last_high ? order_of[0][i] : last_high;
        first_normal = order_of[1][i] < first_normal ? order_of[1][i] : first_normal;
        last_normal = order_of[1][i] > last_normal ? order_of[1][i] : last_normal;
        first_low = order_of[2][i] < first_low ? order_of[2][i] : first_low;
    }
    CHECK_MSG(last_high < first_normal && last_normal < first_low,
              "HIGH ran up to %u, NORMAL from %u to %u, LOW from %u", last_high, first_normal,
              last_normal, first_low);
#endif
    beat_pool_destroy(pool);
}

// With several workers the order holds across them: no worker starts a job
// while a more important one is still queued (HIGH jobs are not moved onto
// one worker's deque, where they would wait behind it while the others
// took NORMAL jobs), and LOW jobs start only once no NORMAL job is left to
// take or steal. A job taken by another worker at that moment may record
// its start a little later, so up to workers - 1 starts may come after a
// less important one's.
#if BEAT_PRIORITIES >= 3
static unsigned blocked_workers;

static void blocker_counted(beat_ctx *ctx, void *arg)
{
    __atomic_fetch_add(&blocked_workers, 1, __ATOMIC_RELEASE);
    blocker(ctx, arg);
}

static void ordered_20us(beat_ctx *ctx, void *arg)
{
    ordered(ctx, arg);
    double until = bt_seconds() + 20e-6; // long enough for the others to choose meanwhile
    while (bt_seconds() < until) {
    }
}
#endif

static void priorities_hold_across_workers(void)
{
#if BEAT_PRIORITIES < 3
    bt_skip("built with fewer than 3 priority levels");
#else
    for (unsigned workers = 2; workers <= 3; workers++)
        for (unsigned round = 0; round < BT_SCALE(20u, 5u); round++) {
            beat_pool *pool = make_pool(workers);
            __atomic_store_n(&gate, 0, __ATOMIC_RELEASE);
            __atomic_store_n(&blocked_workers, 0, __ATOMIC_RELEASE);
            order_next = 0;
            for (unsigned w = 0; w < workers; w++)
                CHECK_EQ(beat_submit_priority(pool, BEAT_PRIORITY_HIGH, blocker_counted, NULL),
                         BEAT_OK);
            while (__atomic_load_n(&blocked_workers, __ATOMIC_ACQUIRE) < workers)
                sleep_ms(1);
            for (unsigned p = 3; p-- > 0;) // LOW first, HIGH last
                for (unsigned i = 0; i < 16; i++)
                    CHECK_EQ(beat_submit_priority(pool, (beat_priority)p, ordered_20us,
                                                  (void *)(uintptr_t)(p * 16 + i)),
                             BEAT_OK);
            __atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
            beat_pool_wait(pool);
            CHECK_EQ(order_next, 48);
            // Starts of each level after the first start of a less important one.
            unsigned late[2] = {0, 0};
            for (unsigned p = 0; p < 2; p++) {
                unsigned first_less = 99;
                for (unsigned q = p + 1; q < 3; q++)
                    for (unsigned i = 0; i < 16; i++)
                        if (order_of[q][i] < first_less)
                            first_less = order_of[q][i];
                for (unsigned i = 0; i < 16; i++)
                    late[p] += order_of[p][i] > first_less;
            }
            CHECK_MSG(late[0] <= workers - 1 && late[1] <= workers - 1,
                      "%u workers, round %u: %u HIGH jobs started after a less important one, "
                      "%u NORMAL jobs after a LOW one",
                      workers, round, late[0], late[1]);
            beat_pool_destroy(pool);
        }
#endif
}

// A HIGH job whose child is stolen and held: while it waits, queued LOW
// jobs must not run on its worker.
static unsigned child_started, release_child, low_ran_during_wait, high_waiting, high_worker;

static void held_child(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    __atomic_store_n(&child_started, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&release_child, __ATOMIC_ACQUIRE))
        sleep_ms(1);
}

static void low_job(beat_ctx *ctx, void *arg)
{
    (void)arg;
    // The other worker may take LOW jobs as soon as the child is done,
    // before the HIGH job has left its wait: only its own worker counts.
    if (beat_ctx_worker(ctx) == __atomic_load_n(&high_worker, __ATOMIC_ACQUIRE) &&
        __atomic_load_n(&high_waiting, __ATOMIC_ACQUIRE))
        __atomic_fetch_add(&low_ran_during_wait, 1, __ATOMIC_RELAXED);
}

static void high_job(beat_ctx *ctx, void *arg)
{
    (void)arg;
    beat_counter c = {0};
    __atomic_store_n(&high_worker, beat_ctx_worker(ctx), __ATOMIC_RELEASE);
    beat_spawn(ctx, &c, held_child, NULL);
    while (!__atomic_load_n(&child_started, __ATOMIC_ACQUIRE))
        sleep_ms(1); // the other worker stole it
    __atomic_store_n(&high_waiting, 1, __ATOMIC_RELEASE);
    beat_wait(ctx, &c);
    __atomic_store_n(&high_waiting, 0, __ATOMIC_RELEASE);
}

static void a_wait_helps_only_with_its_priority_or_higher(void)
{
    beat_pool *pool = make_pool(2);
    child_started = release_child = low_ran_during_wait = high_waiting = 0;
    high_worker = 99;
    CHECK_EQ(beat_submit_priority(pool, BEAT_PRIORITY_HIGH, high_job, NULL), BEAT_OK);
    while (!__atomic_load_n(&high_waiting, __ATOMIC_ACQUIRE))
        sleep_ms(1);
    for (int i = 0; i < 20; i++)
        CHECK_EQ(beat_submit_priority(pool, BEAT_PRIORITY_LOW, low_job, NULL), BEAT_OK);
    sleep_ms(30); // the HIGH job's worker looks for work while it waits
    __atomic_store_n(&release_child, 1, __ATOMIC_RELEASE);
    beat_pool_wait(pool);
#if BEAT_PRIORITIES == 3
    CHECK_EQ(low_ran_during_wait, 0);
#else
    bt_note("%u LOW jobs ran while the HIGH job waited (one level: allowed)", low_ran_during_wait);
#endif
    beat_pool_destroy(pool);
}

// ---------------------------------------------------------------------------
// An outside thread that helps

static pthread_t helper_thread;
static unsigned helped, help_jobs_ran;

static void help_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    if (pthread_equal(pthread_self(), helper_thread))
        __atomic_fetch_add(&helped, 1, __ATOMIC_RELAXED);
    sleep_ms(1);
    __atomic_fetch_add(&help_jobs_ran, 1, __ATOMIC_RELAXED);
}

static void pool_help_runs_jobs_on_the_caller_until_all_are_done(void)
{
    beat_pool *pool = make_pool(1);
    helper_thread = pthread_self();
    helped = help_jobs_ran = 0;
    for (int i = 0; i < 200; i++)
        CHECK_EQ(beat_submit(pool, help_job, NULL), BEAT_OK);
    CHECK_EQ(beat_pool_help(pool), BEAT_OK);
    CHECK_EQ(help_jobs_ran, 200); // all finished when it returns
    CHECK_MSG(helped > 0, "the calling thread ran none of 200 jobs of 1 ms");
    bt_note("the calling thread ran %u of 200 jobs", helped);
    CHECK_EQ(beat_pool_help(NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_pool_help(pool), BEAT_OK); // nothing to do
    beat_pool_destroy(pool);
}

// ---------------------------------------------------------------------------
// Names and profiler hooks

static void named_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
}

static void names_reach_the_profiler_hooks_which_nest(void)
{
    hook_threads = hook_named = hook_unbalanced = 0;
    beat_pool *pool = make_pool(3);
    beat_pool_wait(pool);
    CHECK_EQ(beat_fn_name(pool, named_job), NULL);
    CHECK_EQ(beat_name_fn(pool, named_job, "first"), BEAT_OK);
    CHECK_EQ(beat_name_fn(pool, named_job, "named-job"), BEAT_OK); // replaces
    CHECK(strcmp(beat_fn_name(pool, named_job), "named-job") == 0);
    CHECK_EQ(beat_name_fn(pool, NULL, "x"), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_name_fn(pool, named_job, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_fn_name(NULL, named_job), NULL);
    for (int i = 0; i < 200; i++)
        CHECK_EQ(beat_submit(pool, named_job, NULL), BEAT_OK);
    for (int i = 0; i < 100; i++)
        CHECK_EQ(beat_submit(pool, pin_from_inside, &(pinned_job){0, 0}), BEAT_OK);
    beat_pool_wait(pool);
    beat_pool_destroy(pool);
    CHECK_EQ(hook_named, 200);
    CHECK_EQ(hook_threads, 3); // once per worker thread
    CHECK_EQ(hook_unbalanced, 0);
    for (int w = 0; w < 64; w++)
        CHECK_EQ(hook_depth[w], 0);
}

// ---------------------------------------------------------------------------
// Task descriptors and counters waited for from outside

typedef struct counted_job {
    unsigned *ran;
    unsigned pinned_to; // a worker index that must run it, or ~0u
    unsigned *wrong;    // runs on another worker
} counted_job;

static void counted_fn(beat_ctx *ctx, void *arg)
{
    const counted_job *j = (const counted_job *)arg;
    if (j->pinned_to != ~0u && beat_ctx_worker(ctx) != j->pinned_to)
        __atomic_fetch_add(j->wrong, 1, __ATOMIC_RELAXED);
    double until = bt_seconds() + 2e-6;
    while (bt_seconds() < until) {
    }
    __atomic_fetch_add(j->ran, 1, __ATOMIC_RELAXED);
}

// A descriptor of counted_fn on job, counted on c.
static beat_task_desc counted_task(counted_job *job, beat_counter *c)
{
    beat_task_desc t = {0};
    t.fn = counted_fn;
    t.arg = job;
    t.counter = c;
    return t;
}

typedef struct stream {
    beat_pool *pool;
    unsigned stop, submitted;
} stream;

static void stream_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    double until = bt_seconds() + 2e-6;
    while (bt_seconds() < until) {
    }
}

// Another thread's never-ending stream of jobs, which would keep a
// beat_pool_wait from returning. It leaves the workers time to spare: a
// stream that kept them busy would starve the LOW jobs (they run only
// when no more important work is left), and their counter's wait with it.
static void *submit_stream(void *arg)
{
    stream *s = (stream *)arg;
    const struct timespec gap = {0, 10000}; // 10 us, more with timer slack
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        if (beat_submit(s->pool, stream_job, NULL) == BEAT_OK)
            s->submitted++;
        nanosleep(&gap, NULL);
    }
    return NULL;
}

// A thread counts its jobs on a counter and waits for those only, while
// another thread keeps submitting: every kind of submit a descriptor names
// (priorities, held, pinned to a worker) counts, and each wait returns
// once exactly its jobs have run.
static void a_threads_counter_waits_for_its_own_jobs_only(void)
{
    enum { WORKERS = 2, JOBS = 200 };
    beat_pool *pool = make_pool(WORKERS);
    stream s = {pool, 0, 0};
    pthread_t other;
    pthread_create(&other, NULL, submit_stream, &s);
    static const unsigned kinds[] = {
        0, BEAT_TASK_HIGH, BEAT_TASK_LOW, BEAT_TASK_DEFERRABLE, BEAT_TASK_PINNED,
    };
    const unsigned rounds = BT_SCALE(20u, 5u);
    for (unsigned round = 0; round < rounds; round++)
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            unsigned ran = 0, wrong = 0;
            counted_job job = {&ran, kinds[k] & BEAT_TASK_PINNED ? round % WORKERS : ~0u, &wrong};
            beat_counter c = {0};
            beat_task_desc t = counted_task(&job, &c);
            t.flags = kinds[k];
            t.thread = round % WORKERS;
            for (unsigned i = 0; i < JOBS; i++)
                CHECK_EQ(beat_submit_task(pool, &t), BEAT_OK);
            CHECK_EQ(beat_counter_wait(pool, &c), BEAT_OK);
            CHECK_MSG(__atomic_load_n(&ran, __ATOMIC_RELAXED) == JOBS,
                      "round %u, flags %u: the wait returned after %u of %u jobs", round, kinds[k],
                      __atomic_load_n(&ran, __ATOMIC_RELAXED), (unsigned)JOBS);
            CHECK_EQ(beat_counter_pending(&c), 0u);
            CHECK_EQ(wrong, 0u);
        }
    __atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
    pthread_join(other, NULL);
    bt_note("%u rounds of 5 kinds x %d counted jobs while another thread submitted %u", rounds,
            (int)JOBS, s.submitted);
    beat_pool_destroy(pool);
}

static void submit_counted_and_wait(beat_ctx *ctx, void *arg)
{
    (void)arg;
    unsigned ran = 0;
    counted_job job = {&ran, ~0u, NULL};
    beat_counter c = {0};
    beat_task_desc t = counted_task(&job, &c);
    for (unsigned i = 0; i < 50; i++)
        CHECK_EQ(beat_submit_task(beat_ctx_pool(ctx), &t), BEAT_OK);
    // On the one worker: the wait runs them itself.
    CHECK_EQ(beat_counter_wait(beat_ctx_pool(ctx), &c), BEAT_OK);
    CHECK_EQ(ran, 50u);
}

// Main-thread jobs count when the pump runs them; a task's wait on a
// counter helps; the name reaches beat_fn_name; bad descriptors are
// refused with the counter unchanged.
static void task_descriptors_pin_name_and_refuse_bad_ones(void)
{
    beat_pool *pool = make_pool(1);
    unsigned ran = 0;
    counted_job job = {&ran, ~0u, NULL};
    beat_counter c = {0};
    beat_task_desc t = counted_task(&job, &c);
    t.flags = BEAT_TASK_PINNED;
    t.thread = BEAT_MAIN_THREAD;
    t.name = "counted";
    CHECK_EQ(beat_submit_task(pool, &t), BEAT_OK);
    CHECK_EQ(beat_submit_task(pool, &t), BEAT_OK);
    CHECK_EQ(beat_counter_pending(&c), 2u);
    CHECK(beat_fn_name(pool, counted_fn) != NULL &&
          strcmp(beat_fn_name(pool, counted_fn), "counted") == 0);
    unsigned pumped = 0;
    CHECK_EQ(beat_pump(pool, &pumped), BEAT_OK);
    CHECK_EQ(pumped, 2u);
    CHECK_EQ(beat_counter_wait(pool, &c), BEAT_OK);
    CHECK_EQ(ran, 2u);
    // From a task, with the pool's only worker busy waiting.
    CHECK_EQ(beat_run(pool, submit_counted_and_wait, NULL), BEAT_OK);
    // Refused, nothing counted.
    beat_task_desc bad = t;
    bad.flags = BEAT_TASK_HIGH | BEAT_TASK_LOW;
    CHECK_EQ(beat_submit_task(pool, &bad), BEAT_ERROR_INVALID_ARGUMENT);
    bad.flags = BEAT_TASK_PINNED | BEAT_TASK_HIGH;
    CHECK_EQ(beat_submit_task(pool, &bad), BEAT_ERROR_INVALID_ARGUMENT);
    bad.flags = BEAT_TASK_PINNED | BEAT_TASK_DEFERRABLE;
    CHECK_EQ(beat_submit_task(pool, &bad), BEAT_ERROR_INVALID_ARGUMENT);
    bad.flags = BEAT_TASK_PINNED;
    bad.thread = 1; // one worker: 0 only
    CHECK_EQ(beat_submit_task(pool, &bad), BEAT_ERROR_INVALID_ARGUMENT);
    bad.flags = 16u;
    CHECK_EQ(beat_submit_task(pool, &bad), BEAT_ERROR_INVALID_ARGUMENT);
    bad.flags = 0;
    bad.fn = NULL;
    CHECK_EQ(beat_submit_task(pool, &bad), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_submit_task(pool, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_submit_task(NULL, &t), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_counter_wait(NULL, &c), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_counter_wait(pool, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_counter_pending(&c), 0u);
    beat_pool_destroy(pool);
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(worker_pinned_jobs_run_only_on_their_worker_in_order),
        BT_CASE(pinned_jobs_wake_parked_workers),
        BT_CASE(jobs_pin_jobs_and_pool_wait_waits_for_them),
        BT_CASE(main_jobs_run_only_in_pump_on_its_caller_in_order),
        BT_CASE(a_pump_runs_what_was_queued_when_it_started),
        BT_CASE(pump_wait_sleeps_until_a_job_or_the_timeout),
        BT_CASE(destroy_runs_main_jobs_left_over),
        BT_CASE(misuse_is_refused),
        BT_CASE(every_priority_runs_and_order_follows_priority),
        BT_CASE(priorities_hold_across_workers),
        BT_CASE(a_wait_helps_only_with_its_priority_or_higher),
        BT_CASE(names_reach_the_profiler_hooks_which_nest),
        BT_CASE(pool_help_runs_jobs_on_the_caller_until_all_are_done),
        BT_CASE(a_threads_counter_waits_for_its_own_jobs_only),
        BT_CASE(task_descriptors_pin_name_and_refuse_bad_ones),
    };
    return BT_RUN(cases);
}
