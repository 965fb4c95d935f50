// Tests of the One Euro filter and the execution-time predictor
// (src/predict.c) through the generated beat.h; this file defines
// BEAT_IMPLEMENTATION, so the private predictor functions are visible.
//
// What it proves:
// - the filter computes the paper's formulas (Casiez, Roussel, Vogel, CHI
//   2012), checked against a reference written out here from the paper on
//   constant, ramp, step and irregularly sampled input; its first sample,
//   repeated and earlier timestamps, non-finite input and parameter edge
//   cases behave as api/predict.h documents;
// - the predictor has no estimate for a function it has not timed, is exact
//   on constant durations, follows a x4 jump within a few samples, drops a
//   single outlier, samples short jobs one in `period`, combines workers as
//   documented, and evicts the least recently updated entry when a probe
//   window is full;
// - under concurrent updates (4 owners) and queries (2 readers), every
//   estimate lies within the durations fed for that function, also while
//   entries are evicted and refilled (run under TSan by make test SAN=tsan).
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"

#include <pthread.h>

#define PI 3.14159265358979323846

static double absd(double x) { return x < 0 ? -x : x; }

// Equal within a relative tolerance (the library writes alpha as r/(1+r)).
static int close_to(double a, double b) { return absd(a - b) <= 1e-12 * (absd(b) + 1e-300); }

// ---- A reference One Euro filter, from the paper's formulas -----------------

typedef struct ref_filter {
    double min_cutoff, beta, d_cutoff;
    double x_hat, dx_hat, t;
    int seen;
} ref_filter;

static ref_filter ref_make(double min_cutoff, double beta, double d_cutoff)
{
    ref_filter r = {min_cutoff, beta, d_cutoff, 0, 0, 0, 0};
    return r;
}

// alpha = 1 / (1 + tau / Te), tau = 1 / (2 pi fc).
static double ref_alpha(double cutoff, double te)
{
    double tau = 1.0 / (2 * PI * cutoff);
    return 1.0 / (1.0 + tau / te);
}

static double ref_step(ref_filter *r, double x, double t)
{
    if (!r->seen) { // X^_1 = X_1, dX^_1 = 0
        r->seen = 1;
        r->x_hat = x;
        r->dx_hat = 0;
        r->t = t;
        return x;
    }
    double te = t - r->t;
    double dx = (x - r->x_hat) / te;
    double ad = ref_alpha(r->d_cutoff, te);
    r->dx_hat = ad * dx + (1 - ad) * r->dx_hat;
    double fc = r->min_cutoff + r->beta * absd(r->dx_hat);
    double a = ref_alpha(fc, te);
    r->x_hat = a * x + (1 - a) * r->x_hat;
    r->t = t;
    return r->x_hat;
}

// Feeds n samples to both filters; every output must agree.
static int agree(double min_cutoff, double beta, double d_cutoff, const double *x, const double *t,
                 int n)
{
    beat_one_euro f;
    ref_filter r = ref_make(min_cutoff, beta, d_cutoff);
    beat_one_euro_init(&f, min_cutoff, beta, d_cutoff);
    for (int i = 0; i < n; i++) {
        double got = beat_one_euro_filter(&f, x[i], t[i]);
        double want = ref_step(&r, x[i], t[i]);
        if (!close_to(got, want)) {
            printf("     sample %d: got %.17g, reference %.17g\n", i, got, want);
            return 0;
        }
    }
    return 1;
}

static uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static double rng_unit(uint64_t *state) { return (double)(rng_next(state) >> 11) * 0x1p-53; }

#define N_SAMPLES 200

// ---- One Euro filter ----------------------------------------------------------

static void one_euro_first_sample_is_returned_as_is(void)
{
    beat_one_euro f;
    beat_one_euro_init(&f, 1.0, 0.5, 1.0);
    CHECK(!f.initialised);
    CHECK(beat_one_euro_filter(&f, 42.5, 3.0) == 42.5);
    CHECK(f.initialised);
    CHECK(f.x_prev == 42.5 && f.dx_prev == 0 && f.t_prev == 3.0);
}

static void one_euro_matches_the_paper_on_a_constant_input(void)
{
    double x[N_SAMPLES], t[N_SAMPLES];
    for (int i = 0; i < N_SAMPLES; i++) {
        x[i] = 7.25;
        t[i] = i * 0.01;
    }
    CHECK(agree(1.0, 0.007, 1.0, x, t, N_SAMPLES));
    beat_one_euro f;
    beat_one_euro_init(&f, 1.0, 0.007, 1.0);
    for (int i = 0; i < N_SAMPLES; i++)
        CHECK(beat_one_euro_filter(&f, 7.25, t[i]) == 7.25); // exactly
}

static void one_euro_matches_the_paper_on_a_ramp(void)
{
    double x[N_SAMPLES], t[N_SAMPLES];
    for (int i = 0; i < N_SAMPLES; i++) {
        x[i] = 3.0 * i;
        t[i] = i / 60.0;
    }
    CHECK(agree(1.0, 0.0, 1.0, x, t, N_SAMPLES));
    CHECK(agree(1.0, 0.1, 1.0, x, t, N_SAMPLES));
    CHECK(agree(0.5, 2.0, 3.0, x, t, N_SAMPLES));
}

static void one_euro_matches_the_paper_on_a_step(void)
{
    double x[N_SAMPLES], t[N_SAMPLES];
    for (int i = 0; i < N_SAMPLES; i++) {
        x[i] = i < N_SAMPLES / 2 ? 10.0 : 40.0;
        t[i] = i * 0.001;
    }
    CHECK(agree(1.0, 0.0, 1.0, x, t, N_SAMPLES));
    CHECK(agree(1.0, 0.05, 1.0, x, t, N_SAMPLES));
    CHECK(agree(0.01, 1.0, 0.1, x, t, N_SAMPLES));
}

static void one_euro_matches_the_paper_with_irregular_sampling(void)
{
    double x[N_SAMPLES], t[N_SAMPLES], now = 100.0;
    uint64_t rng = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < N_SAMPLES; i++) {
        now += 0.0005 + 0.05 * rng_unit(&rng); // 0.5 to 50.5 ms apart
        t[i] = now;
        x[i] = 100 + 20 * rng_unit(&rng) + (i > 120 ? 300 : 0);
    }
    CHECK(agree(1.0, 0.0, 1.0, x, t, N_SAMPLES));
    CHECK(agree(1.0, 0.01, 1.0, x, t, N_SAMPLES));
    CHECK(agree(2.0, 0.5, 0.3, x, t, N_SAMPLES));
}

// beta 0: a first-order low-pass with the constant alpha of min_cutoff; on
// a unit step from 0 it gives 1 - (1 - alpha)^n after n samples.
static void one_euro_with_beta_zero_is_a_fixed_low_pass(void)
{
    double te = 0.01, alpha = ref_alpha(2.0, te), keep = 1;
    beat_one_euro f;
    beat_one_euro_init(&f, 2.0, 0.0, 1.0);
    beat_one_euro_filter(&f, 0.0, 0.0);
    for (int n = 1; n <= 50; n++) {
        keep *= 1 - alpha;
        double got = beat_one_euro_filter(&f, 1.0, n * te);
        CHECK_MSG(absd(got - (1 - keep)) < 1e-12, "n %d: %.17g vs %.17g", n, got, 1 - keep);
    }
}

// Te <= 0: the sample is folded in with the previous period and the time
// does not move back.
static void one_euro_same_or_earlier_timestamp_reuses_the_previous_period(void)
{
    beat_one_euro f;
    ref_filter r = ref_make(1.0, 0.3, 1.0);
    beat_one_euro_init(&f, 1.0, 0.3, 1.0);
    static const double x[] = {10, 12, 30, 5, 11};
    // Reference timestamps: a sample at Te <= 0 counts as one period
    // (0.02 s) after the previous one; the next real one is 0.02 s after
    // the latest real timestamp.
    static const double t_lib[] = {1.00, 1.02, 1.02, 1.01, 1.04};
    static const double t_ref[] = {1.00, 1.02, 1.04, 1.06, 1.08};
    for (int i = 0; i < 5; i++) {
        double got = beat_one_euro_filter(&f, x[i], t_lib[i]);
        double want = ref_step(&r, x[i], t_ref[i]);
        CHECK_MSG(close_to(got, want), "sample %d: %.17g vs %.17g", i, got, want);
    }
    CHECK(f.t_prev == 1.04);
    CHECK(absd(f.dt_prev - 0.02) < 1e-15);
}

static void one_euro_same_timestamp_before_any_period_is_ignored(void)
{
    beat_one_euro f;
    beat_one_euro_init(&f, 1.0, 0.3, 1.0);
    CHECK(beat_one_euro_filter(&f, 5.0, 2.0) == 5.0);
    CHECK(beat_one_euro_filter(&f, 9.0, 2.0) == 5.0);
    CHECK(beat_one_euro_filter(&f, 9.0, 1.5) == 5.0);
    CHECK(f.t_prev == 2.0 && f.dt_prev == 0 && f.dx_prev == 0);
    double x[] = {5.0, 9.0}, t[] = {2.0, 2.5};
    ref_filter r = ref_make(1.0, 0.3, 1.0);
    ref_step(&r, x[0], t[0]);
    CHECK(close_to(beat_one_euro_filter(&f, x[1], t[1]), ref_step(&r, x[1], t[1])));
}

static void one_euro_ignores_non_finite_input(void)
{
    double nan = __builtin_nan(""), inf = __builtin_inf();
    beat_one_euro f;
    beat_one_euro_init(&f, 1.0, 0.3, 1.0);
    double first = beat_one_euro_filter(&f, nan, 0.0);
    CHECK(first != first); // returned as is
    CHECK(beat_one_euro_filter(&f, 4.0, inf) == 4.0);
    CHECK(!f.initialised);
    CHECK(beat_one_euro_filter(&f, 4.0, 0.0) == 4.0);
    CHECK(beat_one_euro_filter(&f, nan, 0.1) == 4.0);
    CHECK(beat_one_euro_filter(&f, inf, 0.1) == 4.0);
    CHECK(beat_one_euro_filter(&f, -inf, 0.1) == 4.0);
    CHECK(f.t_prev == 0.0);
    double out = beat_one_euro_filter(&f, 6.0, nan); // no period yet: ignored
    CHECK(out == 4.0);
    out = beat_one_euro_filter(&f, 6.0, 0.1);
    CHECK(out > 4.0 && out < 6.0);
    double folded = beat_one_euro_filter(&f, 6.0, inf); // folded, time kept
    CHECK(folded > out && folded < 6.0 && f.t_prev == 0.1);
}

static void one_euro_negative_parameters_are_taken_as_zero(void)
{
    beat_one_euro f;
    beat_one_euro_init(&f, -1.0, -2.0, __builtin_nan(""));
    CHECK(f.min_cutoff == 0 && f.beta == 0 && f.d_cutoff == 0);
    beat_one_euro_filter(&f, 3.0, 0.0);
    for (int i = 1; i < 20; i++) // min_cutoff 0, beta 0: alpha 0
        CHECK(beat_one_euro_filter(&f, 100.0 * i, i * 0.1) == 3.0);
    // d_cutoff 0 with beta > 0: the speed stays 0, a plain low-pass.
    double x[N_SAMPLES], t[N_SAMPLES];
    beat_one_euro g;
    beat_one_euro_init(&g, 1.0, 5.0, 0.0);
    ref_filter r = ref_make(1.0, 0.0, 1.0);
    for (int i = 0; i < N_SAMPLES; i++) {
        x[i] = i % 7;
        t[i] = i * 0.01;
        CHECK(close_to(beat_one_euro_filter(&g, x[i], t[i]), ref_step(&r, x[i], t[i])));
    }
}

static void one_euro_stays_within_the_range_of_its_input(void)
{
    uint64_t rng = 12345;
    beat_one_euro f;
    beat_one_euro_init(&f, 1.0, 10.0, 1.0);
    double lo = 1e300, hi = -1e300, t = 0;
    for (int i = 0; i < 100000; i++) {
        double x = rng_unit(&rng) < 0.01 ? 1000 * rng_unit(&rng) : 50 + rng_unit(&rng);
        t += 1e-6 + 0.1 * rng_unit(&rng);
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
        double y = beat_one_euro_filter(&f, x, t);
        CHECK_MSG(y >= lo * (1 - 1e-12) && y <= hi * (1 + 1e-12), "sample %d: %g not in [%g, %g]",
                  i, y, lo, hi);
    }
}

static void one_euro_keeps_a_finite_state_at_extreme_speeds(void)
{
    beat_one_euro f;
    beat_one_euro_init(&f, 1.0, 1.0, 1.0);
    beat_one_euro_filter(&f, 1e308, 0.0);
    for (int i = 1; i < 100; i++) {
        double y = beat_one_euro_filter(&f, i % 2 ? -1e308 : 1e308, i * 1e-300);
        CHECK(y - y == 0);
        CHECK(f.dx_prev - f.dx_prev == 0);
    }
}

// ---- Predictor ------------------------------------------------------------------

static void job_a(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
}

#ifndef BEAT_NO_PREDICT

// Distinct fake function addresses (never called).
static const void *key_of(unsigned k) { return (const void *)(uintptr_t)(4096u + 64u * k); }

static beat__predictor *make(unsigned workers, unsigned slots)
{
    beat__predictor *p = NULL;
    if (beat__predictor_create(workers, slots, NULL, &p) != BEAT_OK)
        return NULL;
    return p;
}

static size_t alloc_bytes, alloc_align;
static int alloc_calls, free_calls;

static void *counting_alloc(size_t size, size_t align, void *user)
{
    (void)user;
    alloc_bytes = size;
    alloc_align = align;
    alloc_calls++;
    void *p = NULL;
    return posix_memalign(&p, align, size) == 0 ? p : NULL;
}

static void counting_free(void *ptr, size_t size, size_t align, void *user)
{
    (void)user;
    if (size == alloc_bytes && align == alloc_align)
        free_calls++;
    free(ptr);
}

static void *failing_alloc(size_t size, size_t align, void *user)
{
    (void)size;
    (void)align;
    (void)user;
    return NULL;
}

static void predictor_create_checks_its_arguments_and_uses_the_allocator(void)
{
    beat__predictor *p = (beat__predictor *)(uintptr_t)1;
    beat_allocator half = {counting_alloc, NULL, NULL};
    beat_allocator failing = {failing_alloc, counting_free, NULL};
    beat_allocator counting = {counting_alloc, counting_free, NULL};
    CHECK(beat__predictor_create(1, 0, NULL, NULL) == BEAT_ERROR_INVALID_ARGUMENT);
    CHECK(beat__predictor_create(0, 0, NULL, &p) == BEAT_ERROR_INVALID_ARGUMENT);
    CHECK(p == NULL);
    CHECK(beat__predictor_create(1, 65537, NULL, &p) == BEAT_ERROR_INVALID_ARGUMENT);
    CHECK(beat__predictor_create(1, 0, &half, &p) == BEAT_ERROR_INVALID_ARGUMENT);
    CHECK(beat__predictor_create(1, 0, &failing, &p) == BEAT_ERROR_OUT_OF_MEMORY);
    CHECK(p == NULL);
    CHECK(beat__predictor_create(3, 100, &counting, &p) == BEAT_OK);
    CHECK(alloc_calls == 1 && alloc_align == BEAT_CACHELINE);
    CHECK(alloc_bytes >= 3 * 128 * sizeof(beat__predict_entry)); // 100 -> 128 slots
    CHECK(((uintptr_t)p->entries & (BEAT_CACHELINE - 1)) == 0);
    CHECK(p->mask == 127 && p->window == BEAT__PREDICT_PROBES);
    beat__predictor_destroy(p);
    CHECK(free_calls == 1);
    beat__predictor_destroy(NULL);
    bt_note("entry %zu bytes; 256 slots = %zu KiB per worker", sizeof(beat__predict_entry),
            256 * sizeof(beat__predict_entry) / 1024);
}

static void predictor_has_no_estimate_for_an_unknown_function(void)
{
    beat__predictor *p = make(2, 0);
    double ns = -1;
    CHECK(p != NULL);
    CHECK(!beat__predictor_estimate(p, BEAT__PREDICT_KEY(job_a), &ns));
    CHECK(!beat__predictor_estimate_worker(p, 0, BEAT__PREDICT_KEY(job_a), &ns));
    CHECK(ns == -1);
    CHECK(beat__predictor_sample_owner(p, 0, BEAT__PREDICT_KEY(job_a))); // unknown: timed
    beat__predictor_record_owner(p, 0, BEAT__PREDICT_KEY(job_a), 500, 1000);
    CHECK(beat__predictor_estimate(p, BEAT__PREDICT_KEY(job_a), &ns) && ns == 500);
    CHECK(beat__predictor_estimate_worker(p, 0, BEAT__PREDICT_KEY(job_a), &ns) && ns == 500);
    CHECK(!beat__predictor_estimate_worker(p, 1, BEAT__PREDICT_KEY(job_a), &ns));
    CHECK(!beat__predictor_estimate(p, key_of(1), &ns));
    // Ignored: NULL predictor or key, a worker out of range.
    beat__predictor_record_owner(p, 2, key_of(2), 500, 1000);
    beat__predictor_record_owner(p, 0, NULL, 500, 1000);
    beat__predictor_record_owner(NULL, 0, key_of(2), 500, 1000);
    CHECK(!beat__predictor_estimate(p, key_of(2), &ns));
    CHECK(!beat__predictor_estimate(p, NULL, &ns));
    CHECK(!beat__predictor_estimate(NULL, key_of(2), &ns));
    CHECK(!beat__predictor_estimate_worker(p, 2, BEAT__PREDICT_KEY(job_a), &ns));
    CHECK(!beat__predictor_sample_owner(p, 2, key_of(2)));
    CHECK(!beat__predictor_sample_owner(NULL, 0, key_of(2)));
    CHECK(!beat__predictor_sample_owner(p, 0, NULL));
    beat__predictor_destroy(p);
}

static void predictor_is_exact_on_constant_durations(void)
{
    beat__predictor *p = make(1, 0);
    double ns = 0;
    CHECK(p != NULL);
    for (uint64_t i = 1; i <= 1000; i++) {
        beat__predictor_record_owner(p, 0, key_of(3), 12345, i * 20000);
        CHECK(beat__predictor_estimate(p, key_of(3), &ns) && ns == 12345);
    }
    beat__predictor_destroy(p);
}

// Samples until the estimate is within 10 % of a new level after a jump.
static int samples_to_follow(double from, double to)
{
    beat__predictor *p = make(1, 0);
    uint64_t now = 0;
    double ns = 0;
    for (int i = 0; i < 100; i++)
        beat__predictor_record_owner(p, 0, key_of(4), (uint64_t)from, now += 1000000);
    int k = 0;
    do {
        beat__predictor_record_owner(p, 0, key_of(4), (uint64_t)to, now += 1000000);
        beat__predictor_estimate(p, key_of(4), &ns);
        k++;
    } while (absd(ns - to) > 0.1 * to && k < 1000);
    beat__predictor_destroy(p);
    return k;
}

// The median of three delays a step by one sample, the speed term then
// lifts the cutoff: bench/predict_bench.c has the same with noise.
static void predictor_follows_a_x4_jump_within_5_samples(void)
{
    int up = samples_to_follow(10000, 40000), down = samples_to_follow(40000, 10000);
    bt_note("x4 up: %d samples, /4 down: %d samples", up, down);
    CHECK(up <= 5);
    CHECK(down <= 5);
}

static void predictor_drops_a_single_outlier(void)
{
    beat__predictor *p = make(1, 0);
    double ns = 0;
    uint64_t now = 0;
    for (int i = 0; i < 50; i++)
        beat__predictor_record_owner(p, 0, key_of(5), 2000, now += 10000);
    beat__predictor_record_owner(p, 0, key_of(5), 50000, now += 10000);
    CHECK(beat__predictor_estimate(p, key_of(5), &ns) && ns == 2000);
    beat__predictor_record_owner(p, 0, key_of(5), 2000, now += 10000);
    CHECK(beat__predictor_estimate(p, key_of(5), &ns) && ns == 2000);
    beat__predictor_destroy(p);
}

static void predictor_records_loop_chunks_per_item(void)
{
    beat__predictor *p = make(1, 0);
    double ns = 0;
    uint64_t now = 0;
    beat__predictor_record_items_owner(p, 0, key_of(6), 1000, 0, now += 1000); // ignored
    CHECK(!beat__predictor_estimate(p, key_of(6), &ns));
    static const uint64_t items[] = {10, 100, 1000, 3, 20000};
    for (int i = 0; i < 5; i++) {
        beat__predictor_record_items_owner(p, 0, key_of(6), items[i] * 5 / 2, items[i],
                                           now += 1000);
        CHECK(beat__predictor_estimate(p, key_of(6), &ns) && close_to(ns, 2.5));
    }
    // The period follows the chunk (20000 items x 2.5 ns = 50 us), not the
    // item: every chunk is timed.
    for (int i = 0; i < 10; i++)
        CHECK(beat__predictor_sample_owner(p, 0, key_of(6)));
    beat__predictor_destroy(p);
}

// Counts how many of `calls` calls are timed when every run takes ns.
static uint64_t timed_calls(uint64_t ns, uint64_t calls)
{
    beat__predictor *p = make(1, 0);
    uint64_t timed = 0, now = 0;
    for (uint64_t i = 0; i < calls; i++) {
        now += ns;
        if (beat__predictor_sample_owner(p, 0, key_of(7))) {
            beat__predictor_record_owner(p, 0, key_of(7), ns, now);
            timed++;
        }
    }
    beat__predictor_destroy(p);
    return timed;
}

// Interleaves a 100 ns function and a 40 us one: each keeps its own
// period although the worker's hot function changes at every call.
static void predictor_keeps_each_period_when_functions_alternate(void)
{
    beat__predictor *p = make(1, 0);
    uint64_t timed_short = 0, timed_long = 0, now = 0, calls = 200000;
    for (uint64_t i = 0; i < calls; i++) {
        unsigned k = 10 + (unsigned)(i & 1);
        uint64_t ns = k == 10 ? 100 : 40000;
        now += ns;
        if (beat__predictor_sample_owner(p, 0, key_of(k))) {
            beat__predictor_record_owner(p, 0, key_of(k), ns, now);
            *(k == 10 ? &timed_short : &timed_long) += 1;
        }
    }
    bt_note("alternating: 100 ns timed 1 in %.1f, 40 us timed %llu of %llu",
            (double)(calls / 2) / (double)timed_short, (unsigned long long)timed_long,
            (unsigned long long)(calls / 2));
    CHECK_EQ(timed_long, calls / 2);
    CHECK((double)timed_short > 0.9 * (double)(calls / 2) / (BEAT__PREDICT_SPAN_NS / 100));
    CHECK((double)timed_short < 1.1 * (double)(calls / 2) / (BEAT__PREDICT_SPAN_NS / 100));
    beat__predictor_destroy(p);
}

// Within 10 % of one timed call in `period`.
static int about(uint64_t timed, uint64_t calls, double period)
{
    double want = (double)calls / period;
    return (double)timed > 0.9 * want && (double)timed < 1.1 * want;
}

static void predictor_times_long_jobs_always_and_short_ones_one_in_period(void)
{
    uint64_t calls = 1000000;
    uint64_t t100 = timed_calls(100, calls);  // period SPAN / 100 = 320
    uint64_t t4k = timed_calls(4000, calls);  // period 8
    uint64_t t1 = timed_calls(1, calls);      // capped at 1024
    uint64_t t40k = timed_calls(40000, 1000); // longer than SPAN: every call
    bt_note("timed: 100 ns 1 in %.1f, 4 us 1 in %.2f, 1 ns 1 in %.0f, 40 us %llu of 1000",
            (double)calls / (double)t100, (double)calls / (double)t4k, (double)calls / (double)t1,
            (unsigned long long)t40k);
    CHECK(about(t100, calls, BEAT__PREDICT_SPAN_NS / 100));
    CHECK(about(t4k, calls, BEAT__PREDICT_SPAN_NS / 4000));
    CHECK(about(t1, calls, BEAT__PREDICT_MAX_PERIOD));
    CHECK_EQ(t40k, 1000);
}

static void predictor_combines_fresh_workers_weighted_by_capped_count(void)
{
    beat__predictor *p = make(4, 0);
    double ns = 0;
    uint64_t s = 1000000000u;     // 1 s
    for (int i = 0; i < 100; i++) // count 100, weight 32
        beat__predictor_record_owner(p, 0, key_of(8), 1000, 10 * s + (uint64_t)i);
    for (int i = 0; i < 2; i++) // count 2, weight 2
        beat__predictor_record_owner(p, 1, key_of(8), 3000, 10 * s + 200 + (uint64_t)i);
    for (int i = 0; i < 50; i++) // last updated 1 s before the newest: left out
        beat__predictor_record_owner(p, 2, key_of(8), 9000, 9 * s + (uint64_t)i);
    CHECK(beat__predictor_estimate(p, key_of(8), &ns));
    CHECK_MSG(close_to(ns, (32.0 * 1000 + 2.0 * 3000) / 34), "estimate %.17g", ns);
    CHECK(beat__predictor_estimate_worker(p, 2, key_of(8), &ns) && ns == 9000);
    // Worker 2 becomes the freshest: 0 and 1 are now 1 s older, left out.
    beat__predictor_record_owner(p, 2, key_of(8), 9000, 11 * s);
    CHECK(beat__predictor_estimate(p, key_of(8), &ns) && ns == 9000);
    beat__predictor_destroy(p);
}

static int present(beat__predictor *p, unsigned k)
{
    double ns;
    return beat__predictor_estimate(p, key_of(k), &ns);
}

// 8 slots: the probe window is the whole table.
static void predictor_full_window_evicts_the_least_recently_updated(void)
{
    beat__predictor *p = make(1, 8);
    double ns = 0;
    for (unsigned k = 1; k <= 8; k++)
        beat__predictor_record_owner(p, 0, key_of(k), 100 * k, 1000 * k);
    for (unsigned k = 1; k <= 8; k++)
        CHECK(present(p, k));
    beat__predictor_record_owner(p, 0, key_of(9), 900, 9000); // evicts 1 (t 1000)
    CHECK(!present(p, 1));
    CHECK(beat__predictor_estimate(p, key_of(9), &ns) && ns == 900);
    beat__predictor_record_owner(p, 0, key_of(2), 200, 10000);   // 2 is fresh again
    beat__predictor_record_owner(p, 0, key_of(10), 1000, 11000); // evicts 3
    CHECK(!present(p, 3));
    CHECK(present(p, 2) && present(p, 10));
    for (unsigned k = 4; k <= 9; k++)
        CHECK(present(p, k));
    // A refilled entry starts over: no trace of the evicted function.
    beat__predictor_record_owner(p, 0, key_of(1), 7, 12000); // evicts 4
    CHECK(beat__predictor_estimate(p, key_of(1), &ns) && ns == 7);
    CHECK(!present(p, 4));
    beat__predictor_destroy(p);
}

static void predictor_table_keeps_the_latest_of_many_functions(void)
{
    beat__predictor *p = make(1, 0);
    unsigned kept = 0;
    for (unsigned k = 1; k <= 5000; k++) {
        beat__predictor_record_owner(p, 0, key_of(k), k, k);
        CHECK(present(p, k));
    }
    for (unsigned k = 1; k <= 5000; k++)
        kept += (unsigned)present(p, k);
    bt_note("5000 functions, 256 slots: %u kept", kept);
    CHECK(kept <= 256 && kept >= 200);
    beat__predictor_destroy(p);
}

// ---- Concurrency --------------------------------------------------------------

#define CONC_KEYS 24   // more than the 16 slots: constant eviction
#define CONC_WIDTH 500 // key k is fed durations in [base(k), base(k) + 500]

static beat__predictor *conc_p;
static uint32_t conc_writers_done;

static uint64_t conc_base(unsigned k) { return 1000u * (k + 1); }

typedef struct conc_arg {
    unsigned worker;
    uint64_t ops, found, checked;
    int bad;
    double bad_value;
    unsigned bad_key;
} conc_arg;

static void *conc_writer(void *varg)
{
    conc_arg *a = (conc_arg *)varg;
    uint64_t rng = 0x1234567u + a->worker * 7919u;
    for (uint64_t i = 0; i < a->ops; i++) {
        unsigned k = (unsigned)(rng_next(&rng) % CONC_KEYS);
        uint64_t ns = conc_base(k) + rng_next(&rng) % (CONC_WIDTH + 1);
        if (beat__predictor_sample_owner(conc_p, a->worker, key_of(k)) || (i & 3) == 0)
            beat__predictor_record_owner(conc_p, a->worker, key_of(k), ns, beat__now_ns());
    }
    beat__atomic_fetch_add_u32(&conc_writers_done, 1, BEAT__MO_RELEASE);
    return NULL;
}

static void *conc_reader(void *varg)
{
    conc_arg *a = (conc_arg *)varg;
    uint64_t rng = 0x7654321u + a->worker;
    while (beat__atomic_load_u32(&conc_writers_done, BEAT__MO_ACQUIRE) < 4) {
        unsigned k = (unsigned)(rng_next(&rng) % CONC_KEYS);
        double ns;
        int got = (rng_next(&rng) & 1)
                      ? beat__predictor_estimate(conc_p, key_of(k), &ns)
                      : beat__predictor_estimate_worker(conc_p, (unsigned)(rng_next(&rng) % 4),
                                                        key_of(k), &ns);
        a->checked++;
        if (!got)
            continue;
        a->found++;
        double lo = (double)conc_base(k), hi = lo + CONC_WIDTH;
        if (!(ns >= lo * (1 - 1e-12) && ns <= hi * (1 + 1e-12)) && !a->bad) {
            a->bad = 1;
            a->bad_value = ns;
            a->bad_key = k;
        }
    }
    return NULL;
}

static void predictor_concurrent_updates_are_never_torn(void)
{
    conc_arg args[6];
    pthread_t threads[6];
    uint64_t ops = BT_SCALE(2000000, 200000);
    double start = bt_seconds();
    CHECK(beat__predictor_create(4, 16, NULL, &conc_p) == BEAT_OK);
    conc_writers_done = 0;
    memset(args, 0, sizeof args);
    for (unsigned i = 0; i < 6; i++) {
        args[i].worker = i < 4 ? i : i - 4;
        args[i].ops = ops;
        CHECK(pthread_create(&threads[i], NULL, i < 4 ? conc_writer : conc_reader, &args[i]) == 0);
    }
    for (int i = 0; i < 6; i++)
        pthread_join(threads[i], NULL);
    beat__predictor_destroy(conc_p);
    uint64_t checked = args[4].checked + args[5].checked, found = args[4].found + args[5].found;
    bt_note("4 owners x %llu records over %d functions (16 slots), 2 readers: %llu queries, "
            "%llu estimates, %.2f s",
            (unsigned long long)ops, CONC_KEYS, (unsigned long long)checked,
            (unsigned long long)found, bt_seconds() - start);
    for (int i = 4; i < 6; i++)
        CHECK_MSG(!args[i].bad, "function %u: estimate %.17g outside [%llu, %llu]", args[i].bad_key,
                  args[i].bad_value, (unsigned long long)conc_base(args[i].bad_key),
                  (unsigned long long)conc_base(args[i].bad_key) + CONC_WIDTH);
    CHECK(found > 0);
}

#else // BEAT_NO_PREDICT

static void predictor_is_compiled_out_with_beat_no_predict(void)
{
    beat__predictor *p = (beat__predictor *)(uintptr_t)1;
    double ns = -1;
    CHECK(beat__predictor_create(4, 0, NULL, &p) == BEAT_OK && p == NULL);
    CHECK(!beat__predictor_sample_owner(p, 0, BEAT__PREDICT_KEY(job_a)));
    beat__predictor_record_owner(p, 0, BEAT__PREDICT_KEY(job_a), 100, 1000);
    CHECK(!beat__predictor_estimate(p, BEAT__PREDICT_KEY(job_a), &ns) && ns == -1);
    beat__predictor_destroy(p);
}

#endif // BEAT_NO_PREDICT

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(one_euro_first_sample_is_returned_as_is),
        BT_CASE(one_euro_matches_the_paper_on_a_constant_input),
        BT_CASE(one_euro_matches_the_paper_on_a_ramp),
        BT_CASE(one_euro_matches_the_paper_on_a_step),
        BT_CASE(one_euro_matches_the_paper_with_irregular_sampling),
        BT_CASE(one_euro_with_beta_zero_is_a_fixed_low_pass),
        BT_CASE(one_euro_same_or_earlier_timestamp_reuses_the_previous_period),
        BT_CASE(one_euro_same_timestamp_before_any_period_is_ignored),
        BT_CASE(one_euro_ignores_non_finite_input),
        BT_CASE(one_euro_negative_parameters_are_taken_as_zero),
        BT_CASE(one_euro_stays_within_the_range_of_its_input),
        BT_CASE(one_euro_keeps_a_finite_state_at_extreme_speeds),
#ifndef BEAT_NO_PREDICT
        BT_CASE(predictor_create_checks_its_arguments_and_uses_the_allocator),
        BT_CASE(predictor_has_no_estimate_for_an_unknown_function),
        BT_CASE(predictor_is_exact_on_constant_durations),
        BT_CASE(predictor_follows_a_x4_jump_within_5_samples),
        BT_CASE(predictor_drops_a_single_outlier),
        BT_CASE(predictor_records_loop_chunks_per_item),
        BT_CASE(predictor_times_long_jobs_always_and_short_ones_one_in_period),
        BT_CASE(predictor_keeps_each_period_when_functions_alternate),
        BT_CASE(predictor_combines_fresh_workers_weighted_by_capped_count),
        BT_CASE(predictor_full_window_evicts_the_least_recently_updated),
        BT_CASE(predictor_table_keeps_the_latest_of_many_functions),
        BT_CASE(predictor_concurrent_updates_are_never_torn),
#else
        BT_CASE(predictor_is_compiled_out_with_beat_no_predict),
#endif
    };
    return BT_RUN(cases);
}
