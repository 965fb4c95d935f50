// Measurement helpers shared by every benchmark program (beat_bench.c,
// omp_bench.c, tbb_bench.cpp): clocks, CPU time, PSI pressure, statistics,
// the round loop with its pressure gate, and the JSON output that
// bench/run.py reads. Header-only, C11 or C++; Linux (PSI, per-thread CPU
// clocks).
//
// A result ("case") is a set of metrics measured once per round; the
// summary of each metric is its median (min-max) over the kept rounds.
// A round whose gate phase ran under more than BENCH_PSI_LIMIT foreign CPU
// pressure is measured again (at most max(3, rounds) times per case).
#ifndef BENCH_H_INCLUDED
#define BENCH_H_INCLUDED

// POSIX clocks, fork, posix_memalign under -std=c11. Effective only when no
// system header came first; the programs define it (or include beat.h,
// which does) before anything else.
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MAX_WORKERS 16  // entries of --workers
#define BENCH_MAX_METRICS 40  // metrics of one case
#define BENCH_MAX_ROUNDS 100  // --rounds
#define BENCH_PSI_LIMIT 0.10  // foreign pressure above which a round is measured again
#define BENCH_SAMPLE_MIN 0.02 // seconds one timed sample must last at least
#define BENCH_SAMPLE_AIM 0.03 // what the repetition calibration aims for

// ---------------------------------------------------------------------------
// Keeping the compiler honest

// Makes the compiler forget what it knows about x (an integer or pointer):
// a serial call whose input passed through this can be neither constant-
// folded nor hoisted out of the timing loop.
#define BENCH_OPAQUE(x) __asm__ volatile("" : "+r"(x))

// Hands v to an empty asm statement that the compiler must assume reads
// it, so the computation of v cannot be dropped.
static inline void bench_sink_u64(uint64_t v) { __asm__ volatile("" : : "r"(v) : "memory"); }

// ---------------------------------------------------------------------------
// Clocks

static inline double bench_clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// Wall time, monotonic, in seconds.
static inline double bench_now(void) { return bench_clock_s(CLOCK_MONOTONIC); }
// CPU time of every thread of this process, in seconds.
static inline double bench_process_cpu(void) { return bench_clock_s(CLOCK_PROCESS_CPUTIME_ID); }
// CPU time of the calling thread, in seconds.
static inline double bench_thread_cpu(void) { return bench_clock_s(CLOCK_THREAD_CPUTIME_ID); }

static inline void bench_sleep(double seconds)
{
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

// ---------------------------------------------------------------------------
// CPU pressure (PSI)

// "some total=" of /proc/pressure/cpu: microseconds during which at least
// one runnable task waited for a CPU. -1 when the kernel has no PSI.
static inline int64_t bench_psi_some_us(void)
{
    FILE *f = fopen("/proc/pressure/cpu", "r");
    if (f == NULL)
        return -1;
    char line[256];
    int64_t total = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        const char *p = strstr(line, "total=");
        if (strncmp(line, "some", 4) == 0 && p != NULL) {
            total = strtoll(p + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return total;
}

// A window over which the pressure is measured.
typedef struct bench_psi_window {
    int64_t psi_us;
    double wall;
} bench_psi_window;

static inline bench_psi_window bench_psi_begin(void)
{
    bench_psi_window w;
    w.psi_us = bench_psi_some_us();
    w.wall = bench_now();
    return w;
}

// Fraction of the window's wall time with some task stalled on CPU, or -1
// without PSI.
static inline double bench_psi_end(bench_psi_window w)
{
    int64_t psi = bench_psi_some_us();
    double wall = bench_now() - w.wall;
    if (psi < 0 || w.psi_us < 0 || wall <= 0)
        return -1;
    return (double)(psi - w.psi_us) * 1e-6 / wall;
}

// ---------------------------------------------------------------------------
// Failing

// A timed result differed from the known answer: the whole run stops.
static inline void bench_wrong(const char *workload, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "WRONG ANSWER in %s: ", workload);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nrun aborted: a benchmark that computes the wrong result measures nothing\n");
    exit(2);
}

static inline void bench_die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(1);
}

static inline void *bench_alloc(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes == 0 ? 64 : bytes) != 0)
        bench_die("out of memory (%zu bytes)", bytes);
    return p;
}

// ---------------------------------------------------------------------------
// Statistics

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// p-th percentile (0..100) with linear interpolation; sorts v in place.
static inline double bench_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, bench_cmp_double);
    double pos = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)pos;
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (v[hi] - v[lo]) * (pos - (double)lo);
}

typedef struct bench_summary {
    double median, min, max;
} bench_summary;

static inline bench_summary bench_summarize(const double *v, size_t n)
{
    bench_summary s;
    double sorted[BENCH_MAX_ROUNDS];
    if (n > BENCH_MAX_ROUNDS)
        n = BENCH_MAX_ROUNDS;
    memcpy(sorted, v, n * sizeof *v);
    s.median = bench_percentile(sorted, n, 50);
    s.min = n ? sorted[0] : NAN;
    s.max = n ? sorted[n - 1] : NAN;
    return s;
}

// ---------------------------------------------------------------------------
// Options

typedef struct bench_opts {
    const char *workload;
    unsigned workers[BENCH_MAX_WORKERS]; // parallel phases; empty = the serial baseline alone
    unsigned nworkers;
    unsigned rounds;
    long size;              // 0 = the workload's standard sizes
    unsigned reps;          // 0 = calibrate so that a sample lasts >= 20 ms
    unsigned spin_us;       // beat_bench only: beat_config.spin_us (0 = Beat's default)
    int pin;                // beat_bench only: beat_config.pin_workers
    int predict_off;        // beat_bench only: beat_config.predict_off
    const char *trace_path; // beat_bench only: beat_config.trace_path (NULL = BEAT_TRACE decides)
    int quick;
    int serial; // 1: measure the serial baseline (Ts)
    const char *json_path;
    const char *argv_line;
} bench_opts;

static inline void bench_usage(const char *prog, const char *workloads)
{
    fprintf(stderr,
            "usage: %s WORKLOAD [--workers N|N,M,..] [--rounds R] [--size S] [--json FILE]\n"
            "          [--quick] [--reps K] [--phase W] [--spin-us U] [--pin] [--predict-off]\n"
            "          [--trace PATH]\n"
            "       %s --list\n"
            "workloads: %s\n"
            "  --workers  worker counts of the parallel phases (default 1,2; a single N means\n"
            "             1,N; 0 means the serial baseline alone)\n"
            "  --rounds   rounds per case (default 7, 3 with --quick)\n"
            "  --size     run only this size (fib: n, tree: nodes, tasks: cycles per task,\n"
            "             sum/map: elements, idle: window ms, wake: tries, regions: regions,\n"
            "             deque: operations, submit: jobs)\n"
            "  --reps     fixed calls per sample instead of the >= 20 ms calibration\n"
            "  --phase    measure one phase only: W workers, or 0 for the serial baseline\n"
            "             (absolute times, no ratios: for whole-process timing by hyperfine)\n"
            "  --spin-us  beat_bench: beat_config.spin_us (default: Beat's own)\n"
            "  --pin      beat_bench: pin workers (beat_config.pin_workers = 1)\n"
            "  --predict-off  beat_bench: no execution-time prediction (beat_config.predict_off)\n"
            "  --trace    beat_bench: trace its pools to PATH (beat_config.trace_path); one pool\n"
            "             per worker count; the k-th created adds .k before PATH's extension\n",
            prog, prog, workloads);
}

static inline void bench_parse_workers(bench_opts *o, const char *s)
{
    o->nworkers = 0;
    char *end;
    for (;;) {
        unsigned long w = strtoul(s, &end, 10);
        if (end == s || w > 1024 || o->nworkers == BENCH_MAX_WORKERS)
            bench_die("bad --workers '%s'", s);
        if (w > 0)
            o->workers[o->nworkers++] = (unsigned)w;
        if (*end != ',')
            break;
        s = end + 1;
    }
    if (*end != '\0')
        bench_die("bad --workers list");
    if (o->nworkers == 1 && o->workers[0] > 1) { // "N" means 1 and N
        o->workers[1] = o->workers[0];
        o->workers[0] = 1;
        o->nworkers = 2;
    }
}

static inline const char *bench_next_arg(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        bench_die("%s needs a value", argv[*i]);
    return argv[++*i];
}

// Returns 1 when --list was asked for (then o->workload is NULL).
static inline int bench_parse_args(int argc, char **argv, bench_opts *o, const char *workloads)
{
    static char line[1024];
    memset(o, 0, sizeof *o);
    o->workers[0] = 1;
    o->workers[1] = 2;
    o->nworkers = 2;
    o->serial = 1;
    int rounds_set = 0;
    long phase = -1;
    for (int i = 1; i < argc; i++) {
        size_t used = strlen(line);
        snprintf(line + used, sizeof line - used, "%s%s", used ? " " : "", argv[i]);
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--list") == 0)
            return 1;
        else if (strcmp(a, "--workers") == 0)
            bench_parse_workers(o, bench_next_arg(argc, argv, &i));
        else if (strcmp(a, "--rounds") == 0) {
            o->rounds = (unsigned)atoi(bench_next_arg(argc, argv, &i));
            rounds_set = 1;
        } else if (strcmp(a, "--size") == 0)
            o->size = atol(bench_next_arg(argc, argv, &i));
        else if (strcmp(a, "--reps") == 0)
            o->reps = (unsigned)atoi(bench_next_arg(argc, argv, &i));
        else if (strcmp(a, "--spin-us") == 0)
            o->spin_us = (unsigned)atoi(bench_next_arg(argc, argv, &i));
        else if (strcmp(a, "--pin") == 0)
            o->pin = 1;
        else if (strcmp(a, "--predict-off") == 0)
            o->predict_off = 1;
        else if (strcmp(a, "--trace") == 0)
            o->trace_path = bench_next_arg(argc, argv, &i);
        else if (strcmp(a, "--json") == 0)
            o->json_path = bench_next_arg(argc, argv, &i);
        else if (strcmp(a, "--quick") == 0)
            o->quick = 1;
        else if (strcmp(a, "--phase") == 0)
            phase = atol(bench_next_arg(argc, argv, &i));
        else if (a[0] != '-' && o->workload == NULL)
            o->workload = a;
        else {
            bench_usage(argv[0], workloads);
            exit(1);
        }
    }
    if (o->workload == NULL) {
        bench_usage(argv[0], workloads);
        exit(1);
    }
    if (!rounds_set)
        o->rounds = o->quick ? 3 : 7;
    if (o->rounds < 1 || o->rounds > BENCH_MAX_ROUNDS)
        bench_die("--rounds must be 1..%d", BENCH_MAX_ROUNDS);
    if (phase > 1024)
        bench_die("--phase must be 0..1024");
    if (phase >= 0) { // one phase: the serial baseline, or a single worker count
        o->serial = phase == 0;
        o->nworkers = phase > 0;
        o->workers[0] = (unsigned)phase;
    }
    o->argv_line = line;
    return 0;
}

// Standard size of a workload unless --size chose one: a list of sizes.
static inline size_t bench_sizes(const bench_opts *o, const long *full, size_t nfull,
                                 const long *quick, size_t nquick, long *out)
{
    if (o->size > 0) {
        out[0] = o->size;
        return 1;
    }
    const long *src = o->quick ? quick : full;
    size_t n = o->quick ? nquick : nfull;
    memcpy(out, src, n * sizeof *src);
    return n;
}

// ---------------------------------------------------------------------------
// JSON output (streamed: a header, one object per case, a footer)

typedef struct bench_out {
    FILE *json;
    int first_result;
    const char *contestant;
} bench_out;

static inline void bench_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static inline void bench_json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

// contestant: "beat", "omp", "tbb"; runtime: its version string.
static inline void bench_out_open(bench_out *out, const bench_opts *o, const char *contestant,
                                  const char *runtime)
{
    out->contestant = contestant;
    out->first_result = 1;
    out->json = NULL;
    if (o->json_path == NULL)
        return;
    out->json = fopen(o->json_path, "w");
    if (out->json == NULL)
        bench_die("cannot write %s", o->json_path);
    FILE *f = out->json;
    fprintf(f, "{\"contestant\": ");
    bench_json_string(f, contestant);
    fprintf(f, ", \"runtime\": ");
    bench_json_string(f, runtime);
    fprintf(f, ", \"compiler\": ");
#if defined(__clang__)
    bench_json_string(f, "clang " __VERSION__);
#elif defined(__GNUC__)
    bench_json_string(f, "gcc " __VERSION__);
#else
    bench_json_string(f, "unknown");
#endif
    fprintf(f, ", \"workload\": ");
    bench_json_string(f, o->workload);
    fprintf(f, ", \"args\": ");
    bench_json_string(f, o->argv_line);
    fprintf(f, ", \"quick\": %s, \"rounds\": %u, \"psi_limit\": %g, \"workers\": [",
            o->quick ? "true" : "false", o->rounds, BENCH_PSI_LIMIT);
    for (unsigned i = 0; i < o->nworkers; i++)
        fprintf(f, "%s%u", i ? ", " : "", o->workers[i]);
    fprintf(f, "],\n \"results\": [");
}

static inline void bench_out_close(bench_out *out)
{
    if (out->json == NULL)
        return;
    fprintf(out->json, "\n]}\n");
    if (fclose(out->json) != 0)
        bench_die("writing the JSON output failed");
    out->json = NULL;
}

// ---------------------------------------------------------------------------
// A case: metrics measured round by round

typedef struct bench_metric {
    char name[32];
    char unit[8];
    double values[BENCH_MAX_ROUNDS];
} bench_metric;

typedef struct bench_case {
    const char *workload;
    char label[64];   // the size, e.g. "n=35"
    char variant[32]; // e.g. "batch"; "" for the contestant's only way
    bench_metric metrics[BENCH_MAX_METRICS];
    unsigned nmetrics;
    unsigned rounds;              // kept rounds
    unsigned repeats;             // rounds measured again because of foreign pressure
    unsigned kept_under_psi;      // rounds kept over the limit once the repeats ran out
    double psi[BENCH_MAX_ROUNDS]; // gate pressure of each kept round (-1: unknown)
    char note[160];               // free text for the report (reps, gate phase, ...)
} bench_case;

static inline void bench_case_init(bench_case *c, const char *workload, const char *label,
                                   const char *variant)
{
    memset(c, 0, sizeof *c);
    c->workload = workload;
    snprintf(c->label, sizeof c->label, "%s", label);
    snprintf(c->variant, sizeof c->variant, "%s", variant ? variant : "");
}

// Declares a metric; returns its index (the slot of bench_round_values).
static inline unsigned bench_case_metric(bench_case *c, const char *name, const char *unit)
{
    if (c->nmetrics == BENCH_MAX_METRICS)
        bench_die("too many metrics in %s", c->workload);
    bench_metric *m = &c->metrics[c->nmetrics];
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->unit, sizeof m->unit, "%s", unit);
    return c->nmetrics++;
}

// What one round reports: a value per metric, and the foreign pressure of
// its gate phase (-1 when unknown).
typedef struct bench_round_values {
    double v[BENCH_MAX_METRICS];
    double gate_psi;
} bench_round_values;

// round: index of the kept round being measured (its parity sets the order
// of the phases).
typedef void (*bench_round_fn)(void *state, unsigned round, bench_round_values *out);

static inline void bench_print_case(const bench_out *out, const bench_case *c)
{
    printf("%-8s %-14s %-5s %-10s", c->workload, c->label, out->contestant, c->variant);
    for (unsigned i = 0; i < c->nmetrics; i++) {
        bench_summary s = bench_summarize(c->metrics[i].values, c->rounds);
        printf(" %s=%.4g", c->metrics[i].name, s.median);
    }
    printf("  (%u rounds, %u repeats)\n", c->rounds, c->repeats);
    fflush(stdout);
}

static inline void bench_json_case(bench_out *out, const bench_case *c)
{
    FILE *f = out->json;
    if (f == NULL)
        return;
    fprintf(f, "%s\n  {\"workload\": ", out->first_result ? "" : ",");
    out->first_result = 0;
    bench_json_string(f, c->workload);
    fprintf(f, ", \"case\": ");
    bench_json_string(f, c->label);
    fprintf(f, ", \"variant\": ");
    bench_json_string(f, c->variant);
    fprintf(f, ", \"rounds\": %u, \"pressure_repeats\": %u, \"kept_under_pressure\": %u", c->rounds,
            c->repeats, c->kept_under_psi);
    fprintf(f, ", \"note\": ");
    bench_json_string(f, c->note);
    fprintf(f, ", \"gate_psi\": [");
    for (unsigned r = 0; r < c->rounds; r++) {
        fprintf(f, "%s", r ? ", " : "");
        bench_json_number(f, c->psi[r]);
    }
    fprintf(f, "],\n   \"metrics\": [");
    for (unsigned i = 0; i < c->nmetrics; i++) {
        const bench_metric *m = &c->metrics[i];
        bench_summary s = bench_summarize(m->values, c->rounds);
        fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
        bench_json_string(f, m->name);
        fprintf(f, ", \"unit\": ");
        bench_json_string(f, m->unit);
        fprintf(f, ", \"median\": ");
        bench_json_number(f, s.median);
        fprintf(f, ", \"min\": ");
        bench_json_number(f, s.min);
        fprintf(f, ", \"max\": ");
        bench_json_number(f, s.max);
        fprintf(f, ", \"values\": [");
        for (unsigned r = 0; r < c->rounds; r++) {
            fprintf(f, "%s", r ? ", " : "");
            bench_json_number(f, m->values[r]);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "]}");
    fflush(f);
}

// Runs rounds until opts->rounds are kept. A round whose gate pressure is
// over BENCH_PSI_LIMIT is thrown away and measured again, at most
// max(3, rounds) times per case; after that such rounds are kept and
// counted in kept_under_psi, so a loaded machine still finishes.
static inline void bench_run_rounds(const bench_opts *o, bench_out *out, bench_case *c,
                                    bench_round_fn fn, void *state)
{
    unsigned cap = o->rounds > 3 ? o->rounds : 3;
    while (c->rounds < o->rounds) {
        bench_round_values rv;
        memset(&rv, 0, sizeof rv);
        rv.gate_psi = -1;
        fn(state, c->rounds, &rv);
        int loaded = rv.gate_psi > BENCH_PSI_LIMIT;
        if (loaded && c->repeats < cap) {
            c->repeats++;
            fprintf(stderr, "  %s %s: foreign CPU pressure %.0f%% > %.0f%%, round measured again\n",
                    c->workload, c->label, rv.gate_psi * 100, BENCH_PSI_LIMIT * 100);
            continue;
        }
        c->kept_under_psi += loaded;
        for (unsigned i = 0; i < c->nmetrics; i++)
            c->metrics[i].values[c->rounds] = rv.v[i];
        c->psi[c->rounds] = rv.gate_psi;
        c->rounds++;
    }
    bench_print_case(out, c);
    bench_json_case(out, c);
}

// ---------------------------------------------------------------------------
// Ratio cases: one round = Ts, T1, T2 (or TN) back to back

// Seconds per call of `reps` back-to-back calls with `workers` workers
// (0 = the serial baseline). Checks every result itself (bench_wrong).
typedef double (*bench_sample_fn)(void *state, unsigned workers, unsigned reps);

typedef struct bench_ratio {
    bench_case c;
    bench_sample_fn sample;
    void *state;
    unsigned phase_workers[BENCH_MAX_WORKERS + 1]; // 0 = serial
    unsigned phase_reps[BENCH_MAX_WORKERS + 1];
    unsigned nphases;
    int efficiency; // also report Ts / (Tw * w)
    // metric slots
    int m_time[BENCH_MAX_WORKERS + 1];
    int m_overhead, m_speedup[BENCH_MAX_WORKERS + 1], m_scaling[BENCH_MAX_WORKERS + 1],
        m_efficiency[BENCH_MAX_WORKERS + 1];
    int m_psi;
} bench_ratio;

// "Ts" for the serial phase (workers 0), "T<w>" otherwise.
static inline void bench_phase_name(unsigned workers, char *buf, size_t size)
{
    if (workers == 0)
        snprintf(buf, size, "Ts");
    else
        snprintf(buf, size, "T%u", workers);
}

// Calls per sample so that one sample lasts >= BENCH_SAMPLE_MIN. Its runs
// are also the warm-up of the phase (nothing of them is kept).
static inline unsigned bench_calibrate_reps(bench_sample_fn sample, void *state, unsigned workers)
{
    unsigned reps = 1;
    for (;;) {
        double total = sample(state, workers, reps) * reps;
        if (total >= BENCH_SAMPLE_MIN || reps >= (1u << 26))
            return reps;
        double want = (double)reps * BENCH_SAMPLE_AIM / (total > 1e-9 ? total : 1e-9);
        unsigned next = want > (double)(1u << 26) ? (1u << 26) : (unsigned)ceil(want);
        reps = next > reps * 2 ? next : reps * 2;
    }
}

static inline void bench_ratio_metrics(bench_ratio *r)
{
    char name[32];
    int have_serial = 0, have_one = 0;
    for (unsigned p = 0; p < r->nphases; p++) {
        have_serial |= r->phase_workers[p] == 0;
        have_one |= r->phase_workers[p] == 1;
    }
    r->m_overhead = -1;
    if (have_serial && have_one)
        r->m_overhead = (int)bench_case_metric(&r->c, "overhead", "x");
    for (unsigned p = 0; p < r->nphases; p++) {
        unsigned w = r->phase_workers[p];
        r->m_speedup[p] = r->m_scaling[p] = r->m_efficiency[p] = -1;
        if (w == 0)
            continue;
        if (have_serial && w > 1) {
            snprintf(name, sizeof name, "speedup_%u", w);
            r->m_speedup[p] = (int)bench_case_metric(&r->c, name, "x");
        }
        if (have_one && w > 1) {
            snprintf(name, sizeof name, "scaling_%u", w);
            r->m_scaling[p] = (int)bench_case_metric(&r->c, name, "x");
        }
    }
    for (unsigned p = 0; p < r->nphases && r->efficiency && have_serial; p++) {
        if (r->phase_workers[p] == 0)
            continue;
        snprintf(name, sizeof name, "efficiency_%u", r->phase_workers[p]);
        r->m_efficiency[p] = (int)bench_case_metric(&r->c, name, "%");
    }
    for (unsigned p = 0; p < r->nphases; p++) {
        bench_phase_name(r->phase_workers[p], name, sizeof name);
        r->m_time[p] = (int)bench_case_metric(&r->c, name, "s");
    }
    r->m_psi = (int)bench_case_metric(&r->c, "foreign_psi", "%");
}

// One round: every phase once, forwards on even rounds and backwards on odd
// ones, ratios from this round's times only. The gate is the pressure
// during Ts: then only one thread of ours runs on a 2-CPU machine, so any
// task waiting for a CPU was kept waiting by someone else's load. Without a
// serial phase the gate is the whole round.
static inline void bench_ratio_round(void *state, unsigned round, bench_round_values *out)
{
    bench_ratio *r = (bench_ratio *)state;
    double t[BENCH_MAX_WORKERS + 1], ts = 0, t1 = 0;
    bench_psi_window whole = bench_psi_begin();
    double serial_psi = -2;
    for (unsigned k = 0; k < r->nphases; k++) {
        unsigned p = round % 2 == 0 ? k : r->nphases - 1 - k;
        bench_psi_window w = bench_psi_begin();
        t[p] = r->sample(r->state, r->phase_workers[p], r->phase_reps[p]);
        if (r->phase_workers[p] == 0)
            serial_psi = bench_psi_end(w);
    }
    out->gate_psi = serial_psi > -2 ? serial_psi : bench_psi_end(whole);
    for (unsigned p = 0; p < r->nphases; p++) {
        if (r->phase_workers[p] == 0)
            ts = t[p];
        if (r->phase_workers[p] == 1)
            t1 = t[p];
        out->v[r->m_time[p]] = t[p];
    }
    if (r->m_overhead >= 0)
        out->v[r->m_overhead] = t1 / ts;
    for (unsigned p = 0; p < r->nphases; p++) {
        double w = (double)r->phase_workers[p];
        if (r->m_speedup[p] >= 0)
            out->v[r->m_speedup[p]] = ts / t[p];
        if (r->m_scaling[p] >= 0)
            out->v[r->m_scaling[p]] = t1 / t[p];
        if (r->m_efficiency[p] >= 0)
            out->v[r->m_efficiency[p]] = 100.0 * ts / (t[p] * w);
    }
    out->v[r->m_psi] = out->gate_psi < 0 ? NAN : out->gate_psi * 100;
}

// Measures one ratio case: calibrates (and so warms) every phase, then runs
// the rounds. The pools must exist already (created outside any timer).
static inline void bench_ratio_case(const bench_opts *o, bench_out *out, const char *workload,
                                    const char *label, const char *variant, bench_sample_fn sample,
                                    void *state, int efficiency)
{
    static bench_ratio r; // large (every round of every metric): not on the stack
    memset(&r, 0, sizeof r);
    bench_case_init(&r.c, workload, label, variant);
    r.sample = sample;
    r.state = state;
    r.efficiency = efficiency;
    if (o->serial)
        r.phase_workers[r.nphases++] = 0;
    for (unsigned i = 0; i < o->nworkers; i++)
        r.phase_workers[r.nphases++] = o->workers[i];
    size_t used = 0;
    used += (size_t)snprintf(r.c.note, sizeof r.c.note, "calls per sample:");
    for (unsigned p = 0; p < r.nphases; p++) {
        unsigned w = r.phase_workers[p];
        r.phase_reps[p] = o->reps ? o->reps : bench_calibrate_reps(sample, state, w);
        char name[16];
        bench_phase_name(w, name, sizeof name);
        if (used < sizeof r.c.note)
            used += (size_t)snprintf(r.c.note + used, sizeof r.c.note - used, " %s=%u", name,
                                     r.phase_reps[p]);
    }
    bench_ratio_metrics(&r);
    bench_run_rounds(o, out, &r.c, bench_ratio_round, &r);
}

// ---------------------------------------------------------------------------
// Measuring in a fresh process

// Runs fn(state, values) in a forked child and copies its n values back:
// for measurements that need a runtime nobody has started yet (OpenMP and
// TBB keep their threads for the life of the process). The parent must not
// have started threads. Returns 0, or -1 when the child failed.
static inline int bench_in_child(void (*fn)(void *state, double *values), void *state,
                                 double *values, size_t n)
{
    int fds[2];
    if (pipe(fds) != 0)
        bench_die("pipe failed");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork failed");
    if (pid == 0) {
        close(fds[0]);
        fn(state, values);
        ssize_t wrote = write(fds[1], values, n * sizeof *values);
        _exit(wrote == (ssize_t)(n * sizeof *values) ? 0 : 1); // no atexit, no thread teardown
    }
    close(fds[1]);
    size_t got = 0;
    while (got < n * sizeof *values) {
        ssize_t k = read(fds[0], (char *)values + got, n * sizeof *values - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    int ok = got == n * sizeof *values && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return ok ? 0 : -1;
}

#endif // BENCH_H_INCLUDED
