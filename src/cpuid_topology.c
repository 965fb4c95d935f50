// cpuid topology: a beat_topology from the APIC ids of every PU of a cpuid
// source, through the builder the sysfs detection uses too (topo_build.h).
//
// An APIC id is a bit field: thread within core in the low bits, then core
// (and module, tile, die), then package. The widths come from leaf 0x1F or
// 0xB (Intel SDM vol. 3A 10.12.8 and vol. 2A "CPUID"), from 0x8000001E and
// 0x80000008 on AMD (APM vol. 3 appendix E.4), or, on old parts, from the
// counts in leaves 1 and 4. A cache shared by n logical processors spans
// the APIC ids that agree above ceil(log2(n)) bits (SDM, leaf 4 EAX[25:14]).
#include "config.h"
#include "cpuid.c"
#include "topo_build.h"

#include <string.h>

// How one PU's APIC id splits. Ids are apic >> shift, so they are unique
// across the machine, not only within the level above.
typedef struct beat__cpuid_layout {
    uint32_t apic;
    unsigned smt_shift;     // apic >> smt_shift: the core
    unsigned package_shift; // apic >> package_shift: the package
    unsigned die_shift;     // apic >> die_shift: the die, when has_die
    int has_die;
} beat__cpuid_layout;

// Smallest s with 2^s >= n (0 for n <= 1).
BEAT__PRIVATE unsigned beat__cpuid_ceil_log2(unsigned long long n)
{
    unsigned s = 0;
    while (s < 32 && (1ull << s) < n)
        s++;
    return s;
}

BEAT__PRIVATE long beat__cpuid_id(uint32_t apic, unsigned shift)
{
    return shift >= 32 ? 0 : (long)(apic >> shift);
}

// Leaf 0x1F or 0xB: subleaf k describes one level. EAX[4:0] is the shift
// that gives the id of the *next* level, ECX[15:8] the level's type (1 SMT,
// 2 core, 3 module, 4 tile, 5 die, 6 die group). So the package is above
// the last level, and a die's id uses the shift of the level below it.
BEAT__PRIVATE void beat__cpuid_layout_extended(const beat__cpuid_ctx *c, uint32_t leaf,
                                               beat__cpuid_layout *l)
{
    unsigned below = 0;
    // Real parts report up to 6 levels; the bound stops a looping source.
    for (uint32_t sub = 0; sub < 8; sub++) {
        uint32_t r[4];
        beat__cpuid_ask(c, leaf, sub, r);
        unsigned type = r[BEAT__ECX] >> 8 & 0xffu, shift = r[BEAT__EAX] & 0x1fu;
        if (type == 0 || (r[BEAT__EBX] & 0xffffu) == 0)
            break;
        if (type == 1)
            l->smt_shift = shift;
        if (type == 5 && sub > 0) {
            l->die_shift = below;
            l->has_die = 1;
        }
        l->package_shift = shift;
        below = shift;
    }
}

// Leaves 1 and 4 (before 0xB): logical processors per package from leaf 1
// EBX[23:16] when EDX bit 28 (HTT) is set, cores per package from leaf 4
// EAX[31:26] + 1; the threads of a core are the quotient.
BEAT__PRIVATE void beat__cpuid_layout_legacy(const beat__cpuid_ctx *c, beat__cpuid_layout *l)
{
    uint32_t r[4];
    beat__cpuid_ask(c, 1, 0, r);
    unsigned logical = (r[BEAT__EDX] >> 28 & 1u) != 0 ? r[BEAT__EBX] >> 16 & 0xffu : 1;
    unsigned cores = 1;
    beat__cpuid_ask(c, 4, 0, r);
    if ((r[BEAT__EAX] & 0x1fu) != 0)
        cores = (r[BEAT__EAX] >> 26) + 1;
    if (logical < cores)
        logical = cores;
    l->smt_shift = beat__cpuid_ceil_log2(logical / cores);
    unsigned package_shift = l->smt_shift + beat__cpuid_ceil_log2(cores);
    unsigned logical_shift = beat__cpuid_ceil_log2(logical);
    l->package_shift = package_shift > logical_shift ? package_shift : logical_shift;
}

// AMD without 0xB: 0x80000008 ECX[15:12] is the width of the APIC id below
// the package (when 0: enough bits for ECX[7:0] + 1 cores); from family
// 0x17 on, 0x8000001E EBX[15:8] + 1 is the threads per core (before, it
// counted the cores of a compute unit, which Linux shows as cores).
BEAT__PRIVATE void beat__cpuid_layout_amd(const beat__cpuid_ctx *c, const beat_cpu_info *info,
                                          beat__cpuid_layout *l)
{
    uint32_t size = beat__cpuid_reg(c, 0x80000008u, 0, BEAT__ECX);
    uint32_t apic;
    if (size == 0) {
        beat__cpuid_layout_legacy(c, l);
        return;
    }
    if (info->family >= 0x17 && beat__cpuid_amd_apic(c, &apic)) {
        uint32_t threads = (beat__cpuid_reg(c, 0x8000001eu, 0, BEAT__EBX) >> 8 & 0xffu) + 1;
        l->smt_shift = beat__cpuid_ceil_log2(threads);
    }
    unsigned width = size >> 12 & 0xfu;
    l->package_shift = width != 0 ? width : beat__cpuid_ceil_log2((size & 0xffu) + 1ull);
    if (l->package_shift < l->smt_shift)
        l->package_shift = l->smt_shift;
}

BEAT__PRIVATE void beat__cpuid_layout_of(const beat__cpuid_ctx *c, const beat_cpu_info *info,
                                         beat__cpuid_layout *l)
{
    uint32_t leaf = beat__cpuid_x2apic_leaf(c);
    memset(l, 0, sizeof *l);
    l->apic = info->apic_id; // from the same leaf choice (beat__cpuid_apic)
    if (leaf != 0)
        beat__cpuid_layout_extended(c, leaf, l);
    else if (beat__cpuid_amd_like(info->vendor_id))
        beat__cpuid_layout_amd(c, info, l);
    else
        beat__cpuid_layout_legacy(c, l);
}

// The data or unified caches of one PU, keyed by the APIC id bits above
// the PUs sharing each. A cache never spans packages, whatever its sharing
// field says. Sharing unknown (old AMD): L1 and L2 belong to the core, L3
// to the package.
BEAT__PRIVATE void beat__cpuid_pu_caches(const beat_cpu_info *info, const beat__cpuid_layout *l,
                                         beat__raw_pu *raw)
{
    for (unsigned i = 0; i < info->ncaches; i++) {
        const beat_cpu_cache *cache = &info->caches[i];
        unsigned level = cache->level;
        if (cache->type == BEAT_CPU_CACHE_INSTRUCTION || level < 1 ||
            level > BEAT__TOPO_MAX_LEVEL || raw->cache_key[level] != -1)
            continue;
        unsigned shift = cache->sharing != 0 ? beat__cpuid_ceil_log2(cache->sharing)
                         : level < 3         ? l->smt_shift
                                             : l->package_shift;
        if (shift > l->package_shift)
            shift = l->package_shift;
        raw->cache_key[level] = beat__cpuid_id(l->apic, shift);
        raw->cache_size[level] = cache->size;
        raw->cache_line[level] = cache->line_size;
        raw->cache_unified[level] = cache->type == BEAT_CPU_CACHE_UNIFIED;
    }
}

// Linux numbers x86 clusters by the L2 they share; so does this.
BEAT__PRIVATE void beat__cpuid_raw_pu(const beat__cpuid_ctx *c, beat__raw_pu *raw)
{
    beat_cpu_info info;
    beat__cpuid_layout l;
    memset(&info, 0, sizeof info);
    beat__cpuid_decode_ctx(c, &info);
    beat__cpuid_layout_of(c, &info, &l);
    beat__topo_raw_init(raw, c->pu);
    raw->type = (unsigned char)info.core_type;
    raw->package_id = beat__cpuid_id(l.apic, l.package_shift);
    if (l.has_die)
        raw->die_id = beat__cpuid_id(l.apic, l.die_shift);
    raw->core_id = beat__cpuid_id(l.apic, l.smt_shift);
    beat__cpuid_pu_caches(&info, &l, raw);
    raw->cluster_id = raw->cache_key[2];
}

// The first PU that answers leaf 0, with its ranges in *ranges.
BEAT__PRIVATE int beat__cpuid_first_pu(const beat_cpuid_source *src, beat__cpuid_ctx *ranges)
{
    for (unsigned pu = 0; pu < src->npus; pu++)
        if (beat__cpuid_open(src, pu, ranges))
            return 1;
    return 0;
}

BEAT__DEF beat_result beat_topology_from_cpuid(const beat_cpuid_source *src, beat_topology *out)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (src == NULL || src->query == NULL || out == NULL || src->npus == 0)
        return BEAT_ERROR_INVALID_ARGUMENT;
    beat__cpuid_ctx ranges;
    if (!beat__cpuid_first_pu(src, &ranges))
        return BEAT_ERROR_UNSUPPORTED;
    size_t bytes;
    beat__raw_pu *raw = NULL;
    if (!__builtin_mul_overflow((size_t)src->npus, sizeof *raw, &bytes))
        raw = (beat__raw_pu *)BEAT_MALLOC(bytes);
    if (raw == NULL)
        return BEAT_ERROR_OUT_OF_MEMORY;
    unsigned n = 0;
    for (unsigned pu = ranges.pu; pu < src->npus; pu++) {
        beat__cpuid_ctx c;
        if (!beat__cpuid_open(src, pu, &c))
            continue; // a hole in a sparse dump
        c.max_leaf = ranges.max_leaf;
        c.max_ext_leaf = ranges.max_ext_leaf;
        beat__cpuid_raw_pu(&c, &raw[n++]);
    }
    beat__raw_machine machine;
    memset(&machine, 0, sizeof machine);
    beat_result r = beat__topo_build(raw, n, &machine, out);
    BEAT_FREE(raw);
    return r;
}
