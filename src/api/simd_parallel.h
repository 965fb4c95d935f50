// ---------------------------------------------------------------------------
// SIMD over a pool (beat.h only: beat_simd.h has no pool)
//
// The kernels of the SIMD section split over a pool's workers with
// beat_pool_parallel_reduce / beat_pool_parallel_for: x is cut into blocks
// of 16 KiB whose boundaries are 64-byte aligned in memory (in y for axpy,
// the array written, so no two workers write one cache line), so every
// piece starts on a vector and cache-line boundary; each worker runs the
// active SIMD path on whole runs of blocks. Arrays of at most
// BEAT_SIMD_PARALLEL_MIN_BYTES (16 MiB of x; impl macro) are one call of
// the serial kernel on the calling thread: below that, on the 2-CPU
// machine it was measured on, handing the work to the pool cost more than
// it gained (the errors stay those of the pool, below).
//
// The split depends only on n and on the address of x (y for axpy) modulo
// 64, never on the number of workers or on timing, so a result is the same
// on every run. min and max give exactly what beat_simd_min/max give (NaN
// rules included); axpy gives exactly what beat_simd_axpy gives. sum and
// dot add the pieces' results in a tree, which adds at most ceil(log2 n)
// roundings to the bound of beat_simd_sum/dot:
//     |computed - exact| <= g(m') * sum |x[i]| (or |x[i]*y[i]|),
//     m' = min(n - 1, ceil(n/8) + 5 + ceil(log2 n))   (sum)
//     m' = min(n, ceil(n/8) + 6 + ceil(log2 n))       (dot)
//
// Results go to *out (sum, dot, min, max). n == 0 gives 0, +inf or -inf
// without touching the pool (x, y may then be NULL).
// Errors: INVALID_ARGUMENT (pool or out NULL, x or y NULL with n > 0), and
// those of beat_run: DEADLOCK when called from a task of the same pool,
// SHUTDOWN while it is being destroyed. On error *out is unchanged and y
// (axpy) is not written.
// Thread safety: any thread outside the pool (as beat_pool_parallel_for).
#ifdef __cplusplus
extern "C" {
#endif

BEAT_API beat_result beat_simd_parallel_sum_f32(beat_pool *pool, const float *x, size_t n,
                                                float *out);
BEAT_API beat_result beat_simd_parallel_sum_f64(beat_pool *pool, const double *x, size_t n,
                                                double *out);
BEAT_API beat_result beat_simd_parallel_dot_f32(beat_pool *pool, const float *x, const float *y,
                                                size_t n, float *out);
BEAT_API beat_result beat_simd_parallel_dot_f64(beat_pool *pool, const double *x, const double *y,
                                                size_t n, double *out);
// y[i] += a * x[i]; x == y is allowed.
BEAT_API beat_result beat_simd_parallel_axpy_f32(beat_pool *pool, float a, const float *x, float *y,
                                                 size_t n);
BEAT_API beat_result beat_simd_parallel_axpy_f64(beat_pool *pool, double a, const double *x,
                                                 double *y, size_t n);
BEAT_API beat_result beat_simd_parallel_min_f32(beat_pool *pool, const float *x, size_t n,
                                                float *out);
BEAT_API beat_result beat_simd_parallel_min_f64(beat_pool *pool, const double *x, size_t n,
                                                double *out);
BEAT_API beat_result beat_simd_parallel_max_f32(beat_pool *pool, const float *x, size_t n,
                                                float *out);
BEAT_API beat_result beat_simd_parallel_max_f64(beat_pool *pool, const double *x, size_t n,
                                                double *out);

#ifdef __cplusplus
}
#endif
