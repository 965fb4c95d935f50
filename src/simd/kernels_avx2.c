// SIMD kernels, AVX2 + FMA path (x86): 8 x f32 / 4 x f64 lanes, fused
// multiply-add, partial vectors with AVX masked loads and stores (masked-
// out lanes are not accessed, so they cannot fault). Min and max as in the
// SSE2 path. Shared by beat.h and beat_simd.h (own guard).
#ifndef BEAT__SIMD_KERNELS_AVX2_INCLUDED
#define BEAT__SIMD_KERNELS_AVX2_INCLUDED

#include "kernels.h"

#if BEAT__SIMD_HAVE_AVX2

// ---- f32 ----
typedef __m256 beat__simd_avx2_f32_vec;
typedef __m256 beat__simd_avx2_f32_mask;
typedef __m256i beat__simd_avx2_f32_cnt;
enum { beat__simd_avx2_f32_W = 8 };

BEAT__SIMD_AVX2_INLINE __m256i beat__simd_avx2_f32_lanes(size_t r)
{
    return _mm256_loadu_si256((const __m256i *)(const void *)(beat__simd_lanes32 + 16 - r));
}
BEAT__SIMD_AVX2_INLINE __m256 beat__simd_avx2_f32_zero(void) { return _mm256_setzero_ps(); }
BEAT__SIMD_AVX2_INLINE __m256 beat__simd_avx2_f32_set1(float v) { return _mm256_set1_ps(v); }
BEAT__SIMD_AVX2_INLINE __m256 beat__simd_avx2_f32_load(const float *p)
{
    return _mm256_loadu_ps(p);
}
BEAT__SIMD_AVX2_INLINE void beat__simd_avx2_f32_store(float *p, __m256 v)
{
    _mm256_storeu_ps(p, v);
}
BEAT__SIMD_AVX2_INLINE __m256 beat__simd_avx2_f32_load_part(const float *p, size_t r, float fill)
{
    __m256i lanes = beat__simd_avx2_f32_lanes(r);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, lanes),
                            _mm256_castsi256_ps(lanes));
}
BEAT__SIMD_AVX2_INLINE void beat__simd_avx2_f32_store_part(float *p, size_t r, __m256 v)
{
    _mm256_maskstore_ps(p, beat__simd_avx2_f32_lanes(r), v);
}
BEAT__SIMD_AVX2_INLINE __m256 beat__simd_avx2_f32_add(__m256 a, __m256 b)
{
    return _mm256_add_ps(a, b);
}
BEAT__SIMD_AVX2_INLINE __m256 beat__simd_avx2_f32_mul(__m256 a, __m256 b)
{
    return _mm256_mul_ps(a, b);
}
BEAT__SIMD_AVX2_INLINE __m256 beat__simd_avx2_f32_fmadd(__m256 a, __m256 b, __m256 c)
{
    return _mm256_fmadd_ps(a, b, c);
}
BEAT__SIMD_AVX2_INLINE __m256 beat__simd_avx2_f32_lanemin(__m256 a, __m256 b)
{
    return _mm256_or_ps(_mm256_min_ps(a, b), _mm256_min_ps(b, a));
}
BEAT__SIMD_AVX2_INLINE __m256 beat__simd_avx2_f32_lanemax(__m256 a, __m256 b)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = beat__simd_avx2_f32_lanemin(_mm256_xor_ps(a, sign), _mm256_xor_ps(b, sign));
    return _mm256_xor_ps(m, sign);
}
BEAT__SIMD_AVX2_INLINE __m256 beat__simd_avx2_f32_cmp(__m256 a, __m256 b, beat_simd_cmp op)
{
    switch (op) {
    case BEAT_SIMD_CMP_LT:
        return _mm256_cmp_ps(a, b, _CMP_LT_OQ);
    case BEAT_SIMD_CMP_LE:
        return _mm256_cmp_ps(a, b, _CMP_LE_OQ);
    case BEAT_SIMD_CMP_GT:
        return _mm256_cmp_ps(a, b, _CMP_GT_OQ);
    case BEAT_SIMD_CMP_GE:
        return _mm256_cmp_ps(a, b, _CMP_GE_OQ);
    case BEAT_SIMD_CMP_EQ:
        return _mm256_cmp_ps(a, b, _CMP_EQ_OQ);
    case BEAT_SIMD_CMP_NE:
        break;
    }
    return _mm256_cmp_ps(a, b, _CMP_NEQ_UQ);
}
BEAT__SIMD_AVX2_INLINE __m256 beat__simd_avx2_f32_part(__m256 m, size_t r)
{
    return _mm256_and_ps(m, _mm256_castsi256_ps(beat__simd_avx2_f32_lanes(r)));
}
BEAT__SIMD_AVX2_INLINE unsigned beat__simd_avx2_f32_bits(__m256 m)
{
    return (unsigned)_mm256_movemask_ps(m);
}
BEAT__SIMD_AVX2_INLINE __m256i beat__simd_avx2_f32_cnt_zero(void) { return _mm256_setzero_si256(); }
BEAT__SIMD_AVX2_INLINE __m256i beat__simd_avx2_f32_cnt_add(__m256i c, __m256 m)
{
    return _mm256_sub_epi32(c, _mm256_castps_si256(m)); // a set lane is -1
}
BEAT__SIMD_AVX2_INLINE size_t beat__simd_avx2_f32_cnt_total(__m256i c)
{
    uint32_t l[8];
    size_t total = 0;
    _mm256_storeu_si256((__m256i *)(void *)l, c);
    for (int j = 0; j < 8; j++)
        total += l[j];
    return total;
}
BEAT__SIMD_DEFINE_KERNELS(beat__simd_avx2_f32, f32, float, BEAT__SIMD_AVX2, BEAT__SIMD_AVX2_INLINE)

// ---- f64 ----
typedef __m256d beat__simd_avx2_f64_vec;
typedef __m256d beat__simd_avx2_f64_mask;
typedef __m256i beat__simd_avx2_f64_cnt;
enum { beat__simd_avx2_f64_W = 4 };

BEAT__SIMD_AVX2_INLINE __m256i beat__simd_avx2_f64_lanes(size_t r)
{
    return _mm256_loadu_si256((const __m256i *)(const void *)(beat__simd_lanes64 + 8 - r));
}
BEAT__SIMD_AVX2_INLINE __m256d beat__simd_avx2_f64_zero(void) { return _mm256_setzero_pd(); }
BEAT__SIMD_AVX2_INLINE __m256d beat__simd_avx2_f64_set1(double v) { return _mm256_set1_pd(v); }
BEAT__SIMD_AVX2_INLINE __m256d beat__simd_avx2_f64_load(const double *p)
{
    return _mm256_loadu_pd(p);
}
BEAT__SIMD_AVX2_INLINE void beat__simd_avx2_f64_store(double *p, __m256d v)
{
    _mm256_storeu_pd(p, v);
}
BEAT__SIMD_AVX2_INLINE __m256d beat__simd_avx2_f64_load_part(const double *p, size_t r, double fill)
{
    __m256i lanes = beat__simd_avx2_f64_lanes(r);
    return _mm256_blendv_pd(_mm256_set1_pd(fill), _mm256_maskload_pd(p, lanes),
                            _mm256_castsi256_pd(lanes));
}
BEAT__SIMD_AVX2_INLINE void beat__simd_avx2_f64_store_part(double *p, size_t r, __m256d v)
{
    _mm256_maskstore_pd(p, beat__simd_avx2_f64_lanes(r), v);
}
BEAT__SIMD_AVX2_INLINE __m256d beat__simd_avx2_f64_add(__m256d a, __m256d b)
{
    return _mm256_add_pd(a, b);
}
BEAT__SIMD_AVX2_INLINE __m256d beat__simd_avx2_f64_mul(__m256d a, __m256d b)
{
    return _mm256_mul_pd(a, b);
}
BEAT__SIMD_AVX2_INLINE __m256d beat__simd_avx2_f64_fmadd(__m256d a, __m256d b, __m256d c)
{
    return _mm256_fmadd_pd(a, b, c);
}
BEAT__SIMD_AVX2_INLINE __m256d beat__simd_avx2_f64_lanemin(__m256d a, __m256d b)
{
    return _mm256_or_pd(_mm256_min_pd(a, b), _mm256_min_pd(b, a));
}
BEAT__SIMD_AVX2_INLINE __m256d beat__simd_avx2_f64_lanemax(__m256d a, __m256d b)
{
    const __m256d sign = _mm256_set1_pd(-0.0);
    __m256d m = beat__simd_avx2_f64_lanemin(_mm256_xor_pd(a, sign), _mm256_xor_pd(b, sign));
    return _mm256_xor_pd(m, sign);
}
BEAT__SIMD_AVX2_INLINE __m256d beat__simd_avx2_f64_cmp(__m256d a, __m256d b, beat_simd_cmp op)
{
    switch (op) {
    case BEAT_SIMD_CMP_LT:
        return _mm256_cmp_pd(a, b, _CMP_LT_OQ);
    case BEAT_SIMD_CMP_LE:
        return _mm256_cmp_pd(a, b, _CMP_LE_OQ);
    case BEAT_SIMD_CMP_GT:
        return _mm256_cmp_pd(a, b, _CMP_GT_OQ);
    case BEAT_SIMD_CMP_GE:
        return _mm256_cmp_pd(a, b, _CMP_GE_OQ);
    case BEAT_SIMD_CMP_EQ:
        return _mm256_cmp_pd(a, b, _CMP_EQ_OQ);
    case BEAT_SIMD_CMP_NE:
        break;
    }
    return _mm256_cmp_pd(a, b, _CMP_NEQ_UQ);
}
BEAT__SIMD_AVX2_INLINE __m256d beat__simd_avx2_f64_part(__m256d m, size_t r)
{
    return _mm256_and_pd(m, _mm256_castsi256_pd(beat__simd_avx2_f64_lanes(r)));
}
BEAT__SIMD_AVX2_INLINE unsigned beat__simd_avx2_f64_bits(__m256d m)
{
    return (unsigned)_mm256_movemask_pd(m);
}
BEAT__SIMD_AVX2_INLINE __m256i beat__simd_avx2_f64_cnt_zero(void) { return _mm256_setzero_si256(); }
BEAT__SIMD_AVX2_INLINE __m256i beat__simd_avx2_f64_cnt_add(__m256i c, __m256d m)
{
    return _mm256_sub_epi64(c, _mm256_castpd_si256(m));
}
BEAT__SIMD_AVX2_INLINE size_t beat__simd_avx2_f64_cnt_total(__m256i c)
{
    uint64_t l[4];
    _mm256_storeu_si256((__m256i *)(void *)l, c);
    return (size_t)(l[0] + l[1] + l[2] + l[3]);
}
BEAT__SIMD_DEFINE_KERNELS(beat__simd_avx2_f64, f64, double, BEAT__SIMD_AVX2, BEAT__SIMD_AVX2_INLINE)

#endif // BEAT__SIMD_HAVE_AVX2

#endif // BEAT__SIMD_KERNELS_AVX2_INCLUDED
