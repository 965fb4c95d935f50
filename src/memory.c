// Memory: the allocator shim every allocation goes through, and lock-free
// fixed-size pools (per-thread caches over a shared free list).
#include "atomics.h"

#include <string.h>

// ---------------------------------------------------------------------------
// Allocator shim

BEAT__PRIVATE int beat__allocator_valid(const beat_allocator *a)
{
    return (a->alloc == NULL) == (a->free == NULL);
}

// size bytes aligned to align (a power of two), or NULL. Without user
// functions: BEAT_MALLOC with room for the alignment and a back pointer.
BEAT__PRIVATE void *beat__alloc(const beat_allocator *a, size_t size, size_t align)
{
    if (a->alloc != NULL)
        return a->alloc(size, align, a->user);
    if (size > SIZE_MAX - align - sizeof(void *))
        return NULL;
    unsigned char *raw = (unsigned char *)BEAT_MALLOC(size + align + sizeof(void *));
    if (raw == NULL)
        return NULL;
    uintptr_t start = (uintptr_t)(raw + sizeof(void *));
    unsigned char *p = raw + sizeof(void *) + ((align - (start & (align - 1))) & (align - 1));
    memcpy(p - sizeof(void *), &raw, sizeof raw);
    return p;
}

BEAT__PRIVATE void beat__free(const beat_allocator *a, void *p, size_t size, size_t align)
{
    if (p == NULL)
        return;
    if (a->free != NULL) {
        a->free(p, size, align, a->user);
        return;
    }
    void *raw;
    memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof raw);
    BEAT_FREE(raw);
}

// ---------------------------------------------------------------------------
// Fixed-size pools
//
// Blocks are numbered 0..2^32-2. Slab k holds BEAT__SLAB0 << k blocks, so
// 26 slabs cover the whole index space and block i's slab is found with one
// bit scan. The shared free list is a Treiber stack whose head packs a
// 32-bit tag (bumped by every successful CAS, so a stale head never matches:
// ABA-safe) with index+1 of the first free block (0 = empty). The links
// (index+1 of the next free block) live in an array after the slab's blocks,
// not in the blocks: a popper may read the link of a block that another
// thread has just taken (its CAS then fails), and that thread is already
// writing the block. Links are only ever accessed atomically, so that read
// is no data race. Slabs are never returned before destroy.

#define BEAT__SLAB0_SHIFT 6
#define BEAT__SLAB0 (1u << BEAT__SLAB0_SHIFT)
#define BEAT__MAX_SLABS 26
#define BEAT__MEMPOOL_ALIGN 16

struct beat_mempool {
    uint64_t head BEAT__ALIGNED(BEAT_CACHELINE); // (tag << 32) | (index + 1); CAS by all
    unsigned char *slabs[BEAT__MAX_SLABS] BEAT__ALIGNED(BEAT_CACHELINE); // release-published
    uint32_t slab_count; // slabs published; written under grow_lock
    uint32_t grow_lock;  // 1 while a thread adds a slab
    size_t block_size;
    uint64_t max_blocks;
    beat_allocator allocator;
};

BEAT__PRIVATE uint64_t beat__slab_first(uint32_t k)
{
    return (uint64_t)BEAT__SLAB0 * ((1ull << k) - 1);
}
BEAT__PRIVATE uint64_t beat__slab_blocks(uint32_t k) { return (uint64_t)BEAT__SLAB0 << k; }

// Bytes of slab k: its blocks, then one 32-bit link per block.
BEAT__PRIVATE size_t beat__slab_bytes(const beat_mempool *mp, uint32_t k)
{
    return (size_t)beat__slab_blocks(k) * (mp->block_size + sizeof(uint32_t));
}

BEAT__PRIVATE uint32_t beat__slab_of(uint32_t index)
{
    uint64_t scaled = ((uint64_t)index >> BEAT__SLAB0_SHIFT) + 1;
    return (uint32_t)(63 - __builtin_clzll(scaled));
}

BEAT__PRIVATE unsigned char *beat__mempool_slab(beat_mempool *mp, uint32_t k)
{
    // Acquire pairs with the release store that published the slab.
    return (unsigned char *)beat__atomic_load_ptr((void **)&mp->slabs[k], BEAT__MO_ACQUIRE);
}

BEAT__PRIVATE unsigned char *beat__mempool_block(beat_mempool *mp, uint32_t index)
{
    uint32_t k = beat__slab_of(index);
    return beat__mempool_slab(mp, k) + (size_t)(index - beat__slab_first(k)) * mp->block_size;
}

BEAT__PRIVATE uint32_t *beat__mempool_link(beat_mempool *mp, uint32_t index)
{
    uint32_t k = beat__slab_of(index);
    unsigned char *links = beat__mempool_slab(mp, k) + beat__slab_blocks(k) * mp->block_size;
    return (uint32_t *)(void *)links + (index - beat__slab_first(k));
}

// The index of a block of this pool, or UINT32_MAX for a foreign pointer.
BEAT__PRIVATE uint32_t beat__mempool_index(beat_mempool *mp, const void *block)
{
    uint32_t count = beat__atomic_load_u32(&mp->slab_count, BEAT__MO_ACQUIRE);
    uintptr_t p = (uintptr_t)block;
    for (uint32_t k = 0; k < count; k++) {
        uintptr_t base = (uintptr_t)mp->slabs[k];
        uintptr_t bytes = (uintptr_t)(beat__slab_blocks(k) * mp->block_size);
        if (p >= base && p < base + bytes && (p - base) % mp->block_size == 0)
            return (uint32_t)(beat__slab_first(k) + (p - base) / mp->block_size);
    }
    return UINT32_MAX;
}

// Pushes the chain first..last (already linked through their link words)
// onto the shared list with one CAS.
BEAT__PRIVATE void beat__mempool_push_chain(beat_mempool *mp, uint32_t first, uint32_t last)
{
    uint64_t head = beat__atomic_load_u64(&mp->head, BEAT__MO_RELAXED);
    for (;;) {
        beat__atomic_store_u32(beat__mempool_link(mp, last), (uint32_t)head, BEAT__MO_RELAXED);
        uint64_t next = (((head >> 32) + 1) << 32) | ((uint64_t)first + 1);
        // Release: the link words and the blocks' last contents happen before
        // a popper's acquire CAS that takes them.
        if (beat__atomic_cas_u64(&mp->head, &head, next, BEAT__MO_RELEASE, BEAT__MO_RELAXED))
            return;
    }
}

// A block from the shared list, or NULL when it is empty.
BEAT__PRIVATE void *beat__mempool_pop(beat_mempool *mp)
{
    // Acquire pairs with the release CAS of the push that made this head.
    uint64_t head = beat__atomic_load_u64(&mp->head, BEAT__MO_ACQUIRE);
    for (;;) {
        uint32_t first = (uint32_t)head;
        if (first == 0)
            return NULL;
        uint32_t next = beat__atomic_load_u32(beat__mempool_link(mp, first - 1), BEAT__MO_RELAXED);
        uint64_t want = (((head >> 32) + 1) << 32) | next;
        if (beat__atomic_cas_u64(&mp->head, &head, want, BEAT__MO_ACQUIRE, BEAT__MO_ACQUIRE))
            return beat__mempool_block(mp, first - 1);
    }
}

// Adds the next slab and pushes its blocks. 0 on success, -1 when the pool
// is at max_blocks or the allocator fails. Serialised by grow_lock; a thread
// that finds another one growing returns 0 and retries the list.
BEAT__PRIVATE int beat__mempool_grow(beat_mempool *mp)
{
    if (!beat__spin_trylock(&mp->grow_lock)) {
        beat__thread_yield();
        return 0;
    }
    // Another grower may have refilled the list while we waited for the lock.
    if ((uint32_t)beat__atomic_load_u64(&mp->head, BEAT__MO_RELAXED) != 0) {
        beat__spin_unlock(&mp->grow_lock);
        return 0;
    }
    int result = -1;
    uint32_t k = mp->slab_count;
    if (k < BEAT__MAX_SLABS && beat__slab_first(k) + beat__slab_blocks(k) <= mp->max_blocks &&
        beat__slab_blocks(k) <= SIZE_MAX / (mp->block_size + sizeof(uint32_t))) {
        unsigned char *slab =
            (unsigned char *)beat__alloc(&mp->allocator, beat__slab_bytes(mp, k), BEAT_CACHELINE);
        if (slab != NULL) {
            uint32_t first = (uint32_t)beat__slab_first(k);
            uint32_t count = (uint32_t)beat__slab_blocks(k);
            uint32_t *links = (uint32_t *)(void *)(slab + (size_t)count * mp->block_size);
            for (uint32_t i = 0; i + 1 < count; i++)
                links[i] = first + i + 2; // index + 1 of the next block; unpublished yet
            // Release: the slab's link words are visible to whoever sees the
            // slab pointer or the count.
            beat__atomic_store_ptr((void **)&mp->slabs[k], slab, BEAT__MO_RELEASE);
            beat__atomic_store_u32(&mp->slab_count, k + 1, BEAT__MO_RELEASE);
            beat__mempool_push_chain(mp, first, first + count - 1);
            result = 0;
        }
    }
    beat__spin_unlock(&mp->grow_lock);
    return result;
}

BEAT__DEF beat_result beat_mempool_create(size_t block_size, size_t max_blocks,
                                          const beat_allocator *allocator, beat_mempool **out)
{
    static const beat_allocator default_allocator = {NULL, NULL, NULL};
    if (out == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    *out = NULL;
    if (allocator == NULL)
        allocator = &default_allocator;
    if (block_size == 0 || block_size > ((size_t)1 << 20) || !beat__allocator_valid(allocator) ||
        (max_blocks != 0 && max_blocks < BEAT__SLAB0))
        return BEAT_ERROR_INVALID_ARGUMENT;
    beat_mempool *mp = (beat_mempool *)beat__alloc(allocator, sizeof(beat_mempool), BEAT_CACHELINE);
    if (mp == NULL)
        return BEAT_ERROR_OUT_OF_MEMORY;
    memset(mp, 0, sizeof *mp);
    mp->block_size = (block_size + BEAT__MEMPOOL_ALIGN - 1) & ~(size_t)(BEAT__MEMPOOL_ALIGN - 1);
    mp->max_blocks = max_blocks == 0 || max_blocks > UINT32_MAX - 1 ? UINT32_MAX - 1 : max_blocks;
    mp->allocator = *allocator;
    *out = mp;
    return BEAT_OK;
}

BEAT__DEF void beat_mempool_destroy(beat_mempool *mp)
{
    if (mp == NULL)
        return;
    for (uint32_t k = 0; k < mp->slab_count; k++)
        beat__free(&mp->allocator, mp->slabs[k], beat__slab_bytes(mp, k), BEAT_CACHELINE);
    beat_allocator allocator = mp->allocator;
    beat__free(&allocator, mp, sizeof(beat_mempool), BEAT_CACHELINE);
}

BEAT__PRIVATE void *beat__mempool_take(beat_mempool *mp)
{
    for (;;) {
        void *block = beat__mempool_pop(mp);
        if (block != NULL || beat__mempool_grow(mp) != 0)
            return block;
    }
}

BEAT__DEF void *beat_mempool_alloc(beat_mempool *mp, beat_mempool_cache *cache)
{
    if (mp == NULL)
        return NULL;
    if (cache == NULL)
        return beat__mempool_take(mp);
    if (cache->count == 0) {
        // Refill half the cache so a thread alternating alloc/free stays local.
        while (cache->count < BEAT_MEMPOOL_CACHE_SIZE / 2) {
            void *block = beat__mempool_pop(mp);
            if (block == NULL)
                break;
            cache->blocks[cache->count++] = block;
        }
        if (cache->count == 0)
            return beat__mempool_take(mp);
    }
    return cache->blocks[--cache->count];
}

// Releases the pages of slab k whose blocks are all marked in free_bits
// (bit i: block i is free). Returns the bytes released.
BEAT__PRIVATE size_t beat__mempool_release_slab(beat_mempool *mp, uint32_t k,
                                                const unsigned char *free_bits)
{
    size_t page = beat__page_size(), bs = mp->block_size, released = 0;
    uintptr_t base = (uintptr_t)mp->slabs[k];
    uintptr_t end = base + (uintptr_t)(beat__slab_blocks(k) * bs);
    uintptr_t p = (base + page - 1) / page * page; // first whole page
    uintptr_t run = 0;                             // start of a run of releasable pages, or 0
    uint64_t first = beat__slab_first(k);
    for (; p + page <= end + page; p += page) {
        int all_free = p + page <= end;
        for (uintptr_t b = (p - base) / bs; all_free && b * bs < p + page - base; b++) {
            uint64_t i = first + b;
            all_free = (free_bits[i / 8] >> (i % 8)) & 1;
        }
        if (all_free && run == 0)
            run = p;
        if (!all_free && run != 0) {
            if (beat__pages_release((void *)run, p - run) == 0)
                released += p - run;
            run = 0;
        }
    }
    return released;
}

BEAT__DEF size_t beat_mempool_trim(beat_mempool *mp)
{
    // Holding the grow lock keeps growers (and so the slab list) still, and
    // makes allocs that find the list empty wait for it.
    if (mp == NULL || !beat__spin_trylock(&mp->grow_lock))
        return 0;
    // Take the whole list. Acquire: pairs with the pushes' release CAS, so
    // the chain's link words are read below; the new tag makes every
    // popper that read the old head fail its CAS.
    uint64_t head = beat__atomic_load_u64(&mp->head, BEAT__MO_ACQUIRE);
    while (!beat__atomic_cas_u64(&mp->head, &head, ((head >> 32) + 1) << 32, BEAT__MO_ACQUIRE,
                                 BEAT__MO_ACQUIRE)) {
    }
    size_t released = 0;
    uint32_t first = (uint32_t)head;
    if (first != 0) {
        uint32_t slabs = mp->slab_count;
        size_t bytes = (size_t)((beat__slab_first(slabs) + 7) / 8);
        unsigned char *free_bits = (unsigned char *)beat__alloc(&mp->allocator, bytes, 16);
        if (free_bits != NULL)
            memset(free_bits, 0, bytes);
        // Walk the chain (it is ours: it ends with link 0), marking it.
        uint32_t last = first - 1;
        for (uint32_t link = first; link != 0;) {
            last = link - 1;
            if (free_bits != NULL)
                free_bits[last / 8] |= (unsigned char)(1u << (last % 8));
            // Relaxed: ordered by the acquire CAS above.
            link = beat__atomic_load_u32(beat__mempool_link(mp, last), BEAT__MO_RELAXED);
        }
        if (free_bits != NULL) {
            for (uint32_t k = 0; k < slabs; k++)
                released += beat__mempool_release_slab(mp, k, free_bits);
            beat__free(&mp->allocator, free_bits, bytes, 16);
        }
        beat__mempool_push_chain(mp, first - 1, last);
    }
    beat__spin_unlock(&mp->grow_lock);
    return released;
}

// Links cache->blocks[from..count) into a chain and pushes it. A pointer
// that is not a block of this pool (a caller's bug, caught by BEAT_ASSERT in
// debug builds) is dropped rather than corrupting the list.
BEAT__PRIVATE void beat__mempool_spill(beat_mempool *mp, beat_mempool_cache *cache, unsigned from)
{
    uint32_t first = UINT32_MAX, prev = UINT32_MAX;
    for (unsigned i = from; i < cache->count; i++) {
        uint32_t index = beat__mempool_index(mp, cache->blocks[i]);
        BEAT_ASSERT(index != UINT32_MAX && "beat_mempool_free: block is not from this pool");
        if (index == UINT32_MAX)
            continue;
        if (first == UINT32_MAX)
            first = index;
        else
            beat__atomic_store_u32(beat__mempool_link(mp, prev), index + 1, BEAT__MO_RELAXED);
        prev = index;
    }
    if (first != UINT32_MAX)
        beat__mempool_push_chain(mp, first, prev);
    cache->count = from;
}

BEAT__DEF void beat_mempool_free(beat_mempool *mp, beat_mempool_cache *cache, void *block)
{
    if (mp == NULL || block == NULL)
        return;
    if (cache == NULL) {
        uint32_t index = beat__mempool_index(mp, block);
        BEAT_ASSERT(index != UINT32_MAX && "beat_mempool_free: block is not from this pool");
        if (index != UINT32_MAX)
            beat__mempool_push_chain(mp, index, index);
        return;
    }
    if (cache->count == BEAT_MEMPOOL_CACHE_SIZE)
        beat__mempool_spill(mp, cache, BEAT_MEMPOOL_CACHE_SIZE / 2);
    cache->blocks[cache->count++] = block;
}

BEAT__DEF void beat_mempool_cache_flush(beat_mempool *mp, beat_mempool_cache *cache)
{
    if (mp != NULL && cache != NULL)
        beat__mempool_spill(mp, cache, 0);
}

BEAT__DEF size_t beat_mempool_block_size(const beat_mempool *mp)
{
    return mp == NULL ? 0 : mp->block_size;
}
