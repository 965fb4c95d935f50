// The pool's contract (DESIGN.md §4): jobs from any thread run exactly once,
// waits wait for finished work, fork-join and loops are correct at every
// worker count, destroy finishes queued work, idle workers park, and
// create/destroy leaves no thread and no allocation behind.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"
#include "fib.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static unsigned count_threads(void)
{
    unsigned n = 0;
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL)
        return 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(dir);
    return n;
}

// count_threads once it has held still for 20 ms (at most 2 s): a thread
// joined just before leaves /proc/self/task a moment after pthread_join
// returns (slower under emulation), and must not be counted.
static unsigned count_threads_settled(void)
{
    unsigned n = count_threads();
    for (int i = 0; i < 100; i++) {
        usleep(20000);
        unsigned m = count_threads();
        if (m == n)
            break;
        n = m;
    }
    return n;
}

static beat_pool *make_pool(unsigned workers)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = workers;
    beat_pool *pool = NULL;
    if (beat_pool_create(&cfg, &pool) != BEAT_OK)
        return NULL;
    return pool;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

// A wait's deadline, 10 s from now: a thread not joined by then has hung,
// and fails its case instead of hanging the runner.
static struct timespec hang_deadline(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    return until;
}

// 1 if thread returned before until (and is joined).
static int joined_by(pthread_t thread, const struct timespec *until)
{
    return pthread_timedjoin_np(thread, NULL, until) == 0;
}

// ---------------------------------------------------------------------------
// Counting allocator: every byte the pool allocates must come back.

typedef struct counting_alloc {
    long long bytes, blocks, calls;
} counting_alloc;

static void *counting_alloc_fn(size_t size, size_t align, void *user)
{
    counting_alloc *c = (counting_alloc *)user;
    void *p = NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) != 0)
        return NULL;
    __atomic_fetch_add(&c->bytes, (long long)size, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->blocks, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->calls, 1, __ATOMIC_RELAXED);
    return p;
}

static void counting_free_fn(void *p, size_t size, size_t align, void *user)
{
    counting_alloc *c = (counting_alloc *)user;
    (void)align;
    __atomic_fetch_sub(&c->bytes, (long long)size, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&c->blocks, 1, __ATOMIC_RELAXED);
    free(p);
}

// ---------------------------------------------------------------------------
// Jobs

static void count_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    __atomic_fetch_add((unsigned *)arg, 1, __ATOMIC_RELAXED);
}

static void default_workers_are_the_cpus_this_process_may_use(void)
{
    cpu_set_t set;
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(NULL, &pool), BEAT_OK);
    CHECK_EQ(beat_pool_workers(pool), (unsigned)CPU_COUNT(&set));
    beat_pool_destroy(pool);
}

typedef struct start_log {
    unsigned started, stopped, named;
    unsigned seen_mask;
} start_log;

static void on_start(unsigned worker, void *user)
{
    start_log *log = (start_log *)user;
    char name[16] = {0}, want[16];
    prctl(PR_GET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
    snprintf(want, sizeof want, "beat-w%02u", worker);
    if (strcmp(name, want) == 0)
        __atomic_fetch_add(&log->named, 1, __ATOMIC_RELAXED);
    __atomic_fetch_or(&log->seen_mask, 1u << worker, __ATOMIC_RELAXED);
    __atomic_fetch_add(&log->started, 1, __ATOMIC_RELAXED);
}

static void on_stop(unsigned worker, void *user)
{
    (void)worker;
    __atomic_fetch_add(&((start_log *)user)->stopped, 1, __ATOMIC_RELAXED);
}

static void workers_are_named_and_run_start_and_stop_callbacks(void)
{
    start_log log = {0, 0, 0, 0};
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 4;
    cfg.on_worker_start = on_start;
    cfg.on_worker_stop = on_stop;
    cfg.user = &log;
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    beat_pool_destroy(pool);
    CHECK_EQ(log.started, 4);
    CHECK_EQ(log.stopped, 4);
    CHECK_EQ(log.named, 4);
    CHECK_EQ(log.seen_mask, 0xF);
}

typedef struct ctx_probe {
    unsigned worker;
    beat_pool *pool;
} ctx_probe;

static void probe_ctx(beat_ctx *ctx, void *arg)
{
    ctx_probe *p = (ctx_probe *)arg;
    p->worker = beat_ctx_worker(ctx);
    p->pool = beat_ctx_pool(ctx);
}

static void run_gives_the_caller_an_outside_ctx_and_jobs_a_worker_ctx(void)
{
    beat_pool *pool = make_pool(3);
    CHECK(pool != NULL);
    for (int i = 0; i < 100; i++) {
        ctx_probe p = {99, NULL};
        CHECK_EQ(beat_run(pool, probe_ctx, &p), BEAT_OK);
        CHECK(p.pool == pool);
        CHECK(p.worker >= 3 && p.worker < 3 + BEAT_OUTSIDE_SLOTS);
        ctx_probe q = {99, NULL};
        CHECK_EQ(beat_submit(pool, probe_ctx, &q), BEAT_OK);
        beat_pool_wait(pool);
        CHECK(q.pool == pool);
        CHECK(q.worker < 3);
    }
    beat_pool_destroy(pool);
}

typedef struct run_many {
    beat_pool *pool;
    long results[4];
} run_many;

static void *run_fib_repeatedly(void *p)
{
    run_many *r = (run_many *)p;
    for (int i = 0; i < 4; i++) {
        fib_arg a = {20, 0};
        beat_run(r->pool, fib_task, &a);
        r->results[i] = a.result;
    }
    return NULL;
}

static void more_outside_callers_than_slots_all_get_their_result(void)
{
    enum { CALLERS = BEAT_OUTSIDE_SLOTS + 3 };
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    run_many runs[CALLERS];
    pthread_t threads[CALLERS];
    for (int i = 0; i < CALLERS; i++) {
        runs[i].pool = pool;
        pthread_create(&threads[i], NULL, run_fib_repeatedly, &runs[i]);
    }
    for (int i = 0; i < CALLERS; i++)
        pthread_join(threads[i], NULL);
    beat_pool_destroy(pool);
    for (int i = 0; i < CALLERS; i++)
        for (int k = 0; k < 4; k++)
            CHECK_EQ(runs[i].results[k], 6765);
}

// ---------------------------------------------------------------------------
// Submission

typedef struct slot_jobs {
    unsigned char *runs; // one counter per job
} slot_jobs;

typedef struct submitter {
    beat_pool *pool;
    unsigned char *runs;
    unsigned first, count;
    unsigned failures;
} submitter;

static void mark_slot(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    __atomic_fetch_add((unsigned char *)arg, 1, __ATOMIC_RELAXED);
}

static void *submit_range(void *arg)
{
    submitter *s = (submitter *)arg;
    for (unsigned i = 0; i < s->count; i++)
        if (beat_submit(s->pool, mark_slot, &s->runs[s->first + i]) != BEAT_OK)
            s->failures++;
    return NULL;
}

static void two_outside_threads_submit_jobs_that_each_run_exactly_once(void)
{
    const unsigned per_thread = BT_SCALE(100000u, 20000u);
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    unsigned char *runs = (unsigned char *)calloc(2 * per_thread, 1);
    submitter s[2] = {{pool, runs, 0, per_thread, 0}, {pool, runs, per_thread, per_thread, 0}};
    pthread_t threads[2];
    double start = bt_seconds();
    for (int i = 0; i < 2; i++)
        pthread_create(&threads[i], NULL, submit_range, &s[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    beat_pool_wait(pool);
    double seconds = bt_seconds() - start;
    unsigned once = 0;
    for (unsigned i = 0; i < 2 * per_thread; i++)
        once += runs[i] == 1;
    beat_pool_destroy(pool);
    free(runs);
    CHECK_EQ(s[0].failures + s[1].failures, 0);
    CHECK_EQ(once, 2 * per_thread);
    bt_note("2 threads x %u submits: %u ran exactly once, %.2f s (%.2f M jobs/s)", per_thread, once,
            seconds, 2 * per_thread / seconds / 1e6);
}

typedef struct fanout {
    beat_pool *pool;
    unsigned *count;
    unsigned children;
} fanout;

static void submit_children(beat_ctx *ctx, void *arg)
{
    fanout *f = (fanout *)arg;
    (void)ctx;
    for (unsigned i = 0; i < f->children; i++)
        beat_submit(f->pool, count_job, f->count);
}

static void jobs_submitted_by_jobs_are_waited_for(void)
{
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    unsigned count = 0;
    fanout f = {pool, &count, 1000};
    for (int i = 0; i < 20; i++)
        CHECK_EQ(beat_submit(pool, submit_children, &f), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(count, 20 * 1000);
    beat_pool_destroy(pool);
}

typedef struct slow_job {
    unsigned long sleep_us;
    int done;
} slow_job;

static void sleep_then_mark(beat_ctx *ctx, void *arg)
{
    slow_job *j = (slow_job *)arg;
    (void)ctx;
    sleep_us((long)j->sleep_us);
    __atomic_store_n(&j->done, 1, __ATOMIC_RELAXED);
}

static void pool_wait_returns_only_after_running_jobs_finish(void)
{
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    slow_job jobs[4] = {{50000, 0}, {20000, 0}, {80000, 0}, {1000, 0}};
    for (int i = 0; i < 4; i++)
        CHECK_EQ(beat_submit(pool, sleep_then_mark, &jobs[i]), BEAT_OK);
    sleep_us(5000); // let them start: the wait must cover running jobs, not only queued ones
    beat_pool_wait(pool);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(jobs[i].done, 1);
    beat_pool_destroy(pool);
}

static void *wait_pool(void *arg)
{
    beat_pool_wait((beat_pool *)arg);
    return NULL;
}

static void several_outside_threads_can_wait_at_once(void)
{
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    slow_job job = {30000, 0};
    CHECK_EQ(beat_submit(pool, sleep_then_mark, &job), BEAT_OK);
    pthread_t waiters[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&waiters[i], NULL, wait_pool, pool);
    for (int i = 0; i < 3; i++)
        pthread_join(waiters[i], NULL);
    CHECK_EQ(job.done, 1);
    beat_pool_destroy(pool);
}

// Outside waiters that come and go while a thread submits: each leaves
// while others may be parked, and none may sleep through the count's zero.
// (With one flag for all outside waiters, the first to leave cleared it for
// the others: in 100,000 submits, a parked one hung in 2 runs of 3.)
typedef struct come_and_go {
    beat_pool *pool;
    int stop;
    unsigned long waits;
} come_and_go;

static void *wait_until_stopped(void *arg)
{
    come_and_go *w = (come_and_go *)arg;
    while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
        beat_pool_wait(w->pool);
        w->waits++;
    }
    return NULL;
}

static void outside_waiters_that_come_and_go_never_sleep_through_the_end(void)
{
    enum { WAITERS = 3 };
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 2;
    cfg.spin_us = 1; // short spins: the waits park
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    come_and_go w[WAITERS];
    pthread_t threads[WAITERS];
    for (int i = 0; i < WAITERS; i++) {
        come_and_go one = {pool, 0, 0};
        w[i] = one;
        pthread_create(&threads[i], NULL, wait_until_stopped, &w[i]);
    }
    const unsigned submits = BT_SCALE(30000u, 5000u);
    unsigned count = 0, rng = 1;
    for (unsigned i = 0; i < submits; i++) {
        CHECK_EQ(beat_submit(pool, count_job, &count), BEAT_OK);
        rng = rng * 1103515245u + 12345u;
        if ((rng >> 16) % 4 == 0)
            sleep_us((long)((rng >> 8) % 50));
    }
    for (int i = 0; i < WAITERS; i++)
        __atomic_store_n(&w[i].stop, 1, __ATOMIC_RELEASE);
    beat_pool_wait(pool);
    CHECK_EQ(count, submits);
    struct timespec until = hang_deadline();
    unsigned hung = 0;
    unsigned long waits = 0;
    for (int i = 0; i < WAITERS; i++) {
        if (!joined_by(threads[i], &until))
            hung++;
        else
            waits += w[i].waits;
    }
    CHECK_EQ(hung, 0u);
    if (hung == 0) // a hung waiter is parked in the pool: leave it
        beat_pool_destroy(pool);
    bt_note("%u submits, %lu waits returned", submits, waits);
}

typedef struct stand_ins {
    beat_pool *pool;
    long leave_after_us;
} stand_ins;

// The 4,095 stand-in waiters leave while the real one is parked.
static void *stand_ins_leave(void *arg)
{
    stand_ins *s = (stand_ins *)arg;
    sleep_us(s->leave_after_us);
    __atomic_fetch_sub(&s->pool->jobs, BEAT__WAITERS_OUTSIDE, __ATOMIC_SEQ_CST);
    return NULL;
}

// A word whose field of outside waiters is full (4,095) leaves the next
// waiter uncounted; that waiter parks with a timeout instead of counting on
// a wake, so its wait still ends with the job, also when the others have
// left by then and the job's end wakes no one.
static void a_waiter_left_uncounted_by_a_full_field_still_sees_the_end(void)
{
    uint64_t word = 5 | BEAT__WAITERS_OUTSIDE;
    int added = 1;
    CHECK_EQ(beat__waiter_add(&word, BEAT__WAITER_OUTSIDE, BEAT__WAITERS_OUTSIDE, &added),
             5 | BEAT__WAITERS_OUTSIDE);
    CHECK_EQ(added, 0);
    CHECK_EQ(word, 5 | BEAT__WAITERS_OUTSIDE);
    // The other kind's field is separate.
    CHECK_EQ(beat__waiter_add(&word, BEAT__WAITER_WORKER, BEAT__WAITERS_WORKER, &added),
             5 | BEAT__WAITERS_OUTSIDE);
    CHECK_EQ(added, 1);
    CHECK_EQ(word, 5 | BEAT__WAITERS_OUTSIDE | BEAT__WAITER_WORKER);

    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 2;
    cfg.spin_us = 1; // the wait parks
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    __atomic_fetch_add(&pool->jobs, BEAT__WAITERS_OUTSIDE, __ATOMIC_SEQ_CST); // 4,095 stand-ins
    slow_job job = {40000, 0};
    CHECK_EQ(beat_submit(pool, sleep_then_mark, &job), BEAT_OK);
    stand_ins s = {pool, 10000};
    pthread_t leaver, waiter;
    pthread_create(&leaver, NULL, stand_ins_leave, &s);
    pthread_create(&waiter, NULL, wait_pool, pool);
    struct timespec until = hang_deadline();
    int returned = joined_by(waiter, &until);
    pthread_join(leaver, NULL);
    CHECK(returned);
    CHECK_EQ(__atomic_load_n(&job.done, __ATOMIC_RELAXED), 1);
    CHECK_EQ(__atomic_load_n(&pool->jobs, __ATOMIC_RELAXED), (uint64_t)0);
    CHECK(__atomic_load_n(&pool->outside_parks, __ATOMIC_RELAXED) > 0);
    if (returned)
        beat_pool_destroy(pool);
}

static void destroy_finishes_work_still_queued(void)
{
    const unsigned jobs = BT_SCALE(200000u, 20000u);
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    unsigned count = 0;
    for (unsigned i = 0; i < jobs; i++)
        CHECK_EQ(beat_submit(pool, count_job, &count), BEAT_OK);
    beat_pool_destroy(pool); // most are still queued here
    CHECK_EQ(count, jobs);
}

static void bursty_submits_with_idle_gaps_all_complete(void)
{
    const unsigned total = BT_SCALE(1000000u, 100000u);
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    unsigned count = 0, submitted = 0, bursts = 0;
    uint64_t rng = 0x243F6A8885A308D3u;
    double start = bt_seconds();
    while (submitted < total) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        unsigned burst = 1 + (unsigned)(rng % 2000);
        for (unsigned i = 0; i < burst && submitted < total; i++, submitted++)
            CHECK_EQ(beat_submit(pool, count_job, &count), BEAT_OK);
        bursts++;
        sleep_us((long)(rng >> 40) % 201); // 0..200 us: workers go idle and park in between
    }
    beat_pool_wait(pool);
    double seconds = bt_seconds() - start;
    beat_pool_destroy(pool);
    CHECK_EQ(count, total);
    bt_note("%u jobs in %u bursts with 0-200 us gaps: all ran, %.2f s", total, bursts, seconds);
}

static void a_job_submitted_to_a_parked_pool_always_runs(void)
{
    const int rounds = BT_SCALE(2000, 300);
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    unsigned count = 0;
    for (int i = 0; i < rounds; i++) {
        if (i % 50 == 0)
            sleep_us(2000); // long enough for the spin to end and the workers to park
        CHECK_EQ(beat_submit(pool, count_job, &count), BEAT_OK);
        beat_pool_wait(pool);
        CHECK_EQ(count, (unsigned)i + 1);
    }
    beat_pool_destroy(pool);
}

static void set_flag_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    __atomic_store_n((unsigned *)arg, 1u, __ATOMIC_RELEASE);
}

static void *submit_one_job(void *arg)
{
    unsigned count = 0;
    beat_pool *pool = (beat_pool *)arg;
    if (beat_submit(pool, count_job, &count) == BEAT_OK)
        beat_pool_wait(pool);
    return NULL;
}

// Jobs published through all of a's rings.
static uint64_t arena_published(beat__submit_arena *a)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < BEAT_SUBMIT_RINGS; i++)
        n += __atomic_load_n(&a->ring[i].published, __ATOMIC_RELAXED);
    return n;
}

// Threads that own rings of a pool's arena, a ring each, alive until
// ring_owners_stop (once a thread has exited, the next thread that wants a
// ring may take over its ring).
typedef struct ring_owners {
    beat_pool *pool;
    unsigned n;
    unsigned owning;                  // threads that found a ring theirs (atomic)
    pthread_barrier_t taken, release; // the owners and the caller
    pthread_t threads[BEAT_SUBMIT_RINGS];
} ring_owners;

static void *submit_one_job_and_stay(void *arg)
{
    ring_owners *o = (ring_owners *)arg;
    // A first submit that finds the arena's try-lock held (another owner
    // taking its ring) goes to the shared block: submit until one is ours.
    for (int i = 0; i < 100000 && beat__arena_ring_of(&o->pool->arena, beat__thread_tag()) == NULL;
         i++)
        submit_one_job(o->pool);
    if (beat__arena_ring_of(&o->pool->arena, beat__thread_tag()) != NULL)
        __atomic_add_fetch(&o->owning, 1u, __ATOMIC_RELAXED);
    pthread_barrier_wait(&o->taken);
    pthread_barrier_wait(&o->release);
    return NULL;
}

// Starts n threads (0: as many as rings are not made yet) that each submit
// a job or a few until a ring is theirs. With every ring a live thread's,
// other threads' NORMAL submits go through the queue's list.
static void ring_owners_start(ring_owners *o, beat_pool *pool, unsigned n)
{
    uint32_t before = __atomic_load_n(&pool->arena.rings, __ATOMIC_ACQUIRE);
    o->pool = pool;
    o->n = n != 0 ? n : BEAT_SUBMIT_RINGS - before;
    o->owning = 0;
    pthread_barrier_init(&o->taken, NULL, o->n + 1);
    pthread_barrier_init(&o->release, NULL, o->n + 1);
    for (unsigned i = 0; i < o->n; i++)
        pthread_create(&o->threads[i], NULL, submit_one_job_and_stay, o);
    pthread_barrier_wait(&o->taken);
    CHECK_EQ(__atomic_load_n(&o->owning, __ATOMIC_RELAXED), o->n);
    // Rings are made only when none whose owner has exited is left.
    CHECK_EQ(__atomic_load_n(&pool->arena.rings, __ATOMIC_ACQUIRE),
             before + o->n < BEAT_SUBMIT_RINGS ? before + o->n : BEAT_SUBMIT_RINGS);
}

// Lets the owners exit; their rings then pass to the next threads that ask.
static void ring_owners_stop(ring_owners *o)
{
    pthread_barrier_wait(&o->release);
    for (unsigned i = 0; i < o->n; i++)
        pthread_join(o->threads[i], NULL);
    pthread_barrier_destroy(&o->taken);
    pthread_barrier_destroy(&o->release);
}

// How the racing submits below are published: the owner's ring with the
// parkers' membarrier (a wait between rounds makes each submit the first
// publish after a wait, which fences once and turns the membarrier on;
// without waits, the first park after a publish turns it off after its
// membarrier, and a publish may race with that), the ring with the
// publisher's fence (as where membarrier is refused), or the queue's list
// (every ring owned by other threads). The second ring's mode is the first
// mode with ring 0 another thread's: parkers look at every ring.
enum {
    RACE_RING_MEMBARRIER,
    RACE_RING_FIRST_PUBLISH,
    RACE_RING_SECOND,
    RACE_RING_FENCE,
    RACE_LIST,
    RACE_MODES
};
static const char *const race_mode_names[RACE_MODES] = {
    "owner's ring, parkers' membarrier, no wait", "owner's ring, first publish after a wait",
    "second ring, parkers' membarrier, no wait", "owner's ring, publisher's fence", "queue list"};

// The owner that stops publishing without a beat_pool_wait leaves the
// parkers' membarrier on for one park only: that park turns it off, and
// the owner's next publish turns it on again.
static void a_park_after_the_owners_last_publish_turns_the_membarrier_off(void)
{
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    if (!__atomic_load_n(&pool->arena.asym, __ATOMIC_RELAXED)) {
        bt_note("membarrier refused here: parkers never make one");
        beat_pool_destroy(pool);
        return;
    }
    unsigned flag = 0;
    for (int round = 0; round < 3; round++) {
        __atomic_store_n(&flag, 0u, __ATOMIC_RELAXED);
        CHECK_EQ(beat_submit(pool, set_flag_job, &flag), BEAT_OK);
        beat__arena_ring *r = beat__arena_ring_of(&pool->arena, beat__thread_tag());
        CHECK(r == &pool->arena.ring[0]);
        if (r == NULL)
            break;
        double deadline = bt_seconds() + 5.0;
        while (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE) && bt_seconds() < deadline)
            sched_yield();
        CHECK(__atomic_load_n(&flag, __ATOMIC_ACQUIRE));
        // With no wait of ours, the first worker to park turns it off.
        while (__atomic_load_n(&r->active, __ATOMIC_ACQUIRE) != 0 && bt_seconds() < deadline)
            sched_yield();
        CHECK_EQ(__atomic_load_n(&r->active, __ATOMIC_ACQUIRE), 0u);
    }
    beat_pool_wait(pool);
    beat_pool_destroy(pool);
}

// A single outside submit wakes a parker without a fence of its own: the
// queue's exchange pairs with the park's recheck of the tail (see
// beat__idle_notify_pushed), and the ring's publish with the parker's
// membarrier (beat__idle_notify_published); see the modes above. Each
// round lands a submit at a random point of the workers' way from busy to
// parked (0-400 us after the last job, around and past a 1-20 us spin
// window) and waits for the job by polling a flag, not through
// beat_pool_wait, so only the workers' park and wake are exercised: a lost
// wake leaves the job queued with every worker asleep, reported after 5 s.
static void a_submit_racing_the_workers_park_always_wakes_one(void)
{
    const unsigned rounds = BT_SCALE(3000u, 400u);
    static const unsigned workers[] = {1, 2, 3};
    uint64_t rng = 0x9E3779B97F4A7C15u;
    for (size_t m = 0; m < RACE_MODES * (sizeof workers / sizeof workers[0]); m++) {
        unsigned mode = (unsigned)(m / (sizeof workers / sizeof workers[0]));
        size_t w = m % (sizeof workers / sizeof workers[0]);
        beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
        cfg.workers = workers[w];
        cfg.spin_us = 1; // spin windows of 1-20 us: most rounds find the workers parked
        beat_pool *pool = NULL;
        CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
        if (mode <= RACE_RING_SECOND && !__atomic_load_n(&pool->arena.asym, __ATOMIC_RELAXED)) {
            bt_note("membarrier refused here: the fence mode covers the ring");
            beat_pool_destroy(pool);
            continue;
        }
        if (mode == RACE_RING_FENCE)
            __atomic_store_n(&pool->arena.asym, 0u, __ATOMIC_RELAXED); // as where it is refused
        // Another thread owns ring 0 and we take ring 1; or other threads
        // own every ring, so ours go to the list. They live on meanwhile.
        ring_owners owners;
        if (mode == RACE_RING_SECOND || mode == RACE_LIST)
            ring_owners_start(&owners, pool, mode == RACE_RING_SECOND ? 1 : 0);
        uint64_t published = arena_published(&pool->arena);
        beat_stats st;
        CHECK_EQ(beat_pool_stats(pool, &st, NULL, 0), BEAT_OK);
        uint64_t parks_before = st.parks;
        unsigned flag = 0; // outlives a lost job: destroy runs it
        for (unsigned i = 0; i < rounds; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            double gap = (double)(rng % 1000) * (rng & 1 ? 0.4e-6 : 0.04e-6); // 0-400 or 0-40 us
            double until = bt_seconds() + gap;
            while (bt_seconds() < until) {
            }
            __atomic_store_n(&flag, 0u, __ATOMIC_RELAXED); // the last job has ended
            CHECK_EQ(beat_submit(pool, set_flag_job, &flag), BEAT_OK);
            double deadline = bt_seconds() + 5.0;
            while (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE) && bt_seconds() < deadline)
                sched_yield();
            if (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE)) {
                CHECK_MSG(0,
                          "round %u, %u workers, %s: a job submitted to an idle pool did not run "
                          "within 5 s (lost wake)",
                          i, workers[w], race_mode_names[mode]);
                break;
            }
            if (mode != RACE_RING_MEMBARRIER && mode != RACE_RING_SECOND)
                beat_pool_wait(pool);
        }
        beat_pool_wait(pool); // the last job's end, so the flag's storage may go
        if (mode == RACE_RING_SECOND || mode == RACE_LIST)
            ring_owners_stop(&owners);
        // Every submit of ours went the way the mode says.
        published = arena_published(&pool->arena) - published;
        int listed = mode == RACE_LIST || (mode == RACE_RING_SECOND && BEAT_SUBMIT_RINGS < 2);
        CHECK_EQ(published, listed ? (uint64_t)0 : (uint64_t)rounds);
        if (mode == RACE_RING_SECOND && BEAT_SUBMIT_RINGS > 1)
            CHECK_EQ(pool->arena.ring[1].published, (uint64_t)rounds);
        CHECK_EQ(beat_pool_stats(pool, &st, NULL, 0), BEAT_OK);
        bt_note("%u workers, %s: %u rounds, %llu parks", workers[w], race_mode_names[mode], rounds,
                (unsigned long long)(st.parks - parks_before));
        beat_pool_destroy(pool);
    }
}

// ---------------------------------------------------------------------------
// Fork-join

typedef struct tree {
    beat_counter *counter;
    unsigned depth, fanout;
    unsigned *leaves;
} tree;

static void spawn_tree(beat_ctx *ctx, void *p)
{
    tree *t = (tree *)p;
    if (t->depth == 0) {
        __atomic_fetch_add(t->leaves, 1, __ATOMIC_RELAXED);
        return;
    }
    beat_counter children = {0};
    tree sub[8];
    for (unsigned i = 0; i < t->fanout; i++) {
        sub[i] = *t;
        sub[i].depth = t->depth - 1;
        beat_spawn(ctx, &children, spawn_tree, &sub[i]);
    }
    beat_wait(ctx, &children);
    // Everything spawned below has finished once wait returns.
    if (beat_counter_pending(&children) != 0)
        __atomic_fetch_add(t->leaves, 1000000, __ATOMIC_RELAXED);
}

static void nested_spawn_and_wait_three_deep_run_every_task(void)
{
    unsigned counts[3] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        beat_pool *pool = make_pool(counts[i]);
        CHECK(pool != NULL);
        for (int round = 0; round < 50; round++) {
            unsigned leaves = 0;
            tree root = {NULL, 3, 8, &leaves};
            CHECK_EQ(beat_run(pool, spawn_tree, &root), BEAT_OK);
            CHECK_EQ(leaves, 8 * 8 * 8);
        }
        beat_pool_destroy(pool);
    }
}

// Several tasks wait on one counter (beat_wait allows it): each is counted
// in the counter's word and takes only itself back, so every one of them,
// parked or not, returns when the one slow task it waits for finishes.
typedef struct shared_wait {
    beat_counter target; // the slow task
    beat_counter waiters;
    unsigned returned;
} shared_wait;

static void slow_target(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    sleep_us(2000);
}

static void wait_on_target(beat_ctx *ctx, void *arg)
{
    shared_wait *s = (shared_wait *)arg;
    beat_wait(ctx, &s->target);
    if (beat_counter_pending(&s->target) == 0)
        __atomic_fetch_add(&s->returned, 1, __ATOMIC_RELAXED);
}

static void start_shared_wait(beat_ctx *ctx, void *arg)
{
    shared_wait *s = (shared_wait *)arg;
    beat_spawn(ctx, &s->target, slow_target, s);
    for (int i = 0; i < 6; i++)
        beat_spawn(ctx, &s->waiters, wait_on_target, s);
    beat_wait(ctx, &s->waiters);
}

static void several_tasks_waiting_on_one_counter_all_return(void)
{
    static const unsigned workers[] = {1, 2, 3, 8};
    for (unsigned w = 0; w < sizeof workers / sizeof workers[0]; w++) {
        beat_pool *pool = make_pool(workers[w]);
        CHECK(pool != NULL);
        shared_wait s;
        memset(&s, 0, sizeof s);
        const unsigned rounds = BT_SCALE(50u, 10u);
        for (unsigned r = 0; r < rounds; r++) // one counter, reused once all waits returned
            CHECK_EQ(beat_run(pool, start_shared_wait, &s), BEAT_OK);
        CHECK_EQ(s.returned, 6 * rounds);
        CHECK_EQ(s.target.beat__state, (uint64_t)0); // no waiter left counted
        beat_stats total;
        CHECK_EQ(beat_pool_stats(pool, &total, NULL, 0), BEAT_OK);
        beat_pool_destroy(pool);
        bt_note("%u workers: %u rounds, %llu parks", workers[w], rounds,
                (unsigned long long)total.parks);
    }
}

typedef struct reuse_arg {
    unsigned rounds, per_round, count;
} reuse_arg;

static void reuse_counter(beat_ctx *ctx, void *p)
{
    reuse_arg *r = (reuse_arg *)p;
    beat_counter c = {0};
    for (unsigned round = 0; round < r->rounds; round++) {
        for (unsigned i = 0; i < r->per_round; i++)
            beat_spawn(ctx, &c, count_job, &r->count);
        beat_wait(ctx, &c);
        if (beat_counter_pending(&c) != 0 ||
            __atomic_load_n(&r->count, __ATOMIC_RELAXED) != (round + 1) * r->per_round)
            return; // the caller sees the wrong count
    }
}

static void a_counter_can_be_reused_after_wait(void)
{
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    reuse_arg r = {200, 100, 0};
    CHECK_EQ(beat_run(pool, reuse_counter, &r), BEAT_OK);
    CHECK_EQ(r.count, 200 * 100);
    beat_pool_destroy(pool);
}

// ---------------------------------------------------------------------------
// Loops

typedef struct visit {
    unsigned char *seen;
    size_t min_chunk, chunks;
    size_t grain, n;
    int bad_chunk;
} visit;

static void visit_range(beat_ctx *ctx, size_t begin, size_t end, void *p)
{
    visit *v = (visit *)p;
    (void)ctx;
    for (size_t i = begin; i < end; i++)
        __atomic_fetch_add(&v->seen[i], 1, __ATOMIC_RELAXED);
    // An explicit grain is a minimum chunk, unless the whole range is smaller.
    if (v->grain != 0 && end - begin < v->grain && end - begin != v->n)
        __atomic_store_n(&v->bad_chunk, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&v->chunks, 1, __ATOMIC_RELAXED);
}

static void parallel_for_visits_every_index_exactly_once(void)
{
    const size_t sizes[] = {0, 1, 2, 3, 1000, BT_SCALE(10000000u, 1000000u)};
    const size_t grains[] = {0, 1, 7, 1000};
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    unsigned checked = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (size_t g = 0; g < sizeof grains / sizeof grains[0]; g++) {
            size_t n = sizes[s];
            visit v = {(unsigned char *)calloc(n + 1, 1), 0, 0, grains[g], n, 0};
            CHECK_EQ(beat_pool_parallel_for(pool, 0, n, grains[g], visit_range, &v), BEAT_OK);
            size_t once = 0;
            for (size_t i = 0; i < n; i++)
                once += v.seen[i] == 1;
            int extra = v.seen[n] != 0;
            free(v.seen);
            CHECK_MSG(once == n && !extra, "n=%zu grain=%zu: %zu of %zu visited once", n, grains[g],
                      once, n);
            CHECK_MSG(!v.bad_chunk, "n=%zu grain=%zu: a chunk shorter than the grain", n,
                      grains[g]);
            checked++;
        }
    }
    // A range that does not start at 0.
    size_t n = 5000;
    visit v = {(unsigned char *)calloc(n + 100, 1), 0, 0, 0, n, 0};
    CHECK_EQ(beat_pool_parallel_for(pool, 100, n + 100, 0, visit_range, &v), BEAT_OK);
    for (size_t i = 0; i < n + 100; i++)
        CHECK_EQ(v.seen[i], i >= 100 ? 1 : 0);
    free(v.seen);
    beat_pool_destroy(pool);
    bt_note("%u size/grain combinations, each index exactly once", checked);
}

// ---------------------------------------------------------------------------
// Batches

typedef struct batch_from_worker {
    beat_job *jobs;
    size_t count;
    beat_result result;
} batch_from_worker;

static void submit_batch_from_worker(beat_ctx *ctx, void *arg)
{
    batch_from_worker *b = (batch_from_worker *)arg;
    b->result = beat_submit_batch(beat_ctx_pool(ctx), b->jobs, b->count);
}

static void a_batch_runs_each_of_its_jobs_exactly_once(void)
{
    const size_t n = BT_SCALE(1000000u, 100000u);
    beat_job *jobs = (beat_job *)malloc(n * sizeof *jobs);
    unsigned char *runs = (unsigned char *)calloc(n, 1);
    CHECK(jobs != NULL && runs != NULL);
    for (size_t i = 0; i < n; i++) {
        jobs[i].fn = mark_slot;
        jobs[i].arg = &runs[i];
    }
    unsigned counts[3] = {1, 2, 4};
    for (int w = 0; w < 3; w++) {
        beat_pool *pool = make_pool(counts[w]);
        CHECK(pool != NULL);
        memset(runs, 0, n);
        CHECK_EQ(beat_submit_batch(pool, jobs, n / 2), BEAT_OK); // from outside
        batch_from_worker inner = {jobs + n / 2, n - n / 2, BEAT_ERROR_IO};
        CHECK_EQ(beat_submit(pool, submit_batch_from_worker, &inner), BEAT_OK);
        CHECK_EQ(beat_submit_batch(pool, jobs, 0), BEAT_OK);
        beat_pool_wait(pool);
        CHECK_EQ(inner.result, BEAT_OK);
        size_t once = 0;
        for (size_t i = 0; i < n; i++)
            once += runs[i] == 1;
        beat_pool_destroy(pool);
        CHECK_MSG(once == n, "%u workers: %zu of %zu batch jobs ran exactly once", counts[w], once,
                  n);
    }
    beat_job bad = {NULL, NULL};
    CHECK_EQ(beat_submit_batch(NULL, jobs, 1), BEAT_ERROR_INVALID_ARGUMENT);
    free(jobs);
    free(runs);
    beat_pool *pool = make_pool(1);
    CHECK(pool != NULL);
    CHECK_EQ(beat_submit_batch(pool, NULL, 5), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_submit_batch(pool, &bad, 1), BEAT_ERROR_INVALID_ARGUMENT);
    beat_pool_destroy(pool);
    bt_note("%zu jobs per pool in two batches (outside thread and worker), 1/2/4 workers", n);
}

// ---------------------------------------------------------------------------
// Reduce: 2x2 matrix products mod 2^32 are associative but not commutative,
// so any reordering of chunks changes the result.

typedef struct mat2 {
    uint32_t a, b, c, d;
} mat2;

static mat2 mat2_mul(mat2 x, mat2 y)
{
    mat2 r = {x.a * y.a + x.b * y.c, x.a * y.b + x.b * y.d, x.c * y.a + x.d * y.c,
              x.c * y.b + x.d * y.d};
    return r;
}

static mat2 mat2_of(size_t i)
{
    mat2 m = {(uint32_t)i * 2654435761u + 1, (uint32_t)i ^ 0x5bd1e995u, (uint32_t)i + 7,
              (uint32_t)(i * i) | 1u};
    return m;
}

static void mat2_fold(beat_ctx *ctx, size_t begin, size_t end, void *partial, void *arg)
{
    mat2 *p = (mat2 *)partial;
    (void)ctx;
    (void)arg;
    for (size_t i = begin; i < end; i++)
        *p = mat2_mul(*p, mat2_of(i));
}

static void mat2_combine(void *left, const void *right, void *arg)
{
    (void)arg;
    *(mat2 *)left = mat2_mul(*(mat2 *)left, *(const mat2 *)right);
}

static void reduce_keeps_the_order_of_a_non_commutative_operation(void)
{
    const size_t sizes[] = {0, 1, 2, 3, 1000, BT_SCALE(1000000u, 100000u)};
    const size_t grains[] = {0, 1, 13};
    const mat2 identity = {1, 0, 0, 1};
    unsigned counts[3] = {1, 2, 3};
    for (int w = 0; w < 3; w++) {
        beat_pool *pool = make_pool(counts[w]);
        CHECK(pool != NULL);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            mat2 want = identity;
            mat2_fold(NULL, 0, sizes[s], &want, NULL);
            for (size_t g = 0; g < sizeof grains / sizeof grains[0]; g++) {
                mat2 got = {0, 0, 0, 0};
                CHECK_EQ(beat_pool_parallel_reduce(pool, 0, sizes[s], grains[g], &identity,
                                                   sizeof(mat2), mat2_fold, mat2_combine, NULL,
                                                   &got),
                         BEAT_OK);
                CHECK_MSG(memcmp(&got, &want, sizeof got) == 0,
                          "n=%zu grain=%zu workers=%u: reduce differs from the serial fold",
                          sizes[s], grains[g], counts[w]);
            }
        }
        mat2 out;
        CHECK_EQ(beat_pool_parallel_reduce(pool, 0, 10, 0, &identity, BEAT_REDUCE_MAX_PARTIAL + 1,
                                           mat2_fold, mat2_combine, NULL, &out),
                 BEAT_ERROR_INVALID_ARGUMENT);
        CHECK_EQ(beat_pool_parallel_reduce(pool, 0, 10, 0, &identity, sizeof(mat2), NULL,
                                           mat2_combine, NULL, &out),
                 BEAT_ERROR_INVALID_ARGUMENT);
        beat_pool_destroy(pool);
    }
}

// ---------------------------------------------------------------------------
// Lifecycle and idle

static void create_destroy_1000_times_leaves_no_thread_and_no_allocation(void)
{
    const int rounds = BT_SCALE(1000, 100);
    counting_alloc counts = {0, 0, 0};
    unsigned threads_before = count_threads_settled();
    for (int i = 0; i < rounds; i++) {
        beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
        cfg.workers = 1 + (unsigned)i % 8;
        cfg.allocator.alloc = counting_alloc_fn;
        cfg.allocator.free = counting_free_fn;
        cfg.allocator.user = &counts;
        beat_pool *pool = NULL;
        CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
        if (i % 2 == 0) {
            unsigned count = 0;
            for (int j = 0; j < 10; j++)
                beat_submit(pool, count_job, &count);
            beat_pool_wait(pool);
            CHECK_EQ(count, 10);
        }
        beat_pool_destroy(pool);
    }
    CHECK_EQ(count_threads_settled(), threads_before);
    CHECK_EQ(counts.bytes, 0);
    CHECK_EQ(counts.blocks, 0);
    bt_note("%d pools of 1-8 workers: %lld allocations, all returned; %u threads before and after",
            rounds, counts.calls, threads_before);
}

static double process_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

// Waits up to 2 s for every worker to be parked; returns 1 if they are.
static int all_workers_parked(beat_pool *pool)
{
    for (int i = 0; i < 2000; i++) {
        if (__atomic_load_n(&pool->idle_sleepers, __ATOMIC_ACQUIRE) == pool->nworkers)
            return 1;
        sleep_us(1000);
    }
    return 0;
}

// Waits until every worker of pool is parked, then returns the CPU time the
// process used during 300 ms of sleep; -1 if the workers never all parked.
static double idle_cpu_seconds(beat_pool *pool)
{
    if (!all_workers_parked(pool))
        return -1;
    double before = process_cpu_seconds();
    sleep_us(300000);
    return process_cpu_seconds() - before;
}

static void idle_workers_park_and_burn_no_cpu(void)
{
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    CHECK(all_workers_parked(pool));
    unsigned count = 0;
    CHECK_EQ(beat_submit(pool, count_job, &count), BEAT_OK);
    beat_pool_wait(pool);
    double used = idle_cpu_seconds(pool);
    beat_pool_destroy(pool);
    // Parked workers use no CPU at all; the bound only absorbs accounting noise.
    CHECK_MSG(used >= 0 && used < 0.03,
              "an idle pool used %.1f ms of CPU in 300 ms (-1: never parked)", used * 1e3);
    bt_note("after a job: all workers parked; %.3f ms CPU in 300 ms idle", used * 1e3);
}

// Adaptive spin windows: a wait that parked although a spin of `needed`
// would have seen its wake grows the window to twice that (at most the
// bound: 20 x spin_ns for workers, 100 x for outside waits; never
// shrinking it); a longer one halves the window, down to spin_ns. The
// stamp a waiter reads is used only when it falls inside the wait.
static void spin_windows_grow_to_cover_short_waits_and_shrink_on_long_ones(void)
{
    const uint64_t base = 10000, g = BEAT__SPIN_GROW_MAX, max = base * g;
    CHECK_EQ(beat__spin_adapt(base, base, g, 30000), 60000);  // twice the need
    CHECK_EQ(beat__spin_adapt(80000, base, g, 30000), 80000); // never shrinks on a short wait
    CHECK_EQ(beat__spin_adapt(base, base, g, 150000), max);   // capped
    CHECK_EQ(beat__spin_adapt(max, base, g, max), max); // the cap itself still counts as short
    CHECK_EQ(beat__spin_adapt(max, base, g, max + 1), max / 2);
    uint64_t w = max;
    for (int i = 0; i < 10; i++)
        w = beat__spin_adapt(w, base, g, 1000000000);
    CHECK_EQ(w, base); // never below spin_ns
    // Outside waits: the same rule under the higher bound, so a 300 us
    // wait that parked is covered next time, where a worker's stays capped.
    const uint64_t omax = base * BEAT__SPIN_GROW_MAX_OUTSIDE;
    CHECK(omax > max);
    CHECK_EQ(beat__spin_adapt(base, base, BEAT__SPIN_GROW_MAX_OUTSIDE, 300000), 600000);
    CHECK_EQ(beat__spin_adapt(base, base, g, 300000), base); // past the workers' bound: no growth
    CHECK_EQ(beat__spin_adapt(base, base, BEAT__SPIN_GROW_MAX_OUTSIDE, omax), omax);
    CHECK_EQ(beat__spin_adapt(omax, base, BEAT__SPIN_GROW_MAX_OUTSIDE, omax + 1), omax / 2);
    uint64_t stamp = 1500;
    CHECK_EQ(beat__spin_needed(1000, 9000, &stamp), 500); // the waker's stamp
    stamp = 500;
    CHECK_EQ(beat__spin_needed(1000, 9000, &stamp), 8000); // stamp before the wait: all of it
    stamp = 9500;
    CHECK_EQ(beat__spin_needed(1000, 9000, &stamp), 8000); // a later wake's stamp: all of it
}

typedef struct busy_job {
    double seconds;
} busy_job;

static void busy_for(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    double until = bt_seconds() + ((busy_job *)arg)->seconds;
    while (bt_seconds() < until) {
    }
}

// A thread that submits a 100 us job and waits for it, over and over, on
// another CPU than the worker's: with a fixed 10 us spin the waiter parked
// on every job, and on a 2-vCPU KVM guest each wake of a thread on an idle
// vCPU took 50-100 us. After one such park the waiters' window grows to
// twice what the wait needed (capped at 20 x spin_us), so it covers the job
// and the waiter stops parking;
// once the loop ends the pool still parks and burns nothing. The two are
// pinned apart because on one CPU the waiter's yields let the job finish
// within its spin anyway. (Retried: a loaded machine can stall a wait past
// the 200 us cap, which halves the window.)
// Microseconds during which some task of the machine waited for a CPU
// ("some total=" of /proc/pressure/cpu), or -1 without PSI.
static double cpu_pressure_us(void)
{
    FILE *f = fopen("/proc/pressure/cpu", "r");
    double total = -1;
    if (f != NULL) {
        if (fscanf(f, "some avg10=%*f avg60=%*f avg300=%*f total=%lf", &total) != 1)
            total = -1;
        fclose(f);
    }
    return total;
}

// A loop that submits a job of job_us and waits for it, with spin_us:
// after a few waits the waiter spins through the job instead of parking.
static void outside_waiter_stops_parking(unsigned spin_us, double job_us)
{
#ifdef BEAT_TEST_EMULATED
    bt_skip("under emulation a hand-off takes as long as it takes (qemu-user: up to ms)");
    return;
#endif
    cpu_set_t saved, one;
    CHECK_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
    unsigned cpus[2], found = 0;
    for (unsigned c = 0; c < CPU_SETSIZE && found < 2; c++)
        if (CPU_ISSET(c, &saved))
            cpus[found++] = c;
    if (found < 2) {
        bt_skip("needs 2 CPUs");
        return;
    }
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 1;
    cfg.worker_cpus = &cpus[1];
    cfg.worker_cpus_count = 1;
    cfg.spin_us = spin_us;
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    CPU_ZERO(&one);
    CPU_SET(cpus[0], &one);
    CHECK_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    CHECK_EQ(pool->outside_spin_window, pool->spin_ns);
    busy_job job = {job_us * 1e-6};
    const int warm = 20, measured = 40;
    uint64_t parks = measured;
    // The waiter and the worker each have a CPU of their own; another
    // process on one of them stretches waits past the window's cap, and
    // then parking is right. Attempts during which something waited for a
    // CPU more than 5 % of the time do not count.
    int attempts = 0, contended = 0;
    for (; attempts < 6 && parks * 4 > (uint64_t)measured; attempts++) {
        double pressure = cpu_pressure_us(), start = bt_seconds();
        for (int i = 0; i < warm; i++) {
            CHECK_EQ(beat_submit(pool, busy_for, &job), BEAT_OK);
            beat_pool_wait(pool);
        }
        uint64_t before = __atomic_load_n(&pool->outside_parks, __ATOMIC_RELAXED);
        for (int i = 0; i < measured; i++) {
            CHECK_EQ(beat_submit(pool, busy_for, &job), BEAT_OK);
            beat_pool_wait(pool);
        }
        parks = __atomic_load_n(&pool->outside_parks, __ATOMIC_RELAXED) - before;
        if (pressure >= 0 && cpu_pressure_us() - pressure > 0.05 * (bt_seconds() - start) * 1e6 &&
            parks * 4 > (uint64_t)measured)
            contended++;
    }
    uint64_t window = __atomic_load_n(&pool->outside_spin_window, __ATOMIC_RELAXED);
    if (parks * 4 > (uint64_t)measured && contended == attempts) {
        CHECK_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
        beat_pool_destroy(pool);
        char why[128];
        snprintf(why, sizeof why,
                 "other processes competed for the CPUs in all %d attempts (last: %llu parks "
                 "in %d waits)",
                 attempts, (unsigned long long)parks, measured);
        bt_skip(why);
        return;
    }
    CHECK_MSG(parks * 4 <= (uint64_t)measured,
              "the waiter parked in %llu of %d waits for %.0f us jobs (window %llu ns)",
              (unsigned long long)parks, measured, job_us, (unsigned long long)window);
    CHECK(window >= pool->spin_ns && window <= BEAT__SPIN_GROW_MAX_OUTSIDE * pool->spin_ns);
    CHECK_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
    double used = idle_cpu_seconds(pool);
    beat_pool_destroy(pool);
    CHECK_MSG(used >= 0 && used < 0.03,
              "an idle pool used %.1f ms of CPU in 300 ms (-1: never parked)", used * 1e3);
    bt_note("%.0f us jobs, spin_us %u: the waiter parked in %llu of %d waits (window %llu us); "
            "then %.3f ms CPU in 300 ms idle",
            job_us, spin_us, (unsigned long long)parks, measured,
            (unsigned long long)(window / 1000), used * 1e3);
}

// 50 us: the window may grow to 5 ms, room for the slow hand-offs of
// sanitizer builds; a fixed 50 us spin still parks on every 100 us job.
static void an_outside_waiter_stops_parking_on_a_loop_of_short_jobs(void)
{
    outside_waiter_stops_parking(50, 100);
}

// With the default spin (10 us), a call of 300 us: past the workers'
// bound (200 us), within the outside waits' (1 ms).
static void an_outside_waiter_with_the_default_spin_stops_parking_on_300us_calls(void)
{
    outside_waiter_stops_parking(0, 300);
}

// The injection queue's emptiness check (reads head and the stub's link,
// never the tail) through every state: empty, one task, the stub pushed
// back behind the last task, several tasks, and empty again.
static void injection_queue_reports_empty_exactly_when_nothing_is_left(void)
{
    static beat__inject q;
    beat__task t[3];
    memset(t, 0, sizeof t);
    beat__inject_init(&q);
    CHECK(!beat__inject_maybe_nonempty(&q));
    CHECK(beat__inject_pop_locked(&q) == NULL);
    for (int round = 0; round < 3; round++) { // the stub goes out and back in each round
        beat__inject_push(&q, &t[0]);
        CHECK(beat__inject_maybe_nonempty(&q));
        CHECK(beat__inject_pop_locked(&q) == &t[0]); // the last task: the stub is pushed behind it
        CHECK(!beat__inject_maybe_nonempty(&q));
        CHECK(beat__inject_pop_locked(&q) == NULL);
        beat__inject_push(&q, &t[1]);
        beat__inject_push(&q, &t[2]);
        CHECK(beat__inject_maybe_nonempty(&q));
        CHECK(beat__inject_pop_locked(&q) == &t[1]);
        CHECK(beat__inject_maybe_nonempty(&q)); // t[2] is the head now, a real task
        CHECK(beat__inject_pop_locked(&q) == &t[2]);
        CHECK(!beat__inject_maybe_nonempty(&q));
    }
}

// ---------------------------------------------------------------------------
// Submit arena (submit_arena.c): outside submits take records in address
// order from blocks that come back once all their records have run.

static unsigned arena_blocks(const beat__arena_block *b, int free_list)
{
    unsigned n = 0;
    for (; b != NULL; b = free_list ? b->free_next : b->all_next)
        n++;
    return n;
}

// No user allocator: the arena's blocks come from BEAT_MALLOC through beat__alloc.
static const beat_allocator default_allocator = {NULL, NULL, NULL};

static void a_tally_recycles_a_block_when_its_last_record_is_retired(void)
{
    beat__submit_arena a;
    beat__arena_init(&a);
    beat__arena_tally tally = {NULL, 0};
    beat__arena_block *first = NULL, *b = NULL;
    beat__task *prev = NULL;
    // Records of the shared block (the ring's jobs are not records).
    for (unsigned i = 0; i < BEAT__ARENA_RECORDS + 2; i++) {
        beat__task *t = beat__arena_take(&a, &default_allocator, &b);
        CHECK(t != NULL);
        if (i == 0)
            first = b;
        if (i > 0 && i < BEAT__ARENA_RECORDS)
            CHECK(t == prev + 1); // address order within a block
        CHECK(b == (i < BEAT__ARENA_RECORDS ? first : a.shared.block));
        prev = t;
    }
    CHECK_EQ(a.rings, 0u); // only a ring job makes an owner
    CHECK(b != first);
    CHECK_EQ(arena_blocks(a.all, 0), 2u);
    // Retire the first block's records but one: nothing is recycled yet.
    for (unsigned i = 0; i + 1 < BEAT__ARENA_RECORDS; i++)
        beat__arena_retire_n(&a, &tally, first, 1);
    beat__arena_flush(&a, &tally);
    CHECK_EQ(first->pending, 1u);
    CHECK(a.free_top == NULL);
    // Its last record, then one of the second block: the change of block
    // subtracts the first block's tally, which recycles it.
    beat__arena_retire_n(&a, &tally, first, 1);
    CHECK(a.free_top == NULL); // still in the tally
    beat__arena_retire_n(&a, &tally, b, 1);
    CHECK(a.free_top == first);
    CHECK_EQ(first->pending, 0u);
    beat__arena_flush(&a, &tally);
    CHECK_EQ(b->pending, (uint64_t)BEAT__ARENA_RECORDS - 1);
    // The second block is not full: the next records still come from it,
    // and once it is full the recycled first block is handed out again.
    beat__task *t = NULL;
    for (unsigned i = BEAT__ARENA_RECORDS + 2; i <= 2 * BEAT__ARENA_RECORDS; i++)
        t = beat__arena_take(&a, &default_allocator, &b);
    CHECK(b == first);
    CHECK(t == beat__arena_record(first, 0));
    CHECK(a.free_top == NULL);
    CHECK_EQ(first->pending, (uint64_t)BEAT__ARENA_RECORDS);
    CHECK_EQ(arena_blocks(a.all, 0), 2u);
    CHECK_EQ(beat__arena_trim(&a, &default_allocator), (size_t)0); // nothing free
    beat__arena_destroy(&a, &default_allocator);
    CHECK(a.all == NULL);
}

static void outside_submits_reuse_arena_blocks_once_their_records_ran(void)
{
    static const unsigned workers[] = {1, 2, 3};
    for (unsigned w = 0; w < sizeof workers / sizeof workers[0]; w++) {
        beat_pool *pool = make_pool(workers[w]);
        CHECK(pool != NULL);
        const unsigned per_round = 3 * BEAT__ARENA_RECORDS + 7, rounds = BT_SCALE(40u, 10u);
        unsigned count = 0, most = 0;
        for (unsigned r = 0; r < rounds; r++) {
            for (unsigned i = 0; i < per_round; i++)
                CHECK_EQ(beat_submit(pool, count_job, &count), BEAT_OK);
            beat_pool_wait(pool);
            // Every block but the one being handed out is back on the free
            // stack when the wait returns (the flush before the job count).
            unsigned all = arena_blocks(pool->arena.all, 0);
            unsigned recycled = arena_blocks(pool->arena.free_top, 1);
            CHECK(all - recycled <= 1);
            most = all > most ? all : most;
        }
        CHECK_EQ(count, per_round * rounds);
        // A round needs at most its own 4 blocks and the one before it;
        // without reuse every round would add 3 or 4 blocks.
        CHECK(most >= 1 && most <= 5);
        beat_pool_destroy(pool);
        bt_note("%u workers: %u jobs, %u arena blocks at most", workers[w], per_round * rounds,
                most);
    }
}

static void several_outside_submitters_share_the_arena_and_every_job_runs_once(void)
{
    enum { THREADS = BEAT_SUBMIT_RINGS + 2 }; // rings for some, the shared block for others
    const unsigned per_thread = BT_SCALE(50000u, 10000u);
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    unsigned char *runs = (unsigned char *)calloc(THREADS * per_thread, 1);
    submitter s[THREADS];
    pthread_t threads[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        submitter one = {pool, runs, i * per_thread, per_thread, 0};
        s[i] = one;
        pthread_create(&threads[i], NULL, submit_range, &s[i]);
    }
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    beat_pool_wait(pool);
    unsigned once = 0, failures = 0;
    for (unsigned i = 0; i < THREADS * per_thread; i++)
        once += runs[i] == 1;
    for (unsigned i = 0; i < THREADS; i++)
        failures += s[i].failures;
    CHECK_EQ(failures, 0u);
    CHECK_EQ(once, THREADS * per_thread);
    unsigned all = arena_blocks(pool->arena.all, 0);
    CHECK(all >= 1);
    // In use: the ring owners' blocks and the shared one, no other.
    unsigned rings = pool->arena.rings;
    CHECK(all - arena_blocks(pool->arena.free_top, 1) <= rings + 1);
    beat_pool_destroy(pool);
    free(runs);
    bt_note("%d threads x %u submits: each ran once; %u rings, %u arena blocks", THREADS,
            per_thread, rings, all);
}

// Ring owners that submit and wait in rounds, all at once: each wait must
// cover its own thread's jobs (published through its ring) whatever the
// other rings hold, and the workers' parks between rounds must not lose a
// publish on any ring (a lost one hangs a wait, which the test runner's
// timeout reports).
typedef struct ring_round_submitter {
    beat_pool *pool;
    unsigned rounds, per_round;
    unsigned count;       // jobs of this thread run (atomic)
    unsigned early_round; // the first round whose wait returned early, + 1
    pthread_barrier_t *start;
} ring_round_submitter;

static void *submit_and_wait_in_rounds(void *arg)
{
    ring_round_submitter *s = (ring_round_submitter *)arg;
    pthread_barrier_wait(s->start);
    for (unsigned r = 0; r < s->rounds; r++) {
        for (unsigned i = 0; i < s->per_round; i++)
            if (beat_submit(s->pool, count_job, &s->count) != BEAT_OK)
                return NULL;
        beat_pool_wait(s->pool);
        if (__atomic_load_n(&s->count, __ATOMIC_RELAXED) != (r + 1) * s->per_round &&
            s->early_round == 0)
            s->early_round = r + 1;
        if (r % 8 == 7)
            sleep_us(50); // long enough for the workers to park between rounds
    }
    return NULL;
}

static void ring_owners_submitting_and_waiting_at_once_each_see_their_jobs_done(void)
{
    enum { THREADS = BEAT_SUBMIT_RINGS < 4 ? BEAT_SUBMIT_RINGS : 4 };
    static const unsigned workers[] = {1, 2, 3};
    for (unsigned w = 0; w < sizeof workers / sizeof workers[0]; w++) {
        beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
        cfg.workers = workers[w];
        cfg.spin_us = 1; // short spins: many rounds find the workers parked
        beat_pool *pool = NULL;
        CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, THREADS);
        ring_round_submitter s[THREADS];
        pthread_t threads[THREADS];
        for (unsigned i = 0; i < THREADS; i++) {
            ring_round_submitter one = {pool, BT_SCALE(400u, 100u), 1 + 7 * i, 0, 0, &start};
            s[i] = one;
            pthread_create(&threads[i], NULL, submit_and_wait_in_rounds, &s[i]);
        }
        for (unsigned i = 0; i < THREADS; i++)
            pthread_join(threads[i], NULL);
        pthread_barrier_destroy(&start);
        for (unsigned i = 0; i < THREADS; i++) {
            CHECK_EQ(s[i].count, s[i].rounds * s[i].per_round);
            CHECK_MSG(s[i].early_round == 0,
                      "%u workers, thread %u: the wait of round %u returned "
                      "before that thread's jobs had run",
                      workers[w], i, s[i].early_round);
        }
        bt_note("%u workers: %u threads, %u rings", workers[w], (unsigned)THREADS,
                pool->arena.rings);
        beat_pool_destroy(pool);
    }
}

typedef struct arena_taker {
    beat__submit_arena *arena;
    pthread_mutex_t *order;   // NULL, or held for the take (one at a time)
    pthread_barrier_t *alive; // NULL, or waited on after the take
    beat__ring_job *job;
    beat__arena_ring *ring;
    beat__task *record;
    beat__arena_block *block;
} arena_taker;

// As an outside NORMAL submit does: a ring job, else a shared record.
static void *take_one_record(void *arg)
{
    arena_taker *t = (arena_taker *)arg;
    if (t->order != NULL)
        pthread_mutex_lock(t->order);
    t->job = beat__arena_ring_slot(t->arena, &default_allocator, &t->ring);
    if (t->job == NULL)
        t->record = beat__arena_take(t->arena, &default_allocator, &t->block);
    if (t->order != NULL)
        pthread_mutex_unlock(t->order);
    if (t->alive != NULL)
        pthread_barrier_wait(t->alive);
    return NULL;
}

// Takes what a NORMAL submit would on a new thread.
static arena_taker take_on_another_thread(beat__submit_arena *a)
{
    arena_taker t = {a, NULL, NULL, NULL, NULL, NULL, NULL};
    pthread_t thread;
    pthread_create(&thread, NULL, take_one_record, &t);
    pthread_join(thread, NULL);
    return t;
}

// Each of the first BEAT_SUBMIT_RINGS threads to take a ring job owns a
// ring: a block of its own, taken from without the lock. The others take
// the shared block's records, in order, under the lock.
static void each_of_the_first_outside_takers_owns_a_ring_and_the_others_share_a_block(void)
{
    beat__submit_arena a;
    beat__arena_init(&a);
    beat__arena_block *b = NULL;
    beat__arena_ring *r0 = NULL;
    CHECK_EQ(a.rings, 0u);
    beat__ring_job *j0 = beat__arena_ring_slot(&a, &default_allocator, &r0);
    CHECK(j0 != NULL && r0 == &a.ring[0]);
    CHECK(a.rings == 1 && a.owner[0] == beat__thread_tag());
    CHECK(a.ring[0].own.block != NULL && j0 == beat__arena_ring_job(a.ring[0].own.block, 0));
    // The owner takes without the lock: one held by another does not stop it.
    CHECK(beat__spin_trylock(&a.lock));
    CHECK(beat__arena_ring_slot(&a, &default_allocator, &r0) == j0 + 1 && r0 == &a.ring[0]);
    // Another thread gets nothing while the lock is held (no ring, no record)...
    arena_taker other = take_on_another_thread(&a);
    CHECK(other.job == NULL && other.record == NULL && a.rings == 1);
    beat__spin_unlock(&a.lock);
    // ...and otherwise, while they are alive together, each of the next
    // threads a ring of its own while rings last, then the shared block's
    // records in order.
    enum { TAKERS = BEAT_SUBMIT_RINGS + 1 };
    arena_taker takers[TAKERS];
    pthread_t threads[TAKERS];
    pthread_barrier_t alive;
    pthread_barrier_init(&alive, NULL, TAKERS);
    pthread_mutex_t order = PTHREAD_MUTEX_INITIALIZER; // a try-lock the others hold fails
    for (unsigned i = 0; i < TAKERS; i++) {
        arena_taker t = {&a, &order, &alive, NULL, NULL, NULL, NULL};
        takers[i] = t;
        pthread_create(&threads[i], NULL, take_one_record, &takers[i]);
    }
    for (unsigned i = 0; i < TAKERS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&alive);
    unsigned rings = 0, records = 0;
    uint64_t seen = 1; // the rings owned, a bit each
    for (unsigned i = 0; i < TAKERS; i++) {
        if (takers[i].job != NULL) {
            unsigned k = (unsigned)(takers[i].ring - a.ring);
            CHECK(k >= 1 && k < BEAT_SUBMIT_RINGS && !(seen & (uint64_t)1 << k));
            CHECK(a.owner[k] != NULL && a.owner[k] != beat__thread_tag());
            CHECK(takers[i].job == beat__arena_ring_job(a.ring[k].own.block, 0));
            seen |= (uint64_t)1 << k;
            rings++;
        } else {
            CHECK(takers[i].block != NULL && takers[i].block == a.shared.block);
            records++;
        }
    }
    CHECK_EQ(rings, BEAT_SUBMIT_RINGS - 1u);
    CHECK_EQ(records, 2u);
    CHECK_EQ(a.rings, BEAT_SUBMIT_RINGS);
    CHECK(a.owner[0] == beat__thread_tag()); // ownership stays
    CHECK(beat__arena_ring_slot(&a, &default_allocator, &r0) == j0 + 2 && r0 == &a.ring[0]);
    // The owner's records not bound for the ring come from the shared block.
    CHECK(beat__arena_take(&a, &default_allocator, &b) == beat__arena_record(a.shared.block, 2));
    CHECK_EQ(arena_blocks(a.all, 0), BEAT_SUBMIT_RINGS + 1u);
    beat__arena_destroy(&a, &default_allocator);
}

// Takes the next ring job of a's ring owned by me (NULL: this thread, as
// a submit does; else under the lock, as a thread so tagged would when its
// block is used up), which takes a ring if it has none. Fills the job as
// a submit does and returns it with its block and ring, or NULL (a failure
// reported) when there is none.
static beat__ring_job *take_ring_job(beat__submit_arena *a, beat__submitter *me,
                                     beat__arena_block **block, beat__arena_ring **ring)
{
    beat__ring_job *job = me == NULL
                              ? beat__arena_ring_slot(a, &default_allocator, ring)
                              : beat__arena_ring_slot_locked(a, &default_allocator, me,
                                                             beat__arena_ring_of(a, me), ring);
    if (job == NULL) {
        bt_fail(__FILE__, __LINE__, "no ring job");
        return NULL;
    }
    job->fn = count_job;
    job->arg = NULL;
    *block = (*ring)->own.block;
    return job;
}

// The owner's ring hands its jobs over in order, across a block's end (the
// link is made before the next block's first job is published), and the
// block the consumer has left is recycled once its jobs are retired.
static void the_owners_ring_hands_its_jobs_over_in_order(void)
{
    beat__submit_arena a;
    beat__arena_init(&a);
    beat__inject q;
    beat__inject_init(&q);
    q.ring = &a;
    uint32_t got = 0;
    beat__arena_block *from = NULL;
    CHECK(!beat__inject_maybe_nonempty(&q));
    CHECK(beat__arena_ring_take(&a, 1, &got, &from) == NULL && got == 0);
    const unsigned n = BEAT__ARENA_RING_JOBS + 5;
    beat__ring_job *taken[BEAT__ARENA_RING_JOBS + 5];
    beat__arena_block *blocks[BEAT__ARENA_RING_JOBS + 5];
    beat__arena_ring *r = NULL;
    for (unsigned i = 0; i < n; i++) {
        if ((taken[i] = take_ring_job(&a, NULL, &blocks[i], &r)) == NULL)
            return;
        // Taken, not yet published: the consumers see nothing of it (but
        // jobs 1.. published before it, not consumed here).
        CHECK_EQ(beat__inject_maybe_nonempty(&q), i >= 2 ? 1 : 0);
        beat__arena_publish(r);
        CHECK(beat__inject_maybe_nonempty(&q));
        if (i == 0) { // consumed at once: the ring is empty again
            CHECK(beat__arena_ring_take(&a, 1, &got, &from) == taken[0] && got == 1);
            CHECK(from == blocks[0]);
            CHECK(!beat__inject_maybe_nonempty(&q));
        }
    }
    CHECK(blocks[0] == r->first && blocks[n - 1] != blocks[0]);
    CHECK(blocks[0]->ring_next == blocks[n - 1]); // linked before its first job went out
    for (unsigned i = 1; i < n; i++) {
        beat__ring_job *job = beat__arena_ring_take(&a, 1, &got, &from);
        CHECK(job == taken[i] && got == 1 && from == blocks[i]);
        if (job != taken[i])
            break;
    }
    CHECK(beat__arena_ring_take(&a, 1, &got, &from) == NULL && got == 0);
    CHECK(!beat__inject_maybe_nonempty(&q));
    CHECK_EQ(r->consumed, (uint64_t)n);
    // Retiring every job: the first block, which the cursor has left, is
    // recycled; the second keeps the cursor's count.
    beat__arena_tally tally = {NULL, 0};
    for (unsigned i = 0; i < n; i++)
        beat__arena_retire_n(&a, &tally, blocks[i], 1);
    beat__arena_flush(&a, &tally);
    CHECK(a.free_top == blocks[0]);
    CHECK_EQ(blocks[n - 1]->pending, (uint64_t)(BEAT__ARENA_RING_JOBS - 5) + BEAT__ARENA_RING_REF);
    beat__arena_destroy(&a, &default_allocator);
}

// A chain takes the ring's jobs in one step: at most max, no more than were
// published, never across a block's end, and writing none of them.
static void the_ring_hands_a_chain_consecutive_jobs_of_one_block(void)
{
    beat__submit_arena a;
    beat__arena_init(&a);
    uint32_t n = 99;
    beat__arena_block *from = NULL;
    CHECK(beat__arena_ring_take(&a, 8, &n, &from) == NULL && n == 0);
    CHECK(beat__arena_ring_peek(&a) == NULL);
    const unsigned total = BEAT__ARENA_RING_JOBS + 20;
    beat__ring_job *taken[BEAT__ARENA_RING_JOBS + 20];
    beat__arena_block *blocks[BEAT__ARENA_RING_JOBS + 20];
    beat__arena_ring *r = NULL;
    for (unsigned i = 0; i < total; i++) {
        if ((taken[i] = take_ring_job(&a, NULL, &blocks[i], &r)) == NULL)
            return;
        if (i < 10) // the rest published below, in one step
            beat__arena_publish(r);
    }
    // Limited by max, then by what is published; a peek takes nothing.
    CHECK(beat__arena_ring_peek(&a) == taken[0] && beat__arena_ring_peek(&a) == taken[0]);
    CHECK(beat__arena_ring_take(&a, 4, &n, &from) == taken[0] && n == 4 && from == blocks[0]);
    CHECK(beat__arena_ring_take(&a, 64, &n, &from) == taken[4] && n == 6);
    CHECK(beat__arena_ring_take(&a, 64, &n, &from) == NULL && n == 0);
    unsigned next = 10;
    for (unsigned i = 10; i < total; i++)
        beat__arena_publish(r);
    // Then by the block's end: the jobs of a take are consecutive.
    while (next < BEAT__ARENA_RING_JOBS) {
        beat__ring_job *first = beat__arena_ring_take(&a, 64, &n, &from);
        CHECK(first == taken[next] && from == blocks[next]);
        CHECK(n >= 1 && next + n <= BEAT__ARENA_RING_JOBS);
        CHECK(n == 64 || next + n == BEAT__ARENA_RING_JOBS);
        if (first != taken[next] || n == 0)
            break;
        CHECK(first + (n - 1) == taken[next + n - 1]);
        next += n;
    }
    CHECK_EQ(next, BEAT__ARENA_RING_JOBS);
    CHECK(beat__arena_ring_peek(&a) == taken[next]); // in the next block
    CHECK(beat__arena_ring_take(&a, 64, &n, &from) == taken[next] && n == 20);
    CHECK(from == blocks[next] && blocks[next] != blocks[0]);
    CHECK(beat__arena_ring_take(&a, 64, &n, &from) == NULL && n == 0);
    CHECK_EQ(r->consumed, (uint64_t)total);
    for (unsigned i = 0; i < total; i++) // none written by a take
        CHECK(taken[i]->fn == count_job && taken[i]->arg == NULL);
    beat__arena_destroy(&a, &default_allocator);
}

// Consumers serve the rings in turn: each take starts (with its peek) at
// the next ring with published jobs, and the takes after the peek stay
// with that ring while it has some. Jobs of one ring come out in order,
// every job once; an empty ring is passed over.
static void the_rings_are_served_in_turn_one_ring_a_take(void)
{
#if BEAT_SUBMIT_RINGS < 3
    bt_skip("BEAT_SUBMIT_RINGS is below 3: fewer than 3 rings to serve");
#else
    enum { RINGS = 3, PER_RING = 6 };
    beat__submit_arena a;
    beat__arena_init(&a);
    // One thread's record per ring (live: the thread's reference).
    beat__submitter tags[RINGS] = {{1, 0}, {1, 0}, {1, 0}};
    beat__ring_job *taken[RINGS][PER_RING];
    beat__arena_ring *ring[RINGS];
    beat__arena_block *block;
    for (unsigned k = 0; k < RINGS; k++)
        for (unsigned i = 0; i < PER_RING; i++) {
            if ((taken[k][i] = take_ring_job(&a, &tags[k], &block, &ring[k])) == NULL)
                return;
            CHECK(ring[k] == &a.ring[k] && a.owner[k] == (void *)&tags[k]);
            if (k != 1) // ring 1 is published below
                beat__arena_publish(ring[k]);
        }
    CHECK_EQ(a.rings, (uint32_t)RINGS);
    unsigned next[RINGS] = {0, 0, 0}, last = RINGS, takes = 0;
    uint32_t n;
    for (;;) {
        const beat__ring_job *peeked = beat__arena_ring_peek(&a);
        if (peeked == NULL)
            break;
        unsigned k = 0;
        while (k < RINGS && (next[k] == PER_RING || peeked != taken[k][next[k]]))
            k++;
        CHECK(k < RINGS && k != 1); // the next job of a ring with published jobs
        if (k == RINGS)
            break;
        CHECK(k != last); // another ring than the last take's, while two have jobs
        // Two takes after the peek: both from ring k, in order.
        for (int t = 0; t < 2 && next[k] < PER_RING; t++) {
            CHECK(beat__arena_ring_take(&a, 2, &n, &block) == taken[k][next[k]] && n == 2);
            next[k] += n;
        }
        last = next[0] == PER_RING || next[2] == PER_RING ? RINGS : k;
        takes++;
    }
    CHECK(next[0] == PER_RING && next[1] == 0 && next[2] == PER_RING);
    CHECK_EQ(takes, 4u);
    CHECK(beat__arena_ring_take(&a, 64, &n, &block) == NULL && n == 0);
    // Ring 1's jobs, published now, all in one take.
    for (unsigned i = 0; i < PER_RING; i++)
        beat__arena_publish(ring[1]);
    CHECK(beat__arena_ring_peek(&a) == taken[1][0]);
    CHECK(beat__arena_ring_take(&a, 64, &n, &block) == taken[1][0] && n == PER_RING);
    CHECK(beat__arena_ring_peek(&a) == NULL);
    for (unsigned k = 0; k < RINGS; k++)
        CHECK_EQ(a.ring[k].consumed, (uint64_t)PER_RING);
    beat__arena_destroy(&a, &default_allocator);
#endif
}

static void count_high(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    __atomic_fetch_add((unsigned *)arg, 1u, __ATOMIC_RELAXED);
}

// A ring owner's NORMAL submits are published through its ring; its other
// submits (another priority, deferrable) go through the queues' lists.
// Other threads get a ring each while rings last; then other threads'
// submits go through the list. Every job runs once either way.
static void only_normal_submits_of_ring_owners_use_the_rings(void)
{
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    const unsigned n = BT_SCALE(3000u, 600u);
    unsigned count = 0, other = 0;
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(beat_submit(pool, count_job, &count), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(count, n);
    CHECK(pool->arena.owner[0] == beat__thread_tag());
    CHECK_EQ(pool->arena.ring[0].published, (uint64_t)n);
    CHECK_EQ(pool->arena.ring[0].consumed, (uint64_t)n);
    for (unsigned i = 0; i < n; i++) {
        CHECK_EQ(beat_submit_deferrable(pool, count_high, &other), BEAT_OK);
#if BEAT_PRIORITIES > 1
        CHECK_EQ(beat_submit_priority(pool, BEAT_PRIORITY_HIGH, count_high, &other), BEAT_OK);
#endif
    }
    beat_pool_wait(pool);
    CHECK_EQ(arena_published(&pool->arena), (uint64_t)n); // none of these
    CHECK_EQ(other, BEAT_PRIORITIES > 1 ? 2 * n : n);
    // Other threads, alive together: a ring each, and then none for another.
    ring_owners owners;
    ring_owners_start(&owners, pool, 0);
    CHECK_EQ(pool->arena.ring[0].published, (uint64_t)n);
    for (unsigned i = 1; i < BEAT_SUBMIT_RINGS; i++)
        CHECK(pool->arena.ring[i].published >= 1);
    uint64_t published = arena_published(&pool->arena);
    pthread_t thread;
    pthread_create(&thread, NULL, submit_one_job, pool);
    pthread_join(thread, NULL);
    ring_owners_stop(&owners);
    beat_pool_wait(pool);
    CHECK_EQ(arena_published(&pool->arena), published);
    CHECK_EQ(count, n);
    beat_pool_destroy(pool);
}

// Once a ring's owner has exited, the next thread that wants a ring and
// finds none free takes it over, with the jobs it has published: however
// many threads come and go, the rings stay with live submitters, and no
// ring is made beyond BEAT_SUBMIT_RINGS. Every job runs once.
static void a_ring_passes_to_the_next_thread_once_its_owner_has_exited(void)
{
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    beat__submit_arena *a = &pool->arena;
    uint64_t published[BEAT_SUBMIT_RINGS] = {0};
    for (unsigned wave = 0; wave < 3; wave++) {
        // Wave 0 makes the rings; the later waves take them over.
        ring_owners owners;
        ring_owners_start(&owners, pool, BEAT_SUBMIT_RINGS);
        CHECK_EQ(a->rings, BEAT_SUBMIT_RINGS);
        for (unsigned i = 0; i < BEAT_SUBMIT_RINGS; i++) {
            beat__submitter *owner = (beat__submitter *)a->owner[i];
            CHECK(owner != NULL && __atomic_load_n(&owner->gone, __ATOMIC_ACQUIRE) == 0);
            CHECK_MSG(a->ring[i].published > published[i],
                      "wave %u: ring %u published no job of its new owner", wave, i);
            published[i] = a->ring[i].published;
        }
        // With every ring a live thread's, another thread's job goes to the list.
        uint64_t before = arena_published(a);
        pthread_t other;
        pthread_create(&other, NULL, submit_one_job, pool);
        pthread_join(other, NULL);
        CHECK_EQ(arena_published(a), before);
        ring_owners_stop(&owners);
        // Their exits marked their records (the rings keep them alive).
        for (unsigned i = 0; i < BEAT_SUBMIT_RINGS; i++)
            CHECK_EQ(__atomic_load_n(&((beat__submitter *)a->owner[i])->gone, __ATOMIC_ACQUIRE),
                     1u);
    }
    beat_pool_wait(pool);
    for (unsigned i = 0; i < BEAT_SUBMIT_RINGS; i++)
        CHECK_EQ(a->ring[i].consumed, a->ring[i].published);
    beat_pool_destroy(pool); // frees the last owners' records (ASan: no leak)
}

typedef struct pool_outliver {
    beat_pool *pools[2];
    beat__submitter *self;
    pthread_barrier_t submitted, destroyed;
} pool_outliver;

static void *submit_to_both_and_outlive_them(void *arg)
{
    pool_outliver *o = (pool_outliver *)arg;
    submit_one_job(o->pools[0]);
    submit_one_job(o->pools[1]);
    o->self = (beat__submitter *)beat__thread_tag();
    pthread_barrier_wait(&o->submitted);
    pthread_barrier_wait(&o->destroyed);
    return NULL;
}

// A thread's record is shared by its rings in every pool and outlives the
// thread while a ring names it: destroying a pool lets go of it, and the
// thread's exit frees it once no pool's ring names it.
static void a_ring_owners_record_is_freed_by_the_last_of_its_thread_and_pools(void)
{
    pool_outliver o;
    o.pools[0] = make_pool(1);
    o.pools[1] = make_pool(1);
    CHECK(o.pools[0] != NULL && o.pools[1] != NULL);
    pthread_barrier_init(&o.submitted, NULL, 2);
    pthread_barrier_init(&o.destroyed, NULL, 2);
    pthread_t thread;
    pthread_create(&thread, NULL, submit_to_both_and_outlive_them, &o);
    pthread_barrier_wait(&o.submitted);
    beat__submitter *s = o.self;
    CHECK(s != NULL);
    if (s != NULL) {
        CHECK(beat__arena_ring_of(&o.pools[0]->arena, s) != NULL);
        CHECK(beat__arena_ring_of(&o.pools[1]->arena, s) != NULL);
        CHECK_EQ(__atomic_load_n(&s->refs, __ATOMIC_ACQUIRE), 3u); // the thread, two rings
    }
    beat_pool_destroy(o.pools[0]);
    if (s != NULL)
        CHECK_EQ(__atomic_load_n(&s->refs, __ATOMIC_ACQUIRE), 2u);
    beat_pool_destroy(o.pools[1]);
    if (s != NULL)
        CHECK_EQ(__atomic_load_n(&s->refs, __ATOMIC_ACQUIRE), 1u); // the thread's own
    uint64_t gone = __atomic_load_n(&beat__submitters_gone, __ATOMIC_ACQUIRE);
    pthread_barrier_wait(&o.destroyed);
    pthread_join(thread, NULL);
    // Its exit marked it gone and, the last holder, freed it (ASan: no leak).
    CHECK_EQ(__atomic_load_n(&beat__submitters_gone, __ATOMIC_ACQUIRE), gone + 1);
    pthread_barrier_destroy(&o.submitted);
    pthread_barrier_destroy(&o.destroyed);
}

static void note_ran(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    __atomic_add_fetch((unsigned *)arg, 1, __ATOMIC_RELAXED);
}

typedef struct timed_waiter {
    beat_pool *pool;
    int returned;
} timed_waiter;

static void *wait_pool_and_note(void *arg)
{
    timed_waiter *w = (timed_waiter *)arg;
    beat_pool_wait(w->pool);
    __atomic_store_n(&w->returned, 1, __ATOMIC_RELEASE);
    return NULL;
}

// An outside submit is not counted in pool->jobs until a worker claims it
// from the injection queue; a wait sees it there, and a claim under way
// through the queue's lock. The test holds that lock, so no worker claims.
static void a_job_waiting_to_be_claimed_uncounted_still_holds_up_a_wait(void)
{
    beat_pool *pool = make_pool(1);
    CHECK(pool != NULL);
    unsigned ran = 0;
    CHECK(beat__spin_trylock(&pool->inject.lock)); // as a claim in progress
    CHECK_EQ(beat__jobs_state(pool), BEAT__JOBS_CLAIMING);
    CHECK_EQ(beat_submit(pool, note_ran, &ran), BEAT_OK);
    CHECK_EQ(__atomic_load_n(&pool->jobs, __ATOMIC_RELAXED) & BEAT__COUNT_MASK, (uint64_t)0);
    CHECK_EQ(beat__jobs_state(pool), BEAT__JOBS_PENDING);
    timed_waiter w = {pool, 0};
    pthread_t waiter;
    pthread_create(&waiter, NULL, wait_pool_and_note, &w);
    sleep_us(20000);
    CHECK_EQ(__atomic_load_n(&w.returned, __ATOMIC_ACQUIRE), 0); // the job has not run
    CHECK_EQ(__atomic_load_n(&ran, __ATOMIC_RELAXED), 0u);
    beat__spin_unlock(&pool->inject.lock);
    struct timespec until = hang_deadline();
    int returned = joined_by(waiter, &until);
    CHECK(returned);
    CHECK_EQ(__atomic_load_n(&ran, __ATOMIC_RELAXED), 1u);
    CHECK_EQ(beat__jobs_state(pool), BEAT__JOBS_DONE);
    if (returned)
        beat_pool_destroy(pool);
}

typedef struct held_submitter {
    beat_pool *pool;
    unsigned count;
    int submitted, release;
} held_submitter;

static void *submit_one_and_hold(void *arg)
{
    held_submitter *h = (held_submitter *)arg;
    beat_submit(h->pool, count_job, &h->count);
    __atomic_store_n(&h->submitted, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&h->release, __ATOMIC_ACQUIRE))
        sleep_us(100);
    return NULL;
}

// A worker's claim from the injection queue subtracts its finished jobs in
// the same RMW, so while jobs are queued the pool's count does not touch
// zero between two takes: a parked beat_pool_wait is woken at the end, not
// after every take (as it was, once per take, with the two RMWs apart).
static void a_parked_pool_wait_is_not_woken_between_two_claims(void)
{
    beat_pool *pool = make_pool(1);
    CHECK(pool != NULL);
    const unsigned n = BT_SCALE(20000u, 4000u); // about 1,200 takes
    busy_job job = {2e-6};
    uint64_t before = __atomic_load_n(&pool->outside_parks, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(beat_submit(pool, busy_for, &job), BEAT_OK);
    beat_pool_wait(pool);
    uint64_t parks = __atomic_load_n(&pool->outside_parks, __ATOMIC_RELAXED) - before;
    CHECK(parks <= 3);
    CHECK_EQ(beat__jobs_state(pool), BEAT__JOBS_DONE);
    beat_pool_destroy(pool);
    bt_note("%u jobs of 2 us on 1 worker: the wait parked %llu times", n,
            (unsigned long long)parks);
}

// The submitting thread owns an arena block with records left; a wait on
// another thread returns once the one job ran, while the submitter is
// still there and submits nothing more.
static void a_wait_returns_while_the_thread_that_submitted_lives_on(void)
{
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    held_submitter h = {pool, 0, 0, 0};
    pthread_t submitter_thread, waiter;
    pthread_create(&submitter_thread, NULL, submit_one_and_hold, &h);
    while (!__atomic_load_n(&h.submitted, __ATOMIC_ACQUIRE))
        sleep_us(100);
    pthread_create(&waiter, NULL, wait_pool, pool);
    struct timespec until = hang_deadline();
    int returned = joined_by(waiter, &until);
    CHECK(returned);
    CHECK_EQ(__atomic_load_n(&h.count, __ATOMIC_RELAXED), 1u);
    CHECK_EQ(__atomic_load_n(&pool->jobs, __ATOMIC_RELAXED) & BEAT__COUNT_MASK, (uint64_t)0);
    __atomic_store_n(&h.release, 1, __ATOMIC_RELEASE);
    pthread_join(submitter_thread, NULL);
    if (returned)
        beat_pool_destroy(pool);
}

// Fails every allocation of an arena block's size.
static void *no_arena_alloc_fn(size_t size, size_t align, void *user)
{
    if (size == BEAT__ARENA_BLOCK_BYTES)
        return NULL;
    return counting_alloc_fn(size, align, user);
}

// A 2-worker pool whose allocations go through alloc and are counted in counts.
static beat_pool *make_counted_pool(void *(*alloc)(size_t, size_t, void *), counting_alloc *counts)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 2;
    cfg.allocator.alloc = alloc;
    cfg.allocator.free = counting_free_fn;
    cfg.allocator.user = counts;
    beat_pool *pool = NULL;
    return beat_pool_create(&cfg, &pool) == BEAT_OK ? pool : NULL;
}

static void submits_fall_back_to_the_mempool_when_no_arena_block_can_be_had(void)
{
    counting_alloc counts = {0, 0, 0};
    beat_pool *pool = make_counted_pool(no_arena_alloc_fn, &counts);
    CHECK(pool != NULL);
    unsigned count = 0;
    for (unsigned i = 0; i < 5000; i++)
        CHECK_EQ(beat_submit(pool, count_job, &count), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(count, 5000u);
    CHECK(pool->arena.all == NULL);
    beat_pool_destroy(pool);
    CHECK_EQ(counts.bytes, 0);
}

static void arena_trim_frees_recycled_blocks_and_submits_go_on(void)
{
    counting_alloc counts = {0, 0, 0};
    beat_pool *pool = make_counted_pool(counting_alloc_fn, &counts);
    CHECK(pool != NULL);
    unsigned count = 0;
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < 5 * BEAT__ARENA_RECORDS; i++)
            CHECK_EQ(beat_submit(pool, count_job, &count), BEAT_OK);
        beat_pool_wait(pool);
        unsigned all = arena_blocks(pool->arena.all, 0);
        unsigned recycled = arena_blocks(pool->arena.free_top, 1);
        CHECK(recycled >= 1);
        CHECK(all - recycled <= 1);
        long long before = counts.bytes;
        size_t freed = beat__arena_trim(&pool->arena, &pool->cfg.allocator);
        CHECK_EQ(freed, (size_t)recycled * BEAT__ARENA_BLOCK_BYTES);
        CHECK_EQ(counts.bytes, before - (long long)freed);
        CHECK_EQ(arena_blocks(pool->arena.all, 0), all - recycled);
        CHECK(pool->arena.free_top == NULL);
    }
    CHECK_EQ(count, 3 * 5 * BEAT__ARENA_RECORDS);
    beat_pool_destroy(pool);
    CHECK_EQ(counts.bytes, 0);
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(default_workers_are_the_cpus_this_process_may_use),
        BT_CASE(workers_are_named_and_run_start_and_stop_callbacks),
        BT_CASE(run_gives_the_caller_an_outside_ctx_and_jobs_a_worker_ctx),
        BT_CASE(more_outside_callers_than_slots_all_get_their_result),
        BT_CASE(two_outside_threads_submit_jobs_that_each_run_exactly_once),
        BT_CASE(jobs_submitted_by_jobs_are_waited_for),
        BT_CASE(pool_wait_returns_only_after_running_jobs_finish),
        BT_CASE(several_outside_threads_can_wait_at_once),
        BT_CASE(outside_waiters_that_come_and_go_never_sleep_through_the_end),
        BT_CASE(a_waiter_left_uncounted_by_a_full_field_still_sees_the_end),
        BT_CASE(destroy_finishes_work_still_queued),
        BT_CASE(bursty_submits_with_idle_gaps_all_complete),
        BT_CASE(a_job_submitted_to_a_parked_pool_always_runs),
        BT_CASE(a_submit_racing_the_workers_park_always_wakes_one),
        BT_CASE(a_park_after_the_owners_last_publish_turns_the_membarrier_off),
        BT_CASE(nested_spawn_and_wait_three_deep_run_every_task),
        BT_CASE(several_tasks_waiting_on_one_counter_all_return),
        BT_CASE(a_counter_can_be_reused_after_wait),
        BT_CASE(parallel_for_visits_every_index_exactly_once),
        BT_CASE(a_batch_runs_each_of_its_jobs_exactly_once),
        BT_CASE(reduce_keeps_the_order_of_a_non_commutative_operation),
        BT_CASE(create_destroy_1000_times_leaves_no_thread_and_no_allocation),
        BT_CASE(idle_workers_park_and_burn_no_cpu),
        BT_CASE(injection_queue_reports_empty_exactly_when_nothing_is_left),
        BT_CASE(spin_windows_grow_to_cover_short_waits_and_shrink_on_long_ones),
        BT_CASE(an_outside_waiter_stops_parking_on_a_loop_of_short_jobs),
        BT_CASE(an_outside_waiter_with_the_default_spin_stops_parking_on_300us_calls),
        BT_CASE(a_tally_recycles_a_block_when_its_last_record_is_retired),
        BT_CASE(each_of_the_first_outside_takers_owns_a_ring_and_the_others_share_a_block),
        BT_CASE(the_owners_ring_hands_its_jobs_over_in_order),
        BT_CASE(the_ring_hands_a_chain_consecutive_jobs_of_one_block),
        BT_CASE(the_rings_are_served_in_turn_one_ring_a_take),
        BT_CASE(only_normal_submits_of_ring_owners_use_the_rings),
        BT_CASE(a_ring_passes_to_the_next_thread_once_its_owner_has_exited),
        BT_CASE(a_ring_owners_record_is_freed_by_the_last_of_its_thread_and_pools),
        BT_CASE(a_job_waiting_to_be_claimed_uncounted_still_holds_up_a_wait),
        BT_CASE(a_parked_pool_wait_is_not_woken_between_two_claims),
        BT_CASE(a_wait_returns_while_the_thread_that_submitted_lives_on),
        BT_CASE(outside_submits_reuse_arena_blocks_once_their_records_ran),
        BT_CASE(several_outside_submitters_share_the_arena_and_every_job_runs_once),
        BT_CASE(ring_owners_submitting_and_waiting_at_once_each_see_their_jobs_done),
        BT_CASE(submits_fall_back_to_the_mempool_when_no_arena_block_can_be_had),
        BT_CASE(arena_trim_frees_recycled_blocks_and_submits_go_on),
    };
    return BT_RUN(cases);
}
