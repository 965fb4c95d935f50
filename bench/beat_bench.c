// Beat's side of the benchmarks: the shared workloads (workloads.h) with
// Beat's API, plus two of Beat's own: the raw Chase-Lev deque and the
// submit-to-run throughput. The serial baseline is compiled into this same
// program (workloads.h), with the same flags.
//
//   beat_bench WORKLOAD [--workers N] [--rounds R] [--size S] [--json FILE] [--quick]
//
// Beat before any system header: BEAT_IMPLEMENTATION defines _GNU_SOURCE.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "workloads.h"

// ---------------------------------------------------------------------------
// Pools: one per worker count, created outside every timer

static beat_pool *pools[1025];
static unsigned config_spin_us;  // --spin-us; 0 = Beat's default
static int config_pin;           // --pin: pinned workers, nearest-first stealing
static int config_predict_off;   // --predict-off: no execution-time prediction
static const char *config_trace; // --trace PATH: beat_config.trace_path

static beat_pool *pool_for(unsigned workers)
{
    if (pools[workers] == NULL) {
        beat_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.workers = workers;
        cfg.spin_us = config_spin_us;
        cfg.pin_workers = config_pin;
        cfg.predict_off = config_predict_off;
        cfg.trace_path = config_trace;
        beat_result r = beat_pool_create(&cfg, &pools[workers]);
        if (r != BEAT_OK)
            bench_die("beat_pool_create(%u workers): %s", workers, beat_result_string(r));
    }
    return pools[workers];
}

static void check_ok(beat_result r, const char *what)
{
    if (r != BEAT_OK)
        bench_die("%s failed: %s (%s)", what, beat_result_string(r), beat_result_advice(r));
}

static void nothing(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
}

// Runs fn on w threads, counted as the peers count them (an OpenMP team of
// w is the master plus w-1, a TBB arena of w has the caller take part):
// beat_run's caller works too, so T_w uses w-1 workers plus the caller.
// T1 is one worker with the caller blocked in beat_pool_wait.
static void beat_call(unsigned w, beat_fn fn, void *arg)
{
    if (w <= 1) {
        beat_pool *pool = pool_for(1);
        check_ok(beat_submit(pool, fn, arg), "beat_submit");
        beat_pool_wait(pool);
        return;
    }
    check_ok(beat_run(pool_for(w - 1), fn, arg), "beat_run");
}

static void beat_init(const bench_opts *o)
{
    config_spin_us = o->spin_us;
    config_pin = o->pin;
    config_predict_off = o->predict_off;
    config_trace = o->trace_path;
}

static void beat_prepare(const bench_opts *o)
{
    for (unsigned i = 0; i < o->nworkers; i++) {
        beat_call(o->workers[i], nothing, NULL);
        check_ok(beat_run(pool_for(o->workers[i]), nothing, NULL), "beat_run");
    }
}

static void destroy_pools(void)
{
    for (size_t i = 0; i < WL_COUNT(pools); i++)
        beat_pool_destroy(pools[i]);
}

// ---------------------------------------------------------------------------
// fib: beat_pcall at every level

typedef struct fib_arg {
    int n;
    uint64_t result;
} fib_arg;

static void fib_task(beat_ctx *ctx, void *p)
{
    fib_arg *a = (fib_arg *)p;
    if (a->n < 2) {
        a->result = (uint64_t)a->n;
        return;
    }
    fib_arg x = {a->n - 1, 0}, y = {a->n - 2, 0};
    beat_pcall(ctx, fib_task, &x, fib_task, &y);
    a->result = x.result + y.result;
}

static uint64_t beat_fib(int n, unsigned w)
{
    fib_arg a = {n, 0};
    beat_call(w, fib_task, &a);
    return a.result;
}

// The same on values: beat_pcall_u64, no argument structs.
static uint64_t fib_u64_task(beat_ctx *ctx, uint64_t n)
{
    if (n < 2)
        return n;
    beat_pair_u64 r = beat_pcall_u64(ctx, fib_u64_task, n - 1, fib_u64_task, n - 2);
    return r.a + r.b;
}

typedef struct u64_call {
    beat_fn_u64 fn;
    uint64_t arg, result;
} u64_call;

static void u64_call_run(beat_ctx *ctx, void *p)
{
    u64_call *c = (u64_call *)p;
    c->result = c->fn(ctx, c->arg);
}

static uint64_t beat_fib_u64(int n, unsigned w)
{
    u64_call c = {fib_u64_task, (uint64_t)n, 0};
    beat_call(w, u64_call_run, &c);
    return c.result;
}

// ---------------------------------------------------------------------------
// tree: call(left) / fork(right) / join at each node with two children

typedef struct tree_arg {
    const tree_node *node;
    int64_t sum;
} tree_arg;

static void tree_task(beat_ctx *ctx, void *p)
{
    tree_arg *a = (tree_arg *)p;
    const tree_node *node = a->node;
    int64_t sum = node->value;
    if (node->left != NULL && node->right != NULL) {
        tree_arg left = {node->left, 0}, right = {node->right, 0};
        beat_pcall(ctx, tree_task, &left, tree_task, &right); // right is the stealable one
        sum += left.sum + right.sum;
    } else if (node->left != NULL || node->right != NULL) {
        tree_arg only = {node->left != NULL ? node->left : node->right, 0};
        tree_task(ctx, &only);
        sum += only.sum;
    }
    a->sum = sum;
}

static int64_t beat_tree(const tree_node *root, unsigned w)
{
    tree_arg a = {root, 0};
    beat_call(w, tree_task, &a);
    return a.sum;
}

// The same on values: the node's address in, the sum (two's complement) out.
static uint64_t tree_u64_task(beat_ctx *ctx, uint64_t p)
{
    const tree_node *node = (const tree_node *)(uintptr_t)p;
    uint64_t sum = (uint64_t)node->value;
    if (node->left != NULL && node->right != NULL) {
        beat_pair_u64 r = beat_pcall_u64(ctx, tree_u64_task, (uintptr_t)node->left, tree_u64_task,
                                         (uintptr_t)node->right);
        sum += r.a + r.b;
    } else if (node->left != NULL || node->right != NULL) {
        sum += tree_u64_task(ctx, (uintptr_t)(node->left != NULL ? node->left : node->right));
    }
    return sum;
}

static int64_t beat_tree_u64(const tree_node *root, unsigned w)
{
    u64_call c = {tree_u64_task, (uintptr_t)root, 0};
    beat_call(w, u64_call_run, &c);
    return (int64_t)c.result;
}

// ---------------------------------------------------------------------------
// tasks: from the main thread, one beat_submit per task or in batches

// The call in progress; written before the submits, which publish it.
static uint64_t *tasks_out;
static uint64_t tasks_iters;

static void task_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    uint64_t *slot = (uint64_t *)arg;
    *slot = spin(tasks_iters, (uint64_t)(slot - tasks_out));
}

static void beat_tasks_submit(uint64_t *out, size_t n, uint64_t iters, unsigned w)
{
    beat_pool *pool = pool_for(w);
    tasks_out = out;
    tasks_iters = iters;
    for (size_t i = 0; i < n; i++)
        check_ok(beat_submit(pool, task_job, &out[i]), "beat_submit");
    beat_pool_wait(pool);
}

// The same from two outside threads: the main thread submits the even
// jobs and a helper thread (made once, then kept) the odd ones, each with
// beat_submit; both are done before beat_pool_wait. The helper's start and
// end handshakes (a mutex and a condition variable) are inside the timer.
static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned round, done; // a call's number; the last one the helper finished
    int stop;
    beat_pool *pool;
    uint64_t *out;
    size_t n;
    int started;
    pthread_t thread;
} tasks_helper = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

static void *tasks_helper_main(void *arg)
{
    (void)arg;
    unsigned seen = 0;
    pthread_mutex_lock(&tasks_helper.lock);
    for (;;) {
        while (tasks_helper.round == seen && !tasks_helper.stop)
            pthread_cond_wait(&tasks_helper.changed, &tasks_helper.lock);
        if (tasks_helper.stop)
            break;
        seen = tasks_helper.round;
        beat_pool *pool = tasks_helper.pool;
        uint64_t *out = tasks_helper.out;
        size_t n = tasks_helper.n;
        pthread_mutex_unlock(&tasks_helper.lock);
        for (size_t i = 1; i < n; i += 2)
            check_ok(beat_submit(pool, task_job, &out[i]), "beat_submit");
        pthread_mutex_lock(&tasks_helper.lock);
        tasks_helper.done = seen;
        pthread_cond_broadcast(&tasks_helper.changed);
    }
    pthread_mutex_unlock(&tasks_helper.lock);
    return NULL;
}

static void beat_tasks_submit2(uint64_t *out, size_t n, uint64_t iters, unsigned w)
{
    beat_pool *pool = pool_for(w);
    tasks_out = out;
    tasks_iters = iters;
    pthread_mutex_lock(&tasks_helper.lock);
    if (!tasks_helper.started) {
        if (pthread_create(&tasks_helper.thread, NULL, tasks_helper_main, NULL) != 0)
            bench_die("pthread_create failed");
        tasks_helper.started = 1;
    }
    tasks_helper.pool = pool;
    tasks_helper.out = out;
    tasks_helper.n = n;
    unsigned round = ++tasks_helper.round;
    pthread_cond_broadcast(&tasks_helper.changed);
    pthread_mutex_unlock(&tasks_helper.lock);
    for (size_t i = 0; i < n; i += 2)
        check_ok(beat_submit(pool, task_job, &out[i]), "beat_submit");
    pthread_mutex_lock(&tasks_helper.lock);
    while (tasks_helper.done != round)
        pthread_cond_wait(&tasks_helper.changed, &tasks_helper.lock);
    pthread_mutex_unlock(&tasks_helper.lock);
    beat_pool_wait(pool);
}

static void tasks_helper_stop(void)
{
    pthread_mutex_lock(&tasks_helper.lock);
    int started = tasks_helper.started;
    tasks_helper.stop = 1;
    pthread_cond_broadcast(&tasks_helper.changed);
    pthread_mutex_unlock(&tasks_helper.lock);
    if (started)
        pthread_join(tasks_helper.thread, NULL);
}

// Jobs go in batches of TASKS_BATCH from one reused array (beat_submit_batch
// copies it), built inside the timer: the submitting thread's whole cost.
#define TASKS_BATCH 4096

static void beat_tasks_batch(uint64_t *out, size_t n, uint64_t iters, unsigned w)
{
    static beat_job jobs[TASKS_BATCH];
    beat_pool *pool = pool_for(w);
    tasks_out = out;
    tasks_iters = iters;
    for (size_t i = 0; i < n; i += TASKS_BATCH) {
        size_t count = n - i < TASKS_BATCH ? n - i : TASKS_BATCH;
        for (size_t k = 0; k < count; k++) {
            jobs[k].fn = task_job;
            jobs[k].arg = &out[i + k];
        }
        check_ok(beat_submit_batch(pool, jobs, count), "beat_submit_batch");
    }
    beat_pool_wait(pool);
}

// ---------------------------------------------------------------------------
// sum, map, regions: Beat's loops from outside the pool, automatic grain

static void sum_body(beat_ctx *ctx, size_t begin, size_t end, void *partial, void *arg)
{
    (void)ctx;
    *(double *)partial += sum_range((const double *)arg, begin, end);
}

static void sum_combine(void *left, const void *right, void *arg)
{
    (void)arg;
    *(double *)left += *(const double *)right;
}

typedef struct sum_call {
    const double *x;
    size_t n;
    double result;
} sum_call;

static void sum_task(beat_ctx *ctx, void *p)
{
    sum_call *s = (sum_call *)p;
    double zero = 0;
    check_ok(beat_parallel_reduce(ctx, 0, s->n, 0, &zero, sizeof zero, sum_body, sum_combine,
                                  (void *)s->x, &s->result),
             "beat_parallel_reduce");
}

static double beat_sum(const double *x, size_t n, unsigned w)
{
    sum_call s = {x, n, -1};
    beat_call(w, sum_task, &s);
    return s.result;
}

typedef struct map_arg {
    const double *x;
    double *y;
} map_arg;

static void map_body(beat_ctx *ctx, size_t begin, size_t end, void *p)
{
    (void)ctx;
    map_arg *a = (map_arg *)p;
    map_range(a->x, a->y, begin, end);
}

typedef struct loop_call {
    size_t n;
    beat_range_fn body;
    void *arg;
} loop_call;

static void loop_task(beat_ctx *ctx, void *p)
{
    loop_call *l = (loop_call *)p;
    beat_parallel_for(ctx, 0, l->n, 0, l->body, l->arg);
}

static void beat_map(const double *x, double *y, size_t n, unsigned w)
{
    map_arg a = {x, y};
    loop_call l = {n, map_body, &a};
    beat_call(w, loop_task, &l);
}

static void region_body(beat_ctx *ctx, size_t begin, size_t end, void *p)
{
    (void)ctx;
    region_kernel((const region_data *)p, begin, end);
}

static void beat_region(const region_data *d, unsigned w)
{
    loop_call l = {d->n, region_body, (void *)d};
    beat_call(w, loop_task, &l);
}

// ---------------------------------------------------------------------------
// idle and wake: a default 2-worker pool

static void beat_idle_create(void) { pool_for(2); }

static void wake_task(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    *(double *)arg = bench_now();
}

static void beat_wake_start(void) { check_ok(beat_run(pool_for(2), nothing, NULL), "beat_run"); }

static double beat_wake_try(void)
{
    beat_pool *pool = pools[2];
    double started = 0;
    double t0 = bench_now();
    check_ok(beat_submit(pool, wake_task, &started), "beat_submit");
    beat_pool_wait(pool);
    if (started == 0)
        bench_wrong("wake", "beat_pool_wait returned before the task ran");
    return started - t0;
}

static void beat_wake_stop(void) {}

// ---------------------------------------------------------------------------
// deque: the raw Chase-Lev deque (private beat__deque_*), no scheduler

static void *deque_alloc(size_t bytes, void *user)
{
    (void)user;
    return malloc(bytes);
}

static void deque_release(void *ptr, size_t bytes, void *user)
{
    (void)bytes;
    (void)user;
    free(ptr);
}

// Items are 1..n as pointers; both sides sum what they take, so the check
// proves every item was taken exactly once.
#define DEQUE_ITEM(i) ((void *)(uintptr_t)((i) + 1))

typedef struct deque_bench {
    beat__deque deque; // cache-line aligned: bench_alloc
    size_t n;
    int mode; // DEQUE_PAIRS or DEQUE_PUSHES
    int go, owner_done;
    uint64_t stolen, stolen_sum; // written by the thief
    double thief_end;
    pthread_t thief;
} deque_bench;

enum { DEQUE_PAIRS, DEQUE_PUSHES };

static deque_bench *deque_new(size_t n, int mode)
{
    static const beat__deque_mem mem = {deque_alloc, deque_release, NULL};
    deque_bench *b = (deque_bench *)bench_alloc(sizeof *b);
    memset(b, 0, sizeof *b);
    if (beat__deque_init(&b->deque, 256, &mem) != 0)
        bench_die("beat__deque_init: out of memory");
    b->n = n;
    b->mode = mode;
    return b;
}

static void deque_free(deque_bench *b)
{
    beat__deque_destroy(&b->deque);
    free(b);
}

// The thief: steals until the owner is done (pairs) or until it has taken
// all n items (pushes).
static void *deque_thief(void *p)
{
    deque_bench *b = (deque_bench *)p;
    uint64_t stolen = 0, sum = 0;
    while (!__atomic_load_n(&b->go, __ATOMIC_ACQUIRE)) {
    }
    for (;;) {
        if (b->mode == DEQUE_PUSHES ? stolen == b->n
                                    : __atomic_load_n(&b->owner_done, __ATOMIC_ACQUIRE))
            break;
        void *item;
        if (beat__deque_steal(&b->deque, &item) == BEAT__STEAL_OK) {
            stolen++;
            sum += (uintptr_t)item;
        }
    }
    b->thief_end = bench_now();
    b->stolen = stolen;
    b->stolen_sum = sum;
    return NULL;
}

static void deque_start_thief(deque_bench *b)
{
    if (pthread_create(&b->thief, NULL, deque_thief, b) != 0)
        bench_die("pthread_create failed");
}

static void deque_check(const char *what, uint64_t n, uint64_t taken, uint64_t sum)
{
    if (taken != n || sum != n * (n + 1) / 2)
        bench_wrong("deque", "%s: %llu of %llu items taken (sum %llu)", what,
                    (unsigned long long)taken, (unsigned long long)n, (unsigned long long)sum);
}

// Owner push+pop pairs; with a thief when thief != 0. Returns seconds;
// *stolen gets what the thief took.
static double deque_pairs(size_t n, int thief, uint64_t *stolen)
{
    deque_bench *b = deque_new(n, DEQUE_PAIRS);
    if (thief)
        deque_start_thief(b);
    uint64_t popped = 0, sum = 0;
    __atomic_store_n(&b->go, 1, __ATOMIC_RELEASE);
    double t0 = bench_now();
    for (size_t i = 0; i < n; i++) {
        if (beat__deque_push_owner(&b->deque, DEQUE_ITEM(i)) < 0)
            bench_die("deque push: out of memory");
        void *item = beat__deque_pop_owner(&b->deque);
        if (item != NULL) {
            popped++;
            sum += (uintptr_t)item;
        }
    }
    double t = bench_now() - t0;
    __atomic_store_n(&b->owner_done, 1, __ATOMIC_RELEASE);
    if (thief)
        pthread_join(b->thief, NULL);
    deque_check(thief ? "pairs with a thief" : "pairs", n, popped + b->stolen, sum + b->stolen_sum);
    *stolen = b->stolen;
    deque_free(b);
    return t;
}

// The owner pushes n items while the thief takes them all. *push_s gets the
// owner's push time; returns the time until the thief had everything.
static double deque_pushes(size_t n, double *push_s)
{
    deque_bench *b = deque_new(n, DEQUE_PUSHES);
    deque_start_thief(b);
    __atomic_store_n(&b->go, 1, __ATOMIC_RELEASE);
    double t0 = bench_now();
    for (size_t i = 0; i < n; i++)
        if (beat__deque_push_owner(&b->deque, DEQUE_ITEM(i)) < 0)
            bench_die("deque push: out of memory");
    *push_s = bench_now() - t0;
    pthread_join(b->thief, NULL);
    deque_check("pushes with a thief", n, b->stolen, b->stolen_sum);
    double t = b->thief_end - t0;
    deque_free(b);
    return t;
}

typedef struct deque_round_state {
    size_t n;
    unsigned m_alone, m_pairs_thief, m_stolen, m_push, m_steal, m_psi;
} deque_round_state;

// The gate is the owner-alone phase (one thread of ours).
static void deque_round(void *p, unsigned round, bench_round_values *out)
{
    deque_round_state *s = (deque_round_state *)p;
    (void)round;
    uint64_t stolen;
    double push_s;
    bench_psi_window w = bench_psi_begin();
    double alone = deque_pairs(s->n, 0, &stolen);
    out->gate_psi = bench_psi_end(w);
    double with_thief = deque_pairs(s->n, 1, &stolen);
    double transfer = deque_pushes(s->n, &push_s);
    out->v[s->m_alone] = (double)s->n / alone * 1e-6;
    out->v[s->m_pairs_thief] = (double)s->n / with_thief * 1e-6;
    out->v[s->m_stolen] = 100.0 * (double)stolen / (double)s->n;
    out->v[s->m_push] = (double)s->n / push_s * 1e-6;
    out->v[s->m_steal] = (double)s->n / transfer * 1e-6;
    out->v[s->m_psi] = out->gate_psi < 0 ? NAN : out->gate_psi * 100;
}

static void wl_deque(const bench_opts *o, bench_out *out, const bench_contestant *c)
{
    static const long full[] = {10000000}, quick[] = {1000000};
    static bench_case bc;
    long n[2];
    (void)c;
    bench_sizes(o, full, 1, quick, 1, n);
    char label[32];
    snprintf(label, sizeof label, "%ld ops", n[0]);
    bench_case_init(&bc, "deque", label, "");
    deque_round_state s;
    s.n = (size_t)n[0];
    s.m_alone = bench_case_metric(&bc, "pairs_alone", "M/s");
    s.m_pairs_thief = bench_case_metric(&bc, "pairs_thief", "M/s");
    s.m_stolen = bench_case_metric(&bc, "stolen", "%");
    s.m_push = bench_case_metric(&bc, "push_thief", "M/s");
    s.m_steal = bench_case_metric(&bc, "steal", "M/s");
    s.m_psi = bench_case_metric(&bc, "foreign_psi", "%");
    snprintf(bc.note, sizeof bc.note,
             "pairs = owner push+pop; push_thief = owner pushes while a thief steals; steal = "
             "items/s until the thief has taken them all");
    bench_run_rounds(o, out, &bc, deque_round, &s);
}

// ---------------------------------------------------------------------------
// submit: N nearly empty jobs from the main thread, then beat_pool_wait

// Each worker counts the jobs it ran in its own cache line, so the check
// costs the job one uncontended increment.
typedef struct job_count {
    uint64_t n;
    char pad[56];
} job_count;
static job_count job_counts[1024] __attribute__((aligned(64)));

static void count_job(beat_ctx *ctx, void *arg)
{
    (void)arg;
    job_counts[beat_ctx_worker(ctx)].n++;
}

static void submit_check(const char *how, unsigned w, size_t n)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < w; i++)
        total += job_counts[i].n;
    if (total != n)
        bench_wrong("submit", "%s with %u workers ran %llu of %zu jobs", how, w,
                    (unsigned long long)total, n);
}

// Seconds to submit n jobs one by one (batch == 0) or in batches of
// TASKS_BATCH, and wait for them.
static double submit_once(unsigned w, size_t n, int batch)
{
    static beat_job jobs[TASKS_BATCH];
    beat_pool *pool = pool_for(w);
    memset(job_counts, 0, sizeof job_counts);
    double t0 = bench_now();
    for (size_t i = 0; i < n; i += batch ? TASKS_BATCH : 1) {
        if (!batch) {
            check_ok(beat_submit(pool, count_job, NULL), "beat_submit");
            continue;
        }
        size_t count = n - i < TASKS_BATCH ? n - i : TASKS_BATCH;
        for (size_t k = 0; k < count; k++) {
            jobs[k].fn = count_job;
            jobs[k].arg = NULL;
        }
        check_ok(beat_submit_batch(pool, jobs, count), "beat_submit_batch");
    }
    beat_pool_wait(pool);
    double t = bench_now() - t0;
    submit_check(batch ? "beat_submit_batch" : "beat_submit", w, n);
    return t;
}

typedef struct submit_round_state {
    const bench_opts *o;
    size_t n;
    unsigned m_single[BENCH_MAX_WORKERS], m_batch[BENCH_MAX_WORKERS], m_psi;
} submit_round_state;

// Phases in alternating order; the gate is the single-submit phase with
// the fewest workers (main thread + 1 worker fill 2 CPUs, no more).
static void submit_round(void *p, unsigned round, bench_round_values *out)
{
    submit_round_state *s = (submit_round_state *)p;
    unsigned nphases = s->o->nworkers * 2;
    for (unsigned k = 0; k < nphases; k++) {
        unsigned phase = round % 2 == 0 ? k : nphases - 1 - k;
        unsigned i = phase / 2, w = s->o->workers[i];
        int batch = phase % 2;
        bench_psi_window win = bench_psi_begin();
        double t = submit_once(w, s->n, batch);
        if (i == 0 && !batch)
            out->gate_psi = bench_psi_end(win);
        out->v[batch ? s->m_batch[i] : s->m_single[i]] = (double)s->n / t * 1e-6;
    }
    out->v[s->m_psi] = out->gate_psi < 0 ? NAN : out->gate_psi * 100;
}

static void wl_submit(const bench_opts *o, bench_out *out, const bench_contestant *c)
{
    static const long full[] = {1000000}, quick[] = {100000};
    static bench_case bc;
    long n[2];
    bench_sizes(o, full, 1, quick, 1, n);
    if (o->nworkers == 0)
        bench_die("submit needs at least one worker count");
    char label[32], name[32];
    snprintf(label, sizeof label, "%ld jobs", n[0]);
    bench_case_init(&bc, "submit", label, "");
    submit_round_state s;
    s.o = o;
    s.n = (size_t)n[0];
    for (unsigned i = 0; i < o->nworkers; i++) {
        snprintf(name, sizeof name, "single_%u", o->workers[i]);
        s.m_single[i] = bench_case_metric(&bc, name, "M/s");
    }
    for (unsigned i = 0; i < o->nworkers; i++) {
        snprintf(name, sizeof name, "batch_%u", o->workers[i]);
        s.m_batch[i] = bench_case_metric(&bc, name, "M/s");
    }
    s.m_psi = bench_case_metric(&bc, "foreign_psi", "%");
    snprintf(bc.note, sizeof bc.note,
             "jobs/s from the main thread to the end of beat_pool_wait; single = beat_submit, "
             "batch = beat_submit_batch of %d",
             TASKS_BATCH);
    c->prepare(o);
    for (unsigned i = 0; i < o->nworkers; i++) // warm the job records and the queue
        submit_once(o->workers[i], s.n, 0);
    bench_run_rounds(o, out, &bc, submit_round, &s);
}

// ---------------------------------------------------------------------------

static const bench_workload beat_only[] = {
    {"deque", wl_deque, "raw Chase-Lev deque: owner push+pop alone and with 1 thief"},
    {"submit", wl_submit, "submit->run throughput of empty jobs from an outside thread"},
};

int main(int argc, char **argv)
{
    static const bench_contestant beat = {
        "beat",
        "beat " BEAT_VERSION_STRING,
        beat_init,
        beat_prepare,
        {{"", beat_fib}, {"u64", beat_fib_u64}},
        {{"", beat_tree}, {"u64", beat_tree_u64}},
        {{"submit", beat_tasks_submit},
         {"batch", beat_tasks_batch},
         {"submit2", beat_tasks_submit2}},
        beat_sum,
        beat_map,
        beat_region,
        beat_idle_create,
        beat_wake_start,
        beat_wake_try,
        beat_wake_stop,
        beat_only,
        WL_COUNT(beat_only),
    };
    int rc = bench_main(argc, argv, &beat);
    tasks_helper_stop();
    destroy_pools();
    return rc;
}
