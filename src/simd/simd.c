// SIMD: ISA names. Shared by beat.h and beat_simd.h (own guard). Detection
// and kernels are not in this version.
#ifndef BEAT__SIMD_IMPL_INCLUDED
#define BEAT__SIMD_IMPL_INCLUDED

#include "../config.h"

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

#endif // BEAT__SIMD_IMPL_INCLUDED
