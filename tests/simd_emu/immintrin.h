// Stand-in for <immintrin.h> in the emulated build (see run.sh): every x86
// intrinsic from SIMDe's portable implementations, except the masked loads
// and stores: SIMDe 0.7 lacks the AVX-512 ones and reads whole vectors in
// the AVX ones. These touch only the lanes in the mask, as the hardware
// does, so ASan reports a kernel whose mask covers memory past n.
#ifndef BEAT_TEST_EMU_IMMINTRIN_H
#define BEAT_TEST_EMU_IMMINTRIN_H

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

typedef simde__mmask16 __mmask16;
typedef simde__mmask8 __mmask8;

// Neutralise the per-function target attributes: the emulated intrinsics
// must not be compiled into AVX-512 code this CPU cannot run.
#define target(isa) unused

#define BEAT_TEST_EMU_MASKED(name, vec, T, lanes, load, store)                                     \
    static inline vec name##_mask_loadu(vec src, unsigned k, const void *p)                        \
    {                                                                                              \
        T l[lanes];                                                                                \
        store(l, src);                                                                             \
        for (int j = 0; j < lanes; j++)                                                            \
            if (k >> j & 1u)                                                                       \
                l[j] = ((const T *)p)[j];                                                          \
        return load(l);                                                                            \
    }                                                                                              \
    static inline void name##_mask_storeu(void *p, unsigned k, vec v)                              \
    {                                                                                              \
        T l[lanes];                                                                                \
        store(l, v);                                                                               \
        for (int j = 0; j < lanes; j++)                                                            \
            if (k >> j & 1u)                                                                       \
                ((T *)p)[j] = l[j];                                                                \
    }

BEAT_TEST_EMU_MASKED(beat_test_emu_ps, simde__m512, float, 16, simde_mm512_loadu_ps,
                     simde_mm512_storeu_ps)
BEAT_TEST_EMU_MASKED(beat_test_emu_pd, simde__m512d, double, 8, simde_mm512_loadu_pd,
                     simde_mm512_storeu_pd)
// AVX: lane j is in the mask when the sign bit of lane j of mask is set.
#define BEAT_TEST_EMU_AVX_MASKED(name, vec, T, I, lanes, load, store, store_i)                     \
    static inline vec name##_maskload(const T *p, simde__m256i mask)                               \
    {                                                                                              \
        T l[lanes] = {0};                                                                          \
        I m[lanes];                                                                                \
        store_i((void *)m, mask);                                                                  \
        for (int j = 0; j < lanes; j++)                                                            \
            if (m[j] < 0)                                                                          \
                l[j] = p[j];                                                                       \
        return load(l);                                                                            \
    }                                                                                              \
    static inline void name##_maskstore(T *p, simde__m256i mask, vec v)                            \
    {                                                                                              \
        T l[lanes];                                                                                \
        I m[lanes];                                                                                \
        store(l, v);                                                                               \
        store_i((void *)m, mask);                                                                  \
        for (int j = 0; j < lanes; j++)                                                            \
            if (m[j] < 0)                                                                          \
                p[j] = l[j];                                                                       \
    }

BEAT_TEST_EMU_AVX_MASKED(beat_test_emu_avx_ps, simde__m256, float, int32_t, 8, simde_mm256_loadu_ps,
                         simde_mm256_storeu_ps, simde_mm256_storeu_si256)
BEAT_TEST_EMU_AVX_MASKED(beat_test_emu_avx_pd, simde__m256d, double, int64_t, 4,
                         simde_mm256_loadu_pd, simde_mm256_storeu_pd, simde_mm256_storeu_si256)
#undef _mm256_maskload_ps
#undef _mm256_maskstore_ps
#undef _mm256_maskload_pd
#undef _mm256_maskstore_pd
#define _mm256_maskload_ps(p, m) beat_test_emu_avx_ps_maskload(p, m)
#define _mm256_maskstore_ps(p, m, v) beat_test_emu_avx_ps_maskstore(p, m, v)
#define _mm256_maskload_pd(p, m) beat_test_emu_avx_pd_maskload(p, m)
#define _mm256_maskstore_pd(p, m, v) beat_test_emu_avx_pd_maskstore(p, m, v)

#define _mm512_mask_loadu_ps(src, k, p) beat_test_emu_ps_mask_loadu(src, k, p)
#define _mm512_mask_storeu_ps(p, k, v) beat_test_emu_ps_mask_storeu(p, k, v)
#define _mm512_mask_loadu_pd(src, k, p) beat_test_emu_pd_mask_loadu(src, k, p)
#define _mm512_mask_storeu_pd(p, k, v) beat_test_emu_pd_mask_storeu(p, k, v)

#endif
