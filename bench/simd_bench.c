// SIMD kernels (beat_simd_*): every kernel on every path this CPU runs,
// against the plain loops of simd_loops.c compiled with -O2 and with gcc's
// -O3 -march=native, at three buffer sizes (in L1, in L2, beyond the L3):
// GB/s, and for the best path the fraction of a STREAM-style copy of the
// same bytes; then the parallel kernels' speedup with 2 workers over the
// serial kernel. Medians over rounds; each sample repeats the call for at
// least --sample-ms; a sample taken under more than 10 % foreign CPU
// pressure (PSI) is taken again. Every result is checked against a
// reference; a wrong one aborts the run. Markdown on stdout.
//
//   simd_bench [--quick] [--rounds R] [--sample-ms MS] [--sizes B1,B2,B3]
//              [--only sum,dot,...]
//
// Bytes counted per call: what the kernel reads plus what it writes, once
// (argmin/argmax count one pass though they may read x twice; fill and the
// writes of axpy/scale/copy count without the read-for-ownership the
// hardware adds). STREAM-style copy: y[i] = x[i] over the same bytes, from
// the -O3 -march=native loops, counted as read + write like STREAM.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "bench.h"
#include "simd_loops.h"

#define MAX_IMPLS 8
#define MAX_ROUNDS 64

// ---------------------------------------------------------------------------
// Options

typedef struct options {
    unsigned rounds;
    double sample_s;
    size_t sizes[3]; // bytes per array; 0 = from the caches
    const char *only;
    int quick;
} options;

static size_t parse_bytes(const char *s, char **end)
{
    double v = strtod(s, end);
    switch (**end) {
    case 'k':
    case 'K':
        v *= 1024, (*end)++;
        break;
    case 'm':
    case 'M':
        v *= 1024 * 1024, (*end)++;
        break;
    case 'g':
    case 'G':
        v *= 1024.0 * 1024 * 1024, (*end)++;
        break;
    }
    return (size_t)v;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--quick] [--rounds R] [--sample-ms MS] [--sizes B1,B2,B3] [--only OPS]\n"
            "  --quick      4 KiB, 64 KiB, 1 MiB per array, 3 rounds, 5 ms samples (smoke test)\n"
            "  --rounds     rounds per measurement (default 7)\n"
            "  --sample-ms  minimum duration of one sample (default 20)\n"
            "  --sizes      bytes per array of the three sizes (K, M, G suffixes); default\n"
            "               L1d/4, L2/4 and max(2 x L3, 32 MiB) from cpuid\n"
            "  --only       comma-separated kernels: sum,dot,axpy,scale,fill,copy,min,max,\n"
            "               argmin,argmax,count\n",
            prog);
    exit(1);
}

static options parse_options(int argc, char **argv)
{
    options o = {7, 0.020, {0, 0, 0}, NULL, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0) {
            o.quick = 1;
            o.rounds = 3;
            o.sample_s = 0.005;
            o.sizes[0] = 4 << 10;
            o.sizes[1] = 64 << 10;
            o.sizes[2] = 1 << 20;
        } else if (strcmp(a, "--rounds") == 0 && i + 1 < argc) {
            o.rounds = (unsigned)atoi(argv[++i]);
        } else if (strcmp(a, "--sample-ms") == 0 && i + 1 < argc) {
            o.sample_s = atof(argv[++i]) / 1000;
        } else if (strcmp(a, "--sizes") == 0 && i + 1 < argc) {
            char *s = argv[++i], *end = s;
            for (int k = 0; k < 3; k++) {
                o.sizes[k] = parse_bytes(s, &end);
                if (end == s || (k < 2 && *end != ',') || (k == 2 && *end != '\0'))
                    bench_die("--sizes needs three sizes, e.g. 8K,128K,64M");
                s = end + 1;
            }
        } else if (strcmp(a, "--only") == 0 && i + 1 < argc) {
            o.only = argv[++i];
        } else {
            usage(argv[0]);
        }
    }
    if (o.rounds < 1 || o.rounds > MAX_ROUNDS)
        bench_die("--rounds must be 1..%d", MAX_ROUNDS);
    return o;
}

// Whether --only lists op (or there is no --only).
static int selected(const options *o, const char *op)
{
    if (o->only == NULL)
        return 1;
    size_t len = strlen(op);
    for (const char *s = o->only; *s;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (n == len && strncmp(s, op, n) == 0)
            return 1;
        s += n + (comma != NULL);
    }
    return 0;
}

// ---------------------------------------------------------------------------
// Arrays of one element type and size: x and y are read, w is written.

typedef struct arrays {
    size_t n;
    void *x, *y, *w;
    double r;  // last result of a reduction
    size_t ri; // last index or count
} arrays;

#define XF(a) ((float *)(a)->x)
#define YF(a) ((const float *)(a)->y)
#define WF(a) ((float *)(a)->w)
#define XD(a) ((double *)(a)->x)
#define YD(a) ((const double *)(a)->y)
#define WD(a) ((double *)(a)->w)

// beat_simd_count with LT, named like the loops so one macro covers both.
static size_t beat_simd_count_lt_f32(float t, const float *x, size_t n)
{
    return beat_simd_count_f32(BEAT_SIMD_CMP_LT, t, x, n);
}
static size_t beat_simd_count_lt_f64(double t, const double *x, size_t n)
{
    return beat_simd_count_f64(BEAT_SIMD_CMP_LT, t, x, n);
}

// One call of each kernel on the arrays, for the functions PFX<op>_<sfx>:
// beat_simd_ (Beat, on the forced path), o2_ and native_ (the loops).
#define DEFINE_RUNS(PFX, sfx, T, X, Y, W)                                                          \
    static void PFX##sum_##sfx##_run(arrays *a) { a->r = (double)PFX##sum_##sfx(X(a), a->n); }     \
    static void PFX##dot_##sfx##_run(arrays *a)                                                    \
    {                                                                                              \
        a->r = (double)PFX##dot_##sfx(X(a), Y(a), a->n);                                           \
    }                                                                                              \
    static void PFX##axpy_##sfx##_run(arrays *a) { PFX##axpy_##sfx((T)1e-7, X(a), W(a), a->n); }   \
    static void PFX##scale_##sfx##_run(arrays *a) { PFX##scale_##sfx((T)1, X(a), a->n); }          \
    static void PFX##fill_##sfx##_run(arrays *a) { PFX##fill_##sfx((T)0.75, W(a), a->n); }         \
    static void PFX##copy_##sfx##_run(arrays *a) { PFX##copy_##sfx(X(a), W(a), a->n); }            \
    static void PFX##min_##sfx##_run(arrays *a) { a->r = (double)PFX##min_##sfx(X(a), a->n); }     \
    static void PFX##max_##sfx##_run(arrays *a) { a->r = (double)PFX##max_##sfx(X(a), a->n); }     \
    static void PFX##argmin_##sfx##_run(arrays *a) { a->ri = PFX##argmin_##sfx(X(a), a->n); }      \
    static void PFX##argmax_##sfx##_run(arrays *a) { a->ri = PFX##argmax_##sfx(X(a), a->n); }      \
    static void PFX##count_lt_##sfx##_run(arrays *a)                                               \
    {                                                                                              \
        a->ri = PFX##count_lt_##sfx((T)1, X(a), a->n);                                             \
    }

DEFINE_RUNS(beat_simd_, f32, float, XF, YF, WF)
DEFINE_RUNS(beat_simd_, f64, double, XD, YD, WD)
DEFINE_RUNS(o2_, f32, float, XF, YF, WF)
DEFINE_RUNS(o2_, f64, double, XD, YD, WD)
DEFINE_RUNS(native_, f32, float, XF, YF, WF)
DEFINE_RUNS(native_, f64, double, XD, YD, WD)

// The parallel kernels, on a pool of 2 made once.
static beat_pool *pool2;

static void check_ok(beat_result r, const char *what)
{
    if (r != BEAT_OK)
        bench_die("%s: %s", what, beat_result_string(r));
}

#define DEFINE_PARALLEL_RUNS(sfx, T, X, Y, W)                                                      \
    static void par_sum_##sfx##_run(arrays *a)                                                     \
    {                                                                                              \
        T r;                                                                                       \
        check_ok(beat_simd_parallel_sum_##sfx(pool2, X(a), a->n, &r), "parallel sum");             \
        a->r = (double)r;                                                                          \
    }                                                                                              \
    static void par_dot_##sfx##_run(arrays *a)                                                     \
    {                                                                                              \
        T r;                                                                                       \
        check_ok(beat_simd_parallel_dot_##sfx(pool2, X(a), Y(a), a->n, &r), "parallel dot");       \
        a->r = (double)r;                                                                          \
    }                                                                                              \
    static void par_axpy_##sfx##_run(arrays *a)                                                    \
    {                                                                                              \
        check_ok(beat_simd_parallel_axpy_##sfx(pool2, (T)1e-7, X(a), W(a), a->n),                  \
                 "parallel axpy");                                                                 \
    }                                                                                              \
    static void par_min_##sfx##_run(arrays *a)                                                     \
    {                                                                                              \
        T r;                                                                                       \
        check_ok(beat_simd_parallel_min_##sfx(pool2, X(a), a->n, &r), "parallel min");             \
        a->r = (double)r;                                                                          \
    }                                                                                              \
    static void par_max_##sfx##_run(arrays *a)                                                     \
    {                                                                                              \
        T r;                                                                                       \
        check_ok(beat_simd_parallel_max_##sfx(pool2, X(a), a->n, &r), "parallel max");             \
        a->r = (double)r;                                                                          \
    }

DEFINE_PARALLEL_RUNS(f32, float, XF, YF, WF)
DEFINE_PARALLEL_RUNS(f64, double, XD, YD, WD)

// ---------------------------------------------------------------------------
// Kernels

typedef enum check_kind {
    CHECK_SUM,
    CHECK_DOT,
    CHECK_MIN,
    CHECK_MAX,
    CHECK_INDEX,
    CHECK_NONE
} check_kind;

typedef struct kernel {
    const char *op; // --only name
    int f64;
    unsigned reads, writes; // arrays read and written per call
    check_kind check;
    void (*beat)(arrays *a), (*o2)(arrays *a), (*native)(arrays *a), (*par)(arrays *a);
} kernel;

#define KERNEL(op, fn, sfx, f64, reads, writes, check, par)                                        \
    {                                                                                              \
        op, f64, reads, writes, check, beat_simd_##fn##_##sfx##_run, o2_##fn##_##sfx##_run,        \
            native_##fn##_##sfx##_run, par                                                         \
    }
#define KERNELS_OF(sfx, f64)                                                                       \
    KERNEL("sum", sum, sfx, f64, 1, 0, CHECK_SUM, par_sum_##sfx##_run),                            \
        KERNEL("dot", dot, sfx, f64, 2, 0, CHECK_DOT, par_dot_##sfx##_run),                        \
        KERNEL("axpy", axpy, sfx, f64, 2, 1, CHECK_NONE, par_axpy_##sfx##_run),                    \
        KERNEL("scale", scale, sfx, f64, 1, 1, CHECK_NONE, NULL),                                  \
        KERNEL("fill", fill, sfx, f64, 0, 1, CHECK_NONE, NULL),                                    \
        KERNEL("copy", copy, sfx, f64, 1, 1, CHECK_NONE, NULL),                                    \
        KERNEL("min", min, sfx, f64, 1, 0, CHECK_MIN, par_min_##sfx##_run),                        \
        KERNEL("max", max, sfx, f64, 1, 0, CHECK_MAX, par_max_##sfx##_run),                        \
        KERNEL("argmin", argmin, sfx, f64, 1, 0, CHECK_INDEX, NULL),                               \
        KERNEL("argmax", argmax, sfx, f64, 1, 0, CHECK_INDEX, NULL),                               \
        KERNEL("count", count_lt, sfx, f64, 1, 0, CHECK_INDEX, NULL)

static const kernel kernels[] = {KERNELS_OF(f32, 0), KERNELS_OF(f64, 1)};
#define NKERNELS (sizeof kernels / sizeof kernels[0])

static const char *kernel_name(const kernel *k, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s_%s", k->op, k->f64 ? "f64" : "f32");
    return buf;
}

// ---------------------------------------------------------------------------
// Data and references

static size_t elem_size(int f64) { return f64 ? sizeof(double) : sizeof(float); }

// x in [0.5, 1.5) with a distinct minimum and maximum, y in [0.5, 1.5).
static void arrays_fill(arrays *a, int f64)
{
    uint64_t s = 0x243f6a8885a308d3ull;
    for (size_t i = 0; i < a->n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) * 0x1p-53, v = (double)((s >> 7) & 0xffff) / 65536.0;
        if (f64) {
            XD(a)[i] = 0.5 + u;
            ((double *)a->y)[i] = 0.5 + v;
            WD(a)[i] = 0;
        } else {
            XF(a)[i] = (float)(0.5 + u);
            ((float *)a->y)[i] = (float)(0.5 + v);
            WF(a)[i] = 0;
        }
    }
    size_t lo = a->n / 3, hi = 2 * a->n / 3;
    if (f64) {
        XD(a)[lo] = 0.25;
        XD(a)[hi] = 1.75;
    } else {
        XF(a)[lo] = 0.25f;
        XF(a)[hi] = 1.75f;
    }
}

static arrays arrays_make(size_t bytes, int f64)
{
    arrays a;
    a.n = bytes / elem_size(f64);
    a.x = bench_alloc(bytes);
    a.y = bench_alloc(bytes);
    a.w = bench_alloc(bytes);
    a.r = 0;
    a.ri = 0;
    arrays_fill(&a, f64);
    return a;
}

static void arrays_free(arrays *a)
{
    free(a->x);
    free(a->y);
    free(a->w);
}

typedef struct expected {
    long double sum, abs_sum, dot; // dot's terms are all positive
    double min, max;
    size_t imin, imax, count;
} expected;

static double get(const arrays *a, const void *p, size_t i, int f64)
{
    (void)a;
    return f64 ? ((const double *)p)[i] : (double)((const float *)p)[i];
}

static expected expect(const arrays *a, int f64)
{
    expected e;
    memset(&e, 0, sizeof e);
    e.min = e.max = get(a, a->x, 0, f64);
    for (size_t i = 0; i < a->n; i++) {
        double v = get(a, a->x, i, f64);
        e.sum += v;
        e.dot += (long double)v * get(a, a->y, i, f64);
        e.count += v < 1.0;
        if (v < e.min)
            e.min = v, e.imin = i;
        if (v > e.max)
            e.max = v, e.imax = i;
    }
    e.abs_sum = e.sum; // every x is positive
    return e;
}

// Aborts the run when the last result of k (on arrays a) is wrong. Sums
// are checked against the naive loop's worst case, (n - 1) u sum |x|.
static void check_result(const kernel *k, const arrays *a, const expected *e, const char *who)
{
    char name[32];
    long double u = k->f64 ? 0x1p-53L : 0x1p-24L, tol = (long double)a->n * u * 1.01L;
    long double want = k->check == CHECK_SUM ? e->sum : e->dot;
    switch (k->check) {
    case CHECK_SUM:
    case CHECK_DOT:
        if (!((long double)a->r >= want - tol * want && (long double)a->r <= want + tol * want))
            bench_wrong(kernel_name(k, name, sizeof name), "%s: %.17g, want %.17Lg", who, a->r,
                        want);
        break;
    case CHECK_MIN:
    case CHECK_MAX:
        if (a->r != (k->check == CHECK_MIN ? e->min : e->max))
            bench_wrong(kernel_name(k, name, sizeof name), "%s: %.17g", who, a->r);
        break;
    case CHECK_INDEX: {
        size_t want_i = strcmp(k->op, "argmin") == 0   ? e->imin
                        : strcmp(k->op, "argmax") == 0 ? e->imax
                                                       : e->count;
        if (a->ri != want_i)
            bench_wrong(kernel_name(k, name, sizeof name), "%s: %zu, want %zu", who, a->ri, want_i);
        break;
    }
    case CHECK_NONE:
        break;
    }
}

// ---------------------------------------------------------------------------
// Timing

enum { IMPL_O2 = -1, IMPL_NATIVE = -2 };

typedef struct impl {
    const char *name;
    int isa; // beat_simd_isa to force; IMPL_O2 or IMPL_NATIVE for the loops
    void (*run)(arrays *a);
} impl;

// Calls per sample so that one lasts at least sample_s.
static unsigned calibrate(void (*run)(arrays *a), arrays *a, double sample_s)
{
    run(a); // warm: first touch, caches, branch predictors
    unsigned reps = 1;
    for (;;) {
        double t0 = bench_now();
        for (unsigned i = 0; i < reps; i++)
            run(a);
        double t = bench_now() - t0;
        if (t >= sample_s / 4 || reps >= (1u << 24))
            return (unsigned)(reps * (sample_s / (t > 0 ? t : 1e-9)) + 1);
        reps *= 8;
    }
}

// Seconds per call, one sample; taken again (up to 3 times) while the
// machine's CPU pressure during it exceeds BENCH_PSI_LIMIT.
static double sample(void (*run)(arrays *a), arrays *a, unsigned reps)
{
    double t = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        bench_psi_window w = bench_psi_begin();
        double t0 = bench_now();
        for (unsigned i = 0; i < reps; i++)
            run(a);
        t = (bench_now() - t0) / reps;
        if (bench_psi_end(w) <= BENCH_PSI_LIMIT)
            break;
    }
    return t;
}

static double median(double *v, unsigned n) { return bench_percentile(v, n, 50); }

// ---------------------------------------------------------------------------
// Report

static const char *size_label(size_t bytes, char *buf, size_t cap)
{
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0)
        snprintf(buf, cap, "%zu MiB", bytes >> 20);
    else if (bytes >= 1024 && bytes % 1024 == 0)
        snprintf(buf, cap, "%zu KiB", bytes >> 10);
    else
        snprintf(buf, cap, "%zu B", bytes);
    return buf;
}

// What the three sizes are: cache levels when chosen from cpuid, else
// neutral names (--quick, --sizes).
static const char *size_names[3] = {"L1", "L2", "beyond L3"};

// Cache sizes from cpuid (data or unified caches): L1d, L2, L3; 0 unknown.
static void cache_sizes(size_t out[3], char *brand, size_t cap)
{
    beat_cpu_info info;
    out[0] = out[1] = out[2] = 0;
    snprintf(brand, cap, "unknown CPU");
    if (beat_cpu_detect(&info) != BEAT_OK)
        return;
    if (info.brand[0])
        snprintf(brand, cap, "%s", info.brand);
    for (unsigned i = 0; i < info.ncaches; i++) {
        const beat_cpu_cache *c = &info.caches[i];
        if (c->level >= 1 && c->level <= 3 && c->type != BEAT_CPU_CACHE_INSTRUCTION)
            out[c->level - 1] = (size_t)c->size;
    }
}

static void choose_sizes(options *o, const size_t caches[3])
{
    if (o->sizes[0] != 0) {
        size_names[0] = "small";
        size_names[1] = "medium";
        size_names[2] = "large";
        return;
    }
    size_t l1 = caches[0] ? caches[0] : 32 << 10, l2 = caches[1] ? caches[1] : 1 << 20;
    size_t l3 = caches[2] ? caches[2] : 32 << 20;
    o->sizes[0] = l1 / 4;
    o->sizes[1] = l2 / 4;
    o->sizes[2] = 2 * l3 > ((size_t)32 << 20) ? 2 * l3 : (size_t)32 << 20;
}

// ---------------------------------------------------------------------------
// The three parts

// GB/s of the STREAM-style copy per size, per element type.
static double stream_gbs[2][3];

static void measure_kernels(const options *o, int f64, int size_index, impl *impls, unsigned nimpls,
                            double best_gbs[NKERNELS])
{
    size_t bytes = o->sizes[size_index];
    arrays a = arrays_make(bytes, f64);
    expected e = expect(&a, f64);
    char label[32], name[32];
    double times[MAX_IMPLS][MAX_ROUNDS];

    // The STREAM-style copy of the same bytes.
    void (*stream)(arrays *) = f64 ? native_copy_f64_run : native_copy_f32_run;
    unsigned reps = calibrate(stream, &a, o->sample_s);
    double st[MAX_ROUNDS];
    for (unsigned r = 0; r < o->rounds; r++)
        st[r] = sample(stream, &a, reps);
    stream_gbs[f64][size_index] = 2.0 * (double)bytes / median(st, o->rounds) * 1e-9;

    printf("\n### %s, %s per array (%s): GB/s\n\n", f64 ? "f64" : "f32",
           size_label(bytes, label, sizeof label), size_names[size_index]);
    printf("| kernel |");
    for (unsigned i = 0; i < nimpls; i++)
        printf(" %s |", impls[i].name);
    printf(" best path / -O2 loop |\n|---|");
    for (unsigned i = 0; i <= nimpls; i++)
        printf("---:|");
    printf("\n");
    for (size_t k = 0; k < NKERNELS; k++) {
        const kernel *kn = &kernels[k];
        if (kn->f64 != f64 || !selected(o, kn->op))
            continue;
        unsigned nreps[MAX_IMPLS];
        void (*runs[MAX_IMPLS])(arrays *);
        for (unsigned i = 0; i < nimpls; i++) {
            runs[i] = impls[i].isa == IMPL_O2       ? kn->o2
                      : impls[i].isa == IMPL_NATIVE ? kn->native
                                                    : kn->beat;
            if (impls[i].isa >= 0)
                beat_simd_force((beat_simd_isa)impls[i].isa);
            nreps[i] = calibrate(runs[i], &a, o->sample_s);
        }
        for (unsigned r = 0; r < o->rounds; r++) {
            for (unsigned j = 0; j < nimpls; j++) {
                unsigned i = r % 2 ? nimpls - 1 - j : j; // alternate the order
                if (impls[i].isa >= 0)
                    beat_simd_force((beat_simd_isa)impls[i].isa);
                times[i][r] = sample(runs[i], &a, nreps[i]);
                check_result(kn, &a, &e, impls[i].name);
            }
        }
        double moved = (double)(kn->reads + kn->writes) * (double)bytes;
        double o2_gbs = 0, best = 0;
        printf("| %s |", kernel_name(kn, name, sizeof name));
        for (unsigned i = 0; i < nimpls; i++) {
            double gbs = moved / median(times[i], o->rounds) * 1e-9;
            printf(" %.1f |", gbs);
            if (i == 0)
                o2_gbs = gbs;
            if (impls[i].isa >= 0 && gbs > best)
                best = gbs;
        }
        best_gbs[k] = best;
        printf(" %.1fx |\n", best / o2_gbs);
    }
    beat_simd_force(beat_simd_detect());
    arrays_free(&a);
}

static void measure_parallel(const options *o)
{
    char label[32], name[32];
    printf("\n## Parallel kernels: 2 workers against the serial kernel (path %s)\n\n",
           beat_simd_isa_name(beat_simd_active()));
    printf("Speedup = serial time / parallel time within each round; median (min-max).\n\n");
    printf("| kernel | size | serial us | 2 workers us | speedup |\n|---|---|---:|---:|---:|\n");
    for (int f64 = 0; f64 < 2; f64++) {
        for (int s = 0; s < 3; s++) {
            arrays a = arrays_make(o->sizes[s], f64);
            expected e = expect(&a, f64);
            for (size_t k = 0; k < NKERNELS; k++) {
                const kernel *kn = &kernels[k];
                if (kn->f64 != f64 || kn->par == NULL || !selected(o, kn->op))
                    continue;
                unsigned r1 = calibrate(kn->beat, &a, o->sample_s);
                unsigned r2 = calibrate(kn->par, &a, o->sample_s);
                double t1[MAX_ROUNDS], t2[MAX_ROUNDS], sp[MAX_ROUNDS];
                for (unsigned r = 0; r < o->rounds; r++) {
                    if (r % 2 == 0) {
                        t1[r] = sample(kn->beat, &a, r1);
                        t2[r] = sample(kn->par, &a, r2);
                    } else {
                        t2[r] = sample(kn->par, &a, r2);
                        t1[r] = sample(kn->beat, &a, r1);
                    }
                    check_result(kn, &a, &e, "parallel");
                    sp[r] = t1[r] / t2[r];
                }
                bench_summary sum = bench_summarize(sp, o->rounds);
                printf("| %s | %s | %.1f | %.1f | %.2f (%.2f-%.2f) |\n",
                       kernel_name(kn, name, sizeof name),
                       size_label(o->sizes[s], label, sizeof label), median(t1, o->rounds) * 1e6,
                       median(t2, o->rounds) * 1e6, sum.median, sum.min, sum.max);
            }
            arrays_free(&a);
        }
    }
}

int main(int argc, char **argv)
{
    options o = parse_options(argc, argv);
    size_t caches[3];
    char brand[64], label[3][32];
    cache_sizes(caches, brand, sizeof brand);
    choose_sizes(&o, caches);

    impl impls[MAX_IMPLS];
    unsigned nimpls = 0;
    impls[nimpls++] = (impl){"-O2 loop", IMPL_O2, NULL};
    impls[nimpls++] = (impl){"-O3 native loop", IMPL_NATIVE, NULL};
    for (int i = BEAT_SIMD_SCALAR; i <= BEAT_SIMD_NEON; i++)
        if (beat_simd_supported((beat_simd_isa)i))
            impls[nimpls++] = (impl){beat_simd_isa_name((beat_simd_isa)i), i, NULL};

    beat_config cfg = beat_config_default(BEAT_PROFILE_PERFORMANCE);
    cfg.workers = 2;
    check_ok(beat_pool_create(&cfg, &pool2), "beat_pool_create(2 workers)");

    printf("# SIMD kernels\n\n");
    printf("- machine: %s, %ld CPUs online; detected path: %s\n", brand,
           sysconf(_SC_NPROCESSORS_ONLN), beat_simd_isa_name(beat_simd_detect()));
#if defined(__clang__)
    printf("- compiler: clang %s\n", __clang_version__);
#else
    printf("- compiler: gcc %s\n", __VERSION__);
#endif
    printf("- Beat's kernels: beat.h at -O2 (per-function target attributes); loops: simd_loops.c "
           "at -O2 and at -O3 -march=native\n");
    printf("- sizes per array: %s (%s), %s (%s), %s (%s)%s; %u rounds, samples >= %.0f ms, "
           "medians\n",
           size_label(o.sizes[0], label[0], sizeof label[0]), size_names[0],
           size_label(o.sizes[1], label[1], sizeof label[1]), size_names[1],
           size_label(o.sizes[2], label[2], sizeof label[2]), size_names[2],
           o.quick ? " (--quick)" : "", o.rounds, o.sample_s * 1e3);
    printf("- GB/s = bytes the kernel reads and writes once / time; STREAM copy = y[i] = x[i] "
           "over the same bytes (-O3 -march=native), read + write\n");

    double best[2][3][NKERNELS];
    memset(best, 0, sizeof best);
    for (int f64 = 0; f64 < 2; f64++) {
        printf("\n## %s kernels\n", f64 ? "f64" : "f32");
        for (int s = 0; s < 3; s++)
            measure_kernels(&o, f64, s, impls, nimpls, best[f64][s]);
    }

    printf("\n## Best path as a fraction of the STREAM-style copy\n\n");
    printf("| kernel | %s | %s | %s |\n|---|---:|---:|---:|\n", size_names[0], size_names[1],
           size_names[2]);
    for (int f64 = 0; f64 < 2; f64++) {
        printf("| STREAM copy %s, GB/s | %.1f | %.1f | %.1f |\n", f64 ? "f64" : "f32",
               stream_gbs[f64][0], stream_gbs[f64][1], stream_gbs[f64][2]);
        for (size_t k = 0; k < NKERNELS; k++) {
            char name[32];
            if (kernels[k].f64 != f64 || !selected(&o, kernels[k].op))
                continue;
            printf("| %s |", kernel_name(&kernels[k], name, sizeof name));
            for (int s = 0; s < 3; s++)
                printf(" %.0f %% |", 100 * best[f64][s][k] / stream_gbs[f64][s]);
            printf("\n");
        }
    }

    measure_parallel(&o);
    beat_pool_destroy(pool2);
    return 0;
}
