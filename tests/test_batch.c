// Batch variants (beat_register_batch): jobs of beat_submit_batch whose
// function has a variant are grouped by function into calls of up to
// BEAT_BATCH_WIDTH arguments, in submission order; other jobs run one by
// one; every job runs exactly once and counts for beat_pool_wait.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------
// Jobs: each argument is a slot of marks[]; a job adds its function's tag
// to the slot, so a slot tells which path ran it and how often.

enum {
    TAG_DIRECT_A = 1,
    TAG_VARIANT_A = 16,
    TAG_DIRECT_B = 256,
    TAG_DIRECT_C = 4096,
    TAG_VARIANT_C = 65536,
    TAG_VARIANT_A2 = 1 << 20
};

static unsigned *marks;
static unsigned variant_calls[3]; // A, C, A2
static unsigned full_calls[3];    // calls with BEAT_BATCH_WIDTH arguments
static unsigned order_faults;     // groups whose arguments were not in submission order
static unsigned oversized;        // groups above BEAT_BATCH_WIDTH or empty

static void mark(void *arg, unsigned tag)
{
    __atomic_fetch_add((unsigned *)arg, tag, __ATOMIC_RELAXED);
}

static void job_a(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    mark(arg, TAG_DIRECT_A);
}

static void job_b(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    mark(arg, TAG_DIRECT_B);
}

static void job_c(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    mark(arg, TAG_DIRECT_C);
}

static void run_group(void *const *args, size_t count, unsigned tag, unsigned which)
{
    __atomic_fetch_add(&variant_calls[which], 1, __ATOMIC_RELAXED);
    if (count == BEAT_BATCH_WIDTH)
        __atomic_fetch_add(&full_calls[which], 1, __ATOMIC_RELAXED);
    if (count == 0 || count > BEAT_BATCH_WIDTH)
        __atomic_fetch_add(&oversized, 1, __ATOMIC_RELAXED);
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && (unsigned *)args[i] <= (unsigned *)args[i - 1])
            __atomic_fetch_add(&order_faults, 1, __ATOMIC_RELAXED);
        mark(args[i], tag);
    }
}

static void variant_a(beat_ctx *ctx, void *const *args, size_t count)
{
    (void)ctx;
    run_group(args, count, TAG_VARIANT_A, 0);
}

static void variant_c(beat_ctx *ctx, void *const *args, size_t count)
{
    (void)ctx;
    run_group(args, count, TAG_VARIANT_C, 1);
}

static void variant_a2(beat_ctx *ctx, void *const *args, size_t count)
{
    (void)ctx;
    run_group(args, count, TAG_VARIANT_A2, 2);
}

static void reset(size_t n)
{
    free(marks);
    marks = (unsigned *)calloc(n, sizeof(unsigned));
    BEAT_ASSERT(marks != NULL);
    memset(variant_calls, 0, sizeof(variant_calls));
    memset(full_calls, 0, sizeof(full_calls));
    order_faults = oversized = 0;
}

static size_t groups_of(size_t n) { return (n + BEAT_BATCH_WIDTH - 1) / BEAT_BATCH_WIDTH; }

static beat_pool *make_pool(unsigned workers)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = workers;
    beat_pool *pool = NULL;
    beat_result r = beat_pool_create(&cfg, &pool);
    BEAT_ASSERT(r == BEAT_OK);
    return pool;
}

// Counts the slots whose mark is not exactly tag.
static size_t count_not(size_t begin, size_t end, size_t step, unsigned tag)
{
    size_t bad = 0;
    for (size_t i = begin; i < end; i += step)
        bad += marks[i] != tag;
    return bad;
}

// ---------------------------------------------------------------------------

static void variant_runs_jobs_in_groups_of_the_width(void)
{
    const size_t n = 1000;
    reset(n);
    beat_pool *pool = make_pool(2);
    CHECK_EQ(beat_register_batch(pool, job_a, variant_a), BEAT_OK);
    beat_job *jobs = (beat_job *)malloc(n * sizeof(beat_job));
    for (size_t i = 0; i < n; i++)
        jobs[i] = (beat_job){job_a, &marks[i]};
    CHECK_EQ(beat_submit_batch(pool, jobs, n), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_MSG(count_not(0, n, 1, TAG_VARIANT_A) == 0, "%zu jobs not run once by the variant",
              count_not(0, n, 1, TAG_VARIANT_A));
    CHECK_EQ(variant_calls[0], groups_of(n));
    CHECK_EQ(full_calls[0], n / BEAT_BATCH_WIDTH);
    CHECK_EQ(order_faults, 0);
    CHECK_EQ(oversized, 0);
    beat_pool_destroy(pool);
    free(jobs);
}

static void mixed_functions_are_grouped_by_function(void)
{
    // A (variant), B (none), C (variant) in a pseudo-random mix.
    const size_t n = 5003;
    reset(n);
    beat_pool *pool = make_pool(3);
    CHECK_EQ(beat_register_batch(pool, job_a, variant_a), BEAT_OK);
    CHECK_EQ(beat_register_batch(pool, job_c, variant_c), BEAT_OK);
    beat_job *jobs = (beat_job *)malloc(n * sizeof(beat_job));
    unsigned *want = (unsigned *)malloc(n * sizeof(unsigned));
    size_t na = 0, nc = 0;
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        unsigned pick = (x >> 16) % 3;
        beat_fn fn = pick == 0 ? job_a : pick == 1 ? job_b : job_c;
        want[i] = pick == 0 ? TAG_VARIANT_A : pick == 1 ? TAG_DIRECT_B : TAG_VARIANT_C;
        na += pick == 0;
        nc += pick == 2;
        jobs[i] = (beat_job){fn, &marks[i]};
    }
    CHECK_EQ(beat_submit_batch(pool, jobs, n), BEAT_OK);
    beat_pool_wait(pool);
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++)
        wrong += marks[i] != want[i];
    CHECK_MSG(wrong == 0, "%zu of %zu jobs ran on the wrong path or not once", wrong, n);
    CHECK_EQ(variant_calls[0], groups_of(na));
    CHECK_EQ(variant_calls[1], groups_of(nc));
    CHECK_EQ(full_calls[0], na / BEAT_BATCH_WIDTH);
    CHECK_EQ(order_faults, 0);
    CHECK_EQ(oversized, 0);
    beat_pool_destroy(pool);
    free(jobs);
    free(want);
}

// A job that submits a batch from inside the pool (the local-push path).
static void submit_from_inside(beat_ctx *ctx, void *arg)
{
    const beat_job *jobs = (const beat_job *)arg;
    beat_result r = beat_submit_batch(beat_ctx_pool(ctx), jobs, 100);
    BEAT_ASSERT(r == BEAT_OK);
}

static void batches_submitted_from_jobs_are_grouped_and_waited_for(void)
{
    const size_t n = 800; // 8 submits of 100 from jobs
    reset(n);
    beat_pool *pool = make_pool(2);
    CHECK_EQ(beat_register_batch(pool, job_a, variant_a), BEAT_OK);
    beat_job *jobs = (beat_job *)malloc(n * sizeof(beat_job));
    for (size_t i = 0; i < n; i++)
        jobs[i] = (beat_job){job_a, &marks[i]};
    for (size_t k = 0; k < n / 100; k++)
        CHECK_EQ(beat_submit(pool, submit_from_inside, jobs + k * 100), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(count_not(0, n, 1, TAG_VARIANT_A), 0);
    CHECK_EQ(variant_calls[0], (n / 100) * groups_of(100));
    beat_pool_destroy(pool);
    free(jobs);
}

static void single_submits_call_the_job_function(void)
{
    const size_t n = 64;
    reset(n);
    beat_pool *pool = make_pool(2);
    CHECK_EQ(beat_register_batch(pool, job_a, variant_a), BEAT_OK);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(beat_submit(pool, job_a, &marks[i]), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(count_not(0, n, 1, TAG_DIRECT_A), 0);
    CHECK_EQ(variant_calls[0], 0);
    beat_pool_destroy(pool);
}

static void registering_again_replaces_and_null_removes(void)
{
    const size_t n = 100;
    reset(3 * n);
    beat_pool *pool = make_pool(2);
    beat_job *jobs = (beat_job *)malloc(3 * n * sizeof(beat_job));
    for (size_t i = 0; i < 3 * n; i++)
        jobs[i] = (beat_job){job_a, &marks[i]};
    CHECK_EQ(beat_register_batch(pool, job_a, variant_a), BEAT_OK);
    CHECK_EQ(beat_register_batch(pool, job_a, variant_a2), BEAT_OK);
    CHECK_EQ(beat_submit_batch(pool, jobs, n), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(count_not(0, n, 1, TAG_VARIANT_A2), 0);
    CHECK_EQ(variant_calls[0], 0);
    CHECK_EQ(beat_register_batch(pool, job_a, NULL), BEAT_OK);
    CHECK_EQ(beat_submit_batch(pool, jobs + n, n), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(count_not(n, 2 * n, 1, TAG_DIRECT_A), 0);
    CHECK_EQ(beat_register_batch(pool, job_a, variant_a), BEAT_OK);
    CHECK_EQ(beat_submit_batch(pool, jobs + 2 * n, n), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(count_not(2 * n, 3 * n, 1, TAG_VARIANT_A), 0);
    beat_pool_destroy(pool);
    free(jobs);
}

// BEAT_BATCH_VARIANTS + 1 distinct job functions.
// clang-format off
#define FN_LIST(X) \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) \
    X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) \
    X(31) X(32)
// clang-format on
#define DEFINE_FN(k)                                                                               \
    static void many_##k(beat_ctx *ctx, void *arg)                                                 \
    {                                                                                              \
        (void)ctx;                                                                                 \
        (void)arg;                                                                                 \
    }
FN_LIST(DEFINE_FN)
#define LIST_FN(k) many_##k,
static const beat_fn many[] = {FN_LIST(LIST_FN)};

static unsigned logged_errors;
static void count_errors(beat_log_level level, const char *message, void *user)
{
    (void)message;
    (void)user;
    if (level == BEAT_LOG_ERROR)
        logged_errors++;
}

static void a_full_table_refuses_new_functions_and_keeps_old_ones(void)
{
    CHECK_EQ(sizeof(many) / sizeof(many[0]), (size_t)BEAT_BATCH_VARIANTS + 1);
    reset(1);
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 1;
    cfg.logger.fn = count_errors;
    logged_errors = 0;
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    // Removing what was never registered takes no entry.
    CHECK_EQ(beat_register_batch(pool, job_b, NULL), BEAT_OK);
    for (unsigned k = 0; k < BEAT_BATCH_VARIANTS; k++)
        CHECK_EQ(beat_register_batch(pool, many[k], variant_a), BEAT_OK);
    CHECK_EQ(logged_errors, 0);
    CHECK_EQ(beat_register_batch(pool, many[BEAT_BATCH_VARIANTS], variant_a),
             BEAT_ERROR_OUT_OF_MEMORY);
    CHECK_EQ(logged_errors, 1);
    // Removed and registered again: its entry stays.
    CHECK_EQ(beat_register_batch(pool, many[3], NULL), BEAT_OK);
    CHECK_EQ(beat_register_batch(pool, many[3], variant_c), BEAT_OK);
    // The last registered function still gets its variant.
    beat_job job = {many[BEAT_BATCH_VARIANTS - 1], &marks[0]};
    CHECK_EQ(beat_submit_batch(pool, &job, 1), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(marks[0], TAG_VARIANT_A);
    beat_pool_destroy(pool);
}

static void invalid_arguments_are_refused(void)
{
    beat_pool *pool = make_pool(1);
    CHECK_EQ(beat_register_batch(NULL, job_a, variant_a), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_register_batch(pool, NULL, variant_a), BEAT_ERROR_INVALID_ARGUMENT);
    beat_pool_destroy(pool);
}

// An allocator that refuses every request while fail is set.
static int fail_alloc;
static void *test_alloc(size_t size, size_t align, void *user)
{
    (void)user;
    if (__atomic_load_n(&fail_alloc, __ATOMIC_RELAXED))
        return NULL;
    void *p = NULL;
    return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) == 0 ? p
                                                                                          : NULL;
}
static void test_free(void *ptr, size_t size, size_t align, void *user)
{
    (void)size;
    (void)align;
    (void)user;
    free(ptr);
}

static void out_of_memory_queues_nothing(void)
{
    const size_t n = 100;
    reset(n);
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 2;
    cfg.allocator = (beat_allocator){test_alloc, test_free, NULL};
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    CHECK_EQ(beat_register_batch(pool, job_a, variant_a), BEAT_OK);
    beat_job jobs[100];
    for (size_t i = 0; i < n; i++)
        jobs[i] = (beat_job){i % 2 ? job_a : job_b, &marks[i]};
    __atomic_store_n(&fail_alloc, 1, __ATOMIC_RELAXED);
    CHECK_EQ(beat_submit_batch(pool, jobs, n), BEAT_ERROR_OUT_OF_MEMORY);
    __atomic_store_n(&fail_alloc, 0, __ATOMIC_RELAXED);
    beat_pool_wait(pool);
    CHECK_EQ(count_not(0, n, 1, 0), 0);
    CHECK_EQ(beat_submit_batch(pool, jobs, n), BEAT_OK);
    beat_pool_wait(pool);
    CHECK_EQ(count_not(1, n, 2, TAG_VARIANT_A), 0);
    CHECK_EQ(count_not(0, n, 2, TAG_DIRECT_B), 0);
    beat_pool_destroy(pool);
}

// A finished batch's allocation is kept as a spare and serves the next
// batch that fits; a batch too big for it gets a new one (the small spare
// is freed); batches above the limit are never kept; spares go back to the
// allocator under memory pressure (the trim) and at destroy (the sanitizer
// builds check that nothing leaks).
static unsigned spares_held(beat_pool *pool, void **first)
{
    unsigned n = 0;
    *first = NULL;
    for (unsigned i = 0; i < BEAT__BATCH_SPARES; i++) {
        void *p = __atomic_load_n(&pool->batch_spares[i], __ATOMIC_ACQUIRE);
        if (p != NULL && n++ == 0)
            *first = p;
    }
    return n;
}

static void run_batch(beat_pool *pool, size_t n)
{
    beat_job *jobs = (beat_job *)malloc(n * sizeof *jobs);
    for (size_t i = 0; i < n; i++)
        jobs[i] = (beat_job){job_b, &marks[i]};
    CHECK_EQ(beat_submit_batch(pool, jobs, n), BEAT_OK);
    free(jobs);
    beat_pool_wait(pool);
}

static void finished_batches_lend_their_allocation_to_the_next(void)
{
    const size_t small = 100, big = 20000, huge = ((size_t)1 << 20) / sizeof(beat_job) + 1;
    reset(huge);
    beat_pool *pool = make_pool(1);
    void *spare = NULL, *again = NULL;
    CHECK_EQ(spares_held(pool, &spare), 0u);
    run_batch(pool, small);
    CHECK_EQ(spares_held(pool, &spare), 1u); // kept when it finished
    run_batch(pool, small / 2);              // fits: the same allocation
    CHECK_EQ(spares_held(pool, &again), 1u);
    CHECK(again == spare);
    CHECK(((beat__batch *)spare)->bytes % BEAT__BATCH_PAGE == 0);
    run_batch(pool, big); // too big for it: a new one, the small one freed
    CHECK_EQ(spares_held(pool, &again), 1u);
    CHECK(((beat__batch *)again)->bytes >= big * sizeof(beat_job));
    run_batch(pool, huge); // above the limit: freed, the big one stays
    void *left = NULL;
    CHECK_EQ(spares_held(pool, &left), 1u);
    CHECK(left == again);
    // Every batch ran each of its jobs once: slot i is in the batches longer than i.
    CHECK_EQ(count_not(0, small / 2, 1, 4 * TAG_DIRECT_B), 0);
    CHECK_EQ(count_not(small / 2, small, 1, 3 * TAG_DIRECT_B), 0);
    CHECK_EQ(count_not(small, big, 1, 2 * TAG_DIRECT_B), 0);
    CHECK_EQ(count_not(big, huge, 1, TAG_DIRECT_B), 0);
    size_t kept = ((beat__batch *)again)->bytes;
    CHECK_EQ(beat__batch_spares_trim(pool), kept);
    CHECK_EQ(spares_held(pool, &left), 0u);
    run_batch(pool, small); // kept again, then freed by destroy
    CHECK_EQ(spares_held(pool, &left), 1u);
    beat_pool_destroy(pool);
}

// Threads submit batches while another toggles the variant: every job runs
// exactly once, by the variant or directly.
typedef struct racer {
    beat_pool *pool;
    size_t first, count;
} racer;

static unsigned submitters_done;

static void *submitter(void *arg)
{
    racer *r = (racer *)arg;
    beat_job jobs[50];
    for (size_t done = 0; done < r->count; done += 50) {
        for (size_t i = 0; i < 50; i++)
            jobs[i] = (beat_job){job_a, &marks[r->first + done + i]};
        BEAT_ASSERT(beat_submit_batch(r->pool, jobs, 50) == BEAT_OK);
    }
    __atomic_fetch_add(&submitters_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void registration_races_with_submits(void)
{
    const size_t per = BT_SCALE(200000, 20000);
    const size_t n = 2 * per;
    reset(n);
    beat_pool *pool = make_pool(2);
    racer rs[2] = {{pool, 0, per}, {pool, per, per}};
    pthread_t th[2];
    __atomic_store_n(&submitters_done, 0, __ATOMIC_RELAXED); // before the threads exist
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, submitter, &rs[i]);
    for (unsigned k = 0; __atomic_load_n(&submitters_done, __ATOMIC_ACQUIRE) < 2; k++)
        CHECK_EQ(beat_register_batch(pool, job_a, k % 2 ? NULL : variant_a), BEAT_OK);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    beat_pool_wait(pool);
    size_t by_variant = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        by_variant += marks[i] == TAG_VARIANT_A;
        bad += marks[i] != TAG_VARIANT_A && marks[i] != TAG_DIRECT_A;
    }
    CHECK_MSG(bad == 0, "%zu of %zu jobs did not run exactly once", bad, n);
    CHECK_EQ(order_faults, 0);
    bt_note("%zu of %zu jobs ran through the variant", by_variant, n);
    beat_pool_destroy(pool);
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(variant_runs_jobs_in_groups_of_the_width),
        BT_CASE(mixed_functions_are_grouped_by_function),
        BT_CASE(batches_submitted_from_jobs_are_grouped_and_waited_for),
        BT_CASE(single_submits_call_the_job_function),
        BT_CASE(registering_again_replaces_and_null_removes),
        BT_CASE(a_full_table_refuses_new_functions_and_keeps_old_ones),
        BT_CASE(invalid_arguments_are_refused),
        BT_CASE(out_of_memory_queues_nothing),
        BT_CASE(finished_batches_lend_their_allocation_to_the_next),
        BT_CASE(registration_races_with_submits),
    };
    int rc = BT_RUN(cases);
    free(marks);
    return rc;
}
