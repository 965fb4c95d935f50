// Placement: pinning order, steal order by distance, pinned pools on this
// machine, and NUMA-local memory (placement checked with move_pages).
#define BEAT_IMPLEMENTATION
#include "../beat.h"
#include "test.h"

#include <sched.h>
#include <sys/mman.h>

// A synthetic machine built with the same builder /sys detection uses:
// packages x cores x threads, OS numbering like Linux on Intel (all first
// threads, then all second threads), one L2 per core, one L3 and one NUMA
// node per package.
static beat_topology make_machine(unsigned packages, unsigned cores, unsigned threads)
{
    unsigned n = packages * cores * threads;
    beat__raw_pu *raw = (beat__raw_pu *)calloc(n, sizeof *raw);
    for (unsigned os = 0; os < n; os++) {
        beat__raw_pu *p = &raw[os];
        unsigned thread = os / (packages * cores), core = os % (packages * cores) % cores;
        unsigned package = os % (packages * cores) / cores;
        (void)thread;
        p->os_index = os;
        p->online = p->allowed = 1;
        p->package_id = (long)package;
        p->die_id = p->cluster_id = -1;
        p->core_id = (long)core;
        p->node_os = (long)package;
        for (int level = 0; level <= BEAT__TOPO_MAX_LEVEL; level++)
            p->cache_key[level] = -1;
        p->cache_key[2] = (long)(package * cores + core);
        p->cache_key[3] = (long)package;
        p->cache_size[2] = 1u << 20;
        p->cache_size[3] = 32u << 20;
        p->cache_unified[2] = p->cache_unified[3] = 1;
    }
    beat_topology topo;
    beat__raw_machine machine;
    memset(&machine, 0, sizeof machine);
    beat_result r = beat__topo_build(raw, n, &machine, &topo);
    free(raw);
    if (r != BEAT_OK) {
        fprintf(stderr, "make_machine: beat__topo_build failed (%d)\n", (int)r);
        exit(1);
    }
    return topo;
}

static unsigned os_of(const beat_topology *t, unsigned pu) { return t->pus[pu].os_index; }

static void pinning_fills_every_core_before_any_smt_sibling(void)
{
    beat_topology t = make_machine(2, 4, 2); // 16 PUs: 0-7 first threads, 8-15 siblings
    unsigned pu[16], bad = 0;
    CHECK_EQ(beat__placement_choose(&t, 16, NULL, 0, pu, &bad), BEAT_OK);
    for (unsigned w = 0; w < 8; w++)
        CHECK_MSG(t.pus[pu[w]].smt == 0, "worker %u got an SMT sibling", w);
    for (unsigned w = 8; w < 16; w++)
        CHECK_MSG(t.pus[pu[w]].smt == 1, "worker %u got a first thread", w);
    // Package 0's cores first, so workers 0-3 share an L3.
    for (unsigned w = 0; w < 4; w++)
        CHECK_EQ(t.pus[pu[w]].package, 0u);
    // Every PU used exactly once.
    unsigned seen[16] = {0};
    for (unsigned w = 0; w < 16; w++)
        seen[os_of(&t, pu[w])]++;
    for (unsigned os = 0; os < 16; os++)
        CHECK_EQ(seen[os], 1u);
    beat_topology_release(&t);
}

static void pinning_uses_only_allowed_cpus_and_wraps_around(void)
{
    beat_topology t = make_machine(1, 4, 2);
    for (unsigned i = 0; i < t.npus; i++)
        t.pus[i].allowed = t.pus[i].os_index == 1 || t.pus[i].os_index == 5;
    unsigned pu[5], bad = 0;
    CHECK_EQ(beat__placement_choose(&t, 5, NULL, 0, pu, &bad), BEAT_OK);
    for (unsigned w = 0; w < 5; w++)
        CHECK_MSG(os_of(&t, pu[w]) == 1 || os_of(&t, pu[w]) == 5, "worker %u on CPU %u", w,
                  os_of(&t, pu[w]));
    CHECK(os_of(&t, pu[0]) != os_of(&t, pu[1]));
    CHECK_EQ(os_of(&t, pu[2]), os_of(&t, pu[0]));

    const unsigned wanted[] = {5, 2};
    CHECK_EQ(beat__placement_choose(&t, 2, wanted, 2, pu, &bad), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(bad, 2u);
    const unsigned fine[] = {5};
    CHECK_EQ(beat__placement_choose(&t, 3, fine, 1, pu, &bad), BEAT_OK);
    CHECK_EQ(os_of(&t, pu[2]), 5u);
    // An entry no worker reaches (3 CPUs for 1 worker) is still checked.
    const unsigned unused_bad[] = {5, 1, 2};
    bad = 0;
    CHECK_EQ(beat__placement_choose(&t, 1, unused_bad, 3, pu, &bad), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(bad, 2u);
    beat_topology_release(&t);
}

static void victims_come_nearest_first(void)
{
    beat_topology t = make_machine(2, 2, 2); // PUs 0-3 first threads, 4-7 siblings
    unsigned pu[8], bad = 0;
    CHECK_EQ(beat__placement_choose(&t, 8, NULL, 0, pu, &bad), BEAT_OK);
    unsigned nslots = 8 + 2; // two outside slots
    unsigned victims[9], end[BEAT__NEAR_LEVELS];
    for (unsigned self = 0; self < 8; self++) {
        beat__placement_victims(&t, pu, 8, nslots, self, victims, end);
        CHECK_EQ(end[BEAT__NEAR_LEVELS - 1], nslots - 1);
        for (unsigned level = 0, from = 0; level < BEAT__NEAR_LEVELS; level++) {
            for (unsigned i = from; i < end[level]; i++) {
                unsigned v = victims[i];
                CHECK(v != self);
                unsigned want = v >= 8 ? (unsigned)BEAT__NEAR_OTHER
                                       : beat__placement_level(&t, pu[self], pu[v]);
                CHECK_MSG(want == level, "worker %u: victim %u listed at level %u, is %u", self, v,
                          level, want);
            }
            from = end[level];
        }
        // On this machine: one sibling, no shared L2, one other core on the
        // package (2 PUs) sharing the L3, nothing else on the node.
        CHECK_EQ(end[BEAT__NEAR_CORE], 1u);
        CHECK_EQ(end[BEAT__NEAR_L2], 1u);
        CHECK_EQ(end[BEAT__NEAR_L3], 3u);
        CHECK_EQ(end[BEAT__NEAR_NODE], 3u);
    }
    beat_topology_release(&t);
}

// --- pinned pools on this machine

static unsigned cpu_seen[64];
static int pin_count[64];

static void record_cpu(beat_ctx *ctx, void *arg)
{
    (void)arg;
    unsigned w = beat_ctx_worker(ctx);
    cpu_set_t set;
    if (w < 64 && sched_getaffinity(0, sizeof set, &set) == 0) {
        pin_count[w] = CPU_COUNT(&set);
        cpu_seen[w] = (unsigned)sched_getcpu();
    }
}

static void on_start_record(unsigned worker, void *user)
{
    (void)user;
    cpu_set_t set;
    if (worker < 64 && sched_getaffinity(0, sizeof set, &set) == 0) {
        pin_count[worker] = CPU_COUNT(&set);
        cpu_seen[worker] = (unsigned)sched_getcpu();
    }
}

static void pinned_workers_run_on_one_allowed_cpu_each(void)
{
    cpu_set_t allowed;
    CHECK_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    beat_config cfg = beat_config_default(BEAT_PROFILE_PERFORMANCE);
    CHECK_EQ(cfg.pin_workers, 1);
    cfg.workers = 3;
    cfg.on_worker_start = on_start_record;
    memset(pin_count, 0, sizeof pin_count);
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    for (int i = 0; i < 100; i++)
        CHECK_EQ(beat_submit(pool, record_cpu, NULL), BEAT_OK);
    beat_pool_wait(pool);
    int planned[3];
    for (unsigned w = 0; w < 3; w++) {
        planned[w] = pool->workers[w].cpu;
        CHECK(pool->workers[w].victims != NULL);
    }
    beat_pool_destroy(pool); // joins the workers: every start callback has run
    for (unsigned w = 0; w < 3; w++) {
        CHECK_MSG(pin_count[w] == 1, "worker %u may run on %d CPUs", w, pin_count[w]);
        CHECK(CPU_ISSET(cpu_seen[w], &allowed));
        CHECK_EQ((int)cpu_seen[w], planned[w]);
    }
    if (CPU_COUNT(&allowed) >= 2)
        CHECK(planned[0] != planned[1]);
    bt_note("workers pinned to CPUs %d, %d, %d", planned[0], planned[1], planned[2]);
}

static void pinning_stays_inside_a_narrowed_affinity_mask(void)
{
    cpu_set_t saved, one;
    CHECK_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
    int last = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &saved))
            last = c;
    CPU_ZERO(&one);
    CPU_SET(last, &one);
    CHECK_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.pin_workers = 1;
    cfg.workers = 2;
    cfg.on_worker_start = on_start_record;
    memset(pin_count, 0, sizeof pin_count);
    beat_pool *pool = NULL;
    beat_result r = beat_pool_create(&cfg, &pool);
    sched_setaffinity(0, sizeof saved, &saved);
    CHECK_EQ(r, BEAT_OK);
    beat_pool_destroy(pool); // joins the workers: their start callbacks have run
    for (unsigned w = 0; w < 2; w++) {
        CHECK_EQ(pin_count[w], 1);
        CHECK_EQ((int)cpu_seen[w], last);
    }
}

static void asking_for_a_cpu_outside_the_allowed_set_is_an_error(void)
{
    static const unsigned cpus[] = {0, 100000};
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 2;
    cfg.worker_cpus = cpus;
    cfg.worker_cpus_count = 2;
    beat_pool *pool = (beat_pool *)&cfg; // must be reset to NULL
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK(pool == NULL);
    static const unsigned unused_bad[] = {0, 0, 100000}; // third entry reached by no worker
    cfg.worker_cpus = unused_bad;
    cfg.worker_cpus_count = 3;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK(pool == NULL);
    cfg.worker_cpus = NULL; // count without array
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_ERROR_INVALID_ARGUMENT);
}

static void pinning_without_a_topology_runs_unpinned(void)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_PERFORMANCE);
    cfg.workers = 2;
    cfg.sysfs_root = "/nonexistent-beat-root";
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    CHECK_EQ(pool->workers[0].cpu, -1);
    CHECK(pool->workers[0].victims == NULL);
    CHECK_EQ(beat_submit(pool, record_cpu, NULL), BEAT_OK);
    beat_pool_destroy(pool);
}

// --- NUMA-local memory

static void numa_alloc_places_pages_on_the_node_asked(void)
{
    size_t bytes = 64 * 4096;
    unsigned char *p = NULL;
    CHECK_EQ(beat_numa_alloc(bytes, 0, (void **)&p), BEAT_OK);
    CHECK(p != NULL && ((uintptr_t)p & 4095u) == 0);
    CHECK_EQ(beat_numa_node_of(p), -1); // not touched yet: no page behind it
    for (size_t i = 0; i < bytes; i++)
        CHECK(p[i] == 0);
    memset(p, 0xab, bytes);
    for (size_t off = 0; off < bytes; off += 4096)
        CHECK_EQ(beat_numa_node_of(p + off), 0);
    beat_numa_free(p, bytes);

    CHECK_EQ(beat_numa_alloc(100, -1, (void **)&p), BEAT_OK);
    p[99] = 1;
    CHECK_EQ(beat_numa_node_of(p), beat_numa_current_node());
    beat_numa_free(p, 100);
}

static void numa_alloc_rejects_bad_arguments(void)
{
    void *p = &p;
    CHECK_EQ(beat_numa_alloc(0, 0, &p), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK(p == NULL);
    CHECK_EQ(beat_numa_alloc(4096, -2, &p), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_numa_alloc(4096, 1 << 20, &p), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_numa_alloc(SIZE_MAX, 0, &p), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_numa_alloc(4096, 0, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    // A node this machine does not have (the highest possible one).
    beat_topology t;
    if (beat_topology_detect(NULL, &t) == BEAT_OK) {
        unsigned missing = t.nodes[t.nnodes - 1].os_index + 1;
        CHECK_EQ(beat_numa_alloc(4096, (int)missing, &p), BEAT_ERROR_INVALID_ARGUMENT);
        beat_topology_release(&t);
    }
    beat_numa_free(NULL, 4096);
    CHECK_EQ(beat_numa_node_of(NULL), -1);
}

static void a_pinned_workers_deque_lives_on_its_node(void)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_PERFORMANCE);
    cfg.workers = 2;
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    for (int i = 0; i < 1000; i++)
        CHECK_EQ(beat_submit(pool, record_cpu, NULL), BEAT_OK);
    beat_pool_wait(pool);
    for (unsigned w = 0; w < 2; w++) {
        beat_ctx *ctx = &pool->workers[w];
        CHECK(ctx->node >= 0);
        beat__deque_buf *buf = ctx->deque.buf;
        CHECK_EQ(beat_numa_node_of(buf), ctx->node);
    }
    beat_pool_destroy(pool);
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(pinning_fills_every_core_before_any_smt_sibling),
        BT_CASE(pinning_uses_only_allowed_cpus_and_wraps_around),
        BT_CASE(victims_come_nearest_first),
        BT_CASE(pinned_workers_run_on_one_allowed_cpu_each),
        BT_CASE(pinning_stays_inside_a_narrowed_affinity_mask),
        BT_CASE(asking_for_a_cpu_outside_the_allowed_set_is_an_error),
        BT_CASE(pinning_without_a_topology_runs_unpinned),
        BT_CASE(numa_alloc_places_pages_on_the_node_asked),
        BT_CASE(numa_alloc_rejects_bad_arguments),
        BT_CASE(a_pinned_workers_deque_lives_on_its_node),
    };
    return BT_RUN(cases);
}
