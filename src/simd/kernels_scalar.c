// SIMD kernels, scalar path: portable C on two-lane "vectors" (structs),
// so the kernels keep the layout of the vector paths (K = 8 partial sums)
// and their rounding and NaN behaviour. Always compiled; the only path of
// a build with every BEAT_SIMD_NO_* set or a CPU without any of the others.
// Shared by beat.h and beat_simd.h (own guard).
#ifndef BEAT__SIMD_KERNELS_SCALAR_INCLUDED
#define BEAT__SIMD_KERNELS_SCALAR_INCLUDED

#include "kernels.h"

#define BEAT__SIMD_DEFINE_SCALAR_PRIMITIVES(P, t, T)                                               \
    typedef struct P##_vec {                                                                       \
        T l[2];                                                                                    \
    } P##_vec;                                                                                     \
    typedef unsigned P##_mask; /* bit j: lane j */                                                 \
    typedef size_t P##_cnt;                                                                        \
    enum { P##_W = 2 };                                                                            \
    BEAT__SIMD_SCALAR_INLINE P##_vec P##_set1(T v)                                                 \
    {                                                                                              \
        P##_vec r = {{v, v}};                                                                      \
        return r;                                                                                  \
    }                                                                                              \
    BEAT__SIMD_SCALAR_INLINE P##_vec P##_zero(void) { return P##_set1((T)0); }                     \
    BEAT__SIMD_SCALAR_INLINE P##_vec P##_load(const T *p)                                          \
    {                                                                                              \
        P##_vec r = {{p[0], p[1]}};                                                                \
        return r;                                                                                  \
    }                                                                                              \
    BEAT__SIMD_SCALAR_INLINE void P##_store(T *p, P##_vec v)                                       \
    {                                                                                              \
        p[0] = v.l[0];                                                                             \
        p[1] = v.l[1];                                                                             \
    }                                                                                              \
    BEAT__SIMD_SCALAR_INLINE P##_vec P##_add(P##_vec a, P##_vec b)                                 \
    {                                                                                              \
        P##_vec r = {{a.l[0] + b.l[0], a.l[1] + b.l[1]}};                                          \
        return r;                                                                                  \
    }                                                                                              \
    BEAT__SIMD_SCALAR_INLINE P##_vec P##_mul(P##_vec a, P##_vec b)                                 \
    {                                                                                              \
        P##_vec r = {{a.l[0] * b.l[0], a.l[1] * b.l[1]}};                                          \
        return r;                                                                                  \
    }                                                                                              \
    BEAT__SIMD_SCALAR_INLINE P##_vec P##_fmadd(P##_vec a, P##_vec b, P##_vec c)                    \
    {                                                                                              \
        P##_vec r = {{a.l[0] * b.l[0] + c.l[0], a.l[1] * b.l[1] + c.l[1]}};                        \
        return r;                                                                                  \
    }                                                                                              \
    BEAT__SIMD_SCALAR_INLINE P##_vec P##_lanemin(P##_vec a, P##_vec b)                             \
    {                                                                                              \
        P##_vec r = {{beat__simd_min1_##t(a.l[0], b.l[0]), beat__simd_min1_##t(a.l[1], b.l[1])}};  \
        return r;                                                                                  \
    }                                                                                              \
    BEAT__SIMD_SCALAR_INLINE P##_vec P##_lanemax(P##_vec a, P##_vec b)                             \
    {                                                                                              \
        P##_vec r = {{beat__simd_max1_##t(a.l[0], b.l[0]), beat__simd_max1_##t(a.l[1], b.l[1])}};  \
        return r;                                                                                  \
    }                                                                                              \
    BEAT__SIMD_SCALAR_INLINE P##_mask P##_cmp(P##_vec a, P##_vec b, beat_simd_cmp op)              \
    {                                                                                              \
        return beat__simd_cmp1_##t(a.l[0], b.l[0], op) | beat__simd_cmp1_##t(a.l[1], b.l[1], op)   \
                                                             << 1;                                 \
    }                                                                                              \
    BEAT__SIMD_SCALAR_INLINE P##_mask P##_part(P##_mask m, size_t r)                               \
    {                                                                                              \
        return m & ((1u << r) - 1);                                                                \
    }                                                                                              \
    BEAT__SIMD_SCALAR_INLINE unsigned P##_bits(P##_mask m) { return m; }                           \
    BEAT__SIMD_SCALAR_INLINE P##_cnt P##_cnt_zero(void) { return 0; }                              \
    BEAT__SIMD_SCALAR_INLINE P##_cnt P##_cnt_add(P##_cnt c, P##_mask m)                            \
    {                                                                                              \
        return c + (m & 1u) + (m >> 1);                                                            \
    }                                                                                              \
    BEAT__SIMD_SCALAR_INLINE size_t P##_cnt_total(P##_cnt c) { return c; }                         \
    BEAT__SIMD_DEFINE_PART_BY_COPY(P, T, BEAT__SIMD_SCALAR_INLINE)

BEAT__SIMD_DEFINE_SCALAR_PRIMITIVES(beat__simd_scalar_f32, f32, float)
BEAT__SIMD_DEFINE_SCALAR_PRIMITIVES(beat__simd_scalar_f64, f64, double)
BEAT__SIMD_DEFINE_KERNELS(beat__simd_scalar_f32, f32, float, BEAT__SIMD_SCALAR,
                          BEAT__SIMD_SCALAR_INLINE)
BEAT__SIMD_DEFINE_KERNELS(beat__simd_scalar_f64, f64, double, BEAT__SIMD_SCALAR,
                          BEAT__SIMD_SCALAR_INLINE)

#endif // BEAT__SIMD_KERNELS_SCALAR_INCLUDED
