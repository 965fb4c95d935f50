// Topology builder (see topo_build.h): raw per-PU facts in, a beat_topology
// out. Objects are numbered by walking the online PUs in OS order and
// handing out the next number to each object not seen before, so every
// object's number follows the lowest OS CPU it contains.
#include "config.h"
#include "topo_build.h"

#include <string.h>

#define BEAT__TOPO_LOCAL 10  // ACPI SLIT distance of a node to itself
#define BEAT__TOPO_REMOTE 20 // ...and to another node, when the source is silent

BEAT__PRIVATE void beat__topo_raw_init(beat__raw_pu *pu, unsigned os_index)
{
    memset(pu, 0, sizeof *pu);
    pu->os_index = os_index;
    pu->online = 1;
    pu->allowed = 1;
    pu->package_id = pu->die_id = pu->cluster_id = pu->core_id = -1;
    pu->node_os = -1;
    for (int level = 0; level <= BEAT__TOPO_MAX_LEVEL; level++)
        pu->cache_key[level] = -1;
}

// ---------------------------------------------------------------------------
// Interning: a key of four longs -> a dense number, in first-seen order
// (open addressing; the table has more than twice as many slots as keys).

typedef struct beat__topo_slot {
    long key[4];
    unsigned value; // BEAT_TOPO_NONE: empty
} beat__topo_slot;

typedef struct beat__topo_map {
    beat__topo_slot *slots;
    unsigned mask;  // slots - 1, a power of two minus one
    unsigned count; // numbers handed out so far
} beat__topo_map;

BEAT__PRIVATE void beat__topo_map_clear(beat__topo_map *map)
{
    for (unsigned i = 0; i <= map->mask; i++)
        map->slots[i].value = BEAT_TOPO_NONE;
    map->count = 0;
}

BEAT__PRIVATE unsigned beat__topo_map_hash(const long key[4])
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 4; i++) {
        h = (h ^ (uint64_t)key[i]) * 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
    }
    return (unsigned)h;
}

// The number of key, handing out the next one when key is new.
BEAT__PRIVATE unsigned beat__topo_intern(beat__topo_map *map, const long key[4])
{
    for (unsigned i = beat__topo_map_hash(key) & map->mask;; i = (i + 1) & map->mask) {
        beat__topo_slot *slot = &map->slots[i];
        if (slot->value == BEAT_TOPO_NONE) {
            memcpy(slot->key, key, sizeof slot->key);
            slot->value = map->count++;
            return slot->value;
        }
        if (memcmp(slot->key, key, sizeof slot->key) == 0)
            return slot->value;
    }
}

// ---------------------------------------------------------------------------
// Keys of the objects that contain a PU

enum {
    BEAT__TOPO_PACKAGE,
    BEAT__TOPO_DIE,
    BEAT__TOPO_CLUSTER,
    BEAT__TOPO_CORE,
    BEAT__TOPO_NODE,
    BEAT__TOPO_CACHE // + level (1..4)
};

BEAT__PRIVATE long beat__topo_id(long id) { return id < 0 ? -1 : id; }

BEAT__PRIVATE int beat__topo_key4(long key[4], long a, long b, long c, long d)
{
    key[0] = a;
    key[1] = b;
    key[2] = c;
    key[3] = d;
    return 1;
}

// Fills key with what identifies the object of this kind that contains
// pu. Returns 0 when pu has none (no cache at that level, no known node).
BEAT__PRIVATE int beat__topo_key(const beat__raw_pu *pu, int kind, long key[4])
{
    long package = beat__topo_id(pu->package_id), die = beat__topo_id(pu->die_id);
    long cluster = beat__topo_id(pu->cluster_id);
    switch (kind) {
    case BEAT__TOPO_PACKAGE:
        return beat__topo_key4(key, package, 0, 0, 0);
    case BEAT__TOPO_DIE:
        return beat__topo_key4(key, package, die, 0, 0);
    case BEAT__TOPO_CLUSTER:
        return beat__topo_key4(key, package, die, cluster, 0);
    case BEAT__TOPO_CORE: // tags -2 and -3 keep the three kinds of key apart
        if (pu->core_key != 0)
            return beat__topo_key4(key, -2, (long)pu->core_key, 0, 0);
        if (pu->core_id >= 0)
            return beat__topo_key4(key, package, die, cluster, pu->core_id);
        return beat__topo_key4(key, -3, (long)pu->os_index, 0, 0);
    case BEAT__TOPO_NODE:
        return beat__topo_key4(key, pu->node_os, 0, 0, 0) && pu->node_os >= 0;
    default: // a cache level
        return beat__topo_key4(key, pu->cache_key[kind - BEAT__TOPO_CACHE], 0, 0, 0) && key[0] >= 0;
    }
}

// ---------------------------------------------------------------------------
// Working state of one build

#define BEAT__TOPO_KINDS (BEAT__TOPO_CACHE + BEAT__TOPO_MAX_LEVEL + 1)

typedef struct beat__topo_work {
    const beat__raw_pu **pu; // the PUs kept, sorted by os_index
    unsigned n;
    int all_online, all_allowed;     // the source's flags were unusable
    unsigned *num[BEAT__TOPO_KINDS]; // per PU: its object of each kind, or NONE
    unsigned count[BEAT__TOPO_KINDS];
    unsigned *node_os;   // per logical node
    unsigned *mem_nodes; // the machine's node list, sorted
    beat__topo_map map;
    beat__raw_pu fallback; // the PU made up when the source gave none
} beat__topo_work;

BEAT__PRIVATE int beat__topo_online(const beat__topo_work *w, unsigned i)
{
    return w->all_online || w->pu[i]->online;
}

BEAT__PRIVATE int beat__topo_allowed(const beat__topo_work *w, unsigned i)
{
    return beat__topo_online(w, i) && (w->all_allowed || w->pu[i]->allowed);
}

BEAT__PRIVATE size_t beat__topo_round(size_t bytes) { return (bytes + 15) & ~(size_t)15; }

// Sorts the PUs by os_index (insertion sort: sources give them sorted or
// nearly so) and drops repeated numbers.
BEAT__PRIVATE void beat__topo_sort(beat__topo_work *w)
{
    unsigned kept = 0;
    for (unsigned i = 0; i < w->n; i++) {
        const beat__raw_pu *pu = w->pu[i];
        unsigned j = kept;
        while (j > 0 && w->pu[j - 1]->os_index > pu->os_index) {
            w->pu[j] = w->pu[j - 1];
            j--;
        }
        if (j > 0 && w->pu[j - 1]->os_index == pu->os_index) {
            memmove(&w->pu[j], &w->pu[j + 1], (kept - j) * sizeof *w->pu);
            continue;
        }
        w->pu[j] = pu;
        kept++;
    }
    w->n = kept;
}

BEAT__PRIVATE void beat__topo_sort_unsigned(unsigned *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        unsigned x = v[i], j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

// Allocates the working arrays. Returns the block (free with BEAT_FREE) or
// NULL.
BEAT__PRIVATE void *beat__topo_work_alloc(beat__topo_work *w, unsigned n, unsigned nmem)
{
    if ((size_t)n + nmem > (size_t)BEAT_TOPO_NONE / 4)
        return NULL;
    size_t slots = 4;
    while (slots < 2 * ((size_t)n + nmem) + 2)
        slots *= 2;
    size_t per_pu = (size_t)n * sizeof(unsigned);
    size_t bytes = beat__topo_round((size_t)n * sizeof *w->pu) +
                   BEAT__TOPO_KINDS * beat__topo_round(per_pu) +
                   2 * beat__topo_round(((size_t)n + nmem) * sizeof(unsigned)) +
                   slots * sizeof(beat__topo_slot);
    unsigned char *block = (unsigned char *)BEAT_MALLOC(bytes);
    if (block == NULL)
        return NULL;
    unsigned char *p = block;
    w->pu = (const beat__raw_pu **)(void *)p;
    p += beat__topo_round((size_t)n * sizeof *w->pu);
    for (int kind = 0; kind < BEAT__TOPO_KINDS; kind++) {
        w->num[kind] = (unsigned *)(void *)p;
        p += beat__topo_round(per_pu);
    }
    w->node_os = (unsigned *)(void *)p;
    p += beat__topo_round(((size_t)n + nmem) * sizeof(unsigned));
    w->mem_nodes = (unsigned *)(void *)p;
    p += beat__topo_round(((size_t)n + nmem) * sizeof(unsigned));
    w->map.slots = (beat__topo_slot *)(void *)p;
    w->map.mask = (unsigned)(slots - 1);
    return block;
}

// Numbers the objects of one kind over the online PUs in OS order.
BEAT__PRIVATE void beat__topo_number(beat__topo_work *w, int kind)
{
    beat__topo_map_clear(&w->map);
    for (unsigned i = 0; i < w->n; i++) {
        long key[4];
        w->num[kind][i] = BEAT_TOPO_NONE;
        if (beat__topo_online(w, i) && beat__topo_key(w->pu[i], kind, key))
            w->num[kind][i] = beat__topo_intern(&w->map, key);
    }
    w->count[kind] = w->map.count;
}

// Numbers the NUMA nodes: those with online PUs first (by their lowest
// PU), then the machine's other nodes by OS number. With no node known
// at all, one node 0 holds every online PU.
BEAT__PRIVATE void beat__topo_number_nodes(beat__topo_work *w, const beat__raw_machine *machine)
{
    beat__topo_number(w, BEAT__TOPO_NODE);
    unsigned nmem = machine != NULL && machine->node_os != NULL ? machine->nnodes : 0;
    if (nmem > 0)
        memcpy(w->mem_nodes, machine->node_os, nmem * sizeof *w->mem_nodes);
    beat__topo_sort_unsigned(w->mem_nodes, nmem);
    for (unsigned i = 0; i < nmem; i++) {
        long key[4] = {(long)w->mem_nodes[i], 0, 0, 0};
        beat__topo_intern(&w->map, key);
    }
    w->count[BEAT__TOPO_NODE] = w->map.count;
    for (unsigned s = 0; s <= w->map.mask; s++)
        if (w->map.slots[s].value != BEAT_TOPO_NONE)
            w->node_os[w->map.slots[s].value] = (unsigned)w->map.slots[s].key[0];
    if (w->map.count > 0)
        return;
    w->count[BEAT__TOPO_NODE] = 1;
    w->node_os[0] = 0;
    for (unsigned i = 0; i < w->n; i++)
        w->num[BEAT__TOPO_NODE][i] = beat__topo_online(w, i) ? 0 : BEAT_TOPO_NONE;
}

// Sorts, decides which flags to trust and numbers every kind of object.
BEAT__PRIVATE void beat__topo_analyse(beat__topo_work *w, const beat__raw_machine *machine)
{
    beat__topo_sort(w);
    w->all_online = w->all_allowed = 1;
    for (unsigned i = 0; i < w->n; i++)
        if (w->pu[i]->online)
            w->all_online = 0;
    for (unsigned i = 0; i < w->n; i++)
        if (beat__topo_online(w, i) && w->pu[i]->allowed)
            w->all_allowed = 0;
    for (int kind = 0; kind < BEAT__TOPO_KINDS; kind++)
        if (kind != BEAT__TOPO_NODE && kind != BEAT__TOPO_CACHE)
            beat__topo_number(w, kind);
    beat__topo_number_nodes(w, machine);
}

// ---------------------------------------------------------------------------
// Filling the result

BEAT__PRIVATE unsigned char beat__topo_type(unsigned char type)
{
    return type <= BEAT_CORE_TYPE_EFFICIENCY ? type : (unsigned char)BEAT_CORE_TYPE_UNKNOWN;
}

// What the cgroup allows, in CPUs: 0 for unlimited or nonsense.
BEAT__PRIVATE double beat__topo_quota(double quota)
{
    return quota > 0.0 && quota < 1e12 ? quota : 0.0;
}

// allowed capped by ceil(quota) (0 = no cap), at least 1.
BEAT__PRIVATE unsigned beat__topo_workers(unsigned allowed, double quota)
{
    unsigned workers = allowed > 0 ? allowed : 1;
    if (!(quota > 0.0) || quota >= (double)workers)
        return workers;
    unsigned cap = (unsigned)quota;
    if ((double)cap < quota)
        cap++;
    return cap > 0 ? cap : 1;
}

// Carves the result's arrays out of one allocation.
BEAT__PRIVATE beat_result beat__topo_out_alloc(beat_topology *out)
{
    size_t nodes = out->nnodes;
    if (nodes > SIZE_MAX / sizeof(unsigned) / nodes)
        return BEAT_ERROR_OUT_OF_MEMORY;
    size_t sizes[5] = {out->npus * sizeof *out->pus, out->ncores * sizeof *out->cores,
                       out->ncaches * sizeof *out->caches, nodes * sizeof *out->nodes,
                       nodes * nodes * sizeof *out->distances};
    size_t bytes = 0;
    for (int i = 0; i < 5; i++)
        bytes += beat__topo_round(sizes[i]);
    unsigned char *p = (unsigned char *)BEAT_MALLOC(bytes > 0 ? bytes : 1);
    if (p == NULL)
        return BEAT_ERROR_OUT_OF_MEMORY;
    memset(p, 0, bytes);
    out->beat__block = p;
    out->pus = (beat_topo_pu *)(void *)p;
    p += beat__topo_round(sizes[0]);
    out->cores = (beat_topo_core *)(void *)p;
    p += beat__topo_round(sizes[1]);
    out->caches = (beat_topo_cache *)(void *)p;
    p += beat__topo_round(sizes[2]);
    out->nodes = (beat_topo_node *)(void *)p;
    p += beat__topo_round(sizes[3]);
    out->distances = (unsigned *)(void *)p;
    return BEAT_OK;
}

// First index of level's groups in out->caches (levels are consecutive).
BEAT__PRIVATE unsigned beat__topo_cache_base(const beat__topo_work *w, int level)
{
    unsigned base = 0;
    for (int l = 1; l < level; l++)
        base += w->count[BEAT__TOPO_CACHE + l];
    return base;
}

// Adds PU i to its core (the first PU sets the core's fields).
BEAT__PRIVATE void beat__topo_fill_core(const beat__topo_work *w, unsigned i, beat_topology *out)
{
    beat_topo_pu *pu = &out->pus[i];
    beat_topo_core *core = &out->cores[pu->core];
    const beat__raw_pu *raw = w->pu[i];
    if (core->npus == 0) {
        core->package = pu->package;
        core->die = w->num[BEAT__TOPO_DIE][i];
        core->cluster = w->num[BEAT__TOPO_CLUSTER][i];
        core->node = pu->node;
        core->os_core_id = raw->core_id >= 0 && (unsigned long)raw->core_id < BEAT_TOPO_NONE
                               ? (unsigned)raw->core_id
                               : BEAT_TOPO_NONE;
        core->type = pu->type;
    }
    pu->smt = core->npus++;
    core->nallowed += pu->allowed;
}

// Adds PU i to its cache instances (the first PU sets size and line).
BEAT__PRIVATE void beat__topo_fill_caches(const beat__topo_work *w, unsigned i, beat_topology *out)
{
    const beat__raw_pu *raw = w->pu[i];
    for (int level = 1; level <= BEAT__TOPO_MAX_LEVEL; level++) {
        unsigned group = w->num[BEAT__TOPO_CACHE + level][i];
        if (group == BEAT_TOPO_NONE)
            continue;
        beat_topo_cache *cache = &out->caches[beat__topo_cache_base(w, level) + group];
        if (cache->npus++ == 0) {
            cache->level = (unsigned)level;
            cache->group = group;
            cache->size = raw->cache_size[level];
            cache->line_size = raw->cache_line[level];
            cache->unified = raw->cache_unified[level] != 0;
        }
    }
}

BEAT__PRIVATE void beat__topo_fill_pu(const beat__topo_work *w, unsigned i, beat_topology *out)
{
    beat_topo_pu *pu = &out->pus[i];
    pu->os_index = w->pu[i]->os_index;
    pu->type = beat__topo_type(w->pu[i]->type);
    pu->online = (unsigned char)beat__topo_online(w, i);
    pu->allowed = (unsigned char)beat__topo_allowed(w, i);
    pu->core = w->num[BEAT__TOPO_CORE][i];
    pu->package = w->num[BEAT__TOPO_PACKAGE][i];
    pu->node = w->num[BEAT__TOPO_NODE][i];
    pu->l1 = w->num[BEAT__TOPO_CACHE + 1][i];
    pu->l2 = w->num[BEAT__TOPO_CACHE + 2][i];
    pu->l3 = w->num[BEAT__TOPO_CACHE + 3][i];
    pu->smt = BEAT_TOPO_NONE;
    if (!pu->online)
        return;
    out->npus_online++;
    out->npus_allowed += pu->allowed;
    if (pu->node != BEAT_TOPO_NONE)
        out->nodes[pu->node].npus++;
    beat__topo_fill_core(w, i, out);
    beat__topo_fill_caches(w, i, out);
}

// Where node os sits in the machine's list, or NONE.
BEAT__PRIVATE unsigned beat__topo_machine_node(const beat__raw_machine *machine, unsigned os)
{
    for (unsigned i = 0; i < machine->nnodes; i++)
        if (machine->node_os[i] == os)
            return i;
    return BEAT_TOPO_NONE;
}

// The distance matrix in logical order: the machine's where it has one
// (nonzero), else 10 on the diagonal and 20 elsewhere.
BEAT__PRIVATE void beat__topo_fill_distances(const beat__raw_machine *machine, beat_topology *out)
{
    int known = machine != NULL && machine->distances != NULL && machine->node_os != NULL;
    for (unsigned i = 0; i < out->nnodes; i++) {
        unsigned mi =
            known ? beat__topo_machine_node(machine, out->nodes[i].os_index) : BEAT_TOPO_NONE;
        for (unsigned j = 0; j < out->nnodes; j++) {
            unsigned mj = mi != BEAT_TOPO_NONE
                              ? beat__topo_machine_node(machine, out->nodes[j].os_index)
                              : BEAT_TOPO_NONE;
            unsigned d = i == j ? BEAT__TOPO_LOCAL : BEAT__TOPO_REMOTE;
            if (mj != BEAT_TOPO_NONE && machine->distances[(size_t)mi * machine->nnodes + mj] != 0)
                d = machine->distances[(size_t)mi * machine->nnodes + mj];
            out->distances[(size_t)i * out->nnodes + j] = d;
        }
    }
}

BEAT__PRIVATE void beat__topo_fill(const beat__topo_work *w, const beat__raw_machine *machine,
                                   beat_topology *out)
{
    for (unsigned i = 0; i < out->nnodes; i++)
        out->nodes[i].os_index = w->node_os[i];
    int seen[3] = {0, 0, 0};
    for (unsigned i = 0; i < w->n; i++) {
        beat__topo_fill_pu(w, i, out);
        if (out->pus[i].online)
            seen[out->pus[i].type] = 1;
    }
    out->hybrid = (unsigned)(seen[BEAT_CORE_TYPE_PERFORMANCE] && seen[BEAT_CORE_TYPE_EFFICIENCY]);
    beat__topo_fill_distances(machine, out);
    if (machine != NULL) {
        out->cgroup_version = machine->cgroup_version == 1 || machine->cgroup_version == 2
                                  ? machine->cgroup_version
                                  : 0;
        out->cpu_quota = beat__topo_quota(machine->cpu_quota);
    }
    out->default_workers = beat__topo_workers(out->npus_allowed, out->cpu_quota);
}

BEAT__PRIVATE beat_result beat__topo_build(const beat__raw_pu *pus, unsigned n,
                                           const beat__raw_machine *machine, beat_topology *out)
{
    memset(out, 0, sizeof *out);
    beat__topo_work w;
    memset(&w, 0, sizeof w);
    unsigned nmem = machine != NULL && machine->node_os != NULL ? machine->nnodes : 0;
    void *work = beat__topo_work_alloc(&w, n > 0 ? n : 1, nmem);
    if (work == NULL)
        return BEAT_ERROR_OUT_OF_MEMORY;
    beat__topo_raw_init(&w.fallback, 0);
    w.n = n > 0 ? n : 1;
    for (unsigned i = 0; i < w.n; i++)
        w.pu[i] = n > 0 ? &pus[i] : &w.fallback;
    beat__topo_analyse(&w, machine);
    out->npus = w.n;
    out->npackages = w.count[BEAT__TOPO_PACKAGE];
    out->ndies = w.count[BEAT__TOPO_DIE];
    out->nclusters = w.count[BEAT__TOPO_CLUSTER];
    out->ncores = w.count[BEAT__TOPO_CORE];
    out->nnodes = w.count[BEAT__TOPO_NODE];
    for (int level = 1; level <= BEAT__TOPO_MAX_LEVEL; level++)
        out->ncaches += w.count[BEAT__TOPO_CACHE + level];
    beat_result r = beat__topo_out_alloc(out);
    if (r == BEAT_OK)
        beat__topo_fill(&w, machine, out);
    else
        memset(out, 0, sizeof *out);
    BEAT_FREE(work);
    return r;
}
