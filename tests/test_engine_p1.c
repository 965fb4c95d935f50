// test_engine.c with one priority level (the default build): pinned and
// main-thread jobs as there; priorities are accepted and every job runs,
// in no priority order.
#define BEAT_PRIORITIES 1
#include "test_engine.c"
