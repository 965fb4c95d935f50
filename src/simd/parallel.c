// SIMD over a pool: the kernels of the SIMD section split with the pool's
// loops (api/simd_parallel.h). beat.h only. Reductions go through
// beat_pool_parallel_reduce (pieces combined left to right in a fixed tree),
// axpy through beat_pool_parallel_for; both over an index of blocks.
#include "dispatch.c"

// Bytes per block, and about how many pieces a reduction is cut into at
// most (the grain is a number of blocks chosen from n alone, so the split
// and hence the rounding never depend on the workers).
#define BEAT__SIMD_PAR_BLOCK_BYTES 16384u
#define BEAT__SIMD_PAR_PIECES 256u

// Arrays of at most BEAT_SIMD_PARALLEL_MIN_BYTES (x's bytes) run as one
// serial kernel call on the calling thread. Splitting pays only once the
// kernel is bound by memory bandwidth that more cores can pull: on the
// 2-CPU test VM (32 MiB L3) 2 workers were 0.5-0.9x the serial kernel from
// 8 KiB to 8 MiB, about even at 12-16 MiB, and 1.1-1.5x from 32 MiB
// (make -C bench simd ARGS="--sizes 4M,16M,64M"). Machines with more cores
// gain earlier: lower it there.
#ifndef BEAT_SIMD_PARALLEL_MIN_BYTES
#define BEAT_SIMD_PARALLEL_MIN_BYTES (16u * 1024u * 1024u)
#endif
#define BEAT__SIMD_PAR_SERIAL_BYTES ((size_t)BEAT_SIMD_PARALLEL_MIN_BYTES)

typedef enum beat__simd_par_op {
    BEAT__SIMD_PAR_SUM,
    BEAT__SIMD_PAR_DOT,
    BEAT__SIMD_PAR_MIN,
    BEAT__SIMD_PAR_MAX,
    BEAT__SIMD_PAR_AXPY
} beat__simd_par_op;

// One call: its operands and its blocks. Block 0 is [0, head + block),
// block k > 0 is [head + k*block, head + (k+1)*block) cut at n, where head
// elements take the split array to a cache-line boundary.
typedef struct beat__simd_par {
    beat__simd_par_op op;
    const void *x, *y; // y: dot's second input
    void *out;         // axpy's y
    double a;          // axpy's a (a float converts exactly)
    size_t n, head, block;
} beat__simd_par;

// Whether an array of n elements of size bytes stays on the calling thread,
// and if so what the pool would have answered (the same errors either way:
// DEADLOCK from a task of the pool, SHUTDOWN once destroy has begun).
BEAT__PRIVATE int beat__simd_par_serial(beat_pool *pool, size_t n, size_t size, beat_result *r)
{
    if (n > BEAT__SIMD_PAR_SERIAL_BYTES / size)
        return 0;
    *r = BEAT_OK;
    if (beat__called_from_own_worker(pool, "beat_simd_parallel_*"))
        *r = BEAT_ERROR_DEADLOCK;
    else if (!beat__atomic_load_u32(&pool->accepting, BEAT__MO_RELAXED)) // relaxed, as beat_run
        *r = BEAT_ERROR_SHUTDOWN;
    else if (beat__forked(pool))
        *r = BEAT_ERROR_FORKED;
    return 1;
}

// Where block k starts; k = the number of blocks gives n.
BEAT__PRIVATE size_t beat__simd_par_at(const beat__simd_par *p, size_t k)
{
    if (k == 0)
        return 0;
    size_t at = p->head + k * p->block;
    return at < p->n ? at : p->n;
}

// Cuts p's n elements of size bytes, the first at base (the array whose
// cache lines the blocks follow); returns the number of blocks.
BEAT__PRIVATE size_t beat__simd_par_split(beat__simd_par *p, const void *base, size_t size)
{
    uintptr_t addr = (uintptr_t)base;
    size_t to_line = (size_t)((BEAT_CACHELINE - addr % BEAT_CACHELINE) % BEAT_CACHELINE);
    p->block = BEAT__SIMD_PAR_BLOCK_BYTES / size;
    p->head = addr % size == 0 ? to_line / size : 0; // a misaligned array: no head
    return p->n > p->head ? (p->n - p->head + p->block - 1) / p->block : 1;
}

BEAT__PRIVATE size_t beat__simd_par_grain(size_t nblocks)
{
    size_t grain = nblocks / BEAT__SIMD_PAR_PIECES;
    return grain == 0 ? 1 : grain;
}

BEAT__PRIVATE beat__simd_par beat__simd_par_make(beat__simd_par_op op, const void *x, const void *y,
                                                 void *out, double a, size_t n)
{
    beat__simd_par p;
    p.op = op;
    p.x = x;
    p.y = y;
    p.out = out;
    p.a = a;
    p.n = n;
    p.head = 0;
    p.block = 1;
    return p;
}

// Per element type: a piece's result, the join of two results (left = the
// lower indices, so the first NaN wins as in beat_simd_min/max), the
// reduce and loop bodies, and the public functions.
#define BEAT__SIMD_DEFINE_PARALLEL(sfx, T)                                                         \
    BEAT__PRIVATE T beat__simd_par_piece_##sfx(const beat__simd_par *p, size_t lo, size_t hi)      \
    {                                                                                              \
        const T *x = (const T *)p->x + lo;                                                         \
        switch (p->op) {                                                                           \
        case BEAT__SIMD_PAR_SUM:                                                                   \
            return beat_simd_sum_##sfx(x, hi - lo);                                                \
        case BEAT__SIMD_PAR_DOT:                                                                   \
            return beat_simd_dot_##sfx(x, (const T *)p->y + lo, hi - lo);                          \
        case BEAT__SIMD_PAR_MIN:                                                                   \
            return beat_simd_min_##sfx(x, hi - lo);                                                \
        case BEAT__SIMD_PAR_MAX:                                                                   \
        case BEAT__SIMD_PAR_AXPY:                                                                  \
            break;                                                                                 \
        }                                                                                          \
        return beat_simd_max_##sfx(x, hi - lo);                                                    \
    }                                                                                              \
    BEAT__PRIVATE T beat__simd_par_join_##sfx(beat__simd_par_op op, T left, T right)               \
    {                                                                                              \
        if (op == BEAT__SIMD_PAR_SUM || op == BEAT__SIMD_PAR_DOT)                                  \
            return left + right;                                                                   \
        if (left != left || right != right)                                                        \
            return left != left ? left : right;                                                    \
        return op == BEAT__SIMD_PAR_MIN ? beat__simd_min1_##sfx(left, right)                       \
                                        : beat__simd_max1_##sfx(left, right);                      \
    }                                                                                              \
    /* Reduce body: one call per piece (blocks b0..b1), partial = identity. */                     \
    BEAT__PRIVATE void beat__simd_par_fold_##sfx(beat_ctx *ctx, size_t b0, size_t b1,              \
                                                 void *partial, void *arg)                         \
    {                                                                                              \
        const beat__simd_par *p = (const beat__simd_par *)arg;                                     \
        T acc, piece = beat__simd_par_piece_##sfx(p, beat__simd_par_at(p, b0),                     \
                                                  beat__simd_par_at(p, b1));                       \
        (void)ctx;                                                                                 \
        memcpy(&acc, partial, sizeof acc);                                                         \
        acc = beat__simd_par_join_##sfx(p->op, acc, piece);                                        \
        memcpy(partial, &acc, sizeof acc);                                                         \
    }                                                                                              \
    BEAT__PRIVATE void beat__simd_par_combine_##sfx(void *left, const void *right, void *arg)      \
    {                                                                                              \
        const beat__simd_par *p = (const beat__simd_par *)arg;                                     \
        T l, r;                                                                                    \
        memcpy(&l, left, sizeof l);                                                                \
        memcpy(&r, right, sizeof r);                                                               \
        l = beat__simd_par_join_##sfx(p->op, l, r);                                                \
        memcpy(left, &l, sizeof l);                                                                \
    }                                                                                              \
    BEAT__PRIVATE beat_result beat__simd_par_reduce_##sfx(beat_pool *pool, beat__simd_par *p,      \
                                                          T *out)                                  \
    {                                                                                              \
        T identity = (T)0, result;                                                                 \
        if (p->op == BEAT__SIMD_PAR_MIN)                                                           \
            identity = beat__simd_inf_##sfx();                                                     \
        else if (p->op == BEAT__SIMD_PAR_MAX)                                                      \
            identity = -beat__simd_inf_##sfx();                                                    \
        if (pool == NULL || out == NULL ||                                                         \
            (p->n > 0 && (p->x == NULL || (p->op == BEAT__SIMD_PAR_DOT && p->y == NULL))))         \
            return BEAT_ERROR_INVALID_ARGUMENT;                                                    \
        if (p->n == 0) {                                                                           \
            *out = identity;                                                                       \
            return BEAT_OK;                                                                        \
        }                                                                                          \
        beat_result r;                                                                             \
        if (beat__simd_par_serial(pool, p->n, sizeof(T), &r)) {                                    \
            if (r == BEAT_OK)                                                                      \
                *out = beat__simd_par_piece_##sfx(p, 0, p->n);                                     \
            return r;                                                                              \
        }                                                                                          \
        size_t nblocks = beat__simd_par_split(p, p->x, sizeof(T));                                 \
        r = beat_pool_parallel_reduce(pool, 0, nblocks, beat__simd_par_grain(nblocks), &identity,  \
                                      sizeof identity, beat__simd_par_fold_##sfx,                  \
                                      beat__simd_par_combine_##sfx, p, &result);                   \
        if (r == BEAT_OK)                                                                          \
            *out = result;                                                                         \
        return r;                                                                                  \
    }                                                                                              \
    BEAT__PRIVATE void beat__simd_par_axpy_##sfx(beat_ctx *ctx, size_t b0, size_t b1, void *arg)   \
    {                                                                                              \
        const beat__simd_par *p = (const beat__simd_par *)arg;                                     \
        size_t lo = beat__simd_par_at(p, b0), hi = beat__simd_par_at(p, b1);                       \
        (void)ctx;                                                                                 \
        beat_simd_axpy_##sfx((T)p->a, (const T *)p->x + lo, (T *)p->out + lo, hi - lo);            \
    }                                                                                              \
    BEAT__DEF beat_result beat_simd_parallel_sum_##sfx(beat_pool *pool, const T *x, size_t n,      \
                                                       T *out)                                     \
    {                                                                                              \
        beat__simd_par p = beat__simd_par_make(BEAT__SIMD_PAR_SUM, x, NULL, NULL, 0, n);           \
        return beat__simd_par_reduce_##sfx(pool, &p, out);                                         \
    }                                                                                              \
    BEAT__DEF beat_result beat_simd_parallel_dot_##sfx(beat_pool *pool, const T *x, const T *y,    \
                                                       size_t n, T *out)                           \
    {                                                                                              \
        beat__simd_par p = beat__simd_par_make(BEAT__SIMD_PAR_DOT, x, y, NULL, 0, n);              \
        return beat__simd_par_reduce_##sfx(pool, &p, out);                                         \
    }                                                                                              \
    BEAT__DEF beat_result beat_simd_parallel_min_##sfx(beat_pool *pool, const T *x, size_t n,      \
                                                       T *out)                                     \
    {                                                                                              \
        beat__simd_par p = beat__simd_par_make(BEAT__SIMD_PAR_MIN, x, NULL, NULL, 0, n);           \
        return beat__simd_par_reduce_##sfx(pool, &p, out);                                         \
    }                                                                                              \
    BEAT__DEF beat_result beat_simd_parallel_max_##sfx(beat_pool *pool, const T *x, size_t n,      \
                                                       T *out)                                     \
    {                                                                                              \
        beat__simd_par p = beat__simd_par_make(BEAT__SIMD_PAR_MAX, x, NULL, NULL, 0, n);           \
        return beat__simd_par_reduce_##sfx(pool, &p, out);                                         \
    }                                                                                              \
    BEAT__DEF beat_result beat_simd_parallel_axpy_##sfx(beat_pool *pool, T a, const T *x, T *y,    \
                                                        size_t n)                                  \
    {                                                                                              \
        beat__simd_par p = beat__simd_par_make(BEAT__SIMD_PAR_AXPY, x, NULL, y, a, n);             \
        if (pool == NULL || (n > 0 && (x == NULL || y == NULL)))                                   \
            return BEAT_ERROR_INVALID_ARGUMENT;                                                    \
        if (n == 0)                                                                                \
            return BEAT_OK;                                                                        \
        beat_result r;                                                                             \
        if (beat__simd_par_serial(pool, n, sizeof(T), &r)) {                                       \
            if (r == BEAT_OK)                                                                      \
                beat_simd_axpy_##sfx(a, x, y, n);                                                  \
            return r;                                                                              \
        }                                                                                          \
        size_t nblocks = beat__simd_par_split(&p, y, sizeof(T));                                   \
        return beat_pool_parallel_for(pool, 0, nblocks, 1, beat__simd_par_axpy_##sfx, &p);         \
    }

BEAT__SIMD_DEFINE_PARALLEL(f32, float)
BEAT__SIMD_DEFINE_PARALLEL(f64, double)
