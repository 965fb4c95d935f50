// Tracing: a Chrome/Perfetto JSON trace of what a pool ran (see TRACE in
// the manual at the top of beat.h). It is switched on per pool, when the
// pool is created, by beat_config.trace_path or the environment variable
// BEAT_TRACE, and written by beat_pool_destroy.
#include "pool.h"

#ifdef __cplusplus
extern "C" {
#endif

// What a tracing pool has recorded so far.
typedef struct beat_trace_status {
    const char *path;     // the file beat_pool_destroy writes (".k" rule applied); the
                          // pool's own copy, valid until beat_pool_destroy
    uint64_t recorded;    // events kept, over every ring
    uint64_t dropped;     // events refused because their ring was full
    unsigned ring_events; // capacity of each ring (beat_config.trace_events)
    unsigned rings;       // one per worker and per outside slot (beat_run callers)
} beat_trace_status;

// Fills *out for a pool that traces. The counts are read while the pool
// runs: each is exact, the pair is not one snapshot. Errors:
// INVALID_ARGUMENT (NULL pool or out), NO_DATA (the pool does not trace:
// no trace_path and no BEAT_TRACE at create), UNSUPPORTED (compiled with
// BEAT_NO_TRACE). Thread safety: any thread.
BEAT_API beat_result beat_pool_trace_status(const beat_pool *pool, beat_trace_status *out);

#ifdef __cplusplus
}
#endif
