// SIMD dispatch: one table of kernels per compiled path, the detection of
// the best path (once), and the public kernels, which call through the
// table of the active path. Shared by beat.h and beat_simd.h (own guard).
#ifndef BEAT__SIMD_DISPATCH_INCLUDED
#define BEAT__SIMD_DISPATCH_INCLUDED

#include "../atomics.h"
#include "../cpu_features.c"
#include "kernels_scalar.c"
#include "kernels_sse2.c"
#include "kernels_avx2.c"
#include "kernels_avx512.c"
#include "kernels_neon.c"

// ---------------------------------------------------------------------------
// Tables

#define BEAT__SIMD_KERNELS_OF(sfx, T)                                                              \
    typedef struct beat__simd_kernels_##sfx {                                                      \
        T (*sum)(const T *x, size_t n);                                                            \
        T (*dot)(const T *x, const T *y, size_t n);                                                \
        void (*axpy)(T a, const T *x, T *y, size_t n);                                             \
        void (*scale)(T a, T *x, size_t n);                                                        \
        void (*fill)(T v, T *x, size_t n);                                                         \
        void (*copy)(const T *x, T *y, size_t n);                                                  \
        T (*min)(const T *x, size_t n);                                                            \
        T (*max)(const T *x, size_t n);                                                            \
        size_t (*find)(const T *x, size_t n, T key);                                               \
        size_t (*count)(beat_simd_cmp op, T t, const T *x, size_t n);                              \
    } beat__simd_kernels_##sfx;

BEAT__SIMD_KERNELS_OF(f32, float)
BEAT__SIMD_KERNELS_OF(f64, double)

typedef struct beat__simd_table {
    beat__simd_kernels_f32 f32;
    beat__simd_kernels_f64 f64;
} beat__simd_table;

// The kernels P##_* that kernels.h defined for path P, in field order.
#define BEAT__SIMD_ENTRIES(P)                                                                      \
    {                                                                                              \
        P##_sum, P##_dot, P##_axpy, P##_scale, P##_fill, P##_copy, P##_min, P##_max, P##_find,     \
            P##_count                                                                              \
    }
#define BEAT__SIMD_TABLE(isa)                                                                      \
    {                                                                                              \
        BEAT__SIMD_ENTRIES(beat__simd_##isa##_f32), BEAT__SIMD_ENTRIES(beat__simd_##isa##_f64)     \
    }

static const beat__simd_table beat__simd_table_scalar = BEAT__SIMD_TABLE(scalar);
#if BEAT__SIMD_HAVE_SSE2
static const beat__simd_table beat__simd_table_sse2 = BEAT__SIMD_TABLE(sse2);
#endif
#if BEAT__SIMD_HAVE_AVX2
static const beat__simd_table beat__simd_table_avx2 = BEAT__SIMD_TABLE(avx2);
#endif
#if BEAT__SIMD_HAVE_AVX512
static const beat__simd_table beat__simd_table_avx512 = BEAT__SIMD_TABLE(avx512);
#endif
#if BEAT__SIMD_HAVE_NEON
static const beat__simd_table beat__simd_table_neon = BEAT__SIMD_TABLE(neon);
#endif

// Indexed by beat_simd_isa; NULL for a path that is not compiled in.
static const beat__simd_table *const beat__simd_tables[] = {
    &beat__simd_table_scalar,
#if BEAT__SIMD_HAVE_SSE2
    &beat__simd_table_sse2,
#else
    NULL,
#endif
#if BEAT__SIMD_HAVE_AVX2
    &beat__simd_table_avx2,
#else
    NULL,
#endif
#if BEAT__SIMD_HAVE_AVX512
    &beat__simd_table_avx512,
#else
    NULL,
#endif
#if BEAT__SIMD_HAVE_NEON
    &beat__simd_table_neon,
#else
    NULL,
#endif
};
#define BEAT__SIMD_NISA (sizeof beat__simd_tables / sizeof beat__simd_tables[0])
BEAT__STATIC_ASSERT(sizeof beat__simd_tables / sizeof beat__simd_tables[0] == BEAT_SIMD_NEON + 1,
                    simd_table_per_isa);

// ---------------------------------------------------------------------------
// Detection and the active path
//
// Two words, each 0 until set. Both are written with relaxed stores and read
// with relaxed loads: what they select is constant data (the tables above,
// initialised before the program runs), so nothing else needs to become
// visible with them, and a thread that still reads 0 computes the same
// value again (features) or joins the choice through the CAS (active).

// The beat_cpu_feature bits of this CPU, with BEAT__SIMD_DETECTED set.
static uint64_t beat__simd_features;
#define BEAT__SIMD_DETECTED ((uint64_t)1 << 63)
// The active path + 1.
static uint32_t beat__simd_active_isa;

BEAT__PRIVATE uint64_t beat__simd_cpu(void)
{
    // Relaxed: see above; racing first calls store the same bits.
    uint64_t f = beat__atomic_load_u64(&beat__simd_features, BEAT__MO_RELAXED);
    if (BEAT__UNLIKELY(f == 0)) {
        f = beat__cpu_features_live() | BEAT__SIMD_DETECTED;
        beat__atomic_store_u64(&beat__simd_features, f, BEAT__MO_RELAXED);
    }
    return f;
}

// Whether a CPU with features f runs the path isa (the table must exist).
BEAT__PRIVATE int beat__simd_runs(beat_simd_isa isa, uint64_t f)
{
    const uint64_t avx2 = BEAT_CPU_FEATURE_AVX2 | BEAT_CPU_FEATURE_FMA;
    const uint64_t avx512 = avx2 | BEAT_CPU_FEATURE_AVX512F;
    switch (isa) {
    case BEAT_SIMD_SCALAR:
        return 1;
    case BEAT_SIMD_SSE2:
        return (f & BEAT_CPU_FEATURE_SSE2) != 0;
    case BEAT_SIMD_AVX2:
        return (f & avx2) == avx2;
    case BEAT_SIMD_AVX512:
        return (f & avx512) == avx512;
    case BEAT_SIMD_NEON:
        return (f & BEAT_CPU_FEATURE_NEON) != 0;
    }
    return 0;
}

BEAT__DEF int beat_simd_supported(beat_simd_isa isa)
{
    size_t i = (size_t)isa;
    return i < BEAT__SIMD_NISA && beat__simd_tables[i] != NULL &&
           beat__simd_runs(isa, beat__simd_cpu());
}

BEAT__DEF beat_simd_isa beat_simd_detect(void)
{
    static const beat_simd_isa best_first[] = {BEAT_SIMD_AVX512, BEAT_SIMD_AVX2, BEAT_SIMD_SSE2,
                                               BEAT_SIMD_NEON};
    for (size_t i = 0; i < sizeof best_first / sizeof best_first[0]; i++)
        if (beat_simd_supported(best_first[i]))
            return best_first[i];
    return BEAT_SIMD_SCALAR;
}

// The active path; the first call anywhere chooses it.
BEAT__INLINE beat_simd_isa beat__simd_active(void)
{
    // Relaxed: see above.
    uint32_t active = beat__atomic_load_u32(&beat__simd_active_isa, BEAT__MO_RELAXED);
    if (BEAT__UNLIKELY(active == 0)) {
        // A beat_simd_force that got here first wins (the CAS fails and
        // leaves its value in active). Relaxed for the reason above.
        uint32_t detected = (uint32_t)beat_simd_detect() + 1;
        if (beat__atomic_cas_u32(&beat__simd_active_isa, &active, detected, BEAT__MO_RELAXED,
                                 BEAT__MO_RELAXED))
            active = detected;
    }
    return (beat_simd_isa)(active - 1);
}

BEAT__INLINE const beat__simd_table *beat__simd_active_table(void)
{
    return beat__simd_tables[beat__simd_active()];
}

BEAT__DEF beat_simd_isa beat_simd_active(void) { return beat__simd_active(); }

BEAT__DEF beat_result beat_simd_force(beat_simd_isa isa)
{
    if ((size_t)isa >= BEAT__SIMD_NISA)
        return BEAT_ERROR_INVALID_ARGUMENT;
    if (!beat_simd_supported(isa))
        return BEAT_ERROR_UNSUPPORTED;
    // Relaxed: see above; kernels already running keep the table they read.
    beat__atomic_store_u32(&beat__simd_active_isa, (uint32_t)isa + 1, BEAT__MO_RELAXED);
    return BEAT_OK;
}

BEAT__DEF const char *beat_simd_isa_name(beat_simd_isa isa)
{
    switch (isa) {
    case BEAT_SIMD_SCALAR:
        return "scalar";
    case BEAT_SIMD_SSE2:
        return "sse2";
    case BEAT_SIMD_AVX2:
        return "avx2";
    case BEAT_SIMD_AVX512:
        return "avx512";
    case BEAT_SIMD_NEON:
        return "neon";
    }
    return "unknown";
}

// ---------------------------------------------------------------------------
// The public kernels: an argument check in development builds, then the
// active path.

#define BEAT__SIMD_NEEDS(p, what) BEAT_ASSERT(((p) != NULL || n == 0) && what " is NULL with n > 0")

#define BEAT__SIMD_DEFINE_PUBLIC(sfx, T)                                                           \
    BEAT__DEF T beat_simd_sum_##sfx(const T *x, size_t n)                                          \
    {                                                                                              \
        BEAT__SIMD_NEEDS(x, "beat_simd_sum_" #sfx ": x");                                          \
        return beat__simd_active_table()->sfx.sum(x, n);                                           \
    }                                                                                              \
    BEAT__DEF T beat_simd_dot_##sfx(const T *x, const T *y, size_t n)                              \
    {                                                                                              \
        BEAT__SIMD_NEEDS(x, "beat_simd_dot_" #sfx ": x");                                          \
        BEAT__SIMD_NEEDS(y, "beat_simd_dot_" #sfx ": y");                                          \
        return beat__simd_active_table()->sfx.dot(x, y, n);                                        \
    }                                                                                              \
    BEAT__DEF void beat_simd_axpy_##sfx(T a, const T *x, T *y, size_t n)                           \
    {                                                                                              \
        BEAT__SIMD_NEEDS(x, "beat_simd_axpy_" #sfx ": x");                                         \
        BEAT__SIMD_NEEDS(y, "beat_simd_axpy_" #sfx ": y");                                         \
        beat__simd_active_table()->sfx.axpy(a, x, y, n);                                           \
    }                                                                                              \
    BEAT__DEF void beat_simd_scale_##sfx(T a, T *x, size_t n)                                      \
    {                                                                                              \
        BEAT__SIMD_NEEDS(x, "beat_simd_scale_" #sfx ": x");                                        \
        beat__simd_active_table()->sfx.scale(a, x, n);                                             \
    }                                                                                              \
    BEAT__DEF void beat_simd_fill_##sfx(T v, T *x, size_t n)                                       \
    {                                                                                              \
        BEAT__SIMD_NEEDS(x, "beat_simd_fill_" #sfx ": x");                                         \
        beat__simd_active_table()->sfx.fill(v, x, n);                                              \
    }                                                                                              \
    BEAT__DEF void beat_simd_copy_##sfx(const T *x, T *y, size_t n)                                \
    {                                                                                              \
        BEAT__SIMD_NEEDS(x, "beat_simd_copy_" #sfx ": x");                                         \
        BEAT__SIMD_NEEDS(y, "beat_simd_copy_" #sfx ": y");                                         \
        beat__simd_active_table()->sfx.copy(x, y, n);                                              \
    }                                                                                              \
    BEAT__DEF T beat_simd_min_##sfx(const T *x, size_t n)                                          \
    {                                                                                              \
        BEAT__SIMD_NEEDS(x, "beat_simd_min_" #sfx ": x");                                          \
        return beat__simd_active_table()->sfx.min(x, n);                                           \
    }                                                                                              \
    BEAT__DEF T beat_simd_max_##sfx(const T *x, size_t n)                                          \
    {                                                                                              \
        BEAT__SIMD_NEEDS(x, "beat_simd_max_" #sfx ": x");                                          \
        return beat__simd_active_table()->sfx.max(x, n);                                           \
    }                                                                                              \
    BEAT__DEF size_t beat_simd_argmin_##sfx(const T *x, size_t n)                                  \
    {                                                                                              \
        BEAT__SIMD_NEEDS(x, "beat_simd_argmin_" #sfx ": x");                                       \
        const beat__simd_table *k = beat__simd_active_table();                                     \
        return n == 0 ? 0 : k->sfx.find(x, n, k->sfx.min(x, n));                                   \
    }                                                                                              \
    BEAT__DEF size_t beat_simd_argmax_##sfx(const T *x, size_t n)                                  \
    {                                                                                              \
        BEAT__SIMD_NEEDS(x, "beat_simd_argmax_" #sfx ": x");                                       \
        const beat__simd_table *k = beat__simd_active_table();                                     \
        return n == 0 ? 0 : k->sfx.find(x, n, k->sfx.max(x, n));                                   \
    }                                                                                              \
    BEAT__DEF size_t beat_simd_count_##sfx(beat_simd_cmp op, T t, const T *x, size_t n)            \
    {                                                                                              \
        BEAT__SIMD_NEEDS(x, "beat_simd_count_" #sfx ": x");                                        \
        BEAT_ASSERT((size_t)op <= (size_t)BEAT_SIMD_CMP_NE && "beat_simd_count_" #sfx              \
                                                              ": op is not a beat_simd_cmp");      \
        return beat__simd_active_table()->sfx.count(op, t, x, n);                                  \
    }

BEAT__SIMD_DEFINE_PUBLIC(f32, float)
BEAT__SIMD_DEFINE_PUBLIC(f64, double)

#endif // BEAT__SIMD_DISPATCH_INCLUDED
