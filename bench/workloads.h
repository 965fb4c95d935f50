// The workloads of ../shared/BENCHMARKS.md, shared by every contestant so
// that "same algorithm and leaf code for every contestant" holds by
// construction: the data, the leaf functions, the serial baseline, the
// known answers and the checks live here; a contestant (beat_bench.c,
// omp_bench.c, tbb_bench.cpp) only fills a bench_contestant with the
// parallel calls. Include after bench.h, in one file per program.
#ifndef WORKLOADS_H_INCLUDED
#define WORKLOADS_H_INCLUDED

#include "bench.h"

#define WL_NOINLINE __attribute__((noinline))
#define WL_COUNT(a) (sizeof(a) / sizeof((a)[0]))

// ---------------------------------------------------------------------------
// Leaf code

// fib: the plain recursion. gcc -O2 turns part of it into a loop, which is
// the honest baseline a user compares with.
static uint64_t fib_serial(int n)
{
    return n < 2 ? (uint64_t)n : fib_serial(n - 1) + fib_serial(n - 2);
}

static uint64_t fib_expected(int n)
{
    uint64_t a = 0, b = 1;
    for (int i = 0; i < n; i++) {
        uint64_t next = a + b;
        a = b;
        b = next;
    }
    return a;
}

// tree: Spice's tree-sum. Nodes are allocated contiguously in pre-order.
typedef struct tree_node {
    int64_t value;
    struct tree_node *left, *right;
} tree_node;

static tree_node *tree_build(tree_node *nodes, size_t *next, int64_t from, int64_t to)
{
    tree_node *node = &nodes[(*next)++];
    node->value = from + (to - from) / 2;
    node->left = node->value > from ? tree_build(nodes, next, from, node->value - 1) : NULL;
    node->right = node->value < to ? tree_build(nodes, next, node->value + 1, to) : NULL;
    return node;
}

static int64_t tree_sum_serial(const tree_node *node)
{
    int64_t sum = node->value;
    if (node->left != NULL)
        sum += tree_sum_serial(node->left);
    if (node->right != NULL)
        sum += tree_sum_serial(node->right);
    return sum;
}

// tasks: a dependent chain of 64-bit LCG steps. A step is a multiply and an
// add, 3 + 1 cycles of latency, but the CPU overlaps the chain of one short
// task with the next, so a task of C cycles needs more than C / 4 steps.
// The standard sizes use step counts measured with `beat_bench calibrate`
// on the reference 2-vCPU machine (serial loop, core clock estimated from a
// long chain): 22 steps = ~50 cycles, 130 = ~500, 1250 = ~5,000. Other
// sizes (--size) use C / 4. `calibrate` reports what the sizes come to on
// the machine at hand. Not inlined, so the serial loop makes the same call
// per task that a worker makes.
#define SPIN_CYCLES_PER_STEP 4
static WL_NOINLINE uint64_t spin(uint64_t iters, uint64_t seed)
{
    uint64_t x = seed;
    for (uint64_t k = 0; k < iters; k++)
        x = x * 6364136223846793005u + 1442695040888963407u;
    return x;
}

static uint64_t spin_iters(long cycles)
{
    switch (cycles) {
    case 50:
        return 22;
    case 500:
        return 130;
    case 5000:
        return 1250;
    default:
        return (uint64_t)cycles / SPIN_CYCLES_PER_STEP;
    }
}

static void tasks_serial(uint64_t *out, size_t n, uint64_t iters)
{
    for (size_t i = 0; i < n; i++)
        out[i] = spin(iters, i);
}

// Position-weighted, so a result written to the wrong slot is caught too.
static uint64_t tasks_checksum(const uint64_t *out, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += out[i] * (2 * (uint64_t)i + 1);
    return sum;
}

// sum: integer-valued quarters, so every order of addition gives the exact
// same double and the parallel result can be compared with ==.
static inline double sum_value(size_t i) { return (double)(i & 1023) * 0.25; }

static double sum_expected(size_t n)
{
    uint64_t blocks = n / 1024, rest = n % 1024;
    uint64_t quarters = blocks * (1023 * 1024 / 2) + (rest > 0 ? rest * (rest - 1) / 2 : 0);
    return (double)quarters * 0.25;
}

static WL_NOINLINE double sum_range(const double *x, size_t begin, size_t end)
{
    double sum = 0;
    for (size_t i = begin; i < end; i++)
        sum += x[i];
    return sum;
}

// map: compute-bound, the same per-element code everywhere, so the results
// are bitwise equal to the serial ones.
static inline double map_value(size_t i) { return (double)i * 1e-3 + 0.5; }
static inline double map_elem(double x) { return sqrt(x) * sin(x); }

static WL_NOINLINE void map_range(const double *x, double *y, size_t begin, size_t end)
{
    for (size_t i = begin; i < end; i++)
        y[i] = map_elem(x[i]);
}

// regions: one region maps REGION_ELEMS elements (about 100 us serial on the
// reference 2-vCPU machine; `beat_bench calibrate` reports the actual time)
// and counts each element, so the check proves every region ran.
#define REGION_ELEMS 6144
typedef struct region_data {
    const double *x;
    double *y;
    uint32_t *count;
    size_t n;
} region_data;

static WL_NOINLINE void region_kernel(const region_data *d, size_t begin, size_t end)
{
    for (size_t i = begin; i < end; i++) {
        d->y[i] = map_elem(d->x[i]);
        d->count[i]++;
    }
}

// ---------------------------------------------------------------------------
// What a contestant provides. w is the number of workers (>= 1); every call
// returns when the work has finished. NULL = not implemented.

typedef struct bench_contestant bench_contestant;

typedef struct bench_tasks_way {
    const char *variant; // e.g. "submit", "batch", "submit2"
    void (*run)(uint64_t *out, size_t n, uint64_t iters, unsigned w);
} bench_tasks_way;

// fib and tree may be measured in more than one way (beat: beat_pcall on
// argument structs, and beat_pcall_u64 on values); variant "" is the plain
// one, a NULL run ends the list.
typedef struct bench_fib_way {
    const char *variant;
    uint64_t (*run)(int n, unsigned w);
} bench_fib_way;

typedef struct bench_tree_way {
    const char *variant;
    int64_t (*run)(const tree_node *root, unsigned w);
} bench_tree_way;

typedef struct bench_workload {
    const char *name;
    void (*run)(const bench_opts *o, bench_out *out, const bench_contestant *c);
    const char *what; // one line for --list
} bench_workload;

struct bench_contestant {
    const char *name;    // "beat", "omp", "tbb"
    const char *runtime; // version
    // Takes the options before anything runs (optional).
    void (*init)(const bench_opts *o);
    // Creates and warms the pools for o->workers (outside every timer).
    void (*prepare)(const bench_opts *o);
    bench_fib_way fib[2];
    bench_tree_way tree[2];
    bench_tasks_way tasks[3];
    double (*sum)(const double *x, size_t n, unsigned w);
    void (*map)(const double *x, double *y, size_t n, unsigned w);
    void (*region)(const region_data *d, unsigned w); // region_kernel over [0, d->n)
    // idle: brings up a 2-worker pool (in a fresh process), nothing else.
    void (*idle_create)(void);
    // wake: start makes an idle 2-worker pool; try submits one task, waits
    // for it, and returns the seconds from just before the submit to the
    // task's start.
    void (*wake_start)(void);
    double (*wake_try)(void);
    void (*wake_stop)(void);
    const bench_workload *extra; // workloads only this contestant has
    size_t nextra;
};

// A sample of `reps` calls timed one by one, with untimed preparation and
// checking around each: for calls that write large arrays.
typedef struct wl_calls {
    void (*prepare)(void *state);
    void (*call)(void *state, unsigned w); // w == 0: serial
    void (*check)(void *state, unsigned w);
} wl_calls;

static double wl_time_calls(const wl_calls *k, void *state, unsigned w, unsigned reps)
{
    double total = 0;
    for (unsigned r = 0; r < reps; r++) {
        if (k->prepare != NULL)
            k->prepare(state);
        double t0 = bench_now();
        k->call(state, w);
        total += bench_now() - t0;
        k->check(state, w);
    }
    return total / reps;
}

static void wl_prepare(const bench_opts *o, const bench_contestant *c)
{
    if (c->prepare != NULL && o->nworkers > 0)
        c->prepare(o);
}

// ---------------------------------------------------------------------------
// fib

typedef struct fib_state {
    const bench_fib_way *way;
    int n;
    uint64_t expect;
} fib_state;

static double fib_sample(void *p, unsigned w, unsigned reps)
{
    fib_state *s = (fib_state *)p;
    double t0 = bench_now();
    for (unsigned r = 0; r < reps; r++) {
        int n = s->n;
        BENCH_OPAQUE(n);
        uint64_t v = w == 0 ? fib_serial(n) : s->way->run(n, w);
        if (v != s->expect)
            bench_wrong("fib", "fib(%d) = %llu with %u workers, expected %llu", s->n,
                        (unsigned long long)v, w, (unsigned long long)s->expect);
    }
    return (bench_now() - t0) / reps;
}

static void wl_fib(const bench_opts *o, bench_out *out, const bench_contestant *c)
{
    static const long full[] = {30, 35, 40}, quick[] = {20, 25};
    long sizes[8];
    size_t n = bench_sizes(o, full, WL_COUNT(full), quick, WL_COUNT(quick), sizes);
    wl_prepare(o, c);
    for (size_t i = 0; i < n; i++) {
        char label[32];
        snprintf(label, sizeof label, "n=%ld", sizes[i]);
        for (size_t k = 0; k < WL_COUNT(c->fib) && c->fib[k].run != NULL; k++) {
            fib_state s = {&c->fib[k], (int)sizes[i], fib_expected((int)sizes[i])};
            bench_ratio_case(o, out, "fib", label, c->fib[k].variant, fib_sample, &s, 0);
        }
    }
}

// ---------------------------------------------------------------------------
// tree

typedef struct tree_state {
    const bench_tree_way *way;
    const tree_node *root;
    int64_t expect;
} tree_state;

static double tree_sample(void *p, unsigned w, unsigned reps)
{
    tree_state *s = (tree_state *)p;
    double t0 = bench_now();
    for (unsigned r = 0; r < reps; r++) {
        const tree_node *root = s->root;
        BENCH_OPAQUE(root);
        int64_t v = w == 0 ? tree_sum_serial(root) : s->way->run(root, w);
        if (v != s->expect)
            bench_wrong("tree", "sum = %lld with %u workers, expected %lld", (long long)v, w,
                        (long long)s->expect);
    }
    return (bench_now() - t0) / reps;
}

static void wl_tree(const bench_opts *o, bench_out *out, const bench_contestant *c)
{
    static const long full[] = {1023, 65535, 10000000}, quick[] = {1023, 65535};
    long sizes[8];
    size_t n = bench_sizes(o, full, WL_COUNT(full), quick, WL_COUNT(quick), sizes);
    wl_prepare(o, c);
    for (size_t i = 0; i < n; i++) {
        size_t count = (size_t)sizes[i], next = 0;
        tree_node *nodes = (tree_node *)bench_alloc(count * sizeof *nodes);
        const tree_node *root = tree_build(nodes, &next, 0, (int64_t)count - 1);
        char label[32];
        snprintf(label, sizeof label, "N=%zu", count);
        for (size_t k = 0; k < WL_COUNT(c->tree) && c->tree[k].run != NULL; k++) {
            tree_state s = {&c->tree[k], root, (int64_t)count * ((int64_t)count - 1) / 2};
            bench_ratio_case(o, out, "tree", label, c->tree[k].variant, tree_sample, &s, 0);
        }
        free(nodes);
    }
}

// ---------------------------------------------------------------------------
// tasks

typedef struct tasks_state {
    const bench_tasks_way *way;
    uint64_t *out;
    size_t n;
    uint64_t iters;
    uint64_t expect; // tasks_checksum of the serial result
} tasks_state;

static void tasks_clear(void *p)
{
    tasks_state *s = (tasks_state *)p;
    memset(s->out, 0, s->n * sizeof *s->out);
}

static void tasks_call(void *p, unsigned w)
{
    tasks_state *s = (tasks_state *)p;
    uint64_t iters = s->iters;
    BENCH_OPAQUE(iters);
    if (w == 0)
        tasks_serial(s->out, s->n, iters);
    else
        s->way->run(s->out, s->n, iters, w);
}

static void tasks_check(void *p, unsigned w)
{
    tasks_state *s = (tasks_state *)p;
    uint64_t got = tasks_checksum(s->out, s->n);
    if (got != s->expect)
        bench_wrong("tasks", "%s with %u workers: checksum %llx, expected %llx", s->way->variant, w,
                    (unsigned long long)got, (unsigned long long)s->expect);
}

static double tasks_sample(void *p, unsigned w, unsigned reps)
{
    static const wl_calls calls = {tasks_clear, tasks_call, tasks_check};
    return wl_time_calls(&calls, p, w, reps);
}

static void wl_tasks(const bench_opts *o, bench_out *out, const bench_contestant *c)
{
    static const long full[] = {50, 500, 5000}, quick[] = {50, 500, 5000};
    long cycles[8];
    size_t ncases = bench_sizes(o, full, WL_COUNT(full), quick, WL_COUNT(quick), cycles);
    size_t n = o->quick ? 100000 : 1000000;
    uint64_t *buf = (uint64_t *)bench_alloc(n * sizeof *buf);
    wl_prepare(o, c);
    for (size_t i = 0; i < ncases; i++) {
        uint64_t iters = spin_iters(cycles[i]);
        tasks_serial(buf, n, iters);
        if (buf[n - 1] != spin(iters, n - 1))
            bench_wrong("tasks", "serial reference is inconsistent");
        uint64_t expect = tasks_checksum(buf, n);
        for (size_t k = 0; k < WL_COUNT(c->tasks); k++) {
            if (c->tasks[k].run == NULL)
                continue;
            tasks_state s = {&c->tasks[k], buf, n, iters, expect};
            char label[48];
            snprintf(label, sizeof label, "%ldcyc x%zu", cycles[i], n);
            bench_ratio_case(o, out, "tasks", label, c->tasks[k].variant, tasks_sample, &s, 1);
        }
    }
    free(buf);
}

// ---------------------------------------------------------------------------
// sum

typedef struct sum_state {
    const bench_contestant *c;
    const double *x;
    size_t n;
    double expect;
} sum_state;

static double sum_sample(void *p, unsigned w, unsigned reps)
{
    sum_state *s = (sum_state *)p;
    double t0 = bench_now();
    for (unsigned r = 0; r < reps; r++) {
        const double *x = s->x;
        BENCH_OPAQUE(x);
        double v = w == 0 ? sum_range(x, 0, s->n) : s->c->sum(x, s->n, w);
        if (v != s->expect)
            bench_wrong("sum", "%.17g with %u workers, expected %.17g", v, w, s->expect);
    }
    return (bench_now() - t0) / reps;
}

static void wl_sum(const bench_opts *o, bench_out *out, const bench_contestant *c)
{
    static const long full[] = {100000000}, quick[] = {1000000};
    long sizes[4];
    size_t ncases = bench_sizes(o, full, 1, quick, 1, sizes);
    wl_prepare(o, c);
    for (size_t i = 0; i < ncases; i++) {
        size_t n = (size_t)sizes[i];
        double *x = (double *)bench_alloc(n * sizeof *x);
        for (size_t k = 0; k < n; k++)
            x[k] = sum_value(k);
        sum_state s = {c, x, n, sum_expected(n)};
        char label[32];
        snprintf(label, sizeof label, "N=%zu", n);
        bench_ratio_case(o, out, "sum", label, "", sum_sample, &s, 0);
        free(x);
    }
}

// ---------------------------------------------------------------------------
// map

typedef struct map_state {
    const bench_contestant *c;
    const double *x;
    double *y;
    const double *expect; // serial result
    size_t n;
} map_state;

static void map_clear(void *p)
{
    map_state *s = (map_state *)p;
    memset(s->y, 0, s->n * sizeof *s->y);
}

static void map_call(void *p, unsigned w)
{
    map_state *s = (map_state *)p;
    const double *x = s->x;
    BENCH_OPAQUE(x);
    if (w == 0)
        map_range(x, s->y, 0, s->n);
    else
        s->c->map(x, s->y, s->n, w);
}

static void map_check(void *p, unsigned w)
{
    map_state *s = (map_state *)p;
    if (memcmp(s->y, s->expect, s->n * sizeof *s->y) != 0)
        bench_wrong("map", "result with %u workers differs from the serial one", w);
}

static double map_sample(void *p, unsigned w, unsigned reps)
{
    static const wl_calls calls = {map_clear, map_call, map_check};
    return wl_time_calls(&calls, p, w, reps);
}

static void wl_map(const bench_opts *o, bench_out *out, const bench_contestant *c)
{
    static const long full[] = {10000000}, quick[] = {1000000};
    long sizes[4];
    size_t ncases = bench_sizes(o, full, 1, quick, 1, sizes);
    wl_prepare(o, c);
    for (size_t i = 0; i < ncases; i++) {
        size_t n = (size_t)sizes[i];
        double *x = (double *)bench_alloc(n * sizeof *x);
        double *y = (double *)bench_alloc(n * sizeof *y);
        double *expect = (double *)bench_alloc(n * sizeof *expect);
        for (size_t k = 0; k < n; k++)
            x[k] = map_value(k);
        map_range(x, expect, 0, n);
        map_state s = {c, x, y, expect, n};
        char label[32];
        snprintf(label, sizeof label, "N=%zu", n);
        bench_ratio_case(o, out, "map", label, "", map_sample, &s, 0);
        free(x);
        free(y);
        free(expect);
    }
}

// ---------------------------------------------------------------------------
// regions

typedef struct regions_state {
    const bench_contestant *c;
    region_data d;
    const double *expect;
    size_t regions;
} regions_state;

static void regions_clear(void *p)
{
    regions_state *s = (regions_state *)p;
    memset(s->d.y, 0, s->d.n * sizeof *s->d.y);
    memset(s->d.count, 0, s->d.n * sizeof *s->d.count);
}

static void regions_call(void *p, unsigned w)
{
    regions_state *s = (regions_state *)p;
    for (size_t r = 0; r < s->regions; r++) {
        const region_data *d = &s->d;
        BENCH_OPAQUE(d); // each region is a fresh call the compiler cannot merge
        if (w == 0)
            region_kernel(d, 0, d->n);
        else
            s->c->region(d, w);
    }
}

static void regions_check(void *p, unsigned w)
{
    regions_state *s = (regions_state *)p;
    for (size_t i = 0; i < s->d.n; i++)
        if (s->d.count[i] != s->regions || s->d.y[i] != s->expect[i])
            bench_wrong("regions", "element %zu with %u workers: ran %u of %zu times", i, w,
                        s->d.count[i], s->regions);
}

static double regions_sample(void *p, unsigned w, unsigned reps)
{
    static const wl_calls calls = {regions_clear, regions_call, regions_check};
    return wl_time_calls(&calls, p, w, reps);
}

static void wl_regions(const bench_opts *o, bench_out *out, const bench_contestant *c)
{
    static const long full[] = {10000}, quick[] = {500};
    long sizes[4];
    size_t ncases = bench_sizes(o, full, 1, quick, 1, sizes);
    size_t n = REGION_ELEMS;
    double *x = (double *)bench_alloc(n * sizeof *x);
    double *y = (double *)bench_alloc(n * sizeof *y);
    double *expect = (double *)bench_alloc(n * sizeof *expect);
    uint32_t *count = (uint32_t *)bench_alloc(n * sizeof *count);
    for (size_t k = 0; k < n; k++)
        x[k] = map_value(k);
    map_range(x, expect, 0, n);
    wl_prepare(o, c);
    for (size_t i = 0; i < ncases; i++) {
        regions_state s = {c, {x, y, count, n}, expect, (size_t)sizes[i]};
        char label[48];
        snprintf(label, sizeof label, "%ld x %zu elems", sizes[i], n);
        bench_ratio_case(o, out, "regions", label, "", regions_sample, &s, 0);
    }
    free(x);
    free(y);
    free(expect);
    free(count);
}

// ---------------------------------------------------------------------------
// idle: CPU time the pool's threads burn while the program sleeps

typedef struct idle_state {
    const bench_contestant *c;
    double window; // seconds
} idle_state;

// CPU seconds used by every thread but the caller while the caller sleeps.
// The two clocks are read at slightly different instants, so an idle pool
// can come out a few ns below zero: that is 0.
static double idle_others_cpu(double window)
{
    double process0 = bench_process_cpu(), self0 = bench_thread_cpu();
    bench_sleep(window);
    double others = (bench_process_cpu() - process0) - (bench_thread_cpu() - self0);
    return others > 0 ? others : 0;
}

// In a fresh process: create, measure, run a job, measure.
static void idle_child(void *p, double *values)
{
    idle_state *s = (idle_state *)p;
    size_t n = 1 << 20;
    double *x = (double *)bench_alloc(n * sizeof *x);
    double *y = (double *)bench_alloc(n * sizeof *y);
    double *expect = (double *)bench_alloc(n * sizeof *expect);
    for (size_t k = 0; k < n; k++)
        x[k] = map_value(k);
    map_range(x, expect, 0, n);
    s->c->idle_create();
    values[0] = idle_others_cpu(s->window) * 1e3;
    s->c->map(x, y, n, 2);
    if (memcmp(y, expect, n * sizeof *y) != 0)
        bench_wrong("idle", "the job computed a wrong map");
    values[1] = idle_others_cpu(s->window) * 1e3;
}

typedef struct idle_round_state {
    idle_state s;
    unsigned m_create, m_job, m_psi;
} idle_round_state;

static void idle_round(void *p, unsigned round, bench_round_values *out)
{
    idle_round_state *r = (idle_round_state *)p;
    (void)round;
    double values[2];
    bench_psi_window w = bench_psi_begin();
    if (bench_in_child(idle_child, &r->s, values, 2) != 0)
        bench_die("idle: the measuring child process failed");
    out->gate_psi = bench_psi_end(w);
    out->v[r->m_create] = values[0];
    out->v[r->m_job] = values[1];
    out->v[r->m_psi] = out->gate_psi < 0 ? NAN : out->gate_psi * 100;
}

static void wl_idle(const bench_opts *o, bench_out *out, const bench_contestant *c)
{
    static const long full[] = {2000}, quick[] = {300};
    long ms[2];
    bench_sizes(o, full, 1, quick, 1, ms);
    static bench_case bc;
    char label[48];
    snprintf(label, sizeof label, "2 workers, %ld ms", ms[0]);
    bench_case_init(&bc, "idle", label, "");
    idle_round_state r;
    r.s.c = c;
    r.s.window = (double)ms[0] * 1e-3;
    r.m_create = bench_case_metric(&bc, "after_create", "ms");
    r.m_job = bench_case_metric(&bc, "after_job", "ms");
    r.m_psi = bench_case_metric(&bc, "foreign_psi", "%");
    snprintf(bc.note, sizeof bc.note,
             "CPU of all threads but the sleeping main one; each round "
             "in a fresh process");
    bench_run_rounds(o, out, &bc, idle_round, &r);
}

// ---------------------------------------------------------------------------
// wake: one task into an idle pool, latency to its start

typedef struct wake_state {
    const bench_contestant *c;
    size_t tries;
    double *latency;
    unsigned m_median, m_p90, m_cpu, m_psi;
} wake_state;

static void wake_round(void *p, unsigned round, bench_round_values *out)
{
    wake_state *s = (wake_state *)p;
    (void)round;
    bench_psi_window w = bench_psi_begin();
    double cpu0 = bench_process_cpu();
    for (size_t i = 0; i < s->tries; i++) {
        bench_sleep(1e-3); // long enough for the workers to go idle again
        s->latency[i] = s->c->wake_try();
    }
    double cpu = bench_process_cpu() - cpu0;
    double wall = bench_now() - w.wall;
    out->gate_psi = bench_psi_end(w);
    out->v[s->m_median] = bench_percentile(s->latency, s->tries, 50) * 1e6;
    out->v[s->m_p90] = bench_percentile(s->latency, s->tries, 90) * 1e6;
    out->v[s->m_cpu] = 100.0 * cpu / wall;
    out->v[s->m_psi] = out->gate_psi < 0 ? NAN : out->gate_psi * 100;
}

static void wl_wake(const bench_opts *o, bench_out *out, const bench_contestant *c)
{
    static const long full[] = {1000}, quick[] = {100};
    long tries[2];
    bench_sizes(o, full, 1, quick, 1, tries);
    static bench_case bc;
    char label[32];
    snprintf(label, sizeof label, "%ld tries", tries[0]);
    bench_case_init(&bc, "wake", label, "");
    wake_state s;
    s.c = c;
    s.tries = (size_t)tries[0];
    s.latency = (double *)bench_alloc(s.tries * sizeof *s.latency);
    s.m_median = bench_case_metric(&bc, "median", "us");
    s.m_p90 = bench_case_metric(&bc, "p90", "us");
    s.m_cpu = bench_case_metric(&bc, "cpu", "%");
    s.m_psi = bench_case_metric(&bc, "foreign_psi", "%");
    snprintf(bc.note, sizeof bc.note,
             "2 workers; 1 ms sleep between tries; cpu = process CPU "
             "time / wall time over the tries");
    c->wake_start();
    bench_run_rounds(o, out, &bc, wake_round, &s);
    c->wake_stop();
    free(s.latency);
}

// ---------------------------------------------------------------------------
// calibrate: the machine facts behind the workload sizes (not a contest)

typedef struct calib_state {
    unsigned m_ghz, m_step, m_task[3], m_region;
} calib_state;

// Nanoseconds of one spin(iters) call in a loop like tasks_serial, the
// best of a few batches.
static double calib_spin_ns(uint64_t iters, size_t calls)
{
    double best = 1e300;
    for (int batch = 0; batch < 5; batch++) {
        uint64_t acc = 0;
        double t0 = bench_now();
        for (size_t i = 0; i < calls; i++) {
            uint64_t it = iters;
            BENCH_OPAQUE(it);
            acc += spin(it, i);
        }
        double per = (bench_now() - t0) * 1e9 / (double)calls;
        bench_sink_u64(acc);
        best = per < best ? per : best;
    }
    return best;
}

static double calib_region_us(void)
{
    size_t n = REGION_ELEMS;
    double *x = (double *)bench_alloc(n * sizeof *x), *y = (double *)bench_alloc(n * sizeof *y);
    uint32_t *count = (uint32_t *)bench_alloc(n * sizeof *count);
    for (size_t k = 0; k < n; k++)
        x[k] = map_value(k);
    region_data d = {x, y, count, n};
    double best = 1e300;
    for (int batch = 0; batch < 5; batch++) {
        double t0 = bench_now();
        for (int r = 0; r < 100; r++) {
            const region_data *dp = &d;
            BENCH_OPAQUE(dp);
            region_kernel(dp, 0, n);
        }
        double per = (bench_now() - t0) / 100 * 1e6;
        best = per < best ? per : best;
    }
    free(x);
    free(y);
    free(count);
    return best;
}

// The core clock comes from a long chain, which runs at the latency of a
// step (SPIN_CYCLES_PER_STEP cycles); task sizes are then in core cycles.
static void calib_round(void *p, unsigned round, bench_round_values *out)
{
    calib_state *s = (calib_state *)p;
    static const long cycles[3] = {50, 500, 5000};
    (void)round;
    bench_psi_window w = bench_psi_begin();
    double step_ns = calib_spin_ns(1000000, 20) / 1000000;
    double ghz = SPIN_CYCLES_PER_STEP / step_ns;
    out->v[s->m_ghz] = ghz;
    out->v[s->m_step] = step_ns;
    for (int i = 0; i < 3; i++)
        out->v[s->m_task[i]] = calib_spin_ns(spin_iters(cycles[i]), 200000 / (size_t)(i + 1)) * ghz;
    out->v[s->m_region] = calib_region_us();
    out->gate_psi = bench_psi_end(w);
}

static void wl_calibrate(const bench_opts *o, bench_out *out, const bench_contestant *c)
{
    static bench_case bc;
    calib_state s;
    (void)c;
    bench_case_init(&bc, "calibrate", "machine", "");
    s.m_ghz = bench_case_metric(&bc, "core_GHz", "GHz");
    s.m_step = bench_case_metric(&bc, "lcg_step", "ns");
    s.m_task[0] = bench_case_metric(&bc, "task_50", "cyc");
    s.m_task[1] = bench_case_metric(&bc, "task_500", "cyc");
    s.m_task[2] = bench_case_metric(&bc, "task_5000", "cyc");
    s.m_region = bench_case_metric(&bc, "region", "us");
    snprintf(bc.note, sizeof bc.note,
             "core_GHz = %d cycles / lcg_step of a long chain; task_C = core cycles of one task "
             "sized for C in a serial loop; region = one serial region of %d elements",
             SPIN_CYCLES_PER_STEP, REGION_ELEMS);
    bench_run_rounds(o, out, &bc, calib_round, &s);
}

// ---------------------------------------------------------------------------
// The program

static const bench_workload wl_table[] = {
    {"fib", wl_fib, "fib(n), fork+join at every level; n = 30, 35, 40"},
    {"tree", wl_tree, "Spice's tree-sum; N = 1,023 / 65,535 / 10,000,000"},
    {"tasks", wl_tasks, "1,000,000 independent tasks of ~50 / 500 / 5,000 cycles"},
    {"sum", wl_sum, "parallel reduce: sum of 100,000,000 doubles"},
    {"map", wl_map, "parallel for: y = sqrt(x) sin(x) over 10,000,000 doubles"},
    {"idle", wl_idle, "CPU burnt by an idle 2-worker pool in 2 s"},
    {"wake", wl_wake, "latency of one task submitted to an idle pool"},
    {"regions", wl_regions, "10,000 back-to-back parallel regions of ~100 us"},
    {"calibrate", wl_calibrate, "machine facts behind the sizes (not a contest)"},
};

// Whether c implements the shared workload w.
static int wl_supported(const bench_contestant *c, const bench_workload *w)
{
    const char *n = w->name;
    if (strcmp(n, "fib") == 0)
        return c->fib[0].run != NULL;
    if (strcmp(n, "tree") == 0)
        return c->tree[0].run != NULL;
    if (strcmp(n, "tasks") == 0)
        return c->tasks[0].run != NULL;
    if (strcmp(n, "sum") == 0)
        return c->sum != NULL;
    if (strcmp(n, "map") == 0)
        return c->map != NULL;
    if (strcmp(n, "idle") == 0)
        return c->idle_create != NULL && c->map != NULL;
    if (strcmp(n, "wake") == 0)
        return c->wake_try != NULL;
    if (strcmp(n, "regions") == 0)
        return c->region != NULL;
    return 1;
}

static const bench_workload *wl_find(const bench_contestant *c, const char *name)
{
    for (size_t i = 0; i < WL_COUNT(wl_table); i++)
        if (strcmp(wl_table[i].name, name) == 0 && wl_supported(c, &wl_table[i]))
            return &wl_table[i];
    for (size_t i = 0; i < c->nextra; i++)
        if (strcmp(c->extra[i].name, name) == 0)
            return &c->extra[i];
    return NULL;
}

static void wl_list(const bench_contestant *c, char *buf, size_t size, int verbose)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < WL_COUNT(wl_table) + c->nextra; i++) {
        const bench_workload *w =
            i < WL_COUNT(wl_table) ? &wl_table[i] : &c->extra[i - WL_COUNT(wl_table)];
        if (!wl_supported(c, w) || used >= size)
            continue;
        if (verbose)
            used += (size_t)snprintf(buf + used, size - used, "%s\t%s\n", w->name, w->what);
        else
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? " " : "", w->name);
    }
}

// main() of every benchmark program.
static int bench_main(int argc, char **argv, const bench_contestant *c)
{
    char names[512], listing[2048];
    bench_opts o;
    wl_list(c, names, sizeof names, 0);
    if (bench_parse_args(argc, argv, &o, names)) {
        wl_list(c, listing, sizeof listing, 1);
        fputs(listing, stdout);
        return 0;
    }
    if (c->init != NULL)
        c->init(&o);
    const bench_workload *w = wl_find(c, o.workload);
    if (w == NULL) {
        fprintf(stderr, "%s: workload '%s' is not implemented (have: %s)\n", c->name, o.workload,
                names);
        return 3;
    }
    bench_out out;
    bench_out_open(&out, &o, c->name, c->runtime);
    w->run(&o, &out, c);
    bench_out_close(&out);
    return 0;
}

#endif // WORKLOADS_H_INCLUDED
