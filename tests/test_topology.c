// Topology (src/topology.c, topo_build.c, cgroup.c, text.c): the CPU list,
// mask and size parsers on good and bad text; the builder's numbering and
// defaults; detection on synthetic /sys trees written here into a temporary
// directory (offline CPUs, missing and garbage files, an empty root, 4096
// and 8192 CPUs, old mask-only files, hybrid kinds, NUMA distances); cgroup
// v1 and v2 cpusets and quotas with odd values; and the live system.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"
#include "tree.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <sys/stat.h>

// ---------------------------------------------------------------------------
// Synthetic trees (tests/tree.h)

// Writes cpuN/<leaf> below root's sys/devices/system/cpu.
__attribute__((format(printf, 4, 5))) static void put_cpu(const char *root, unsigned cpu,
                                                          const char *leaf, const char *fmt, ...)
{
    char rel[256], text[4096];
    snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%u/%s", cpu, leaf);
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    put(root, rel, "%s", text);
}

// A machine of npkg packages x ncores cores x nsmt threads numbered like
// Intel's (thread t of global core c is CPU t * total_cores + c), with L1d,
// L1i and L2 per core, L3 per package, one NUMA node per package (distance
// 10 local, 21 remote), everything online.
static void tree_machine(const char *root, unsigned npkg, unsigned ncores, unsigned nsmt)
{
    unsigned total = npkg * ncores, ncpus = total * nsmt;
    put(root, "sys/devices/system/cpu/online", "0-%u\n", ncpus - 1);
    put(root, "sys/devices/system/cpu/possible", "0-%u\n", ncpus - 1);
    for (unsigned cpu = 0; cpu < ncpus; cpu++) {
        unsigned core = cpu % total, pkg = core / ncores;
        char siblings[256] = "", package[1024] = "";
        for (unsigned t = 0; t < nsmt; t++)
            snprintf(siblings + strlen(siblings), sizeof siblings - strlen(siblings), "%s%u",
                     t ? "," : "", t * total + core);
        for (unsigned t = 0; t < nsmt; t++)
            snprintf(package + strlen(package), sizeof package - strlen(package), "%s%u-%u",
                     t ? "," : "", t * total + pkg * ncores, t * total + pkg * ncores + ncores - 1);
        put_cpu(root, cpu, "topology/physical_package_id", "%u\n", pkg);
        put_cpu(root, cpu, "topology/die_id", "0\n");
        put_cpu(root, cpu, "topology/core_id", "%u\n", core % ncores);
        put_cpu(root, cpu, "topology/core_cpus_list", "%s\n", siblings);
        put_cpu(root, cpu, "topology/thread_siblings_list", "%s\n", siblings);
        static const char *const names[4][3] = {{"1", "Data", "48K"},
                                                {"1", "Instruction", "32K"},
                                                {"2", "Unified", "2048K"},
                                                {"3", "Unified", "32M"}};
        for (unsigned k = 0; k < 4; k++) {
            char leaf[64];
#define CACHE_FILE(name) (snprintf(leaf, sizeof leaf, "cache/index%u/" name, k), leaf)
            put_cpu(root, cpu, CACHE_FILE("level"), "%s\n", names[k][0]);
            put_cpu(root, cpu, CACHE_FILE("type"), "%s\n", names[k][1]);
            put_cpu(root, cpu, CACHE_FILE("size"), "%s\n", names[k][2]);
            put_cpu(root, cpu, CACHE_FILE("coherency_line_size"), "64\n");
            put_cpu(root, cpu, CACHE_FILE("shared_cpu_list"), "%s\n", k < 3 ? siblings : package);
#undef CACHE_FILE
        }
    }
    for (unsigned p = 0; p < npkg; p++) {
        char rel[128], list[1024] = "", distance[1024] = "";
        for (unsigned t = 0; t < nsmt; t++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%u-%u", t ? "," : "",
                     t * total + p * ncores, t * total + p * ncores + ncores - 1);
        for (unsigned q = 0; q < npkg; q++)
            snprintf(distance + strlen(distance), sizeof distance - strlen(distance), "%s%u",
                     q ? " " : "", p == q ? 10 : 21);
        snprintf(rel, sizeof rel, "sys/devices/system/node/node%u/cpulist", p);
        put(root, rel, "%s\n", list);
        snprintf(rel, sizeof rel, "sys/devices/system/node/node%u/distance", p);
        put(root, rel, "%s\n", distance);
    }
}

// Detects below root; fails the case unless it returns OK.
#define DETECT(root, topo)                                                                         \
    do {                                                                                           \
        beat_result detect_r_ = beat_topology_detect((root), (topo));                              \
        CHECK_MSG(detect_r_ == BEAT_OK, "beat_topology_detect(%s): %s", (root),                    \
                  beat_result_string(detect_r_));                                                  \
    } while (0)

static const beat_topo_pu *pu_of(const beat_topology *t, unsigned os)
{
    for (unsigned i = 0; i < t->npus; i++)
        if (t->pus[i].os_index == os)
            return &t->pus[i];
    return NULL;
}

// ---------------------------------------------------------------------------
// Parsers

static long cpulist(const char *text, uint64_t *bits, unsigned nbits)
{
    return beat__text_parse_cpulist(text, bits, nbits);
}

static void cpulist_parses_ranges_and_single_cpus(void)
{
    uint64_t bits[2];
    CHECK_EQ(cpulist("0-3,8,10-11\n", bits, 128), 7);
    CHECK_EQ(bits[0], 0xd0full);
    CHECK_EQ(cpulist("127", bits, 128), 1);
    CHECK_EQ(bits[1], 1ull << 63);
    CHECK_EQ(cpulist("64-65,0", bits, 128), 3);
    CHECK(bits[0] == 1 && bits[1] == 3);
}

static void cpulist_empty_blank_and_crlf_are_fine(void)
{
    uint64_t bits[1];
    CHECK_EQ(cpulist("", bits, 64), 0);
    CHECK_EQ(cpulist("\n", bits, 64), 0);
    CHECK_EQ(cpulist("  \n", bits, 64), 0);
    CHECK_EQ(cpulist("0-1\r\n", bits, 64), 2);
    CHECK_EQ(cpulist(" 5 \n", bits, 64), 1);
    CHECK_EQ(bits[0], 1u << 5);
}

static void cpulist_counts_repeated_cpus_once(void)
{
    uint64_t bits[1];
    CHECK_EQ(cpulist("1,1,0-2,2-2", bits, 64), 3);
    CHECK_EQ(bits[0], 7u);
}

static void cpulist_rejects_malformed_text(void)
{
    static const char *const bad[] = {"a",     "1-",  "-1",  "3-1", "1,,2",  "1 2",
                                      "1-2-3", ",1",  "1,",  "0x1", "1\n2",  "+1",
                                      "1\n\n", "1;2", "1-a", "\r1", "0-3,z", "1\r\r\n"};
    uint64_t bits[1];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(cpulist(bad[i], bits, 64) == -1, "accepted \"%s\"", bad[i]);
}

static void cpulist_rejects_cpus_beyond_the_bitmap_and_huge_numbers(void)
{
    static const char *const bad[] = {"64",
                                      "0-64",
                                      "63,64",
                                      "18446744073709551615",
                                      "18446744073709551616",
                                      "4294967296",
                                      "0-18446744073709551615",
                                      "99999999999999999999999999"};
    uint64_t bits[1];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(cpulist(bad[i], bits, 64) == -1, "accepted \"%s\"", bad[i]);
    CHECK_EQ(cpulist("63", bits, 64), 1);
    CHECK_EQ(cpulist("0-63", bits, 64), 64);
    CHECK_EQ(bits[0], ~0ull);
}

static void cpulist_max_sees_the_largest_number(void)
{
    unsigned long long max = 0;
    CHECK(beat__text_cpulist_max("0-3,8190,12\n", &max));
    CHECK_EQ(max, 8190);
    CHECK(!beat__text_cpulist_max("", &max));
    CHECK(!beat__text_cpulist_max("99999999999999999999999", &max));
}

static void cpumask_parses_hex_words_most_significant_first(void)
{
    uint64_t bits[2];
    CHECK_EQ(beat__text_parse_cpumask("00000000,00000101\n", bits, 128), 2);
    CHECK_EQ(bits[0], 0x101u);
    CHECK_EQ(beat__text_parse_cpumask("1,00000000,00000000", bits, 128), 1);
    CHECK(bits[0] == 0 && bits[1] == 1);
    CHECK_EQ(beat__text_parse_cpumask("ff", bits, 128), 8);
    CHECK_EQ(beat__text_parse_cpumask("00000000,00000000,00000000,00000000,00000010", bits, 64), 1);
    static const char *const bad[] = {"",    "xyz", "1,,2", "123456789", "1,00000000,00000000,0",
                                      "f g", ",1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(beat__text_parse_cpumask(bad[i], bits, 64) == -1, "accepted \"%s\"", bad[i]);
}

static void size_parser_reads_sysfs_cache_sizes(void)
{
    static const struct {
        const char *text;
        unsigned long long bytes;
    } good[] = {{"32K\n", 32768},    {"4096K", 4194304},
                {"24M\n", 25165824}, {"1G", 1073741824},
                {"512", 512},        {"0K", 0},
                {" 48K\r\n", 49152}, {"17179869183G", 17179869183ull << 30}};
    unsigned long long v;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_MSG(beat__text_parse_size(good[i].text, &v), "rejected \"%s\"", good[i].text);
        CHECK_EQ(v, good[i].bytes);
    }
    static const char *const bad[] = {"",
                                      "K",
                                      "32KB",
                                      "-1",
                                      "32 K",
                                      "32T",
                                      "1.5M",
                                      "0x20",
                                      "18446744073709551615K",
                                      "17179869184G"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(!beat__text_parse_size(bad[i], &v), "accepted \"%s\"", bad[i]);
}

// ---------------------------------------------------------------------------
// The builder

static beat__raw_pu raw_pu(unsigned os, long pkg, long core)
{
    beat__raw_pu pu;
    beat__topo_raw_init(&pu, os);
    pu.package_id = pkg;
    pu.core_id = core;
    return pu;
}

static void build_numbers_objects_by_their_lowest_os_cpu(void)
{
    // Given backwards, package id 7 holds CPU 0: it becomes package 0.
    beat__raw_pu pus[4] = {raw_pu(3, 3, 1), raw_pu(2, 7, 1), raw_pu(1, 3, 0), raw_pu(0, 7, 0)};
    pus[0].cache_key[2] = 1; // CPUs 1 and 3 share an L2
    pus[2].cache_key[2] = 1;
    beat_topology t;
    CHECK_EQ(beat__topo_build(pus, 4, NULL, &t), BEAT_OK);
    CHECK_EQ(t.npackages, 2);
    CHECK_EQ(t.ncores, 4);
    for (unsigned i = 0; i < 4; i++)
        CHECK_EQ(t.pus[i].os_index, i);
    CHECK(t.pus[0].package == 0 && t.pus[2].package == 0);
    CHECK(t.pus[1].package == 1 && t.pus[3].package == 1);
    CHECK(t.pus[1].l2 == 0 && t.pus[3].l2 == 0 && t.pus[0].l2 == BEAT_TOPO_NONE);
    CHECK_EQ(t.ncaches, 1);
    CHECK_EQ(t.caches[0].npus, 2);
    CHECK(t.nnodes == 1 && t.pus[2].node == 0 && t.distances[0] == 10);
    beat_topology_release(&t);
}

static void build_survives_empty_and_unusable_input(void)
{
    beat_topology t;
    CHECK_EQ(beat__topo_build(NULL, 0, NULL, &t), BEAT_OK);
    CHECK(t.npus == 1 && t.npus_online == 1 && t.npus_allowed == 1 && t.default_workers == 1);
    CHECK(t.npackages == 1 && t.ncores == 1 && t.nnodes == 1);
    beat_topology_release(&t);

    beat__raw_pu pus[3] = {raw_pu(0, -1, -1), raw_pu(5, -7, -1), raw_pu(5, -1, -1)};
    for (int i = 0; i < 3; i++)
        pus[i].online = pus[i].allowed = 0;
    CHECK_EQ(beat__topo_build(pus, 3, NULL, &t), BEAT_OK);
    CHECK_EQ(t.npus, 2); // os 5 repeated: kept once
    CHECK(t.npus_online == 2 && t.npus_allowed == 2);
    CHECK_EQ(t.npackages, 1); // unknown package ids: one package
    CHECK_EQ(t.ncores, 2);    // no core ids: a core each
    CHECK(t.pus[0].smt == 0 && t.pus[1].smt == 0);
    beat_topology_release(&t);
}

static void build_groups_smt_siblings_by_core_key(void)
{
    beat__raw_pu pus[4] = {raw_pu(0, 0, 5), raw_pu(1, 0, 5), raw_pu(2, 0, 5), raw_pu(3, 0, 5)};
    pus[0].core_key = pus[2].core_key = 1;
    pus[1].core_key = pus[3].core_key = 2;
    pus[3].allowed = 0;
    beat_topology t;
    CHECK_EQ(beat__topo_build(pus, 4, NULL, &t), BEAT_OK);
    CHECK_EQ(t.ncores, 2);
    CHECK(t.pus[0].core == 0 && t.pus[2].core == 0 && t.pus[1].core == 1);
    CHECK(t.pus[0].smt == 0 && t.pus[2].smt == 1 && t.pus[3].smt == 1);
    CHECK(t.cores[1].npus == 2 && t.cores[1].nallowed == 1 && t.cores[0].os_core_id == 5);
    CHECK_EQ(t.npus_allowed, 3);
    beat_topology_release(&t);
}

static void build_maps_distances_and_memory_only_nodes(void)
{
    beat__raw_pu pus[2] = {raw_pu(0, 0, 0), raw_pu(1, 1, 0)};
    pus[0].node_os = 3; // CPU 0 is on node 3, CPU 1 on node 1; node 2 has no CPU
    pus[1].node_os = 1;
    const unsigned node_os[3] = {1, 2, 3};
    const unsigned distances[9] = {10, 15, 20, 15, 10, 25, 20, 25, 10};
    beat__raw_machine m;
    memset(&m, 0, sizeof m);
    m.node_os = node_os;
    m.nnodes = 3;
    m.distances = distances;
    beat_topology t;
    CHECK_EQ(beat__topo_build(pus, 2, &m, &t), BEAT_OK);
    CHECK_EQ(t.nnodes, 3);
    CHECK(t.nodes[0].os_index == 3 && t.nodes[1].os_index == 1 && t.nodes[2].os_index == 2);
    CHECK(t.nodes[0].npus == 1 && t.nodes[2].npus == 0);
    CHECK(t.pus[0].node == 0 && t.pus[1].node == 1);
    CHECK_EQ(t.distances[0 * 3 + 1], 20); // node 3 to node 1
    CHECK_EQ(t.distances[1 * 3 + 2], 15); // node 1 to node 2
    CHECK_EQ(t.distances[2 * 3 + 0], 25); // node 2 to node 3
    CHECK_EQ(t.distances[2 * 3 + 2], 10);
    beat_topology_release(&t);

    m.distances = NULL; // silent source: 10 local, 20 remote
    CHECK_EQ(beat__topo_build(pus, 2, &m, &t), BEAT_OK);
    CHECK(t.distances[0] == 10 && t.distances[1] == 20 && t.distances[4] == 10);
    beat_topology_release(&t);
}

static void build_caps_default_workers_by_the_quota(void)
{
    static const struct {
        double quota;
        unsigned workers;
        double kept;
    } cases[] = {{0.0, 4, 0.0}, {0.5, 1, 0.5},   {1.0, 1, 1.0},  {2.5, 3, 2.5},
                 {4.0, 4, 4.0}, {64.0, 4, 64.0}, {-1.0, 4, 0.0}, {1e300, 4, 0.0}};
    beat__raw_pu pus[4] = {raw_pu(0, 0, 0), raw_pu(1, 0, 1), raw_pu(2, 0, 2), raw_pu(3, 0, 3)};
    beat__raw_machine m;
    memset(&m, 0, sizeof m);
    beat_topology t;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        m.cpu_quota = cases[i].quota;
        m.cgroup_version = 2;
        CHECK_EQ(beat__topo_build(pus, 4, &m, &t), BEAT_OK);
        CHECK_MSG(t.default_workers == cases[i].workers && t.cpu_quota == cases[i].kept,
                  "quota %g: %u workers, quota kept %g", cases[i].quota, t.default_workers,
                  t.cpu_quota);
        CHECK_EQ(t.cgroup_version, 2);
        beat_topology_release(&t);
    }
    m.cpu_quota = 0.0 / 0.0; // NaN
    CHECK_EQ(beat__topo_build(pus, 4, &m, &t), BEAT_OK);
    CHECK(t.default_workers == 4 && t.cpu_quota == 0.0);
    beat_topology_release(&t);
}

static void build_flags_hybrid_only_with_two_kinds(void)
{
    beat__raw_pu pus[3] = {raw_pu(0, 0, 0), raw_pu(1, 0, 1), raw_pu(2, 0, 2)};
    pus[0].type = BEAT_CORE_TYPE_PERFORMANCE;
    pus[1].type = BEAT_CORE_TYPE_PERFORMANCE;
    pus[2].type = 9; // nonsense: unknown
    beat_topology t;
    CHECK_EQ(beat__topo_build(pus, 3, NULL, &t), BEAT_OK);
    CHECK(!t.hybrid && t.pus[2].type == BEAT_CORE_TYPE_UNKNOWN);
    beat_topology_release(&t);
    pus[2].type = BEAT_CORE_TYPE_EFFICIENCY;
    CHECK_EQ(beat__topo_build(pus, 3, NULL, &t), BEAT_OK);
    CHECK(t.hybrid && t.cores[2].type == BEAT_CORE_TYPE_EFFICIENCY);
    beat_topology_release(&t);
}

// ---------------------------------------------------------------------------
// Detection on synthetic trees

static void sysfs_small_machine_is_read_completely(void)
{
    const char *root = tree_new();
    tree_machine(root, 2, 2, 2); // CPUs 0-3 first threads, 4-7 second threads
    beat_topology t;
    DETECT(root, &t);
    CHECK(t.npackages == 2 && t.ncores == 4 && t.npus == 8 && t.npus_online == 8);
    CHECK(t.nnodes == 2 && t.ndies == 2 && t.nclusters == 2);
    CHECK_EQ(t.ncaches, 4 + 4 + 2); // L1d and L2 per core, L3 per package
    const beat_topo_pu *p5 = pu_of(&t, 5);
    CHECK(p5 != NULL && p5->core == 1 && p5->smt == 1 && p5->package == 0 && p5->node == 0);
    CHECK(p5->l2 == 1 && p5->l3 == 0 && p5->l1 == 1);
    CHECK(pu_of(&t, 2)->package == 1 && pu_of(&t, 2)->l3 == 1 && pu_of(&t, 6)->node == 1);
    const beat_topo_cache *l3 = &t.caches[t.ncaches - 2];
    CHECK(l3->level == 3 && l3->size == 32u << 20 && l3->line_size == 64 && l3->npus == 4);
    CHECK(l3->unified && t.caches[0].level == 1 && !t.caches[0].unified);
    CHECK_EQ(t.caches[0].size, 48 * 1024);
    CHECK(t.distances[1] == 21 && t.distances[3] == 10);
    CHECK(t.cores[3].package == 1 && t.cores[3].os_core_id == 1 && t.cores[3].npus == 2);
    CHECK(!t.hybrid && t.cgroup_version == 0 && t.cpu_quota == 0.0);
    CHECK_EQ(t.default_workers, 8);
    CHECK_EQ(beat__topology_default_workers(root), 8);
    beat_topology_release(&t);
    beat_topology_release(&t); // twice is harmless
    beat_topology_release(NULL);
}

static void sysfs_offline_cpus_are_listed_but_not_used(void)
{
    const char *root = tree_new();
    tree_machine(root, 1, 4, 1);
    put(root, "sys/devices/system/cpu/online", "0-1,3\n");
    beat_topology t;
    DETECT(root, &t);
    CHECK(t.npus == 4 && t.npus_online == 3 && t.npus_allowed == 3 && t.ncores == 3);
    const beat_topo_pu *p2 = pu_of(&t, 2);
    CHECK(!p2->online && !p2->allowed && p2->core == BEAT_TOPO_NONE && p2->l2 == BEAT_TOPO_NONE);
    CHECK(p2->package == BEAT_TOPO_NONE && p2->node == BEAT_TOPO_NONE);
    CHECK_EQ(pu_of(&t, 3)->core, 2);
    CHECK_EQ(t.nodes[0].npus, 3);
    CHECK_EQ(t.default_workers, 3);
    beat_topology_release(&t);

    // Without the online list, cpuN/online decides (cpu0 has none: online).
    put(root, "sys/devices/system/cpu/online", "garbage\n");
    put_cpu(root, 1, "online", "0\n");
    put_cpu(root, 2, "online", "1\n");
    DETECT(root, &t);
    CHECK(t.npus_online == 3 && !pu_of(&t, 1)->online && pu_of(&t, 2)->online);
    beat_topology_release(&t);
}

static void sysfs_missing_files_give_the_defaults(void)
{
    const char *root = tree_new();
    for (int cpu = 0; cpu < 3; cpu++) {
        char rel[64];
        snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%d", cpu);
        put_dir(root, rel);
    }
    put_dir(root, "sys/devices/system/cpu/cpufreq"); // not a CPU
    beat_topology t;
    DETECT(root, &t);
    CHECK(t.npus == 3 && t.npus_online == 3 && t.npus_allowed == 3);
    CHECK(t.npackages == 1 && t.ndies == 1 && t.nclusters == 1 && t.ncores == 3);
    CHECK(t.ncaches == 0 && t.pus[0].l1 == BEAT_TOPO_NONE && t.pus[2].l3 == BEAT_TOPO_NONE);
    CHECK(t.nnodes == 1 && t.nodes[0].os_index == 0 && t.nodes[0].npus == 3);
    CHECK(t.distances[0] == 10 && t.pus[1].node == 0);
    CHECK(t.cores[0].os_core_id == BEAT_TOPO_NONE && !t.hybrid);
    CHECK(t.cgroup_version == 0 && t.default_workers == 3);
    beat_topology_release(&t);
}

static void sysfs_garbage_files_never_crash(void)
{
    static const char *const junk[] = {"",
                                       "\n",
                                       "zz",
                                       "-5\n",
                                       "9",
                                       "0-",
                                       "1,,2",
                                       "\x01\xff",
                                       "4294967296\n",
                                       "-1\n",
                                       "3-1\n",
                                       "huge\n",
                                       "99999999999999999999999\n"};
    static const char *const files[] = {"topology/physical_package_id",
                                        "topology/core_id",
                                        "topology/die_id",
                                        "topology/cluster_id",
                                        "topology/core_cpus_list",
                                        "topology/thread_siblings_list",
                                        "cache/index0/level",
                                        "cache/index0/type",
                                        "cache/index2/size",
                                        "cache/index2/shared_cpu_list",
                                        "cache/index3/coherency_line_size",
                                        "cache/index3/shared_cpu_list",
                                        "cpufreq/base_frequency"};
    const char *root = tree_new();
    tree_machine(root, 2, 2, 1);
    size_t nj = sizeof junk / sizeof junk[0], nf = sizeof files / sizeof files[0];
    unsigned runs = 0;
    for (size_t j = 0; j < nj; j++) {
        for (unsigned cpu = 0; cpu < 4; cpu++)
            for (size_t f = 0; f < nf; f++)
                put_cpu(root, cpu, files[(f + j + cpu) % nf], "%s", junk[(j + f) % nj]);
        put(root, "sys/devices/system/node/node1/distance", "%s", junk[j]);
        put(root, "sys/devices/system/node/node0/cpulist", "%s", junk[(j + 3) % nj]);
        put(root, "sys/devices/system/cpu/possible", "%s", junk[(j + 5) % nj]);
        beat_topology t;
        DETECT(root, &t);
        CHECK(t.npus == 4 && t.npus_online == 4 && t.npus_allowed >= 1 && t.nnodes >= 1);
        for (unsigned i = 0; i < t.npus; i++)
            CHECK(t.pus[i].core < t.ncores && t.pus[i].package < t.npackages);
        beat_topology_release(&t);
        runs++;
    }
    bt_note("%u garbage variants of %zu files", runs, nf + 3);
}

static void sysfs_empty_or_missing_root_is_an_io_error(void)
{
    beat_topology t;
    memset(&t, 0xab, sizeof t);
    CHECK_EQ(beat_topology_detect(tree_new(), &t), BEAT_ERROR_IO);
    CHECK(t.npus == 0 && t.pus == NULL && t.beat__block == NULL); // zeroed
    CHECK_EQ(beat_topology_detect("/nonexistent/beat/root", &t), BEAT_ERROR_IO);
    CHECK_EQ(beat_topology_detect(NULL, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    // Nothing to read: the pool falls back to the affinity mask.
    CHECK_EQ(beat__topology_default_workers("/nonexistent/beat/root"), beat__cpus_allowed());
    const char *root = tree_new(); // the directory alone is enough
    put_dir(root, "sys/devices/system/cpu");
    CHECK_EQ(beat_topology_detect(root, &t), BEAT_OK);
    CHECK(t.npus == 1 && t.default_workers == 1);
    beat_topology_release(&t);
}

static void sysfs_4096_cpus_are_read(void)
{
    const char *root = tree_new();
    put(root, "sys/devices/system/cpu/online", "0-4095\n");
    put(root, "sys/devices/system/cpu/possible", "0-4095\n");
    for (unsigned cpu = 0; cpu < 4096; cpu++) {
        put_cpu(root, cpu, "topology/physical_package_id", "%u\n", cpu / 1024);
        put_cpu(root, cpu, "topology/core_id", "%u\n", cpu % 2048 % 512);
    }
    put(root, "sys/devices/system/node/node0/cpulist", "0-2047\n");
    put(root, "sys/devices/system/node/node1/cpulist", "2048-4095\n");
    double start = bt_seconds();
    beat_topology t;
    DETECT(root, &t);
    double took = bt_seconds() - start;
    // Core ids repeat every 512 CPUs within a package: 2 threads per core.
    CHECK(t.npus == 4096 && t.npus_online == 4096 && t.npackages == 4 && t.ncores == 2048);
    CHECK(t.nnodes == 2 && t.nodes[1].npus == 2048 && pu_of(&t, 4095)->node == 1);
    CHECK(pu_of(&t, 4095)->smt == 1 && pu_of(&t, 4095)->core == pu_of(&t, 3583)->core);
    CHECK_EQ(t.default_workers, 4096);
    beat_topology_release(&t);
    bt_note("4096 CPUs detected in %.1f ms", took * 1e3);
}

static void sysfs_8192_cpus_from_the_online_list_alone(void)
{
    const char *root = tree_new();
    put(root, "sys/devices/system/cpu/online", "0-8191\n");
    put(root, "sys/fs/cgroup/cpuset.cpus.effective", "8000-8191\n");
    put(root, "proc/self/cgroup", "0::/\n");
    beat_topology t;
    DETECT(root, &t);
    CHECK(t.npus == 8192 && t.npus_online == 8192 && t.ncores == 8192 && t.npus_allowed == 192);
    CHECK(pu_of(&t, 8191)->allowed && !pu_of(&t, 7999)->allowed);
    CHECK_EQ(t.default_workers, 192);
    CHECK_EQ(beat__topology_default_workers(root), 192);
    beat_topology_release(&t);
}

static void sysfs_old_kernels_mask_files_are_read(void)
{
    const char *root = tree_new();
    for (unsigned cpu = 0; cpu < 4; cpu++) {
        put_cpu(root, cpu, "topology/physical_package_id", "0\n");
        put_cpu(root, cpu, "topology/core_id", "0\n"); // misleading: the masks decide
        put_cpu(root, cpu, "topology/thread_siblings", "00000000,%08x\n", 5u << (cpu % 2));
        put_cpu(root, cpu, "cache/index2/level", "2\n");
        put_cpu(root, cpu, "cache/index2/type", "Unified\n");
        put_cpu(root, cpu, "cache/index2/shared_cpu_map", "0000000f\n");
    }
    put(root, "sys/devices/system/node/node0/cpumap", "0000000f\n");
    beat_topology t;
    DETECT(root, &t);
    CHECK(t.npus == 4 && t.ncores == 2 && pu_of(&t, 2)->core == 0 && pu_of(&t, 3)->core == 1);
    CHECK(t.ncaches == 1 && t.caches[0].npus == 4 && t.nodes[0].npus == 4);
    beat_topology_release(&t);
}

static void sysfs_hybrid_kinds_from_pmu_lists_or_frequencies(void)
{
    const char *root = tree_new();
    tree_machine(root, 1, 4, 1);
    put(root, "sys/devices/cpu_core/cpus", "0-1\n");
    put(root, "sys/devices/cpu_atom/cpus", "2-3\n");
    beat_topology t;
    DETECT(root, &t);
    CHECK(t.hybrid && t.pus[1].type == BEAT_CORE_TYPE_PERFORMANCE);
    CHECK(t.pus[2].type == BEAT_CORE_TYPE_EFFICIENCY &&
          t.cores[3].type == BEAT_CORE_TYPE_EFFICIENCY);
    beat_topology_release(&t);

    root = tree_new(); // no PMU lists: base frequencies, two values
    tree_machine(root, 1, 4, 1);
    for (unsigned cpu = 0; cpu < 4; cpu++) {
        put_cpu(root, cpu, "cpufreq/base_frequency", "%u\n", cpu == 2 ? 1400000 : 1900000);
        put_cpu(root, cpu, "cpu_capacity", "1024\n");
    }
    DETECT(root, &t);
    CHECK(t.hybrid && t.pus[2].type == BEAT_CORE_TYPE_EFFICIENCY);
    CHECK(t.pus[3].type == BEAT_CORE_TYPE_PERFORMANCE);
    beat_topology_release(&t);

    put_cpu(root, 2, "cpufreq/base_frequency", "1900000\n"); // one value: not hybrid
    DETECT(root, &t);
    CHECK(!t.hybrid && t.pus[2].type == BEAT_CORE_TYPE_UNKNOWN);
    beat_topology_release(&t);

    put_cpu(root, 0, "cpu_capacity", "512\n"); // big.LITTLE capacities
    DETECT(root, &t);
    CHECK(t.hybrid && t.pus[0].type == BEAT_CORE_TYPE_EFFICIENCY);
    beat_topology_release(&t);
}

static void sysfs_distance_rows_may_count_absent_nodes(void)
{
    const char *root = tree_new();
    tree_machine(root, 1, 2, 1);
    // Node 0 is offline (no directory); node 1's row still has two entries.
    char from[512], to[512];
    snprintf(from, sizeof from, "%s/sys/devices/system/node/node0", root);
    snprintf(to, sizeof to, "%s/sys/devices/system/node/node1", root);
    CHECK(rename(from, to) == 0);
    put(root, "sys/devices/system/node/node1/distance", "21 10\n");
    put(root, "sys/devices/system/node/node1/cpulist", "1\n");
    beat_topology t;
    DETECT(root, &t);
    CHECK(t.nnodes == 1 && t.nodes[0].os_index == 1 && t.distances[0] == 10);
    CHECK(pu_of(&t, 0)->node == BEAT_TOPO_NONE && pu_of(&t, 1)->node == 0);
    beat_topology_release(&t);
    put(root, "sys/devices/system/node/node1/distance", "10 20 30\n"); // nearer to node 0
    DETECT(root, &t);
    CHECK(t.distances[0] == 10);
    beat_topology_release(&t);
}

// ---------------------------------------------------------------------------
// Cgroups

// A 4-CPU machine in cgroup v2 group /a/b; cpu.max of the group and of its
// parent as given (NULL: no file).
static const char *tree_v2(const char *leaf_max, const char *parent_max)
{
    const char *root = tree_new();
    tree_machine(root, 1, 4, 1);
    put(root, "proc/self/cgroup", "0::/a/b\n");
    put_dir(root, "sys/fs/cgroup/a/b");
    if (leaf_max != NULL)
        put(root, "sys/fs/cgroup/a/b/cpu.max", "%s", leaf_max);
    if (parent_max != NULL)
        put(root, "sys/fs/cgroup/a/cpu.max", "%s", parent_max);
    return root;
}

static void cgroup_v2_quota_handles_odd_values(void)
{
    static const struct {
        const char *leaf, *parent;
        double quota;
        unsigned workers;
    } cases[] = {
        {"max 100000\n", NULL, 0.0, 4},
        {"50000 100000\n", NULL, 0.5, 1},
        {"150000 100000\n", NULL, 1.5, 2},
        {"200000\n", NULL, 2.0, 2}, // period left out: 100000
        {"garbage\n", NULL, 0.0, 4},
        {"100000 0\n", NULL, 0.0, 4},
        {"-1 100000\n", NULL, 0.0, 4},
        {"0 100000\n", NULL, 0.0, 4},
        {"99999999999999999999999 100000\n", NULL, 0.0, 4},
        {"18446744073709551615 1\n", NULL, 0.0, 4},
        {"100000 100000 7\n", NULL, 0.0, 4},
        {"", NULL, 0.0, 4},
        {NULL, NULL, 0.0, 4},
        {"max 100000\n", "100000 100000\n", 1.0, 1}, // the parent limits
        {"300000 100000\n", "200000 100000\n", 2.0, 2},
        {"100000 100000\n", "300000 100000\n", 1.0, 1},
        {NULL, "250000 100000\n", 2.5, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *root = tree_v2(cases[i].leaf, cases[i].parent);
        beat_topology t;
        DETECT(root, &t);
        CHECK_MSG(t.cpu_quota == cases[i].quota && t.default_workers == cases[i].workers,
                  "cpu.max \"%s\", parent \"%s\": quota %g, %u workers", cases[i].leaf,
                  cases[i].parent, t.cpu_quota, t.default_workers);
        CHECK(t.cgroup_version == 2 && t.npus_allowed == 4);
        CHECK_EQ(beat__topology_default_workers(root), cases[i].workers);
        beat_topology_release(&t);
    }
    bt_note("%zu cpu.max variants", sizeof cases / sizeof cases[0]);
}

static void a_pool_takes_its_default_worker_count_from_the_quota(void)
{
    const char *root = tree_v2("150000 100000\n", NULL); // 4 CPUs, 1.5 CPUs of time
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.sysfs_root = root;
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    CHECK_EQ(beat_pool_workers(pool), 2u);
    beat_pool_destroy(pool);
    cfg.workers = 3; // an explicit count is kept
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    CHECK_EQ(beat_pool_workers(pool), 3u);
    beat_pool_destroy(pool);
}

// A 4-CPU machine in cgroup v1 group /g (cpu controller at dir).
static const char *tree_v1(const char *dir, const char *quota, const char *period)
{
    const char *root = tree_new();
    tree_machine(root, 1, 4, 1);
    put(root, "proc/self/cgroup", "5:memory:/x\n4:cpu,cpuacct:/g\n3:cpuset:/g\n0::/\n");
    char rel[256];
    snprintf(rel, sizeof rel, "sys/fs/cgroup/%s/g/cpu.cfs_quota_us", dir);
    if (quota != NULL)
        put(root, rel, "%s", quota);
    snprintf(rel, sizeof rel, "sys/fs/cgroup/%s/g/cpu.cfs_period_us", dir);
    if (period != NULL)
        put(root, rel, "%s", period);
    return root;
}

static void cgroup_v1_quota_handles_odd_values(void)
{
    static const struct {
        const char *dir, *quota, *period;
        double cpus;
        unsigned workers;
    } cases[] = {
        {"cpu,cpuacct", "-1\n", "100000\n", 0.0, 4},
        {"cpu,cpuacct", "50000\n", "100000\n", 0.5, 1},
        {"cpu", "300000\n", "100000\n", 3.0, 3}, // the other usual mount point
        {"cpu,cpuacct", "50000\n", "0\n", 0.0, 4},
        {"cpu,cpuacct", "-7\n", "100000\n", 0.0, 4},
        {"cpu,cpuacct", "abc\n", "100000\n", 0.0, 4},
        {"cpu,cpuacct", "50000\n", "-100000\n", 0.0, 4},
        {"cpu,cpuacct", "50000\n", NULL, 0.0, 4},
        {"cpu,cpuacct", "9223372036854775807\n", "1000\n", 0.0, 4},
        {"cpu,cpuacct", "9223372036854775808\n", "1000\n", 0.0, 4},
        {"cpu,cpuacct", NULL, NULL, 0.0, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *root = tree_v1(cases[i].dir, cases[i].quota, cases[i].period);
        beat_topology t;
        DETECT(root, &t);
        CHECK_MSG(t.cpu_quota == cases[i].cpus && t.default_workers == cases[i].workers,
                  "%s: quota \"%s\" period \"%s\": %g CPUs, %u workers", cases[i].dir,
                  cases[i].quota, cases[i].period, t.cpu_quota, t.default_workers);
        CHECK_EQ(t.cgroup_version, 1);
        CHECK_EQ(beat__topology_default_workers(root), cases[i].workers);
        beat_topology_release(&t);
    }
}

static void cgroup_v2_cpuset_restricts_the_allowed_cpus(void)
{
    static const struct {
        const char *leaf, *parent;
        unsigned allowed;
        const char *why;
    } cases[] = {
        {"1-2\n", "0-3\n", 2, "the group's own set"},
        {NULL, "3\n", 1, "missing at the group: the parent's"},
        {"2-7\n", NULL, 2, "CPUs that are not online do not count"},
        {"6-7\n", NULL, 4, "nothing online in it: ignored"},
        {"\n", "0,2\n", 2, "empty: the parent's"},
        {"garbage\n", NULL, 4, "garbage: ignored"},
        {"0-99999\n", NULL, 4, "beyond possible CPUs: ignored"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *root = tree_v2(NULL, NULL);
        if (cases[i].leaf != NULL)
            put(root, "sys/fs/cgroup/a/b/cpuset.cpus.effective", "%s", cases[i].leaf);
        if (cases[i].parent != NULL)
            put(root, "sys/fs/cgroup/a/cpuset.cpus.effective", "%s", cases[i].parent);
        beat_topology t;
        DETECT(root, &t);
        CHECK_MSG(t.npus_allowed == cases[i].allowed && t.default_workers == cases[i].allowed,
                  "%s: %u allowed", cases[i].why, t.npus_allowed);
        CHECK_EQ(beat__topology_default_workers(root), cases[i].allowed);
        beat_topology_release(&t);
    }
}

static void cgroup_v1_cpuset_prefers_effective_cpus(void)
{
    const char *root = tree_v1("cpu,cpuacct", NULL, NULL);
    put(root, "sys/fs/cgroup/cpuset/g/cpuset.cpus", "0-2\n");
    beat_topology t;
    DETECT(root, &t);
    CHECK(t.npus_allowed == 3 && !pu_of(&t, 3)->allowed);
    beat_topology_release(&t);
    put(root, "sys/fs/cgroup/cpuset/g/cpuset.effective_cpus", "1\n");
    DETECT(root, &t);
    CHECK(t.npus_allowed == 1 && pu_of(&t, 1)->allowed && t.default_workers == 1);
    beat_topology_release(&t);
}

static void cgroup_mount_points_come_from_proc_mounts(void)
{
    // hwloc's 32amd64 capture: no proc/self/cgroup, a cgroup2 mount at
    // /cgroup/unified and the group in proc/self/cpuset.
    const char *root = tree_new();
    tree_machine(root, 1, 4, 1);
    put(root, "proc/mounts",
        "none /sys sysfs rw 0 0\nnone /cgroup/memory cgroup rw,memory 0 0\n"
        "none /cgroup/unified cgroup2 rw 0 0\n");
    put(root, "proc/self/cpuset", "/job/step\n");
    put(root, "cgroup/unified/job/step/cpuset.cpus.effective", "2-3\n");
    beat_topology t;
    DETECT(root, &t);
    CHECK(t.npus_allowed == 2 && pu_of(&t, 2)->allowed && t.cgroup_version == 2);
    beat_topology_release(&t);

    // v1 controllers mounted elsewhere, found through proc/mounts.
    put(root, "proc/mounts", "cg /cg/cpuset cgroup rw,cpuset 0 0\ncg /cg/cpu cgroup rw,cpu 0 0\n");
    put(root, "proc/self/cgroup", "2:cpuset:/j\n1:cpu:/j\n");
    put(root, "cg/cpuset/j/cpuset.cpus", "0\n");
    put(root, "cg/cpu/j/cpu.cfs_quota_us", "150000\n");
    put(root, "cg/cpu/j/cpu.cfs_period_us", "100000\n");
    DETECT(root, &t);
    CHECK(t.npus_allowed == 1 && t.cpu_quota == 1.5 && t.cgroup_version == 1);
    beat_topology_release(&t);
}

static void cgroup_paths_that_climb_out_stay_at_the_mount(void)
{
    const char *root = tree_new();
    tree_machine(root, 1, 4, 1);
    put(root, "proc/self/cgroup", "0::/../../escape\n");
    put(root, "sys/fs/cgroup/cpu.max", "100000 100000\n");
    put(root, "escape/cpu.max", "50000 100000\n"); // must not be read
    beat_topology t;
    DETECT(root, &t);
    CHECK(t.cpu_quota == 1.0 && t.default_workers == 1);
    beat_topology_release(&t);
    put(root, "proc/self/cgroup", "garbage without colons\n\n::\n0:\n");
    DETECT(root, &t);
    CHECK(t.cgroup_version == 0 && t.default_workers == 4);
    beat_topology_release(&t);
}

// ---------------------------------------------------------------------------
// The live system

static void live_detection_matches_the_affinity_mask(void)
{
    beat_topology t;
    beat_result r = beat_topology_detect(NULL, &t);
    if (r == BEAT_ERROR_IO) {
        bt_skip("no /sys/devices/system/cpu here");
        return;
    }
    CHECK_EQ(r, BEAT_OK);
    cpu_set_t set;
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
    unsigned mask = (unsigned)CPU_COUNT(&set);
    CHECK(t.npus_allowed >= 1 && t.npus_allowed <= mask && t.npus_allowed <= t.npus_online);
    for (unsigned i = 0; i < t.npus; i++)
        if (t.pus[i].allowed && t.pus[i].os_index < CPU_SETSIZE)
            CHECK(CPU_ISSET(t.pus[i].os_index, &set));
    CHECK_EQ(beat__topology_default_workers(NULL), t.default_workers);
    CHECK_EQ(beat__topology_default_workers("/"), t.default_workers);
    bt_note("%u packages, %u cores, %u PUs online, %u allowed, cgroup v%d, %u default workers",
            t.npackages, t.ncores, t.npus_online, t.npus_allowed, t.cgroup_version,
            t.default_workers);
    beat_topology_release(&t);
}

static void live_affinity_of_one_cpu_gives_one_worker(void)
{
    cpu_set_t saved, one;
    CHECK(sched_getaffinity(0, sizeof saved, &saved) == 0);
    if (CPU_COUNT(&saved) < 2 || !CPU_ISSET(1, &saved)) {
        bt_skip("CPU 1 is not one of two or more this thread may use");
        return;
    }
    CPU_ZERO(&one);
    CPU_SET(1, &one);
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0); // what taskset -c 1 does
    unsigned cheap = beat__topology_default_workers(NULL);
    beat_topology t;
    beat_result r = beat_topology_detect(NULL, &t);
    CHECK(sched_setaffinity(0, sizeof saved, &saved) == 0);
    CHECK_EQ(r, BEAT_OK);
    CHECK(cheap == 1 && t.default_workers == 1 && t.npus_allowed == 1);
    CHECK(pu_of(&t, 1)->allowed && !pu_of(&t, 0)->allowed);
    beat_topology_release(&t);
}

static void live_detection_time(void)
{
    const int n = BT_SCALE(200, 20);
    double start = bt_seconds();
    for (int i = 0; i < n; i++) {
        beat_topology t;
        if (beat_topology_detect(NULL, &t) != BEAT_OK) {
            bt_skip("no /sys/devices/system/cpu here");
            return;
        }
        beat_topology_release(&t);
    }
    double full = (bt_seconds() - start) / n;
    start = bt_seconds();
    for (int i = 0; i < n; i++)
        CHECK(beat__topology_default_workers(NULL) >= 1);
    double cheap = (bt_seconds() - start) / n;
    bt_note("detect %.0f us, default_workers %.0f us (mean of %d)", full * 1e6, cheap * 1e6, n);
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(cpulist_parses_ranges_and_single_cpus),
        BT_CASE(cpulist_empty_blank_and_crlf_are_fine),
        BT_CASE(cpulist_counts_repeated_cpus_once),
        BT_CASE(cpulist_rejects_malformed_text),
        BT_CASE(cpulist_rejects_cpus_beyond_the_bitmap_and_huge_numbers),
        BT_CASE(cpulist_max_sees_the_largest_number),
        BT_CASE(cpumask_parses_hex_words_most_significant_first),
        BT_CASE(size_parser_reads_sysfs_cache_sizes),
        BT_CASE(build_numbers_objects_by_their_lowest_os_cpu),
        BT_CASE(build_survives_empty_and_unusable_input),
        BT_CASE(build_groups_smt_siblings_by_core_key),
        BT_CASE(build_maps_distances_and_memory_only_nodes),
        BT_CASE(build_caps_default_workers_by_the_quota),
        BT_CASE(build_flags_hybrid_only_with_two_kinds),
        BT_CASE(sysfs_small_machine_is_read_completely),
        BT_CASE(sysfs_offline_cpus_are_listed_but_not_used),
        BT_CASE(sysfs_missing_files_give_the_defaults),
        BT_CASE(sysfs_garbage_files_never_crash),
        BT_CASE(sysfs_empty_or_missing_root_is_an_io_error),
        BT_CASE(sysfs_4096_cpus_are_read),
        BT_CASE(sysfs_8192_cpus_from_the_online_list_alone),
        BT_CASE(sysfs_old_kernels_mask_files_are_read),
        BT_CASE(sysfs_hybrid_kinds_from_pmu_lists_or_frequencies),
        BT_CASE(sysfs_distance_rows_may_count_absent_nodes),
        BT_CASE(cgroup_v2_quota_handles_odd_values),
        BT_CASE(cgroup_v1_quota_handles_odd_values),
        BT_CASE(a_pool_takes_its_default_worker_count_from_the_quota),
        BT_CASE(cgroup_v2_cpuset_restricts_the_allowed_cpus),
        BT_CASE(cgroup_v1_cpuset_prefers_effective_cpus),
        BT_CASE(cgroup_mount_points_come_from_proc_mounts),
        BT_CASE(cgroup_paths_that_climb_out_stay_at_the_mount),
        BT_CASE(live_detection_matches_the_affinity_mask),
        BT_CASE(live_affinity_of_one_cpu_gives_one_worker),
        BT_CASE(live_detection_time),
    };
    return BT_RUN(cases);
}
