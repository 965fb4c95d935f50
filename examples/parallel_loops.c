// Parallel loops from outside the pool: a map with beat_pool_parallel_for,
// a sum with beat_pool_parallel_reduce, and many small jobs in one batch.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct arrays {
    const double *x;
    double *y;
} arrays;

static void map_body(beat_ctx *ctx, size_t begin, size_t end, void *p)
{
    arrays *a = (arrays *)p;
    (void)ctx;
    for (size_t i = begin; i < end; i++)
        a->y[i] = sqrt(a->x[i]) * sin(a->x[i]);
}

static void sum_body(beat_ctx *ctx, size_t begin, size_t end, void *partial, void *p)
{
    const double *y = (const double *)p;
    double s = *(double *)partial;
    (void)ctx;
    for (size_t i = begin; i < end; i++)
        s += y[i];
    *(double *)partial = s;
}

static void sum_combine(void *left, const void *right, void *p)
{
    (void)p;
    *(double *)left += *(const double *)right;
}

static void square(beat_ctx *ctx, void *p)
{
    (void)ctx;
    double *v = (double *)p;
    *v = *v * *v;
}

int main(void)
{
    enum { N = 1000000 };
    double *x = (double *)malloc(N * sizeof *x), *y = (double *)malloc(N * sizeof *y);
    beat_job *jobs = (beat_job *)malloc(N * sizeof *jobs);
    beat_pool *pool;
    if (x == NULL || y == NULL || jobs == NULL || beat_pool_create(NULL, &pool) != BEAT_OK)
        return 1;
    for (size_t i = 0; i < N; i++)
        x[i] = (double)i;

    arrays a = {x, y};
    beat_pool_parallel_for(pool, 0, N, 0, map_body, &a); // grain 0: automatic

    const double zero = 0;
    double total = 0;
    beat_pool_parallel_reduce(pool, 0, N, 0, &zero, sizeof zero, sum_body, sum_combine, y, &total);
    printf("sum of sqrt(x)*sin(x) over %d values: %.6f\n", N, total);

    for (size_t i = 0; i < N; i++) {
        jobs[i].fn = square;
        jobs[i].arg = &x[i];
    }
    beat_submit_batch(pool, jobs, N); // a million tiny jobs at the cost of a few
    beat_pool_wait(pool);
    printf("x[1000] squared: %.0f\n", x[1000]);

    beat_stats st;
    beat_pool_stats(pool, &st, NULL, 0);
    printf("stats: %llu loop chunks, %llu promotions, %llu steals, %llu parks\n",
           (unsigned long long)st.chunks, (unsigned long long)st.promotions,
           (unsigned long long)st.steals, (unsigned long long)st.parks);
    beat_pool_destroy(pool);
    free(x);
    free(y);
    free(jobs);
    return 0;
}
