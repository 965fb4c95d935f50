// test_devmode.c in an NDEBUG build (BEAT_DEBUG 0): beat_config.checks and
// the DEVELOPMENT profile still turn every check on, and without them waits
// are not watched.
#define NDEBUG 1
#include "test_devmode.c"
