// The plain loops simd_bench compares Beat's kernels with: what a user would
// write, in simd_loops.c, compiled twice in separate translation units (so
// nothing is inlined into the timing loop): with -O2 (prefix o2_) and with
// gcc's -O3 -march=native (prefix native_), which auto-vectorises what IEEE
// rules allow. native_copy_f64 also serves as the STREAM-style copy.
#ifndef SIMD_LOOPS_H_INCLUDED
#define SIMD_LOOPS_H_INCLUDED

#include <stddef.h>

#define SIMD_LOOPS_DECLARE_TYPE(p, sfx, T)                                                         \
    T p##_sum_##sfx(const T *x, size_t n);                                                         \
    T p##_dot_##sfx(const T *x, const T *y, size_t n);                                             \
    void p##_axpy_##sfx(T a, const T *x, T *y, size_t n);                                          \
    void p##_scale_##sfx(T a, T *x, size_t n);                                                     \
    void p##_fill_##sfx(T v, T *x, size_t n);                                                      \
    void p##_copy_##sfx(const T *x, T *y, size_t n);                                               \
    T p##_min_##sfx(const T *x, size_t n);                                                         \
    T p##_max_##sfx(const T *x, size_t n);                                                         \
    size_t p##_argmin_##sfx(const T *x, size_t n);                                                 \
    size_t p##_argmax_##sfx(const T *x, size_t n);                                                 \
    size_t p##_count_lt_##sfx(T t, const T *x, size_t n);

#define SIMD_LOOPS_DECLARE(p)                                                                      \
    SIMD_LOOPS_DECLARE_TYPE(p, f32, float)                                                         \
    SIMD_LOOPS_DECLARE_TYPE(p, f64, double)

SIMD_LOOPS_DECLARE(o2)
SIMD_LOOPS_DECLARE(native)

#endif
