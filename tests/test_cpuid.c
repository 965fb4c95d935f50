// cpuid: decoding real machines' dumps (checked against hwloc's answer for
// the same dumps), synthetic CPUs through an in-test source, the live CPU
// against the compiler's own detection, and malformed dumps.
#define BEAT_IMPLEMENTATION
#include "beat.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

// hwloc's captures (see ../shared/fixtures/hwloc/README.md); absent on a
// user's clone, where the cases that need them are skipped.
#define FIXTURES "../shared/fixtures/hwloc/x86"
#define UNPACKED "build/fixtures/cpuid" // this test's own: unpacked here once

// ---------------------------------------------------------------------------
// Helpers: temporary directories and files

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    write_file(dir, name, text, strlen(text));
}

static char *make_temp_dir(char *buf, size_t cap)
{
    snprintf(buf, cap, "/tmp/beat_cpuid_XXXXXX");
    if (mkdtemp(buf) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    return buf;
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

// Unpacks NAME.tar.bz2 into UNPACKED/NAME once: into a fresh directory
// first, then renamed, so concurrent test runs never see half a dump.
// Returns 1 with the directory in dir, 0 when the fixtures are absent, -1
// when unpacking failed.
static int fixture_dir(const char *name, char *dir, size_t cap)
{
    char tarball[512], probe[600], tmp[256], cmd[1200], from[600];
    snprintf(tarball, sizeof tarball, FIXTURES "/%s.tar.bz2", name);
    if (access(tarball, R_OK) != 0)
        return 0;
    snprintf(dir, cap, UNPACKED "/%s", name);
    snprintf(probe, sizeof probe, "%s/pu0", dir);
    if (access(probe, R_OK) == 0)
        return 1;
    if (system("mkdir -p " UNPACKED) != 0)
        return -1;
    snprintf(tmp, sizeof tmp, UNPACKED "/.unpack.XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    snprintf(cmd, sizeof cmd, "tar -xjf '%s' -C '%s'", tarball, tmp);
    int ok = system(cmd) == 0;
    snprintf(from, sizeof from, "%s/%s", tmp, name);
    if (ok && rename(from, dir) != 0 && errno != EEXIST && errno != ENOTEMPTY)
        ok = 0;
    remove_tree(tmp);
    return ok && access(probe, R_OK) == 0 ? 1 : -1;
}

static char *read_whole(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = (char *)malloc((size_t)len + 1);
    if (fread(text, 1, (size_t)len, f) != (size_t)len)
        len = 0;
    text[len] = '\0';
    fclose(f);
    return text;
}

// ---------------------------------------------------------------------------
// A tiny scan of hwloc's XML: objects with their type, cpuset and cache
// size; <info> values; <cpukind> blocks.

#define MAX_PUS 256

typedef struct pu_set {
    uint64_t bits[MAX_PUS / 64];
} pu_set;

typedef struct xml_object {
    char type[24];
    pu_set cpuset;
    unsigned long long cache_size;
} xml_object;

// Parses hwloc's bitmap text: 32-bit words in hex, most significant first,
// separated by commas; an empty word is 0 ("0x80000000,,,0x0").
static void parse_cpuset(const char *s, const char *end, pu_set *set)
{
    unsigned words = 1;
    memset(set, 0, sizeof *set);
    for (const char *p = s; p < end; p++)
        words += *p == ',';
    for (unsigned w = words; w-- > 0;) {
        unsigned long v = 0;
        if (s[0] == '0' && s[1] == 'x')
            v = strtoul(s + 2, NULL, 16);
        if (w < MAX_PUS / 32)
            set->bits[w / 2] |= (uint64_t)v << (32 * (w % 2));
        while (s < end && *s != ',')
            s++;
        s++;
    }
}

// The value of attribute name (with its leading space) within [tag, end).
static const char *xml_attr(const char *tag, const char *end, const char *name, const char **vend)
{
    const char *a = strstr(tag, name);
    if (a == NULL || a >= end)
        return NULL;
    a += strlen(name);
    *vend = strchr(a, '"');
    return a;
}

static unsigned xml_objects(const char *xml, xml_object *out, unsigned max)
{
    unsigned n = 0;
    for (const char *s = xml; (s = strstr(s, "<object type=\"")) != NULL && n < max; n++) {
        const char *end = strchr(s, '>'), *vend, *v;
        s += strlen("<object type=\"");
        size_t len = (size_t)(strchr(s, '"') - s);
        memset(&out[n], 0, sizeof out[n]);
        memcpy(out[n].type, s, len < sizeof out[n].type ? len : sizeof out[n].type - 1);
        if ((v = xml_attr(s, end, " cpuset=\"", &vend)) != NULL)
            parse_cpuset(v, vend, &out[n].cpuset);
        if ((v = xml_attr(s, end, " cache_size=\"", &vend)) != NULL)
            out[n].cache_size = strtoull(v, NULL, 10);
    }
    return n;
}

// The first <info name="NAME" value="..."/> as a string in buf.
static const char *xml_info(const char *xml, const char *name, char *buf, size_t cap)
{
    char key[128];
    snprintf(key, sizeof key, "<info name=\"%s\" value=\"", name);
    const char *s = strstr(xml, key);
    buf[0] = '\0';
    if (s == NULL)
        return buf;
    s += strlen(key);
    size_t len = (size_t)(strchr(s, '"') - s);
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

// Core type of each PU from the <cpukind> blocks (IntelAtom: efficiency,
// IntelCore: performance). Returns 1 when the XML has any.
static int xml_core_types(const char *xml, unsigned char types[MAX_PUS])
{
    int found = 0;
    memset(types, BEAT_CORE_TYPE_UNKNOWN, MAX_PUS);
    for (const char *s = xml; (s = strstr(s, "<cpukind cpuset=\"")) != NULL;) {
        pu_set set;
        s += strlen("<cpukind cpuset=\"");
        parse_cpuset(s, strchr(s, '"'), &set);
        const char *kind = strstr(s, "name=\"CoreType\" value=\"");
        unsigned char type = BEAT_CORE_TYPE_UNKNOWN;
        if (kind != NULL && strncmp(kind + 23, "IntelAtom", 9) == 0)
            type = BEAT_CORE_TYPE_EFFICIENCY;
        if (kind != NULL && strncmp(kind + 23, "IntelCore", 9) == 0)
            type = BEAT_CORE_TYPE_PERFORMANCE;
        for (unsigned pu = 0; pu < MAX_PUS; pu++)
            if (set.bits[pu / 64] >> (pu % 64) & 1)
                types[pu] = type;
        found = 1;
    }
    return found;
}

static int set_has(const pu_set *set, unsigned pu)
{
    return (int)(set->bits[pu / 64] >> (pu % 64) & 1);
}

static int set_first(const pu_set *set)
{
    for (unsigned pu = 0; pu < MAX_PUS; pu++)
        if (set_has(set, pu))
            return (int)pu;
    return -1;
}

static unsigned set_count(const pu_set *set)
{
    unsigned n = 0;
    for (unsigned pu = 0; pu < MAX_PUS; pu++)
        n += (unsigned)set_has(set, pu);
    return n;
}

// ---------------------------------------------------------------------------
// Checking a dump against hwloc's XML

static const beat_topo_pu *topo_pu(const beat_topology *t, unsigned os)
{
    for (unsigned i = 0; i < t->npus; i++)
        if (t->pus[i].os_index == os)
            return &t->pus[i];
    return NULL;
}

static const beat_topo_cache *topo_cache(const beat_topology *t, unsigned level, unsigned group)
{
    for (unsigned i = 0; i < t->ncaches; i++)
        if (t->caches[i].level == level && t->caches[i].group == group)
            return &t->caches[i];
    return NULL;
}

// The number the topology gives PU os for an XML object type.
static unsigned group_of(const beat_topology *t, unsigned os, const char *type)
{
    const beat_topo_pu *p = topo_pu(t, os);
    if (p == NULL)
        return BEAT_TOPO_NONE - 1;
    if (strcmp(type, "Package") == 0)
        return p->package;
    if (strcmp(type, "Core") == 0)
        return p->core;
    if (strcmp(type, "L1Cache") == 0)
        return p->l1;
    if (strcmp(type, "L2Cache") == 0)
        return p->l2;
    return p->l3;
}

static unsigned cache_level(const char *type)
{
    return strcmp(type, "L1Cache") == 0   ? 1
           : strcmp(type, "L2Cache") == 0 ? 2
           : strcmp(type, "L3Cache") == 0 ? 3
                                          : 0;
}

static int checked_type(const char *type)
{
    return cache_level(type) != 0 || strcmp(type, "Package") == 0 || strcmp(type, "Core") == 0;
}

// Every XML object of the checked types is exactly one group of ours: its
// PUs share a number, and no other PU has it. Caches also match in size.
static void check_partitions(const beat_topology *t, const xml_object *objs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (!checked_type(objs[i].type))
            continue;
        int first = set_first(&objs[i].cpuset);
        CHECK(first >= 0);
        unsigned group = group_of(t, (unsigned)first, objs[i].type), members = 0;
        CHECK_MSG(group != BEAT_TOPO_NONE, "%s of PU %d has no group", objs[i].type, first);
        for (unsigned k = 0; k < t->npus; k++) {
            unsigned os = t->pus[k].os_index;
            int same = group_of(t, os, objs[i].type) == group;
            CHECK_MSG(same == set_has(&objs[i].cpuset, os), "%s of PU %d: PU %u differs",
                      objs[i].type, first, os);
            members += (unsigned)same;
        }
        CHECK_EQ(members, set_count(&objs[i].cpuset));
        unsigned level = cache_level(objs[i].type);
        if (level != 0) {
            const beat_topo_cache *c = topo_cache(t, level, group);
            CHECK(c != NULL);
            CHECK_EQ(c->size, objs[i].cache_size);
            CHECK_EQ(c->npus, members);
        }
    }
}

static unsigned count_type(const xml_object *objs, unsigned n, const char *type)
{
    unsigned count = 0;
    for (unsigned i = 0; i < n; i++)
        count += strcmp(objs[i].type, type) == 0;
    return count;
}

static unsigned topo_caches_at(const beat_topology *t, unsigned level)
{
    unsigned count = 0;
    for (unsigned i = 0; i < t->ncaches; i++)
        count += t->caches[i].level == level;
    return count;
}

// Vendor, family, model, stepping, brand and the caches of PU 0 as the
// package's <info> and cache objects say.
static void check_decoded(const beat_cpuid_source *src, const char *xml, const xml_object *objs,
                          unsigned n)
{
    beat_cpu_info info;
    char want[128];
    CHECK_EQ(beat_cpuid_decode(src, 0, &info), BEAT_OK);
    CHECK_MSG(strcmp(info.vendor, xml_info(xml, "CPUVendor", want, sizeof want)) == 0, "vendor %s",
              info.vendor);
    CHECK_EQ(info.family, strtoul(xml_info(xml, "CPUFamilyNumber", want, sizeof want), NULL, 10));
    CHECK_EQ(info.model, strtoul(xml_info(xml, "CPUModelNumber", want, sizeof want), NULL, 10));
    CHECK_EQ(info.stepping, strtoul(xml_info(xml, "CPUStepping", want, sizeof want), NULL, 10));
    xml_info(xml, "CPUModel", want, sizeof want);
    for (size_t len = strlen(want); len > 0 && want[len - 1] == ' ';)
        want[--len] = '\0';
    CHECK_MSG(strcmp(info.brand, want) == 0, "brand '%s', want '%s'", info.brand, want);
    for (unsigned i = 0; i < n; i++) {
        unsigned level = cache_level(objs[i].type), found = 0;
        if (level == 0 || !set_has(&objs[i].cpuset, 0))
            continue;
        for (unsigned k = 0; k < info.ncaches; k++)
            found |= info.caches[k].level == level &&
                     info.caches[k].type != BEAT_CPU_CACHE_INSTRUCTION &&
                     info.caches[k].size == objs[i].cache_size;
        CHECK_MSG(found, "PU 0 has no L%u of %llu bytes", level, objs[i].cache_size);
    }
}

// Per-PU core types equal the <cpukind> blocks; cores of each type are
// counted by the type of their lowest PU, as hwloc's Core objects show.
static void check_core_types(const beat_topology *t, const char *xml, const xml_object *objs,
                             unsigned n)
{
    unsigned char types[MAX_PUS];
    if (!xml_core_types(xml, types)) {
        CHECK_EQ(t->hybrid, 0);
        return;
    }
    CHECK_EQ(t->hybrid, 1);
    for (unsigned k = 0; k < t->npus; k++)
        CHECK_EQ(t->pus[k].type, types[t->pus[k].os_index]);
    unsigned want[3] = {0, 0, 0}, got[3] = {0, 0, 0};
    for (unsigned i = 0; i < n; i++)
        if (strcmp(objs[i].type, "Core") == 0)
            want[types[set_first(&objs[i].cpuset)]]++;
    for (unsigned i = 0; i < t->ncores; i++)
        got[t->cores[i].type]++;
    bt_note("performance cores %u, efficiency cores %u", got[1], got[2]);
    CHECK_EQ(got[BEAT_CORE_TYPE_PERFORMANCE], want[BEAT_CORE_TYPE_PERFORMANCE]);
    CHECK_EQ(got[BEAT_CORE_TYPE_EFFICIENCY], want[BEAT_CORE_TYPE_EFFICIENCY]);
}

static void check_dump(const char *name)
{
    char dir[512], xml_path[512];
    int have = fixture_dir(name, dir, sizeof dir);
    if (have == 0) {
        bt_skip("no " FIXTURES " (hwloc's captures)");
        return;
    }
    CHECK_MSG(have == 1, "could not unpack %s", name);
    snprintf(xml_path, sizeof xml_path, FIXTURES "/%s.xml", name);
    char *xml = read_whole(xml_path);
    CHECK(xml != NULL);
    static xml_object objs[2048];
    unsigned n = xml_objects(xml, objs, 2048);

    beat_cpuid_dump *dump = NULL;
    char msg[256];
    beat_result r = beat_cpuid_dump_load_msg(dir, &dump, msg, sizeof msg);
    CHECK_MSG(r == BEAT_OK, "%s", msg);
    beat_cpuid_source src = beat_cpuid_dump_source(dump);
    beat_topology t;
    r = beat_topology_from_cpuid(&src, &t);
    if (r == BEAT_OK) {
        bt_note("%s: packages %u, cores %u, pus %u, L2 %u, L3 %u", name, t.npackages, t.ncores,
                t.npus, topo_caches_at(&t, 2), topo_caches_at(&t, 3));
        check_decoded(&src, xml, objs, n);
        if (!bt_case_failed) {
            CHECK_EQ(t.npackages, count_type(objs, n, "Package"));
            CHECK_EQ(t.ncores, count_type(objs, n, "Core"));
            CHECK_EQ(t.npus, count_type(objs, n, "PU"));
            CHECK_EQ(topo_caches_at(&t, 2), count_type(objs, n, "L2Cache"));
            CHECK_EQ(topo_caches_at(&t, 3), count_type(objs, n, "L3Cache"));
        }
        if (!bt_case_failed)
            check_partitions(&t, objs, n);
        if (!bt_case_failed)
            check_core_types(&t, xml, objs, n);
        beat_topology_release(&t);
    }
    beat_cpuid_dump_free(dump);
    free(xml);
    CHECK_EQ(r, BEAT_OK);
}

static void raptor_lake_hybrid_dump_matches_hwloc(void)
{
    check_dump("Intel-RaptorLake-Corei7-1370P");
}

static void zen3_two_socket_dump_matches_hwloc(void) { check_dump("AMD-19h-Zen3-2xEpyc-7763"); }

static void skylake_two_socket_dump_matches_hwloc(void) { check_dump("Intel-Skylake-2xXeon6140"); }

// PU 0 alone reports max leaf 0x1A; the others 0x16. The first PU's range
// applies to all (as in hwloc), so every PU gets its core type.
static void leaf_1a_core_types_use_the_first_pus_range(void)
{
    check_dump("Intel-CPUID.1A-1p2co2t");
}

// ---------------------------------------------------------------------------
// Synthetic CPUs: a table of answers, and a record of what was asked.

typedef struct fake_leaf {
    uint32_t leaf, subleaf;
    uint32_t r[4];
} fake_leaf;

typedef struct fake_cpu {
    const fake_leaf *leaves;
    size_t nleaves;
    const uint32_t *apic;   // per PU: leaf 1 EBX[31:24], or NULL
    const uint32_t *x2apic; // per PU: EDX of leaves 0xB and 0x1F, or NULL
    uint32_t max_asked;     // highest basic leaf asked
    uint32_t max_ext_asked; // highest extended leaf asked
    uint64_t xcr0;          // what fake_xcr0 answers
    unsigned xcr0_calls;
} fake_cpu;

static void fake_query(void *user, unsigned pu, uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    fake_cpu *f = (fake_cpu *)user;
    if (leaf >= 0x80000000u && leaf > f->max_ext_asked)
        f->max_ext_asked = leaf;
    if (leaf < 0x80000000u && leaf > f->max_asked)
        f->max_asked = leaf;
    memset(regs, 0, 4 * sizeof regs[0]);
    for (size_t i = 0; i < f->nleaves; i++) {
        if (f->leaves[i].leaf == leaf && f->leaves[i].subleaf == subleaf) {
            memcpy(regs, f->leaves[i].r, 4 * sizeof regs[0]);
            break;
        }
    }
    if (leaf == 1 && f->apic != NULL)
        regs[1] = (regs[1] & 0x00ffffffu) | f->apic[pu] << 24;
    if ((leaf == 0xb || leaf == 0x1f) && f->x2apic != NULL)
        regs[3] = f->x2apic[pu];
}

static uint64_t fake_xcr0(void *user, unsigned pu)
{
    fake_cpu *f = (fake_cpu *)user;
    (void)pu;
    f->xcr0_calls++;
    return f->xcr0;
}

static beat_cpuid_source fake_source(fake_cpu *f, const fake_leaf *leaves, size_t n, unsigned npus)
{
    beat_cpuid_source src;
    memset(f, 0, sizeof *f);
    f->leaves = leaves;
    f->nleaves = n;
    memset(&src, 0, sizeof src);
    src.query = fake_query;
    src.npus = npus;
    src.user = f;
    return src;
}

#define FAKE(leaves) (leaves), sizeof(leaves) / sizeof((leaves)[0])
#define INTEL 0x756e6547u, 0x6c65746eu, 0x49656e69u // ebx, ecx, edx of leaf 0
#define AMD 0x68747541u, 0x444d4163u, 0x69746e65u

// Leaf 4 EAX for a cache: type, level, PUs sharing it, cores per package.
#define LEAF4_EAX(type, level, sharing, cores)                                                     \
    ((uint32_t)(type) | (uint32_t)(level) << 5 | (uint32_t)((sharing)-1) << 14 |                   \
     (uint32_t)((cores)-1) << 26)
#define LEAF4_EBX(ways, line) ((uint32_t)((ways)-1) << 22 | (uint32_t)((line)-1))

// A Nehalem-like part before leaf 0xB: 2 packages x 2 cores x 2 threads,
// APIC id = package << 2 | core << 1 | thread. The table also answers
// leaves 0xB and 7 above the max leaf (4) with data that would change the
// result: the decoder must never ask.
static const fake_leaf legacy_leaves[] = {
    {0, 0, {4, INTEL}},
    {1, 0, {0x000106a5u, 4u << 16, 0, 1u << 28 | 1u << 26 | 1u << 25}},
    {4, 0, {LEAF4_EAX(1, 1, 2, 2), LEAF4_EBX(8, 64), 63, 0}},
    {4, 1, {LEAF4_EAX(2, 1, 2, 2), LEAF4_EBX(4, 64), 127, 0}},
    {4, 2, {LEAF4_EAX(3, 2, 2, 2), LEAF4_EBX(8, 64), 511, 0}},
    {4, 3, {LEAF4_EAX(3, 3, 4, 2), LEAF4_EBX(16, 64), 4095, 0}},
    {7, 0, {0, 1u << 5, 0, 0}},
    {0xb, 0, {3, 1, 0x100, 0}},
    {0xb, 1, {5, 1, 0x201, 0}},
    {0x80000000u, 0, {0x80000004u, 0, 0, 0}},
};

static void legacy_cpu_without_leaf_0xb_uses_leaves_1_and_4(void)
{
    static const uint32_t apic[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    fake_cpu f;
    beat_cpuid_source src = fake_source(&f, FAKE(legacy_leaves), 8);
    f.apic = apic;
    beat_cpu_info info;
    CHECK_EQ(beat_cpuid_decode(&src, 5, &info), BEAT_OK);
    CHECK_EQ(info.apic_id, 5);
    CHECK_EQ(info.initial_apic_id, 5);
    CHECK_EQ(info.family, 6);
    CHECK_EQ(info.model, 0x1a);
    CHECK_EQ(info.ncaches, 4);
    CHECK_EQ(info.caches[3].size, 16ull * 64 * 4096);
    CHECK_EQ(info.features & BEAT_CPU_FEATURE_AVX2, 0); // leaf 7 is above the max
    beat_topology t;
    CHECK_EQ(beat_topology_from_cpuid(&src, &t), BEAT_OK);
    bt_note("packages %u, cores %u, pus %u, L2 %u, L3 %u", t.npackages, t.ncores, t.npus,
            topo_caches_at(&t, 2), topo_caches_at(&t, 3));
    unsigned packages = t.npackages, cores = t.ncores, pus = t.npus;
    unsigned l2 = topo_caches_at(&t, 2), l3 = topo_caches_at(&t, 3);
    unsigned pu3_core = t.pus[3].core, pu2_core = t.pus[2].core, pu4_pkg = t.pus[4].package;
    beat_topology_release(&t);
    CHECK_EQ(packages, 2);
    CHECK_EQ(cores, 4);
    CHECK_EQ(pus, 8);
    CHECK_EQ(l2, 4);
    CHECK_EQ(l3, 2);
    CHECK_EQ(pu3_core, pu2_core);
    CHECK_EQ(pu4_pkg, 1);
    CHECK_MSG(f.max_asked <= 4, "asked leaf %#x above the max leaf 4", f.max_asked);
    CHECK_MSG(f.max_ext_asked <= 0x80000004u, "asked leaf %#x", f.max_ext_asked);
}

// One package of 2 dies x 2 cores x 2 threads described by leaf 0x1F
// (SMT shift 1, core shift 2, die shift 3); leaf 0xB, which has no die
// level, says the package starts at bit 2. 0x1F wins: 2 dies.
static const fake_leaf dies_leaves[] = {
    {0, 0, {0x1f, INTEL}},       {1, 0, {0x00050657u, 0, 0, 1u << 28}}, {0xb, 0, {1, 2, 0x100, 0}},
    {0xb, 1, {2, 4, 0x201, 0}},  {0x1f, 0, {1, 2, 0x100, 0}},           {0x1f, 1, {2, 4, 0x201, 0}},
    {0x1f, 2, {3, 8, 0x502, 0}},
};

static void leaf_0x1f_dies_split_a_package(void)
{
    static const uint32_t x2apic[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    fake_cpu f;
    beat_cpuid_source src = fake_source(&f, FAKE(dies_leaves), 8);
    f.x2apic = x2apic;
    beat_topology t;
    CHECK_EQ(beat_topology_from_cpuid(&src, &t), BEAT_OK);
    unsigned packages = t.npackages, dies = t.ndies, cores = t.ncores;
    unsigned pu5_core = t.pus[5].core, pu4_core = t.pus[4].core;
    beat_topology_release(&t);
    CHECK_EQ(packages, 1);
    CHECK_EQ(dies, 2);
    CHECK_EQ(cores, 4);
    CHECK_EQ(pu5_core, pu4_core);
}

// A K10-like AMD part (family 0x10) without TopologyExtensions: caches from
// 0x80000005/6, cores per package from 0x80000008 ECX[7:0] (2 cores, no
// APIC id width), 2 packages: APIC id = package << 1 | core.
static const fake_leaf k10_leaves[] = {
    {0, 0, {5, AMD}},
    {1, 0, {0x00100f42u, 2u << 16, 0, 1u << 28 | 1u << 26}},
    {0x80000000u, 0, {0x80000008u, 0, 0, 0}},
    {0x80000005u, 0, {0, 0, 64u << 24 | 2u << 16 | 1u << 8 | 64, 64u << 24 | 2u << 16 | 64}},
    {0x80000006u, 0, {0, 0, 512u << 16 | 8u << 12 | 64, 12u << 18 | 0xbu << 12 | 64}},
    {0x80000008u, 0, {0x3030, 0, 1, 0}},
};

static void old_amd_without_topology_extensions_uses_legacy_leaves(void)
{
    static const uint32_t apic[4] = {0, 1, 2, 3};
    fake_cpu f;
    beat_cpu_info info;
    beat_cpuid_source src = fake_source(&f, FAKE(k10_leaves), 4);
    f.apic = apic;
    CHECK_EQ(beat_cpuid_decode(&src, 3, &info), BEAT_OK);
    CHECK_EQ(info.vendor_id, BEAT_CPU_VENDOR_AMD);
    CHECK_EQ(info.family, 0x10);
    CHECK_EQ(info.model, 4);
    CHECK_EQ(info.apic_id, 3);
    CHECK_EQ(info.ncaches, 4);
    CHECK_EQ(info.caches[0].size, 64u << 10);
    CHECK_EQ(info.caches[0].type, BEAT_CPU_CACHE_DATA);
    CHECK_EQ(info.caches[1].type, BEAT_CPU_CACHE_INSTRUCTION);
    CHECK_EQ(info.caches[2].size, 512u << 10);
    CHECK_EQ(info.caches[2].ways, 16);
    CHECK_EQ(info.caches[3].size, 6u << 20);
    CHECK_EQ(info.caches[3].ways, 48);
    CHECK_EQ(info.caches[3].sharing, 0);
    beat_topology t;
    CHECK_EQ(beat_topology_from_cpuid(&src, &t), BEAT_OK);
    unsigned packages = t.npackages, cores = t.ncores, l2 = topo_caches_at(&t, 2);
    unsigned l3 = topo_caches_at(&t, 3);
    beat_topology_release(&t);
    CHECK_EQ(packages, 2);
    CHECK_EQ(cores, 4);
    CHECK_EQ(l2, 4);
    CHECK_EQ(l3, 2);
}

// OSXSAVE, AVX, FMA, F16C, SSE4.2 in leaf 1; AVX2, AVX-512 F/DQ/BW/VL in
// leaf 7; the CPU supports x87, SSE, AVX, opmask and ZMM state (0xe7).
#define XSAVE_LEAF1_ECX (1u << 27 | 1u << 28 | 1u << 12 | 1u << 29 | 1u << 20)
#define AVX512_LEAF7_EBX (1u << 5 | 1u << 16 | 1u << 17 | 1u << 30 | 1u << 31)
static const fake_leaf avx512_leaves[] = {
    {0, 0, {0xd, INTEL}},
    {1, 0, {0x00050654u, 0, XSAVE_LEAF1_ECX, 1u << 25 | 1u << 26}},
    {7, 0, {0, AVX512_LEAF7_EBX, 0, 0}},
    {0xd, 0, {0xe7, 0, 0, 0}},
};
static const fake_leaf no_osxsave_leaves[] = {
    {0, 0, {0xd, INTEL}},
    {1, 0, {0x00050654u, 0, XSAVE_LEAF1_ECX & ~(1u << 27), 1u << 25 | 1u << 26}},
    {7, 0, {0, AVX512_LEAF7_EBX, 0, 0}},
    {0xd, 0, {0xe7, 0, 0, 0}},
};

static void avx512_is_off_when_xcr0_does_not_enable_it(void)
{
    fake_cpu f;
    beat_cpu_info info;
    beat_cpuid_source src = fake_source(&f, FAKE(avx512_leaves), 1);
    src.xcr0 = fake_xcr0;
    f.xcr0 = 0x7; // the OS saves x87, SSE and AVX state, not AVX-512's
    CHECK_EQ(beat_cpuid_decode(&src, 0, &info), BEAT_OK);
    CHECK_EQ(f.xcr0_calls, 1);
    CHECK_EQ(info.xcr0, 0x7);
    CHECK(info.features & BEAT_CPU_FEATURE_AVX2);
    CHECK(info.features & BEAT_CPU_FEATURE_FMA);
    CHECK_EQ(info.features &
                 (BEAT_CPU_FEATURE_AVX512F | BEAT_CPU_FEATURE_AVX512BW | BEAT_CPU_FEATURE_AVX512VL),
             0);

    f.xcr0 = 0x3; // no AVX state either
    CHECK_EQ(beat_cpuid_decode(&src, 0, &info), BEAT_OK);
    CHECK_EQ(info.features & (BEAT_CPU_FEATURE_AVX | BEAT_CPU_FEATURE_AVX2 | BEAT_CPU_FEATURE_FMA |
                              BEAT_CPU_FEATURE_F16C),
             0);
    CHECK(info.features & BEAT_CPU_FEATURE_SSE42);

    src.xcr0 = NULL; // a dump: XCR0 is what leaf 0xD says the CPU supports
    CHECK_EQ(beat_cpuid_decode(&src, 0, &info), BEAT_OK);
    CHECK_EQ(info.xcr0, 0xe7);
    CHECK(info.features & BEAT_CPU_FEATURE_AVX512F);
    CHECK(info.features & BEAT_CPU_FEATURE_AVX512VL);
}

static void avx_is_off_and_xgetbv_unasked_without_osxsave(void)
{
    fake_cpu f;
    beat_cpu_info info;
    beat_cpuid_source src = fake_source(&f, FAKE(no_osxsave_leaves), 1);
    src.xcr0 = fake_xcr0;
    f.xcr0 = 0xe7;
    CHECK_EQ(beat_cpuid_decode(&src, 0, &info), BEAT_OK);
    CHECK_EQ(f.xcr0_calls, 0); // xgetbv would fault
    CHECK_EQ(info.xcr0, 0);
    CHECK_EQ(info.features & (BEAT_CPU_FEATURE_AVX | BEAT_CPU_FEATURE_AVX2 |
                              BEAT_CPU_FEATURE_AVX512F | BEAT_CPU_FEATURE_FMA),
             0);
    CHECK(info.features & BEAT_CPU_FEATURE_SSE2);
}

// family, model, stepping of leaf 1 EAX for a vendor.
static void decode_signature(int amd, uint32_t eax, unsigned *family, unsigned *model,
                             unsigned *stepping)
{
    const fake_leaf intel_leaves[] = {{0, 0, {1, INTEL}}, {1, 0, {eax, 0, 0, 0}}};
    const fake_leaf amd_leaves[] = {{0, 0, {1, AMD}}, {1, 0, {eax, 0, 0, 0}}};
    fake_cpu f;
    beat_cpu_info info;
    beat_cpuid_source src =
        amd ? fake_source(&f, FAKE(amd_leaves), 1) : fake_source(&f, FAKE(intel_leaves), 1);
    *family = *model = *stepping = ~0u;
    if (beat_cpuid_decode(&src, 0, &info) == BEAT_OK) {
        *family = info.family;
        *model = info.model;
        *stepping = info.stepping;
    }
}

static void extended_family_and_model_follow_each_vendors_rule(void)
{
    static const struct {
        int amd;
        uint32_t eax;
        unsigned family, model, stepping;
    } cases[] = {
        {0, 0x000b06a2u, 6, 0xba, 2},    // Raptor Lake: family 6 takes the extended model
        {0, 0x00050654u, 6, 0x55, 4},    // Skylake-SP
        {1, 0x00a00f11u, 0x19, 0x01, 1}, // Zen 3: 0xF + extended family 0xA
        {1, 0x00800f82u, 0x17, 0x08, 2}, // Zen+
        {1, 0x00010660u, 6, 0x06, 0},    // AMD family 6 ignores the extended model
        {0, 0x00010660u, 6, 0x16, 0},    // ... which Intel adds
        {0, 0x00000f41u, 0xf, 0x04, 1},  // Pentium 4: family 0xF, extended family 0
        {0, 0x0ff00f00u, 0x10e, 0, 0},   // largest extended family
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned family, model, stepping;
        decode_signature(cases[i].amd, cases[i].eax, &family, &model, &stepping);
        CHECK_MSG(
            family == cases[i].family && model == cases[i].model && stepping == cases[i].stepping,
            "eax %#x: family %#x model %#x stepping %u", cases[i].eax, family, model, stepping);
    }
}

// Max leaf 1 and max extended leaf 0x80000001, but answers everywhere.
static const fake_leaf low_max_leaves[] = {
    {0, 0, {1, INTEL}},
    {1, 0, {0x000b06a2u, 0x07000000u, 1u << 23, 1u << 26}},
    {4, 0, {LEAF4_EAX(1, 1, 2, 1), LEAF4_EBX(8, 64), 63, 0}},
    {7, 0, {0, 1u << 5 | 1u << 8, 0, 1u << 15}},
    {0xb, 0, {1, 2, 0x100, 0x42}},
    {0x1a, 0, {0x40000000u, 0, 0, 0}},
    {0x80000000u, 0, {0x80000001u, 0, 0, 0}},
    {0x80000001u, 0, {0, 0, 1u << 5, 0}},
    {0x80000002u, 0, {0x41414141u, 0x41414141u, 0x41414141u, 0x41414141u}},
};
static const fake_leaf no_ext_range_leaves[] = {
    {0, 0, {1, INTEL}},
    {0x80000000u, 0, {0x16, 0, 0, 0}}, // not an extended range
    {0x80000001u, 0, {0, 0, 1u << 5, 0}},
};

static void leaves_above_the_max_are_never_asked(void)
{
    fake_cpu f;
    beat_cpu_info info;
    beat_cpuid_source src = fake_source(&f, FAKE(low_max_leaves), 1);
    CHECK_EQ(beat_cpuid_decode(&src, 0, &info), BEAT_OK);
    CHECK_EQ(info.max_leaf, 1);
    CHECK_EQ(info.max_ext_leaf, 0x80000001u);
    CHECK_EQ(f.max_asked, 1);
    CHECK_EQ(f.max_ext_asked, 0x80000001u);
    CHECK(info.features & BEAT_CPU_FEATURE_POPCNT);
    CHECK(info.features & BEAT_CPU_FEATURE_LZCNT);
    CHECK_EQ(info.features &
                 (BEAT_CPU_FEATURE_AVX2 | BEAT_CPU_FEATURE_BMI2 | BEAT_CPU_FEATURE_HYBRID),
             0);
    CHECK_EQ(info.ncaches, 0);
    CHECK_EQ(info.core_type, BEAT_CORE_TYPE_UNKNOWN);
    CHECK_EQ(info.apic_id, 7); // the initial id: 0xB is above the max
    CHECK_EQ(info.brand[0], '\0');

    src = fake_source(&f, FAKE(no_ext_range_leaves), 1);
    CHECK_EQ(beat_cpuid_decode(&src, 0, &info), BEAT_OK);
    CHECK_EQ(info.max_ext_leaf, 0);
    CHECK_EQ(f.max_ext_asked, 0x80000000u);
    CHECK_EQ(info.features & BEAT_CPU_FEATURE_LZCNT, 0);
}

static void a_source_without_cpuid_is_unsupported(void)
{
    fake_cpu f;
    beat_cpu_info info;
    beat_topology t;
    beat_cpuid_source src = fake_source(&f, NULL, 0, 4);
    CHECK_EQ(beat_cpuid_decode(&src, 0, &info), BEAT_ERROR_UNSUPPORTED);
    CHECK_EQ(beat_topology_from_cpuid(&src, &t), BEAT_ERROR_UNSUPPORTED);
    CHECK_EQ(t.npus, 0);
}

static void bad_arguments_are_rejected(void)
{
    fake_cpu f;
    beat_cpu_info info;
    beat_topology t;
    beat_cpuid_source src = fake_source(&f, FAKE(avx512_leaves), 2);
    beat_cpuid_source no_query = src;
    no_query.query = NULL;
    CHECK_EQ(beat_cpuid_decode(NULL, 0, &info), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_cpuid_decode(&src, 0, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_cpuid_decode(&src, 2, &info), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_cpuid_decode(&no_query, 0, &info), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_topology_from_cpuid(NULL, &t), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_topology_from_cpuid(&src, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    src.npus = 0;
    CHECK_EQ(beat_topology_from_cpuid(&src, &t), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_cpu_detect(NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_cpuid_dump_load(NULL, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    beat_cpuid_dump_free(NULL);
    CHECK(beat_cpuid_dump_source(NULL).query == NULL);
}

static void arm_hwcaps_map_to_neon_and_sve(void)
{
    CHECK_EQ(beat__cpu_arm_features(1ul << 1, 0, 1), BEAT_CPU_FEATURE_NEON);
    CHECK_EQ(beat__cpu_arm_features(1ul << 1 | 1ul << 22, 1ul << 1, 1),
             BEAT_CPU_FEATURE_NEON | BEAT_CPU_FEATURE_SVE | BEAT_CPU_FEATURE_SVE2);
    CHECK_EQ(beat__cpu_arm_features(0, 0, 1), 0);
    CHECK_EQ(beat__cpu_arm_features(1ul << 12, 0, 0), BEAT_CPU_FEATURE_NEON);
    CHECK_EQ(beat__cpu_arm_features(1ul << 1, 0, 0), 0);
}

// ---------------------------------------------------------------------------
// The live CPU

static void live_cpu_agrees_with_the_compilers_detection(void)
{
    beat_cpu_info info;
    beat_cpuid_source live = beat_cpuid_live();
    CHECK_EQ(live.npus, 1);
#if BEAT__ARCH_X86
    CHECK_EQ(beat_cpu_detect(&info), BEAT_OK);
    bt_note("%s, %s, family %#x model %#x, features %#llx, xcr0 %#llx, %u caches", info.vendor,
            info.brand, info.family, info.model, (unsigned long long)info.features,
            (unsigned long long)info.xcr0, info.ncaches);
    CHECK(info.vendor[0] != '\0');
    __builtin_cpu_init();
    CHECK_EQ(!!(info.features & BEAT_CPU_FEATURE_SSE2), !!__builtin_cpu_supports("sse2"));
    CHECK_EQ(!!(info.features & BEAT_CPU_FEATURE_AVX2), !!__builtin_cpu_supports("avx2"));
    CHECK_EQ(!!(info.features & BEAT_CPU_FEATURE_AVX512F), !!__builtin_cpu_supports("avx512f"));
    CHECK_EQ(!!(info.features & BEAT_CPU_FEATURE_FMA), !!__builtin_cpu_supports("fma"));
    CHECK_EQ(!!(info.features & BEAT_CPU_FEATURE_BMI2), !!__builtin_cpu_supports("bmi2"));
    CHECK_EQ(!!(info.features & BEAT_CPU_FEATURE_POPCNT), !!__builtin_cpu_supports("popcnt"));
    beat_topology t;
    CHECK_EQ(beat_topology_from_cpuid(&live, &t), BEAT_OK);
    unsigned pus = t.npus;
    beat_topology_release(&t);
    CHECK_EQ(pus, 1);
#else
    CHECK_EQ(beat_cpuid_decode(&live, 0, &info), BEAT_ERROR_UNSUPPORTED);
    beat_result r = beat_cpu_detect(&info);
    CHECK(r == BEAT_OK || r == BEAT_ERROR_UNSUPPORTED);
#endif
}

// ---------------------------------------------------------------------------
// Dump files: what is accepted, and clean errors for the rest

static const char good_pu0[] = "# mask e[abcd]x => e[abcd]x\n"
                               "1 0 0 0 0 => 1 756e6547 6c65746e 49656e69\n"
                               "\n"
                               "  # an indented comment\r\n"
                               "1 1 0 0 0 => 906a0 0 0 4000000\r\n"
                               "\t5 4 0 0 0 =>  FC004121 1C0003F 3F 0 \n"
                               "5 4 0 1 0 => 0 0 0 0\n"
                               "1 4 0 0 0 => 1 1 1 1\n"
                               "1 80000000 0 0 0 => 80000000 0 0 0";

static void dump_files_accept_comments_blanks_crlf_and_mixed_case(void)
{
    char dir[64];
    make_temp_dir(dir, sizeof dir);
    write_text(dir, "pu0", good_pu0);
    write_text(dir, "hwloc-cpuid-info", "Architecture: x86\n");
    beat_cpuid_dump *dump;
    char msg[128];
    beat_result r = beat_cpuid_dump_load_msg(dir, &dump, msg, sizeof msg);
    remove_tree(dir);
    CHECK_MSG(r == BEAT_OK, "%s", msg);
    CHECK_EQ(msg[0], '\0');
    beat_cpuid_source src = beat_cpuid_dump_source(dump);
    uint32_t regs[4];
    src.query(src.user, 0, 4, 0, regs); // masked lines: first match wins
    CHECK_EQ(regs[0], 0xfc004121u);
    CHECK_EQ(regs[1], 0x1c0003fu);
    src.query(src.user, 0, 4, 7, regs); // mask 1: any subleaf
    CHECK_EQ(regs[0], 1);
    src.query(src.user, 0, 0x15, 0, regs); // not in the file: zeros
    CHECK_EQ(regs[0] | regs[1] | regs[2] | regs[3], 0);
    beat_cpu_info info;
    CHECK_EQ(beat_cpuid_decode(&src, 0, &info), BEAT_OK);
    CHECK_EQ(src.npus, 1);
    CHECK(strcmp(info.vendor, "GenuineIntel") == 0);
    CHECK_EQ(info.family, 6);
    CHECK_EQ(info.model, 0x9a);
    CHECK(info.features & BEAT_CPU_FEATURE_SSE2);
    beat_cpuid_dump_free(dump);
}

static void sparse_pu_numbers_keep_their_os_index(void)
{
    char dir[64];
    make_temp_dir(dir, sizeof dir);
    write_text(dir, "pu0", good_pu0);
    write_text(dir, "pu5", good_pu0);
    write_text(dir, "pu01", "garbage: not a PU file name\n");
    write_text(dir, "pux", "garbage\n");
    beat_cpuid_dump *dump;
    beat_result r = beat_cpuid_dump_load(dir, &dump);
    remove_tree(dir);
    CHECK_EQ(r, BEAT_OK);
    beat_cpuid_source src = beat_cpuid_dump_source(dump);
    beat_cpu_info info;
    beat_topology t;
    CHECK_EQ(src.npus, 6);
    CHECK_EQ(beat_cpuid_decode(&src, 3, &info), BEAT_ERROR_UNSUPPORTED);
    CHECK_EQ(beat_cpuid_decode(&src, 5, &info), BEAT_OK);
    r = beat_topology_from_cpuid(&src, &t);
    unsigned pus = t.npus, last = r == BEAT_OK ? t.pus[1].os_index : 0;
    beat_topology_release(&t);
    beat_cpuid_dump_free(dump);
    CHECK_EQ(r, BEAT_OK);
    CHECK_EQ(pus, 2);
    CHECK_EQ(last, 5);
}

// Loads dir/pu0 = text; expects PARSE naming the file and line.
static void expect_parse_error(const char *text, size_t len, unsigned line)
{
    char dir[64], msg[256], where[96];
    make_temp_dir(dir, sizeof dir);
    write_file(dir, "pu0", text, len);
    static char sentinel;
    beat_cpuid_dump *dump = (beat_cpuid_dump *)(void *)&sentinel; // must become NULL
    beat_result r = beat_cpuid_dump_load_msg(dir, &dump, msg, sizeof msg);
    snprintf(where, sizeof where, "%s/pu0:%u: ", dir, line);
    remove_tree(dir);
    CHECK_MSG(r == BEAT_ERROR_PARSE, "%s: got %s (%s)", text, beat_result_string(r), msg);
    CHECK(dump == NULL);
    CHECK_MSG(strncmp(msg, where, strlen(where)) == 0, "message '%s', want '%s...'", msg, where);
}

static void malformed_lines_are_parse_errors_naming_file_and_line(void)
{
    static const struct {
        const char *text;
        unsigned line;
    } cases[] = {
        {"1 0 0 0 0 => 1g 0 0 0\n", 1},        // bad hex
        {"# ok\n1 0 0 0 0 10 0 0 0\n", 2},     // missing =>
        {"1 0 0 0 => 1 2 3 4\n", 1},           // too few inputs
        {"1 0 0 0 0 => 1 2 3\n", 1},           // too few outputs
        {"1 0 0 0 0 => 1 2 3 4 5\n", 1},       // too many
        {"1 100000000 0 0 0 => 1 2 3 4\n", 1}, // over 32 bits
        {"10 0 0 0 0 => 1 2 3 4\n", 1},        // mask bit 4
        {"1 0 0 0 0 = > 1 2 3 4\n", 1},        // broken arrow
        {"1 0 0 0 0 => 0x1 2 3 4\n", 1},       // prefixes are not hex
        {"1 0 0 0 0 => 1 2 3 4\n\n\n-1 0 0 0 0 => 0 0 0 0", 4},
        {"1 0 0 0 0 =>\n", 1},
        {"=>\n", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_parse_error(cases[i].text, strlen(cases[i].text), cases[i].line);
        if (bt_case_failed)
            return;
    }
    static const char nul[] = "1 0 0 0 0 => 1 2 3 4\n1 1 0\0 0 0 => 1 2 3 4\n";
    expect_parse_error(nul, sizeof nul - 1, 2);
}

static void missing_empty_and_unreadable_dumps_are_clean_errors(void)
{
    char dir[64], msg[256], sub[96];
    beat_cpuid_dump *dump;
    CHECK_EQ(beat_cpuid_dump_load("/nonexistent/beat/dump", &dump), BEAT_ERROR_IO);
    CHECK(dump == NULL);
    make_temp_dir(dir, sizeof dir);
    beat_result empty = beat_cpuid_dump_load_msg(dir, &dump, msg, sizeof msg);
    CHECK_MSG(strstr(msg, "no puN file") != NULL, "%s", msg);
    snprintf(sub, sizeof sub, "%s/pu0", dir);
    mkdir(sub, 0700); // a directory where a file should be
    beat_result unreadable = beat_cpuid_dump_load(dir, &dump);
    rmdir(sub);
    write_text(dir, "pu65536", "1 0 0 0 0 => 1 0 0 0\n");
    beat_result too_high = beat_cpuid_dump_load(dir, &dump);
    remove_tree(dir);
    CHECK_EQ(empty, BEAT_ERROR_PARSE);
    CHECK_EQ(unreadable, BEAT_ERROR_IO);
    CHECK_EQ(too_high, BEAT_ERROR_PARSE);
    CHECK(dump == NULL);
}

static void message_buffer_is_cut_and_terminated(void)
{
    char msg[8];
    beat_cpuid_dump *dump;
    memset(msg, 'x', sizeof msg);
    CHECK_EQ(beat_cpuid_dump_load_msg("/nonexistent/beat/dump", &dump, msg, sizeof msg),
             BEAT_ERROR_IO);
    CHECK_EQ(strlen(msg), sizeof msg - 1);
    CHECK_EQ(beat_cpuid_dump_load_msg("/nonexistent", &dump, msg, 0), BEAT_ERROR_IO);
}

// A dump far larger than any real one (1 MB of comments around the
// queries) loads; one over the 16 MiB limit is refused without reading it
// all into memory.
static void large_files_load_and_huge_ones_are_refused(void)
{
    char dir[64], path[96];
    size_t big = BT_SCALE((size_t)4 << 20, (size_t)1 << 20);
    make_temp_dir(dir, sizeof dir);
    char *text = (char *)malloc(big + sizeof good_pu0);
    size_t len = 0;
    while (len + 64 < big)
        len += (size_t)sprintf(text + len, "# padding line %zu of a large dump\n", len);
    memcpy(text + len, good_pu0, sizeof good_pu0);
    write_file(dir, "pu0", text, len + sizeof good_pu0 - 1);
    free(text);
    beat_cpuid_dump *dump;
    beat_result large = beat_cpuid_dump_load(dir, &dump);
    beat_cpu_info info;
    beat_cpuid_source src = beat_cpuid_dump_source(dump);
    beat_result decoded = large == BEAT_OK ? beat_cpuid_decode(&src, 0, &info) : large;
    beat_cpuid_dump_free(dump);

    snprintf(path, sizeof path, "%s/pu1", dir);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    int sized = fd >= 0 && ftruncate(fd, (off_t)17 << 20) == 0;
    if (fd >= 0)
        close(fd);
    char msg[256];
    beat_result huge = beat_cpuid_dump_load_msg(dir, &dump, msg, sizeof msg);
    remove_tree(dir);
    bt_note("%zu-byte dump: %s; 17 MiB dump: %s", len, beat_result_string(large), msg);
    CHECK_EQ(large, BEAT_OK);
    CHECK_EQ(decoded, BEAT_OK);
    CHECK(sized);
    CHECK_EQ(huge, BEAT_ERROR_PARSE);
    CHECK(strstr(msg, "16 MiB") != NULL);
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(raptor_lake_hybrid_dump_matches_hwloc),
        BT_CASE(zen3_two_socket_dump_matches_hwloc),
        BT_CASE(skylake_two_socket_dump_matches_hwloc),
        BT_CASE(leaf_1a_core_types_use_the_first_pus_range),
        BT_CASE(legacy_cpu_without_leaf_0xb_uses_leaves_1_and_4),
        BT_CASE(leaf_0x1f_dies_split_a_package),
        BT_CASE(old_amd_without_topology_extensions_uses_legacy_leaves),
        BT_CASE(avx512_is_off_when_xcr0_does_not_enable_it),
        BT_CASE(avx_is_off_and_xgetbv_unasked_without_osxsave),
        BT_CASE(extended_family_and_model_follow_each_vendors_rule),
        BT_CASE(leaves_above_the_max_are_never_asked),
        BT_CASE(a_source_without_cpuid_is_unsupported),
        BT_CASE(bad_arguments_are_rejected),
        BT_CASE(arm_hwcaps_map_to_neon_and_sve),
        BT_CASE(live_cpu_agrees_with_the_compilers_detection),
        BT_CASE(dump_files_accept_comments_blanks_crlf_and_mixed_case),
        BT_CASE(sparse_pu_numbers_keep_their_os_index),
        BT_CASE(malformed_lines_are_parse_errors_naming_file_and_line),
        BT_CASE(missing_empty_and_unreadable_dumps_are_clean_errors),
        BT_CASE(message_buffer_is_cut_and_terminated),
        BT_CASE(large_files_load_and_huge_ones_are_refused),
    };
    return BT_RUN(cases);
}
