// The SIMD tests against beat_simd.h alone, without beat.h (and so without
// the pool and its parallel kernels): the header must stand on its own.
#define TEST_SIMD_ONLY
#include "test_simd.c"
