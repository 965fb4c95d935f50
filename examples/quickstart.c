// Quick start: fork-join fib with beat_pcall, run from main through beat_run.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include <stdio.h>

typedef struct fib_arg {
    int n;
    long result;
} fib_arg;

static void fib(beat_ctx *ctx, void *p)
{
    fib_arg *a = (fib_arg *)p;
    if (a->n < 2) {
        a->result = a->n;
        return;
    }
    fib_arg x = {a->n - 1, 0}, y = {a->n - 2, 0};
    beat_pcall(ctx, fib, &x, fib, &y); // x and y may run in parallel
    a->result = x.result + y.result;
}

int main(void)
{
    beat_pool *pool;
    beat_result r = beat_pool_create(NULL, &pool); // one worker per allowed CPU
    if (r != BEAT_OK) {
        fprintf(stderr, "beat_pool_create: %s: %s\n", beat_result_string(r), beat_result_advice(r));
        return 1;
    }
    fib_arg a = {32, 0};
    beat_run(pool, fib, &a); // returns when fib(32) is done
    printf("fib(%d) = %ld on %u workers\n", a.n, a.result, beat_pool_workers(pool));
    beat_pool_destroy(pool);
    return a.result == 2178309 ? 0 : 1;
}
