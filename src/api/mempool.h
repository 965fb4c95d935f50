// Lock-free fixed-size memory pools: blocks of one size, taken from
// per-thread caches over a shared lock-free free list. Beat uses them for its
// job records; they are public because engines want the same thing.
#include "pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct beat_mempool beat_mempool; // opaque

// A per-thread cache of free blocks. Zero-initialise it; one thread uses it
// at a time; give its blocks back with beat_mempool_cache_flush before the
// cache goes away (beat_mempool_destroy frees them either way).
#define BEAT_MEMPOOL_CACHE_SIZE 32
typedef struct beat_mempool_cache {
    void *blocks[BEAT_MEMPOOL_CACHE_SIZE];
    unsigned count;
} beat_mempool_cache;

// Creates a pool of blocks of block_size bytes (rounded up to 16; blocks are
// 16-byte aligned). Memory comes in slabs of 64, 128, 256, ... blocks from
// allocator (NULL = default) and returns to it only at destroy. max_blocks
// caps the pool (0 = 2^32 - 1); it is rounded down to a whole number of
// slabs (64, 192, 448, 960, ... blocks). With caches, alloc can return NULL
// at the cap while other threads' caches still hold free blocks.
// Errors: INVALID_ARGUMENT (out NULL, block_size 0 or > 1 MiB, max_blocks
// 1..63, half an allocator), OUT_OF_MEMORY. Thread safety: any thread.
BEAT_API beat_result beat_mempool_create(size_t block_size, size_t max_blocks,
                                         const beat_allocator *allocator, beat_mempool **out);

// Frees every slab. Blocks still in use become invalid. NULL is a no-op.
// Thread safety: once, when no other thread uses the pool.
BEAT_API void beat_mempool_destroy(beat_mempool *pool);

// A block, or NULL when the pool is at max_blocks or the allocator fails.
// cache may be NULL (then the shared list is used directly). Lock-free when
// a block is free; growing by a slab calls the allocator.
// Thread safety: any thread; a cache only from its own thread.
BEAT_API void *beat_mempool_alloc(beat_mempool *pool, beat_mempool_cache *cache);

// Returns block (from this pool) to cache, or to the shared list when cache
// is NULL or full (then half the cache moves). NULL block is a no-op.
// Thread safety: any thread; a cache only from its own thread.
BEAT_API void beat_mempool_free(beat_mempool *pool, beat_mempool_cache *cache, void *block);

// Moves every block of cache to the shared list. Thread safety: the cache's
// thread.
BEAT_API void beat_mempool_cache_flush(beat_mempool *pool, beat_mempool_cache *cache);

// Gives the memory of free blocks back to the system without freeing any
// slab: the whole shared free list is taken at once, every page whose
// blocks are all on it is released (madvise MADV_DONTNEED: it stays mapped
// and is backed again, with zeros, when a block on it is next used), and
// the list is put back. Blocks in caches and in use are left alone (flush
// caches first to include theirs). Uses a scratch bitmap of one bit per
// block from the allocator (nothing happens when that fails). Returns the
// bytes of the pages released, touched or not (0 also when another thread
// is growing or trimming the pool). Meanwhile an alloc that finds the
// shared list empty waits for it instead of growing. Meant for memory
// pressure, not hot paths (about 1 ms per 100 MB of slabs).
// Thread safety: any thread.
BEAT_API size_t beat_mempool_trim(beat_mempool *pool);

// Block size after rounding. Thread safety: any thread.
BEAT_API size_t beat_mempool_block_size(const beat_mempool *pool);

#ifdef __cplusplus
}
#endif
