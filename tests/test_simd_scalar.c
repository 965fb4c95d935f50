// The SIMD tests with every path but the scalar one compiled out
// (BEAT_SIMD_NO_SSE2, _AVX2, _AVX512, _NEON): the same cases must pass on
// the scalar path alone, and every other path must be refused.
#define BEAT_SIMD_NO_SSE2
#define BEAT_SIMD_NO_AVX2
#define BEAT_SIMD_NO_AVX512
#define BEAT_SIMD_NO_NEON
#include "test_simd.c"
