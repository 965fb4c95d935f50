// Predictor: the One Euro filter (api/predict.h), and per-function
// execution times measured by the scheduler on its own workers.
//
// Each worker (context) owns a fixed open-addressing table keyed by the
// function's address. An entry runs a One Euro filter over the durations
// of that function's timed runs, in ns. Only the owner writes its table;
// any thread reads it: the fields others read are atomics, published by
// the key's release store (a new entry) or guarded by a per-entry seqlock
// (an evicted one); the filter state is the owner's alone. No locks, no
// allocation after create.
//
// Which operations may run at the same time (X = yes):
//
//                   sample  record  estimate
//     sample          -       -        X       (sample, record: owner only)
//     record          -       -        X
//     estimate        X       X        X
//
// Two choices depart from feeding the filter raw samples on the clock;
// both come from tuning runs of bench/predict_bench.c's workload:
// - The filter's time axis is the sample count (Te = 1 per timed run),
//   not the clock. Call rates range from a few per second to millions,
//   and on the clock the smoothing at rest scales with the sample period
//   (the speed noise grows as 1/sqrt(Te)). Tuned to follow a x4 jump in
//   2-5 samples at 20 us spacing, the clock axis left 8-12 % of the
//   predictions more than 10 % off at 1 ms spacing; the sample axis gives
//   0.5 % at any spacing. Per sample, the cutoffs mean the same for every
//   function: at rest an average over about 16 samples, after a x4 jump
//   within 10 % in 2-4 samples.
// - Each sample goes through a median of three (it and the two before)
//   first. Job times have one-off outliers (preemption, page faults); the
//   filter reads an outlier as fast motion and follows it (1 % of x3
//   outliers: 4.4 % of predictions off by more than 10 % without the
//   median, 0.5 % with it). The median delays a real step by one sample.
// beta is relative: each record sets it to BETA / estimate, so the speed
// term is a fraction of the estimate per sample and one setting serves
// 100 ns and 10 ms functions.
//
// Sampling: timing a call costs two clock reads plus a record (about 85
// ns here: 29 ns per clock read, 26 ns per record; predict_bench --cost),
// so not every call is timed. An entry times one call in `period` on
// average, period = BEAT__PREDICT_SPAN_NS / estimate, clamped to
// 1..BEAT__PREDICT_MAX_PERIOD: the timed calls then cover at least SPAN
// ns of work, and their cost stays below cost / SPAN (0.3 % at 32 us) for
// any job longer than SPAN / MAX_PERIOD (31 ns). Jobs longer than SPAN
// are always timed. The gaps are jittered (uniform 0..2*period-2, mean
// period-1), so that a workload with a period of its own is not always
// sampled in phase. An untimed call is a compare and a decrement on the
// worker's hot slot (about 2 ns; a hash and a probe when the function
// differs from the last one).
//
// BEAT_NO_PREDICT removes the tables: create gives a NULL predictor and
// every function accepts NULL (sample 0, record nothing, estimate absent).
// The One Euro filter stays (pure arithmetic, no cost unless called).
#include "atomics.h"

#include <string.h>

// ---------------------------------------------------------------------------
// One Euro filter

#define BEAT__TWO_PI 6.283185307179586

// x for x > 0; 0 for 0, negatives and NaN.
BEAT__PRIVATE double beat__nonneg(double x) { return x > 0 ? x : 0; }

// 1 for a finite x without libm: x - x is 0 for finite x, NaN otherwise.
BEAT__PRIVATE int beat__finite(double x) { return x - x == 0; }

// The paper's alpha = 1 / (1 + tau / Te), tau = 1 / (2 pi fc), written as
// r / (1 + r) with r = 2 pi fc Te so that fc = 0 divides nothing by zero.
BEAT__PRIVATE double beat__one_euro_alpha(double cutoff, double dt)
{
    double r = BEAT__TWO_PI * cutoff * dt;
    return r / (1.0 + r);
}

BEAT__DEF void beat_one_euro_init(beat_one_euro *f, double min_cutoff, double beta, double d_cutoff)
{
    f->min_cutoff = beat__nonneg(min_cutoff);
    f->beta = beat__nonneg(beta);
    f->d_cutoff = beat__nonneg(d_cutoff);
    f->x_prev = 0;
    f->dx_prev = 0;
    f->t_prev = 0;
    f->dt_prev = 0;
    f->initialised = 0;
}

BEAT__DEF double beat_one_euro_filter(beat_one_euro *f, double value, double t_seconds)
{
    if (!f->initialised) {
        if (!beat__finite(value) || !beat__finite(t_seconds))
            return value;
        f->x_prev = value;
        f->dx_prev = 0;
        f->t_prev = t_seconds;
        f->dt_prev = 0;
        f->initialised = 1;
        return value;
    }
    if (!beat__finite(value))
        return f->x_prev;
    double dt = t_seconds - f->t_prev;
    int advance = dt > 0 && beat__finite(t_seconds);
    if (!advance) {
        if (!(f->dt_prev > 0))
            return f->x_prev; // no period known yet: the Te -> 0 limit
        dt = f->dt_prev;
    }
    double dx = (value - f->x_prev) / dt;
    double dx_hat = f->dx_prev + beat__one_euro_alpha(f->d_cutoff, dt) * (dx - f->dx_prev);
    double cutoff = f->min_cutoff + f->beta * (dx_hat < 0 ? -dx_hat : dx_hat);
    // x_prev + alpha (x - x_prev): a constant input stays exactly constant.
    double x_hat = f->x_prev + beat__one_euro_alpha(cutoff, dt) * (value - f->x_prev);
    if (!beat__finite(x_hat) || !beat__finite(dx_hat))
        return f->x_prev; // overflow (huge speed): keep the state finite
    f->x_prev = x_hat;
    f->dx_prev = dx_hat;
    if (advance) {
        f->t_prev = t_seconds;
        f->dt_prev = dt;
    }
    return x_hat;
}

// ---------------------------------------------------------------------------
// Execution-time predictor

#ifdef BEAT_NO_PREDICT
#define BEAT__PREDICT 0
#else
#define BEAT__PREDICT 1
#endif

// A function pointer as a key, without the object/function pointer cast
// that ISO C forbids: BEAT__PREDICT_KEY(fn).
#define BEAT__PREDICT_KEY(fn) ((const void *)(uintptr_t)(fn))

typedef struct beat__predictor beat__predictor;

#if BEAT__PREDICT

#define BEAT__PREDICT_SLOTS 256u   // entries per worker when create gets 0
#define BEAT__PREDICT_PROBES 8u    // linear-probe window (and eviction set)
#define BEAT__PREDICT_EMPTY 0u     // key of a never-used entry
#define BEAT__PREDICT_SPAN_NS 32e3 // timed calls cover at least this much work
#define BEAT__PREDICT_MAX_PERIOD 1024u
#define BEAT__PREDICT_FRESH_NS 250000000u // estimate: workers this close to the newest
#define BEAT__PREDICT_WEIGHT_CAP 32u      // estimate: a worker weighs min(count, cap)

// Filter parameters, per sample (Te = 1); chosen with predict_bench.c.
#define BEAT__PREDICT_MIN_CUTOFF 0.01 // alpha 0.059 at rest: ~16 samples
#define BEAT__PREDICT_BETA 1.0        // per (fraction of the estimate / sample)
#define BEAT__PREDICT_D_CUTOFF 0.1    // the speed's filter: alpha 0.39
#define BEAT__PREDICT_FLOOR_NS 0.01   // beta's divisor never goes below this

// One function in one worker's table (128 bytes). seq, key, estimate,
// updated and count are read by any thread (atomics, see
// beat__predict_read); the rest is the owner's.
typedef struct beat__predict_entry {
    uint64_t seq;      // odd while the owner refills the entry for a new key
    uint64_t key;      // the function's address; EMPTY
    uint64_t estimate; // bits of the filtered duration (double, ns)
    uint64_t updated;  // now_ns of the latest sample
    uint64_t count;    // samples since the entry was filled
    beat_one_euro filter;
    double recent[2]; // the last two samples (median of three with the next)
    uint32_t skip;    // calls to leave untimed (while not hot, see below)
} beat__predict_entry;

// A worker's hot function (the one it recorded last, or looked up last):
// its countdown lives here instead of in its entry, so that an untimed
// call of the same function is one compare and one decrement, without
// the hash and the probe. Owner only; one cache line per worker.
typedef struct beat__predict_hot {
    uint64_t key; // 0: none
    beat__predict_entry *entry;
    uint32_t skip;
} BEAT__ALIGNED(BEAT_CACHELINE) beat__predict_hot;

struct beat__predictor {
    beat__predict_hot *hot;       // nworkers
    beat__predict_entry *entries; // nworkers tables of mask + 1 entries
    unsigned nworkers;
    uint32_t mask;
    uint32_t window; // probes: min(BEAT__PREDICT_PROBES, slots)
    size_t bytes;
    beat_allocator allocator;
};

BEAT__PRIVATE uint64_t beat__double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

BEAT__PRIVATE double beat__bits_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

// The splitmix64 finaliser: a well-mixed 64-bit value from any input.
BEAT__PRIVATE uint64_t beat__predict_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

BEAT__PRIVATE beat__predict_entry *beat__predict_table(const beat__predictor *p, unsigned worker)
{
    return p->entries + (size_t)worker * ((size_t)p->mask + 1);
}

// Fibonacci hashing: one multiply spreads the address's low bits upward.
BEAT__PRIVATE uint32_t beat__predict_home(const beat__predictor *p, uint64_t key)
{
    return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & p->mask;
}

BEAT__PRIVATE int beat__predict_key_ok(uint64_t key) { return key != BEAT__PREDICT_EMPTY; }

// slots: entries per worker, rounded up to a power of two (0 = 256, at
// most 65536). Memory: nworkers * (64 + slots * 128) bytes (32 KiB per
// worker by default), in one block from allocator (NULL = BEAT_MALLOC).
// With BEAT_NO_PREDICT *out is NULL and the result BEAT_OK.
// Thread safety: any thread.
BEAT__PRIVATE beat_result beat__predictor_create(unsigned nworkers, unsigned slots,
                                                 const beat_allocator *allocator,
                                                 beat__predictor **out)
{
    static const beat_allocator none = {NULL, NULL, NULL};
    if (out == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    *out = NULL;
    if (allocator == NULL)
        allocator = &none;
    if (nworkers == 0 || slots > 65536u || !beat__allocator_valid(allocator))
        return BEAT_ERROR_INVALID_ARGUMENT;
    uint32_t n = 1;
    while (n < (slots == 0 ? BEAT__PREDICT_SLOTS : slots))
        n <<= 1;
    size_t head = (sizeof(beat__predictor) + BEAT_CACHELINE - 1) / BEAT_CACHELINE * BEAT_CACHELINE;
    size_t per_worker = sizeof(beat__predict_hot) + (size_t)n * sizeof(beat__predict_entry);
    if (nworkers > (SIZE_MAX - head) / per_worker)
        return BEAT_ERROR_OUT_OF_MEMORY;
    size_t bytes = head + nworkers * per_worker;
    unsigned char *block = (unsigned char *)beat__alloc(allocator, bytes, BEAT_CACHELINE);
    if (block == NULL)
        return BEAT_ERROR_OUT_OF_MEMORY;
    memset(block, 0, bytes); // every key EMPTY, no hot function
    beat__predictor *p = (beat__predictor *)(void *)block;
    p->hot = (beat__predict_hot *)(void *)(block + head);
    p->entries = (beat__predict_entry *)(void *)(p->hot + nworkers);
    p->nworkers = nworkers;
    p->mask = n - 1;
    p->window = n < BEAT__PREDICT_PROBES ? n : BEAT__PREDICT_PROBES;
    p->bytes = bytes;
    p->allocator = *allocator;
    *out = p;
    return BEAT_OK;
}

// NULL is a no-op. Thread safety: once, when no other thread uses p.
BEAT__PRIVATE void beat__predictor_destroy(beat__predictor *p)
{
    if (p == NULL)
        return;
    beat_allocator allocator = p->allocator;
    beat__free(&allocator, p, p->bytes, BEAT_CACHELINE);
}

// The owner's entry for key, or NULL. Keys are never removed (an eviction
// replaces one in place), so an EMPTY slot ends the probe.
BEAT__PRIVATE beat__predict_entry *beat__predict_find_owner(const beat__predictor *p,
                                                            unsigned worker, uint64_t key)
{
    beat__predict_entry *table = beat__predict_table(p, worker);
    uint32_t i = beat__predict_home(p, key);
    for (uint32_t n = 0; n < p->window; n++, i = (i + 1) & p->mask) {
        // Relaxed: the owner wrote every key of its own table.
        uint64_t k = beat__atomic_load_u64(&table[i].key, BEAT__MO_RELAXED);
        if (k == key)
            return &table[i];
        if (k == BEAT__PREDICT_EMPTY)
            return NULL;
    }
    return NULL;
}

#define BEAT__PREDICT_FOUND 0
#define BEAT__PREDICT_NEW 1     // an empty slot: publish the key
#define BEAT__PREDICT_EVICTED 2 // another key's slot: seq is odd, close it

// The owner's entry for key. When key has none, takes an empty slot of the
// probe window or else evicts the window's least recently updated entry;
// the caller then stores the first sample's fields and publishes the
// entry (beat__predict_publish), as *how says.
BEAT__PRIVATE beat__predict_entry *beat__predict_claim(const beat__predictor *p, unsigned worker,
                                                       uint64_t key, int *how)
{
    beat__predict_entry *table = beat__predict_table(p, worker);
    beat__predict_entry *victim = NULL;
    uint64_t oldest = UINT64_MAX;
    uint32_t i = beat__predict_home(p, key);
    *how = BEAT__PREDICT_FOUND;
    for (uint32_t n = 0; n < p->window; n++, i = (i + 1) & p->mask) {
        beat__predict_entry *e = &table[i];
        // Relaxed: the owner reads its own writes.
        uint64_t k = beat__atomic_load_u64(&e->key, BEAT__MO_RELAXED);
        if (k == key)
            return e;
        if (k == BEAT__PREDICT_EMPTY) {
            victim = e;
            break;
        }
        uint64_t updated = beat__atomic_load_u64(&e->updated, BEAT__MO_RELAXED);
        if (victim == NULL || updated < oldest) {
            oldest = updated;
            victim = e;
        }
    }
    *how = BEAT__PREDICT_NEW;
    // Relaxed: as above.
    if (beat__atomic_load_u64(&victim->key, BEAT__MO_RELAXED) != BEAT__PREDICT_EMPTY) {
        // seq odd before any field changes. Relaxed store, then the
        // release fence: a reader that sees a field written after it also
        // sees a newer seq on its re-check (pairs with its acquire fence).
        uint64_t seq = beat__atomic_load_u64(&victim->seq, BEAT__MO_RELAXED);
        beat__atomic_store_u64(&victim->seq, seq + 1, BEAT__MO_RELAXED);
        beat__fence_release();
        *how = BEAT__PREDICT_EVICTED;
    }
    victim->filter.initialised = 0;
    return victim;
}

// Makes a claimed entry visible with its first sample.
BEAT__PRIVATE void beat__predict_publish(beat__predict_entry *e, uint64_t key, int how)
{
    if (how == BEAT__PREDICT_NEW) {
        // Release: pairs with the reader's acquire load of the key.
        beat__atomic_store_u64(&e->key, key, BEAT__MO_RELEASE);
    } else if (how == BEAT__PREDICT_EVICTED) {
        // Relaxed: published by the release store of seq below.
        beat__atomic_store_u64(&e->key, key, BEAT__MO_RELAXED);
        uint64_t seq = beat__atomic_load_u64(&e->seq, BEAT__MO_RELAXED);
        // Release: pairs with the reader's acquire load of seq.
        beat__atomic_store_u64(&e->seq, seq + 1, BEAT__MO_RELEASE);
    }
}

// Moves the hot function's countdown back into its entry.
BEAT__PRIVATE void beat__predict_cool(beat__predict_hot *hot)
{
    if (hot->entry != NULL)
        hot->entry->skip = hot->skip;
    hot->key = 0;
    hot->entry = NULL;
}

// Owner: makes key worker's hot function. Returns 0 when key has no entry
// (and so no countdown) yet.
BEAT__PRIVATE int beat__predict_heat(beat__predictor *p, unsigned worker, uint64_t key)
{
    beat__predict_hot *hot = &p->hot[worker];
    beat__predict_entry *e = beat__predict_find_owner(p, worker, key);
    if (e == NULL)
        return 0;
    beat__predict_cool(hot);
    hot->key = key;
    hot->entry = e;
    hot->skip = e->skip;
    return 1;
}

// Owner: 1 when this run of fn should be timed (then time it and call
// beat__predictor_record_owner or _record_items_owner), 0 to run it
// untimed. A function not in the table yet is timed. Hot path: a compare
// and a decrement on the worker's hot slot (a hash and a probe when fn is
// not the last function), no atomic RMW, no allocation.
// Thread safety: worker's owner only.
BEAT__INLINE int beat__predictor_sample_owner(beat__predictor *p, unsigned worker, const void *fn)
{
    uint64_t key = (uint64_t)(uintptr_t)fn;
    if (p == NULL || worker >= p->nworkers || !beat__predict_key_ok(key))
        return 0;
    beat__predict_hot *hot = &p->hot[worker];
    if (BEAT__UNLIKELY(hot->key != key) && !beat__predict_heat(p, worker, key))
        return 1;
    if (hot->skip == 0)
        return 1;
    hot->skip--;
    return 0;
}

// Folds one sample (ns per item) into worker's entry for key; the timed
// unit was `items` items long, which sets the sampling period.
BEAT__PRIVATE void beat__predict_update(beat__predictor *p, unsigned worker, const void *fn,
                                        double ns, uint64_t items, uint64_t now_ns)
{
    uint64_t key = (uint64_t)(uintptr_t)fn;
    if (p == NULL || worker >= p->nworkers || !beat__predict_key_ok(key) || !(ns >= 0))
        return;
    beat__predict_hot *hot = &p->hot[worker];
    beat__predict_cool(hot); // the claim below may evict the hot entry
    int how;
    beat__predict_entry *e = beat__predict_claim(p, worker, key, &how);
    beat_one_euro *f = &e->filter;
    if (!f->initialised) {
        beat_one_euro_init(f, BEAT__PREDICT_MIN_CUTOFF, 0, BEAT__PREDICT_D_CUTOFF);
    } else {
        double scale = f->x_prev > BEAT__PREDICT_FLOOR_NS ? f->x_prev : BEAT__PREDICT_FLOOR_NS;
        f->beta = BEAT__PREDICT_BETA / scale;
    }
    // Relaxed: the owner reads its own writes.
    uint64_t count =
        how != BEAT__PREDICT_FOUND ? 1 : beat__atomic_load_u64(&e->count, BEAT__MO_RELAXED) + 1;
    double fed = ns;
    if (count > 2) { // the median of three: ns clamped between the two before
        double a = e->recent[0], b = e->recent[1];
        double lo = a < b ? a : b, hi = a < b ? b : a;
        fed = ns < lo ? lo : ns > hi ? hi : ns;
    }
    e->recent[0] = e->recent[1];
    e->recent[1] = ns;
    double estimate = beat_one_euro_filter(f, fed, (double)count);
    // Relaxed: single writer; readers take each field as it is (see
    // beat__predictor_estimate); a claimed entry's are published below.
    beat__atomic_store_u64(&e->estimate, beat__double_bits(estimate), BEAT__MO_RELAXED);
    beat__atomic_store_u64(&e->updated, now_ns, BEAT__MO_RELAXED);
    beat__atomic_store_u64(&e->count, count, BEAT__MO_RELAXED);
    beat__predict_publish(e, key, how);

    // The countdown to the next timed call, jittered. From the count alone
    // (not the address), so runs are reproducible.
    double unit = estimate * (double)items;
    double want = unit > 0 ? BEAT__PREDICT_SPAN_NS / unit : BEAT__PREDICT_MAX_PERIOD;
    uint64_t period = want >= BEAT__PREDICT_MAX_PERIOD ? BEAT__PREDICT_MAX_PERIOD
                      : want <= 1                      ? 1u
                                                       : (uint64_t)want;
    uint64_t jitter = beat__predict_mix(count * 0x9E3779B97F4A7C15ull);
    hot->skip = (uint32_t)(jitter % (2 * period - 1));
    hot->key = key;
    hot->entry = e;
}

// Owner: one timed run of fn took ns, ending at now_ns (beat__now_ns; the
// filter's time axis). Claims a slot on first sight (evicting the least
// recently updated entry of the probe window when it is full); never
// allocates. NULL p, worker >= nworkers and fn NULL are ignored.
// Thread safety: worker's owner only.
BEAT__PRIVATE void beat__predictor_record_owner(beat__predictor *p, unsigned worker, const void *fn,
                                                uint64_t ns, uint64_t now_ns)
{
    beat__predict_update(p, worker, fn, (double)ns, 1, now_ns);
}

// Owner: a timed chunk of items iterations of fn took ns; the entry tracks
// ns per item (a loop's estimate stays comparable across chunk sizes).
// items 0 is ignored. Thread safety: worker's owner only.
BEAT__PRIVATE void beat__predictor_record_items_owner(beat__predictor *p, unsigned worker,
                                                      const void *fn, uint64_t ns, uint64_t items,
                                                      uint64_t now_ns)
{
    if (items > 0)
        beat__predict_update(p, worker, fn, (double)ns / (double)items, items, now_ns);
}

// Reads worker's entry for key: 1 with the estimate, the time of its last
// update and its sample count, 0 when absent or being refilled. A seqlock
// (Boehm, "Can seqlocks get along with programming language memory
// models?", MSPC 2012): seq is read before and after the fields, and an
// eviction makes it odd before any field changes, so a changed seq means
// the fields may belong to the new function: they are dropped. A key put
// in an empty slot is published by its own release store instead.
BEAT__PRIVATE int beat__predict_read(const beat__predictor *p, unsigned worker, uint64_t key,
                                     double *estimate, uint64_t *updated, uint64_t *count)
{
    const beat__predict_entry *table = beat__predict_table(p, worker);
    uint32_t i = beat__predict_home(p, key);
    for (uint32_t n = 0; n < p->window; n++, i = (i + 1) & p->mask) {
        const beat__predict_entry *e = &table[i];
        // Acquire: pairs with the release store that closes an eviction.
        uint64_t seq = beat__atomic_load_u64(&e->seq, BEAT__MO_ACQUIRE);
        // Acquire: pairs with the release store of a key in an empty slot.
        uint64_t k = beat__atomic_load_u64(&e->key, BEAT__MO_ACQUIRE);
        if (k == BEAT__PREDICT_EMPTY)
            return 0;
        if (k != key || (seq & 1) != 0)
            continue; // another key, or being refilled (ours is absent then)
        // Relaxed: ordered by the acquire loads above and the fence below.
        uint64_t bits = beat__atomic_load_u64(&e->estimate, BEAT__MO_RELAXED);
        *updated = beat__atomic_load_u64(&e->updated, BEAT__MO_RELAXED);
        *count = beat__atomic_load_u64(&e->count, BEAT__MO_RELAXED);
        // Pairs with the release fence in claim: if a field above came
        // from an eviction, the seq re-read below is newer.
        beat__fence_acquire();
        // Relaxed: ordered by the fence above.
        if (beat__atomic_load_u64(&e->seq, BEAT__MO_RELAXED) != seq)
            return 0;
        *estimate = beat__bits_double(bits);
        return 1;
    }
    return 0;
}

// Any thread: worker's own estimate for fn in ns (per item for entries fed
// by _record_items_owner): 1 with *ns set, or 0 when worker has none.
// Cheap (one table probe): for decisions on a worker's hot path.
// Thread safety: any thread.
BEAT__PRIVATE int beat__predictor_estimate_worker(const beat__predictor *p, unsigned worker,
                                                  const void *fn, double *ns)
{
    uint64_t key = (uint64_t)(uintptr_t)fn, updated, count;
    double estimate;
    if (p == NULL || worker >= p->nworkers || !beat__predict_key_ok(key))
        return 0;
    if (!beat__predict_read(p, worker, key, &estimate, &updated, &count))
        return 0;
    *ns = estimate;
    return 1;
}

// Any thread: the pool's estimate for fn, combining every worker's entry.
// Returns 1 and sets *ns, or 0 when no worker has timed fn.
//
// The combination is a mean of the workers' filtered values, each weighted
// by min(count, 32), over the entries updated within 250 ms of the most
// recently updated one. A mean, because a job may run on any worker (on a
// hybrid CPU, P and E cores time the same job differently) and the caller
// plans for "some worker"; capped weights, so a worker with three samples
// counts less but a long history does not outvote the rest; the freshness
// window, so a worker that last ran fn in an earlier phase of the program
// does not pull the estimate back (250 ms: 15 frames at 60 Hz). Each
// worker's fields are read one by one, so a result may mix two
// consecutive updates of one entry; every value it mixes was a filtered
// value (a convex combination of medians of recorded samples), so the
// result stays within the range of the samples fed.
// Cost: two probes of every worker's table. Thread safety: any thread.
BEAT__PRIVATE int beat__predictor_estimate(const beat__predictor *p, const void *fn, double *ns)
{
    uint64_t key = (uint64_t)(uintptr_t)fn, updated, count, newest = 0;
    double estimate, newest_estimate = 0;
    int found = 0;
    if (p == NULL || !beat__predict_key_ok(key))
        return 0;
    for (unsigned w = 0; w < p->nworkers; w++) {
        if (beat__predict_read(p, w, key, &estimate, &updated, &count) &&
            (!found || updated > newest)) {
            found = 1;
            newest = updated;
            newest_estimate = estimate;
        }
    }
    if (!found)
        return 0;
    uint64_t since = newest > BEAT__PREDICT_FRESH_NS ? newest - BEAT__PREDICT_FRESH_NS : 0;
    double sum = 0, weights = 0;
    for (unsigned w = 0; w < p->nworkers; w++) {
        if (!beat__predict_read(p, w, key, &estimate, &updated, &count) || updated < since)
            continue;
        uint64_t capped = count < BEAT__PREDICT_WEIGHT_CAP ? count : BEAT__PREDICT_WEIGHT_CAP;
        double weight = (double)capped;
        sum += weight * estimate;
        weights += weight;
    }
    // Entries refilled between the two passes: fall back on the newest.
    *ns = weights > 0 ? sum / weights : newest_estimate;
    return 1;
}

#else // BEAT_NO_PREDICT

BEAT__PRIVATE beat_result beat__predictor_create(unsigned nworkers, unsigned slots,
                                                 const beat_allocator *allocator,
                                                 beat__predictor **out)
{
    (void)nworkers;
    (void)slots;
    (void)allocator;
    if (out == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    *out = NULL;
    return BEAT_OK;
}
BEAT__PRIVATE void beat__predictor_destroy(beat__predictor *p) { (void)p; }
BEAT__INLINE int beat__predictor_sample_owner(beat__predictor *p, unsigned worker, const void *fn)
{
    (void)p;
    (void)worker;
    (void)fn;
    return 0;
}
BEAT__PRIVATE void beat__predictor_record_owner(beat__predictor *p, unsigned worker, const void *fn,
                                                uint64_t ns, uint64_t now_ns)
{
    (void)p;
    (void)worker;
    (void)fn;
    (void)ns;
    (void)now_ns;
}
BEAT__PRIVATE void beat__predictor_record_items_owner(beat__predictor *p, unsigned worker,
                                                      const void *fn, uint64_t ns, uint64_t items,
                                                      uint64_t now_ns)
{
    (void)items;
    beat__predictor_record_owner(p, worker, fn, ns, now_ns);
}
BEAT__PRIVATE int beat__predictor_estimate_worker(const beat__predictor *p, unsigned worker,
                                                  const void *fn, double *ns)
{
    (void)p;
    (void)worker;
    (void)fn;
    (void)ns;
    return 0;
}
BEAT__PRIVATE int beat__predictor_estimate(const beat__predictor *p, const void *fn, double *ns)
{
    return beat__predictor_estimate_worker(p, 0, fn, ns);
}

#endif // BEAT_NO_PREDICT
