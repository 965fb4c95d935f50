// Tests of the Chase-Lev deque (src/deque.c) through the generated beat.h,
// compiled the way users compile Beat: this file defines BEAT_IMPLEMENTATION,
// so the private deque functions are visible here.
//
// What it proves (../shared/research/reliability_anchors.md, section 5):
// - unit: a take on a fresh deque is empty and leaves bottom alone (the
//   unsigned-underflow hazard of the paper), the owner's push/pop is LIFO,
//   steal is FIFO, push returns the previous size, growth from capacity 2
//   keeps every item in order, retired buffers are kept until destroy frees
//   all of them, a failed growth leaves the deque intact, and a long random
//   single-threaded run matches a reference deque, also across the wrap;
// - item 9: indices that wrap past UINT64_MAX while a thief steals lose and
//   duplicate nothing;
// - item 5: 1 owner + 1, 3 or 7 thieves, 10 M random owner operations from
//   capacity 2: every item is taken exactly once, the owner's pops are LIFO
//   and each thief's steals are FIFO;
// - item 6: the owner and 2 thieves race for a single item 5 M times; each
//   round exactly one of them gets it, and the race window is hit;
// - item 10: bursts of pushes that grow the buffer while 3 thieves steal;
//   destroy frees every buffer (the ASan build checks there is no use after
//   free of a retired buffer).
// Timing is reported, never checked.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"

#include <pthread.h>
#include <stddef.h>

// ---- Helpers ---------------------------------------------------------------

// Items are the integers 1, 2, 3... carried as pointers (never dereferenced).
static void *item_of(uint64_t v) { return (void *)(uintptr_t)v; }
static uint64_t value_of(void *p) { return (uint64_t)(uintptr_t)p; }

// xorshift64: reproducible pseudo-random numbers, one state per thread.
static uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

// An allocator for beat__deque_mem that counts what is outstanding, checks
// that release gets the size alloc got, and can be told to fail. Only the
// owner thread allocates (init, growth) and releases (destroy).
typedef struct counting_mem {
    int64_t bytes; // outstanding
    uint64_t allocs, releases;
    uint64_t size_mismatches; // release called with another size than alloc
    uint64_t allocs_left;     // allocations that may still succeed; UINT64_MAX: all
} counting_mem;

static void *counting_alloc(size_t bytes, void *user)
{
    counting_mem *m = (counting_mem *)user;
    if (m->allocs_left == 0)
        return NULL;
    if (m->allocs_left != UINT64_MAX)
        m->allocs_left--;
    // A header of max_align_t keeps the block aligned and records its size.
    max_align_t *block = (max_align_t *)malloc(sizeof(max_align_t) + bytes);
    if (block == NULL)
        return NULL;
    memcpy(block, &bytes, sizeof bytes);
    m->bytes += (int64_t)bytes;
    m->allocs++;
    return block + 1;
}

static void counting_release(void *ptr, size_t bytes, void *user)
{
    counting_mem *m = (counting_mem *)user;
    max_align_t *block = (max_align_t *)ptr - 1;
    size_t recorded;
    memcpy(&recorded, block, sizeof recorded);
    if (recorded != bytes)
        m->size_mismatches++;
    m->bytes -= (int64_t)recorded;
    m->releases++;
    free(block);
}

static beat__deque_mem counting_mem_init(counting_mem *m)
{
    memset(m, 0, sizeof *m);
    m->allocs_left = UINT64_MAX;
    beat__deque_mem mem = {counting_alloc, counting_release, m};
    return mem;
}

static uint64_t retired_count(const beat__deque *d)
{
    uint64_t n = 0;
    for (const beat__deque_buf *b = d->retired; b != NULL; b = b->retired_next)
        n++;
    return n;
}

static uint64_t retired_slots(const beat__deque *d)
{
    uint64_t n = 0;
    for (const beat__deque_buf *b = d->retired; b != NULL; b = b->retired_next)
        n += b->capacity;
    return n;
}

// Starting indices that exercise the index arithmetic: zero (where an
// unsigned b - 1 underflows), the signed boundary and the unsigned wrap.
static const uint64_t interesting_starts[] = {
    0, 1, (uint64_t)INT64_MAX - 3, (uint64_t)INT64_MAX + 1, UINT64_MAX - 3, UINT64_MAX,
};
#define N_STARTS (sizeof interesting_starts / sizeof interesting_starts[0])

// ---- Unit: single thread ---------------------------------------------------

static void take_on_a_fresh_deque_is_empty_and_leaves_bottom(void)
{
    for (size_t i = 0; i < N_STARTS; i++) {
        uint64_t start = interesting_starts[i];
        counting_mem cm;
        beat__deque_mem mem = counting_mem_init(&cm);
        beat__deque d;
        CHECK_EQ(beat__deque_init_at(&d, 2, &mem, start), 0);
        for (int k = 0; k < 3; k++) { // repeated takes must not drift
            CHECK(beat__deque_pop_owner(&d) == NULL);
            CHECK_EQ(d.bottom, start);
            CHECK_EQ(d.top, start);
            CHECK_EQ(beat__deque_size(&d), 0);
        }
        // Still a working deque afterwards.
        CHECK_EQ(beat__deque_push_owner(&d, item_of(7)), 0);
        CHECK_EQ(beat__deque_size(&d), 1);
        CHECK(beat__deque_pop_owner(&d) == item_of(7));
        // Taking the last item wins it on top with a CAS and restores
        // bottom: both indices end one step on, and equal.
        CHECK_EQ(d.top, start + 1);
        CHECK_EQ(d.bottom, start + 1);
        CHECK(beat__deque_pop_owner(&d) == NULL);
        CHECK_EQ(d.top, start + 1);
        CHECK_EQ(d.bottom, start + 1);
        beat__deque_destroy(&d);
        CHECK_EQ(cm.bytes, 0);
    }
}

static void owner_push_then_pop_is_lifo(void)
{
    counting_mem cm;
    beat__deque_mem mem = counting_mem_init(&cm);
    beat__deque d;
    CHECK_EQ(beat__deque_init(&d, 8, &mem), 0);
    for (uint64_t v = 1; v <= 5; v++)
        beat__deque_push_owner(&d, item_of(v));
    for (uint64_t v = 5; v >= 1; v--)
        CHECK_EQ(value_of(beat__deque_pop_owner(&d)), v);
    CHECK(beat__deque_pop_owner(&d) == NULL);
    // Interleaved: each pop returns the newest item still in the deque.
    beat__deque_push_owner(&d, item_of(10));
    beat__deque_push_owner(&d, item_of(11));
    CHECK_EQ(value_of(beat__deque_pop_owner(&d)), 11);
    beat__deque_push_owner(&d, item_of(12));
    CHECK_EQ(value_of(beat__deque_pop_owner(&d)), 12);
    CHECK_EQ(value_of(beat__deque_pop_owner(&d)), 10);
    CHECK(beat__deque_pop_owner(&d) == NULL);
    beat__deque_destroy(&d);
    CHECK_EQ(cm.bytes, 0);
}

static void steal_takes_the_oldest_item_first(void)
{
    counting_mem cm;
    beat__deque_mem mem = counting_mem_init(&cm);
    beat__deque d;
    void *out = NULL;
    CHECK_EQ(beat__deque_init(&d, 8, &mem), 0);
    for (uint64_t v = 1; v <= 5; v++)
        beat__deque_push_owner(&d, item_of(v));
    for (uint64_t v = 1; v <= 5; v++) {
        CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_OK);
        CHECK_EQ(value_of(out), v);
    }
    CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_EMPTY);
    // Owner and thief take from opposite ends.
    for (uint64_t v = 1; v <= 4; v++)
        beat__deque_push_owner(&d, item_of(v));
    CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_OK);
    CHECK_EQ(value_of(out), 1);
    CHECK_EQ(value_of(beat__deque_pop_owner(&d)), 4);
    CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_OK);
    CHECK_EQ(value_of(out), 2);
    CHECK_EQ(value_of(beat__deque_pop_owner(&d)), 3);
    CHECK(beat__deque_pop_owner(&d) == NULL);
    beat__deque_destroy(&d);
    CHECK_EQ(cm.bytes, 0);
}

static void push_returns_the_number_of_items_before_it(void)
{
    counting_mem cm;
    beat__deque_mem mem = counting_mem_init(&cm);
    beat__deque d;
    void *out;
    CHECK_EQ(beat__deque_init(&d, 2, &mem), 0);
    for (uint64_t v = 1; v <= 20; v++) // across growths too
        CHECK_EQ(beat__deque_push_owner(&d, item_of(v)), v - 1);
    CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_OK);
    beat__deque_pop_owner(&d);
    CHECK_EQ(beat__deque_push_owner(&d, item_of(21)), 18);
    for (int i = 0; i < 19; i++)
        CHECK(beat__deque_pop_owner(&d) != NULL);
    CHECK(beat__deque_pop_owner(&d) == NULL);
    CHECK_EQ(beat__deque_push_owner(&d, item_of(22)), 0); // 0: it was empty
    beat__deque_destroy(&d);
    CHECK_EQ(cm.bytes, 0);
}

static void steal_on_an_empty_deque_reports_empty_and_changes_nothing(void)
{
    counting_mem cm;
    beat__deque_mem mem = counting_mem_init(&cm);
    beat__deque d;
    void *out = NULL;
    CHECK_EQ(beat__deque_init(&d, 2, &mem), 0);
    CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_EMPTY); // fresh
    CHECK_EQ(d.top, 0);
    CHECK_EQ(d.bottom, 0);
    beat__deque_push_owner(&d, item_of(1));
    beat__deque_pop_owner(&d); // the last item: top and bottom both move to 1
    CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_EMPTY); // emptied by the owner
    CHECK_EQ(d.top, 1);
    CHECK_EQ(d.bottom, 1);
    beat__deque_push_owner(&d, item_of(2));
    CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_OK);
    CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_EMPTY); // emptied by a thief
    CHECK_EQ(d.top, 2);
    CHECK_EQ(d.bottom, 2);
    CHECK_EQ(beat__deque_size(&d), 0);
    beat__deque_destroy(&d);
    CHECK_EQ(cm.bytes, 0);
}

// Fills a deque of capacity 2 with n items: log2(n) - 1 doublings.
static int fill_from_capacity_2(beat__deque *d, const beat__deque_mem *mem, uint64_t n)
{
    if (beat__deque_init(d, 2, mem) != 0)
        return -1;
    for (uint64_t v = 1; v <= n; v++)
        if (beat__deque_push_owner(d, item_of(v)) != (int64_t)(v - 1))
            return -1;
    return 0;
}

static void growth_from_capacity_2_keeps_every_item_in_order(void)
{
    enum { N = 1 << 16, DOUBLINGS = 15 }; // 2 -> 65536
    counting_mem cm;
    beat__deque_mem mem = counting_mem_init(&cm);
    beat__deque d;
    void *out;

    // Owner view: newest first.
    CHECK_EQ(fill_from_capacity_2(&d, &mem, N), 0);
    CHECK_EQ(d.buf->capacity, N);
    CHECK_EQ(retired_count(&d), DOUBLINGS);
    CHECK(retired_slots(&d) < d.buf->capacity); // retired memory < the live buffer
    for (uint64_t v = N; v >= 1; v--)
        CHECK_EQ(value_of(beat__deque_pop_owner(&d)), v);
    CHECK(beat__deque_pop_owner(&d) == NULL);
    beat__deque_destroy(&d);

    // Thief view: oldest first.
    CHECK_EQ(fill_from_capacity_2(&d, &mem, N), 0);
    for (uint64_t v = 1; v <= N; v++) {
        CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_OK);
        CHECK_EQ(value_of(out), v);
    }
    CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_EMPTY);
    beat__deque_destroy(&d);

    CHECK_EQ(cm.allocs, 2 * (DOUBLINGS + 1));
    CHECK_EQ(cm.releases, cm.allocs);
    CHECK_EQ(cm.size_mismatches, 0);
    CHECK_EQ(cm.bytes, 0);
}

// The live range [top, bottom) wraps around the end of the ring when the
// buffer grows: the copy must unwrap it.
static void growth_copies_a_live_range_that_wraps_the_ring(void)
{
    counting_mem cm;
    beat__deque_mem mem = counting_mem_init(&cm);
    beat__deque d;
    void *out;
    CHECK_EQ(beat__deque_init(&d, 4, &mem), 0);
    for (uint64_t v = 1; v <= 4; v++)
        beat__deque_push_owner(&d, item_of(v));
    for (int i = 0; i < 3; i++)
        CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_OK);
    for (uint64_t v = 5; v <= 7; v++) // slots 0..2 again: the ring is full
        beat__deque_push_owner(&d, item_of(v));
    CHECK_EQ(d.buf->capacity, 4);
    CHECK_EQ(beat__deque_push_owner(&d, item_of(8)), 4); // grows, top = 3
    CHECK_EQ(d.buf->capacity, 8);
    CHECK_EQ(retired_count(&d), 1);
    CHECK_EQ(value_of(beat__deque_pop_owner(&d)), 8);
    for (uint64_t v = 4; v <= 7; v++) {
        CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_OK);
        CHECK_EQ(value_of(out), v);
    }
    CHECK(beat__deque_pop_owner(&d) == NULL);
    beat__deque_destroy(&d);
    CHECK_EQ(cm.bytes, 0);
}

static void retired_buffers_are_all_freed_at_destroy(void)
{
    counting_mem cm;
    beat__deque_mem mem = counting_mem_init(&cm);
    beat__deque d;
    CHECK_EQ(fill_from_capacity_2(&d, &mem, 1000), 0); // 2 -> 1024: 9 doublings
    CHECK_EQ(retired_count(&d), 9);
    CHECK_EQ(cm.allocs, 10);
    CHECK_EQ(cm.releases, 0); // nothing is freed before destroy
    CHECK(cm.bytes > 0);
    beat__deque_destroy(&d);
    CHECK(d.buf == NULL);
    CHECK(d.retired == NULL);
    CHECK_EQ(cm.releases, 10);
    CHECK_EQ(cm.size_mismatches, 0);
    CHECK_EQ(cm.bytes, 0);
}

static void failed_growth_returns_minus_1_and_leaves_the_deque_usable(void)
{
    counting_mem cm;
    beat__deque_mem mem = counting_mem_init(&cm);
    beat__deque d;
    void *out;

    cm.allocs_left = 0; // init itself fails cleanly
    CHECK_EQ(beat__deque_init(&d, 2, &mem), -1);
    beat__deque_destroy(&d);
    CHECK_EQ(cm.bytes, 0);

    cm.allocs_left = 1; // the first buffer only
    CHECK_EQ(beat__deque_init(&d, 2, &mem), 0);
    beat__deque_buf *first = d.buf;
    int64_t bytes = cm.bytes;
    CHECK_EQ(beat__deque_push_owner(&d, item_of(1)), 0);
    CHECK_EQ(beat__deque_push_owner(&d, item_of(2)), 1);
    CHECK_EQ(beat__deque_push_owner(&d, item_of(3)), -1); // must grow, cannot
    CHECK(d.buf == first);
    CHECK(d.retired == NULL);
    CHECK_EQ(d.top, 0);
    CHECK_EQ(d.bottom, 2);
    CHECK_EQ(beat__deque_size(&d), 2);
    CHECK_EQ(cm.bytes, bytes);
    // Usable: items intact at both ends, and a push that needs no growth.
    CHECK_EQ(beat__deque_steal(&d, &out), BEAT__STEAL_OK);
    CHECK_EQ(value_of(out), 1);
    CHECK_EQ(beat__deque_push_owner(&d, item_of(3)), 1);
    CHECK_EQ(value_of(beat__deque_pop_owner(&d)), 3);
    CHECK_EQ(value_of(beat__deque_pop_owner(&d)), 2);
    CHECK(beat__deque_pop_owner(&d) == NULL);
    // Growth works again once memory is back.
    cm.allocs_left = UINT64_MAX;
    for (uint64_t v = 1; v <= 5; v++)
        CHECK_EQ(beat__deque_push_owner(&d, item_of(v)), v - 1);
    CHECK_EQ(d.buf->capacity, 8);
    for (uint64_t v = 5; v >= 1; v--)
        CHECK_EQ(value_of(beat__deque_pop_owner(&d)), v);
    beat__deque_destroy(&d);
    CHECK_EQ(cm.size_mismatches, 0);
    CHECK_EQ(cm.bytes, 0);
}

// A reference deque: items in a plain array, taken from [head, tail).
typedef struct ref_deque {
    uint64_t *items;
    uint64_t head, tail;
} ref_deque;

// Runs n random operations against both deques; returns the index of the
// first operation whose result differs, or n when none does.
static uint64_t run_against_reference(beat__deque *d, ref_deque *ref, uint64_t n, uint64_t seed)
{
    uint64_t rng = seed, next = 1;
    for (uint64_t i = 0; i < n; i++) {
        // Phases of 4096 operations that mostly push, then mostly take.
        unsigned push_in_4 = (i / 4096) % 2 == 0 ? 3 : 1;
        uint64_t r = rng_next(&rng);
        void *out = NULL;
        if (r % 4 < push_in_4) {
            if (beat__deque_push_owner(d, item_of(next)) != (int64_t)(ref->tail - ref->head))
                return i;
            ref->items[ref->tail++] = next++;
        } else if ((r >> 8) % 2 == 0) {
            void *got = beat__deque_pop_owner(d);
            void *want = ref->tail == ref->head ? NULL : item_of(ref->items[--ref->tail]);
            if (got != want)
                return i;
        } else {
            beat__steal_result res = beat__deque_steal(d, &out);
            if (ref->tail == ref->head) {
                if (res != BEAT__STEAL_EMPTY)
                    return i;
            } else if (res != BEAT__STEAL_OK || out != item_of(ref->items[ref->head++])) {
                return i;
            }
        }
        if (beat__deque_size(d) != (int64_t)(ref->tail - ref->head))
            return i;
    }
    return n;
}

static void random_operations_match_a_reference_deque_at_every_start_index(void)
{
    const uint64_t n = BT_SCALE(400000, 100000);
    uint64_t *items = (uint64_t *)malloc(n * sizeof *items);
    CHECK(items != NULL);
    uint64_t growths = 0, bad = n, start = 0;
    int64_t bytes_left = 0;
    for (size_t i = 0; i < N_STARTS && bad == n && bytes_left == 0; i++) {
        counting_mem cm;
        beat__deque_mem mem = counting_mem_init(&cm);
        beat__deque d;
        ref_deque ref = {items, 0, 0};
        start = interesting_starts[i];
        if (beat__deque_init_at(&d, 2, &mem, start) != 0) {
            bad = 0;
            break;
        }
        bad = run_against_reference(&d, &ref, n, 0x9e3779b97f4a7c15u + i);
        growths += retired_count(&d);
        beat__deque_destroy(&d);
        bytes_left = cm.bytes;
    }
    free(items);
    CHECK_MSG(bad == n, "start %llu: operation %llu differs from the reference",
              (unsigned long long)start, (unsigned long long)bad);
    CHECK_EQ(bytes_left, 0);
    bt_note("%zu start indices x %llu operations, %llu growths, all results as the reference",
            (size_t)N_STARTS, (unsigned long long)n, (unsigned long long)growths);
}

// ---- Concurrent: the owner and a crew of thieves ----------------------------

enum { MAX_THIEVES = 8 };

// What the thieves share: the deque, one counter per item (how many times it
// came back), and the start and stop flags.
typedef struct crew {
    beat__deque *deque;
    uint32_t *taken;    // taken[v] for v in 1..max_value
    uint64_t max_value; // no item is larger
    int go, stop;
} crew;

typedef struct thief {
    crew *crew;
    pthread_t thread;
    uint64_t stolen, lost_cas, empty;
    uint64_t last;         // the last value stolen
    uint64_t order_errors; // a steal not larger than the previous one
    uint64_t bad_values;   // NULL or out of range
} thief;

// Counts one take of v; returns 0 if v cannot be an item.
static int record_take(crew *c, uint64_t v)
{
    if (v == 0 || v > c->max_value)
        return 0;
    __atomic_fetch_add(&c->taken[v], 1, __ATOMIC_RELAXED);
    return 1;
}

static void *thief_main(void *arg)
{
    thief *t = (thief *)arg;
    crew *c = t->crew;
    while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
        beat__cpu_relax();
    while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
        void *out = NULL;
        beat__steal_result r = beat__deque_steal(c->deque, &out);
        if (r == BEAT__STEAL_OK) {
            uint64_t v = value_of(out);
            t->stolen++;
            if (!record_take(c, v))
                t->bad_values++;
            // Items are pushed in increasing order and a steal takes the
            // oldest, so one thief's steals increase strictly.
            if (v <= t->last)
                t->order_errors++;
            t->last = v;
        } else if (r == BEAT__STEAL_LOST) {
            t->lost_cas++;
        } else {
            t->empty++;
            beat__cpu_relax();
        }
    }
    return NULL;
}

// Starts n thieves; they wait for crew_go. Returns how many started.
static int crew_start(crew *c, thief *thieves, int n)
{
    for (int i = 0; i < n; i++) {
        memset(&thieves[i], 0, sizeof thieves[i]);
        thieves[i].crew = c;
        if (pthread_create(&thieves[i].thread, NULL, thief_main, &thieves[i]) != 0)
            return i;
    }
    return n;
}

static void crew_go(crew *c) { __atomic_store_n(&c->go, 1, __ATOMIC_RELEASE); }

static void crew_stop_and_join(crew *c, thief *thieves, int n)
{
    __atomic_store_n(&c->go, 1, __ATOMIC_RELEASE); // in case crew_go never ran
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < n; i++)
        pthread_join(thieves[i].thread, NULL);
}

// Sums over the thieves.
typedef struct thief_totals {
    uint64_t stolen, lost_cas, order_errors, bad_values;
} thief_totals;

static thief_totals sum_thieves(const thief *thieves, int n)
{
    thief_totals s = {0, 0, 0, 0};
    for (int i = 0; i < n; i++) {
        s.stolen += thieves[i].stolen;
        s.lost_cas += thieves[i].lost_cas;
        s.order_errors += thieves[i].order_errors;
        s.bad_values += thieves[i].bad_values;
    }
    return s;
}

// After every thread is joined: items 1..items that never came back (lost),
// extra returns (dup), and returns of values never pushed (phantom).
typedef struct tally {
    uint64_t lost, dup, phantom;
} tally;

static tally count_takes(const crew *c, uint64_t items)
{
    tally t = {0, 0, 0};
    for (uint64_t v = 1; v <= c->max_value; v++) {
        uint32_t n = __atomic_load_n(&c->taken[v], __ATOMIC_RELAXED);
        if (v > items)
            t.phantom += n;
        else if (n == 0)
            t.lost++;
        else
            t.dup += n - 1;
    }
    return t;
}

// ---- Stress: 1 owner + K thieves, random owner operations -------------------

typedef struct stress_config {
    int thieves;
    uint64_t ops;                                   // owner operations
    uint64_t start;                                 // initial top and bottom
    unsigned push_weight, pop_weight, steal_weight; // the owner's mix
    uint64_t burst; // if not 0: push `burst` items, then pop `burst` times, repeat
    uint64_t seed;
} stress_config;

typedef struct stress {
    stress_config cfg;
    beat__deque deque;
    counting_mem mem;
    crew crew;
    thief thieves[MAX_THIEVES];
    // The owner's view: items it pushed and has not popped, oldest first.
    // The deque holds a suffix of it (thieves take from the old end), so a
    // successful pop must return its last element; an empty pop means the
    // thieves took all of it.
    uint32_t *stack;
    uint64_t depth;
    uint64_t pushed, popped, empty_pops, owner_stolen, owner_last_steal;
    uint64_t lifo_errors, fifo_errors, bad_values, push_errors, drain_errors;
    uint64_t growths, final_top, final_bottom;
    double seconds;
    tally tally;
    thief_totals totals;
} stress;

static void owner_push(stress *s)
{
    uint64_t v = s->pushed + 1;
    int64_t before = beat__deque_push_owner(&s->deque, item_of(v));
    // The deque holds a suffix of the owner's view, so never more than it.
    if (before < 0 || (uint64_t)before > s->depth) {
        s->push_errors++;
        return;
    }
    s->pushed = v;
    s->stack[s->depth++] = (uint32_t)v;
}

// Returns 0 when the deque was empty.
static int owner_pop(stress *s)
{
    void *p = beat__deque_pop_owner(&s->deque);
    if (p == NULL) {
        s->empty_pops++;
        s->depth = 0; // the thieves took the rest of the owner's view
        return 0;
    }
    uint64_t v = value_of(p);
    s->popped++;
    if (v == 0 || v > s->pushed || !record_take(&s->crew, v))
        s->bad_values++;
    else if (s->depth == 0 || v != s->stack[s->depth - 1])
        s->lifo_errors++;
    else
        s->depth--;
    return 1;
}

static void owner_steal(stress *s)
{
    void *out = NULL;
    if (beat__deque_steal(&s->deque, &out) != BEAT__STEAL_OK)
        return;
    uint64_t v = value_of(out);
    s->owner_stolen++;
    if (v == 0 || v > s->pushed || !record_take(&s->crew, v))
        s->bad_values++;
    if (v <= s->owner_last_steal)
        s->fifo_errors++;
    s->owner_last_steal = v;
}

static void owner_run(stress *s)
{
    const stress_config *c = &s->cfg;
    uint64_t rng = c->seed;
    unsigned total = c->push_weight + c->pop_weight + c->steal_weight;
    for (uint64_t i = 0; i < c->ops; i++) {
        if (c->burst != 0) {
            if ((i / c->burst) % 2 == 0)
                owner_push(s);
            else
                owner_pop(s);
            continue;
        }
        unsigned r = (unsigned)(rng_next(&rng) % total);
        if (r < c->push_weight)
            owner_push(s);
        else if (r < c->push_weight + c->pop_weight)
            owner_pop(s);
        else
            owner_steal(s);
    }
}

// Runs one stress configuration into *s (static: the deque is cache-line
// aligned). Returns 0, or -1 if it could not start (memory, threads).
static int stress_run(stress *s, const stress_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    beat__deque_mem mem = counting_mem_init(&s->mem);
    s->stack = (uint32_t *)malloc(cfg->ops * sizeof *s->stack);
    s->crew.taken = (uint32_t *)malloc((cfg->ops + 1) * sizeof *s->crew.taken);
    if (s->stack == NULL || s->crew.taken == NULL ||
        beat__deque_init_at(&s->deque, 2, &mem, cfg->start) != 0) {
        free(s->stack);
        free(s->crew.taken);
        return -1;
    }
    memset(s->stack, 0, cfg->ops * sizeof *s->stack); // page in before timing
    memset(s->crew.taken, 0, (cfg->ops + 1) * sizeof *s->crew.taken);
    s->crew.deque = &s->deque;
    s->crew.max_value = cfg->ops;

    int started = crew_start(&s->crew, s->thieves, cfg->thieves);
    if (started == cfg->thieves) {
        double t0 = bt_seconds();
        crew_go(&s->crew);
        owner_run(s);
        s->seconds = bt_seconds() - t0;
    }
    crew_stop_and_join(&s->crew, s->thieves, started);

    // Alone now: pop what is left (still checked LIFO; no more than the
    // owner's view, so a deque that never empties cannot hang the test),
    // then it is empty.
    for (uint64_t left = s->depth; left > 0 && owner_pop(s); left--) {
    }
    void *out;
    if (beat__deque_pop_owner(&s->deque) != NULL ||
        beat__deque_steal(&s->deque, &out) != BEAT__STEAL_EMPTY || beat__deque_size(&s->deque))
        s->drain_errors++;
    s->growths = retired_count(&s->deque);
    s->final_top = s->deque.top;
    s->final_bottom = s->deque.bottom;
    beat__deque_destroy(&s->deque);

    s->tally = count_takes(&s->crew, s->pushed);
    s->totals = sum_thieves(s->thieves, started);
    free(s->stack);
    free(s->crew.taken);
    return started == cfg->thieves ? 0 : -1;
}

// The checks every stress case shares; returns after the first failure.
static void check_stress(const stress *s)
{
    CHECK_EQ(s->tally.lost, 0);
    CHECK_EQ(s->tally.dup, 0);
    CHECK_EQ(s->tally.phantom, 0);
    CHECK_EQ(s->bad_values + s->totals.bad_values, 0);
    CHECK_EQ(s->lifo_errors, 0);
    CHECK_EQ(s->fifo_errors + s->totals.order_errors, 0);
    CHECK_EQ(s->push_errors, 0);
    CHECK_EQ(s->drain_errors, 0);
    CHECK_EQ(s->popped + s->owner_stolen + s->totals.stolen, s->pushed);
    CHECK_EQ(s->mem.size_mismatches, 0);
    CHECK_EQ(s->mem.bytes, 0);
}

static void note_stress(const stress *s)
{
    bt_note("1 owner + %d %s: %llu ops, %llu items, stolen %llu, popped %llu (%llu empty), "
            "lost CAS %llu, %llu growths, lost %llu, dup %llu, %.2f s, %.1f M ops/s",
            s->cfg.thieves, s->cfg.thieves == 1 ? "thief" : "thieves",
            (unsigned long long)s->cfg.ops, (unsigned long long)s->pushed,
            (unsigned long long)(s->totals.stolen + s->owner_stolen), (unsigned long long)s->popped,
            (unsigned long long)s->empty_pops, (unsigned long long)s->totals.lost_cas,
            (unsigned long long)s->growths, (unsigned long long)s->tally.lost,
            (unsigned long long)s->tally.dup, s->seconds,
            s->seconds > 0 ? (double)s->cfg.ops / s->seconds / 1e6 : 0.0);
}

static stress the_stress;

static void stress_with(int thieves)
{
    stress_config cfg = {thieves, BT_SCALE(10000000, 1000000), 0, 2, 1, 0, 0, 0x2545f4914f6cdd1du};
    CHECK(stress_run(&the_stress, &cfg) == 0);
    note_stress(&the_stress);
    check_stress(&the_stress);
}

static void stress_1_thief_takes_every_item_exactly_once_in_order(void) { stress_with(1); }
static void stress_3_thieves_take_every_item_exactly_once_in_order(void) { stress_with(3); }
static void stress_7_thieves_take_every_item_exactly_once_in_order(void) { stress_with(7); }

// Item 9: the indices start 1000 short of UINT64_MAX and wrap while a thief
// steals and the owner pushes, pops and steals from its own deque.
static void indices_wrapping_past_uint64_max_lose_and_duplicate_nothing(void)
{
    const uint64_t start = UINT64_MAX - 1000;
    stress_config cfg = {1, BT_SCALE(1000000, 100000), start, 2, 1, 1, 0, 0x853c49e6748fea9bu};
    stress *s = &the_stress;
    CHECK(stress_run(s, &cfg) == 0);
    note_stress(s);
    bt_note("indices from %llu to top %llu, bottom %llu", (unsigned long long)start,
            (unsigned long long)s->final_top, (unsigned long long)s->final_bottom);
    // Steps taken by top, modulo 2^64: more than 1000 means it went past
    // UINT64_MAX (and bottom is at least as far).
    CHECK(s->final_top - start > 1000);
    CHECK_EQ(s->final_top, s->final_bottom); // drained
    check_stress(s);
}

// Item 10: bursts of pushes grow the buffer from capacity 2 while 3 thieves
// steal from the older buffers; every buffer is freed at destroy.
static void growth_during_steals_frees_every_buffer_at_destroy(void)
{
    const uint64_t burst = BT_SCALE(1000000, 100000);
    stress_config cfg = {3, 4 * burst, 0, 0, 0, 0, burst, 1};
    stress *s = &the_stress;
    CHECK(stress_run(s, &cfg) == 0);
    note_stress(s);
    bt_note("allocations %llu, released %llu, bytes outstanding after destroy %lld",
            (unsigned long long)s->mem.allocs, (unsigned long long)s->mem.releases,
            (long long)s->mem.bytes);
    CHECK(s->growths > 0);
    CHECK_EQ(s->mem.releases, s->mem.allocs);
    CHECK_EQ(s->mem.allocs, s->growths + 1);
    check_stress(s);
}

// ---- Last item: the owner's pop races two thieves for a single item --------

typedef struct race {
    beat__deque deque;
    counting_mem mem;
    crew crew;
    thief thieves[2];
    uint64_t owner_won, thief_won, close_calls, push_errors, bad_values;
    double seconds;
} race;

static race the_race;

static void race_owner(race *r, uint64_t rounds)
{
    uint64_t rng = 0x5851f42d4c957f2du;
    for (uint64_t v = 1; v <= rounds; v++) {
        // Each round starts empty: the last pop or steal took the item.
        if (beat__deque_push_owner(&r->deque, item_of(v)) != 0)
            r->push_errors++;
        uint64_t index = beat__atomic_load_u64(&r->deque.bottom, BEAT__MO_RELAXED) - 1;
        unsigned spins = (unsigned)(rng_next(&rng) & 127);
        for (unsigned i = 0; i < spins; i++)
            beat__cpu_relax();
        uint64_t top = beat__atomic_load_u64(&r->deque.top, BEAT__MO_ACQUIRE);
        void *p = beat__deque_pop_owner(&r->deque);
        if (p != NULL) {
            r->owner_won++;
            if (value_of(p) != v || !record_take(&r->crew, v))
                r->bad_values++;
        } else {
            r->thief_won++;
            if (top == index) // still there just before the pop: a close call
                r->close_calls++;
        }
    }
}

static void last_item_goes_to_exactly_one_of_owner_and_thieves(void)
{
    const uint64_t rounds = BT_SCALE(5000000, 200000);
    race *r = &the_race;
    memset(r, 0, sizeof *r);
    beat__deque_mem mem = counting_mem_init(&r->mem);
    r->crew.taken = (uint32_t *)malloc((rounds + 1) * sizeof *r->crew.taken);
    CHECK(r->crew.taken != NULL);
    if (beat__deque_init(&r->deque, 2, &mem) != 0) {
        free(r->crew.taken);
        CHECK(!"init failed");
    }
    memset(r->crew.taken, 0, (rounds + 1) * sizeof *r->crew.taken); // page in before timing
    r->crew.deque = &r->deque;
    r->crew.max_value = rounds;

    int started = crew_start(&r->crew, r->thieves, 2);
    if (started == 2) {
        double t0 = bt_seconds();
        crew_go(&r->crew);
        race_owner(r, rounds);
        r->seconds = bt_seconds() - t0;
    }
    crew_stop_and_join(&r->crew, r->thieves, started);
    void *out;
    int left_over = beat__deque_steal(&r->deque, &out) != BEAT__STEAL_EMPTY;
    beat__deque_destroy(&r->deque);
    tally t = count_takes(&r->crew, rounds);
    thief_totals th = sum_thieves(r->thieves, started);
    free(r->crew.taken);

    uint64_t contested = r->thief_won + th.lost_cas;
    bt_note("1 owner + 2 thieves, %llu rounds of one item: owner got %llu, thieves got %llu "
            "(%llu taken during the owner's pop), steals that lost the CAS %llu, "
            "contested %llu, lost %llu, dup %llu, %.2f s",
            (unsigned long long)rounds, (unsigned long long)r->owner_won,
            (unsigned long long)th.stolen, (unsigned long long)r->close_calls,
            (unsigned long long)th.lost_cas, (unsigned long long)contested,
            (unsigned long long)t.lost, (unsigned long long)t.dup, r->seconds);
    CHECK_EQ(started, 2);
    CHECK_EQ(t.lost, 0);
    CHECK_EQ(t.dup, 0);
    CHECK_EQ(t.phantom, 0);
    CHECK_EQ(r->owner_won + th.stolen, rounds);
    CHECK_EQ(r->thief_won, th.stolen);
    CHECK_EQ(r->bad_values + th.bad_values, 0);
    CHECK_EQ(th.order_errors, 0);
    CHECK_EQ(r->push_errors, 0);
    CHECK(!left_over);
    CHECK_EQ(r->mem.bytes, 0);
#ifndef BEAT_TEST_QUICK
    CHECK_MSG(contested > 0, "the race window was never hit: no evidence");
#endif
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(take_on_a_fresh_deque_is_empty_and_leaves_bottom),
        BT_CASE(owner_push_then_pop_is_lifo),
        BT_CASE(steal_takes_the_oldest_item_first),
        BT_CASE(push_returns_the_number_of_items_before_it),
        BT_CASE(steal_on_an_empty_deque_reports_empty_and_changes_nothing),
        BT_CASE(growth_from_capacity_2_keeps_every_item_in_order),
        BT_CASE(growth_copies_a_live_range_that_wraps_the_ring),
        BT_CASE(retired_buffers_are_all_freed_at_destroy),
        BT_CASE(failed_growth_returns_minus_1_and_leaves_the_deque_usable),
        BT_CASE(random_operations_match_a_reference_deque_at_every_start_index),
        BT_CASE(indices_wrapping_past_uint64_max_lose_and_duplicate_nothing),
        BT_CASE(stress_1_thief_takes_every_item_exactly_once_in_order),
        BT_CASE(stress_3_thieves_take_every_item_exactly_once_in_order),
        BT_CASE(stress_7_thieves_take_every_item_exactly_once_in_order),
        BT_CASE(growth_during_steals_frees_every_buffer_at_destroy),
        BT_CASE(last_item_goes_to_exactly_one_of_owner_and_thieves),
    };
    return BT_RUN(cases);
}
