// SIMD: which instruction-set paths this build compiles, and the function
// attributes that let one translation unit hold all of them.
//
// Three layers, as in miniaudio: the compiler can emit the code (x86 with
// GCC >= 7 or Clang >= 5 for the per-function target attributes, aarch64
// for NEON), the user did not opt out (BEAT_SIMD_NO_SSE2/AVX2/AVX512/NEON),
// and the CPU and OS run it (dispatch.c asks cpu_features.c once). A path
// is compiled with __attribute__((target(...))) on each of its functions,
// never with -m flags, so the rest of the program keeps its baseline ISA
// and a CPU without AVX2 never executes an AVX2 instruction. The scalar
// path is always there. Shared by beat.h and beat_simd.h (own guard).
#ifndef BEAT__SIMD_ISA_INCLUDED
#define BEAT__SIMD_ISA_INCLUDED

#include "../config.h"

#include <string.h>

#if defined(__clang__)
#define BEAT__SIMD_CC_TARGETS (__clang_major__ >= 5)
#elif defined(__GNUC__)
#define BEAT__SIMD_CC_TARGETS (__GNUC__ >= 7)
#else
#define BEAT__SIMD_CC_TARGETS 0
#endif

#if BEAT__ARCH_X86 && BEAT__SIMD_CC_TARGETS && !defined(BEAT_SIMD_NO_SSE2)
#define BEAT__SIMD_HAVE_SSE2 1
#else
#define BEAT__SIMD_HAVE_SSE2 0
#endif
#if BEAT__ARCH_X86 && BEAT__SIMD_CC_TARGETS && !defined(BEAT_SIMD_NO_AVX2)
#define BEAT__SIMD_HAVE_AVX2 1
#else
#define BEAT__SIMD_HAVE_AVX2 0
#endif
#if BEAT__ARCH_X86 && BEAT__SIMD_CC_TARGETS && !defined(BEAT_SIMD_NO_AVX512)
#define BEAT__SIMD_HAVE_AVX512 1
#else
#define BEAT__SIMD_HAVE_AVX512 0
#endif
// Advanced SIMD is part of the aarch64 base ISA (its f64 vectors are not in
// 32-bit Arm NEON), so no attribute is needed there.
#if defined(__aarch64__) && !defined(BEAT_SIMD_NO_NEON)
#define BEAT__SIMD_HAVE_NEON 1
#else
#define BEAT__SIMD_HAVE_NEON 0
#endif

#if BEAT__SIMD_HAVE_SSE2 || BEAT__SIMD_HAVE_AVX2 || BEAT__SIMD_HAVE_AVX512
#include <immintrin.h>
#endif
#if BEAT__SIMD_HAVE_NEON
#include <arm_neon.h>
#endif

// Function attributes of each path: BEAT__SIMD_<ISA> on kernels, and
// BEAT__SIMD_<ISA>_INLINE on the primitives they are built from (always
// inlined, so a primitive costs what its intrinsic costs, even at -O0).
#define BEAT__SIMD_SCALAR
#define BEAT__SIMD_SCALAR_INLINE static inline __attribute__((always_inline, unused))
#define BEAT__SIMD_SSE2 __attribute__((target("sse2")))
#define BEAT__SIMD_SSE2_INLINE static inline __attribute__((always_inline, unused, target("sse2")))
#define BEAT__SIMD_AVX2 __attribute__((target("avx2,fma")))
#define BEAT__SIMD_AVX2_INLINE                                                                     \
    static inline __attribute__((always_inline, unused, target("avx2,fma")))
#define BEAT__SIMD_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define BEAT__SIMD_AVX512_INLINE                                                                   \
    static inline __attribute__((always_inline, unused, target("avx512f,avx2,fma")))
#define BEAT__SIMD_NEON
#define BEAT__SIMD_NEON_INLINE static inline __attribute__((always_inline, unused))

#endif // BEAT__SIMD_ISA_INCLUDED
