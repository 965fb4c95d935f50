// Batch variants (beat_register_batch) measured two ways:
//
//  1. Formation: what beat_submit_batch spends turning an array of jobs
//     into its batch (allocation, grouping by function, freeing), in ns per
//     group of BEAT_BATCH_WIDTH jobs, for 4096 jobs of one function with a
//     variant, and of three functions interleaved (two with variants, so
//     the one-entry lookup cache misses on every job), against the same
//     array with no variant registered (a plain copy). This calls the
//     internal beat__batch_form directly (the program compiles the
//     implementation), so nothing else is in the timing, which is the
//     calling thread's CPU time (time it spends descheduled on a busy
//     machine does not count; one thread, no waiting, so nothing is lost).
//  2. End to end: N jobs that each apply 8 steps of the logistic map to one
//     float (about 100 cycles), on a pool: beat_submit one by one,
//     beat_submit_batch without a variant, and with a variant that runs 16
//     jobs' floats as vector lanes (GCC vector extensions), each against a
//     serial loop of calls through a pointer; ratios are taken per round and
//     their medians reported. Results are checked against the serial run
//     (the same operations in the same order: equal bit for bit).
//
//   batch_bench [--rounds R] [--jobs N] [--workers W]
//
// Timing: run on a quiet machine; the numbers are medians over rounds.
#define BEAT_IMPLEMENTATION
#include "../beat.h"

#include "bench.h"

#define MAX_ROUNDS 64
#define FORM_JOBS 4096
#define STEPS 8

// ---------------------------------------------------------------------------
// The job

static void job_step(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    float *x = (float *)arg, v = *x;
    for (int s = 0; s < STEPS; s++)
        v = 3.7f * v * (1.0f - v);
    *x = v;
}

typedef float lanes __attribute__((vector_size(BEAT_BATCH_WIDTH * sizeof(float))));

// The batch variant: the floats of up to 16 jobs as the lanes of one vector.
static void job_step_batch(beat_ctx *ctx, void *const *args, size_t count)
{
    (void)ctx;
    lanes v = {0};
    for (size_t i = 0; i < count; i++)
        v[i] = *(const float *)args[i];
    for (int s = 0; s < STEPS; s++)
        v = 3.7f * v * (1.0f - v);
    for (size_t i = 0; i < count; i++)
        *(float *)args[i] = v[i];
}

// Two more functions for the mixed formation case.
static void job_other(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
}

static void job_third(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
}

static void job_third_batch(beat_ctx *ctx, void *const *args, size_t count)
{
    (void)ctx;
    (void)args;
    (void)count;
}

// ---------------------------------------------------------------------------
// Formation

// ns per group of BEAT_BATCH_WIDTH jobs for forming (and freeing) the batch
// of jobs[0, n) with the pool's current variants.
static double form_ns_per_group(beat_pool *pool, const beat_job *jobs, size_t n)
{
    beat__variant_view view;
    size_t reps = 1;
    for (;;) {
        double t0 = bench_thread_cpu();
        for (size_t r = 0; r < reps; r++) {
            beat__variant_view_read(pool, &view);
            beat__batch *b = beat__batch_form(pool, jobs, n, &view);
            if (b == NULL)
                bench_die("out of memory");
            bench_sink_u64((uint64_t)(uintptr_t)b->jobs[0].arg);
            beat__free(&pool->cfg.allocator, b, b->bytes, BEAT_CACHELINE);
        }
        double t = bench_thread_cpu() - t0;
        if (t >= BENCH_SAMPLE_MIN)
            return t * 1e9 / ((double)reps * ((double)n / BEAT_BATCH_WIDTH));
        reps *= 2;
    }
}

static void formation(beat_pool *pool, unsigned rounds)
{
    static beat_job one[FORM_JOBS], mixed[FORM_JOBS];
    static float data[FORM_JOBS];
    for (size_t i = 0; i < FORM_JOBS; i++) {
        one[i] = (beat_job){job_step, &data[i]};
        beat_fn fns[3] = {job_step, job_other, job_third};
        mixed[i] = (beat_job){fns[i % 3], &data[i]};
    }
    double copy[MAX_ROUNDS], grouped[MAX_ROUNDS], mix[MAX_ROUNDS];
    for (unsigned r = 0; r < rounds; r++) {
        beat_register_batch(pool, job_step, NULL);
        beat_register_batch(pool, job_third, NULL);
        copy[r] = form_ns_per_group(pool, one, FORM_JOBS);
        beat_register_batch(pool, job_step, job_step_batch);
        beat_register_batch(pool, job_third, job_third_batch);
        grouped[r] = form_ns_per_group(pool, one, FORM_JOBS);
        mix[r] = form_ns_per_group(pool, mixed, FORM_JOBS);
    }
    bench_summary c = bench_summarize(copy, rounds), g = bench_summarize(grouped, rounds),
                  m = bench_summarize(mix, rounds);
    printf("## Formation (%d jobs per batch call, %u rounds)\n\n", FORM_JOBS, rounds);
    printf("thread CPU ns per group of %d jobs: allocation, grouping, free; median (min-max)\n\n",
           BEAT_BATCH_WIDTH);
    printf("| array | ns per %d jobs |\n|---|---:|\n", BEAT_BATCH_WIDTH);
    printf("| one function, no variant (plain copy) | %.1f (%.1f-%.1f) |\n", c.median, c.min,
           c.max);
    printf("| one function with a variant | %.1f (%.1f-%.1f) |\n", g.median, g.min, g.max);
    printf("| three functions interleaved, two with variants | %.1f (%.1f-%.1f) |\n\n", m.median,
           m.min, m.max);
}

// ---------------------------------------------------------------------------
// End to end

static void serial_run(float *x, size_t n)
{
    beat_fn fn = job_step;
    for (size_t i = 0; i < n; i++) {
        BENCH_OPAQUE(fn); // a call through a pointer, like the pool's
        fn(NULL, &x[i]);
    }
}

static void check(const char *what, const float *got, const float *want, size_t n)
{
    if (memcmp(got, want, n * sizeof(float)) != 0)
        bench_wrong("batches", "%s: results differ from the serial run", what);
}

enum { MODE_SINGLE, MODE_BATCH, MODE_VARIANT, MODES };
static const char *const mode_name[MODES] = {
    "beat_submit one by one", "beat_submit_batch, no variant", "beat_submit_batch, batch variant"};

// Seconds from the first submit to the end of beat_pool_wait; *submit_s
// gets the part until the last submit returned.
static double pool_run(beat_pool *pool, int mode, float *x, beat_job *jobs, size_t n,
                       double *submit_s)
{
    beat_register_batch(pool, job_step, mode == MODE_VARIANT ? job_step_batch : NULL);
    for (size_t i = 0; i < n; i++)
        jobs[i] = (beat_job){job_step, &x[i]};
    double t0 = bench_now();
    if (mode == MODE_SINGLE) {
        for (size_t i = 0; i < n; i++)
            if (beat_submit(pool, job_step, &x[i]) != BEAT_OK)
                bench_die("beat_submit failed");
    } else if (beat_submit_batch(pool, jobs, n) != BEAT_OK) {
        bench_die("beat_submit_batch failed");
    }
    *submit_s = bench_now() - t0;
    beat_pool_wait(pool);
    return bench_now() - t0;
}

static void end_to_end(beat_pool *pool, size_t n, unsigned rounds, unsigned workers)
{
    float *init = (float *)bench_alloc(n * sizeof(float));
    float *want = (float *)bench_alloc(n * sizeof(float));
    float *x = (float *)bench_alloc(n * sizeof(float));
    beat_job *jobs = (beat_job *)bench_alloc(n * sizeof(beat_job));
    for (size_t i = 0; i < n; i++)
        init[i] = 0.05f + 0.9f * (float)((i * 2654435761u) % 1000u) / 1000.0f;
    double serial[MAX_ROUNDS], ratio[MODES][MAX_ROUNDS], per_job[MODES][MAX_ROUNDS];
    double submit[MODES][MAX_ROUNDS];
    for (unsigned r = 0; r < rounds; r++) {
        memcpy(want, init, n * sizeof(float));
        double t0 = bench_now();
        serial_run(want, n);
        serial[r] = bench_now() - t0;
        for (int m = 0; m < MODES; m++) {
            memcpy(x, init, n * sizeof(float));
            double s;
            double t = pool_run(pool, m, x, jobs, n, &s);
            submit[m][r] = s * 1e9 / (double)n;
            check(mode_name[m], x, want, n);
            ratio[m][r] = serial[r] / t;
            per_job[m][r] = t * 1e9 / (double)n;
        }
    }
    bench_summary s = bench_summarize(serial, rounds);
    printf("## End to end (%zu jobs of %d logistic-map steps, %u workers, %u rounds)\n\n", n, STEPS,
           workers, rounds);
    printf("serial loop of calls: %.1f ns per job (median)\n\n", s.median * 1e9 / (double)n);
    printf("| submission | ns per job | of which submitting | serial time / this time (min-max) "
           "|\n|---|---:|---:|---:|\n");
    for (int m = 0; m < MODES; m++) {
        bench_summary p = bench_summarize(per_job[m], rounds);
        bench_summary q = bench_summarize(ratio[m], rounds);
        bench_summary u = bench_summarize(submit[m], rounds);
        printf("| %s | %.1f | %.1f | %.2f (%.2f-%.2f) |\n", mode_name[m], p.median, u.median,
               q.median, q.min, q.max);
    }
    printf("\n");
    free(init);
    free(want);
    free(x);
    free(jobs);
}

int main(int argc, char **argv)
{
    unsigned rounds = 11, workers = 2;
    size_t n = 1000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc)
            n = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            workers = (unsigned)atoi(argv[++i]);
        else
            bench_die("usage: %s [--rounds R (1-%d)] [--jobs N] [--workers W]", argv[0],
                      MAX_ROUNDS);
    }
    if (rounds < 1 || rounds > MAX_ROUNDS || n == 0 || workers == 0)
        bench_die("--rounds must be 1-%d, --jobs and --workers at least 1", MAX_ROUNDS);
    beat_config cfg = beat_config_default(BEAT_PROFILE_PERFORMANCE);
    cfg.workers = workers;
    beat_pool *pool = NULL;
    if (beat_pool_create(&cfg, &pool) != BEAT_OK)
        bench_die("beat_pool_create failed");
    printf("# Batch variants\n\n");
    formation(pool, rounds);
    end_to_end(pool, n, rounds, workers);
    beat_pool_destroy(pool);
    return 0;
}
