// Topology builder: the one place that turns raw per-PU facts (from /sys or
// from cpuid dumps) into a beat_topology with logical numbering. Both
// sources fill an array of beat__raw_pu and call beat__topo_build.
#ifndef BEAT__TOPO_BUILD_H_INCLUDED
#define BEAT__TOPO_BUILD_H_INCLUDED
#include "config.h"

#define BEAT__TOPO_MAX_LEVEL 4

// Raw facts about one PU. Ids are the source's own numbers (sysfs ids, or
// ids derived from APIC ids); any negative id = unknown. Two PUs share an
// object when they have equal ids at that level and above: a package is
// package_id, a die (package_id, die_id), a cluster (package_id, die_id,
// cluster_id), a core core_key when nonzero, else (package_id, die_id,
// cluster_id, core_id); a cache instance is (level, cache_key). Unknown
// package, die and cluster ids make one object; a PU with neither core_key
// nor core_id is a core of its own.
typedef struct beat__raw_pu {
    unsigned os_index;
    unsigned char online, allowed, type; // type: beat_core_type
    long package_id, die_id, cluster_id, core_id;
    // Nonzero and equal for exactly the PUs of one core when the source
    // lists them (sysfs core_cpus_list: 1 + its lowest CPU); 0 = use ids.
    unsigned long core_key;
    long node_os; // OS NUMA node number, -1 unknown
    // Data/unified caches by level (index 1..4; 0 unused). cache_key: any
    // number equal for exactly the PUs sharing that instance (e.g. the
    // lowest OS index in shared_cpu_list); -1 = no cache at that level.
    long cache_key[BEAT__TOPO_MAX_LEVEL + 1];
    unsigned long long cache_size[BEAT__TOPO_MAX_LEVEL + 1];
    unsigned cache_line[BEAT__TOPO_MAX_LEVEL + 1];
    unsigned char cache_unified[BEAT__TOPO_MAX_LEVEL + 1];
} beat__raw_pu;

// Extra facts that are not per PU. All optional (zeroed = unknown).
typedef struct beat__raw_machine {
    const unsigned *node_os; // every NUMA node, including memory-only ones
    unsigned nnodes;
    const unsigned *distances; // nnodes * nnodes in node_os order, or NULL
    int cgroup_version;
    double cpu_quota;
} beat__raw_machine;

// Sets *pu to "PU os_index, online and allowed, nothing else known": every
// id -1, core_key 0, no caches. Sources start each PU from this.
BEAT__PRIVATE void beat__topo_raw_init(beat__raw_pu *pu, unsigned os_index);

// Builds *out from n raw PUs (any order; a repeated os_index is kept once).
// Returns OK or OUT_OF_MEMORY (then *out is zeroed). Never fails on odd
// input: with no PU it makes one; with none online, all count as online;
// with none of those allowed, all online ones are allowed.
BEAT__PRIVATE beat_result beat__topo_build(const beat__raw_pu *pus, unsigned n,
                                           const beat__raw_machine *machine, beat_topology *out);

#endif // BEAT__TOPO_BUILD_H_INCLUDED
