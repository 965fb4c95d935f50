// SIMD kernels, SSE2 path (x86): 4 x f32 / 2 x f64 lanes, no FMA (dot and
// axpy round the product and the sum separately), partial vectors through
// a stack copy. Shared by beat.h and beat_simd.h (own guard).
#ifndef BEAT__SIMD_KERNELS_SSE2_INCLUDED
#define BEAT__SIMD_KERNELS_SSE2_INCLUDED

#include "kernels.h"

#if BEAT__SIMD_HAVE_SSE2

// minps/minpd return the second operand when the lanes are equal or either
// is NaN. OR-ing min(a, b) with min(b, a) gives the IEEE 754-2019 minimum:
// equal lanes have equal bits except for zeros (the OR keeps -0), and a NaN
// in either lane leaves a NaN in one of the two, which the OR keeps a NaN
// (exponent all ones, mantissa nonzero). The maximum is the minimum of the
// negated lanes, negated.

// ---- f32 ----
typedef __m128 beat__simd_sse2_f32_vec;
typedef __m128 beat__simd_sse2_f32_mask;
typedef __m128i beat__simd_sse2_f32_cnt;
enum { beat__simd_sse2_f32_W = 4 };

BEAT__SIMD_SSE2_INLINE __m128 beat__simd_sse2_f32_zero(void) { return _mm_setzero_ps(); }
BEAT__SIMD_SSE2_INLINE __m128 beat__simd_sse2_f32_set1(float v) { return _mm_set1_ps(v); }
BEAT__SIMD_SSE2_INLINE __m128 beat__simd_sse2_f32_load(const float *p) { return _mm_loadu_ps(p); }
BEAT__SIMD_SSE2_INLINE void beat__simd_sse2_f32_store(float *p, __m128 v) { _mm_storeu_ps(p, v); }
BEAT__SIMD_SSE2_INLINE __m128 beat__simd_sse2_f32_add(__m128 a, __m128 b)
{
    return _mm_add_ps(a, b);
}
BEAT__SIMD_SSE2_INLINE __m128 beat__simd_sse2_f32_mul(__m128 a, __m128 b)
{
    return _mm_mul_ps(a, b);
}
BEAT__SIMD_SSE2_INLINE __m128 beat__simd_sse2_f32_fmadd(__m128 a, __m128 b, __m128 c)
{
    return _mm_add_ps(_mm_mul_ps(a, b), c);
}
BEAT__SIMD_SSE2_INLINE __m128 beat__simd_sse2_f32_lanemin(__m128 a, __m128 b)
{
    return _mm_or_ps(_mm_min_ps(a, b), _mm_min_ps(b, a));
}
BEAT__SIMD_SSE2_INLINE __m128 beat__simd_sse2_f32_lanemax(__m128 a, __m128 b)
{
    const __m128 sign = _mm_set1_ps(-0.0f);
    __m128 m = beat__simd_sse2_f32_lanemin(_mm_xor_ps(a, sign), _mm_xor_ps(b, sign));
    return _mm_xor_ps(m, sign);
}
BEAT__SIMD_SSE2_INLINE __m128 beat__simd_sse2_f32_cmp(__m128 a, __m128 b, beat_simd_cmp op)
{
    switch (op) {
    case BEAT_SIMD_CMP_LT:
        return _mm_cmplt_ps(a, b);
    case BEAT_SIMD_CMP_LE:
        return _mm_cmple_ps(a, b);
    case BEAT_SIMD_CMP_GT:
        return _mm_cmpgt_ps(a, b);
    case BEAT_SIMD_CMP_GE:
        return _mm_cmpge_ps(a, b);
    case BEAT_SIMD_CMP_EQ:
        return _mm_cmpeq_ps(a, b);
    case BEAT_SIMD_CMP_NE:
        break;
    }
    return _mm_cmpneq_ps(a, b);
}
BEAT__SIMD_SSE2_INLINE __m128 beat__simd_sse2_f32_part(__m128 m, size_t r)
{
    __m128i lanes = _mm_loadu_si128((const __m128i *)(const void *)(beat__simd_lanes32 + 16 - r));
    return _mm_and_ps(m, _mm_castsi128_ps(lanes));
}
BEAT__SIMD_SSE2_INLINE unsigned beat__simd_sse2_f32_bits(__m128 m)
{
    return (unsigned)_mm_movemask_ps(m);
}
BEAT__SIMD_SSE2_INLINE __m128i beat__simd_sse2_f32_cnt_zero(void) { return _mm_setzero_si128(); }
BEAT__SIMD_SSE2_INLINE __m128i beat__simd_sse2_f32_cnt_add(__m128i c, __m128 m)
{
    return _mm_sub_epi32(c, _mm_castps_si128(m)); // a set lane is -1
}
BEAT__SIMD_SSE2_INLINE size_t beat__simd_sse2_f32_cnt_total(__m128i c)
{
    uint32_t l[4];
    _mm_storeu_si128((__m128i *)(void *)l, c);
    return (size_t)l[0] + l[1] + l[2] + l[3];
}
BEAT__SIMD_DEFINE_PART_BY_COPY(beat__simd_sse2_f32, float, BEAT__SIMD_SSE2_INLINE)
BEAT__SIMD_DEFINE_KERNELS(beat__simd_sse2_f32, f32, float, BEAT__SIMD_SSE2, BEAT__SIMD_SSE2_INLINE)

// ---- f64 ----
typedef __m128d beat__simd_sse2_f64_vec;
typedef __m128d beat__simd_sse2_f64_mask;
typedef __m128i beat__simd_sse2_f64_cnt;
enum { beat__simd_sse2_f64_W = 2 };

BEAT__SIMD_SSE2_INLINE __m128d beat__simd_sse2_f64_zero(void) { return _mm_setzero_pd(); }
BEAT__SIMD_SSE2_INLINE __m128d beat__simd_sse2_f64_set1(double v) { return _mm_set1_pd(v); }
BEAT__SIMD_SSE2_INLINE __m128d beat__simd_sse2_f64_load(const double *p) { return _mm_loadu_pd(p); }
BEAT__SIMD_SSE2_INLINE void beat__simd_sse2_f64_store(double *p, __m128d v) { _mm_storeu_pd(p, v); }
BEAT__SIMD_SSE2_INLINE __m128d beat__simd_sse2_f64_add(__m128d a, __m128d b)
{
    return _mm_add_pd(a, b);
}
BEAT__SIMD_SSE2_INLINE __m128d beat__simd_sse2_f64_mul(__m128d a, __m128d b)
{
    return _mm_mul_pd(a, b);
}
BEAT__SIMD_SSE2_INLINE __m128d beat__simd_sse2_f64_fmadd(__m128d a, __m128d b, __m128d c)
{
    return _mm_add_pd(_mm_mul_pd(a, b), c);
}
BEAT__SIMD_SSE2_INLINE __m128d beat__simd_sse2_f64_lanemin(__m128d a, __m128d b)
{
    return _mm_or_pd(_mm_min_pd(a, b), _mm_min_pd(b, a));
}
BEAT__SIMD_SSE2_INLINE __m128d beat__simd_sse2_f64_lanemax(__m128d a, __m128d b)
{
    const __m128d sign = _mm_set1_pd(-0.0);
    __m128d m = beat__simd_sse2_f64_lanemin(_mm_xor_pd(a, sign), _mm_xor_pd(b, sign));
    return _mm_xor_pd(m, sign);
}
BEAT__SIMD_SSE2_INLINE __m128d beat__simd_sse2_f64_cmp(__m128d a, __m128d b, beat_simd_cmp op)
{
    switch (op) {
    case BEAT_SIMD_CMP_LT:
        return _mm_cmplt_pd(a, b);
    case BEAT_SIMD_CMP_LE:
        return _mm_cmple_pd(a, b);
    case BEAT_SIMD_CMP_GT:
        return _mm_cmpgt_pd(a, b);
    case BEAT_SIMD_CMP_GE:
        return _mm_cmpge_pd(a, b);
    case BEAT_SIMD_CMP_EQ:
        return _mm_cmpeq_pd(a, b);
    case BEAT_SIMD_CMP_NE:
        break;
    }
    return _mm_cmpneq_pd(a, b);
}
BEAT__SIMD_SSE2_INLINE __m128d beat__simd_sse2_f64_part(__m128d m, size_t r)
{
    __m128i lanes = _mm_loadu_si128((const __m128i *)(const void *)(beat__simd_lanes64 + 8 - r));
    return _mm_and_pd(m, _mm_castsi128_pd(lanes));
}
BEAT__SIMD_SSE2_INLINE unsigned beat__simd_sse2_f64_bits(__m128d m)
{
    return (unsigned)_mm_movemask_pd(m);
}
BEAT__SIMD_SSE2_INLINE __m128i beat__simd_sse2_f64_cnt_zero(void) { return _mm_setzero_si128(); }
BEAT__SIMD_SSE2_INLINE __m128i beat__simd_sse2_f64_cnt_add(__m128i c, __m128d m)
{
    return _mm_sub_epi64(c, _mm_castpd_si128(m));
}
BEAT__SIMD_SSE2_INLINE size_t beat__simd_sse2_f64_cnt_total(__m128i c)
{
    uint64_t l[2];
    _mm_storeu_si128((__m128i *)(void *)l, c);
    return (size_t)(l[0] + l[1]);
}
BEAT__SIMD_DEFINE_PART_BY_COPY(beat__simd_sse2_f64, double, BEAT__SIMD_SSE2_INLINE)
BEAT__SIMD_DEFINE_KERNELS(beat__simd_sse2_f64, f64, double, BEAT__SIMD_SSE2, BEAT__SIMD_SSE2_INLINE)

#endif // BEAT__SIMD_HAVE_SSE2

#endif // BEAT__SIMD_KERNELS_SSE2_INCLUDED
