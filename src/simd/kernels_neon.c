// SIMD kernels, NEON path (aarch64 Advanced SIMD): 4 x f32 / 2 x f64
// lanes, fused multiply-add, partial vectors through a stack copy. FMIN
// and FMAX already are the IEEE 754-2019 minimum and maximum (a NaN lane
// wins, -0 < +0), so min and max need no trick here.
// Shared by beat.h and beat_simd.h (own guard).
#ifndef BEAT__SIMD_KERNELS_NEON_INCLUDED
#define BEAT__SIMD_KERNELS_NEON_INCLUDED

#include "kernels.h"

#if BEAT__SIMD_HAVE_NEON

// ---- f32 ----
typedef float32x4_t beat__simd_neon_f32_vec;
typedef uint32x4_t beat__simd_neon_f32_mask;
typedef uint32x4_t beat__simd_neon_f32_cnt;
enum { beat__simd_neon_f32_W = 4 };

BEAT__SIMD_NEON_INLINE float32x4_t beat__simd_neon_f32_zero(void) { return vdupq_n_f32(0.0f); }
BEAT__SIMD_NEON_INLINE float32x4_t beat__simd_neon_f32_set1(float v) { return vdupq_n_f32(v); }
BEAT__SIMD_NEON_INLINE float32x4_t beat__simd_neon_f32_load(const float *p) { return vld1q_f32(p); }
BEAT__SIMD_NEON_INLINE void beat__simd_neon_f32_store(float *p, float32x4_t v) { vst1q_f32(p, v); }
BEAT__SIMD_NEON_INLINE float32x4_t beat__simd_neon_f32_add(float32x4_t a, float32x4_t b)
{
    return vaddq_f32(a, b);
}
BEAT__SIMD_NEON_INLINE float32x4_t beat__simd_neon_f32_mul(float32x4_t a, float32x4_t b)
{
    return vmulq_f32(a, b);
}
BEAT__SIMD_NEON_INLINE float32x4_t beat__simd_neon_f32_fmadd(float32x4_t a, float32x4_t b,
                                                             float32x4_t c)
{
    return vfmaq_f32(c, a, b);
}
BEAT__SIMD_NEON_INLINE float32x4_t beat__simd_neon_f32_lanemin(float32x4_t a, float32x4_t b)
{
    return vminq_f32(a, b);
}
BEAT__SIMD_NEON_INLINE float32x4_t beat__simd_neon_f32_lanemax(float32x4_t a, float32x4_t b)
{
    return vmaxq_f32(a, b);
}
BEAT__SIMD_NEON_INLINE uint32x4_t beat__simd_neon_f32_cmp(float32x4_t a, float32x4_t b,
                                                          beat_simd_cmp op)
{
    switch (op) {
    case BEAT_SIMD_CMP_LT:
        return vcltq_f32(a, b);
    case BEAT_SIMD_CMP_LE:
        return vcleq_f32(a, b);
    case BEAT_SIMD_CMP_GT:
        return vcgtq_f32(a, b);
    case BEAT_SIMD_CMP_GE:
        return vcgeq_f32(a, b);
    case BEAT_SIMD_CMP_EQ:
        return vceqq_f32(a, b);
    case BEAT_SIMD_CMP_NE:
        break;
    }
    return vmvnq_u32(vceqq_f32(a, b));
}
BEAT__SIMD_NEON_INLINE uint32x4_t beat__simd_neon_f32_part(uint32x4_t m, size_t r)
{
    return vandq_u32(m, vreinterpretq_u32_s32(vld1q_s32(beat__simd_lanes32 + 16 - r)));
}
BEAT__SIMD_NEON_INLINE unsigned beat__simd_neon_f32_bits(uint32x4_t m)
{
    static const uint32_t weights[4] = {1, 2, 4, 8};
    return vaddvq_u32(vandq_u32(m, vld1q_u32(weights)));
}
BEAT__SIMD_NEON_INLINE uint32x4_t beat__simd_neon_f32_cnt_zero(void) { return vdupq_n_u32(0); }
BEAT__SIMD_NEON_INLINE uint32x4_t beat__simd_neon_f32_cnt_add(uint32x4_t c, uint32x4_t m)
{
    return vsubq_u32(c, m); // a set lane is all ones, i.e. -1
}
BEAT__SIMD_NEON_INLINE size_t beat__simd_neon_f32_cnt_total(uint32x4_t c)
{
    return (size_t)vaddlvq_u32(c);
}
BEAT__SIMD_DEFINE_PART_BY_COPY(beat__simd_neon_f32, float, BEAT__SIMD_NEON_INLINE)
BEAT__SIMD_DEFINE_KERNELS(beat__simd_neon_f32, f32, float, BEAT__SIMD_NEON, BEAT__SIMD_NEON_INLINE)

// ---- f64 ----
typedef float64x2_t beat__simd_neon_f64_vec;
typedef uint64x2_t beat__simd_neon_f64_mask;
typedef uint64x2_t beat__simd_neon_f64_cnt;
enum { beat__simd_neon_f64_W = 2 };

BEAT__SIMD_NEON_INLINE float64x2_t beat__simd_neon_f64_zero(void) { return vdupq_n_f64(0.0); }
BEAT__SIMD_NEON_INLINE float64x2_t beat__simd_neon_f64_set1(double v) { return vdupq_n_f64(v); }
BEAT__SIMD_NEON_INLINE float64x2_t beat__simd_neon_f64_load(const double *p)
{
    return vld1q_f64(p);
}
BEAT__SIMD_NEON_INLINE void beat__simd_neon_f64_store(double *p, float64x2_t v) { vst1q_f64(p, v); }
BEAT__SIMD_NEON_INLINE float64x2_t beat__simd_neon_f64_add(float64x2_t a, float64x2_t b)
{
    return vaddq_f64(a, b);
}
BEAT__SIMD_NEON_INLINE float64x2_t beat__simd_neon_f64_mul(float64x2_t a, float64x2_t b)
{
    return vmulq_f64(a, b);
}
BEAT__SIMD_NEON_INLINE float64x2_t beat__simd_neon_f64_fmadd(float64x2_t a, float64x2_t b,
                                                             float64x2_t c)
{
    return vfmaq_f64(c, a, b);
}
BEAT__SIMD_NEON_INLINE float64x2_t beat__simd_neon_f64_lanemin(float64x2_t a, float64x2_t b)
{
    return vminq_f64(a, b);
}
BEAT__SIMD_NEON_INLINE float64x2_t beat__simd_neon_f64_lanemax(float64x2_t a, float64x2_t b)
{
    return vmaxq_f64(a, b);
}
BEAT__SIMD_NEON_INLINE uint64x2_t beat__simd_neon_f64_cmp(float64x2_t a, float64x2_t b,
                                                          beat_simd_cmp op)
{
    switch (op) {
    case BEAT_SIMD_CMP_LT:
        return vcltq_f64(a, b);
    case BEAT_SIMD_CMP_LE:
        return vcleq_f64(a, b);
    case BEAT_SIMD_CMP_GT:
        return vcgtq_f64(a, b);
    case BEAT_SIMD_CMP_GE:
        return vcgeq_f64(a, b);
    case BEAT_SIMD_CMP_EQ:
        return vceqq_f64(a, b);
    case BEAT_SIMD_CMP_NE:
        break;
    }
    return vreinterpretq_u64_u32(vmvnq_u32(vreinterpretq_u32_u64(vceqq_f64(a, b))));
}
BEAT__SIMD_NEON_INLINE uint64x2_t beat__simd_neon_f64_part(uint64x2_t m, size_t r)
{
    return vandq_u64(m, vreinterpretq_u64_s64(vld1q_s64(beat__simd_lanes64 + 8 - r)));
}
BEAT__SIMD_NEON_INLINE unsigned beat__simd_neon_f64_bits(uint64x2_t m)
{
    static const uint64_t weights[2] = {1, 2};
    return (unsigned)vaddvq_u64(vandq_u64(m, vld1q_u64(weights)));
}
BEAT__SIMD_NEON_INLINE uint64x2_t beat__simd_neon_f64_cnt_zero(void) { return vdupq_n_u64(0); }
BEAT__SIMD_NEON_INLINE uint64x2_t beat__simd_neon_f64_cnt_add(uint64x2_t c, uint64x2_t m)
{
    return vsubq_u64(c, m);
}
BEAT__SIMD_NEON_INLINE size_t beat__simd_neon_f64_cnt_total(uint64x2_t c)
{
    return (size_t)vaddvq_u64(c);
}
BEAT__SIMD_DEFINE_PART_BY_COPY(beat__simd_neon_f64, double, BEAT__SIMD_NEON_INLINE)
BEAT__SIMD_DEFINE_KERNELS(beat__simd_neon_f64, f64, double, BEAT__SIMD_NEON, BEAT__SIMD_NEON_INLINE)

#endif // BEAT__SIMD_HAVE_NEON

#endif // BEAT__SIMD_KERNELS_NEON_INCLUDED
