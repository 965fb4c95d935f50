// SIMD kernels, written once: each ISA file (kernels_<isa>.c) defines a
// small set of primitives on its vector type and instantiates these
// templates for f32 and f64, so every path runs the same algorithm, with
// the same accumulator layout, tails and NaN rules; only the vector width
// differs. Shared by beat.h and beat_simd.h (own guard).
//
// Primitives of a path P (e.g. beat__simd_avx2_f32), T its element type:
//   P##_vec, P##_mask, P##_cnt   vector, lane mask, per-lane counters
//   P##_W                        lanes (an enum constant)
//   P##_zero() P##_set1(T)       all lanes 0 / v
//   P##_load(p) P##_store(p, v)  W lanes, any alignment
//   P##_load_part(p, r, fill)    lanes 0..r-1 from p (1 <= r <= W), the
//   P##_store_part(p, r, v)      others fill / left alone; neither touches
//                                memory at p + r or beyond
//   P##_add P##_mul              lane-wise, IEEE
//   P##_fmadd(a, b, c)           a*b + c, fused where the ISA has FMA
//   P##_lanemin P##_lanemax      IEEE 754-2019 minimum/maximum: NaN when
//                                either lane is NaN, -0 below +0
//   P##_cmp(a, b, op)            lanes where a OP b (beat_simd_cmp; NE is
//                                true when either is NaN, the rest false)
//   P##_part(m, r)               m with lanes r.. cleared
//   P##_bits(m)                  bit j set when lane j of m is
//   P##_cnt_zero() P##_cnt_add(c, m) P##_cnt_total(c)
//                                per-lane counts of set mask lanes
//
// Layout of sum and dot: four accumulators of W
// lanes, i.e. K = 4W partial results; element i goes to lane i mod K, the
// last partial vector (< W elements) to the fourth accumulator, padded with
// the identity. The accumulators are combined as a tree: a0+a1, a2+a3, then
// lanes j and j+W/2, j+W/4, ...: log2 K levels. K is 8 (scalar: two-lane
// vectors; SSE2 and NEON f64), 16 (SSE2 and NEON f32, AVX2 f64), 32 (AVX2
// f32, AVX-512 f64) or 64 (AVX-512 f32). The error bounds in api/simd.h
// follow from this layout.
#ifndef BEAT__SIMD_KERNELS_INCLUDED
#define BEAT__SIMD_KERNELS_INCLUDED

#include "isa.h"

// beat__simd_lanes32 + 16 - r is r all-ones lanes followed by zeros (r =
// 0..16), beat__simd_lanes64 + 8 - r likewise (r = 0..8): tail masks.
__attribute__((unused)) static const int32_t beat__simd_lanes32[32] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0};
__attribute__((unused)) static const int64_t beat__simd_lanes64[16] = {
    -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// Element counts of one pass of a count kernel's lane counters: each lane
// counts at most this many / W < 2^32 elements before they are summed.
#define BEAT__SIMD_COUNT_CHUNK ((size_t)1 << 24)

// ---------------------------------------------------------------------------
// Scalar helpers of each element type (t = f32 or f64, U its bits)

#define BEAT__SIMD_DEFINE_SCALAR_HELPERS(t, T, U)                                                  \
    BEAT__INLINE int beat__simd_sign_##t(T v)                                                      \
    {                                                                                              \
        U bits;                                                                                    \
        memcpy(&bits, &v, sizeof bits);                                                            \
        return (int)(bits >> (8 * sizeof bits - 1));                                               \
    }                                                                                              \
    /* IEEE 754-2019 minimum and maximum: a NaN operand wins; -0 < +0. */                          \
    /* Branch-free, with the OR of the SSE2 path (see kernels_sse2.c): each */                     \
    /* select returns its second operand on a tie or a NaN. */                                     \
    BEAT__INLINE T beat__simd_min1_##t(T a, T b)                                                   \
    {                                                                                              \
        T ab = a < b ? a : b, ba = b < a ? b : a;                                                  \
        U x, y;                                                                                    \
        memcpy(&x, &ab, sizeof x);                                                                 \
        memcpy(&y, &ba, sizeof y);                                                                 \
        x |= y;                                                                                    \
        memcpy(&ab, &x, sizeof ab);                                                                \
        return ab;                                                                                 \
    }                                                                                              \
    BEAT__INLINE T beat__simd_max1_##t(T a, T b) { return -beat__simd_min1_##t(-a, -b); }          \
    BEAT__INLINE unsigned beat__simd_cmp1_##t(T a, T b, beat_simd_cmp op)                          \
    {                                                                                              \
        switch (op) {                                                                              \
        case BEAT_SIMD_CMP_LT:                                                                     \
            return a < b;                                                                          \
        case BEAT_SIMD_CMP_LE:                                                                     \
            return a <= b;                                                                         \
        case BEAT_SIMD_CMP_GT:                                                                     \
            return a > b;                                                                          \
        case BEAT_SIMD_CMP_GE:                                                                     \
            return a >= b;                                                                         \
        case BEAT_SIMD_CMP_EQ:                                                                     \
            return a == b;                                                                         \
        case BEAT_SIMD_CMP_NE:                                                                     \
            break;                                                                                 \
        }                                                                                          \
        return a != b;                                                                             \
    }                                                                                              \
    /* What argmin/argmax look for: v is key, or both are NaN; zeros must */                       \
    /* have the same sign. */                                                                      \
    BEAT__INLINE int beat__simd_same_##t(T v, T key)                                               \
    {                                                                                              \
        if (key != key)                                                                            \
            return v != v;                                                                         \
        return v == key && beat__simd_sign_##t(v) == beat__simd_sign_##t(key);                     \
    }                                                                                              \
    /* The first lane j of bits (lanes of x) with x[j] the same as key. */                         \
    BEAT__INLINE size_t beat__simd_first_same_##t(const T *x, unsigned bits, T key)                \
    {                                                                                              \
        for (; bits != 0; bits &= bits - 1) {                                                      \
            unsigned j = (unsigned)__builtin_ctz(bits);                                            \
            if (beat__simd_same_##t(x[j], key))                                                    \
                return j;                                                                          \
        }                                                                                          \
        return (size_t)-1;                                                                         \
    }

BEAT__SIMD_DEFINE_SCALAR_HELPERS(f32, float, uint32_t)
BEAT__SIMD_DEFINE_SCALAR_HELPERS(f64, double, uint64_t)

BEAT__INLINE float beat__simd_inf_f32(void) { return __builtin_inff(); }
BEAT__INLINE double beat__simd_inf_f64(void) { return __builtin_inf(); }

// ---------------------------------------------------------------------------
// Partial vectors through a stack copy, for paths without masked loads

#define BEAT__SIMD_DEFINE_PART_BY_COPY(P, T, INLINE)                                               \
    INLINE P##_vec P##_load_part(const T *p, size_t r, T fill)                                     \
    {                                                                                              \
        T l[P##_W];                                                                                \
        for (size_t j = 0; j < (size_t)P##_W; j++)                                                 \
            l[j] = fill;                                                                           \
        memcpy(l, p, r * sizeof *p);                                                               \
        return P##_load(l);                                                                        \
    }                                                                                              \
    INLINE void P##_store_part(T *p, size_t r, P##_vec v)                                          \
    {                                                                                              \
        T l[P##_W];                                                                                \
        P##_store(l, v);                                                                           \
        memcpy(p, l, r * sizeof *p);                                                               \
    }

// ---------------------------------------------------------------------------
// Horizontal folds of one vector (through memory: once per call)

#define BEAT__SIMD_DEFINE_HORIZONTAL(P, t, T, INLINE)                                              \
    /* Lanes j and j + w for w = W/2, W/4, ..., 1: log2 W levels. */                               \
    INLINE T P##_hsum(P##_vec v)                                                                   \
    {                                                                                              \
        T l[P##_W];                                                                                \
        P##_store(l, v);                                                                           \
        for (size_t w = (size_t)P##_W / 2; w > 0; w /= 2)                                          \
            for (size_t j = 0; j < w; j++)                                                         \
                l[j] += l[j + w];                                                                  \
        return l[0];                                                                               \
    }                                                                                              \
    INLINE T P##_hmin(P##_vec v)                                                                   \
    {                                                                                              \
        T l[P##_W];                                                                                \
        P##_store(l, v);                                                                           \
        for (size_t j = 1; j < (size_t)P##_W; j++)                                                 \
            l[0] = beat__simd_min1_##t(l[0], l[j]);                                                \
        return l[0];                                                                               \
    }                                                                                              \
    INLINE T P##_hmax(P##_vec v)                                                                   \
    {                                                                                              \
        T l[P##_W];                                                                                \
        P##_store(l, v);                                                                           \
        for (size_t j = 1; j < (size_t)P##_W; j++)                                                 \
            l[0] = beat__simd_max1_##t(l[0], l[j]);                                                \
        return l[0];                                                                               \
    }

// ---------------------------------------------------------------------------
// Reductions: sum, dot (layout in the file comment)

#define BEAT__SIMD_DEFINE_SUM(P, T, ATTR)                                                          \
    ATTR BEAT__PRIVATE T P##_sum(const T *x, size_t n)                                             \
    {                                                                                              \
        const size_t W = P##_W;                                                                    \
        P##_vec a0 = P##_zero(), a1 = a0, a2 = a0, a3 = a0;                                        \
        size_t i = 0;                                                                              \
        for (; n - i >= 4 * W; i += 4 * W) {                                                       \
            a0 = P##_add(a0, P##_load(x + i));                                                     \
            a1 = P##_add(a1, P##_load(x + i + W));                                                 \
            a2 = P##_add(a2, P##_load(x + i + 2 * W));                                             \
            a3 = P##_add(a3, P##_load(x + i + 3 * W));                                             \
        }                                                                                          \
        if (n - i >= W) {                                                                          \
            a0 = P##_add(a0, P##_load(x + i));                                                     \
            i += W;                                                                                \
        }                                                                                          \
        if (n - i >= W) {                                                                          \
            a1 = P##_add(a1, P##_load(x + i));                                                     \
            i += W;                                                                                \
        }                                                                                          \
        if (n - i >= W) {                                                                          \
            a2 = P##_add(a2, P##_load(x + i));                                                     \
            i += W;                                                                                \
        }                                                                                          \
        if (i < n)                                                                                 \
            a3 = P##_add(a3, P##_load_part(x + i, n - i, (T)0));                                   \
        return P##_hsum(P##_add(P##_add(a0, a1), P##_add(a2, a3)));                                \
    }

#define BEAT__SIMD_DEFINE_DOT(P, T, ATTR)                                                          \
    ATTR BEAT__PRIVATE T P##_dot(const T *x, const T *y, size_t n)                                 \
    {                                                                                              \
        const size_t W = P##_W;                                                                    \
        P##_vec a0 = P##_zero(), a1 = a0, a2 = a0, a3 = a0;                                        \
        size_t i = 0;                                                                              \
        for (; n - i >= 4 * W; i += 4 * W) {                                                       \
            a0 = P##_fmadd(P##_load(x + i), P##_load(y + i), a0);                                  \
            a1 = P##_fmadd(P##_load(x + i + W), P##_load(y + i + W), a1);                          \
            a2 = P##_fmadd(P##_load(x + i + 2 * W), P##_load(y + i + 2 * W), a2);                  \
            a3 = P##_fmadd(P##_load(x + i + 3 * W), P##_load(y + i + 3 * W), a3);                  \
        }                                                                                          \
        if (n - i >= W) {                                                                          \
            a0 = P##_fmadd(P##_load(x + i), P##_load(y + i), a0);                                  \
            i += W;                                                                                \
        }                                                                                          \
        if (n - i >= W) {                                                                          \
            a1 = P##_fmadd(P##_load(x + i), P##_load(y + i), a1);                                  \
            i += W;                                                                                \
        }                                                                                          \
        if (n - i >= W) {                                                                          \
            a2 = P##_fmadd(P##_load(x + i), P##_load(y + i), a2);                                  \
            i += W;                                                                                \
        }                                                                                          \
        if (i < n)                                                                                 \
            a3 = P##_fmadd(P##_load_part(x + i, n - i, (T)0), P##_load_part(y + i, n - i, (T)0),   \
                           a3);                                                                    \
        return P##_hsum(P##_add(P##_add(a0, a1), P##_add(a2, a3)));                                \
    }

// ---------------------------------------------------------------------------
// Element-wise: axpy, scale, fill, copy (two vectors per step, then one,
// then the partial one; all loads of a step come before its stores, so
// x == y is fine)

#define BEAT__SIMD_DEFINE_AXPY(P, T, ATTR)                                                         \
    ATTR BEAT__PRIVATE void P##_axpy(T a, const T *x, T *y, size_t n)                              \
    {                                                                                              \
        const size_t W = P##_W;                                                                    \
        const P##_vec va = P##_set1(a);                                                            \
        size_t i = 0;                                                                              \
        for (; n - i >= 2 * W; i += 2 * W) {                                                       \
            P##_vec y0 = P##_fmadd(va, P##_load(x + i), P##_load(y + i));                          \
            P##_vec y1 = P##_fmadd(va, P##_load(x + i + W), P##_load(y + i + W));                  \
            P##_store(y + i, y0);                                                                  \
            P##_store(y + i + W, y1);                                                              \
        }                                                                                          \
        if (n - i >= W) {                                                                          \
            P##_store(y + i, P##_fmadd(va, P##_load(x + i), P##_load(y + i)));                     \
            i += W;                                                                                \
        }                                                                                          \
        if (i < n)                                                                                 \
            P##_store_part(y + i, n - i,                                                           \
                           P##_fmadd(va, P##_load_part(x + i, n - i, (T)0),                        \
                                     P##_load_part(y + i, n - i, (T)0)));                          \
    }

#define BEAT__SIMD_DEFINE_SCALE(P, T, ATTR)                                                        \
    ATTR BEAT__PRIVATE void P##_scale(T a, T *x, size_t n)                                         \
    {                                                                                              \
        const size_t W = P##_W;                                                                    \
        const P##_vec va = P##_set1(a);                                                            \
        size_t i = 0;                                                                              \
        for (; n - i >= 2 * W; i += 2 * W) {                                                       \
            P##_vec x0 = P##_mul(va, P##_load(x + i));                                             \
            P##_vec x1 = P##_mul(va, P##_load(x + i + W));                                         \
            P##_store(x + i, x0);                                                                  \
            P##_store(x + i + W, x1);                                                              \
        }                                                                                          \
        if (n - i >= W) {                                                                          \
            P##_store(x + i, P##_mul(va, P##_load(x + i)));                                        \
            i += W;                                                                                \
        }                                                                                          \
        if (i < n)                                                                                 \
            P##_store_part(x + i, n - i, P##_mul(va, P##_load_part(x + i, n - i, (T)0)));          \
    }

#define BEAT__SIMD_DEFINE_FILL(P, T, ATTR)                                                         \
    ATTR BEAT__PRIVATE void P##_fill(T v, T *x, size_t n)                                          \
    {                                                                                              \
        const size_t W = P##_W;                                                                    \
        const P##_vec vv = P##_set1(v);                                                            \
        size_t i = 0;                                                                              \
        for (; n - i >= 2 * W; i += 2 * W) {                                                       \
            P##_store(x + i, vv);                                                                  \
            P##_store(x + i + W, vv);                                                              \
        }                                                                                          \
        if (n - i >= W) {                                                                          \
            P##_store(x + i, vv);                                                                  \
            i += W;                                                                                \
        }                                                                                          \
        if (i < n)                                                                                 \
            P##_store_part(x + i, n - i, vv);                                                      \
    }

#define BEAT__SIMD_DEFINE_COPY(P, T, ATTR)                                                         \
    ATTR BEAT__PRIVATE void P##_copy(const T *x, T *y, size_t n)                                   \
    {                                                                                              \
        const size_t W = P##_W;                                                                    \
        size_t i = 0;                                                                              \
        for (; n - i >= 2 * W; i += 2 * W) {                                                       \
            P##_vec v0 = P##_load(x + i);                                                          \
            P##_vec v1 = P##_load(x + i + W);                                                      \
            P##_store(y + i, v0);                                                                  \
            P##_store(y + i + W, v1);                                                              \
        }                                                                                          \
        if (n - i >= W) {                                                                          \
            P##_store(y + i, P##_load(x + i));                                                     \
            i += W;                                                                                \
        }                                                                                          \
        if (i < n)                                                                                 \
            P##_store_part(y + i, n - i, P##_load_part(x + i, n - i, (T)0));                       \
    }

// ---------------------------------------------------------------------------
// Searches: find (argmin/argmax's second pass), min, max, count

// The first i with x[i] the same as key (beat__simd_same_*), or n: lanes
// equal to key (any NaN when key is NaN; zeros of either sign, sorted out
// by beat__simd_same_*), one loop for each case.
#define BEAT__SIMD_DEFINE_FIND(P, t, T, ATTR, INLINE)                                              \
    INLINE P##_mask P##_match(P##_vec v, P##_vec k, int nan)                                       \
    {                                                                                              \
        return nan ? P##_cmp(v, v, BEAT_SIMD_CMP_NE) : P##_cmp(v, k, BEAT_SIMD_CMP_EQ);            \
    }                                                                                              \
    INLINE size_t P##_find_with(const T *x, size_t n, T key, int nan)                              \
    {                                                                                              \
        const size_t W = P##_W;                                                                    \
        const P##_vec k = P##_set1(key);                                                           \
        size_t i = 0, j;                                                                           \
        for (; n - i >= W; i += W) {                                                               \
            unsigned bits = P##_bits(P##_match(P##_load(x + i), k, nan));                          \
            if (bits != 0 && (j = beat__simd_first_same_##t(x + i, bits, key)) != (size_t)-1)      \
                return i + j;                                                                      \
        }                                                                                          \
        if (i < n) {                                                                               \
            P##_mask m = P##_match(P##_load_part(x + i, n - i, key), k, nan);                      \
            j = beat__simd_first_same_##t(x + i, P##_bits(P##_part(m, n - i)), key);               \
            if (j != (size_t)-1)                                                                   \
                return i + j;                                                                      \
        }                                                                                          \
        return n;                                                                                  \
    }                                                                                              \
    ATTR BEAT__PRIVATE size_t P##_find(const T *x, size_t n, T key)                                \
    {                                                                                              \
        return key != key ? P##_find_with(x, n, key, 1) : P##_find_with(x, n, key, 0);             \
    }

// min and max fold with the IEEE 754-2019 lane operations; a NaN anywhere
// makes the result NaN, and then the first NaN of x is returned as it is
// stored, so every path returns the same bits.
#define BEAT__SIMD_DEFINE_MINMAX(P, t, T, ATTR, name, lane, fold, identity)                        \
    ATTR BEAT__PRIVATE T P##_##name(const T *x, size_t n)                                          \
    {                                                                                              \
        const size_t W = P##_W;                                                                    \
        const T id = identity;                                                                     \
        P##_vec a0 = P##_set1(id), a1 = a0, a2 = a0, a3 = a0;                                      \
        size_t i = 0;                                                                              \
        for (; n - i >= 4 * W; i += 4 * W) {                                                       \
            a0 = P##_##lane(a0, P##_load(x + i));                                                  \
            a1 = P##_##lane(a1, P##_load(x + i + W));                                              \
            a2 = P##_##lane(a2, P##_load(x + i + 2 * W));                                          \
            a3 = P##_##lane(a3, P##_load(x + i + 3 * W));                                          \
        }                                                                                          \
        for (; n - i >= W; i += W)                                                                 \
            a0 = P##_##lane(a0, P##_load(x + i));                                                  \
        if (i < n)                                                                                 \
            a1 = P##_##lane(a1, P##_load_part(x + i, n - i, id));                                  \
        T m = P##_##fold(P##_##lane(P##_##lane(a0, a1), P##_##lane(a2, a3)));                      \
        return m != m ? x[P##_find(x, n, m)] : m;                                                  \
    }

#define BEAT__SIMD_DEFINE_COUNT(P, T, ATTR, INLINE)                                                \
    INLINE size_t P##_count_with(const T *x, size_t n, T t, beat_simd_cmp op)                      \
    {                                                                                              \
        const size_t W = P##_W;                                                                    \
        const P##_vec vt = P##_set1(t);                                                            \
        size_t total = 0, i = 0;                                                                   \
        while (n - i >= W) {                                                                       \
            size_t end = n - i > BEAT__SIMD_COUNT_CHUNK ? i + BEAT__SIMD_COUNT_CHUNK : n;          \
            P##_cnt c = P##_cnt_zero();                                                            \
            for (; end - i >= W; i += W)                                                           \
                c = P##_cnt_add(c, P##_cmp(P##_load(x + i), vt, op));                              \
            total += P##_cnt_total(c);                                                             \
        }                                                                                          \
        if (i < n) {                                                                               \
            P##_mask m = P##_cmp(P##_load_part(x + i, n - i, t), vt, op);                          \
            total += P##_cnt_total(P##_cnt_add(P##_cnt_zero(), P##_part(m, n - i)));               \
        }                                                                                          \
        return total;                                                                              \
    }                                                                                              \
    /* One loop per operator: op is a constant in each inlined copy. */                            \
    ATTR BEAT__PRIVATE size_t P##_count(beat_simd_cmp op, T t, const T *x, size_t n)               \
    {                                                                                              \
        switch (op) {                                                                              \
        case BEAT_SIMD_CMP_LT:                                                                     \
            return P##_count_with(x, n, t, BEAT_SIMD_CMP_LT);                                      \
        case BEAT_SIMD_CMP_LE:                                                                     \
            return P##_count_with(x, n, t, BEAT_SIMD_CMP_LE);                                      \
        case BEAT_SIMD_CMP_GT:                                                                     \
            return P##_count_with(x, n, t, BEAT_SIMD_CMP_GT);                                      \
        case BEAT_SIMD_CMP_GE:                                                                     \
            return P##_count_with(x, n, t, BEAT_SIMD_CMP_GE);                                      \
        case BEAT_SIMD_CMP_EQ:                                                                     \
            return P##_count_with(x, n, t, BEAT_SIMD_CMP_EQ);                                      \
        case BEAT_SIMD_CMP_NE:                                                                     \
            return P##_count_with(x, n, t, BEAT_SIMD_CMP_NE);                                      \
        }                                                                                          \
        return 0;                                                                                  \
    }

// ---------------------------------------------------------------------------
// Every kernel of one path and element type: P##_sum, _dot, _axpy, _scale,
// _fill, _copy, _min, _max, _find, _count.

#define BEAT__SIMD_DEFINE_KERNELS(P, t, T, ATTR, INLINE)                                           \
    BEAT__SIMD_DEFINE_HORIZONTAL(P, t, T, INLINE)                                                  \
    BEAT__SIMD_DEFINE_SUM(P, T, ATTR)                                                              \
    BEAT__SIMD_DEFINE_DOT(P, T, ATTR)                                                              \
    BEAT__SIMD_DEFINE_AXPY(P, T, ATTR)                                                             \
    BEAT__SIMD_DEFINE_SCALE(P, T, ATTR)                                                            \
    BEAT__SIMD_DEFINE_FILL(P, T, ATTR)                                                             \
    BEAT__SIMD_DEFINE_COPY(P, T, ATTR)                                                             \
    BEAT__SIMD_DEFINE_FIND(P, t, T, ATTR, INLINE)                                                  \
    BEAT__SIMD_DEFINE_MINMAX(P, t, T, ATTR, min, lanemin, hmin, beat__simd_inf_##t())              \
    BEAT__SIMD_DEFINE_MINMAX(P, t, T, ATTR, max, lanemax, hmax, -beat__simd_inf_##t())             \
    BEAT__SIMD_DEFINE_COUNT(P, T, ATTR, INLINE)

#endif // BEAT__SIMD_KERNELS_INCLUDED
