// ---------------------------------------------------------------------------
// NUMA-local memory (Linux): pages bound to a node through the raw mbind
// and move_pages system calls; no libnuma. On a machine with one node these
// behave like page-granular allocation on node 0.
#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

// Maps size bytes (rounded up to whole pages, zero-filled, page-aligned)
// whose pages the kernel places on NUMA node `node` (the OS node number, as
// in /sys/devices/system/node/nodeN). node == -1: no policy, pages land on
// the node of the thread that first touches them. The placement is a
// preference: when the node runs out of memory the kernel takes pages from
// others rather than failing.
// Errors: INVALID_ARGUMENT (out NULL, size 0, node < -1, or a node the
// kernel does not have), OUT_OF_MEMORY. A kernel built without NUMA
// support ignores the node (the allocation still succeeds).
// Thread safety: any thread.
BEAT_API beat_result beat_numa_alloc(size_t size, int node, void **out);

// Unmaps memory from beat_numa_alloc; size as passed to it. NULL is a no-op.
// Thread safety: any thread, once per allocation.
BEAT_API void beat_numa_free(void *ptr, size_t size);

// The NUMA node holding the page at ptr, asked of the kernel without
// moving or touching it; -1 when the page is not backed by memory yet (never
// touched) or the kernel cannot say. Thread safety: any thread.
BEAT_API int beat_numa_node_of(const void *ptr);

// The NUMA node of the CPU the calling thread runs on now (getcpu); 0 when
// unknown. Thread safety: any thread.
BEAT_API int beat_numa_current_node(void);

#ifdef __cplusplus
}
#endif
