// ---------------------------------------------------------------------------
// SIMD: array kernels with one code path per instruction set, chosen at run
// time. Shared by beat.h and beat_simd.h (own guard).
//
// Paths: scalar (portable C, always compiled), SSE2, AVX2+FMA and AVX-512F
// on x86, NEON on aarch64. Each is compiled with per-function target
// attributes in the implementation file, without -m flags;
// BEAT_SIMD_NO_SSE2, _AVX2, _AVX512 and _NEON (set where the implementation
// is compiled) leave a path out. The first kernel call picks the best path
// that is compiled in and that the CPU and the OS support (cpuid and xgetbv
// on x86, hwcaps on Linux/aarch64); beat_simd_force overrides the choice.
//
// Every kernel takes any length (n == 0 does nothing and then the pointers
// may be NULL) and any alignment of the element type. Argument order
// follows BLAS: scalars, then inputs, then outputs, then n. An output must
// not overlap an input unless it is the same array (x == y). The kernels
// allocate nothing, take no lock and do not log.
// Thread safety: every kernel may run on any number of threads at once
// (on disjoint outputs); beat_simd_force may run concurrently with them.
//
// Numerics, the same on every path (the bounds assume IEEE arithmetic, i.e.
// the implementation file is not compiled with -ffast-math, and no
// overflow or underflow). u is the unit roundoff, 2^-24 for f32 and 2^-53
// for f64, and g(m) = m*u / (1 - m*u).
// - sum: |computed - exact| <= g(m) * sum |x[i]|, m = min(n - 1, ceil(n/8) + 5).
//   Each path keeps K independent partial sums (element i goes to i mod K)
//   and adds them up as a tree, so an element sees at most ceil(n/K) - 1 +
//   log2(K) roundings; K is 8 (scalar, SSE2 f64, NEON f64), 16, 32 or 64
//   (AVX-512 f32), and ceil(n/K) - 1 + log2(K) <= ceil(n/8) + 5 for all of
//   them. A plain loop has m = n - 1.
// - dot: |computed - exact| <= g(m) * sum |x[i] * y[i]|,
//   m = min(n, ceil(n/8) + 6): one more rounding for the product (fused or
//   not: AVX2, AVX-512 and NEON use FMA, scalar and SSE2 do not).
// - axpy: each y[i] is a*x[i] + y[i] rounded once (FMA paths) or twice:
//   |computed - exact| <= g(2) * (|a*x[i]| + |y[i]|).
// - scale, fill, copy, min, max, argmin, argmax and count give the same
//   bits on every path (scale rounds each product once, as IEEE requires).
// - min and max are the IEEE 754-2019 minimum and maximum (C23 fminimum,
//   fmaximum) folded over x: -0 counts as below +0, and a NaN anywhere
//   makes the result NaN; then the result is the first NaN of x, bit for
//   bit. n == 0 gives +inf (min) or -inf (max). argmin/argmax return the
//   first index holding that result (for a NaN result, the first NaN;
//   zeros match by sign), so x[argmin(x, n)] is min(x, n) bit for bit;
//   n == 0 gives 0. They read x twice (the second pass stops at the hit).
// - count compares like C: LT, LE, GT, GE and EQ are false when x[i] or t
//   is NaN, NE is true.
#ifndef BEAT__SIMD_API_INCLUDED
#define BEAT__SIMD_API_INCLUDED

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum beat_simd_isa {
    BEAT_SIMD_SCALAR,
    BEAT_SIMD_SSE2,
    BEAT_SIMD_AVX2,   // AVX2 and FMA
    BEAT_SIMD_AVX512, // AVX-512F (and AVX2, FMA)
    BEAT_SIMD_NEON    // aarch64 Advanced SIMD
} beat_simd_isa;

// The best path that is compiled in and that this CPU and OS run (AVX512 >
// AVX2 > SSE2 on x86, NEON on aarch64, else SCALAR). Detected once per
// process (per implementation file under BEAT_STATIC), then cached.
// Thread safety: any thread.
BEAT_API beat_simd_isa beat_simd_detect(void);

// The path the kernels use now: beat_simd_detect() unless beat_simd_force
// chose another. Thread safety: any thread.
BEAT_API beat_simd_isa beat_simd_active(void);

// 1 when isa is compiled in and this CPU and OS run it, else 0 (also for
// values outside beat_simd_isa). Thread safety: any thread.
BEAT_API int beat_simd_supported(beat_simd_isa isa);

// Makes every kernel, on every thread, use isa from now on (for tests and
// benchmarks; beat_simd_force(beat_simd_detect()) undoes it).
// Errors: INVALID_ARGUMENT (not a beat_simd_isa value), UNSUPPORTED (isa
// compiled out, or this CPU or OS does not run it; nothing changes).
// Thread safety: any thread; a kernel already running on another thread
// finishes on the path it started with.
BEAT_API beat_result beat_simd_force(beat_simd_isa isa);

// "scalar", "sse2", "avx2", "avx512", "neon"; "unknown" otherwise.
// Thread safety: any thread.
BEAT_API const char *beat_simd_isa_name(beat_simd_isa isa);

// Comparisons of beat_simd_count_*: x[i] OP t.
typedef enum beat_simd_cmp {
    BEAT_SIMD_CMP_LT, // x[i] <  t
    BEAT_SIMD_CMP_LE, // x[i] <= t
    BEAT_SIMD_CMP_GT, // x[i] >  t
    BEAT_SIMD_CMP_GE, // x[i] >= t
    BEAT_SIMD_CMP_EQ, // x[i] == t
    BEAT_SIMD_CMP_NE  // x[i] != t (true when either is NaN)
} beat_simd_cmp;

// Kernels. Numerics and thread safety: see the top of this section.

// Sum of x[0..n) (0 for n == 0), with the error bound above.
BEAT_API float beat_simd_sum_f32(const float *x, size_t n);
BEAT_API double beat_simd_sum_f64(const double *x, size_t n);
// Sum of x[i] * y[i], with the error bound above.
BEAT_API float beat_simd_dot_f32(const float *x, const float *y, size_t n);
BEAT_API double beat_simd_dot_f64(const double *x, const double *y, size_t n);
// y[i] += a * x[i]; writes y[0..n) only. x == y is allowed.
BEAT_API void beat_simd_axpy_f32(float a, const float *x, float *y, size_t n);
BEAT_API void beat_simd_axpy_f64(double a, const double *x, double *y, size_t n);
// x[i] *= a.
BEAT_API void beat_simd_scale_f32(float a, float *x, size_t n);
BEAT_API void beat_simd_scale_f64(double a, double *x, size_t n);
// x[i] = v.
BEAT_API void beat_simd_fill_f32(float v, float *x, size_t n);
BEAT_API void beat_simd_fill_f64(double v, double *x, size_t n);
// y[i] = x[i], bits unchanged (like memcpy: x to y, no overlap).
BEAT_API void beat_simd_copy_f32(const float *x, float *y, size_t n);
BEAT_API void beat_simd_copy_f64(const double *x, double *y, size_t n);
// Smallest / largest element (IEEE 754-2019 minimum/maximum; NaN rules
// above); +inf / -inf for n == 0.
BEAT_API float beat_simd_min_f32(const float *x, size_t n);
BEAT_API double beat_simd_min_f64(const double *x, size_t n);
BEAT_API float beat_simd_max_f32(const float *x, size_t n);
BEAT_API double beat_simd_max_f64(const double *x, size_t n);
// First index of the min / max (NaN rules above); 0 for n == 0.
BEAT_API size_t beat_simd_argmin_f32(const float *x, size_t n);
BEAT_API size_t beat_simd_argmin_f64(const double *x, size_t n);
BEAT_API size_t beat_simd_argmax_f32(const float *x, size_t n);
BEAT_API size_t beat_simd_argmax_f64(const double *x, size_t n);
// Number of i with x[i] OP t, e.g. beat_simd_count_f32(BEAT_SIMD_CMP_LT,
// 0.5f, x, n) counts the elements below 0.5. An op outside beat_simd_cmp
// counts nothing (and fails BEAT_ASSERT).
BEAT_API size_t beat_simd_count_f32(beat_simd_cmp op, float t, const float *x, size_t n);
BEAT_API size_t beat_simd_count_f64(beat_simd_cmp op, double t, const double *x, size_t n);

#ifdef __cplusplus
}
#endif

#endif // BEAT__SIMD_API_INCLUDED
