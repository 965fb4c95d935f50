// A program that uses beat_simd.h alone (no beat.h, no pool, no -pthread):
// a sum and an argmax whose answers are known exactly.
#define BEAT_SIMD_IMPLEMENTATION
#include <beat_simd.h>

#include <stdio.h>

int main(void)
{
    enum { N = 1001 };
    static double x[N];
    for (size_t i = 0; i < N; i++)
        x[i] = (double)i; // integers: every partial sum is exact in double
    double sum = beat_simd_sum_f64(x, N);
    size_t top = beat_simd_argmax_f64(x, N);
    const double expected = (double)N * (N - 1) / 2;
    printf("beat_simd.h (%s path): sum %.0f (expected %.0f), argmax %zu (expected %d)\n",
           beat_simd_isa_name(beat_simd_active()), sum, expected, top, N - 1);
    return sum == expected && top == N - 1 ? 0 : 1;
}
