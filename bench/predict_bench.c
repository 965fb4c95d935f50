// Prediction error of the execution-time predictor (src/predict.c) against
// plain moving averages, on a deterministic simulation: job durations that
// drift (a slow ramp), jump (x4 up, later /4 down) and carry noise (seeded
// LCG, uniform +-15 %), then the same with 1 % of outliers at x3 (a
// preempted or page-faulting run). Every job is predicted from the jobs
// before it; the error is |prediction - duration| / duration. The jobs run
// back to back on one simulated worker; the predictor's filter counts
// samples, not time, so the spacing does not change its numbers.
//
//   predict_bench            the accuracy tables (deterministic, no timing)
//   predict_bench --cost     per-sample cost and the sampling overhead on
//                            ~500-cycle tasks (timing: run on a quiet machine)
#define BEAT_IMPLEMENTATION
#include "../beat.h"

#include "bench.h"
#include "workloads.h"

#define JOBS 6000
#define JUMP_UP 3000   // first job at 4x the level
#define JUMP_DOWN 4500 // first job back at 1/4
#define AFTER 10       // "after a jump" = these many jobs
#define SETTLE 100     // jobs after the start and each jump that are not "steady"
#define SEEDS 5

// ---------------------------------------------------------------------------
// The simulated workload

typedef struct sim {
    double level[JOBS];    // noise-free duration, ns
    double duration[JOBS]; // what the job took, ns
    uint64_t end_ns[JOBS]; // when it finished (the sample's timestamp)
} sim;

static uint64_t lcg_next(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s >> 11; // 53 bits
}

static double lcg_unit(uint64_t *s) { return (double)lcg_next(s) * (1.0 / 9007199254740992.0); }

// 2 us for 1000 jobs, a ramp to 3 us over 2000 jobs, x4, then /4.
static double sim_level(int i)
{
    double base = i < 1000 ? 2e3 : i < 3000 ? 2e3 + 1e3 * (i - 1000) / 2000.0 : 3e3;
    return i >= JUMP_UP && i < JUMP_DOWN ? 4 * base : base;
}

static void sim_make(sim *s, uint64_t seed, int outliers)
{
    uint64_t rng = seed, t = 1000000000u; // the clock starts at 1 s
    for (int i = 0; i < JOBS; i++) {
        double noise = 1 + 0.30 * (lcg_unit(&rng) - 0.5);
        if (lcg_unit(&rng) < 0.01 && outliers)
            noise *= 3;
        s->level[i] = sim_level(i);
        s->duration[i] = s->level[i] * noise;
        t += (uint64_t)s->duration[i];
        s->end_ns[i] = t;
    }
}

// ---------------------------------------------------------------------------
// Predictors: each predicts job i from jobs 0..i-1

typedef struct errors {
    double mape;      // all jobs, %
    double mape_jump; // the AFTER jobs after each jump, %
    double lag[2];    // jobs after each jump until the first within 10 %
    double misses;    // % of steady jobs predicted more than 10 % off
} errors;

// Off the noise-free level by more than 10 %.
static int off(const sim *s, const double *pred, int i)
{
    return fabs(pred[i] - s->level[i]) > 0.10 * s->level[i];
}

static void score(const sim *s, const double *pred, errors *e)
{
    static const int jumps[2] = {JUMP_UP, JUMP_DOWN};
    double sum = 0, sum_jump = 0;
    int steady = 0, misses = 0;
    for (int i = 1; i < JOBS; i++) {
        sum += fabs(pred[i] - s->duration[i]) / s->duration[i];
        int settling = i < SETTLE || (i >= JUMP_UP && i < JUMP_UP + SETTLE) ||
                       (i >= JUMP_DOWN && i < JUMP_DOWN + SETTLE);
        if (!settling) {
            steady++;
            misses += off(s, pred, i);
        }
    }
    e->mape += 100 * sum / (JOBS - 1);
    e->misses += 100.0 * misses / steady;
    for (int j = 0; j < 2; j++) {
        for (int i = jumps[j]; i < jumps[j] + AFTER; i++)
            sum_jump += fabs(pred[i] - s->duration[i]) / s->duration[i];
        int i = jumps[j];
        while (i < JOBS && off(s, pred, i))
            i++;
        e->lag[j] += i - jumps[j];
    }
    e->mape_jump += 100 * sum_jump / (2 * AFTER);
}

static void predict_moving_average(const sim *s, int window, double *pred)
{
    double sum = 0;
    pred[0] = 0;
    for (int i = 1; i < JOBS; i++) {
        sum += s->duration[i - 1];
        if (i > window)
            sum -= s->duration[i - 1 - window];
        pred[i] = sum / (i < window ? i : window);
    }
}

static void job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
}

// The predictor as the scheduler drives it, one worker; sampled: ask
// beat__predictor_sample_owner before each job, as the scheduler does.
static void predict_beat(const sim *s, int sampled, double *pred, int *timed)
{
    beat__predictor *p;
    if (beat__predictor_create(1, 0, NULL, &p) != BEAT_OK) {
        fprintf(stderr, "predict_bench: beat__predictor_create failed\n");
        exit(1);
    }
    const void *key = BEAT__PREDICT_KEY(job);
    *timed = 0;
    for (int i = 0; i < JOBS; i++) {
        if (!beat__predictor_estimate(p, key, &pred[i]))
            pred[i] = 0;
        if (!sampled || beat__predictor_sample_owner(p, 0, key)) {
            beat__predictor_record_owner(p, 0, key, (uint64_t)s->duration[i], s->end_ns[i]);
            ++*timed;
        }
    }
    beat__predictor_destroy(p);
}

// The noise-free level: the floor any predictor can reach on this noise.
static void predict_oracle(const sim *s, double *pred)
{
    for (int i = 0; i < JOBS; i++)
        pred[i] = s->level[i];
}

static void accuracy(int outliers)
{
    enum { ONE_EURO, ONE_EURO_SAMPLED, MA8, MA32, ORACLE, ROWS };
    static const char *names[ROWS] = {"One Euro (predictor)", "One Euro, sampled",
                                      "moving average 8", "moving average 32",
                                      "noise-free level (floor)"};
    static sim s;
    static double pred[JOBS];
    errors e[ROWS];
    int timed = 0, timed_sampled = 0;
    memset(e, 0, sizeof e);
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        sim_make(&s, seed, outliers);
        predict_beat(&s, 0, pred, &timed);
        score(&s, pred, &e[ONE_EURO]);
        predict_beat(&s, 1, pred, &timed_sampled);
        score(&s, pred, &e[ONE_EURO_SAMPLED]);
        predict_moving_average(&s, 8, pred);
        score(&s, pred, &e[MA8]);
        predict_moving_average(&s, 32, pred);
        score(&s, pred, &e[MA32]);
        predict_oracle(&s, pred);
        score(&s, pred, &e[ORACLE]);
    }
    printf("\n%s: %d jobs, mean of %d seeds\n",
           outliers ? "noise +-15 %, 1 % outliers x3" : "noise +-15 %", JOBS, SEEDS);
    printf("| %-24s | MAPE %% | MAPE %%, %d after jumps | lag up | lag down | steady misses %% |\n",
           "predictor", AFTER);
    printf("|--------------------------|--------|------------------------|--------|----------|"
           "-----------------|\n");
    for (int r = 0; r < ROWS; r++)
        printf("| %-24s | %6.1f | %22.1f | %6.1f | %8.1f | %15.1f |\n", names[r], e[r].mape / SEEDS,
               e[r].mape_jump / SEEDS, e[r].lag[0] / SEEDS, e[r].lag[1] / SEEDS,
               e[r].misses / SEEDS);
    printf("sampled: %d of %d jobs timed (last seed)\n", timed_sampled, JOBS);
}

// ---------------------------------------------------------------------------
// --cost: what sampling costs (timing; noisy machines give noisy numbers)

static double cost_ns_per_call(void (*body)(uint64_t n, uint64_t *sink), uint64_t n)
{
    uint64_t sink = 0;
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        uint64_t t0 = beat__now_ns();
        body(n, &sink);
        double ns = (double)(beat__now_ns() - t0) / (double)n;
        best = ns < best ? ns : best;
    }
    bench_sink_u64(sink);
    return best;
}

// The predictor the sampled loops use; NULL in the control loop (same
// call and branch, no table), which shows what the loop shape alone costs.
static beat__predictor *cost_p, *cost_active;

static void body_clock(uint64_t n, uint64_t *sink)
{
    for (uint64_t i = 0; i < n; i++)
        *sink += beat__now_ns();
}

static void body_record(uint64_t n, uint64_t *sink)
{
    uint64_t now = beat__now_ns();
    for (uint64_t i = 0; i < n; i++)
        beat__predictor_record_owner(cost_p, 0, BEAT__PREDICT_KEY(job), 20 + (i & 7),
                                     now + i * 200);
    *sink += now;
}

// An untimed call: 20 ns jobs give the longest period, so nearly every
// call is the lookup and the countdown (plus a record now and then).
static void body_sample(uint64_t n, uint64_t *sink)
{
    uint64_t now = beat__now_ns();
    for (uint64_t i = 0; i < n; i++) {
        if (beat__predictor_sample_owner(cost_p, 0, BEAT__PREDICT_KEY(job)))
            beat__predictor_record_owner(cost_p, 0, BEAT__PREDICT_KEY(job), 20, now + i);
    }
    *sink += now;
}

// ~500-cycle tasks (workloads.h's spin, as the tasks benchmark runs them):
// plain, and with the scheduler's sampling path around each call.
static void body_tasks_plain(uint64_t n, uint64_t *sink)
{
    uint64_t iters = spin_iters(500);
    for (uint64_t i = 0; i < n; i++)
        *sink += spin(iters, i);
}

static void body_tasks_sampled(uint64_t n, uint64_t *sink)
{
    uint64_t iters = spin_iters(500);
    const void *key = BEAT__PREDICT_KEY(spin);
    for (uint64_t i = 0; i < n; i++) {
        if (beat__predictor_sample_owner(cost_active, 0, key)) {
            uint64_t t0 = beat__now_ns();
            *sink += spin(iters, i);
            uint64_t t1 = beat__now_ns();
            beat__predictor_record_owner(cost_active, 0, key, t1 - t0, t1);
        } else {
            *sink += spin(iters, i);
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Median over rounds of (loop / plain loop run around it) - 1, in %.
static double tasks_overhead(beat__predictor *p)
{
    enum { ROUNDS = 31 };
    double ratio[ROUNDS];
    cost_active = p;
    for (int r = 0; r < ROUNDS; r++) {
        double a = cost_ns_per_call(body_tasks_plain, 200000);
        double b = cost_ns_per_call(body_tasks_sampled, 200000);
        double c = cost_ns_per_call(body_tasks_plain, 200000);
        ratio[r] = 2 * b / (a + c);
    }
    qsort(ratio, ROUNDS, sizeof ratio[0], cmp_double);
    return 100 * (ratio[ROUNDS / 2] - 1);
}

static void cost(void)
{
    if (beat__predictor_create(1, 0, NULL, &cost_p) != BEAT_OK) {
        fprintf(stderr, "predict_bench: beat__predictor_create failed\n");
        exit(1);
    }
    double clock_ns = cost_ns_per_call(body_clock, 2000000);
    double record_ns = cost_ns_per_call(body_record, 2000000);
    double sample_ns = cost_ns_per_call(body_sample, 20000000);
    double task_ns = cost_ns_per_call(body_tasks_plain, 1000000);
    double timed_ns = 2 * clock_ns + record_ns, period = BEAT__PREDICT_SPAN_NS / task_ns;
    printf("clock read (beat__now_ns)              %6.1f ns\n", clock_ns);
    printf("beat__predictor_record_owner           %6.1f ns\n", record_ns);
    printf("one timed call: 2 clocks + record      %6.1f ns\n", timed_ns);
    printf("beat__predictor_sample_owner, untimed  %6.1f ns (alone in a loop)\n", sample_ns);
    printf("~500-cycle task                        %6.1f ns: one call in %.0f timed\n", task_ns,
           period);
    printf("sum of the parts per task: %.2f ns timing + %.1f ns lookup = %.2f %% at most\n",
           timed_ns / period, sample_ns, 100 * (timed_ns / period + sample_ns) / task_ns);
    double with_table = tasks_overhead(cost_p), control = tasks_overhead(NULL);
    printf("A/B on a serial loop of the tasks (median of 31 paired rounds):\n");
    printf("  sampled %+.2f %%; control, same call on a NULL predictor, %+.2f %%\n", with_table,
           control);
    printf("  (the control is the loop shape alone: code layout; the difference between\n");
    printf("  the two is the predictor's share)\n");
    beat__predictor_destroy(cost_p);
}

int main(int argc, char **argv)
{
    (void)bench_main; // workloads.h's driver, for the other programs
    if (argc > 1 && strcmp(argv[1], "--cost") == 0) {
        cost();
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "usage: predict_bench [--cost]\n");
        return 2;
    }
    printf("Execution-time prediction: One Euro predictor vs moving averages\n");
    printf("durations: 2 us, ramp to 3 us (jobs 1000-2999), x4 at %d, /4 at %d.\n", JUMP_UP,
           JUMP_DOWN);
    printf("MAPE = mean |prediction - duration| / duration. lag = jobs after a jump\n");
    printf("until the first prediction within 10 %% of the noise-free level. steady\n");
    printf("misses = predictions more than 10 %% off it, leaving out the first %d jobs\n", SETTLE);
    printf("and the %d after each jump. \"sampled\" times only the jobs that\n", SETTLE);
    printf("beat__predictor_sample_owner picks, as the scheduler does.\n");
    accuracy(0);
    accuracy(1);
    return 0;
}
