// The implementation file of a program: both headers, in either order.
#define BEAT_IMPLEMENTATION
#ifdef BEAT_SIMD_FIRST
#include "beat_simd.h"
#include "beat.h"
#else
#include "beat.h"
#include "beat_simd.h"
#endif

#ifdef BEAT_WITH_MAIN
int user_a(void);
int user_b(void);
int main(void) { return user_a() + user_b() == 2 ? 0 : 1; }
#endif

#ifdef BEAT_STATIC
// Under BEAT_STATIC every function is static; use one so none is unused.
int beat_compile_static_user(void);
int beat_compile_static_user(void) { return beat_result_string(BEAT_OK)[0] == 'B'; }
#endif
