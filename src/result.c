// Result names and advice, generated from BEAT_RESULT_LIST. Shared by beat.h
// and beat_simd.h (own guard).
#ifndef BEAT__RESULT_IMPL_INCLUDED
#define BEAT__RESULT_IMPL_INCLUDED

#include "config.h"

BEAT__DEF const char *beat_result_string(beat_result r)
{
    switch (r) {
#define BEAT__RESULT_NAME(name, value, advice)                                                     \
    case name:                                                                                     \
        return #name;
        BEAT_RESULT_LIST(BEAT__RESULT_NAME)
#undef BEAT__RESULT_NAME
    }
    return "BEAT_RESULT_UNKNOWN";
}

BEAT__DEF const char *beat_result_advice(beat_result r)
{
    switch (r) {
#define BEAT__RESULT_ADVICE(name, value, advice)                                                   \
    case name:                                                                                     \
        return advice;
        BEAT_RESULT_LIST(BEAT__RESULT_ADVICE)
#undef BEAT__RESULT_ADVICE
    }
    return "Not a beat_result value; check where it came from.";
}

#endif // BEAT__RESULT_IMPL_INCLUDED
