// The SIMD tests with every x86 path, AVX-512 included, on emulated
// intrinsics (SIMDe, through the immintrin.h beside this file) and the CPU
// taken to have AVX-512F, AVX2, FMA and SSE2: checks the AVX-512 path's
// logic (masked tails, opmask compares, the min/max trick) on machines
// without AVX-512. Build and run with run.sh.
#define TEST_SIMD_ONLY
#define main test_simd_main
#include "../test_simd.c"
#undef main

int main(int argc, char **argv)
{
    // The detection's cache, set before the first kernel call.
    beat__simd_features = BEAT__SIMD_DETECTED | BEAT_CPU_FEATURE_SSE2 | BEAT_CPU_FEATURE_AVX2 |
                          BEAT_CPU_FEATURE_FMA | BEAT_CPU_FEATURE_AVX512F;
    return test_simd_main(argc, argv);
}
