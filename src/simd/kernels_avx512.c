// SIMD kernels, AVX-512F path (x86): 16 x f32 / 8 x f64 lanes, fused
// multiply-add, opmask registers for compares and for every tail: the last
// partial vector is loaded and stored with a mask (masked-out lanes are not
// accessed), so no kernel has a scalar remainder loop. Only AVX-512F
// instructions: the float bitwise operations are AVX512DQ, so the min/max
// trick of the SSE2 path goes through the integer forms.
// Shared by beat.h and beat_simd.h (own guard).
#ifndef BEAT__SIMD_KERNELS_AVX512_INCLUDED
#define BEAT__SIMD_KERNELS_AVX512_INCLUDED

#include "kernels.h"

#if BEAT__SIMD_HAVE_AVX512

// vminps/vminpd through the masked form with every lane set: the same
// instruction, but g++ 12 reports the unmasked intrinsic's undefined
// pass-through operand as maybe-uninitialized (GCC PR 105593).

// ---- f32 ----
typedef __m512 beat__simd_avx512_f32_vec;
typedef __mmask16 beat__simd_avx512_f32_mask;
typedef __m512i beat__simd_avx512_f32_cnt;
enum { beat__simd_avx512_f32_W = 16 };

BEAT__SIMD_AVX512_INLINE __mmask16 beat__simd_avx512_f32_first(size_t r)
{
    return (__mmask16)((1u << r) - 1);
}
BEAT__SIMD_AVX512_INLINE __m512 beat__simd_avx512_f32_zero(void) { return _mm512_setzero_ps(); }
BEAT__SIMD_AVX512_INLINE __m512 beat__simd_avx512_f32_set1(float v) { return _mm512_set1_ps(v); }
BEAT__SIMD_AVX512_INLINE __m512 beat__simd_avx512_f32_load(const float *p)
{
    return _mm512_loadu_ps(p);
}
BEAT__SIMD_AVX512_INLINE void beat__simd_avx512_f32_store(float *p, __m512 v)
{
    _mm512_storeu_ps(p, v);
}
BEAT__SIMD_AVX512_INLINE __m512 beat__simd_avx512_f32_load_part(const float *p, size_t r,
                                                                float fill)
{
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), beat__simd_avx512_f32_first(r), p);
}
BEAT__SIMD_AVX512_INLINE void beat__simd_avx512_f32_store_part(float *p, size_t r, __m512 v)
{
    _mm512_mask_storeu_ps(p, beat__simd_avx512_f32_first(r), v);
}
BEAT__SIMD_AVX512_INLINE __m512 beat__simd_avx512_f32_add(__m512 a, __m512 b)
{
    return _mm512_add_ps(a, b);
}
BEAT__SIMD_AVX512_INLINE __m512 beat__simd_avx512_f32_mul(__m512 a, __m512 b)
{
    return _mm512_mul_ps(a, b);
}
BEAT__SIMD_AVX512_INLINE __m512 beat__simd_avx512_f32_fmadd(__m512 a, __m512 b, __m512 c)
{
    return _mm512_fmadd_ps(a, b, c);
}
BEAT__SIMD_AVX512_INLINE __m512 beat__simd_avx512_f32_or(__m512 a, __m512 b)
{
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)));
}
BEAT__SIMD_AVX512_INLINE __m512 beat__simd_avx512_f32_negate(__m512 a)
{
    return _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)));
}
BEAT__SIMD_AVX512_INLINE __m512 beat__simd_avx512_f32_lanemin(__m512 a, __m512 b)
{
    const __mmask16 all = (__mmask16)0xffffu;
    return beat__simd_avx512_f32_or(_mm512_mask_min_ps(a, all, a, b),
                                    _mm512_mask_min_ps(b, all, b, a));
}
BEAT__SIMD_AVX512_INLINE __m512 beat__simd_avx512_f32_lanemax(__m512 a, __m512 b)
{
    return beat__simd_avx512_f32_negate(beat__simd_avx512_f32_lanemin(
        beat__simd_avx512_f32_negate(a), beat__simd_avx512_f32_negate(b)));
}
BEAT__SIMD_AVX512_INLINE __mmask16 beat__simd_avx512_f32_cmp(__m512 a, __m512 b, beat_simd_cmp op)
{
    switch (op) {
    case BEAT_SIMD_CMP_LT:
        return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ);
    case BEAT_SIMD_CMP_LE:
        return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ);
    case BEAT_SIMD_CMP_GT:
        return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ);
    case BEAT_SIMD_CMP_GE:
        return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ);
    case BEAT_SIMD_CMP_EQ:
        return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ);
    case BEAT_SIMD_CMP_NE:
        break;
    }
    return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_UQ);
}
BEAT__SIMD_AVX512_INLINE __mmask16 beat__simd_avx512_f32_part(__mmask16 m, size_t r)
{
    return (__mmask16)(m & beat__simd_avx512_f32_first(r));
}
BEAT__SIMD_AVX512_INLINE unsigned beat__simd_avx512_f32_bits(__mmask16 m) { return m; }
BEAT__SIMD_AVX512_INLINE __m512i beat__simd_avx512_f32_cnt_zero(void)
{
    return _mm512_setzero_si512();
}
BEAT__SIMD_AVX512_INLINE __m512i beat__simd_avx512_f32_cnt_add(__m512i c, __mmask16 m)
{
    return _mm512_mask_add_epi32(c, m, c, _mm512_set1_epi32(1));
}
BEAT__SIMD_AVX512_INLINE size_t beat__simd_avx512_f32_cnt_total(__m512i c)
{
    uint32_t l[16];
    size_t total = 0;
    _mm512_storeu_si512((void *)l, c);
    for (int j = 0; j < 16; j++)
        total += l[j];
    return total;
}
BEAT__SIMD_DEFINE_KERNELS(beat__simd_avx512_f32, f32, float, BEAT__SIMD_AVX512,
                          BEAT__SIMD_AVX512_INLINE)

// ---- f64 ----
typedef __m512d beat__simd_avx512_f64_vec;
typedef __mmask8 beat__simd_avx512_f64_mask;
typedef __m512i beat__simd_avx512_f64_cnt;
enum { beat__simd_avx512_f64_W = 8 };

BEAT__SIMD_AVX512_INLINE __mmask8 beat__simd_avx512_f64_first(size_t r)
{
    return (__mmask8)((1u << r) - 1);
}
BEAT__SIMD_AVX512_INLINE __m512d beat__simd_avx512_f64_zero(void) { return _mm512_setzero_pd(); }
BEAT__SIMD_AVX512_INLINE __m512d beat__simd_avx512_f64_set1(double v) { return _mm512_set1_pd(v); }
BEAT__SIMD_AVX512_INLINE __m512d beat__simd_avx512_f64_load(const double *p)
{
    return _mm512_loadu_pd(p);
}
BEAT__SIMD_AVX512_INLINE void beat__simd_avx512_f64_store(double *p, __m512d v)
{
    _mm512_storeu_pd(p, v);
}
BEAT__SIMD_AVX512_INLINE __m512d beat__simd_avx512_f64_load_part(const double *p, size_t r,
                                                                 double fill)
{
    return _mm512_mask_loadu_pd(_mm512_set1_pd(fill), beat__simd_avx512_f64_first(r), p);
}
BEAT__SIMD_AVX512_INLINE void beat__simd_avx512_f64_store_part(double *p, size_t r, __m512d v)
{
    _mm512_mask_storeu_pd(p, beat__simd_avx512_f64_first(r), v);
}
BEAT__SIMD_AVX512_INLINE __m512d beat__simd_avx512_f64_add(__m512d a, __m512d b)
{
    return _mm512_add_pd(a, b);
}
BEAT__SIMD_AVX512_INLINE __m512d beat__simd_avx512_f64_mul(__m512d a, __m512d b)
{
    return _mm512_mul_pd(a, b);
}
BEAT__SIMD_AVX512_INLINE __m512d beat__simd_avx512_f64_fmadd(__m512d a, __m512d b, __m512d c)
{
    return _mm512_fmadd_pd(a, b, c);
}
BEAT__SIMD_AVX512_INLINE __m512d beat__simd_avx512_f64_or(__m512d a, __m512d b)
{
    return _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(a), _mm512_castpd_si512(b)));
}
BEAT__SIMD_AVX512_INLINE __m512d beat__simd_avx512_f64_negate(__m512d a)
{
    return _mm512_castsi512_pd(
        _mm512_xor_si512(_mm512_castpd_si512(a), _mm512_set1_epi64(INT64_MIN)));
}
BEAT__SIMD_AVX512_INLINE __m512d beat__simd_avx512_f64_lanemin(__m512d a, __m512d b)
{
    const __mmask8 all = (__mmask8)0xffu;
    return beat__simd_avx512_f64_or(_mm512_mask_min_pd(a, all, a, b),
                                    _mm512_mask_min_pd(b, all, b, a));
}
BEAT__SIMD_AVX512_INLINE __m512d beat__simd_avx512_f64_lanemax(__m512d a, __m512d b)
{
    return beat__simd_avx512_f64_negate(beat__simd_avx512_f64_lanemin(
        beat__simd_avx512_f64_negate(a), beat__simd_avx512_f64_negate(b)));
}
BEAT__SIMD_AVX512_INLINE __mmask8 beat__simd_avx512_f64_cmp(__m512d a, __m512d b, beat_simd_cmp op)
{
    switch (op) {
    case BEAT_SIMD_CMP_LT:
        return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ);
    case BEAT_SIMD_CMP_LE:
        return _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ);
    case BEAT_SIMD_CMP_GT:
        return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ);
    case BEAT_SIMD_CMP_GE:
        return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ);
    case BEAT_SIMD_CMP_EQ:
        return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ);
    case BEAT_SIMD_CMP_NE:
        break;
    }
    return _mm512_cmp_pd_mask(a, b, _CMP_NEQ_UQ);
}
BEAT__SIMD_AVX512_INLINE __mmask8 beat__simd_avx512_f64_part(__mmask8 m, size_t r)
{
    return (__mmask8)(m & beat__simd_avx512_f64_first(r));
}
BEAT__SIMD_AVX512_INLINE unsigned beat__simd_avx512_f64_bits(__mmask8 m) { return m; }
BEAT__SIMD_AVX512_INLINE __m512i beat__simd_avx512_f64_cnt_zero(void)
{
    return _mm512_setzero_si512();
}
BEAT__SIMD_AVX512_INLINE __m512i beat__simd_avx512_f64_cnt_add(__m512i c, __mmask8 m)
{
    return _mm512_mask_add_epi64(c, m, c, _mm512_set1_epi64(1));
}
BEAT__SIMD_AVX512_INLINE size_t beat__simd_avx512_f64_cnt_total(__m512i c)
{
    uint64_t l[8];
    uint64_t total = 0;
    _mm512_storeu_si512((void *)l, c);
    for (int j = 0; j < 8; j++)
        total += l[j];
    return (size_t)total;
}
BEAT__SIMD_DEFINE_KERNELS(beat__simd_avx512_f64, f64, double, BEAT__SIMD_AVX512,
                          BEAT__SIMD_AVX512_INLINE)

#endif // BEAT__SIMD_HAVE_AVX512

#endif // BEAT__SIMD_KERNELS_AVX512_INCLUDED
