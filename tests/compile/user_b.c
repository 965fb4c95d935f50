// A third translation unit, including both headers.
#include "beat.h"
#include "beat_simd.h"

int user_b(void);
int user_b(void) { return beat_simd_isa_name(BEAT_SIMD_AVX2)[0] == 'a'; }
