// beat-topo: prints the CPU topology Beat detects (build/beat-topo).
//
//   beat-topo [--sysfs ROOT | --cpuid-dump DIR] [--caches] [--tree]
//
//   --sysfs ROOT       read ROOT/sys and ROOT/proc (a captured tree) instead
//                      of the running system
//   --cpuid-dump DIR   build the topology from per-PU cpuid dumps in hwloc's
//                      test format (files DIR/puN) instead of /sys
//   --caches           after the PU lines, one line per data or unified cache
//   --tree             a tree for people instead (format not stable)
//
// Default output, stable (other programs parse it):
//   packages N
//   numa_nodes N
//   cores N         cores with at least one online PU
//   pus N           online PUs
//   pu <os_index> core <core> package <pkg> node <node> l2 <group> l3 <group> type <p|e|->
//                   one line per online PU, by OS index. All numbers but
//                   os_index are logical (0.., in order of the lowest OS CPU
//                   the object contains): PUs with equal numbers share that
//                   core, package, NUMA node or cache. "-": no such cache
//                   (or no NUMA node). type: p performance core, e
//                   efficiency core, - not a hybrid part or unknown.
// With --caches, then one line per data/unified cache instance:
//   cache l<level> <group> size <bytes> line <bytes> pus <n>
// --tree ends with these lines, also stable:
//   online <cpulist>
//   allowed <cpulist>    CPUs this process may use (affinity, cgroup cpuset)
//   cgroup <0|1|2>       cgroup version found (0: none)
//   cpu_quota <cpus|unlimited>
//   default_workers N    what beat_pool_create starts for workers == 0
//
// Errors (unknown option, unreadable input): one line on stderr, exit 1.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct options {
    const char *sysfs, *cpuid_dump;
    int tree, caches;
} options;

static const char *group(unsigned g, char *buf, size_t cap)
{
    if (g == BEAT_TOPO_NONE)
        return "-";
    snprintf(buf, cap, "%u", g);
    return buf;
}

static char type_char(unsigned char type)
{
    return type == BEAT_CORE_TYPE_PERFORMANCE ? 'p' : type == BEAT_CORE_TYPE_EFFICIENCY ? 'e' : '-';
}

// Prints the OS numbers of the online (or the allowed) PUs as a CPU list
// ("0-3,8"), or "none".
static void print_list(const beat_topology *t, int allowed_only)
{
    int first = 1;
    for (unsigned i = 0; i < t->npus;) {
        const beat_topo_pu *pu = &t->pus[i];
        if (!(allowed_only ? pu->allowed : pu->online)) {
            i++;
            continue;
        }
        unsigned j = i + 1;
        while (j < t->npus && (allowed_only ? t->pus[j].allowed : t->pus[j].online) &&
               t->pus[j].os_index == t->pus[j - 1].os_index + 1)
            j++;
        printf("%s%u", first ? "" : ",", pu->os_index);
        if (j - i > 1)
            printf("-%u", t->pus[j - 1].os_index);
        first = 0;
        i = j;
    }
    printf("%s\n", first ? "none" : "");
}

static void print_plain(const beat_topology *t, int caches)
{
    char b[4][16];
    printf("packages %u\nnuma_nodes %u\ncores %u\npus %u\n", t->npackages, t->nnodes, t->ncores,
           t->npus_online);
    for (unsigned i = 0; i < t->npus; i++) {
        const beat_topo_pu *pu = &t->pus[i];
        if (!pu->online)
            continue;
        printf("pu %u core %u package %u node %s l2 %s l3 %s type %c\n", pu->os_index, pu->core,
               pu->package, group(pu->node, b[0], sizeof b[0]), group(pu->l2, b[1], sizeof b[1]),
               group(pu->l3, b[2], sizeof b[2]), type_char(pu->type));
    }
    for (unsigned i = 0; caches && i < t->ncaches; i++) {
        const beat_topo_cache *c = &t->caches[i];
        printf("cache l%u %u size %llu line %u pus %u\n", c->level, c->group, c->size, c->line_size,
               c->npus);
    }
}

// ---------------------------------------------------------------------------
// --tree

static void print_size(unsigned long long bytes)
{
    if (bytes == 0)
        printf("size unknown");
    else if (bytes % (1024 * 1024) == 0)
        printf("%llu MiB", bytes >> 20);
    else if (bytes % 1024 == 0)
        printf("%llu KiB", bytes >> 10);
    else
        printf("%llu B", bytes);
}

static const beat_topo_cache *find_cache(const beat_topology *t, unsigned level, unsigned g)
{
    for (unsigned i = 0; i < t->ncaches; i++)
        if (t->caches[i].level == level && t->caches[i].group == g)
            return &t->caches[i];
    return NULL;
}

// A core with where it sits, for sorting into tree order.
typedef struct core_at {
    unsigned package, l3, l2, core, first_pu;
} core_at;

static int core_at_cmp(const void *a, const void *b)
{
    const core_at *x = (const core_at *)a, *y = (const core_at *)b;
    unsigned kx[4] = {x->package, x->l3, x->l2, x->core};
    unsigned ky[4] = {y->package, y->l3, y->l2, y->core};
    for (int i = 0; i < 4; i++)
        if (kx[i] != ky[i])
            return kx[i] < ky[i] ? -1 : 1;
    return 0;
}

static void print_cache_line(const beat_topology *t, const char *indent, unsigned level, unsigned g)
{
    const beat_topo_cache *c = find_cache(t, level, g);
    printf("%sL%u #%u ", indent, level, g);
    print_size(c != NULL ? c->size : 0);
    printf("\n");
}

static void print_core(const beat_topology *t, const core_at *at)
{
    const beat_topo_core *core = &t->cores[at->core];
    printf("      Core %u", at->core);
    if (core->os_core_id != BEAT_TOPO_NONE)
        printf(" (core_id %u)", core->os_core_id);
    if (core->type != BEAT_CORE_TYPE_UNKNOWN)
        printf(" %s", core->type == BEAT_CORE_TYPE_PERFORMANCE ? "P-core" : "E-core");
    printf("\n");
    for (unsigned i = at->first_pu; i < t->npus; i++)
        if (t->pus[i].online && t->pus[i].core == at->core)
            printf("        PU %u%s\n", t->pus[i].os_index,
                   t->pus[i].allowed ? "" : " (not allowed)");
}

static int print_cores(const beat_topology *t)
{
    core_at *at = (core_at *)calloc(t->ncores > 0 ? t->ncores : 1, sizeof *at);
    if (at == NULL)
        return 1;
    for (unsigned i = t->npus; i-- > 0;) { // backwards: the lowest PU wins
        const beat_topo_pu *pu = &t->pus[i];
        if (!pu->online)
            continue;
        core_at *a = &at[pu->core];
        a->package = pu->package;
        a->l3 = pu->l3;
        a->l2 = pu->l2;
        a->core = pu->core;
        a->first_pu = i;
    }
    qsort(at, t->ncores, sizeof *at, core_at_cmp);
    for (unsigned i = 0; i < t->ncores; i++) {
        const core_at *a = &at[i], *prev = i > 0 ? &at[i - 1] : NULL;
        int new_package = prev == NULL || prev->package != a->package;
        int new_l3 = new_package || prev->l3 != a->l3;
        if (new_package)
            printf("Package %u\n", a->package);
        if (new_l3 && a->l3 != BEAT_TOPO_NONE)
            print_cache_line(t, "  ", 3, a->l3);
        if ((new_l3 || prev->l2 != a->l2) && a->l2 != BEAT_TOPO_NONE)
            print_cache_line(t, "    ", 2, a->l2);
        print_core(t, a);
    }
    free(at);
    return 0;
}

static void print_nodes(const beat_topology *t)
{
    for (unsigned n = 0; n < t->nnodes; n++) {
        printf("NUMA node %u (os %u): %u PUs, distances", n, t->nodes[n].os_index,
               t->nodes[n].npus);
        for (unsigned m = 0; m < t->nnodes; m++)
            printf(" %u", t->distances[(size_t)n * t->nnodes + m]);
        printf("\n");
    }
}

static int print_tree(const beat_topology *t)
{
    printf("Machine: %u packages, %u NUMA nodes, %u cores, %u PUs (%u online, %u allowed)%s\n",
           t->npackages, t->nnodes, t->ncores, t->npus, t->npus_online, t->npus_allowed,
           t->hybrid ? ", hybrid" : "");
    if (print_cores(t) != 0)
        return 1;
    print_nodes(t);
    printf("online ");
    print_list(t, 0);
    printf("allowed ");
    print_list(t, 1);
    printf("cgroup %d\n", t->cgroup_version);
    if (t->cpu_quota > 0)
        printf("cpu_quota %g\n", t->cpu_quota);
    else
        printf("cpu_quota unlimited\n");
    printf("default_workers %u\n", t->default_workers);
    return 0;
}

// ---------------------------------------------------------------------------

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--tree") == 0)
            o->tree = 1;
        else if (strcmp(a, "--caches") == 0)
            o->caches = 1;
        else if (strcmp(a, "--sysfs") == 0 && i + 1 < argc)
            o->sysfs = argv[++i];
        else if (strcmp(a, "--cpuid-dump") == 0 && i + 1 < argc)
            o->cpuid_dump = argv[++i];
        else {
            fprintf(stderr,
                    "beat-topo: unknown option or missing value: '%s' (usage: beat-topo "
                    "[--sysfs ROOT | --cpuid-dump DIR] [--caches] [--tree])\n",
                    a);
            return 1;
        }
    }
    if (o->sysfs != NULL && o->cpuid_dump != NULL) {
        fprintf(stderr, "beat-topo: --sysfs and --cpuid-dump exclude each other\n");
        return 1;
    }
    return 0;
}

static beat_result from_cpuid(const char *dir, beat_topology *t)
{
    beat_cpuid_dump *dump;
    beat_result r = beat_cpuid_dump_load(dir, &dump);
    if (r != BEAT_OK)
        return r;
    beat_cpuid_source src = beat_cpuid_dump_source(dump);
    r = beat_topology_from_cpuid(&src, t);
    beat_cpuid_dump_free(dump);
    return r;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) != 0)
        return 1;
    beat_topology t;
    beat_result r =
        o.cpuid_dump != NULL ? from_cpuid(o.cpuid_dump, &t) : beat_topology_detect(o.sysfs, &t);
    if (r != BEAT_OK) {
        const char *what = o.cpuid_dump != NULL ? o.cpuid_dump : o.sysfs != NULL ? o.sysfs : "/";
        fprintf(stderr, "beat-topo: cannot read the topology from %s: %s\n", what,
                beat_result_string(r));
        return 1;
    }
    int failed = o.tree ? print_tree(&t) : (print_plain(&t, o.caches), 0);
    beat_topology_release(&t);
    if (failed || fflush(stdout) != 0) {
        fprintf(stderr, "beat-topo: cannot write the output\n");
        return 1;
    }
    return 0;
}
