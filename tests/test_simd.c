// Tests of the SIMD section (src/simd/, api/simd.h, api/simd_parallel.h)
// through the generated headers: beat.h and beat_simd.h together in this
// file (harmless by contract), beat_simd.h alone in test_simd_only.c, and
// with every BEAT_SIMD_NO_* set in test_simd_scalar.c (both include this
// file).
//
// What it proves, on every path this CPU runs (forced one after the other)
// and for f32 and f64, at lengths 0-70 and assorted large ones, with arrays
// misaligned by 0-3 elements:
// - sum and dot stay within the error bound of api/simd.h against a long
//   double reference, and are exact where every partial sum is (integers);
// - axpy is within its bound, writes y[0..n) and nothing around it (guard
//   elements), and allows x == y; scale, fill and copy give the exact bits
//   (NaN payloads and -0 included) and write nothing outside;
// - min, max, argmin and argmax give the reference's bits and index: the
//   IEEE 754-2019 minimum/maximum, -0 below +0, the first NaN when there is
//   one; count matches C's comparisons, NaN included, across the 2^24
//   chunks of the lane counters;
// - detection and beat_simd_force behave as documented (unsupported and
//   invalid paths refused), agree with beat_cpu_detect, and kernels running
//   on 4 threads while the path is switched under them stay exact;
// - the parallel kernels over a pool of 2 are within their bound, give the
//   same bits with 1 and 2 workers, equal the serial min/max/axpy bit for
//   bit, and report bad arguments and calls from inside the pool.
#ifdef TEST_SIMD_ONLY
#define BEAT_SIMD_IMPLEMENTATION
#include "beat_simd.h"
#else
// Small arrays already go to the pool, so the tests' lengths (up to 1M)
// cover both the serial path and the split one (default 16 MiB).
#define BEAT_SIMD_PARALLEL_MIN_BYTES (64u * 1024u)
#define BEAT_IMPLEMENTATION
#include "beat.h"
#include "beat_simd.h"
#endif

#include "test.h"

#include <float.h>
#include <math.h>
#include <pthread.h>

#if defined(BEAT_SIMD_NO_SSE2) && defined(BEAT_SIMD_NO_AVX2) && defined(BEAT_SIMD_NO_AVX512) &&    \
    defined(BEAT_SIMD_NO_NEON)
#define TEST_SCALAR_ONLY 1
#else
#define TEST_SCALAR_ONLY 0
#endif

// ---------------------------------------------------------------------------
// Random data

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static size_t rng_below(size_t n) { return (size_t)(rng() % n); }

// Uniform in [-1, 1).
static double rng_unit(void) { return (double)(rng() >> 11) * 0x1p-52 - 1.0; }

// Mixed magnitudes and signs: [-1, 1) times 2^k, k in [-10, 10].
static double rng_mixed(void) { return rng_unit() * (double)(1u << rng_below(21)) / 1024.0; }

static long double ld_abs(long double v) { return v < 0 ? -v : v; }

// One element of either type, aligned for both.
typedef union box {
    float f32;
    double f64;
} box;

// ---------------------------------------------------------------------------
// One element type behind a common interface, so each check is written once
// for f32 and f64. Values travel as long double (exact for both), bits as
// uint64_t.

typedef struct elem {
    const char *name;
    size_t size;
    long double u; // unit roundoff
    uint64_t guard, qnan, snan;
    long double (*get)(const void *a, size_t i);
    void (*set)(void *a, size_t i, long double v);
    uint64_t (*bits)(const void *a, size_t i);
    void (*set_bits)(void *a, size_t i, uint64_t b);
    uint64_t (*mul_bits)(long double a, const void *x, size_t i); // (T)a * x[i] in T
    uint64_t (*bits_of)(long double v);
    long double (*sum)(const void *x, size_t n);
    long double (*dot)(const void *x, const void *y, size_t n);
    void (*axpy)(long double a, const void *x, void *y, size_t n);
    void (*scale)(long double a, void *x, size_t n);
    void (*fill)(const void *v, void *x, size_t n);
    void (*copy)(const void *x, void *y, size_t n);
    uint64_t (*min)(const void *x, size_t n);
    uint64_t (*max)(const void *x, size_t n);
    size_t (*argmin)(const void *x, size_t n);
    size_t (*argmax)(const void *x, size_t n);
    size_t (*count)(beat_simd_cmp op, const void *t, const void *x, size_t n);
#ifndef TEST_SIMD_ONLY
    beat_result (*psum)(beat_pool *pool, const void *x, size_t n, void *out);
    beat_result (*pdot)(beat_pool *pool, const void *x, const void *y, size_t n, void *out);
    beat_result (*paxpy)(beat_pool *pool, long double a, const void *x, void *y, size_t n);
    beat_result (*pmin)(beat_pool *pool, const void *x, size_t n, void *out);
    beat_result (*pmax)(beat_pool *pool, const void *x, size_t n, void *out);
#endif
} elem;

#define ELEM_FUNCS(sfx, T, U)                                                                      \
    static long double get_##sfx(const void *a, size_t i) { return ((const T *)a)[i]; }            \
    static void set_##sfx(void *a, size_t i, long double v) { ((T *)a)[i] = (T)v; }                \
    static uint64_t bits_##sfx(const void *a, size_t i)                                            \
    {                                                                                              \
        U b;                                                                                       \
        memcpy(&b, (const T *)a + i, sizeof b);                                                    \
        return b;                                                                                  \
    }                                                                                              \
    static void set_bits_##sfx(void *a, size_t i, uint64_t b)                                      \
    {                                                                                              \
        U v = (U)b;                                                                                \
        memcpy((T *)a + i, &v, sizeof v);                                                          \
    }                                                                                              \
    static uint64_t bits_of_##sfx(long double v)                                                   \
    {                                                                                              \
        T t = (T)v;                                                                                \
        return bits_##sfx(&t, 0);                                                                  \
    }                                                                                              \
    static uint64_t mul_bits_##sfx(long double a, const void *x, size_t i)                         \
    {                                                                                              \
        volatile T p = (T)a * ((const T *)x)[i];                                                   \
        T q = p;                                                                                   \
        return bits_##sfx(&q, 0);                                                                  \
    }                                                                                              \
    static long double sum_##sfx(const void *x, size_t n)                                          \
    {                                                                                              \
        return beat_simd_sum_##sfx((const T *)x, n);                                               \
    }                                                                                              \
    static long double dot_##sfx(const void *x, const void *y, size_t n)                           \
    {                                                                                              \
        return beat_simd_dot_##sfx((const T *)x, (const T *)y, n);                                 \
    }                                                                                              \
    static void axpy_##sfx(long double a, const void *x, void *y, size_t n)                        \
    {                                                                                              \
        beat_simd_axpy_##sfx((T)a, (const T *)x, (T *)y, n);                                       \
    }                                                                                              \
    static void scale_##sfx(long double a, void *x, size_t n)                                      \
    {                                                                                              \
        beat_simd_scale_##sfx((T)a, (T *)x, n);                                                    \
    }                                                                                              \
    static void fill_##sfx(const void *v, void *x, size_t n)                                       \
    {                                                                                              \
        beat_simd_fill_##sfx(*(const T *)v, (T *)x, n);                                            \
    }                                                                                              \
    static void copy_##sfx(const void *x, void *y, size_t n)                                       \
    {                                                                                              \
        beat_simd_copy_##sfx((const T *)x, (T *)y, n);                                             \
    }                                                                                              \
    static uint64_t min_##sfx(const void *x, size_t n)                                             \
    {                                                                                              \
        T m = beat_simd_min_##sfx((const T *)x, n);                                                \
        return bits_##sfx(&m, 0);                                                                  \
    }                                                                                              \
    static uint64_t max_##sfx(const void *x, size_t n)                                             \
    {                                                                                              \
        T m = beat_simd_max_##sfx((const T *)x, n);                                                \
        return bits_##sfx(&m, 0);                                                                  \
    }                                                                                              \
    static size_t argmin_##sfx(const void *x, size_t n)                                            \
    {                                                                                              \
        return beat_simd_argmin_##sfx((const T *)x, n);                                            \
    }                                                                                              \
    static size_t argmax_##sfx(const void *x, size_t n)                                            \
    {                                                                                              \
        return beat_simd_argmax_##sfx((const T *)x, n);                                            \
    }                                                                                              \
    static size_t count_##sfx(beat_simd_cmp op, const void *t, const void *x, size_t n)            \
    {                                                                                              \
        return beat_simd_count_##sfx(op, *(const T *)t, (const T *)x, n);                          \
    }

ELEM_FUNCS(f32, float, uint32_t)
ELEM_FUNCS(f64, double, uint64_t)

#ifndef TEST_SIMD_ONLY
#define ELEM_PARALLEL(sfx, T)                                                                      \
    static beat_result psum_##sfx(beat_pool *pool, const void *x, size_t n, void *out)             \
    {                                                                                              \
        return beat_simd_parallel_sum_##sfx(pool, (const T *)x, n, (T *)out);                      \
    }                                                                                              \
    static beat_result pdot_##sfx(beat_pool *pool, const void *x, const void *y, size_t n,         \
                                  void *out)                                                       \
    {                                                                                              \
        return beat_simd_parallel_dot_##sfx(pool, (const T *)x, (const T *)y, n, (T *)out);        \
    }                                                                                              \
    static beat_result paxpy_##sfx(beat_pool *pool, long double a, const void *x, void *y,         \
                                   size_t n)                                                       \
    {                                                                                              \
        return beat_simd_parallel_axpy_##sfx(pool, (T)a, (const T *)x, (T *)y, n);                 \
    }                                                                                              \
    static beat_result pmin_##sfx(beat_pool *pool, const void *x, size_t n, void *out)             \
    {                                                                                              \
        return beat_simd_parallel_min_##sfx(pool, (const T *)x, n, (T *)out);                      \
    }                                                                                              \
    static beat_result pmax_##sfx(beat_pool *pool, const void *x, size_t n, void *out)             \
    {                                                                                              \
        return beat_simd_parallel_max_##sfx(pool, (const T *)x, n, (T *)out);                      \
    }
ELEM_PARALLEL(f32, float)
ELEM_PARALLEL(f64, double)
#define ELEM_PARALLEL_FIELDS(sfx) , psum_##sfx, pdot_##sfx, paxpy_##sfx, pmin_##sfx, pmax_##sfx
#else
#define ELEM_PARALLEL_FIELDS(sfx)
#endif

#define ELEM(sfx, T, u, guard, qnan, snan)                                                         \
    {                                                                                              \
#sfx, sizeof(T), u, guard, qnan, snan, get_##sfx, set_##sfx, bits_##sfx, set_bits_##sfx,   \
            mul_bits_##sfx, bits_of_##sfx, sum_##sfx, dot_##sfx, axpy_##sfx, scale_##sfx,          \
            fill_##sfx, copy_##sfx, min_##sfx, max_##sfx, argmin_##sfx, argmax_##sfx,              \
            count_##sfx ELEM_PARALLEL_FIELDS(sfx)                                                  \
    }

// Guards are NaNs with a payload no kernel produces.
static const elem elem_f32 = ELEM(f32, float, 0x1p-24L, 0x7fa5a5a5u, 0x7fc01234u, 0xff812345u);
static const elem elem_f64 = ELEM(f64, double, 0x1p-53L, 0x7ff5a5a5a5a5a5a5ull,
                                  0x7ff8000000001234ull, 0xfff0000000012345ull);

// ---------------------------------------------------------------------------
// Arrays with guard elements on both sides, misaligned by off elements from
// a 64-byte boundary.

#define GUARD 16

typedef struct buf {
    const elem *ty;
    unsigned char *base;
    void *p; // element 0
    size_t n, off;
} buf;

static buf buf_make(const elem *ty, size_t n, size_t off)
{
    buf b = {ty, NULL, NULL, n, off};
    size_t total = n + off + 2 * GUARD;
    if (posix_memalign((void **)&b.base, 64, total * ty->size) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < total; i++)
        ty->set_bits(b.base, i, ty->guard);
    b.p = b.base + (GUARD + off) * ty->size;
    return b;
}

static void buf_free(buf *b) { free(b->base); }

// 1 when the guard elements around p[0..n) are untouched.
static int buf_guards_intact(const buf *b)
{
    size_t first = GUARD + b->off, total = b->n + b->off + 2 * GUARD;
    for (size_t i = 0; i < total; i++)
        if ((i < first || i >= first + b->n) && b->ty->bits(b->base, i) != b->ty->guard)
            return 0;
    return 1;
}

static void fill_mixed(const buf *b)
{
    for (size_t i = 0; i < b->n; i++)
        b->ty->set(b->p, i, rng_mixed());
}

// Copy of a's elements into a fresh buffer with the same misalignment.
static buf buf_clone(const buf *a)
{
    buf b = buf_make(a->ty, a->n, a->off);
    memcpy(b.p, a->p, a->n * a->ty->size);
    return b;
}

// ---------------------------------------------------------------------------
// Lengths and paths

static const size_t big_lengths[] = {127, 128, 129, 255, 1000, 1023, 4099, 65549};

// Runs body(ty, n, off) for n = 0..70 and the big lengths with off = 0..3,
// stopping at the first failure. sum and dot also run once on HUGE_N
// elements misaligned by 1 (unless quick).
#define HUGE_N BT_SCALE(1000003, 0)

static void each_length(const elem *ty, void (*body)(const elem *ty, size_t n, size_t off))
{
    size_t nbig = sizeof big_lengths / sizeof big_lengths[0];
    for (size_t k = 0; k < 71 + nbig && !bt_case_failed; k++) {
        size_t n = k < 71 ? k : big_lengths[k - 71];
        for (size_t off = 0; off < 4 && !bt_case_failed; off++)
            body(ty, n, off);
    }
}

static beat_simd_isa cur_isa;
#define ISA beat_simd_isa_name(cur_isa)

// Forces each path the CPU runs in turn and calls check for f32 and f64;
// restores the detected path.
static void each_path(void (*check)(const elem *ty))
{
    for (int i = BEAT_SIMD_SCALAR; i <= BEAT_SIMD_NEON && !bt_case_failed; i++) {
        if (!beat_simd_supported((beat_simd_isa)i))
            continue;
        cur_isa = (beat_simd_isa)i;
        CHECK_EQ(beat_simd_force(cur_isa), BEAT_OK);
        CHECK_EQ(beat_simd_active(), cur_isa);
        check(&elem_f32);
        if (!bt_case_failed)
            check(&elem_f64);
    }
    beat_simd_force(beat_simd_detect());
}

// ---------------------------------------------------------------------------
// References and bounds

// g(m) = m u / (1 - m u), for m u < 1.
static long double gamma_of(const elem *ty, long double m) { return m * ty->u / (1 - m * ty->u); }

static long double ceil_div(size_t n, size_t d) { return (long double)((n + d - 1) / d); }

static long double min_ld(long double a, long double b) { return a < b ? a : b; }

// m of api/simd.h: sum min(n - 1, ceil(n/8) + 5), dot min(n, ceil(n/8) + 6).
static long double m_sum(size_t n) { return n == 0 ? 0 : min_ld(n - 1, ceil_div(n, 8) + 5); }
static long double m_dot(size_t n) { return min_ld(n, ceil_div(n, 8) + 6); }

// What the long double reference itself may be off by (recursive summation
// in long double: n - 1 roundings of LDBL_EPSILON / 2), doubled.
static long double ref_slack(size_t n, long double abs_sum) { return n * LDBL_EPSILON * abs_sum; }

static long double ref_sum(const elem *ty, const void *x, size_t n, long double *abs_sum)
{
    long double s = 0, a = 0;
    for (size_t i = 0; i < n; i++) {
        s += ty->get(x, i);
        a += ld_abs(ty->get(x, i));
    }
    *abs_sum = a;
    return s;
}

static long double ref_dot(const elem *ty, const void *x, const void *y, size_t n,
                           long double *abs_sum)
{
    long double s = 0, a = 0;
    for (size_t i = 0; i < n; i++) {
        long double p = ty->get(x, i) * ty->get(y, i);
        s += p;
        a += ld_abs(p);
    }
    *abs_sum = a;
    return s;
}

// IEEE 754-2019 order for min/max: -0 below +0.
static int ld_below(long double a, long double b)
{
    return a < b || (a == b && signbit(a) && !signbit(b));
}

// First index of the minimum (max: of the maximum); the first NaN if any;
// 0 for n == 0.
static size_t ref_argext(const elem *ty, const void *x, size_t n, int max)
{
    size_t best = 0;
    for (size_t i = 0; i < n; i++) {
        long double v = ty->get(x, i), b = ty->get(x, best);
        if (v != v)
            return i;
        if (max ? ld_below(b, v) : ld_below(v, b))
            best = i;
    }
    return best;
}

// Bits min/max must return.
static uint64_t ref_ext_bits(const elem *ty, const void *x, size_t n, int max)
{
    if (n == 0)
        return ty->bits_of(max ? -INFINITY : INFINITY);
    return ty->bits(x, ref_argext(ty, x, n, max));
}

static int ref_cmp(long double a, long double t, beat_simd_cmp op)
{
    switch (op) {
    case BEAT_SIMD_CMP_LT:
        return a < t;
    case BEAT_SIMD_CMP_LE:
        return a <= t;
    case BEAT_SIMD_CMP_GT:
        return a > t;
    case BEAT_SIMD_CMP_GE:
        return a >= t;
    case BEAT_SIMD_CMP_EQ:
        return a == t;
    case BEAT_SIMD_CMP_NE:
        return a != t;
    }
    return 0;
}

// ---------------------------------------------------------------------------
// Kernel checks (one length and misalignment; the current path)

static void sum_at(const elem *ty, size_t n, size_t off)
{
    buf x = buf_make(ty, n, off);
    fill_mixed(&x);
    long double abs_sum, exact = ref_sum(ty, x.p, n, &abs_sum);
    long double got = ty->sum(x.p, n);
    long double bound = gamma_of(ty, m_sum(n)) * abs_sum + ref_slack(n, abs_sum);
    buf_free(&x);
    CHECK_MSG(ld_abs(got - exact) <= bound, "%s %s sum n=%zu off=%zu: error %Lg > bound %Lg", ISA,
              ty->name, n, off, ld_abs(got - exact), bound);
}

// Integers whose partial sums are all exact: every path must be exact.
static void sum_exact_at(const elem *ty, size_t n, size_t off)
{
    buf x = buf_make(ty, n, off);
    long double exact = 0;
    for (size_t i = 0; i < n; i++) {
        long double v = (long double)((int)rng_below(201) - 100);
        ty->set(x.p, i, v);
        exact += v;
    }
    long double got = ty->sum(x.p, n);
    buf_free(&x);
    CHECK_MSG(got == exact, "%s %s sum of integers n=%zu off=%zu: %Lg != %Lg", ISA, ty->name, n,
              off, got, exact);
}

static void dot_at(const elem *ty, size_t n, size_t off)
{
    buf x = buf_make(ty, n, off), y = buf_make(ty, n, 3 - off);
    fill_mixed(&x);
    fill_mixed(&y);
    long double abs_sum, exact = ref_dot(ty, x.p, y.p, n, &abs_sum);
    long double got = ty->dot(x.p, y.p, n);
    long double bound = gamma_of(ty, m_dot(n)) * abs_sum + ref_slack(n + 1, abs_sum);
    buf_free(&x);
    buf_free(&y);
    CHECK_MSG(ld_abs(got - exact) <= bound, "%s %s dot n=%zu off=%zu: error %Lg > bound %Lg", ISA,
              ty->name, n, off, ld_abs(got - exact), bound);
}

static void check_sum_dot(const elem *ty)
{
    each_length(ty, sum_at);
    each_length(ty, sum_exact_at);
    each_length(ty, dot_at);
    if (HUGE_N > 0 && !bt_case_failed)
        sum_at(ty, HUGE_N, 1);
    if (HUGE_N > 0 && !bt_case_failed)
        dot_at(ty, HUGE_N, 1);
    // n == 0 with NULL pointers
    CHECK(ty->sum(NULL, 0) == 0);
    CHECK(ty->dot(NULL, NULL, 0) == 0);
}

// y[i] += a x[i] (alias: x == y), each within g(2) (|a x| + |y|).
static void axpy_check(const elem *ty, size_t n, size_t off, int alias)
{
    buf x = buf_make(ty, n, off), y = buf_make(ty, n, (off + 1) % 4);
    fill_mixed(&x);
    fill_mixed(&y);
    buf y0 = buf_clone(&y);
    long double a = (long double)(float)(2 * rng_unit());
    if (alias)
        ty->axpy(a, y.p, y.p, n);
    else
        ty->axpy(a, x.p, y.p, n);
    const buf *src = alias ? &y0 : &x;
    int ok = buf_guards_intact(&y);
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++) {
        long double ax = a * ty->get(src->p, i), y_old = ty->get(y0.p, i);
        long double size = ld_abs(ax) + ld_abs(y_old);
        long double bound = gamma_of(ty, 2) * size + 4 * LDBL_EPSILON * size;
        if (ld_abs(ty->get(y.p, i) - (ax + y_old)) > bound)
            bad = i;
    }
    buf_free(&x);
    buf_free(&y);
    buf_free(&y0);
    CHECK_MSG(ok, "%s %s axpy n=%zu off=%zu%s wrote outside y[0..n)", ISA, ty->name, n, off,
              alias ? " (x == y)" : "");
    CHECK_MSG(bad == n, "%s %s axpy n=%zu off=%zu%s: y[%zu] outside the bound", ISA, ty->name, n,
              off, alias ? " (x == y)" : "", bad);
}

static void axpy_at(const elem *ty, size_t n, size_t off) { axpy_check(ty, n, off, 0); }
static void axpy_alias_at(const elem *ty, size_t n, size_t off) { axpy_check(ty, n, off, 1); }

static void scale_at(const elem *ty, size_t n, size_t off)
{
    buf x = buf_make(ty, n, off);
    fill_mixed(&x);
    buf x0 = buf_clone(&x);
    long double a = (long double)(float)(3 * rng_unit());
    ty->scale(a, x.p, n);
    int ok = buf_guards_intact(&x);
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++)
        if (ty->bits(x.p, i) != ty->mul_bits(a, x0.p, i))
            bad = i;
    buf_free(&x);
    buf_free(&x0);
    CHECK_MSG(ok, "%s %s scale n=%zu off=%zu wrote outside x[0..n)", ISA, ty->name, n, off);
    CHECK_MSG(bad == n, "%s %s scale n=%zu off=%zu: x[%zu] is not a * x[%zu]", ISA, ty->name, n,
              off, bad, bad);
}

static void fill_at(const elem *ty, size_t n, size_t off)
{
    uint64_t values[] = {ty->bits_of(1.5L), ty->bits_of(-0.0L), ty->qnan, ty->snan};
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
        buf x = buf_make(ty, n, off);
        box v;
        ty->set_bits(&v, 0, values[k]);
        ty->fill(&v, x.p, n);
        int ok = buf_guards_intact(&x);
        size_t bad = n;
        for (size_t i = 0; i < n && bad == n; i++)
            if (ty->bits(x.p, i) != values[k])
                bad = i;
        buf_free(&x);
        CHECK_MSG(ok, "%s %s fill n=%zu off=%zu wrote outside x[0..n)", ISA, ty->name, n, off);
        CHECK_MSG(bad == n, "%s %s fill n=%zu off=%zu: x[%zu] has other bits", ISA, ty->name, n,
                  off, bad);
    }
}

static void copy_at(const elem *ty, size_t n, size_t off)
{
    buf x = buf_make(ty, n, off), y = buf_make(ty, n, (off + 2) % 4);
    for (size_t i = 0; i < n; i++) {
        uint64_t specials[] = {ty->qnan, ty->snan, ty->bits_of(-0.0L), ty->bits_of(INFINITY)};
        if (rng_below(8) == 0)
            ty->set_bits(x.p, i, specials[rng_below(4)]);
        else
            ty->set(x.p, i, rng_mixed());
    }
    ty->copy(x.p, y.p, n);
    int ok = buf_guards_intact(&y);
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++)
        if (ty->bits(y.p, i) != ty->bits(x.p, i))
            bad = i;
    buf_free(&x);
    buf_free(&y);
    CHECK_MSG(ok, "%s %s copy n=%zu off=%zu wrote outside y[0..n)", ISA, ty->name, n, off);
    CHECK_MSG(bad == n, "%s %s copy n=%zu off=%zu: y[%zu] != x[%zu] (bits)", ISA, ty->name, n, off,
              bad, bad);
}

static void check_elementwise(const elem *ty)
{
    each_length(ty, axpy_at);
    each_length(ty, axpy_alias_at);
    each_length(ty, scale_at);
    each_length(ty, fill_at);
    each_length(ty, copy_at);
    ty->axpy(2, NULL, NULL, 0);
    ty->scale(2, NULL, 0);
    box zero = {0};
    ty->fill(&zero, NULL, 0);
    ty->copy(NULL, NULL, 0);
}

// Data for min/max: kind 0 plain, 1 zeros of both signs only, 2 with NaNs
// (quiet and signalling, several), 3 with infinities and repeated extremes.
static void fill_extremes(const buf *x, int kind)
{
    const elem *ty = x->ty;
    size_t n = x->n;
    for (size_t i = 0; i < n; i++)
        ty->set(x->p, i, kind == 1 ? (rng() & 1 ? -0.0 : 0.0) : rng_mixed());
    if (n == 0)
        return;
    if (kind == 2) {
        for (int k = 0; k < 3; k++)
            ty->set_bits(x->p, rng_below(n), k == 1 ? ty->snan : ty->qnan ^ (uint64_t)k);
    } else if (kind == 3) {
        ty->set(x->p, rng_below(n), INFINITY);
        ty->set(x->p, rng_below(n), -INFINITY);
        long double v = ty->get(x->p, rng_below(n));
        for (int k = 0; k < 3; k++)
            ty->set(x->p, rng_below(n), v);
    }
}

static void minmax_at(const elem *ty, size_t n, size_t off)
{
    for (int kind = 0; kind < 4 && !bt_case_failed; kind++) {
        buf x = buf_make(ty, n, off);
        fill_extremes(&x, kind);
        uint64_t min_bits = ty->min(x.p, n), max_bits = ty->max(x.p, n);
        size_t imin = ty->argmin(x.p, n), imax = ty->argmax(x.p, n);
        uint64_t want_min = ref_ext_bits(ty, x.p, n, 0), want_max = ref_ext_bits(ty, x.p, n, 1);
        size_t want_imin = ref_argext(ty, x.p, n, 0), want_imax = ref_argext(ty, x.p, n, 1);
        buf_free(&x);
        CHECK_MSG(min_bits == want_min, "%s %s min n=%zu off=%zu data %d: bits %llx, want %llx",
                  ISA, ty->name, n, off, kind, (unsigned long long)min_bits,
                  (unsigned long long)want_min);
        CHECK_MSG(max_bits == want_max, "%s %s max n=%zu off=%zu data %d: bits %llx, want %llx",
                  ISA, ty->name, n, off, kind, (unsigned long long)max_bits,
                  (unsigned long long)want_max);
        CHECK_MSG(imin == want_imin, "%s %s argmin n=%zu off=%zu data %d: %zu, want %zu", ISA,
                  ty->name, n, off, kind, imin, want_imin);
        CHECK_MSG(imax == want_imax, "%s %s argmax n=%zu off=%zu data %d: %zu, want %zu", ISA,
                  ty->name, n, off, kind, imax, want_imax);
    }
}

static void check_minmax(const elem *ty) { each_length(ty, minmax_at); }

static void count_at(const elem *ty, size_t n, size_t off)
{
    buf x = buf_make(ty, n, off);
    for (size_t i = 0; i < n; i++) {
        size_t k = rng_below(10);
        if (k == 0)
            ty->set_bits(x.p, i, ty->qnan);
        else if (k == 1)
            ty->set(x.p, i, -0.0);
        else
            ty->set(x.p, i, (long double)((int)rng_below(7) - 3));
    }
    long double thresholds[] = {0.0L, -0.0L, 1.0L, 2.5L, -3.0L, NAN, INFINITY, -INFINITY};
    for (size_t k = 0; k < sizeof thresholds / sizeof thresholds[0] && !bt_case_failed; k++) {
        box t;
        ty->set(&t, 0, thresholds[k]);
        for (int op = BEAT_SIMD_CMP_LT; op <= BEAT_SIMD_CMP_NE; op++) {
            size_t want = 0;
            for (size_t i = 0; i < n; i++)
                want += (size_t)ref_cmp(ty->get(x.p, i), thresholds[k], (beat_simd_cmp)op);
            size_t got = ty->count((beat_simd_cmp)op, &t, x.p, n);
            CHECK_MSG(got == want, "%s %s count op %d t=%Lg n=%zu off=%zu: %zu, want %zu", ISA,
                      ty->name, op, thresholds[k], n, off, got, want);
        }
    }
    buf_free(&x);
}

static void check_count(const elem *ty)
{
    each_length(ty, count_at);
    box zero = {0};
    CHECK_EQ(ty->count(BEAT_SIMD_CMP_NE, &zero, NULL, 0), 0);
}

// ---------------------------------------------------------------------------
// Cases: kernels

static void note_paths(void)
{
    char list[64] = "";
    for (int i = BEAT_SIMD_SCALAR; i <= BEAT_SIMD_NEON; i++) {
        if (beat_simd_supported((beat_simd_isa)i)) {
            strcat(list, " ");
            strcat(list, beat_simd_isa_name((beat_simd_isa)i));
        }
    }
    bt_note("paths run on this CPU:%s (f32 and f64, n = 0-70 and up to 65549 at offsets 0-3, "
            "sum and dot also at %zu)",
            list, (size_t)HUGE_N);
}

static void sum_and_dot_stay_within_the_documented_bound_on_every_path(void)
{
    note_paths();
    each_path(check_sum_dot);
}

static void axpy_scale_fill_copy_write_exactly_their_range_on_every_path(void)
{
    each_path(check_elementwise);
}

static void min_max_and_their_indexes_follow_ieee_minimum_on_every_path(void)
{
    each_path(check_minmax);
}

static void count_compares_like_c_on_every_path(void) { each_path(check_count); }

// Specific values the random data may miss.
static void min_max_corner_cases_on_every_path(void)
{
    for (int i = BEAT_SIMD_SCALAR; i <= BEAT_SIMD_NEON && !bt_case_failed; i++) {
        if (!beat_simd_supported((beat_simd_isa)i))
            continue;
        CHECK_EQ(beat_simd_force((beat_simd_isa)i), BEAT_OK);
        const char *isa = beat_simd_isa_name((beat_simd_isa)i);
        float zeros[40], nan_last[40];
        for (int k = 0; k < 40; k++) {
            zeros[k] = 0.0f;
            nan_last[k] = (float)k;
        }
        zeros[37] = -0.0f; // min is -0 found at 37; max is +0 at 0
        CHECK_MSG(signbit(beat_simd_min_f32(zeros, 40)) && beat_simd_argmin_f32(zeros, 40) == 37,
                  "%s: min of zeros with one -0", isa);
        CHECK_MSG(!signbit(beat_simd_max_f32(zeros, 40)) && beat_simd_argmax_f32(zeros, 40) == 0,
                  "%s: max of zeros with one -0", isa);
        nan_last[39] = NAN;
        CHECK_MSG(isnan(beat_simd_min_f32(nan_last, 40)) &&
                      beat_simd_argmin_f32(nan_last, 40) == 39,
                  "%s: a NaN in the last (partial) vector", isa);
        CHECK_MSG(isinf(beat_simd_min_f32(NULL, 0)) && beat_simd_min_f32(NULL, 0) > 0,
                  "%s: min of nothing is +inf", isa);
        CHECK_MSG(isinf(beat_simd_max_f64(NULL, 0)) && beat_simd_max_f64(NULL, 0) < 0,
                  "%s: max of nothing is -inf", isa);
        CHECK_MSG(beat_simd_argmin_f64(NULL, 0) == 0 && beat_simd_argmax_f32(NULL, 0) == 0,
                  "%s: argmin/argmax of nothing is 0", isa);
        double inf_only[3] = {INFINITY, INFINITY, INFINITY};
        CHECK_MSG(beat_simd_min_f64(inf_only, 3) == INFINITY &&
                      beat_simd_argmin_f64(inf_only, 3) == 0,
                  "%s: all +inf", isa);
    }
    beat_simd_force(beat_simd_detect());
}

// Sums over the 2^24-element chunks of the lane counters.
static void count_is_exact_across_counter_chunks(void)
{
#ifdef BEAT_TEST_QUICK
    bt_note("quick build: 2^24 + 37 elements skipped");
#else
    size_t n = ((size_t)1 << 24) + 37, want = 0;
    float *x = (float *)malloc(n * sizeof *x);
    CHECK(x != NULL);
    for (size_t i = 0; i < n; i++) {
        x[i] = (i * 7 % 13) < 6 ? -1.0f : 1.0f;
        want += x[i] < 0;
    }
    for (int i = BEAT_SIMD_SCALAR; i <= BEAT_SIMD_NEON && !bt_case_failed; i++) {
        if (!beat_simd_supported((beat_simd_isa)i))
            continue;
        beat_simd_force((beat_simd_isa)i);
        size_t got = beat_simd_count_f32(BEAT_SIMD_CMP_LT, 0.0f, x, n);
        CHECK_MSG(got == want, "%s: %zu, want %zu", beat_simd_isa_name((beat_simd_isa)i), got,
                  want);
    }
    beat_simd_force(beat_simd_detect());
    free(x);
    bt_note("%zu elements, %zu below 0", n, want);
#endif
}

// ---------------------------------------------------------------------------
// Cases: detection and forcing

static void names_and_scalar_support_are_fixed(void)
{
    CHECK(strcmp(beat_simd_isa_name(BEAT_SIMD_SCALAR), "scalar") == 0);
    CHECK(strcmp(beat_simd_isa_name(BEAT_SIMD_SSE2), "sse2") == 0);
    CHECK(strcmp(beat_simd_isa_name(BEAT_SIMD_AVX2), "avx2") == 0);
    CHECK(strcmp(beat_simd_isa_name(BEAT_SIMD_AVX512), "avx512") == 0);
    CHECK(strcmp(beat_simd_isa_name(BEAT_SIMD_NEON), "neon") == 0);
    CHECK(strcmp(beat_simd_isa_name((beat_simd_isa)42), "unknown") == 0);
    CHECK_EQ(beat_simd_supported(BEAT_SIMD_SCALAR), 1);
    CHECK_EQ(beat_simd_supported((beat_simd_isa)42), 0);
    CHECK_EQ(beat_simd_supported((beat_simd_isa)-1), 0);
}

static void detect_picks_the_best_supported_path(void)
{
    static const beat_simd_isa order[] = {BEAT_SIMD_AVX512, BEAT_SIMD_AVX2, BEAT_SIMD_SSE2,
                                          BEAT_SIMD_NEON, BEAT_SIMD_SCALAR};
    beat_simd_isa best = beat_simd_detect();
    CHECK_EQ(beat_simd_supported(best), 1);
    for (size_t i = 0; order[i] != best; i++)
        CHECK_MSG(!beat_simd_supported(order[i]), "%s is supported but %s was detected",
                  beat_simd_isa_name(order[i]), beat_simd_isa_name(best));
    CHECK_EQ(beat_simd_detect(), best); // cached, stable
    bt_note("detected: %s", beat_simd_isa_name(best));
}

static void force_switches_the_path_and_refuses_what_cannot_run(void)
{
    CHECK_EQ(beat_simd_force((beat_simd_isa)42), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_simd_force((beat_simd_isa)-1), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_simd_force(BEAT_SIMD_SCALAR), BEAT_OK);
    for (int i = BEAT_SIMD_SCALAR; i <= BEAT_SIMD_NEON; i++) {
        beat_simd_isa isa = (beat_simd_isa)i, before = beat_simd_active();
        if (beat_simd_supported(isa)) {
            CHECK_EQ(beat_simd_force(isa), BEAT_OK);
            CHECK_EQ(beat_simd_active(), isa);
        } else {
            CHECK_EQ(beat_simd_force(isa), BEAT_ERROR_UNSUPPORTED);
            CHECK_EQ(beat_simd_active(), before);
        }
    }
    CHECK_EQ(beat_simd_force(beat_simd_detect()), BEAT_OK);
    CHECK_EQ(beat_simd_active(), beat_simd_detect());
}

#if TEST_SCALAR_ONLY
static void every_path_but_scalar_is_compiled_out(void)
{
    CHECK_EQ(beat_simd_detect(), BEAT_SIMD_SCALAR);
    CHECK_EQ(beat_simd_active(), BEAT_SIMD_SCALAR);
    for (int i = BEAT_SIMD_SSE2; i <= BEAT_SIMD_NEON; i++) {
        CHECK_EQ(beat_simd_supported((beat_simd_isa)i), 0);
        CHECK_EQ(beat_simd_force((beat_simd_isa)i), BEAT_ERROR_UNSUPPORTED);
    }
}
#endif

#ifndef TEST_SIMD_ONLY
// beat.h's cpuid layer and the SIMD detection see the same CPU.
static void detection_agrees_with_beat_cpu_detect(void)
{
    beat_cpu_info info;
    beat_result r = beat_cpu_detect(&info);
    if (r == BEAT_ERROR_UNSUPPORTED) {
        CHECK_EQ(beat_simd_detect(), BEAT_SIMD_SCALAR);
        return;
    }
    CHECK_EQ(r, BEAT_OK);
    uint64_t f = info.features;
    int avx2 = (f & BEAT_CPU_FEATURE_AVX2) && (f & BEAT_CPU_FEATURE_FMA);
    (void)avx2; // unused when the x86 paths are compiled out
#if defined(__x86_64__) || defined(__i386__)
#ifndef BEAT_SIMD_NO_SSE2
    CHECK_EQ(beat_simd_supported(BEAT_SIMD_SSE2), (f & BEAT_CPU_FEATURE_SSE2) != 0);
#endif
#ifndef BEAT_SIMD_NO_AVX2
    CHECK_EQ(beat_simd_supported(BEAT_SIMD_AVX2), avx2);
#endif
#ifndef BEAT_SIMD_NO_AVX512
    CHECK_EQ(beat_simd_supported(BEAT_SIMD_AVX512), avx2 && (f & BEAT_CPU_FEATURE_AVX512F));
#endif
#elif defined(__aarch64__) && !defined(BEAT_SIMD_NO_NEON)
    CHECK_EQ(beat_simd_supported(BEAT_SIMD_NEON), (f & BEAT_CPU_FEATURE_NEON) != 0);
#endif
}
#endif

// Integers sum exactly on every path, so every result must be exact while
// the path changes under the running threads (TSan checks the accesses).
typedef struct switch_run {
    const double *x;
    size_t n;
    double want;
    int stop;
    long calls, wrong;
} switch_run;

static void *sum_while_switching(void *arg)
{
    switch_run *s = (switch_run *)arg;
    long calls = 0, wrong = 0;
    // Relaxed everywhere: stop is only a flag, and pthread_join orders the
    // counts before the main thread reads them.
    while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
        wrong += beat_simd_sum_f64(s->x, s->n) != s->want;
        calls++;
    }
    __atomic_fetch_add(&s->calls, calls, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s->wrong, wrong, __ATOMIC_RELAXED);
    return NULL;
}

static void kernels_stay_exact_while_force_switches_paths_under_them(void)
{
    double x[1000];
    switch_run s = {x, 1000, 0, 0, 0, 0};
    for (int i = 0; i < 1000; i++) {
        x[i] = (double)(i % 17) - 8;
        s.want += x[i];
    }
    pthread_t threads[4];
    for (int t = 0; t < 4; t++)
        CHECK(pthread_create(&threads[t], NULL, sum_while_switching, &s) == 0);
    long switches = 0;
    double end = bt_seconds() + BT_SCALE(0.3, 0.1);
    while (bt_seconds() < end) {
        for (int i = BEAT_SIMD_SCALAR; i <= BEAT_SIMD_NEON; i++)
            if (beat_simd_force((beat_simd_isa)i) == BEAT_OK)
                switches++;
    }
    __atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
    for (int t = 0; t < 4; t++)
        pthread_join(threads[t], NULL);
    beat_simd_force(beat_simd_detect());
    CHECK_EQ(s.wrong, 0);
    bt_note("4 threads, %ld sums, %ld switches of the path", s.calls, switches);
}

// ---------------------------------------------------------------------------
// Cases: parallel kernels (beat.h only)

#ifndef TEST_SIMD_ONLY
static beat_pool *make_pool(unsigned workers)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = workers;
    beat_pool *pool = NULL;
    if (beat_pool_create(&cfg, &pool) != BEAT_OK)
        return NULL;
    return pool;
}

static beat_pool *pool1, *pool2;

// With BEAT_SIMD_PARALLEL_MIN_BYTES at 64 KiB here (see the top), lengths
// up to 4099 run on the calling thread and from 16387 on the pool, in both
// types; the quick build leaves out the last.
static const size_t par_lengths[] = {1, 5, 1000, 4099, 16387, 100007, 1000003};

static void par_reductions_at(const elem *ty, size_t n, size_t off)
{
    buf x = buf_make(ty, n, off), y = buf_make(ty, n, (off + 1) % 4);
    fill_mixed(&x);
    fill_mixed(&y);
    box s1, s2, d1, d2;
    CHECK_EQ(ty->psum(pool2, x.p, n, &s2), BEAT_OK);
    CHECK_EQ(ty->psum(pool1, x.p, n, &s1), BEAT_OK);
    CHECK_EQ(ty->pdot(pool2, x.p, y.p, n, &d2), BEAT_OK);
    CHECK_EQ(ty->pdot(pool1, x.p, y.p, n, &d1), BEAT_OK);
    long double abs_sum, exact = ref_sum(ty, x.p, n, &abs_sum);
    long double log2n = 0;
    while (((size_t)1 << (size_t)log2n) < n)
        log2n++;
    long double m = min_ld(n - 1, ceil_div(n, 8) + 5 + log2n);
    long double bound = gamma_of(ty, m) * abs_sum + ref_slack(n, abs_sum);
    long double err = ld_abs(ty->get(&s2, 0) - exact);
    CHECK_MSG(err <= bound, "%s parallel sum n=%zu off=%zu: error %Lg > bound %Lg", ty->name, n,
              off, err, bound);
    exact = ref_dot(ty, x.p, y.p, n, &abs_sum);
    m = min_ld(n, ceil_div(n, 8) + 6 + log2n);
    bound = gamma_of(ty, m) * abs_sum + ref_slack(n + 1, abs_sum);
    err = ld_abs(ty->get(&d2, 0) - exact);
    CHECK_MSG(err <= bound, "%s parallel dot n=%zu off=%zu: error %Lg > bound %Lg", ty->name, n,
              off, err, bound);
    CHECK_MSG(ty->bits(&s1, 0) == ty->bits(&s2, 0) && ty->bits(&d1, 0) == ty->bits(&d2, 0),
              "%s parallel sum/dot n=%zu off=%zu: 1 and 2 workers differ", ty->name, n, off);
    for (int kind = 0; kind < 4; kind++) {
        fill_extremes(&x, kind);
        box lo, hi;
        CHECK_EQ(ty->pmin(pool2, x.p, n, &lo), BEAT_OK);
        CHECK_EQ(ty->pmax(pool2, x.p, n, &hi), BEAT_OK);
        CHECK_MSG(ty->bits(&lo, 0) == ty->min(x.p, n) && ty->bits(&hi, 0) == ty->max(x.p, n),
                  "%s parallel min/max n=%zu off=%zu data %d differ from the serial ones", ty->name,
                  n, off, kind);
    }
    buf_free(&x);
    buf_free(&y);
}

static void par_axpy_at(const elem *ty, size_t n, size_t off)
{
    buf x = buf_make(ty, n, off), y = buf_make(ty, n, (off + 3) % 4);
    fill_mixed(&x);
    fill_mixed(&y);
    buf want = buf_clone(&y);
    long double a = (long double)(float)rng_unit();
    ty->axpy(a, x.p, want.p, n);
    CHECK_EQ(ty->paxpy(pool2, a, x.p, y.p, n), BEAT_OK);
    int ok = buf_guards_intact(&y);
    int same = memcmp(y.p, want.p, n * ty->size) == 0;
    buf_free(&x);
    buf_free(&y);
    buf_free(&want);
    CHECK_MSG(ok, "%s parallel axpy n=%zu off=%zu wrote outside y[0..n)", ty->name, n, off);
    CHECK_MSG(same, "%s parallel axpy n=%zu off=%zu differs from axpy", ty->name, n, off);
}

static void check_parallel(const elem *ty)
{
    size_t count = sizeof par_lengths / sizeof par_lengths[0] - BT_SCALE(0, 1);
    for (size_t k = 0; k < count && !bt_case_failed; k++)
        for (size_t off = 0; off < 4 && !bt_case_failed; off += 3) {
            par_reductions_at(ty, par_lengths[k], off);
            if (!bt_case_failed)
                par_axpy_at(ty, par_lengths[k], off);
        }
}

static void parallel_kernels_are_reproducible_and_match_the_serial_ones(void)
{
    pool1 = make_pool(1);
    pool2 = make_pool(2);
    CHECK(pool1 != NULL && pool2 != NULL);
    check_parallel(&elem_f32);
    if (!bt_case_failed)
        check_parallel(&elem_f64);
    beat_pool_destroy(pool1);
    beat_pool_destroy(pool2);
    bt_note("path %s, pools of 1 and 2 workers, n up to %zu",
            beat_simd_isa_name(beat_simd_active()),
            par_lengths[sizeof par_lengths / sizeof par_lengths[0] - 1 - BT_SCALE(0, 1)]);
}

typedef struct inside_call {
    beat_pool *pool;
    beat_result r;
} inside_call;

static void call_from_a_task(beat_ctx *ctx, void *arg)
{
    inside_call *c = (inside_call *)arg;
    float x[4] = {1, 2, 3, 4}, s = 0;
    (void)ctx;
    c->r = beat_simd_parallel_sum_f32(c->pool, x, 4, &s);
}

static void parallel_kernels_check_their_arguments(void)
{
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    float x[4] = {1, 2, 3, 4}, y[4] = {0, 0, 0, 0}, out = 7;
    double out64 = 7;
    CHECK_EQ(beat_simd_parallel_sum_f32(NULL, x, 4, &out), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_simd_parallel_sum_f32(pool, x, 4, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_simd_parallel_sum_f32(pool, NULL, 4, &out), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_simd_parallel_dot_f32(pool, x, NULL, 4, &out), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_simd_parallel_axpy_f32(pool, 1, NULL, y, 4), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_simd_parallel_axpy_f32(pool, 1, x, NULL, 4), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_simd_parallel_axpy_f64(NULL, 1, NULL, NULL, 0), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK(out == 7);
    CHECK_EQ(beat_simd_parallel_sum_f32(pool, NULL, 0, &out), BEAT_OK);
    CHECK(out == 0);
    CHECK_EQ(beat_simd_parallel_min_f64(pool, NULL, 0, &out64), BEAT_OK);
    CHECK(out64 == INFINITY);
    CHECK_EQ(beat_simd_parallel_max_f32(pool, NULL, 0, &out), BEAT_OK);
    CHECK(out == -INFINITY);
    CHECK_EQ(beat_simd_parallel_axpy_f32(pool, 1, NULL, NULL, 0), BEAT_OK);
    CHECK_EQ(beat_simd_parallel_sum_f32(pool, x, 4, &out), BEAT_OK);
    CHECK(out == 10);
    inside_call c = {pool, BEAT_OK};
    CHECK_EQ(beat_run(pool, call_from_a_task, &c), BEAT_OK);
    CHECK_EQ(c.r, BEAT_ERROR_DEADLOCK);
    beat_pool_destroy(pool);
}
#endif

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(names_and_scalar_support_are_fixed),
        BT_CASE(detect_picks_the_best_supported_path),
        BT_CASE(force_switches_the_path_and_refuses_what_cannot_run),
#if TEST_SCALAR_ONLY
        BT_CASE(every_path_but_scalar_is_compiled_out),
#endif
#ifndef TEST_SIMD_ONLY
        BT_CASE(detection_agrees_with_beat_cpu_detect),
#endif
        BT_CASE(sum_and_dot_stay_within_the_documented_bound_on_every_path),
        BT_CASE(axpy_scale_fill_copy_write_exactly_their_range_on_every_path),
        BT_CASE(min_max_and_their_indexes_follow_ieee_minimum_on_every_path),
        BT_CASE(min_max_corner_cases_on_every_path),
        BT_CASE(count_compares_like_c_on_every_path),
        BT_CASE(count_is_exact_across_counter_chunks),
        BT_CASE(kernels_stay_exact_while_force_switches_paths_under_them),
#ifndef TEST_SIMD_ONLY
        BT_CASE(parallel_kernels_are_reproducible_and_match_the_serial_ones),
        BT_CASE(parallel_kernels_check_their_arguments),
#endif
    };
    return BT_RUN(cases);
}
