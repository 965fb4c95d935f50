// oneTBB's side of the benchmarks: the shared workloads of workloads.h with
// parallel_invoke, task_group, parallel_for and parallel_reduce, each run in
// a task_arena of w slots. Same leaf code, checks and output as beat_bench.
//
// Worker counts: an arena of w slots that the calling thread enters
// (execute), so "w workers" means w threads computing, as in Beat's pool of
// w (whose caller blocks). Built only where libtbb-dev is installed.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#if __has_include(<oneapi/tbb.h>)
#include <oneapi/tbb.h>
#else
#include <tbb/tbb.h>
#endif

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

#include "workloads.h"

// ---------------------------------------------------------------------------
// Arenas: one per worker count, created outside every timer

static tbb::task_arena *arenas[1025];
static std::unique_ptr<tbb::global_control> thread_limit;

// TBB starts hardware_concurrency - 1 workers unless told otherwise; allow
// enough for the largest arena (plus the submitting thread for wake).
static void allow_threads(unsigned threads)
{
    unsigned hw = (unsigned)tbb::info::default_concurrency();
    unsigned limit = threads > hw ? threads : hw;
    thread_limit.reset(
        new tbb::global_control(tbb::global_control::max_allowed_parallelism, limit));
}

static tbb::task_arena &arena_for(unsigned w)
{
    if (arenas[w] == nullptr) {
        arenas[w] = new tbb::task_arena((int)w); // one slot reserved for the caller
        arenas[w]->initialize();
    }
    return *arenas[w];
}

static void tbb_prepare(const bench_opts *o)
{
    unsigned most = 1;
    for (unsigned i = 0; i < o->nworkers; i++)
        most = o->workers[i] > most ? o->workers[i] : most;
    allow_threads(most);
    for (unsigned i = 0; i < o->nworkers; i++) {
        unsigned w = o->workers[i];
        arena_for(w).execute([w] { tbb::parallel_for(0u, w * 64, [](unsigned) {}); });
    }
}

// ---------------------------------------------------------------------------
// fib and tree: parallel_invoke of the two halves

static uint64_t fib_task(int n)
{
    if (n < 2)
        return (uint64_t)n;
    uint64_t x, y;
    tbb::parallel_invoke([&] { x = fib_task(n - 1); }, [&] { y = fib_task(n - 2); });
    return x + y;
}

static uint64_t tbb_fib(int n, unsigned w)
{
    uint64_t result = 0;
    arena_for(w).execute([&] { result = fib_task(n); });
    return result;
}

static int64_t tree_task(const tree_node *node)
{
    int64_t sum = node->value;
    if (node->left != nullptr && node->right != nullptr) {
        int64_t left, right;
        tbb::parallel_invoke([&] { left = tree_task(node->left); },
                             [&] { right = tree_task(node->right); });
        sum += left + right;
    } else if (node->left != nullptr) {
        sum += tree_task(node->left);
    } else if (node->right != nullptr) {
        sum += tree_task(node->right);
    }
    return sum;
}

static int64_t tbb_tree(const tree_node *root, unsigned w)
{
    int64_t result = 0;
    arena_for(w).execute([&] { result = tree_task(root); });
    return result;
}

// ---------------------------------------------------------------------------
// tasks: one thread runs every task into a task_group, then waits

static void tbb_tasks(uint64_t *out, size_t n, uint64_t iters, unsigned w)
{
    arena_for(w).execute([&] {
        tbb::task_group group;
        for (size_t i = 0; i < n; i++)
            group.run([out, iters, i] { out[i] = spin(iters, i); });
        group.wait();
    });
}

// ---------------------------------------------------------------------------
// sum, map, regions: the default (auto) partitioner

static double tbb_sum(const double *x, size_t n, unsigned w)
{
    double result = -1;
    arena_for(w).execute([&] {
        result = tbb::parallel_reduce(
            tbb::blocked_range<size_t>(0, n), 0.0,
            [x](const tbb::blocked_range<size_t> &r, double acc) {
                return acc + sum_range(x, r.begin(), r.end());
            },
            std::plus<double>());
    });
    return result;
}

static void tbb_map(const double *x, double *y, size_t n, unsigned w)
{
    arena_for(w).execute([&] {
        tbb::parallel_for(
            tbb::blocked_range<size_t>(0, n),
            [x, y](const tbb::blocked_range<size_t> &r) { map_range(x, y, r.begin(), r.end()); });
    });
}

static void tbb_region(const region_data *d, unsigned w)
{
    arena_for(w).execute([d] {
        tbb::parallel_for(
            tbb::blocked_range<size_t>(0, d->n),
            [d](const tbb::blocked_range<size_t> &r) { region_kernel(d, r.begin(), r.end()); });
    });
}

// ---------------------------------------------------------------------------
// idle and wake: 2 workers. TBB starts its worker threads lazily, at the
// first work, so "after creation" is an initialised arena without threads.

static void tbb_idle_create(void) { arena_for(2); }

// wake: an arena of 2 worker slots and none for the caller, which only
// enqueues and waits on a condition variable (as Beat's caller does).
static tbb::task_arena *wake_arena;

struct wake_slot {
    std::mutex lock;
    std::condition_variable done_cv;
    bool done = false;
    double started = 0;
};

static void tbb_wake_start(void)
{
    allow_threads(3);
    wake_arena = new tbb::task_arena(2, 0);
    wake_arena->initialize();
    wake_arena->execute([] { tbb::parallel_for(0, 64, [](int) {}); });
}

static double tbb_wake_try(void)
{
    wake_slot slot;
    double t0 = bench_now();
    wake_arena->enqueue([&slot] {
        slot.started = bench_now();
        std::lock_guard<std::mutex> hold(slot.lock);
        slot.done = true;
        slot.done_cv.notify_one();
    });
    std::unique_lock<std::mutex> hold(slot.lock);
    slot.done_cv.wait(hold, [&slot] { return slot.done; });
    return slot.started - t0;
}

static void tbb_wake_stop(void)
{
    delete wake_arena;
    wake_arena = nullptr;
}

static void destroy_arenas(void)
{
    for (tbb::task_arena *&a : arenas) {
        delete a;
        a = nullptr;
    }
    thread_limit.reset();
}

int main(int argc, char **argv)
{
    static char runtime[64];
    snprintf(runtime, sizeof runtime, "oneTBB %s (runtime %s)", TBB_VERSION_STRING,
             TBB_runtime_version());
    bench_contestant tbb = {};
    tbb.name = "tbb";
    tbb.runtime = runtime;
    tbb.prepare = tbb_prepare;
    tbb.fib[0].variant = "";
    tbb.fib[0].run = tbb_fib;
    tbb.tree[0].variant = "";
    tbb.tree[0].run = tbb_tree;
    tbb.tasks[0].variant = "task_group";
    tbb.tasks[0].run = tbb_tasks;
    tbb.sum = tbb_sum;
    tbb.map = tbb_map;
    tbb.region = tbb_region;
    tbb.idle_create = tbb_idle_create;
    tbb.wake_start = tbb_wake_start;
    tbb.wake_try = tbb_wake_try;
    tbb.wake_stop = tbb_wake_stop;
    int rc = bench_main(argc, argv, &tbb);
    destroy_arenas();
    return rc;
}
