// Soak: what only shows after a long time. Not part of make test or CI.
//
//   make soak                                    (2^32 + 10 jobs, 10 min of deque stress)
//   make soak SOAK_ARGS="--jobs 100000000 --deque-seconds 10"
//   build/soak [--jobs N] [--batch N] [--workers N] [--deque-seconds S]
//
// 1. Jobs: N jobs (default 2^32 + 10, past every 32-bit count) pushed
//    through one pool with beat_submit_batch, in batches of --batch (65536)
//    copies of one job array, a few batches in flight at a time. Each job
//    adds one to its worker's counter; at the end the counters must sum to
//    exactly N, and the pool's own job count must be back to zero.
// 2. Deque stress: for --deque-seconds (600), rounds of one owner pushing
//    and popping at random (2:1) while 1, 3 or 7 thieves steal, on a deque
//    that starts at capacity 2 (so it grows all the time) and at index 0,
//    2^63 - 500 or 2^64 - 500 (so indices cross the signed and unsigned
//    wrap). Every item must come back exactly once, and each thief must
//    see the items it steals in increasing order (they leave the top in
//    push order).
// One line per part, then "N passed, N failed"; exit status 1 on failure.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double soak_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// ---------------------------------------------------------------------------
// 1. Jobs through beat_submit_batch

// One counter per context (workers and outside slots), a cache line each;
// only the context's own thread writes it.
typedef struct soak_counter {
    uint64_t n;
    char pad[64 - sizeof(uint64_t)];
} soak_counter;

static soak_counter *soak_counters;

static void soak_job(beat_ctx *ctx, void *arg)
{
    (void)arg;
    soak_counter *c = &soak_counters[beat_ctx_worker(ctx)];
    // Relaxed load and store: one writer; the reader runs after beat_pool_wait.
    __atomic_store_n(&c->n, __atomic_load_n(&c->n, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static int soak_jobs(uint64_t total, size_t batch, unsigned workers)
{
    beat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = workers;
    beat_pool *pool = NULL;
    beat_result r = beat_pool_create(&cfg, &pool);
    if (r != BEAT_OK) {
        printf("FAIL jobs: beat_pool_create: %s\n", beat_result_string(r));
        return 0;
    }
    unsigned slots = beat_pool_workers(pool) + BEAT_OUTSIDE_SLOTS;
    soak_counters = (soak_counter *)calloc(slots, sizeof *soak_counters);
    beat_job *jobs = (beat_job *)malloc(batch * sizeof *jobs);
    if (soak_counters == NULL || jobs == NULL) {
        printf("FAIL jobs: out of memory\n");
        beat_pool_destroy(pool);
        return 0;
    }
    for (size_t i = 0; i < batch; i++) {
        jobs[i].fn = soak_job;
        jobs[i].arg = NULL;
    }
    const unsigned in_flight = 8; // batches submitted between waits
    double start = soak_seconds(), last_report = start;
    uint64_t submitted = 0, batches = 0;
    while (submitted < total && r == BEAT_OK) {
        for (unsigned k = 0; k < in_flight && submitted < total && r == BEAT_OK; k++) {
            size_t n = total - submitted < batch ? (size_t)(total - submitted) : batch;
            r = beat_submit_batch(pool, jobs, n);
            if (r == BEAT_OK) {
                submitted += n;
                batches++;
            }
        }
        beat_pool_wait(pool);
        double now = soak_seconds();
        if (now - last_report >= 60) {
            printf("     # jobs: %llu of %llu after %.0f s\n", (unsigned long long)submitted,
                   (unsigned long long)total, now - start);
            fflush(stdout);
            last_report = now;
        }
    }
    beat_pool_wait(pool);
    double seconds = soak_seconds() - start;
    uint64_t ran = 0;
    for (unsigned i = 0; i < slots; i++)
        ran += soak_counters[i].n;
    // Relaxed: read after beat_pool_wait, which ordered everything before it.
    uint64_t pending = beat__atomic_load_u64(&pool->jobs, BEAT__MO_RELAXED) & BEAT__COUNT_MASK;
    unsigned nworkers = beat_pool_workers(pool);
    beat_pool_destroy(pool);
    free(jobs);
    free(soak_counters);
    int ok = r == BEAT_OK && ran == total && pending == 0;
    printf("%s jobs: %llu submitted in %llu batches of up to %zu on %u workers, %llu ran%s, %llu "
           "pending, %.1f s (%.1f M jobs/s)%s%s\n",
           ok ? "ok  " : "FAIL", (unsigned long long)submitted, (unsigned long long)batches, batch,
           nworkers, (unsigned long long)ran, ran == total ? " (exact)" : "",
           (unsigned long long)pending, seconds, (double)ran / seconds / 1e6,
           r == BEAT_OK ? "" : "; submit failed: ", r == BEAT_OK ? "" : beat_result_string(r));
    return ok;
}

// ---------------------------------------------------------------------------
// 2. Deque stress

#define SOAK_ITEMS 1000000 // pushed per round
#define SOAK_MAX_THIEVES 7

typedef struct soak_round {
    beat__deque deque;
    atomic_uchar *seen; // per item: times it came back
    atomic_int go, stop;
    unsigned thieves;
    atomic_ullong stolen, order_errors;
} soak_round;

static void *soak_mem_alloc(size_t bytes, void *user)
{
    (void)user;
    return malloc(bytes);
}

static void soak_mem_release(void *ptr, size_t bytes, void *user)
{
    (void)bytes, (void)user;
    free(ptr);
}

static void soak_seen(soak_round *r, void *item)
{
    uintptr_t v = (uintptr_t)item; // items are 1..SOAK_ITEMS
    if (v >= 1 && v <= SOAK_ITEMS)
        atomic_fetch_add_explicit(&r->seen[v - 1], 1, memory_order_relaxed);
    else
        atomic_fetch_add(&r->order_errors, 1); // not an item at all
}

static void *soak_thief(void *arg)
{
    soak_round *r = (soak_round *)arg;
    while (!atomic_load(&r->go)) {
    }
    uintptr_t last = 0;
    unsigned long long n = 0, disorder = 0;
    for (;;) {
        void *item = NULL;
        beat__steal_result s = beat__deque_steal(&r->deque, &item);
        if (s == BEAT__STEAL_OK) {
            disorder += (uintptr_t)item <= last;
            last = (uintptr_t)item;
            soak_seen(r, item);
            n++;
        } else if (s == BEAT__STEAL_EMPTY && atomic_load(&r->stop)) {
            break;
        }
    }
    atomic_fetch_add(&r->stolen, n);
    atomic_fetch_add(&r->order_errors, disorder);
    return NULL;
}

// One round; returns the number of lost or duplicated items plus order
// errors (0 = fine), and adds the operations done to *ops.
static unsigned long long soak_round_run(soak_round *r, uint64_t start, uint64_t *rng,
                                         unsigned long long *ops, unsigned long long *grows)
{
    beat__deque_mem mem = {soak_mem_alloc, soak_mem_release, NULL};
    if (beat__deque_init_at(&r->deque, 2, &mem, start) != 0)
        return 1;
    memset((void *)r->seen, 0, SOAK_ITEMS);
    atomic_store(&r->go, 0);
    atomic_store(&r->stop, 0);
    atomic_store(&r->stolen, 0);
    atomic_store(&r->order_errors, 0);
    pthread_t threads[SOAK_MAX_THIEVES];
    unsigned started = 0;
    for (; started < r->thieves; started++)
        if (pthread_create(&threads[started], NULL, soak_thief, r) != 0)
            break;
    atomic_store(&r->go, 1);
    uintptr_t next = 1;
    unsigned long long n = 0;
    while (next <= SOAK_ITEMS) {
        *rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
        if (*rng % 3 != 0) {
            if (beat__deque_push_owner(&r->deque, (void *)next++) < 0)
                return 1; // out of memory
        } else {
            void *item = beat__deque_pop_owner(&r->deque);
            if (item != NULL)
                soak_seen(r, item);
        }
        n++;
    }
    for (void *item; (item = beat__deque_pop_owner(&r->deque)) != NULL; n++)
        soak_seen(r, item);
    atomic_store(&r->stop, 1);
    for (unsigned i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    for (uint64_t c = 2; c < r->deque.buf->capacity; c *= 2)
        (*grows)++;
    beat__deque_destroy(&r->deque);
    *ops += n + atomic_load(&r->stolen);
    unsigned long long bad = atomic_load(&r->order_errors);
    for (size_t i = 0; i < SOAK_ITEMS; i++)
        bad += atomic_load_explicit(&r->seen[i], memory_order_relaxed) != 1;
    return started == r->thieves ? bad : bad + 1;
}

static int soak_deque(double seconds)
{
    static const uint64_t starts[] = {0, (uint64_t)INT64_MAX - 500, UINT64_MAX - 500};
    static const unsigned crews[] = {1, 3, 7};
    soak_round r;
    memset(&r, 0, sizeof r);
    r.seen = (atomic_uchar *)malloc(SOAK_ITEMS);
    if (r.seen == NULL) {
        printf("FAIL deque: out of memory\n");
        return 0;
    }
    uint64_t rng = 0x9E3779B97F4A7C15u;
    unsigned long long rounds = 0, ops = 0, bad = 0, grows = 0;
    double start = soak_seconds(), last_report = start;
    do {
        r.thieves = crews[rounds % 3];
        bad += soak_round_run(&r, starts[rounds / 3 % 3], &rng, &ops, &grows);
        rounds++;
        double now = soak_seconds();
        if (now - last_report >= 60) {
            printf("     # deque: %llu rounds after %.0f s\n", rounds, now - start);
            fflush(stdout);
            last_report = now;
        }
    } while (soak_seconds() - start < seconds && bad == 0);
    free((void *)r.seen);
    printf("%s deque: %llu rounds of %d items (1, 3 and 7 thieves; start 0, 2^63 - 500, 2^64 - "
           "500), %llu operations, %llu growths from capacity 2, %.1f s: %llu items lost, "
           "duplicated or out of order\n",
           bad == 0 ? "ok  " : "FAIL", rounds, SOAK_ITEMS, ops, grows, soak_seconds() - start, bad);
    return bad == 0;
}

// ---------------------------------------------------------------------------

static int soak_number(const char *s, unsigned long long *out)
{
    char *end;
    *out = strtoull(s, &end, 10);
    return *s != '\0' && *end == '\0';
}

int main(int argc, char **argv)
{
    unsigned long long jobs = (1ULL << 32) + 10, batch = 65536, workers = 0, deque_seconds = 600;
    for (int i = 1; i < argc; i++) {
        unsigned long long *target = NULL;
        if (strcmp(argv[i], "--jobs") == 0)
            target = &jobs;
        else if (strcmp(argv[i], "--batch") == 0)
            target = &batch;
        else if (strcmp(argv[i], "--workers") == 0)
            target = &workers;
        else if (strcmp(argv[i], "--deque-seconds") == 0)
            target = &deque_seconds;
        if (target == NULL || i + 1 >= argc || !soak_number(argv[++i], target) ||
            (target == &batch && batch == 0) || (target == &workers && workers > 1024)) {
            fprintf(stderr,
                    "usage: %s [--jobs N] [--batch N >= 1] [--workers N <= 1024] "
                    "[--deque-seconds S]\n",
                    argv[0]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int passed = 0, failed = 0;
    if (soak_jobs(jobs, (size_t)batch, (unsigned)workers))
        passed++;
    else
        failed++;
    if (soak_deque((double)deque_seconds))
        passed++;
    else
        failed++;
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
