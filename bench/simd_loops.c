// Plain loops for simd_bench (see simd_loops.h); compiled once per set of
// flags with -DSIMD_LOOPS_PREFIX=o2 or =native.
#include "simd_loops.h"

#ifndef SIMD_LOOPS_PREFIX
#error "compile with -DSIMD_LOOPS_PREFIX=o2 or =native"
#endif
#define SIMD_LOOPS_CAT2(a, b) a##_##b
#define SIMD_LOOPS_CAT(a, b) SIMD_LOOPS_CAT2(a, b)
#define FN(name) SIMD_LOOPS_CAT(SIMD_LOOPS_PREFIX, name)

#define SIMD_LOOPS_DEFINE(sfx, T)                                                                  \
    T FN(sum_##sfx)(const T *x, size_t n)                                                          \
    {                                                                                              \
        T s = 0;                                                                                   \
        for (size_t i = 0; i < n; i++)                                                             \
            s += x[i];                                                                             \
        return s;                                                                                  \
    }                                                                                              \
    T FN(dot_##sfx)(const T *x, const T *y, size_t n)                                              \
    {                                                                                              \
        T s = 0;                                                                                   \
        for (size_t i = 0; i < n; i++)                                                             \
            s += x[i] * y[i];                                                                      \
        return s;                                                                                  \
    }                                                                                              \
    void FN(axpy_##sfx)(T a, const T *x, T *y, size_t n)                                           \
    {                                                                                              \
        for (size_t i = 0; i < n; i++)                                                             \
            y[i] += a * x[i];                                                                      \
    }                                                                                              \
    void FN(scale_##sfx)(T a, T * x, size_t n)                                                     \
    {                                                                                              \
        for (size_t i = 0; i < n; i++)                                                             \
            x[i] *= a;                                                                             \
    }                                                                                              \
    void FN(fill_##sfx)(T v, T * x, size_t n)                                                      \
    {                                                                                              \
        for (size_t i = 0; i < n; i++)                                                             \
            x[i] = v;                                                                              \
    }                                                                                              \
    void FN(copy_##sfx)(const T *x, T *y, size_t n)                                                \
    {                                                                                              \
        for (size_t i = 0; i < n; i++)                                                             \
            y[i] = x[i];                                                                           \
    }                                                                                              \
    T FN(min_##sfx)(const T *x, size_t n)                                                          \
    {                                                                                              \
        T m = x[0];                                                                                \
        for (size_t i = 1; i < n; i++)                                                             \
            m = x[i] < m ? x[i] : m;                                                               \
        return m;                                                                                  \
    }                                                                                              \
    T FN(max_##sfx)(const T *x, size_t n)                                                          \
    {                                                                                              \
        T m = x[0];                                                                                \
        for (size_t i = 1; i < n; i++)                                                             \
            m = x[i] > m ? x[i] : m;                                                               \
        return m;                                                                                  \
    }                                                                                              \
    size_t FN(argmin_##sfx)(const T *x, size_t n)                                                  \
    {                                                                                              \
        size_t best = 0;                                                                           \
        for (size_t i = 1; i < n; i++)                                                             \
            if (x[i] < x[best])                                                                    \
                best = i;                                                                          \
        return best;                                                                               \
    }                                                                                              \
    size_t FN(argmax_##sfx)(const T *x, size_t n)                                                  \
    {                                                                                              \
        size_t best = 0;                                                                           \
        for (size_t i = 1; i < n; i++)                                                             \
            if (x[i] > x[best])                                                                    \
                best = i;                                                                          \
        return best;                                                                               \
    }                                                                                              \
    size_t FN(count_lt_##sfx)(T t, const T *x, size_t n)                                           \
    {                                                                                              \
        size_t c = 0;                                                                              \
        for (size_t i = 0; i < n; i++)                                                             \
            c += x[i] < t;                                                                         \
        return c;                                                                                  \
    }

SIMD_LOOPS_DEFINE(f32, float)
SIMD_LOOPS_DEFINE(f64, double)
