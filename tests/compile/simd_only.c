// A program that wants the SIMD section without the pool.
#define BEAT_SIMD_IMPLEMENTATION
#include "beat_simd.h"

int beat_compile_simd_only(void);
int beat_compile_simd_only(void)
{
    float x[3] = {1, 2, 3};
    double y[2] = {1, 2};
    beat_simd_axpy_f64(2.0, y, y, 2);
    return beat_simd_isa_name(beat_simd_active())[0] != '\0' && beat_simd_sum_f32(x, 3) == 6 &&
           beat_simd_force(BEAT_SIMD_SCALAR) == BEAT_OK;
}
