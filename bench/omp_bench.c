// OpenMP's side of the benchmarks (gcc -fopenmp: libgomp): the shared
// workloads of workloads.h with tasks, parallel regions and reductions.
// Same leaf code, checks and output as beat_bench.
//
// Worker counts: a team of w threads, the calling thread included (it is
// thread 0 of every region), so "w workers" means w threads computing, as
// in Beat's pool of w (whose caller blocks).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <omp.h>

#include "workloads.h"

#define OMP_STR_(x) #x
#define OMP_STR(x) OMP_STR_(x)

static void omp_init(const bench_opts *o)
{
    (void)o;
    omp_set_dynamic(0); // teams of exactly the size asked for
}

// Starts the largest team once, outside every timer; libgomp keeps the
// threads for the later regions.
static void omp_prepare(const bench_opts *o)
{
    unsigned most = 1;
    for (unsigned i = 0; i < o->nworkers; i++)
        most = o->workers[i] > most ? o->workers[i] : most;
#pragma omp parallel num_threads(most)
    {
    }
}

// The contiguous block of [0, n) of the calling thread: what
// schedule(static) hands out, written out so that the shared range leaves
// (sum_range, map_range, region_kernel) run unchanged.
static void omp_my_block(size_t n, size_t *begin, size_t *end)
{
    size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
    *begin = n * t / nt;
    *end = n * (t + 1) / nt;
}

// ---------------------------------------------------------------------------
// fib and tree: a task for the second half, the first inline, taskwait
// (Beat's pcall shape: b stealable while a runs)

static uint64_t fib_task(int n)
{
    if (n < 2)
        return (uint64_t)n;
    uint64_t x, y;
#pragma omp task shared(y)
    y = fib_task(n - 2);
    x = fib_task(n - 1);
#pragma omp taskwait
    return x + y;
}

static uint64_t omp_fib(int n, unsigned w)
{
    uint64_t result = 0;
#pragma omp parallel num_threads(w)
#pragma omp single
    result = fib_task(n);
    return result;
}

static int64_t tree_task(const tree_node *node)
{
    int64_t sum = node->value;
    if (node->left != NULL && node->right != NULL) {
        int64_t right;
#pragma omp task shared(right)
        right = tree_task(node->right); // fork(right)
        sum += tree_task(node->left);   // call(left)
#pragma omp taskwait
        sum += right; // join
    } else if (node->left != NULL) {
        sum += tree_task(node->left);
    } else if (node->right != NULL) {
        sum += tree_task(node->right);
    }
    return sum;
}

static int64_t omp_tree(const tree_node *root, unsigned w)
{
    int64_t result = 0;
#pragma omp parallel num_threads(w)
#pragma omp single
    result = tree_task(root);
    return result;
}

// ---------------------------------------------------------------------------
// tasks: one thread creates every task (omp single), the team runs them

static void omp_tasks(uint64_t *out, size_t n, uint64_t iters, unsigned w)
{
#pragma omp parallel num_threads(w)
#pragma omp single
    for (size_t i = 0; i < n; i++) {
#pragma omp task firstprivate(i)
        out[i] = spin(iters, i);
    }
}

// ---------------------------------------------------------------------------
// sum, map, regions

static double omp_sum(const double *x, size_t n, unsigned w)
{
    double sum = 0;
#pragma omp parallel num_threads(w) reduction(+ : sum)
    {
        size_t begin, end;
        omp_my_block(n, &begin, &end);
        sum += sum_range(x, begin, end);
    }
    return sum;
}

static void omp_map(const double *x, double *y, size_t n, unsigned w)
{
#pragma omp parallel num_threads(w)
    {
        size_t begin, end;
        omp_my_block(n, &begin, &end);
        map_range(x, y, begin, end);
    }
}

static void omp_region(const region_data *d, unsigned w)
{
#pragma omp parallel num_threads(w)
    {
        size_t begin, end;
        omp_my_block(d->n, &begin, &end);
        region_kernel(d, begin, end);
    }
}

// ---------------------------------------------------------------------------
// idle and wake: a team of 2. OpenMP has no pool to submit to; the nearest
// thing is a region, and the latency is until thread 1 starts in it.

static void omp_idle_create(void)
{
#pragma omp parallel num_threads(2)
    {
    }
}

static void omp_wake_start(void) { omp_idle_create(); }

static double omp_wake_try(void)
{
    double started = 0;
    int team = 0;
    double t0 = bench_now();
#pragma omp parallel num_threads(2)
    {
        if (omp_get_thread_num() == 1) {
            started = bench_now();
            team = omp_get_num_threads();
        }
    }
    if (started == 0 || team != 2)
        bench_wrong("wake", "the region had no second thread");
    return started - t0;
}

static void omp_wake_stop(void) {}

int main(int argc, char **argv)
{
    static const bench_contestant omp = {
        "omp",
        "libgomp, OpenMP " OMP_STR(_OPENMP),
        omp_init,
        omp_prepare,
        {{"", omp_fib}, {NULL, NULL}},
        {{"", omp_tree}, {NULL, NULL}},
        {{"task", omp_tasks}, {NULL, NULL}},
        omp_sum,
        omp_map,
        omp_region,
        omp_idle_create,
        omp_wake_start,
        omp_wake_try,
        omp_wake_stop,
        NULL,
        0,
    };
    return bench_main(argc, argv, &omp);
}
