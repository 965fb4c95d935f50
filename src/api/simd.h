// SIMD: the ISA names. Shared by beat.h and beat_simd.h (own guard).
// Detection, dispatch and the kernels are not in this version; only the
// names the kernels will be selected by exist so far.
#ifndef BEAT__SIMD_API_INCLUDED
#define BEAT__SIMD_API_INCLUDED

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum beat_simd_isa {
    BEAT_SIMD_SCALAR,
    BEAT_SIMD_SSE2,
    BEAT_SIMD_AVX2,
    BEAT_SIMD_AVX512,
    BEAT_SIMD_NEON
} beat_simd_isa;

// "scalar", "sse2", "avx2", "avx512", "neon"; "unknown" otherwise.
// Thread safety: any thread.
BEAT_API const char *beat_simd_isa_name(beat_simd_isa isa);

#ifdef __cplusplus
}
#endif

#endif // BEAT__SIMD_API_INCLUDED
