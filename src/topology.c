// Topology: what Linux's /sys says about the CPUs, and what this process
// may use of them (affinity mask, cgroup cpuset and quota). Everything is
// read below a root directory so tests can use captured trees; the facts
// go through beat__topo_build like the cpuid source's.
//
// Read below root (missing files fall back to the defaults documented in
// api/topology.h; garbage is treated as missing):
//   sys/devices/system/cpu/{online,possible,present}, cpuN/online
//   cpuN/topology/{physical_package_id,die_id,cluster_id,core_id}
//   cpuN/topology/{core_cpus_list,thread_siblings_list}
//   cpuN/cache/indexK/{level,type,size,coherency_line_size,shared_cpu_list}
//   sys/devices/system/node/nodeN/{cpulist,distance}
//   sys/devices/{cpu_core,cpu_atom}/cpus, else cpuN/cpufreq/base_frequency
//   or cpuN/cpu_capacity (hybrid parts: the largest value marks P cores)
//   proc/self/cgroup, proc/mounts and the cgroup files (see cgroup.c)
//
// BEAT_NO_TOPOLOGY leaves all of that out: beat_topology_detect returns
// UNSUPPORTED and the default worker count is the affinity mask's.
#include "config.h"
#include "text.c"
#include "cgroup.c" // also psi.c's, so present even with BEAT_NO_TOPOLOGY
#include "topo_build.h"
#include "topo_build.c"

#include <sched.h>
#include <string.h>

#ifndef BEAT_NO_TOPOLOGY
#include <dirent.h>
#include <errno.h>

#define BEAT__SYSFS_CPU "sys/devices/system/cpu"
#define BEAT__SYSFS_NODE "sys/devices/system/node"
#define BEAT__SYSFS_MAX_CPUS 65536u    // Linux allows 8192; more is garbage
#define BEAT__SYSFS_MAX_NODES 4096u    // Linux allows 1024
#define BEAT__SYSFS_TEXT_EXTRA 65536u  // text room beyond 8 bytes per CPU
#define BEAT__SYSFS_DEFAULT_CPUS 8192u // bitmap size when /sys says nothing

// The working state of one detection.
typedef struct beat__sysfs {
    const char *root;
    int live;               // root is the running system: ask the kernel too
    unsigned nbits, nwords; // bitmap capacity in CPUs (a multiple of 64)
    uint64_t *cpus;         // reported: cpuN directories and online CPUs
    uint64_t *online;
    uint64_t *allowed; // online, affinity mask, cgroup cpuset
    uint64_t *list;    // scratch for parsing lists
    char *text;        // file contents; fits any list of nbits CPUs
    size_t text_cap;
    void *block; // the allocation behind the bitmaps and text
    char path[BEAT__PATH_MAX];
    beat__raw_pu *raw; // one per reported CPU, by OS number
    unsigned nraw;
    unsigned *node_os;   // every nodeN directory, sorted
    unsigned *distances; // nnodes * nnodes, or NULL when not all rows parse
    unsigned nnodes;
    beat__cgroup cgroup;
} beat__sysfs;

// ---------------------------------------------------------------------------
// Bitmaps of nbits CPUs

BEAT__PRIVATE int beat__bit_test(const uint64_t *bits, unsigned i)
{
    return (int)((bits[i / 64] >> (i % 64)) & 1u);
}

BEAT__PRIVATE void beat__bit_set(uint64_t *bits, unsigned i)
{
    bits[i / 64] |= (uint64_t)1 << (i % 64);
}

BEAT__PRIVATE unsigned beat__bits_count(const uint64_t *bits, unsigned nwords)
{
    unsigned n = 0;
    for (unsigned w = 0; w < nwords; w++)
        n += (unsigned)__builtin_popcountll(bits[w]);
    return n;
}

// Lowest set bit, or BEAT_TOPO_NONE.
BEAT__PRIVATE unsigned beat__bits_first(const uint64_t *bits, unsigned nwords)
{
    for (unsigned w = 0; w < nwords; w++)
        if (bits[w] != 0)
            return w * 64 + (unsigned)__builtin_ctzll(bits[w]);
    return BEAT_TOPO_NONE;
}

// a &= b, unless that leaves nothing: returns 1 if it narrowed a.
BEAT__PRIVATE int beat__bits_narrow(uint64_t *a, const uint64_t *b, unsigned nwords)
{
    int any = 0;
    for (unsigned w = 0; w < nwords && !any; w++)
        any = (a[w] & b[w]) != 0;
    for (unsigned w = 0; w < nwords && any; w++)
        a[w] &= b[w];
    return any;
}

// ---------------------------------------------------------------------------
// Files and directories

// True for NULL, "" and "/": the running system.
BEAT__PRIVATE int beat__sysfs_is_live(const char *root)
{
    if (root == NULL)
        return 1;
    while (*root == '/')
        root++;
    return *root == '\0';
}

// The N of a directory entry named prefix + N (decimal, nothing after);
// returns 1 and stores it when N < BEAT__SYSFS_MAX_CPUS.
BEAT__PRIVATE int beat__sysfs_entry_number(const char *name, const char *prefix, unsigned *out)
{
    size_t len = strlen(prefix);
    if (strncmp(name, prefix, len) != 0)
        return 0;
    const char *s = name + len;
    unsigned long long v;
    if (!beat__text_parse_u64(&s, BEAT__SYSFS_MAX_CPUS - 1u, &v) || *s != '\0')
        return 0;
    *out = (unsigned)v;
    return 1;
}

// Opens root/rel as a directory, or NULL.
BEAT__PRIVATE DIR *beat__sysfs_opendir(const char *root, const char *rel)
{
    char full[BEAT__PATH_MAX];
    return beat__text_path(full, sizeof full, root, rel) == 0 ? opendir(full) : NULL;
}

// Sets s->path to sys/devices/system/cpu/cpuN/ followed by a, b and c
// (each may be NULL). Returns s->path ("" when it does not fit).
BEAT__PRIVATE const char *beat__sysfs_cpu_file(beat__sysfs *s, unsigned cpu, const char *a,
                                               const char *b, const char *c)
{
    const char *parts[3] = {a, b, c};
    strcpy(s->path, BEAT__SYSFS_CPU "/cpu");
    int bad = beat__text_append_u64(s->path, sizeof s->path, cpu) != 0 ||
              beat__text_append(s->path, sizeof s->path, "/") != 0;
    for (int i = 0; i < 3 && !bad; i++)
        bad = parts[i] != NULL && beat__text_append(s->path, sizeof s->path, parts[i]) != 0;
    if (bad)
        s->path[0] = '\0';
    return s->path;
}

// Reads a CPU list file into bits; the number of CPUs, or -1 when the file
// is missing or malformed.
BEAT__PRIVATE long beat__sysfs_list(beat__sysfs *s, const char *rel, uint64_t *bits)
{
    if (beat__text_read(s->root, rel, s->text, s->text_cap) < 0)
        return -1;
    return beat__text_parse_cpulist(s->text, bits, s->nbits);
}

// The same for a CPU mask file (older kernels have no list files).
BEAT__PRIVATE long beat__sysfs_mask(beat__sysfs *s, const char *rel, uint64_t *bits)
{
    if (beat__text_read(s->root, rel, s->text, s->text_cap) < 0)
        return -1;
    return beat__text_parse_cpumask(s->text, bits, s->nbits);
}

// A signed id file (-1 in /sys means unknown); -1 when missing or odd.
BEAT__PRIVATE long beat__sysfs_id(beat__sysfs *s, unsigned cpu, const char *leaf)
{
    long long v;
    if (!beat__text_read_i64(s->root, beat__sysfs_cpu_file(s, cpu, "topology/", leaf, NULL), &v))
        return -1;
    return v >= 0 && v <= 0x7fffffff ? (long)v : -1;
}

// ---------------------------------------------------------------------------
// Which CPUs exist

// Largest N of the cpuN entries (into *max, if any). -1 without the dir.
BEAT__PRIVATE int beat__sysfs_scan_cpus(beat__sysfs *s, unsigned *max, uint64_t *bits)
{
    DIR *dir = beat__sysfs_opendir(s->root, BEAT__SYSFS_CPU);
    if (dir == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        unsigned cpu;
        if (!beat__sysfs_entry_number(e->d_name, "cpu", &cpu))
            continue;
        if (bits != NULL && cpu < s->nbits)
            beat__bit_set(bits, cpu);
        *max = cpu > *max ? cpu : *max;
    }
    closedir(dir);
    return 0;
}

// Raises *max to the largest CPU a list file names (its text only).
BEAT__PRIVATE void beat__sysfs_list_max(const char *root, const char *name, unsigned *max)
{
    char buf[4096], rel[64] = BEAT__SYSFS_CPU "/";
    unsigned long long v;
    if (beat__text_append(rel, sizeof rel, name) == 0 &&
        beat__text_read(root, rel, buf, sizeof buf) >= 0 && beat__text_cpulist_max(buf, &v) &&
        v < BEAT__SYSFS_MAX_CPUS)
        *max = (unsigned)v > *max ? (unsigned)v : *max;
}

// Sizes the bitmaps and allocates them with the text buffer. Returns OK,
// IO (no cpu directory; on the live system only when need_dir) or
// OUT_OF_MEMORY.
BEAT__PRIVATE beat_result beat__sysfs_open(beat__sysfs *s, const char *root, int need_dir)
{
    memset(s, 0, sizeof *s);
    s->root = root;
    s->live = beat__sysfs_is_live(root);
    unsigned max = 0;
    if (beat__sysfs_scan_cpus(s, &max, NULL) != 0) {
        if (need_dir || !s->live)
            return BEAT_ERROR_IO;
        max = BEAT__SYSFS_DEFAULT_CPUS - 1;
    }
    beat__sysfs_list_max(root, "possible", &max);
    beat__sysfs_list_max(root, "present", &max);
    beat__sysfs_list_max(root, "online", &max);
    s->nwords = max / 64 + 1;
    s->nbits = s->nwords * 64;
    s->text_cap = 8 * (size_t)s->nbits + BEAT__SYSFS_TEXT_EXTRA;
    size_t words = 4 * (size_t)s->nwords;
    uint64_t *block = (uint64_t *)BEAT_MALLOC(words * sizeof(uint64_t) + s->text_cap);
    if (block == NULL)
        return BEAT_ERROR_OUT_OF_MEMORY;
    memset(block, 0, words * sizeof(uint64_t));
    s->block = block;
    s->cpus = block;
    s->online = block + s->nwords;
    s->allowed = block + 2 * s->nwords;
    s->list = block + 3 * s->nwords;
    s->text = (char *)(block + words);
    return BEAT_OK;
}

BEAT__PRIVATE void beat__sysfs_close(beat__sysfs *s)
{
    BEAT_FREE(s->block);
    BEAT_FREE(s->raw);
    BEAT_FREE(s->node_os);
}

// Marks online CPUs: the online list, else each cpuN/online (a CPU without
// that file, like cpu0 usually, is online); if that finds none, every
// reported CPU. Reported CPUs are the cpuN directories and online CPUs.
BEAT__PRIVATE void beat__sysfs_find_cpus(beat__sysfs *s)
{
    unsigned max = 0;
    beat__sysfs_scan_cpus(s, &max, s->cpus);
    if (beat__sysfs_list(s, BEAT__SYSFS_CPU "/online", s->online) > 0) {
        for (unsigned w = 0; w < s->nwords; w++)
            s->cpus[w] |= s->online[w];
        return;
    }
    memset(s->online, 0, s->nwords * sizeof *s->online);
    for (unsigned cpu = 0; cpu < s->nbits; cpu++) {
        unsigned long long up = 1;
        if (!beat__bit_test(s->cpus, cpu))
            continue;
        beat__text_read_u64(s->root, beat__sysfs_cpu_file(s, cpu, "online", NULL, NULL), &up);
        if (up != 0)
            beat__bit_set(s->online, cpu);
    }
    if (beat__bits_count(s->online, s->nwords) == 0)
        memcpy(s->online, s->cpus, s->nwords * sizeof *s->online);
}

// ---------------------------------------------------------------------------
// One CPU's facts

// The raw PU of OS CPU cpu, or NULL.
BEAT__PRIVATE beat__raw_pu *beat__sysfs_raw(beat__sysfs *s, unsigned cpu)
{
    unsigned lo = 0, hi = s->nraw;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (s->raw[mid].os_index < cpu)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->nraw && s->raw[lo].os_index == cpu ? &s->raw[lo] : NULL;
}

// Reads a CPU set of cpu from file dir + list, else (older kernels) from
// the mask file dir + mask. The number of CPUs, or -1.
BEAT__PRIVATE long beat__sysfs_cpu_set(beat__sysfs *s, unsigned cpu, const char *dir,
                                       const char *list, const char *mask, uint64_t *bits)
{
    long n = beat__sysfs_list(s, beat__sysfs_cpu_file(s, cpu, dir, list, NULL), bits);
    return n >= 0 ? n : beat__sysfs_mask(s, beat__sysfs_cpu_file(s, cpu, dir, mask, NULL), bits);
}

// The core_key of cpu: 1 + the lowest CPU of its core's set, or 0.
BEAT__PRIVATE unsigned long beat__sysfs_core_key(beat__sysfs *s, unsigned cpu)
{
    static const char *const sets[][2] = {{"core_cpus_list", "core_cpus"},
                                          {"thread_siblings_list", "thread_siblings"}};
    for (int i = 0; i < 2; i++)
        if (beat__sysfs_cpu_set(s, cpu, "topology/", sets[i][0], sets[i][1], s->list) > 0 &&
            beat__bit_test(s->list, cpu))
            return 1ul + beat__bits_first(s->list, s->nwords);
    return 0;
}

// Reads one cache/indexK directory of raw's CPU into raw (data and
// unified caches only; the first one found per level wins).
BEAT__PRIVATE void beat__sysfs_cache(beat__sysfs *s, beat__raw_pu *raw, const char *index)
{
    unsigned cpu = raw->os_index;
    char type[32], dir[64] = "cache/";
    unsigned long long level, v;
    if (!beat__text_read_u64(s->root, beat__sysfs_cpu_file(s, cpu, "cache/", index, "/level"),
                             &level) ||
        level < 1 || level > BEAT__TOPO_MAX_LEVEL || raw->cache_key[level] >= 0)
        return;
    if (beat__text_read(s->root, beat__sysfs_cpu_file(s, cpu, "cache/", index, "/type"), type,
                        sizeof type) < 0 ||
        (strncmp(type, "Data", 4) != 0 && strncmp(type, "Unified", 7) != 0))
        return; // Instruction, or garbage
    raw->cache_unified[level] = type[0] == 'U';
    raw->cache_key[level] = (long)cpu; // private unless the list says otherwise
    if (beat__text_append(dir, sizeof dir, index) == 0 &&
        beat__text_append(dir, sizeof dir, "/") == 0 &&
        beat__sysfs_cpu_set(s, cpu, dir, "shared_cpu_list", "shared_cpu_map", s->list) > 0 &&
        beat__bit_test(s->list, cpu))
        raw->cache_key[level] = (long)beat__bits_first(s->list, s->nwords);
    // A sharer read before (a lower CPU) knows size and line already.
    const beat__raw_pu *first = beat__sysfs_raw(s, (unsigned)raw->cache_key[level]);
    if (first != NULL && first != raw && first->cache_key[level] == raw->cache_key[level]) {
        raw->cache_size[level] = first->cache_size[level];
        raw->cache_line[level] = first->cache_line[level];
        return;
    }
    if (beat__text_read(s->root, beat__sysfs_cpu_file(s, cpu, "cache/", index, "/size"), s->text,
                        s->text_cap) >= 0 &&
        beat__text_parse_size(s->text, &v))
        raw->cache_size[level] = v;
    if (beat__text_read_u64(
            s->root, beat__sysfs_cpu_file(s, cpu, "cache/", index, "/coherency_line_size"), &v) &&
        v <= 0xffffffffu)
        raw->cache_line[level] = (unsigned)v;
}

BEAT__PRIVATE void beat__sysfs_caches(beat__sysfs *s, beat__raw_pu *raw)
{
    char rel[BEAT__PATH_MAX];
    strcpy(rel, beat__sysfs_cpu_file(s, raw->os_index, "cache", NULL, NULL));
    DIR *dir = beat__sysfs_opendir(s->root, rel);
    if (dir == NULL)
        return;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        unsigned k;
        if (beat__sysfs_entry_number(e->d_name, "index", &k))
            beat__sysfs_cache(s, raw, e->d_name);
    }
    closedir(dir);
}

// Fills raw for one online CPU.
BEAT__PRIVATE void beat__sysfs_pu(beat__sysfs *s, beat__raw_pu *raw)
{
    unsigned cpu = raw->os_index;
    raw->package_id = beat__sysfs_id(s, cpu, "physical_package_id");
    raw->die_id = beat__sysfs_id(s, cpu, "die_id");
    raw->cluster_id = beat__sysfs_id(s, cpu, "cluster_id");
    raw->core_id = beat__sysfs_id(s, cpu, "core_id");
    raw->core_key = beat__sysfs_core_key(s, cpu);
    beat__sysfs_caches(s, raw);
}

// One raw PU per reported CPU, in OS order.
BEAT__PRIVATE beat_result beat__sysfs_pus(beat__sysfs *s)
{
    unsigned n = beat__bits_count(s->cpus, s->nwords);
    s->raw = (beat__raw_pu *)BEAT_MALLOC((n > 0 ? n : 1) * sizeof *s->raw);
    if (s->raw == NULL)
        return BEAT_ERROR_OUT_OF_MEMORY;
    for (unsigned cpu = 0; cpu < s->nbits; cpu++) {
        if (!beat__bit_test(s->cpus, cpu))
            continue;
        beat__raw_pu *raw = &s->raw[s->nraw++];
        beat__topo_raw_init(raw, cpu);
        raw->online = (unsigned char)beat__bit_test(s->online, cpu);
        raw->allowed = (unsigned char)beat__bit_test(s->allowed, cpu);
        if (raw->online)
            beat__sysfs_pu(s, raw);
    }
    return BEAT_OK;
}

// ---------------------------------------------------------------------------
// Hybrid core kinds

// From the PMU lists: cpu_core CPUs are P cores, cpu_atom CPUs E cores.
BEAT__PRIVATE int beat__sysfs_types_pmu(beat__sysfs *s)
{
    static const char *const lists[] = {"sys/devices/cpu_core/cpus", "sys/devices/cpu_atom/cpus"};
    static const unsigned char types[] = {BEAT_CORE_TYPE_PERFORMANCE, BEAT_CORE_TYPE_EFFICIENCY};
    int found = 0;
    for (int i = 0; i < 2; i++) {
        if (beat__sysfs_list(s, lists[i], s->list) <= 0)
            continue;
        found = 1;
        for (unsigned r = 0; r < s->nraw; r++)
            if (beat__bit_test(s->list, s->raw[r].os_index))
                s->raw[r].type = types[i];
    }
    return found;
}

// From a per-CPU value (leaf below cpuN/): when every online CPU has one and
// they differ, the CPUs with the largest are P cores, the others E cores.
BEAT__PRIVATE int beat__sysfs_types_ranked(beat__sysfs *s, const char *leaf)
{
    unsigned long long v, lo = ~0ULL, hi = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned r = 0; r < s->nraw; r++) {
            beat__raw_pu *raw = &s->raw[r];
            if (!raw->online)
                continue;
            if (!beat__text_read_u64(s->root,
                                     beat__sysfs_cpu_file(s, raw->os_index, leaf, NULL, NULL), &v))
                return 0;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            if (pass == 1)
                raw->type = v == hi ? BEAT_CORE_TYPE_PERFORMANCE : BEAT_CORE_TYPE_EFFICIENCY;
        }
        if (lo == hi)
            return 0;
    }
    return 1;
}

BEAT__PRIVATE void beat__sysfs_types(beat__sysfs *s)
{
    if (!beat__sysfs_types_pmu(s) && !beat__sysfs_types_ranked(s, "cpufreq/base_frequency"))
        beat__sysfs_types_ranked(s, "cpu_capacity");
}

// ---------------------------------------------------------------------------
// NUMA nodes

// Collects the nodeN directories (sorted) into s->node_os, with room for
// the distance matrix after them. 0 when there are none.
BEAT__PRIVATE beat_result beat__sysfs_node_list(beat__sysfs *s)
{
    unsigned found[64], n = 0, node;
    DIR *dir = beat__sysfs_opendir(s->root, BEAT__SYSFS_NODE);
    if (dir == NULL)
        return BEAT_OK;
    unsigned cap = 64, *list = found;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        if (!beat__sysfs_entry_number(e->d_name, "node", &node) || n == BEAT__SYSFS_MAX_NODES)
            continue;
        if (n == cap) { // grow: rare, machines have few nodes
            unsigned *bigger = (unsigned *)BEAT_MALLOC(2 * cap * sizeof *bigger);
            if (bigger == NULL)
                break;
            memcpy(bigger, list, n * sizeof *list);
            if (list != found)
                BEAT_FREE(list);
            list = bigger;
            cap *= 2;
        }
        list[n++] = node;
    }
    closedir(dir);
    beat__topo_sort_unsigned(list, n);
    s->node_os = n > 0 ? (unsigned *)BEAT_MALLOC((size_t)n * (n + 1) * sizeof(unsigned)) : NULL;
    if (s->node_os != NULL) {
        memcpy(s->node_os, list, n * sizeof *list);
        s->nnodes = n;
        s->distances = s->node_os + n;
    }
    if (list != found)
        BEAT_FREE(list);
    return n > 0 && s->node_os == NULL ? BEAT_ERROR_OUT_OF_MEMORY : BEAT_OK;
}

// Sets s->path to sys/devices/system/node/nodeN/leaf.
BEAT__PRIVATE const char *beat__sysfs_node_file(beat__sysfs *s, unsigned node, const char *leaf)
{
    strcpy(s->path, BEAT__SYSFS_NODE "/node");
    if (beat__text_append_u64(s->path, sizeof s->path, node) != 0 ||
        beat__text_append(s->path, sizeof s->path, "/") != 0 ||
        beat__text_append(s->path, sizeof s->path, leaf) != 0)
        s->path[0] = '\0';
    return s->path;
}

// Position of node os in s->node_os, or BEAT_TOPO_NONE.
BEAT__PRIVATE unsigned beat__sysfs_node_index(const beat__sysfs *s, unsigned long long os)
{
    for (unsigned i = 0; i < s->nnodes; i++)
        if (s->node_os[i] == os)
            return i;
    return BEAT_TOPO_NONE;
}

// Parses node i's distance row into s->distances. Entry j is for the j-th
// node when the row has one entry per node, else for node j (a row that
// also counts nodes without a directory). 0 on anything else, or when the
// node is farther from itself than from another node.
BEAT__PRIVATE int beat__sysfs_distance_row(beat__sysfs *s, unsigned i)
{
    if (beat__text_read(s->root, beat__sysfs_node_file(s, s->node_os[i], "distance"), s->text,
                        s->text_cap) < 0)
        return 0;
    unsigned count = 0, nearest = ~0u, *row = s->distances + (size_t)i * s->nnodes;
    unsigned long long v;
    for (int pass = 0; pass < 2; pass++) {
        const char *p = beat__text_skip_blank(s->text);
        unsigned j = 0;
        for (; beat__text_parse_u64(&p, 0xffffffffu, &v); j++, p = beat__text_skip_blank(p)) {
            unsigned col = count == s->nnodes ? j : beat__sysfs_node_index(s, j);
            nearest = v < nearest ? (unsigned)v : nearest;
            if (pass == 1 && col != BEAT_TOPO_NONE)
                row[col] = (unsigned)v;
        }
        if (!beat__text_at_end(p) || j == 0 || (pass == 0 && j < s->nnodes))
            return 0;
        if (pass == 0 && j != s->nnodes && j <= s->node_os[s->nnodes - 1])
            return 0;
        count = j;
    }
    return row[i] != 0 && row[i] == nearest;
}

// Reads every node's CPUs (into the raw PUs) and distances.
BEAT__PRIVATE beat_result beat__sysfs_nodes(beat__sysfs *s)
{
    beat_result r = beat__sysfs_node_list(s);
    if (r != BEAT_OK || s->nnodes == 0)
        return r;
    int distances = 1;
    for (unsigned i = 0; i < s->nnodes; i++) {
        if (beat__sysfs_list(s, beat__sysfs_node_file(s, s->node_os[i], "cpulist"), s->list) > 0 ||
            beat__sysfs_mask(s, beat__sysfs_node_file(s, s->node_os[i], "cpumap"), s->list) > 0)
            for (unsigned cpu = 0; cpu < s->nbits; cpu++) {
                beat__raw_pu *raw = beat__bit_test(s->list, cpu) ? beat__sysfs_raw(s, cpu) : NULL;
                if (raw != NULL && raw->node_os < 0)
                    raw->node_os = (long)s->node_os[i];
            }
        distances = distances && beat__sysfs_distance_row(s, i);
    }
    if (!distances)
        s->distances = NULL;
    return BEAT_OK;
}

// ---------------------------------------------------------------------------
// What this process may use

// This thread's affinity mask into bits (nbits). 0 when unavailable.
BEAT__PRIVATE int beat__sysfs_affinity(uint64_t *bits, unsigned nbits)
{
    const unsigned per = 8 * sizeof(unsigned long);
    for (size_t longs = nbits / per + 1; longs * per <= 64u * BEAT__SYSFS_MAX_CPUS; longs *= 2) {
        unsigned long *set = (unsigned long *)BEAT_MALLOC(longs * sizeof *set);
        if (set == NULL)
            return 0;
        memset(set, 0, longs * sizeof *set);
        int ok = sched_getaffinity(0, longs * sizeof *set, (cpu_set_t *)(void *)set) == 0;
        int again = !ok && errno == EINVAL; // the kernel's mask is larger
        if (ok) {
            memset(bits, 0, nbits / 8);
            for (unsigned cpu = 0; cpu < nbits; cpu++)
                if ((set[cpu / per] >> (cpu % per)) & 1u)
                    beat__bit_set(bits, cpu);
        }
        BEAT_FREE(set);
        if (!again)
            return ok;
    }
    return 0;
}

// allowed = online, narrowed by the affinity mask (live system) and the
// cgroup cpuset; a narrowing that would leave nothing is skipped.
BEAT__PRIVATE void beat__sysfs_allowed(beat__sysfs *s)
{
    memcpy(s->allowed, s->online, s->nwords * sizeof *s->allowed);
    if (s->live && beat__sysfs_affinity(s->list, s->nbits))
        beat__bits_narrow(s->allowed, s->list, s->nwords);
    beat__cgroup_read(s->root, s->list, s->nbits, &s->cgroup);
    if (s->cgroup.has_cpuset)
        beat__bits_narrow(s->allowed, s->list, s->nwords);
}

// ---------------------------------------------------------------------------
// Entry points

// What beat_pool_create uses for workers == 0 without a full detection:
// the online CPUs in the affinity mask (live system) and cgroup cpuset,
// capped by ceil(cgroup quota), at least 1. Equals default_workers of
// beat_topology_detect(root). Reads a handful of files, not one per CPU.
// When even that fails (no memory, a root that does not exist): the
// affinity mask's count. Thread safety: any thread.
BEAT__PRIVATE unsigned beat__topology_default_workers(const char *root)
{
    beat__sysfs s;
    if (beat__sysfs_open(&s, root, 0) != BEAT_OK) {
        beat__sysfs_close(&s);
        return beat__cpus_allowed();
    }
    beat__sysfs_find_cpus(&s);
    if (beat__bits_count(s.online, s.nwords) == 0) // live, no /sys: the mask decides
        memset(s.online, 0xff, s.nwords * sizeof *s.online);
    beat__sysfs_allowed(&s);
    unsigned n = beat__topo_workers(beat__bits_count(s.allowed, s.nwords), s.cgroup.quota);
    beat__sysfs_close(&s);
    return n;
}

BEAT__DEF beat_result beat_topology_detect(const char *sysfs_root, beat_topology *out)
{
    if (out == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    beat__sysfs s;
    beat_result r = beat__sysfs_open(&s, sysfs_root, 1);
    if (r == BEAT_OK) {
        beat__sysfs_find_cpus(&s);
        beat__sysfs_allowed(&s);
        r = beat__sysfs_pus(&s);
    }
    if (r == BEAT_OK)
        r = beat__sysfs_nodes(&s);
    if (r == BEAT_OK) {
        beat__sysfs_types(&s);
        beat__raw_machine machine;
        memset(&machine, 0, sizeof machine);
        machine.node_os = s.node_os;
        machine.nnodes = s.nnodes;
        machine.distances = s.distances;
        machine.cgroup_version = s.cgroup.version;
        machine.cpu_quota = s.cgroup.quota;
        r = beat__topo_build(s.raw, s.nraw, &machine, out);
    }
    beat__sysfs_close(&s);
    return r;
}

#else // BEAT_NO_TOPOLOGY

BEAT__PRIVATE unsigned beat__topology_default_workers(const char *root)
{
    (void)root;
    return beat__cpus_allowed();
}

BEAT__DEF beat_result beat_topology_detect(const char *sysfs_root, beat_topology *out)
{
    (void)sysfs_root;
    if (out == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    return BEAT_ERROR_UNSUPPORTED;
}

#endif // BEAT_NO_TOPOLOGY

BEAT__DEF void beat_topology_release(beat_topology *topo)
{
    if (topo == NULL)
        return;
    BEAT_FREE(topo->beat__block);
    memset(topo, 0, sizeof *topo);
}
