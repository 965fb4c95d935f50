// ---------------------------------------------------------------------------
// Topology: what the machine has and what this process may use
//
// beat_topology_detect reads Linux's /sys (CPUs, cores, packages, dies,
// clusters, caches, NUMA nodes, hybrid core kinds) and the process's limits
// (sched_getaffinity on the live system, cgroup v1/v2 cpusets and CPU
// quotas found through /proc/self/cgroup and /proc/mounts), all below a
// root directory so tests can point it at a captured tree. Missing files
// give the defaults documented on each field; garbage counts as missing
// and never crashes. CPU numbers below 65536 (bitmaps are sized from /sys).
//
// Indices: every array is indexed by *logical* numbers 0..n-1 (packages,
// dies, clusters, cores, NUMA nodes and cache groups are numbered in order
// of the lowest online OS CPU number they contain); OS numbers (cpuN,
// nodeN) are kept in os_index fields. Offline CPUs have no core, package,
// node or cache (BEAT_TOPO_NONE).
#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BEAT_TOPO_NONE 0xffffffffu // "no such object" in any index field

// Hybrid parts (Intel P/E cores, Arm big.LITTLE). From /sys/devices/
// cpu_core/cpus and cpu_atom/cpus; without them, when the CPUs' cpufreq
// base_frequency (else cpu_capacity) takes two or more values, those with
// the largest are PERFORMANCE and the rest EFFICIENCY. UNKNOWN when the
// machine is not hybrid or does not say.
typedef enum beat_core_type {
    BEAT_CORE_TYPE_UNKNOWN = 0,
    BEAT_CORE_TYPE_PERFORMANCE = 1, // Intel "Core" (cpu_core), the big cores
    BEAT_CORE_TYPE_EFFICIENCY = 2   // Intel "Atom" (cpu_atom), the little cores
} beat_core_type;

// One processing unit (a hardware thread; Linux's cpuN).
typedef struct beat_topo_pu {
    unsigned os_index;     // N of /sys/devices/system/cpu/cpuN
    unsigned core;         // index into beat_topology.cores; NONE when offline
    unsigned package;      // logical package; NONE when offline
    unsigned node;         // logical NUMA node: 0 when /sys has no node
                           // directory (one node); NONE when offline or when
                           // no nodeN/cpulist holds it (its node is offline)
    unsigned smt;          // 0 for the first thread of its core, 1 for the
                           // next...; NONE when offline
    unsigned l1, l2, l3;   // cache group of the data or unified cache at that
                           // level (beat_topology.caches with that level and
                           // group); NONE when the PU has no such cache
    unsigned char online;  // in cpu/online; without that file, cpuN/online
                           // says (no such file: online)
    unsigned char allowed; // online, in the affinity mask and in the cgroup
                           // cpuset (a limit that would leave no CPU is
                           // ignored)
    unsigned char type;    // beat_core_type; UNKNOWN when not hybrid
} beat_topo_pu;

// One core: the PUs of one core_cpus_list (thread_siblings_list, or their
// mask files on old kernels); without those, the PUs with equal core_id in
// one package, die and cluster; a PU with neither is a core of its own.
typedef struct beat_topo_core {
    unsigned package;    // logical package (of its first PU)
    unsigned die;        // logical die (dies count across packages); == package
                         // when /sys has no die_id
    unsigned cluster;    // logical cluster (cluster_id, a group of cores sharing
                         // an L2 on some parts); == die when absent
    unsigned node;       // logical NUMA node of its first PU (may be NONE)
    unsigned os_core_id; // core_id from /sys (not unique across packages);
                         // NONE when absent
    unsigned npus;       // online hardware threads
    unsigned nallowed;   // of which this process may use
    unsigned char type;  // beat_core_type of its first PU
} beat_topo_core;

// One data or unified cache instance (instruction caches are left out):
// the PUs with the same shared_cpu_list (or shared_cpu_map); a cache
// without either is private to its PU.
typedef struct beat_topo_cache {
    unsigned level;          // 1..4
    unsigned group;          // 0.. within its level, as in beat_topo_pu.l1/l2/l3
    unsigned long long size; // bytes; 0 if /sys did not say
    unsigned line_size;      // bytes (coherency_line_size); 0 if /sys did not say
    unsigned npus;           // online PUs sharing it
    unsigned char unified;   // 1 unified, 0 data
} beat_topo_cache;

// One NUMA node.
typedef struct beat_topo_node {
    unsigned os_index; // N of /sys/devices/system/node/nodeN (0 when no NUMA info)
    unsigned npus;     // online PUs on this node (0 for a memory-only node)
} beat_topo_node;

// Filled by beat_topology_detect, freed by beat_topology_release. The
// arrays are read-only; all live in one allocation.
typedef struct beat_topology {
    unsigned npackages;    // >= 1 (1 when /sys has no physical_package_id)
    unsigned ndies;        // >= npackages
    unsigned nclusters;    // >= ndies
    unsigned ncores;       // cores with at least one online PU, >= 1
    unsigned npus;         // entries in pus: every cpuN directory and every CPU
                           // in cpu/online (offline ones included), >= 1
    unsigned npus_online;  // >= 1 (when /sys marks none online, all are)
    unsigned npus_allowed; // online PUs this process may run on, >= 1
    unsigned nnodes;       // >= 1 (1 when /sys has no node directories)
    unsigned ncaches;      // 0 when /sys has no cache directories
    unsigned hybrid;       // 1 when both core types were found among online PUs

    beat_topo_pu *pus;       // sorted by os_index
    beat_topo_core *cores;   // ncores
    beat_topo_cache *caches; // ncaches, sorted by level then group
    beat_topo_node *nodes;   // nnodes: those with online PUs first (by lowest
                             // PU), then memory-only ones by os_index
    unsigned *distances;     // nnodes * nnodes, ACPI SLIT units (10 = local):
                             // distances[i * nnodes + j]; 10 local, 20 remote
                             // when /sys omits them or a row is malformed

    // Process limits.
    int cgroup_version;       // 0 none found; 1 when the cpu or cpuset controller
                              // is on a v1 hierarchy; else 2 ("0::/path")
    double cpu_quota;         // CPUs' worth of time the cgroup allows: the
                              // smallest of cpu.max (or cfs_quota_us /
                              // cfs_period_us) from the process's group up to the
                              // mount point; 0 = unlimited ("max", -1, period 0,
                              // garbage or above 10^7 CPUs)
    unsigned default_workers; // npus_allowed capped by ceil(cpu_quota), >= 1:
                              // what beat_pool_create uses for workers == 0
    void *beat__block;        // private: the allocation behind the arrays
} beat_topology;

// Detects the topology below sysfs_root (NULL, "" or "/" = the live system;
// else a directory holding sys/ and proc/, e.g. a captured tree). On the
// live system the affinity mask (sched_getaffinity) limits the allowed
// CPUs; under another root only the cgroup cpuset does.
// Errors: INVALID_ARGUMENT (out NULL), OUT_OF_MEMORY, IO (no
// sys/devices/system/cpu below the root at all). Anything less than that
// gives a usable topology with the documented defaults.
// On error *out is zeroed. Thread safety: any thread.
BEAT_API beat_result beat_topology_detect(const char *sysfs_root, beat_topology *out);

// Frees what beat_topology_detect allocated and zeroes *topo. NULL and a
// zeroed topology are no-ops. Thread safety: not concurrently with readers.
BEAT_API void beat_topology_release(beat_topology *topo);

#ifdef __cplusplus
}
#endif
