// test_pool.c with one submit ring (BEAT_SUBMIT_RINGS 1): the first outside
// thread to submit owns it, every later one takes the shared block and the
// queue's list. Every job still runs once, and waits and wakes hold.
#define BEAT_SUBMIT_RINGS 1
#include "test_pool.c"
