// The fixed-size memory pool (src/memory.c): argument checks, block size and
// alignment, the allocator contract (every byte through it, all of it back at
// destroy, the same size and alignment in free as in alloc), distinct and
// writable blocks, reuse without growth, max_blocks, allocator failure,
// per-thread caches (refill half, spill half, flush), NULL handling, and
// cross-thread stress plus an ABA hammer on the shared free list.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"

#include <pthread.h>

static void trim_during_concurrent_alloc_and_free_loses_no_block(void);

// ---------------------------------------------------------------------------
// A tracking allocator: counts what is outstanding, remembers size and
// alignment of every live allocation to compare them with what free gets,
// fails on demand, and fills new memory with a byte (garbage by default, so
// a pool relying on zeroed slabs would show).

#define TRACK_MAX 64

typedef struct track_entry {
    void *ptr;
    size_t size, align;
} track_entry;

typedef struct track_alloc {
    pthread_mutex_t lock;
    track_entry live[TRACK_MAX];
    unsigned nlive;
    long long calls;    // alloc calls, failed ones included
    long long allocs;   // outstanding allocations
    long long bytes;    // outstanding bytes, as requested
    long long fail_at;  // this call (1-based) fails; 0 = none
    int fail_all;       // every call fails while set
    int bad_free;       // frees of unknown pointers or with another size/alignment
    int bad_align;      // alignments that are not a power of two <= 4096
    unsigned char fill; // new memory is filled with this byte
} track_alloc;

static void track_init(track_alloc *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    t->fill = 0xA5;
}

static void track_fini(track_alloc *t) { pthread_mutex_destroy(&t->lock); }

static void *track_alloc_fn(size_t size, size_t align, void *user)
{
    track_alloc *t = (track_alloc *)user;
    void *p = NULL;
    pthread_mutex_lock(&t->lock);
    long long call = ++t->calls;
    if (align == 0 || (align & (align - 1)) != 0 || align > 4096) {
        t->bad_align++;
    } else if (!t->fail_all && call != t->fail_at && t->nlive < TRACK_MAX) {
        size_t a = align < sizeof(void *) ? sizeof(void *) : align;
        p = aligned_alloc(a, (size + a - 1) & ~(a - 1));
        if (p != NULL) {
            memset(p, t->fill, size);
            t->live[t->nlive].ptr = p;
            t->live[t->nlive].size = size;
            t->live[t->nlive].align = align;
            t->nlive++;
            t->allocs++;
            t->bytes += (long long)size;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return p;
}

static void track_free_fn(void *ptr, size_t size, size_t align, void *user)
{
    track_alloc *t = (track_alloc *)user;
    pthread_mutex_lock(&t->lock);
    unsigned i = 0;
    while (i < t->nlive && t->live[i].ptr != ptr)
        i++;
    if (i == t->nlive || t->live[i].size != size || t->live[i].align != align)
        t->bad_free++;
    if (i < t->nlive) {
        t->allocs--;
        t->bytes -= (long long)t->live[i].size;
        t->live[i] = t->live[--t->nlive];
        free(ptr);
    }
    pthread_mutex_unlock(&t->lock);
}

// Whether [p, p + len) lies inside one live allocation of t.
static int track_owns(track_alloc *t, const void *p, size_t len)
{
    int found = 0;
    uintptr_t a = (uintptr_t)p;
    pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < t->nlive && !found; i++) {
        uintptr_t base = (uintptr_t)t->live[i].ptr;
        found = a >= base && a + len <= base + t->live[i].size;
    }
    pthread_mutex_unlock(&t->lock);
    return found;
}

static beat_allocator track_allocator(track_alloc *t)
{
    beat_allocator a = {track_alloc_fn, track_free_fn, t};
    return a;
}

// ---------------------------------------------------------------------------
// White-box views of a pool (single-threaded moments only).

static uint32_t pool_slabs(beat_mempool *mp)
{
    return beat__atomic_load_u32(&mp->slab_count, BEAT__MO_ACQUIRE);
}

static uint64_t pool_capacity(beat_mempool *mp) { return beat__slab_first(pool_slabs(mp)); }

// Blocks on the shared free list; more than the capacity means a cycle,
// UINT64_MAX a link that points outside the pool.
static uint64_t shared_count(beat_mempool *mp)
{
    uint64_t cap = pool_capacity(mp), n = 0;
    uint32_t cur = (uint32_t)beat__atomic_load_u64(&mp->head, BEAT__MO_ACQUIRE);
    while (cur != 0 && n <= cap) {
        if ((uint64_t)cur - 1 >= cap)
            return UINT64_MAX;
        n++;
        cur = beat__atomic_load_u32(beat__mempool_link(mp, cur - 1), BEAT__MO_RELAXED);
    }
    return n;
}

static int shared_contains(beat_mempool *mp, const void *block)
{
    uint64_t cap = pool_capacity(mp), n = 0;
    uint32_t cur = (uint32_t)beat__atomic_load_u64(&mp->head, BEAT__MO_ACQUIRE);
    while (cur != 0 && cur - 1 < cap && n++ <= cap) {
        if (beat__mempool_block(mp, cur - 1) == (const unsigned char *)block)
            return 1;
        cur = beat__atomic_load_u32(beat__mempool_link(mp, cur - 1), BEAT__MO_RELAXED);
    }
    return 0;
}

// Blocks a pool with this max_blocks can hand out: whole slabs of 64, 128,
// 256, ... only, so the largest 64 * (2^k - 1) <= max_blocks.
static uint64_t usable_blocks(uint64_t max_blocks)
{
    uint64_t total = 0, slab = 64;
    while (total + slab <= max_blocks) {
        total += slab;
        slab *= 2;
    }
    return total;
}

// ---------------------------------------------------------------------------
// Patterns: 32-bit words derived from a seed and the word's position, so two
// overlapping blocks, or a block written by someone else, do not verify.

static uint32_t pattern_word(uint32_t seed, uint32_t j)
{
    uint32_t x = seed * 0x9E3779B1u ^ (j + 1u) * 0x85EBCA77u;
    x ^= x >> 15;
    x *= 0x2C1B3C6Du;
    x ^= x >> 13;
    return x;
}

static void pattern_fill(void *block, size_t bytes, uint32_t seed)
{
    uint32_t *w = (uint32_t *)block;
    for (uint32_t j = 0; j < bytes / 4; j++)
        w[j] = pattern_word(seed, j);
}

static int pattern_ok(const void *block, size_t bytes, uint32_t seed)
{
    const uint32_t *w = (const uint32_t *)block;
    for (uint32_t j = 0; j < bytes / 4; j++)
        if (w[j] != pattern_word(seed, j))
            return 0;
    return 1;
}

static int compare_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

// ---------------------------------------------------------------------------
// Creation

static void create_validates_arguments(void)
{
    track_alloc t;
    track_init(&t);
    beat_allocator good = track_allocator(&t);
    beat_allocator only_alloc = {track_alloc_fn, NULL, &t};
    beat_allocator only_free = {NULL, track_free_fn, &t};
    beat_allocator neither = {NULL, NULL, &t};
    beat_mempool *const sentinel = (beat_mempool *)(void *)&t; // never dereferenced
    beat_mempool *mp = NULL;

    CHECK_EQ(beat_mempool_create(16, 0, NULL, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_mempool_create(16, 0, &good, NULL), BEAT_ERROR_INVALID_ARGUMENT);

    const struct {
        size_t size;
        const beat_allocator *allocator;
        const char *what;
    } bad[] = {
        {0, NULL, "block_size 0"},
        {0, &good, "block_size 0, allocator"},
        {((size_t)1 << 20) + 1, NULL, "block_size 1 MiB + 1"},
        {((size_t)1 << 20) + 16, &good, "block_size 1 MiB + 16, allocator"},
        {SIZE_MAX, NULL, "block_size SIZE_MAX"},
        {16, &only_alloc, "allocator with only alloc"},
        {16, &only_free, "allocator with only free"},
        {0, &only_alloc, "block_size 0 and only alloc"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mp = sentinel;
        beat_result r = beat_mempool_create(bad[i].size, 0, bad[i].allocator, &mp);
        CHECK_MSG(r == BEAT_ERROR_INVALID_ARGUMENT && mp == NULL, "%s: result %s, out %p",
                  bad[i].what, beat_result_string(r), (void *)mp);
    }
    CHECK_EQ(t.calls, 0); // rejected before anything was allocated

    // The limits themselves are accepted.
    mp = sentinel;
    CHECK_EQ(beat_mempool_create((size_t)1 << 20, 0, &good, &mp), BEAT_OK);
    CHECK(mp != NULL && mp != sentinel);
    CHECK_EQ(beat_mempool_block_size(mp), (size_t)1 << 20);
    beat_mempool_destroy(mp);
    CHECK_EQ(t.allocs, 0);

    // Neither function set means the default allocator, not this one.
    long long calls = t.calls;
    mp = NULL;
    CHECK_EQ(beat_mempool_create(24, 0, &neither, &mp), BEAT_OK);
    void *p = beat_mempool_alloc(mp, NULL);
    CHECK(p != NULL);
    memset(p, 0x5A, beat_mempool_block_size(mp));
    beat_mempool_free(mp, NULL, p);
    beat_mempool_destroy(mp);
    CHECK_EQ(t.calls, calls);

    // Out of memory while creating: an error, *out NULL, nothing leaked.
    t.fail_at = t.calls + 1;
    mp = sentinel;
    CHECK_EQ(beat_mempool_create(16, 0, &good, &mp), BEAT_ERROR_OUT_OF_MEMORY);
    CHECK(mp == NULL);
    CHECK_EQ(t.allocs, 0);
    CHECK_EQ(t.bad_free, 0);
    CHECK_EQ(t.bad_align, 0);
    track_fini(&t);
}

static void block_size_rounds_up_to_16_and_blocks_are_16_byte_aligned(void)
{
    static const size_t sizes[][2] = {
        {1, 16},      {4, 16},      {15, 16},     {16, 16},
        {17, 32},     {31, 32},     {33, 48},     {100, 112},
        {1000, 1008}, {4096, 4096}, {4097, 4112}, {((size_t)1 << 20) - 1, (size_t)1 << 20},
    };
    CHECK_EQ(beat_mempool_block_size(NULL), 0);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        beat_mempool *mp = NULL;
        CHECK_EQ(beat_mempool_create(sizes[i][0], 0, NULL, &mp), BEAT_OK);
        size_t bs = beat_mempool_block_size(mp);
        CHECK_MSG(bs == sizes[i][1], "block_size %zu rounds to %zu, want %zu", sizes[i][0], bs,
                  sizes[i][1]);
        if (bs <= 4112) {
            // 70 blocks: all of slab 0 and some of slab 1, through a cache and not.
            beat_mempool_cache cache = {{NULL}, 0};
            void *blocks[70];
            for (int j = 0; j < 70; j++) {
                blocks[j] = beat_mempool_alloc(mp, j % 2 ? &cache : NULL);
                CHECK(blocks[j] != NULL);
                CHECK_MSG((uintptr_t)blocks[j] % 16 == 0, "block_size %zu: block %p misaligned", bs,
                          blocks[j]);
                memset(blocks[j], 0xC3, bs);
            }
            for (int j = 0; j < 70; j++)
                beat_mempool_free(mp, j % 3 ? &cache : NULL, blocks[j]);
            beat_mempool_cache_flush(mp, &cache);
            CHECK_EQ(cache.count, 0);
        }
        beat_mempool_destroy(mp);
    }
}

// ---------------------------------------------------------------------------
// The allocator contract

static void every_allocation_goes_through_the_allocator_and_destroy_returns_it(void)
{
    enum { N = 1000 }; // 960 blocks in slabs 0..3, so slab 4 too: 5 slabs, 1984 blocks
    static void *blocks[N];
    track_alloc t;
    track_init(&t);
    beat_allocator a = track_allocator(&t);
    beat_mempool *mp = NULL;
    CHECK_EQ(beat_mempool_create(48, 0, &a, &mp), BEAT_OK);
    CHECK_EQ(t.allocs, 1); // the pool itself
    CHECK_EQ(t.bytes, sizeof(struct beat_mempool));
    CHECK(track_owns(&t, mp, sizeof(struct beat_mempool)));

    beat_mempool_cache cache = {{NULL}, 0};
    for (int i = 0; i < N; i++) {
        blocks[i] = beat_mempool_alloc(mp, i % 2 ? &cache : NULL);
        CHECK(blocks[i] != NULL);
        CHECK_MSG(track_owns(&t, blocks[i], 48),
                  "block %d (%p) is not inside memory the "
                  "allocator handed out",
                  i, blocks[i]);
    }
    CHECK_EQ(t.allocs, 6);
    CHECK_EQ(pool_slabs(mp), 5);
    CHECK_EQ(t.calls, 6);
    // The slabs hold at least their blocks (the layout may add bookkeeping).
    long long bytes = t.bytes;
    CHECK((unsigned long long)bytes >= sizeof(struct beat_mempool) + 48 * 1984);

    // Half back to the cache, half in use: destroy frees everything anyway.
    for (int i = 0; i < N; i += 2)
        beat_mempool_free(mp, &cache, blocks[i]);
    beat_mempool_destroy(mp);
    CHECK_EQ(t.allocs, 0);
    CHECK_EQ(t.bytes, 0);
    CHECK_EQ(t.nlive, 0);
    CHECK_MSG(t.bad_free == 0, "%d frees with a pointer, size or alignment alloc did not give",
              t.bad_free);
    CHECK_EQ(t.bad_align, 0);
    bt_note("6 allocations (pool + 5 slabs, %lld bytes for 1984 blocks of 48), all 6 freed by "
            "destroy with matching size and alignment",
            bytes);
    track_fini(&t);
}

// ---------------------------------------------------------------------------
// Blocks

static void distinct_writable_reused(size_t request, int use_cache)
{
    enum { N = 300 };
    void *blocks[N], *sorted[N], *again[N];
    track_alloc t;
    track_init(&t);
    beat_allocator a = track_allocator(&t);
    beat_mempool *mp = NULL;
    CHECK_EQ(beat_mempool_create(request, 0, &a, &mp), BEAT_OK);
    size_t bs = beat_mempool_block_size(mp);
    beat_mempool_cache cache_storage = {{NULL}, 0};
    beat_mempool_cache *cache = use_cache ? &cache_storage : NULL;

    for (uint32_t i = 0; i < N; i++) {
        blocks[i] = beat_mempool_alloc(mp, cache);
        CHECK(blocks[i] != NULL);
        CHECK((uintptr_t)blocks[i] % 16 == 0);
        CHECK(track_owns(&t, blocks[i], bs));
        pattern_fill(blocks[i], bs, i);
    }
    for (uint32_t i = 0; i < N; i++)
        CHECK_MSG(pattern_ok(blocks[i], bs, i),
                  "block %u (%p) lost its pattern: another block overlaps it", i, blocks[i]);
    memcpy(sorted, blocks, sizeof blocks);
    qsort(sorted, N, sizeof sorted[0], compare_ptr);
    for (int i = 0; i + 1 < N; i++)
        CHECK_MSG((uintptr_t)sorted[i + 1] - (uintptr_t)sorted[i] >= bs,
                  "blocks %p and %p are closer than block_size %zu", sorted[i], sorted[i + 1], bs);

    // Free everything (in a scrambled order), then allocate as many again:
    // no allocator call, and without a cache (a LIFO list) the same blocks.
    // With a cache the second round may also take never-used blocks of the
    // last slab from the shared list, so only the call count is compared.
    long long calls = t.calls;
    for (int i = 0; i < N; i++)
        beat_mempool_free(mp, cache, blocks[(i * 7) % N]);
    if (cache != NULL)
        CHECK(cache->count <= BEAT_MEMPOOL_CACHE_SIZE);
    for (uint32_t i = 0; i < N; i++) {
        again[i] = beat_mempool_alloc(mp, cache);
        CHECK(again[i] != NULL);
        pattern_fill(again[i], bs, i + N);
    }
    CHECK_MSG(t.calls == calls, "reallocating freed blocks called the allocator %lld times",
              t.calls - calls);
    for (uint32_t i = 0; i < N; i++)
        CHECK(pattern_ok(again[i], bs, i + N));
    for (uint32_t i = 0; i < N; i++)
        CHECK(track_owns(&t, again[i], bs));
    qsort(again, N, sizeof again[0], compare_ptr);
    for (int i = 0; i + 1 < N; i++)
        CHECK(again[i] != again[i + 1]);
    if (cache == NULL)
        CHECK_MSG(memcmp(again, sorted, sizeof sorted) == 0,
                  "the second round did not get back exactly the freed blocks");

    for (int i = 0; i < N; i++)
        beat_mempool_free(mp, cache, again[i]);
    if (cache != NULL)
        beat_mempool_cache_flush(mp, cache);
    CHECK_EQ(shared_count(mp), pool_capacity(mp));
    beat_mempool_destroy(mp);
    CHECK_EQ(t.allocs, 0);
    CHECK_EQ(t.bad_free, 0);
    track_fini(&t);
}

static void alloc_returns_distinct_writable_blocks_and_reuses_freed_ones(void)
{
    static const size_t sizes[] = {1, 16, 40, 100, 1000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int use_cache = 0; use_cache <= 1; use_cache++) {
            distinct_writable_reused(sizes[i], use_cache);
            CHECK_MSG(!bt_case_failed, "with block_size %zu, %s", sizes[i],
                      use_cache ? "a cache" : "no cache");
        }
    }
}

// ---------------------------------------------------------------------------
// max_blocks

static void max_blocks_once(size_t max_blocks, int use_cache, uint64_t *got)
{
    track_alloc t;
    track_init(&t);
    beat_allocator a = track_allocator(&t);
    beat_mempool *mp = NULL;
    CHECK_EQ(beat_mempool_create(32, max_blocks, &a, &mp), BEAT_OK);
    beat_mempool_cache cache_storage = {{NULL}, 0};
    beat_mempool_cache *cache = use_cache ? &cache_storage : NULL;

    size_t limit = max_blocks + 64;
    void **blocks = (void **)calloc(limit, sizeof(void *));
    CHECK(blocks != NULL);
    size_t n = 0;
    while (n < limit && (blocks[n] = beat_mempool_alloc(mp, cache)) != NULL)
        n++;
    *got = n;
    CHECK_MSG(n <= max_blocks, "max_blocks %zu, but %zu blocks were handed out", max_blocks, n);
    CHECK_MSG(n == usable_blocks(max_blocks), "max_blocks %zu: %zu blocks, want %llu", max_blocks,
              n, (unsigned long long)usable_blocks(max_blocks));

    // At the cap: NULL again and again, without asking the allocator.
    long long calls = t.calls;
    for (int i = 0; i < 5; i++)
        CHECK(beat_mempool_alloc(mp, cache) == NULL);
    CHECK_EQ(t.calls, calls);

    if (n > 0) {
        // One block back makes exactly one allocation possible again.
        void *freed = blocks[n / 2];
        beat_mempool_free(mp, cache, freed);
        void *p = beat_mempool_alloc(mp, cache);
        CHECK_MSG(p == freed, "after freeing %p at the cap alloc gave %p", freed, p);
        CHECK(beat_mempool_alloc(mp, cache) == NULL);
    }
    for (size_t i = 0; i < n; i++)
        beat_mempool_free(mp, cache, blocks[i]);
    if (cache != NULL)
        beat_mempool_cache_flush(mp, cache);
    CHECK_EQ(shared_count(mp), n);
    beat_mempool_destroy(mp);
    free(blocks);
    CHECK_EQ(t.allocs, 0);
    CHECK_EQ(t.bad_free, 0);
    track_fini(&t);
}

static void max_blocks_caps_the_pool_and_a_freed_block_is_allocatable_again(void)
{
    // Below one slab the cap could never be met: create rejects it.
    static const size_t too_small[] = {1, 10, 63};
    for (size_t i = 0; i < sizeof too_small / sizeof too_small[0]; i++) {
        beat_mempool *rejected = (beat_mempool *)(uintptr_t)1;
        CHECK_EQ(beat_mempool_create(32, too_small[i], NULL, &rejected),
                 BEAT_ERROR_INVALID_ARGUMENT);
        CHECK(rejected == NULL);
    }
    static const size_t maxes[] = {64, 64, 64, 64, 65, 100, 191, 192, 193, 447, 448, 500, 1000};
    uint64_t got[sizeof maxes / sizeof maxes[0]];
    for (size_t i = 0; i < sizeof maxes / sizeof maxes[0]; i++) {
        for (int use_cache = 0; use_cache <= 1; use_cache++) {
            max_blocks_once(maxes[i], use_cache, &got[i]);
            CHECK_MSG(!bt_case_failed, "max_blocks %zu, %s", maxes[i],
                      use_cache ? "a cache" : "no cache");
        }
    }
    bt_note("usable blocks per max_blocks (whole doubling slabs only; 1..63 rejected): "
            "64->%llu 100->%llu 191->%llu 192->%llu 500->%llu 1000->%llu",
            (unsigned long long)got[3], (unsigned long long)got[5], (unsigned long long)got[6],
            (unsigned long long)got[7], (unsigned long long)got[11], (unsigned long long)got[12]);

    // 0 means no cap (about 2^31): several slabs grow freely.
    beat_mempool *mp = NULL;
    CHECK_EQ(beat_mempool_create(16, 0, NULL, &mp), BEAT_OK);
    enum { M = 64 * 15 + 1 }; // slabs 0..3 and one block of slab 4
    static void *blocks[M];
    for (int i = 0; i < M; i++)
        CHECK((blocks[i] = beat_mempool_alloc(mp, NULL)) != NULL);
    CHECK_EQ(pool_slabs(mp), 5);
    for (int i = 0; i < M; i++)
        beat_mempool_free(mp, NULL, blocks[i]);
    beat_mempool_destroy(mp);
}

// ---------------------------------------------------------------------------
// Allocator failure

static void allocator_failure_returns_null_leaks_nothing_and_recovers(void)
{
    // The k-th allocator call fails once. Call 1 is the pool itself; call
    // k >= 2 is slab k - 2, needed when block slab_first(k - 2) is asked for.
    enum { WANT = 64 * 63 }; // six slabs
    void **blocks = (void **)malloc(WANT * sizeof(void *));
    CHECK(blocks != NULL);
    for (long long k = 1; k <= 7; k++) {
        for (int use_cache = 0; use_cache <= 1; use_cache++) {
            track_alloc t;
            track_init(&t);
            beat_allocator a = track_allocator(&t);
            t.fail_at = k;
            beat_mempool *mp = (beat_mempool *)(void *)&t;
            beat_result r = beat_mempool_create(32, 0, &a, &mp);
            if (k == 1) {
                CHECK_EQ(r, BEAT_ERROR_OUT_OF_MEMORY);
                CHECK(mp == NULL);
                CHECK_EQ(t.allocs, 0);
                track_fini(&t);
                continue;
            }
            CHECK_EQ(r, BEAT_OK);
            beat_mempool_cache cache_storage = {{NULL}, 0};
            beat_mempool_cache *cache = use_cache ? &cache_storage : NULL;
            int nulls = 0;
            size_t n = 0, null_at = 0;
            for (int attempt = 0; attempt < WANT + 10 && n < WANT; attempt++) {
                void *p = beat_mempool_alloc(mp, cache);
                if (p == NULL) {
                    if (nulls++ == 0)
                        null_at = n;
                    CHECK_EQ(t.allocs, 1 + (k - 2)); // the pool and the slabs before
                    continue;
                }
                memset(p, 0x11, 32);
                blocks[n++] = p;
            }
            CHECK_MSG(nulls == 1, "k %lld, %s: %d NULLs", k, use_cache ? "cache" : "no cache",
                      nulls);
            CHECK_EQ(null_at, beat__slab_first((uint32_t)(k - 2)));
            CHECK_EQ(n, WANT);
            CHECK_EQ(t.allocs, 7);
            for (size_t i = 0; i < n; i++)
                beat_mempool_free(mp, cache, blocks[i]);
            beat_mempool_destroy(mp);
            CHECK_EQ(t.allocs, 0);
            CHECK_EQ(t.bytes, 0);
            CHECK_EQ(t.bad_free, 0);
            track_fini(&t);
        }
    }
    free(blocks);

    // An allocator that keeps failing: NULL every time (asked every time),
    // with and without a cache, then everything works once it recovers.
    track_alloc t;
    track_init(&t);
    beat_allocator a = track_allocator(&t);
    beat_mempool *mp = NULL;
    CHECK_EQ(beat_mempool_create(64, 0, &a, &mp), BEAT_OK);
    beat_mempool_cache cache = {{NULL}, 0};
    void *held[64];
    for (int i = 0; i < 64; i++)
        CHECK((held[i] = beat_mempool_alloc(mp, NULL)) != NULL);
    t.fail_all = 1;
    for (int i = 0; i < 10; i++) {
        CHECK(beat_mempool_alloc(mp, NULL) == NULL);
        CHECK(beat_mempool_alloc(mp, &cache) == NULL);
        CHECK_EQ(cache.count, 0);
    }
    CHECK_EQ(t.allocs, 2);
    CHECK_EQ(pool_slabs(mp), 1);
    // A freed block is still usable while the allocator fails.
    beat_mempool_free(mp, NULL, held[5]);
    CHECK(beat_mempool_alloc(mp, &cache) == held[5]);
    t.fail_all = 0;
    void *p = beat_mempool_alloc(mp, &cache);
    CHECK(p != NULL);
    CHECK_EQ(pool_slabs(mp), 2);
    CHECK(track_owns(&t, p, 64));
    beat_mempool_free(mp, &cache, p);
    for (int i = 0; i < 64; i++)
        beat_mempool_free(mp, &cache, held[i]);
    beat_mempool_cache_flush(mp, &cache);
    CHECK_EQ(shared_count(mp), 64 + 128);
    beat_mempool_destroy(mp);
    CHECK_EQ(t.allocs, 0);
    CHECK_EQ(t.bad_free, 0);
    track_fini(&t);
}

// ---------------------------------------------------------------------------
// Caches

static void cache_refills_half_from_the_shared_list_and_spills_half_when_full(void)
{
    enum { HALF = BEAT_MEMPOOL_CACHE_SIZE / 2 };
    track_alloc t;
    track_init(&t);
    beat_allocator a = track_allocator(&t);
    beat_mempool *mp = NULL;
    CHECK_EQ(beat_mempool_create(32, 0, &a, &mp), BEAT_OK);

    // Slab 0 on the shared list.
    void *first = beat_mempool_alloc(mp, NULL);
    CHECK(first != NULL);
    beat_mempool_free(mp, NULL, first);
    CHECK_EQ(shared_count(mp), 64);

    // Refill: an empty cache takes half its size from the shared list.
    beat_mempool_cache c = {{NULL}, 0};
    void *held[64];
    int nheld = 0;
    held[nheld++] = beat_mempool_alloc(mp, &c);
    CHECK(held[0] != NULL);
    CHECK_EQ(c.count, HALF - 1);
    CHECK_EQ(shared_count(mp), 64 - HALF);
    for (int i = 0; i < HALF - 1; i++)
        CHECK((held[nheld++] = beat_mempool_alloc(mp, &c)) != NULL);
    CHECK_EQ(c.count, 0);
    CHECK_EQ(shared_count(mp), 64 - HALF); // served from the cache alone

    // LIFO: a block freed to the cache is the next one allocated from it.
    void *p = held[3];
    beat_mempool_free(mp, &c, p);
    CHECK_EQ(c.count, 1);
    CHECK(beat_mempool_alloc(mp, &c) == p);
    CHECK_EQ(c.count, 0);

    // Spill: a full cache moves half to the shared list, keeping the oldest.
    beat_mempool_cache s = {{NULL}, 0};
    while (nheld < 64 - 8) // the rest of the shared list but 8 blocks
        CHECK((held[nheld++] = beat_mempool_alloc(mp, NULL)) != NULL);
    CHECK_EQ(shared_count(mp), 8);
    for (int i = 0; i < BEAT_MEMPOOL_CACHE_SIZE; i++)
        beat_mempool_free(mp, &s, held[i]);
    CHECK_EQ(s.count, BEAT_MEMPOOL_CACHE_SIZE);
    CHECK_EQ(shared_count(mp), 8); // nothing spilled yet
    beat_mempool_free(mp, &s, held[BEAT_MEMPOOL_CACHE_SIZE]);
    CHECK_EQ(s.count, HALF + 1);
    CHECK_EQ(shared_count(mp), 8 + HALF);
    for (int i = 0; i < HALF; i++) {
        CHECK_MSG(s.blocks[i] == held[i], "cache slot %d changed by the spill", i);
        CHECK_MSG(!shared_contains(mp, held[i]), "kept block %d is also on the shared list", i);
        CHECK_MSG(shared_contains(mp, held[HALF + i]), "spilled block %d not on the shared list",
                  HALF + i);
    }
    CHECK(s.blocks[HALF] == held[BEAT_MEMPOOL_CACHE_SIZE]);

    // A refill takes only what the shared list has.
    beat_mempool_cache r = {{NULL}, 0};
    void *more[8 + HALF];
    int nmore = 0;
    while (nmore < 8 + HALF - 3)
        CHECK((more[nmore++] = beat_mempool_alloc(mp, NULL)) != NULL);
    CHECK_EQ(shared_count(mp), 3);
    CHECK((more[nmore++] = beat_mempool_alloc(mp, &r)) != NULL);
    CHECK_EQ(r.count, 2);
    CHECK_EQ(shared_count(mp), 0);
    CHECK((more[nmore++] = beat_mempool_alloc(mp, &r)) != NULL);
    CHECK((more[nmore++] = beat_mempool_alloc(mp, &r)) != NULL);
    CHECK_EQ(r.count, 0);

    // Empty cache and empty shared list: the pool grows by one slab.
    long long calls = t.calls;
    void *grown = beat_mempool_alloc(mp, &r);
    CHECK(grown != NULL);
    CHECK_EQ(t.calls, calls + 1);
    CHECK_EQ(pool_slabs(mp), 2);
    CHECK(track_owns(&t, grown, 32));

    // Everything back: the three caches flushed, all blocks on the list.
    beat_mempool_free(mp, &r, grown);
    for (int i = 0; i < nmore; i++)
        beat_mempool_free(mp, &r, more[i]);
    for (int i = BEAT_MEMPOOL_CACHE_SIZE + 1; i < nheld; i++)
        beat_mempool_free(mp, &c, held[i]);
    beat_mempool_cache_flush(mp, &c);
    beat_mempool_cache_flush(mp, &s);
    beat_mempool_cache_flush(mp, &r);
    CHECK_EQ(c.count + s.count + r.count, 0);
    CHECK_EQ(shared_count(mp), 64 + 128);
    beat_mempool_destroy(mp);
    CHECK_EQ(t.allocs, 0);
    CHECK_EQ(t.bad_free, 0);
    track_fini(&t);
}

static void cache_flush_returns_every_block_to_the_shared_list(void)
{
    enum { CACHES = 5, N = 448 }; // slabs 0..2 exactly
    static void *blocks[N];
    track_alloc t;
    track_init(&t);
    beat_allocator a = track_allocator(&t);
    beat_mempool *mp = NULL;
    CHECK_EQ(beat_mempool_create(80, 0, &a, &mp), BEAT_OK);
    beat_mempool_cache caches[CACHES];
    memset(caches, 0, sizeof caches);
    for (int i = 0; i < N; i++)
        CHECK((blocks[i] = beat_mempool_alloc(mp, NULL)) != NULL);
    CHECK_EQ(pool_slabs(mp), 3);
    CHECK_EQ(pool_capacity(mp), N);
    // Uneven amounts back into each cache (some spill, some do not).
    uint64_t state = 0x1234567;
    for (int i = 0; i < N; i++)
        beat_mempool_free(mp, &caches[rng_next(&state) % CACHES], blocks[i]);
    unsigned cached = 0;
    for (int i = 0; i < CACHES; i++)
        cached += caches[i].count;
    CHECK(cached > 0);
    CHECK_EQ(shared_count(mp) + cached, N);
    for (int i = 0; i < CACHES; i++) {
        beat_mempool_cache_flush(mp, &caches[i]);
        CHECK_EQ(caches[i].count, 0);
    }
    CHECK_EQ(shared_count(mp), N);
    beat_mempool_cache_flush(mp, &caches[0]); // flushing an empty cache changes nothing
    CHECK_EQ(shared_count(mp), N);

    // All of them allocatable again without a new slab; one more grows.
    long long calls = t.calls;
    for (int i = 0; i < N; i++)
        CHECK((blocks[i] = beat_mempool_alloc(mp, NULL)) != NULL);
    CHECK_EQ(t.calls, calls);
    void *extra = beat_mempool_alloc(mp, NULL);
    CHECK(extra != NULL);
    CHECK_EQ(t.calls, calls + 1);
    beat_mempool_free(mp, NULL, extra);
    for (int i = 0; i < N; i++)
        beat_mempool_free(mp, NULL, blocks[i]);
    bt_note("%u blocks were in %d caches before the flushes; afterwards all %d on the shared list",
            cached, CACHES, N);
    beat_mempool_destroy(mp);
    CHECK_EQ(t.allocs, 0);
    CHECK_EQ(t.bad_free, 0);
    track_fini(&t);
}

// ---------------------------------------------------------------------------
// NULL handling

static void null_arguments_are_handled(void)
{
    beat_mempool_cache cache = {{NULL}, 0};
    CHECK(beat_mempool_alloc(NULL, NULL) == NULL);
    CHECK(beat_mempool_alloc(NULL, &cache) == NULL);
    CHECK_EQ(cache.count, 0);
    beat_mempool_destroy(NULL);
    beat_mempool_cache_flush(NULL, &cache);
    CHECK_EQ(beat_mempool_block_size(NULL), 0);

    beat_mempool *mp = NULL;
    CHECK_EQ(beat_mempool_create(32, 0, NULL, &mp), BEAT_OK);
    void *p = beat_mempool_alloc(mp, &cache);
    CHECK(p != NULL);
    unsigned count = cache.count;
    uint64_t shared = shared_count(mp);
    beat_mempool_free(mp, &cache, NULL);
    beat_mempool_free(mp, NULL, NULL);
    beat_mempool_free(NULL, &cache, p); // no pool: nothing happens
    beat_mempool_cache_flush(mp, NULL);
    CHECK_EQ(cache.count, count);
    CHECK_EQ(shared_count(mp), shared);
    beat_mempool_free(mp, &cache, p);
    CHECK_EQ(cache.count, count + 1);
    beat_mempool_cache_flush(mp, &cache);
    CHECK_EQ(shared_count(mp), 64); // slab 0, all free again
    beat_mempool_destroy(mp);
}

// ---------------------------------------------------------------------------
// Stress: blocks allocated on one thread, stamped, handed to another thread
// through a mailbox, verified there and freed there.

#define STRESS_MAX_THREADS 8
#define MAILBOX_CAP 128
#define STRESS_BATCH 64

typedef struct stamped {
    uint64_t *block;
    uint64_t stamp;
} stamped;

typedef struct mailbox {
    pthread_mutex_t lock;
    stamped items[MAILBOX_CAP];
    unsigned count;
} mailbox;

typedef struct stress_shared {
    beat_mempool *mp;
    size_t words; // block_size / 8
    unsigned threads;
    int use_cache;
    long long ops_per_thread;
    mailbox box[STRESS_MAX_THREADS];
    uint32_t go;   // 0 until every thread exists, then 1 (run) or 2 (give up)
    uint32_t done; // threads that stopped allocating
    // Totals, atomically added.
    long long allocs, frees, handed, corrupt, nulls;
    pthread_mutex_t err_lock;
    char err[256];
} stress_shared;

typedef struct stress_thread {
    stress_shared *s;
    unsigned id;
    pthread_t thread;
    beat_mempool_cache cache;
} stress_thread;

static uint64_t stamp_word(uint64_t stamp, size_t j)
{
    return stamp ^ ((uint64_t)j * 0x9E3779B97F4A7C15ull);
}

static void stress_error(stress_shared *s, const char *fmt, ...)
{
    va_list args;
    pthread_mutex_lock(&s->err_lock);
    if (s->err[0] == '\0') {
        va_start(args, fmt);
        vsnprintf(s->err, sizeof s->err, fmt, args);
        va_end(args);
    }
    pthread_mutex_unlock(&s->err_lock);
}

static void stress_check_free(stress_thread *th, stamped item)
{
    stress_shared *s = th->s;
    for (size_t j = 0; j < s->words; j++) {
        if (item.block[j] != stamp_word(item.stamp, j)) {
            __atomic_fetch_add(&s->corrupt, 1, __ATOMIC_RELAXED);
            stress_error(s,
                         "thread %u: block %p word %zu is %016llx, want %016llx (stamped by "
                         "thread %u): handed out twice?",
                         th->id, (void *)item.block, j, (unsigned long long)item.block[j],
                         (unsigned long long)stamp_word(item.stamp, j),
                         (unsigned)(item.stamp >> 48));
            break;
        }
    }
    beat_mempool_free(s->mp, s->use_cache ? &th->cache : NULL, item.block);
    __atomic_fetch_add(&s->frees, 1, __ATOMIC_RELAXED);
}

static void stress_drain(stress_thread *th)
{
    stamped items[MAILBOX_CAP];
    mailbox *box = &th->s->box[th->id];
    pthread_mutex_lock(&box->lock);
    unsigned n = box->count;
    memcpy(items, box->items, n * sizeof items[0]);
    box->count = 0;
    pthread_mutex_unlock(&box->lock);
    for (unsigned i = 0; i < n; i++)
        stress_check_free(th, items[i]);
}

static int stress_send(stress_shared *s, unsigned to, stamped item)
{
    mailbox *box = &s->box[to];
    int sent = 0;
    pthread_mutex_lock(&box->lock);
    if (box->count < MAILBOX_CAP) {
        box->items[box->count++] = item;
        sent = 1;
    }
    pthread_mutex_unlock(&box->lock);
    return sent;
}

static void *stress_main(void *arg)
{
    stress_thread *th = (stress_thread *)arg;
    stress_shared *s = th->s;
    beat_mempool_cache *cache = s->use_cache ? &th->cache : NULL;
    uint64_t rng = 0x9E3779B97F4A7C15ull * (th->id + 1);
    uint64_t seq = 0;
    long long requested = 0, allocated = 0, handed = 0;
    stamped held[STRESS_BATCH];
    uint32_t go;
    while ((go = __atomic_load_n(&s->go, __ATOMIC_ACQUIRE)) == 0)
        sched_yield();
    if (go != 1)
        return NULL; // a sibling could not be created: nobody would empty its mailbox
    while (requested < s->ops_per_thread) {
        stress_drain(th);
        long long n = 1 + (long long)(rng_next(&rng) % STRESS_BATCH);
        if (n > s->ops_per_thread - requested)
            n = s->ops_per_thread - requested;
        int k = 0;
        for (long long i = 0; i < n; i++) {
            uint64_t *b = (uint64_t *)beat_mempool_alloc(s->mp, cache);
            if (b == NULL) {
                __atomic_fetch_add(&s->nulls, 1, __ATOMIC_RELAXED);
                continue;
            }
            uint64_t stamp = ((uint64_t)th->id << 48) | (++seq & 0xFFFFFFFFFFFFull);
            for (size_t j = 0; j < s->words; j++)
                b[j] = stamp_word(stamp, j);
            held[k].block = b;
            held[k].stamp = stamp;
            k++;
        }
        requested += n;
        allocated += k;
        for (int i = 0; i < k; i++) {
            uint64_t r = rng_next(&rng);
            if (s->threads > 1 && (r & 3) != 0) {
                // Three in four go to a random other thread. While its mailbox
                // is full, empty our own (so two senders never wait for each
                // other) and let it run.
                unsigned to = (th->id + 1 + (unsigned)((r >> 8) % (s->threads - 1))) % s->threads;
                while (!stress_send(s, to, held[i])) {
                    stress_drain(th);
                    sched_yield();
                }
                handed++;
            } else {
                stress_check_free(th, held[i]);
            }
        }
    }
    __atomic_fetch_add(&s->allocs, allocated, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s->handed, handed, __ATOMIC_RELAXED);
    // Release: every send happens before another thread sees the count.
    __atomic_fetch_add(&s->done, 1, __ATOMIC_RELEASE);
    for (;;) {
        int all = __atomic_load_n(&s->done, __ATOMIC_ACQUIRE) == s->threads;
        stress_drain(th);
        if (all)
            break;
        sched_yield();
    }
    if (cache != NULL)
        beat_mempool_cache_flush(s->mp, cache);
    return NULL;
}

static void stress_run(unsigned threads, int use_cache)
{
    static stress_shared s;
    static stress_thread th[STRESS_MAX_THREADS];
    long long total = BT_SCALE(2000000, 200000);
    track_alloc t;
    track_init(&t);
    beat_allocator a = track_allocator(&t);
    memset(&s, 0, sizeof s);
    memset(th, 0, sizeof th);
    CHECK_EQ(beat_mempool_create(40, 0, &a, &s.mp), BEAT_OK); // 48-byte blocks
    s.words = beat_mempool_block_size(s.mp) / 8;
    s.threads = threads;
    s.use_cache = use_cache;
    s.ops_per_thread = total / threads;
    pthread_mutex_init(&s.err_lock, NULL);
    for (unsigned i = 0; i < threads; i++)
        pthread_mutex_init(&s.box[i].lock, NULL);

    double start = bt_seconds();
    unsigned started = 0;
    for (unsigned i = 0; i < threads; i++) {
        th[i].s = &s;
        th[i].id = i;
        if (pthread_create(&th[i].thread, NULL, stress_main, &th[i]) != 0)
            break;
        started++;
    }
    __atomic_store_n(&s.go, started == threads ? 1 : 2, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i].thread, NULL);
    double seconds = bt_seconds() - start;
    CHECK_EQ(started, threads);

    CHECK_MSG(s.corrupt == 0, "%lld corrupted blocks; first: %s", s.corrupt, s.err);
    CHECK_EQ(s.nulls, 0);
    CHECK_EQ(s.allocs, s.ops_per_thread * threads);
    CHECK_MSG(s.frees == s.allocs, "%lld allocated, %lld freed", s.allocs, s.frees);
    for (unsigned i = 0; i < threads; i++) {
        CHECK_EQ(s.box[i].count, 0);
        CHECK_EQ(th[i].cache.count, 0);
    }
    uint32_t slabs = pool_slabs(s.mp);
    uint64_t capacity = pool_capacity(s.mp);
    CHECK_MSG(shared_count(s.mp) == capacity, "%llu of %llu blocks on the shared list at the end",
              (unsigned long long)shared_count(s.mp), (unsigned long long)capacity);
    beat_mempool_destroy(s.mp);
    CHECK_EQ(t.allocs, 0);
    CHECK_EQ(t.bytes, 0);
    CHECK_EQ(t.bad_free, 0);
    bt_note("%u threads, %s: %lld allocs/frees (%lld freed by another thread), %u slabs = %llu "
            "blocks of %zu bytes, %.2f s",
            threads, use_cache ? "per-thread caches" : "no cache (shared list only)", s.allocs,
            s.handed, slabs, (unsigned long long)capacity, s.words * 8, seconds);
    for (unsigned i = 0; i < threads; i++)
        pthread_mutex_destroy(&s.box[i].lock);
    pthread_mutex_destroy(&s.err_lock);
    track_fini(&t);
}

static void stress_cross_thread_free_with_caches_2_threads(void) { stress_run(2, 1); }
static void stress_cross_thread_free_with_caches_4_threads(void) { stress_run(4, 1); }
static void stress_cross_thread_free_with_caches_8_threads(void) { stress_run(8, 1); }
static void stress_cross_thread_free_shared_list_only_4_threads(void) { stress_run(4, 0); }

// ---------------------------------------------------------------------------
// Concurrent growth from an empty pool: every block distinct.

typedef struct grow_arg {
    beat_mempool *mp;
    void **out;
    int n, use_cache;
    long long nulls;
} grow_arg;

static void *grow_main(void *arg)
{
    grow_arg *g = (grow_arg *)arg;
    beat_mempool_cache cache = {{NULL}, 0};
    for (int i = 0; i < g->n; i++) {
        g->out[i] = beat_mempool_alloc(g->mp, g->use_cache ? &cache : NULL);
        if (g->out[i] == NULL)
            g->nulls++;
        else
            *(uint32_t *)g->out[i] = 0xB10C0000u | (uint32_t)i;
    }
    beat_mempool_cache_flush(g->mp, &cache); // whatever the cache kept
    return NULL;
}

static void concurrent_growth_hands_out_distinct_blocks(void)
{
    enum { T = 4, PER = 3000 };
    static void *blocks[T * PER];
    for (int use_cache = 0; use_cache <= 1; use_cache++) {
        track_alloc t;
        track_init(&t);
        beat_allocator a = track_allocator(&t);
        beat_mempool *mp = NULL;
        CHECK_EQ(beat_mempool_create(16, 0, &a, &mp), BEAT_OK);
        grow_arg g[T];
        pthread_t th[T];
        for (int i = 0; i < T; i++) {
            g[i].mp = mp;
            g[i].out = blocks + i * PER;
            g[i].n = PER;
            g[i].use_cache = use_cache;
            g[i].nulls = 0;
            CHECK(pthread_create(&th[i], NULL, grow_main, &g[i]) == 0);
        }
        for (int i = 0; i < T; i++) {
            pthread_join(th[i], NULL);
            CHECK_EQ(g[i].nulls, 0);
        }
        qsort(blocks, T * PER, sizeof blocks[0], compare_ptr);
        for (int i = 0; i + 1 < T * PER; i++)
            CHECK_MSG(blocks[i] != blocks[i + 1], "block %p handed out twice", blocks[i]);
        for (int i = 0; i < T * PER; i++)
            CHECK(track_owns(&t, blocks[i], 16));
        uint64_t capacity = pool_capacity(mp);
        CHECK(capacity >= T * PER);
        CHECK_EQ(shared_count(mp), capacity - T * PER);
        for (int i = 0; i < T * PER; i++)
            beat_mempool_free(mp, NULL, blocks[i]);
        CHECK_EQ(shared_count(mp), capacity);
        bt_note("%s: %d threads took %d blocks from an empty pool; it grew to %u slabs (%llu "
                "blocks)",
                use_cache ? "caches" : "no cache", T, T * PER, pool_slabs(mp),
                (unsigned long long)capacity);
        beat_mempool_destroy(mp);
        CHECK_EQ(t.allocs, 0);
        CHECK_EQ(t.bad_free, 0);
        track_fini(&t);
    }
}

// ---------------------------------------------------------------------------
// ABA hammer: a few threads alloc/free on the shared list (no cache) with 1-3
// blocks each, while the free list holds only a few more blocks, so the same
// blocks keep passing through the head. A per-block owner word (a side table,
// not in the block) is exchanged on alloc and free: a block handed to two
// threads at once shows as a non-zero previous owner.

#define ABA_POOL 64

typedef struct aba_shared {
    beat_mempool *mp;
    unsigned threads;
    long long ops_per_thread;
    uint32_t owner[ABA_POOL];
    long long violations, nulls, foreign;
} aba_shared;

typedef struct aba_thread {
    aba_shared *s;
    unsigned id;
    pthread_t thread;
} aba_thread;

static void *aba_main(void *arg)
{
    aba_thread *th = (aba_thread *)arg;
    aba_shared *s = th->s;
    uint32_t me = th->id + 1;
    unsigned cap = 1 + th->id % 3;
    void *held[3];
    unsigned k = 0;
    uint64_t rng = 0xD1B54A32D192ED03ull * me;
    for (long long op = 0; op < s->ops_per_thread; op++) {
        uint64_t r = rng_next(&rng);
        if (k == 0 || (k < cap && (r & 1))) {
            void *p = beat_mempool_alloc(s->mp, NULL);
            if (p == NULL) {
                __atomic_fetch_add(&s->nulls, 1, __ATOMIC_RELAXED);
                continue;
            }
            uint32_t index = beat__mempool_index(s->mp, p);
            if (index >= ABA_POOL) {
                __atomic_fetch_add(&s->foreign, 1, __ATOMIC_RELAXED);
                continue;
            }
            if (__atomic_exchange_n(&s->owner[index], me, __ATOMIC_ACQ_REL) != 0)
                __atomic_fetch_add(&s->violations, 1, __ATOMIC_RELAXED);
            held[k++] = p;
        } else {
            unsigned i = (unsigned)((r >> 1) % k);
            void *p = held[i];
            held[i] = held[--k];
            uint32_t index = beat__mempool_index(s->mp, p);
            if (__atomic_exchange_n(&s->owner[index], 0, __ATOMIC_ACQ_REL) != me)
                __atomic_fetch_add(&s->violations, 1, __ATOMIC_RELAXED);
            beat_mempool_free(s->mp, NULL, p);
        }
    }
    while (k > 0) {
        void *p = held[--k];
        uint32_t index = beat__mempool_index(s->mp, p);
        if (__atomic_exchange_n(&s->owner[index], 0, __ATOMIC_ACQ_REL) != me)
            __atomic_fetch_add(&s->violations, 1, __ATOMIC_RELAXED);
        beat_mempool_free(s->mp, NULL, p);
    }
    return NULL;
}

static void aba_run(unsigned threads)
{
    static aba_shared s;
    aba_thread th[3];
    void *parked[ABA_POOL];
    memset(&s, 0, sizeof s);
    s.threads = threads;
    s.ops_per_thread = BT_SCALE(12000000, 200000) / threads;
    CHECK_EQ(beat_mempool_create(16, ABA_POOL, NULL, &s.mp), BEAT_OK);
    // Keep all but (working sets + 2) blocks out of play.
    unsigned in_play = 2;
    for (unsigned i = 0; i < threads; i++)
        in_play += 1 + i % 3;
    unsigned nparked = 0;
    while (nparked < ABA_POOL - in_play)
        CHECK((parked[nparked++] = beat_mempool_alloc(s.mp, NULL)) != NULL);
    CHECK_EQ(shared_count(s.mp), in_play);

    double start = bt_seconds();
    for (unsigned i = 0; i < threads; i++) {
        th[i].s = &s;
        th[i].id = i;
        CHECK(pthread_create(&th[i].thread, NULL, aba_main, &th[i]) == 0);
    }
    for (unsigned i = 0; i < threads; i++)
        pthread_join(th[i].thread, NULL);
    double seconds = bt_seconds() - start;

    uint64_t tag = beat__atomic_load_u64(&s.mp->head, BEAT__MO_RELAXED) >> 32;
    CHECK_MSG(s.violations == 0, "%lld times a block was held by two threads at once",
              s.violations);
    CHECK_EQ(s.foreign, 0);
    CHECK_EQ(s.nulls, 0);
    for (unsigned i = 0; i < ABA_POOL; i++)
        CHECK_EQ(s.owner[i], 0);
    CHECK_EQ(shared_count(s.mp), in_play);
    CHECK_EQ(pool_slabs(s.mp), 1);
    for (unsigned i = 0; i < nparked; i++)
        beat_mempool_free(s.mp, NULL, parked[i]);
    CHECK_EQ(shared_count(s.mp), ABA_POOL);
    bt_note("%u threads, %lld alloc/free ops on a free list of %u blocks (1-3 held per "
            "thread), head tag advanced %llu times, %.2f s",
            threads, s.ops_per_thread * threads, in_play, (unsigned long long)tag, seconds);
    beat_mempool_destroy(s.mp);
}

static void aba_shared_list_never_hands_a_block_to_two_threads_2_threads(void) { aba_run(2); }
static void aba_shared_list_never_hands_a_block_to_two_threads_3_threads(void) { aba_run(3); }

// Resident pages of this process (/proc/self/statm, second field).
static long resident_pages(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = -1;
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = -1;
        fclose(f);
    }
    return resident;
}

static void trim_releases_pages_of_free_blocks_and_keeps_used_ones(void)
{
    beat_mempool *mp = NULL;
    CHECK_EQ(beat_mempool_create(64, 0, NULL, &mp), BEAT_OK);
    CHECK_EQ(beat_mempool_trim(mp), 0); // nothing allocated yet
    enum { N = 1 << 18 };               // 16 MiB of blocks
    static unsigned char *blocks[N];
    for (unsigned i = 0; i < N; i++) {
        blocks[i] = (unsigned char *)beat_mempool_alloc(mp, NULL);
        CHECK(blocks[i] != NULL);
        memset(blocks[i], (int)(i & 0xff), 64);
    }
    // Free all but every 1024th block (one in use per 64 KiB).
    for (unsigned i = 0; i < N; i++)
        if (i % 1024 != 0)
            beat_mempool_free(mp, NULL, blocks[i]);
    long before = resident_pages();
    size_t released = beat_mempool_trim(mp);
    long after = resident_pages();
    bt_note("trim released %zu KiB; resident %ld -> %ld pages", released >> 10, before, after);
    CHECK_MSG(released >= (size_t)N * 64 / 2, "released only %zu bytes of %u", released, N * 64);
    CHECK(before < 0 || after < before);
    for (unsigned i = 0; i < N; i += 1024) // blocks in use keep their contents
        for (unsigned b = 0; b < 64; b++)
            CHECK_MSG(blocks[i][b] == (unsigned char)(i & 0xff), "block %u byte %u changed", i, b);
    // The trimmed blocks are all allocatable and writable again.
    for (unsigned i = 0; i < N; i++) {
        if (i % 1024 == 0)
            continue;
        blocks[i] = (unsigned char *)beat_mempool_alloc(mp, NULL);
        CHECK(blocks[i] != NULL);
        memset(blocks[i], 0x5a, 64);
    }
    CHECK(beat_mempool_alloc(mp, NULL) != NULL); // and the pool still grows
    CHECK_EQ(beat_mempool_trim(NULL), 0);
    beat_mempool_destroy(mp);
}

static void trim_during_concurrent_alloc_and_free_loses_no_block(void);

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(trim_releases_pages_of_free_blocks_and_keeps_used_ones),
        BT_CASE(trim_during_concurrent_alloc_and_free_loses_no_block),
        BT_CASE(create_validates_arguments),
        BT_CASE(block_size_rounds_up_to_16_and_blocks_are_16_byte_aligned),
        BT_CASE(every_allocation_goes_through_the_allocator_and_destroy_returns_it),
        BT_CASE(alloc_returns_distinct_writable_blocks_and_reuses_freed_ones),
        BT_CASE(max_blocks_caps_the_pool_and_a_freed_block_is_allocatable_again),
        BT_CASE(allocator_failure_returns_null_leaks_nothing_and_recovers),
        BT_CASE(cache_refills_half_from_the_shared_list_and_spills_half_when_full),
        BT_CASE(cache_flush_returns_every_block_to_the_shared_list),
        BT_CASE(null_arguments_are_handled),
        BT_CASE(concurrent_growth_hands_out_distinct_blocks),
        BT_CASE(stress_cross_thread_free_with_caches_2_threads),
        BT_CASE(stress_cross_thread_free_with_caches_4_threads),
        BT_CASE(stress_cross_thread_free_with_caches_8_threads),
        BT_CASE(stress_cross_thread_free_shared_list_only_4_threads),
        BT_CASE(aba_shared_list_never_hands_a_block_to_two_threads_2_threads),
        BT_CASE(aba_shared_list_never_hands_a_block_to_two_threads_3_threads),
    };
    return BT_RUN(cases);
}

// Two threads allocate, write, check and free blocks while a third trims
// in a loop: every block handed out is distinct (its pattern survives) and
// at the end every block is back on the list.
typedef struct trim_worker {
    beat_mempool *mp;
    unsigned id, rounds;
    unsigned long long bad;
} trim_worker;

static int trim_stop;

static void *trim_churn(void *arg)
{
    trim_worker *w = (trim_worker *)arg;
    beat_mempool_cache cache;
    memset(&cache, 0, sizeof cache);
    unsigned char *held[256];
    for (unsigned r = 0; r < w->rounds; r++) {
        for (unsigned i = 0; i < 256; i++) {
            held[i] = (unsigned char *)beat_mempool_alloc(w->mp, r % 2 ? &cache : NULL);
            if (held[i] != NULL)
                memset(held[i], (int)(w->id * 16 + i % 16), 64);
        }
        for (unsigned i = 0; i < 256; i++) {
            if (held[i] == NULL)
                continue;
            for (unsigned b = 0; b < 64; b++)
                w->bad += held[i][b] != (unsigned char)(w->id * 16 + i % 16);
            beat_mempool_free(w->mp, r % 2 ? &cache : NULL, held[i]);
        }
    }
    beat_mempool_cache_flush(w->mp, &cache);
    return NULL;
}

static void *trim_loop(void *arg)
{
    beat_mempool *mp = (beat_mempool *)arg;
    size_t total = 0;
    struct timespec pause = {0, 20000};
    while (!__atomic_load_n(&trim_stop, __ATOMIC_ACQUIRE)) {
        total += beat_mempool_trim(mp);
        nanosleep(&pause, NULL);
    }
    return (void *)(uintptr_t)(total != 0);
}

static void trim_during_concurrent_alloc_and_free_loses_no_block(void)
{
    beat_mempool *mp = NULL;
    CHECK_EQ(beat_mempool_create(64, 0, NULL, &mp), BEAT_OK);
    trim_worker w[2] = {{mp, 1, BT_SCALE(2000, 200), 0}, {mp, 2, BT_SCALE(2000, 200), 0}};
    pthread_t t[2], trimmer;
    __atomic_store_n(&trim_stop, 0, __ATOMIC_RELEASE);
    CHECK(pthread_create(&trimmer, NULL, trim_loop, mp) == 0);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, trim_churn, &w[i]) == 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    __atomic_store_n(&trim_stop, 1, __ATOMIC_RELEASE);
    pthread_join(trimmer, NULL);
    CHECK_EQ(w[0].bad + w[1].bad, 0);
    bt_note("%u rounds x 256 blocks in each of 2 threads while trimming", w[0].rounds);
    beat_mempool_destroy(mp);
}
