// A program that uses an installed (or add_subdirectory'd) beat.h the way
// users do: its own implementation file, a pool, a parallel loop, a check.
// Exit 0 when every square is right; prints what it checked.
#define BEAT_IMPLEMENTATION
#include <beat.h>

#include <stdio.h>
#include <stdlib.h>

static void square_body(beat_ctx *ctx, size_t begin, size_t end, void *arg)
{
    unsigned long long *y = (unsigned long long *)arg;
    (void)ctx;
    for (size_t i = begin; i < end; i++)
        y[i] = (unsigned long long)i * i;
}

int main(void)
{
    enum { N = 100000 };
    unsigned long long *y = (unsigned long long *)calloc(N, sizeof *y);
    if (y == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 2;
    beat_pool *pool;
    beat_result r = beat_pool_create(&cfg, &pool);
    if (r != BEAT_OK) {
        fprintf(stderr, "beat_pool_create: %s: %s\n", beat_result_string(r), beat_result_advice(r));
        return 1;
    }
    r = beat_pool_parallel_for(pool, 0, N, 0, square_body, y);
    size_t wrong = 0;
    for (size_t i = 0; i < N; i++)
        wrong += y[i] != (unsigned long long)i * i;
    printf("beat %s: %d squares on %u workers, %zu wrong (%s)\n", BEAT_VERSION_STRING, N,
           beat_pool_workers(pool), wrong, beat_result_string(r));
    beat_pool_destroy(pool);
    free(y);
    return r == BEAT_OK && wrong == 0 ? 0 : 1;
}
