// A program that wants the SIMD section without the pool.
#define BEAT_SIMD_IMPLEMENTATION
#include "beat_simd.h"

int beat_compile_simd_only(void);
int beat_compile_simd_only(void) { return beat_simd_isa_name(BEAT_SIMD_SCALAR)[0] == 's'; }
