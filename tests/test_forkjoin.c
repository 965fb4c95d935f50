// Fork-join correctness before speed: pcall at every level gives the serial
// answer at every worker count (more workers than cores included), mixed
// pcall/spawn DAGs match a serial evaluation, loops nest inside pcalls and
// pcalls inside loops, a long chain of pcalls does not grow the stack, the
// stats count every pcall, and frames really are promoted and stolen; the
// same for beat_pcall_u64, whose results come back through registers.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"
#include "fib.h"

static beat_pool *make_pool(unsigned workers)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = workers;
    beat_pool *pool = NULL;
    return beat_pool_create(&cfg, &pool) == BEAT_OK ? pool : NULL;
}

static const unsigned worker_counts[] = {1, 2, 3, 8};
#define N_COUNTS (sizeof worker_counts / sizeof worker_counts[0])

// ---------------------------------------------------------------------------
// fib

static void fib_with_a_pcall_at_every_level_is_right_with_1_2_3_and_8_workers(void)
{
    const int n = BT_SCALE(30, 22);
    const long want = fib_serial(n);
    for (size_t i = 0; i < N_COUNTS; i++) {
        beat_pool *pool = make_pool(worker_counts[i]);
        CHECK(pool != NULL);
        for (int round = 0; round < 3; round++) {
            fib_arg a = {n, 0};
            CHECK_EQ(beat_run(pool, fib_task, &a), BEAT_OK);
            CHECK_MSG(a.result == want, "fib(%d) = %ld with %u workers, want %ld", n, a.result,
                      worker_counts[i], want);
        }
        beat_stats st;
        CHECK_EQ(beat_pool_stats(pool, &st, NULL, 0), BEAT_OK);
        beat_pool_destroy(pool);
        CHECK_EQ(st.pcalls, 3 * fib_pcalls(n));
        bt_note("fib(%d), %u workers: %llu pcalls, %llu promoted, %llu stolen", n, worker_counts[i],
                (unsigned long long)st.pcalls, (unsigned long long)st.promotions,
                (unsigned long long)st.steals);
    }
}

// ---------------------------------------------------------------------------
// fib on values (beat_pcall_u64), made asymmetric: a and b are different
// functions and the parent weighs their results differently, so a result
// returned for the wrong half, or lost, changes the answer.

static uint64_t afib_b(beat_ctx *ctx, uint64_t n);

static uint64_t afib(beat_ctx *ctx, uint64_t n)
{
    if (n < 2)
        return n;
    beat_pair_u64 r = beat_pcall_u64(ctx, afib, n - 1, afib_b, n - 2);
    return 3 * r.a + r.b;
}

static uint64_t afib_b(beat_ctx *ctx, uint64_t n) { return afib(ctx, n) + 1; }

static uint64_t afib_serial(uint64_t n)
{
    return n < 2 ? n : 3 * afib_serial(n - 1) + afib_serial(n - 2) + 1;
}

typedef struct afib_call {
    uint64_t n, result;
} afib_call;

static void afib_run(beat_ctx *ctx, void *p)
{
    afib_call *c = (afib_call *)p;
    c->result = afib(ctx, c->n);
}

static void pcall_u64_fib_is_right_with_1_2_3_and_8_workers(void)
{
    const int n = BT_SCALE(30, 22);
    const uint64_t want = afib_serial((uint64_t)n);
    for (size_t i = 0; i < N_COUNTS; i++) {
        beat_pool *pool = make_pool(worker_counts[i]);
        CHECK(pool != NULL);
        for (int round = 0; round < 3; round++) {
            afib_call c = {(uint64_t)n, 0};
            CHECK_EQ(beat_run(pool, afib_run, &c), BEAT_OK);
            CHECK_MSG(c.result == want, "afib(%d) = %llu with %u workers, want %llu", n,
                      (unsigned long long)c.result, worker_counts[i], (unsigned long long)want);
        }
        beat_stats st;
        CHECK_EQ(beat_pool_stats(pool, &st, NULL, 0), BEAT_OK);
        // Stolen b halves are what this test is for: with 2 or more workers
        // run until some were (retried, as a loaded machine may not give
        // the thieves a CPU during one short run).
        double start = bt_seconds();
        uint64_t runs = 3;
        while (worker_counts[i] > 1 && st.steals == 0 && bt_seconds() - start < 10) {
            afib_call c = {(uint64_t)n, 0};
            CHECK_EQ(beat_run(pool, afib_run, &c), BEAT_OK);
            CHECK_EQ(c.result, want);
            CHECK_EQ(beat_pool_stats(pool, &st, NULL, 0), BEAT_OK);
            runs++;
        }
        beat_pool_destroy(pool);
        CHECK_EQ(st.pcalls, runs * fib_pcalls(n));
        if (worker_counts[i] > 1)
            CHECK_MSG(st.steals > 0, "%u workers: no b half was stolen in 10 s", worker_counts[i]);
        bt_note("afib(%d), %u workers: %llu runs, %llu promoted, %llu stolen", n, worker_counts[i],
                (unsigned long long)runs, (unsigned long long)st.promotions,
                (unsigned long long)st.steals);
    }
}

// With one worker and no outside thief, every promoted frame is popped
// back and run by its owner's join: b's result must come back through the
// frame just the same.
static void pcall_u64_frames_promoted_and_joined_by_their_owner_return_b(void)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 1;
    cfg.heartbeat_us = 10;
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    const uint64_t n = BT_SCALE(27, 22);
    beat_stats st;
    memset(&st, 0, sizeof st);
    double start = bt_seconds();
    while (st.promotions == 0 && bt_seconds() - start < 10) {
        afib_call c = {n, 0};
        CHECK_EQ(beat_submit(pool, afib_run, &c), BEAT_OK);
        beat_pool_wait(pool);
        CHECK_EQ(c.result, afib_serial(n));
        CHECK_EQ(beat_pool_stats(pool, &st, NULL, 0), BEAT_OK);
    }
    beat_pool_destroy(pool);
    CHECK(st.promotions > 0);
    CHECK_EQ(st.steals, 0);
    bt_note("afib(%llu), 1 worker, 10 us heartbeat: %llu frames promoted and joined",
            (unsigned long long)n, (unsigned long long)st.promotions);
}

// One private list holds frames of every kind: a pcall_u64 frame's task is
// filled in only when it is promoted (its kind is a bit of its prev link),
// a beat_pcall frame carries its task, a loop frame is split instead. The
// recursion below is afib with the fork chosen by depth (pcall, pcall_u64,
// a two-item parallel_for), so promotions walk past and pick every kind.
#define MIXED_ARG(n, depth) ((uint64_t)(depth) << 32 | (uint64_t)(n))

static uint64_t mixed_fib(beat_ctx *ctx, uint64_t arg);

typedef struct mixed_half {
    uint64_t arg, result;
} mixed_half;

static void mixed_half_run(beat_ctx *ctx, void *p)
{
    mixed_half *h = (mixed_half *)p;
    h->result = mixed_fib(ctx, h->arg);
}

static void mixed_items(beat_ctx *ctx, size_t begin, size_t end, void *p)
{
    mixed_half *halves = (mixed_half *)p;
    for (size_t i = begin; i < end; i++)
        mixed_half_run(ctx, &halves[i]);
}

static uint64_t mixed_fib(beat_ctx *ctx, uint64_t arg)
{
    uint64_t n = arg & 0xffffffffu, depth = arg >> 32;
    if (n < 2)
        return n;
    mixed_half h[2] = {{MIXED_ARG(n - 1, depth + 1), 0}, {MIXED_ARG(n - 2, depth + 1), 0}};
    switch (depth % 3) {
    case 0:
        beat_pcall(ctx, mixed_half_run, &h[0], mixed_half_run, &h[1]);
        break;
    case 1: {
        beat_pair_u64 r = beat_pcall_u64(ctx, mixed_fib, h[0].arg, mixed_fib, h[1].arg);
        h[0].result = r.a;
        h[1].result = r.b;
        break;
    }
    default:
        beat_parallel_for(ctx, 0, 2, 1, mixed_items, h);
        break;
    }
    return 3 * h[0].result + h[1].result + 1;
}

static uint64_t mixed_serial(uint64_t n)
{
    return n < 2 ? n : 3 * mixed_serial(n - 1) + mixed_serial(n - 2) + 1;
}

static void frames_of_every_kind_in_one_list_are_promoted_as_their_kind(void)
{
    const uint64_t n = BT_SCALE(24, 19);
    const uint64_t want = mixed_serial(n);
    // 1 worker: every promoted frame comes back to its owner's join; more:
    // thieves run them. A 10 us heartbeat promotes often.
    for (size_t i = 0; i < N_COUNTS; i++) {
        beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
        cfg.workers = worker_counts[i];
        cfg.heartbeat_us = 10;
        beat_pool *pool = NULL;
        CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
        beat_stats st;
        memset(&st, 0, sizeof st);
        double start = bt_seconds();
        unsigned runs = 0;
        while ((runs < 3 || st.promotions < 3) && bt_seconds() - start < 10) {
            mixed_half c = {MIXED_ARG(n, 0), 0};
            CHECK_EQ(beat_submit(pool, mixed_half_run, &c), BEAT_OK);
            beat_pool_wait(pool);
            CHECK_EQ(c.result, want);
            CHECK_EQ(beat_pool_stats(pool, &st, NULL, 0), BEAT_OK);
            runs++;
        }
        beat_pool_destroy(pool);
        CHECK_MSG(st.promotions >= 3, "%u workers: %llu promotions in 10 s", worker_counts[i],
                  (unsigned long long)st.promotions);
        bt_note("mixed fib(%llu), %u workers: %u runs, %llu promoted, %llu stolen",
                (unsigned long long)n, worker_counts[i], runs, (unsigned long long)st.promotions,
                (unsigned long long)st.steals);
    }
}

// ---------------------------------------------------------------------------
// Spice's tree sum: a balanced tree in pre-order, fork(right)/call(left)/join.

typedef struct node {
    int64_t value;
    struct node *left, *right;
} node;

static node *build(node **next, int64_t from, int64_t to)
{
    node *n = (*next)++;
    int64_t mid = from + (to - from) / 2;
    n->value = mid;
    n->left = mid > from ? build(next, from, mid - 1) : NULL;
    n->right = mid < to ? build(next, mid + 1, to) : NULL;
    return n;
}

typedef struct sum_arg {
    const node *n;
    int64_t sum;
} sum_arg;

static void tree_sum(beat_ctx *ctx, void *p)
{
    sum_arg *a = (sum_arg *)p;
    const node *n = a->n;
    int64_t sum = n->value;
    if (n->left != NULL && n->right != NULL) {
        sum_arg l = {n->left, 0}, r = {n->right, 0};
        beat_pcall(ctx, tree_sum, &l, tree_sum, &r);
        sum += l.sum + r.sum;
    } else if (n->left != NULL || n->right != NULL) {
        sum_arg c = {n->left != NULL ? n->left : n->right, 0};
        tree_sum(ctx, &c);
        sum += c.sum;
    }
    a->sum = sum;
}

// The same sum on values: the node's address in, the sum out.
static uint64_t tree_sum_u64(beat_ctx *ctx, uint64_t p)
{
    const node *n = (const node *)(uintptr_t)p;
    uint64_t sum = (uint64_t)n->value;
    if (n->left != NULL && n->right != NULL) {
        beat_pair_u64 r = beat_pcall_u64(ctx, tree_sum_u64, (uintptr_t)n->left, tree_sum_u64,
                                         (uintptr_t)n->right);
        sum += r.a + r.b;
    } else if (n->left != NULL || n->right != NULL) {
        sum += tree_sum_u64(ctx, (uintptr_t)(n->left != NULL ? n->left : n->right));
    }
    return sum;
}

static void tree_sum_u64_run(beat_ctx *ctx, void *p)
{
    sum_arg *a = (sum_arg *)p;
    a->sum = (int64_t)tree_sum_u64(ctx, (uintptr_t)a->n);
}

static void tree_sum_is_right_at_every_size_and_worker_count(void)
{
    const int64_t sizes[] = {1, 2, 3, 1023, 65535, BT_SCALE(1000000, 100000)};
    node *nodes = (node *)malloc(sizeof(node) * (size_t)sizes[5]);
    CHECK(nodes != NULL);
    for (size_t i = 0; i < N_COUNTS; i++) {
        beat_pool *pool = make_pool(worker_counts[i]);
        CHECK(pool != NULL);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            node *next = nodes;
            const node *root = build(&next, 1, sizes[s]);
            sum_arg a = {root, 0};
            CHECK_EQ(beat_run(pool, tree_sum, &a), BEAT_OK);
            CHECK_MSG(a.sum == sizes[s] * (sizes[s] + 1) / 2, "tree of %lld nodes: %lld",
                      (long long)sizes[s], (long long)a.sum);
            sum_arg v = {root, 0};
            CHECK_EQ(beat_run(pool, tree_sum_u64_run, &v), BEAT_OK);
            CHECK_MSG(v.sum == a.sum, "tree of %lld nodes on values: %lld, want %lld",
                      (long long)sizes[s], (long long)v.sum, (long long)a.sum);
        }
        beat_pool_destroy(pool);
    }
    free(nodes);
}

// ---------------------------------------------------------------------------
// Random fork-join DAGs: each node is a leaf, a pcall of two children, a
// pcall_u64 of two children, or a spawn of up to 5 children waited on a
// counter; its value mixes its
// children's values in order. The serial evaluation of the same recursion
// gives the expected checksum.

typedef struct dag {
    uint64_t seed;
    int depth;
    uint64_t value;
} dag;

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15u + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdu;
}

static uint64_t next_seed(uint64_t s, uint64_t i) { return mix(s, i + 1); }

// Node kinds: 0 leaf, 1 pcall, 2 spawn/wait, 3 pcall_u64.
static unsigned dag_kind(uint64_t seed, int depth) { return depth == 0 ? 0 : (unsigned)(seed % 4); }

static unsigned dag_children(uint64_t seed, unsigned kind)
{
    return kind == 2 ? 1 + (unsigned)(seed >> 8) % 5 : 2;
}

static uint64_t dag_serial(uint64_t seed, int depth)
{
    unsigned kind = dag_kind(seed, depth);
    if (kind == 0)
        return mix(seed, 7);
    unsigned children = dag_children(seed, kind);
    uint64_t h = seed;
    for (unsigned i = 0; i < children; i++)
        h = mix(h, dag_serial(next_seed(seed, i), depth - 1));
    return h;
}

static void dag_task(beat_ctx *ctx, void *p);

// A child on values: it works on a copy, so its value reaches the parent
// only through beat_pcall_u64's result.
static uint64_t dag_u64(beat_ctx *ctx, uint64_t p)
{
    dag copy = *(const dag *)(uintptr_t)p;
    dag_task(ctx, &copy);
    return copy.value;
}

static void dag_task(beat_ctx *ctx, void *p)
{
    dag *d = (dag *)p;
    unsigned kind = dag_kind(d->seed, d->depth);
    if (kind == 0) {
        d->value = mix(d->seed, 7);
        return;
    }
    dag child[5];
    unsigned children = dag_children(d->seed, kind);
    for (unsigned i = 0; i < children; i++) {
        child[i].seed = next_seed(d->seed, i);
        child[i].depth = d->depth - 1;
        child[i].value = 0;
    }
    if (kind == 1) {
        beat_pcall(ctx, dag_task, &child[0], dag_task, &child[1]);
    } else if (kind == 3) {
        beat_pair_u64 r =
            beat_pcall_u64(ctx, dag_u64, (uintptr_t)&child[0], dag_u64, (uintptr_t)&child[1]);
        child[0].value = r.a;
        child[1].value = r.b;
    } else {
        beat_counter c = {0};
        for (unsigned i = 0; i < children; i++)
            beat_spawn(ctx, &c, dag_task, &child[i]);
        beat_wait(ctx, &c);
    }
    uint64_t h = d->seed;
    for (unsigned i = 0; i < children; i++)
        h = mix(h, child[i].value);
    d->value = h;
}

static void random_fork_join_dags_match_their_serial_checksum(void)
{
    const int dags = BT_SCALE(40, 10);
    for (size_t i = 0; i < N_COUNTS; i++) {
        beat_pool *pool = make_pool(worker_counts[i]);
        CHECK(pool != NULL);
        for (int k = 0; k < dags; k++) {
            dag d = {0x1234567u + (uint64_t)k * 7919u, 9 + k % 4, 0};
            CHECK_EQ(beat_run(pool, dag_task, &d), BEAT_OK);
            CHECK_MSG(d.value == dag_serial(d.seed, d.depth),
                      "dag %d (depth %d) with %u workers: checksum differs", k, d.depth,
                      worker_counts[i]);
        }
        beat_pool_destroy(pool);
    }
    bt_note("%d random DAGs (depth 9-12, pcall, pcall_u64 and spawn/wait nodes) x 1/2/3/8 workers",
            dags);
}

// ---------------------------------------------------------------------------
// Nesting: pcall inside parallel_for inside pcall.

typedef struct nest {
    uint64_t *slots; // slot i: fib(i % 16) written by the inner pcalls
    size_t n;
} nest;

static void nest_body(beat_ctx *ctx, size_t begin, size_t end, void *p)
{
    nest *s = (nest *)p;
    for (size_t i = begin; i < end; i++) {
        fib_arg x = {(int)(i % 16), 0}, y = {(int)(i % 7), 0};
        beat_pcall(ctx, fib_task, &x, fib_task, &y);
        s->slots[i] = (uint64_t)(x.result * 100 + y.result);
    }
}

static void nest_loop(beat_ctx *ctx, void *p)
{
    nest *s = (nest *)p;
    beat_parallel_for(ctx, 0, s->n, 0, nest_body, s);
}

typedef struct nest_pair {
    nest a, b;
} nest_pair;

static void nest_root(beat_ctx *ctx, void *p)
{
    nest_pair *pair = (nest_pair *)p;
    beat_pcall(ctx, nest_loop, &pair->a, nest_loop, &pair->b);
}

static void pcall_inside_parallel_for_inside_pcall_is_right(void)
{
    const size_t n = BT_SCALE(20000u, 2000u);
    uint64_t *slots = (uint64_t *)calloc(2 * n, sizeof *slots);
    CHECK(slots != NULL);
    for (size_t i = 0; i < N_COUNTS; i++) {
        beat_pool *pool = make_pool(worker_counts[i]);
        CHECK(pool != NULL);
        memset(slots, 0, 2 * n * sizeof *slots);
        nest_pair pair = {{slots, n}, {slots + n, n}};
        CHECK_EQ(beat_run(pool, nest_root, &pair), BEAT_OK);
        beat_pool_destroy(pool);
        for (size_t k = 0; k < 2 * n; k++) {
            size_t j = k % n;
            uint64_t want = (uint64_t)(fib_serial((int)(j % 16)) * 100 + fib_serial((int)(j % 7)));
            CHECK_MSG(slots[k] == want, "slot %zu with %u workers", k, worker_counts[i]);
        }
    }
    free(slots);
}

// A loop whose body pcalls: a split requested from inside the body must
// never hand out the chunk that is running (each index exactly once).
typedef struct counted {
    unsigned char *seen;
} counted;

static void counted_body(beat_ctx *ctx, size_t begin, size_t end, void *p)
{
    counted *c = (counted *)p;
    for (size_t i = begin; i < end; i++) {
        fib_arg x = {12, 0}, y = {11, 0};
        beat_pcall(ctx, fib_task, &x, fib_task, &y);
        __atomic_fetch_add(&c->seen[i], 1, __ATOMIC_RELAXED);
    }
}

static void a_loop_whose_body_pcalls_runs_each_index_once(void)
{
    const size_t n = BT_SCALE(50000u, 5000u);
    counted c = {(unsigned char *)calloc(n, 1)};
    CHECK(c.seen != NULL);
    for (size_t i = 0; i < N_COUNTS; i++) {
        beat_pool *pool = make_pool(worker_counts[i]);
        CHECK(pool != NULL);
        memset(c.seen, 0, n);
        CHECK_EQ(beat_pool_parallel_for(pool, 0, n, 0, counted_body, &c), BEAT_OK);
        beat_stats st;
        beat_pool_stats(pool, &st, NULL, 0);
        beat_pool_destroy(pool);
        size_t once = 0;
        for (size_t k = 0; k < n; k++)
            once += c.seen[k] == 1;
        CHECK_MSG(once == n, "%u workers: %zu of %zu indices ran exactly once", worker_counts[i],
                  once, n);
        if (worker_counts[i] == 2)
            bt_note("2 workers: %llu chunks, %llu promotions (splits and frames), %llu steals",
                    (unsigned long long)st.chunks, (unsigned long long)st.promotions,
                    (unsigned long long)st.steals);
    }
    free(c.seen);
}

// ---------------------------------------------------------------------------
// A chain of a million sequential pcalls: promotion and joins must not
// nest, so the stack stays where it started.

typedef struct chain {
    uintptr_t lowest;         // lowest stack address of a leaf run by the root's worker
    const beat_ctx *root_ctx; // leaves run elsewhere (stolen) are on another stack
    uint64_t sum;
} chain;

static void chain_leaf(beat_ctx *ctx, void *p)
{
    chain *c = (chain *)p;
    volatile char here = 0;
    uintptr_t at = (uintptr_t)&here;
    if (ctx == c->root_ctx && (c->lowest == 0 || at < c->lowest))
        c->lowest = at;
    __atomic_fetch_add(&c->sum, 1, __ATOMIC_RELAXED);
}

typedef struct chain_run {
    long links;
    chain left, right;
    uintptr_t top;
} chain_run;

static void chain_root(beat_ctx *ctx, void *p)
{
    chain_run *r = (chain_run *)p;
    volatile char here = 0;
    r->top = (uintptr_t)&here;
    r->left.root_ctx = ctx;
    r->right.root_ctx = ctx;
    for (long i = 0; i < r->links; i++)
        beat_pcall(ctx, chain_leaf, &r->left, chain_leaf, &r->right);
}

static void a_million_sequential_pcalls_keep_the_stack_flat(void)
{
    const long links = BT_SCALE(1000000L, 100000L);
    for (size_t i = 0; i < N_COUNTS; i++) {
        beat_pool *pool = make_pool(worker_counts[i]);
        CHECK(pool != NULL);
        chain_run r;
        memset(&r, 0, sizeof r);
        r.links = links;
        CHECK_EQ(beat_run(pool, chain_root, &r), BEAT_OK);
        beat_stats st;
        beat_pool_stats(pool, &st, NULL, 0);
        beat_pool_destroy(pool);
        CHECK_EQ(r.left.sum, (uint64_t)links);
        CHECK_EQ(r.right.sum, (uint64_t)links);
        // Only the owner's leaves are on this stack; a stolen one runs on the
        // thief's. Either way no leaf may run deeper than a few frames.
        uintptr_t lowest =
            r.left.lowest < r.right.lowest || r.right.lowest == 0 ? r.left.lowest : r.right.lowest;
        uintptr_t depth = r.top > lowest ? r.top - lowest : 0;
        CHECK_MSG(depth < 64 * 1024, "%u workers: a leaf ran %lu bytes below the chain's frame",
                  worker_counts[i], (unsigned long)depth);
        if (i == 1)
            bt_note("%ld pcalls in a chain, 2 workers: %llu promoted, deepest leaf %lu bytes "
                    "below the root",
                    links, (unsigned long long)st.promotions, (unsigned long)depth);
    }
}

// ---------------------------------------------------------------------------
// Promotion really happens: with two workers, an idle worker asks, the
// busy one promotes, and the idle one steals. (Retried: on a loaded
// machine the second worker may not get a CPU during one short run.)

static void idle_workers_get_promoted_frames_to_steal(void)
{
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    beat_stats st;
    memset(&st, 0, sizeof st);
    double start = bt_seconds();
    while (st.steals == 0 && bt_seconds() - start < 10) {
        fib_arg a = {27, 0};
        CHECK_EQ(beat_run(pool, fib_task, &a), BEAT_OK);
        CHECK_EQ(a.result, fib_serial(27));
        beat_pool_stats(pool, &st, NULL, 0);
    }
    beat_pool_destroy(pool);
    CHECK(st.promotions > 0);
    CHECK(st.steals > 0);
}

// A worker that parked restarts its heartbeat when it finds work again, as
// one that only spun does: the busy stretch, which paces promotion and the
// waking of parked workers, starts with the new work (it used to go on
// from the worker's last busy stretch before the park).
typedef struct busy_probe {
    uint64_t submitted, busy_since;
} busy_probe;

static void read_busy_since(beat_ctx *ctx, void *p)
{
    busy_probe *b = (busy_probe *)p;
    b->busy_since = ctx->busy_since;
}

static void a_worker_back_from_a_park_restarts_its_heartbeat(void)
{
    beat_pool *pool = make_pool(1);
    CHECK(pool != NULL);
    busy_probe b = {0, 0};
    CHECK_EQ(beat_submit(pool, read_busy_since, &b), BEAT_OK); // a first busy stretch
    beat_pool_wait(pool);
    for (int round = 0; round < 3; round++) {
        double start = bt_seconds();
        while (__atomic_load_n(&pool->idle_sleepers, __ATOMIC_ACQUIRE) != 1 &&
               bt_seconds() - start < 10) {
        }
        CHECK_EQ(__atomic_load_n(&pool->idle_sleepers, __ATOMIC_ACQUIRE), 1u);
        b.submitted = beat__now_ns();
        CHECK_EQ(beat_submit(pool, read_busy_since, &b), BEAT_OK);
        beat_pool_wait(pool);
        CHECK_MSG(b.busy_since >= b.submitted,
                  "round %d: the woken worker's busy stretch began %lld ns before the submit",
                  round, (long long)(b.submitted - b.busy_since));
    }
    beat_pool_destroy(pool);
}

// A pool's stats: per worker and total agree.
static void stats_per_worker_sum_to_the_total(void)
{
    beat_pool *pool = make_pool(3);
    CHECK(pool != NULL);
    fib_arg a = {BT_SCALE(25, 18), 0};
    CHECK_EQ(beat_run(pool, fib_task, &a), BEAT_OK);
    // A job runs on the workers only; beat_run's caller helps too, and the
    // total counts it.
    CHECK_EQ(beat_submit(pool, fib_task, &a), BEAT_OK);
    beat_pool_wait(pool);
    beat_stats total, per[3];
    CHECK_EQ(beat_pool_stats(pool, &total, per, 3), BEAT_OK);
    CHECK(per[0].pcalls + per[1].pcalls + per[2].pcalls <= total.pcalls);
    CHECK(per[0].pcalls + per[1].pcalls + per[2].pcalls >= fib_pcalls(a.n));
    CHECK_EQ(total.pcalls, 2 * fib_pcalls(a.n));
    CHECK_EQ(beat_pool_stats(NULL, &total, NULL, 0), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_pool_stats(pool, &total, NULL, 2), BEAT_ERROR_INVALID_ARGUMENT);
    beat_pool_destroy(pool);
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(fib_with_a_pcall_at_every_level_is_right_with_1_2_3_and_8_workers),
        BT_CASE(pcall_u64_fib_is_right_with_1_2_3_and_8_workers),
        BT_CASE(pcall_u64_frames_promoted_and_joined_by_their_owner_return_b),
        BT_CASE(frames_of_every_kind_in_one_list_are_promoted_as_their_kind),
        BT_CASE(tree_sum_is_right_at_every_size_and_worker_count),
        BT_CASE(random_fork_join_dags_match_their_serial_checksum),
        BT_CASE(pcall_inside_parallel_for_inside_pcall_is_right),
        BT_CASE(a_loop_whose_body_pcalls_runs_each_index_once),
        BT_CASE(a_million_sequential_pcalls_keep_the_stack_flat),
        BT_CASE(idle_workers_get_promoted_frames_to_steal),
        BT_CASE(stats_per_worker_sum_to_the_total),
        BT_CASE(a_worker_back_from_a_park_restarts_its_heartbeat),
    };
    return BT_RUN(cases);
}
