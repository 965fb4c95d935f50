// An adapter from Beat's profiler hooks (BEAT_PROFILE_BEGIN/END/THREAD, see
// PROFILER HOOKS in beat.h) to a profiler. The "profiler" here is a small
// one written for the example: per-thread stacks of open zones and a table
// of total and self time per name, printed at the end. A real adapter maps
// the same three macros onto its profiler's zone and thread-name calls.
#define _GNU_SOURCE 1 // system headers come before beat.h's implementation
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

// ---------------------------------------------------------------------------
// The profiler

#define ZONES 16 // distinct names
#define DEPTH 64 // open zones per thread
#define THREADS 64

typedef struct zone_total {
    const char *name;
    unsigned long long count, total_ns, self_ns;
} zone_total;

static zone_total totals[ZONES];
static pthread_mutex_t totals_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned threads_named;

typedef struct open_zone {
    const char *name;
    unsigned long long start, child_ns;
} open_zone;

static _Thread_local open_zone stack[DEPTH];
static _Thread_local int depth;

static unsigned long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void prof_begin(const char *name)
{
    if (depth < DEPTH)
        stack[depth] = (open_zone){name != NULL ? name : "(unnamed task)", now_ns(), 0};
    depth++;
}

static void prof_end(void)
{
    if (--depth >= DEPTH)
        return;
    open_zone z = stack[depth];
    unsigned long long took = now_ns() - z.start;
    if (depth > 0 && depth - 1 < DEPTH)
        stack[depth - 1].child_ns += took;
    pthread_mutex_lock(&totals_lock);
    for (int i = 0; i < ZONES; i++)
        if (totals[i].name == NULL || strcmp(totals[i].name, z.name) == 0) {
            totals[i].name = z.name;
            totals[i].count++;
            totals[i].total_ns += took;
            totals[i].self_ns += took - z.child_ns;
            break;
        }
    pthread_mutex_unlock(&totals_lock);
}

static void prof_thread(const char *name)
{
    (void)name;
    __atomic_fetch_add(&threads_named, 1, __ATOMIC_RELAXED);
}

// ---------------------------------------------------------------------------
// The adapter: three macros, defined before the implementation.

#define BEAT_PROFILE_BEGIN(name, worker) ((void)(worker), prof_begin(name))
#define BEAT_PROFILE_END(worker) ((void)(worker), prof_end())
#define BEAT_PROFILE_THREAD(name) prof_thread(name)
#define BEAT_IMPLEMENTATION
#include "beat.h"

// ---------------------------------------------------------------------------
// A workload with named jobs

static unsigned long fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

typedef struct work {
    unsigned n;
    unsigned long result;
} work;

static void leaf(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    work *w = (work *)arg;
    w->result = fib(w->n);
}

static void parent(beat_ctx *ctx, void *arg)
{
    work *w = (work *)arg;
    work kids[4];
    beat_counter c = {0};
    for (int i = 0; i < 4; i++) {
        kids[i] = (work){w->n, 0};
        beat_spawn(ctx, &c, leaf, &kids[i]);
    }
    beat_wait(ctx, &c);
    w->result = kids[0].result + kids[1].result + kids[2].result + kids[3].result;
}

int main(void)
{
    beat_pool *pool;
    if (beat_pool_create(NULL, &pool) != BEAT_OK)
        return 1;
    beat_name_fn(pool, parent, "parent");
    beat_name_fn(pool, leaf, "leaf (fib)");
    work jobs[8];
    for (int i = 0; i < 8; i++) {
        jobs[i] = (work){24, 0};
        beat_submit(pool, parent, &jobs[i]);
    }
    beat_pool_wait(pool);
    beat_pool_destroy(pool);
    for (int i = 0; i < 8; i++)
        if (jobs[i].result != 4 * fib(24)) {
            fprintf(stderr, "wrong result\n");
            return 1;
        }
    printf("%u worker threads announced\n", threads_named);
    printf("%-16s %8s %12s %12s\n", "zone", "count", "total ms", "self ms");
    for (int i = 0; i < ZONES && totals[i].name != NULL; i++)
        printf("%-16s %8llu %12.3f %12.3f\n", totals[i].name, totals[i].count,
               totals[i].total_ns / 1e6, totals[i].self_ns / 1e6);
    return 0;
}
