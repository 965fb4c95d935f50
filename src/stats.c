// Statistics: busy and idle time of each context, and the stats table
// (beat_pool_stats_format, beat_pool_stats_print). The counters themselves
// are bumped where things happen (BEAT__STAT_ADD in the scheduler).
//
// Time is kept as phases. BUSY: running tasks (a worker from the first task
// after an idle spell to its next failed search; an outside slot for all of
// beat_run except where it waits with nothing to run). IDLE: spinning or
// parked for want of work, in the main loop or inside a wait. OFF: an
// outside slot between beat_run calls, a worker before its first task. The
// owner changes phase only at transitions the scheduler has anyway: the
// first failed search of an idle spin (which reads the clock already), the
// first task after it, the end of a wait that went idle, a throttled park,
// and the start and end of beat_run. A busy worker pays one predictable
// branch per task and nothing per pcall. A change adds the phase that ended
// to its total. Readers add the open phase up to their own clock, and read
// the four words under a sequence count (a seqlock, as in Boehm, "Can
// seqlocks get along with programming language memory models?", MSPC 2012),
// so a total and the start of the open phase always belong together and a
// reading never counts a stretch of time twice.
#include "scheduler.c"

#define BEAT__PHASE_OFF 0u
#define BEAT__PHASE_BUSY 1u
#define BEAT__PHASE_IDLE 2u

// Owner only: ends the open phase at now and opens phase.
BEAT__PRIVATE void beat__time_phase(beat_ctx *ctx, uint64_t now, uint64_t phase)
{
    beat__worker_stats *s = &ctx->stats;
    // Relaxed loads: the owner is the only writer of these words.
    uint64_t seq = beat__atomic_load_u64(&s->phase_seq, BEAT__MO_RELAXED);
    uint64_t open = beat__atomic_load_u64(&s->phase, BEAT__MO_RELAXED);
    uint64_t since = beat__atomic_load_u64(&s->phase_since, BEAT__MO_RELAXED);
    uint64_t spent = now > since ? now - since : 0;
    // Relaxed odd count, then a release fence before the data stores: it
    // pairs with the reader's acquire fence, so a reader that loads any of
    // the stores below also loads (at least) this odd count afterwards.
    beat__atomic_store_u64(&s->phase_seq, seq + 1, BEAT__MO_RELAXED);
    beat__fence_release();
    // Relaxed data stores: ordered by the fence above and the release below.
    if (open == BEAT__PHASE_BUSY)
        beat__atomic_store_u64(&s->busy_ns,
                               beat__atomic_load_u64(&s->busy_ns, BEAT__MO_RELAXED) + spent,
                               BEAT__MO_RELAXED);
    else if (open == BEAT__PHASE_IDLE)
        beat__atomic_store_u64(&s->idle_ns,
                               beat__atomic_load_u64(&s->idle_ns, BEAT__MO_RELAXED) + spent,
                               BEAT__MO_RELAXED);
    beat__atomic_store_u64(&s->phase_since, now, BEAT__MO_RELAXED);
    beat__atomic_store_u64(&s->phase, phase, BEAT__MO_RELAXED);
    // Release: a reader whose acquire load sees this even count sees the data.
    beat__atomic_store_u64(&s->phase_seq, seq + 2, BEAT__MO_RELEASE);
}

BEAT__PRIVATE uint64_t beat__time_phase_of(const beat_ctx *ctx)
{
    // Relaxed: the owner reads its own word; other readers use beat__time_read.
    return beat__atomic_load_u64(&ctx->stats.phase, BEAT__MO_RELAXED);
}

// Owner only: ctx runs a task. Reads the clock only when it was not busy.
BEAT__PRIVATE void beat__time_busy(beat_ctx *ctx)
{
    if (BEAT__UNLIKELY(beat__time_phase_of(ctx) != BEAT__PHASE_BUSY))
        beat__time_phase(ctx, beat__now_ns(), BEAT__PHASE_BUSY);
}

// Owner only: the same with a clock the caller has just read (one clock
// read fewer where a worker or an outside slot turns busy).
BEAT__PRIVATE void beat__time_busy_at(beat_ctx *ctx, uint64_t now)
{
    if (beat__time_phase_of(ctx) != BEAT__PHASE_BUSY)
        beat__time_phase(ctx, now, BEAT__PHASE_BUSY);
}

// Owner only: ctx has nothing to run since now (a clock just read).
BEAT__PRIVATE void beat__time_idle(beat_ctx *ctx, uint64_t now)
{
    if (beat__time_phase_of(ctx) != BEAT__PHASE_IDLE)
        beat__time_phase(ctx, now, BEAT__PHASE_IDLE);
}

// Any thread: ctx's busy and idle ns up to now, the open phase included.
// Retries while the owner is between the two stores of its sequence count
// (a few instructions).
BEAT__PRIVATE void beat__time_read(const beat_ctx *ctx, uint64_t now, uint64_t *busy,
                                   uint64_t *idle, uint64_t *phase)
{
    const beat__worker_stats *s = &ctx->stats;
    for (;;) {
        // Acquire: pairs with the release store that ends the owner's change.
        uint64_t seq = beat__atomic_load_u64(&s->phase_seq, BEAT__MO_ACQUIRE);
        // Relaxed: validated by the second load of the count below.
        uint64_t b = beat__atomic_load_u64(&s->busy_ns, BEAT__MO_RELAXED);
        uint64_t i = beat__atomic_load_u64(&s->idle_ns, BEAT__MO_RELAXED);
        uint64_t since = beat__atomic_load_u64(&s->phase_since, BEAT__MO_RELAXED);
        uint64_t open = beat__atomic_load_u64(&s->phase, BEAT__MO_RELAXED);
        beat__fence_acquire(); // pairs with the owner's release fence
        // Relaxed: ordered after the data loads by the fence.
        if ((seq & 1) == 0 && beat__atomic_load_u64(&s->phase_seq, BEAT__MO_RELAXED) == seq) {
            uint64_t spent = now > since ? now - since : 0;
            *busy = b + (open == BEAT__PHASE_BUSY ? spent : 0);
            *idle = i + (open == BEAT__PHASE_IDLE ? spent : 0);
            *phase = open;
            return;
        }
        beat__cpu_relax();
    }
}

// The polls (pcalls and loop chunks) ctx has counted so far: exact, and
// never less than an earlier reading.
BEAT__PRIVATE uint64_t beat__polls_read(const beat_ctx *ctx)
{
    for (;;) {
        // Acquire: pairs with the release store that ends beat__polls_rearm.
        uint64_t seq = beat__atomic_load_u64(&ctx->polls_seq, BEAT__MO_ACQUIRE);
        // Relaxed: validated by the second load of the count below. The
        // countdown also changes between checks, consistently with armed.
        uint64_t base = beat__atomic_load_u64(&ctx->polls_base, BEAT__MO_RELAXED);
        int64_t armed = beat__atomic_load_i64(&ctx->polls_armed, BEAT__MO_RELAXED);
        int64_t left = beat__atomic_load_i64(&ctx->head.polls_left, BEAT__MO_RELAXED);
        beat__fence_acquire(); // pairs with the owner's release fence
        // Relaxed: ordered after the data loads by the fence.
        if ((seq & 1) == 0 && beat__atomic_load_u64(&ctx->polls_seq, BEAT__MO_RELAXED) == seq)
            return base + beat__polls_since(armed, left);
        beat__cpu_relax();
    }
}

// One context's counters. Each is exact, the set is not one snapshot.
BEAT__PRIVATE void beat__stats_read(const beat_ctx *ctx, uint64_t now, beat_stats *w)
{
    uint64_t phase;
    memset(w, 0, sizeof *w);
    // Relaxed: counters are monotonic and read while workers run.
    w->chunks = beat__atomic_load_u64(&ctx->stats.chunks, BEAT__MO_RELAXED);
    w->pcalls = beat__polls_read(ctx) - w->chunks;
    w->promotions = beat__atomic_load_u64(&ctx->stats.promotions, BEAT__MO_RELAXED);
    w->steals = beat__atomic_load_u64(&ctx->stats.steals, BEAT__MO_RELAXED);
    w->failed_steals = beat__atomic_load_u64(&ctx->stats.failed_steals, BEAT__MO_RELAXED);
    w->parks = beat__atomic_load_u64(&ctx->stats.parks, BEAT__MO_RELAXED);
    w->wakeups = beat__atomic_load_u64(&ctx->stats.wakeups, BEAT__MO_RELAXED);
    w->tasks = beat__atomic_load_u64(&ctx->stats.tasks, BEAT__MO_RELAXED);
    w->timed = beat__atomic_load_u64(&ctx->stats.timed, BEAT__MO_RELAXED);
    w->chained = beat__atomic_load_u64(&ctx->stats.chained, BEAT__MO_RELAXED);
    w->throttles = beat__atomic_load_u64(&ctx->stats.throttles, BEAT__MO_RELAXED);
    w->deferred = 0; // held by the pool, not by a worker: in the total only
    beat__time_read(ctx, now, &w->busy_ns, &w->idle_ns, &phase);
}

BEAT__PRIVATE void beat__stats_add(beat_stats *sum, const beat_stats *w)
{
    sum->pcalls += w->pcalls;
    sum->promotions += w->promotions;
    sum->steals += w->steals;
    sum->failed_steals += w->failed_steals;
    sum->parks += w->parks;
    sum->wakeups += w->wakeups;
    sum->tasks += w->tasks;
    sum->chunks += w->chunks;
    sum->timed += w->timed;
    sum->chained += w->chained;
    sum->throttles += w->throttles;
    sum->deferred += w->deferred;
    sum->busy_ns += w->busy_ns;
    sum->idle_ns += w->idle_ns;
}

// ---------------------------------------------------------------------------
// Text output into a caller's buffer, snprintf-style and without stdio:
// writes what fits (NUL-terminated when cap > 0) and counts the full
// length. Also used by the development-mode reports and the config review.

typedef struct beat__sink {
    char *buf;
    size_t cap, len;
} beat__sink;

BEAT__PRIVATE void beat__sink_init(beat__sink *o, char *buf, size_t cap)
{
    o->buf = cap != 0 ? buf : NULL;
    o->cap = o->buf != NULL ? cap : 0;
    o->len = 0;
    if (o->cap != 0)
        o->buf[0] = '\0';
}

BEAT__PRIVATE void beat__sink_put(beat__sink *o, const char *s)
{
    for (; *s != '\0'; s++, o->len++)
        if (o->len + 1 < o->cap)
            o->buf[o->len] = *s;
    if (o->cap != 0)
        o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
}

// v in decimal; with tenths, v is in tenths and gets one decimal ("12.3").
BEAT__PRIVATE void beat__sink_number(char *out, uint64_t v, int tenths)
{
    char digits[32];
    size_t i = sizeof digits - 1;
    digits[i] = '\0';
    if (tenths) {
        digits[--i] = (char)('0' + v % 10);
        digits[--i] = '.';
        v /= 10;
    }
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    memcpy(out, digits + i, sizeof digits - i);
}

BEAT__PRIVATE void beat__sink_u64(beat__sink *o, uint64_t v)
{
    char text[32];
    beat__sink_number(text, v, 0);
    beat__sink_put(o, text);
}

// " " then s right-aligned in width columns (wider text is not cut).
BEAT__PRIVATE void beat__sink_field(beat__sink *o, const char *s, size_t width)
{
    beat__sink_put(o, " ");
    for (size_t n = strlen(s); n < width; n++)
        beat__sink_put(o, " ");
    beat__sink_put(o, s);
}

BEAT__PRIVATE void beat__sink_field_u64(beat__sink *o, uint64_t v, size_t width, int tenths)
{
    char text[32];
    beat__sink_number(text, v, tenths);
    beat__sink_field(o, text, width);
}

// ---------------------------------------------------------------------------
// The table

#define BEAT__STATS_COLUMNS 12
static const struct {
    const char *name;
    size_t width;
} beat__stats_columns[BEAT__STATS_COLUMNS] = {
    {"worker", 7},      {"tasks", 10},   {"chunks", 10},        {"pcalls", 12},
    {"promotions", 10}, {"steals", 9},   {"failed_steals", 13}, {"parks", 8},
    {"wakeups", 8},     {"busy_ms", 10}, {"idle_ms", 10},       {"util%", 6},
};

BEAT__PRIVATE void beat__stats_row(beat__sink *o, const char *name, const beat_stats *w)
{
    const uint64_t counts[8] = {w->tasks,  w->chunks,        w->pcalls, w->promotions,
                                w->steals, w->failed_steals, w->parks,  w->wakeups};
    beat__sink_field(o, name, beat__stats_columns[0].width);
    for (unsigned i = 0; i < 8; i++)
        beat__sink_field_u64(o, counts[i], beat__stats_columns[i + 1].width, 0);
    beat__sink_field_u64(o, w->busy_ns / 100000u, beat__stats_columns[9].width, 1);
    beat__sink_field_u64(o, w->idle_ns / 100000u, beat__stats_columns[10].width, 1);
    uint64_t busy = w->busy_ns, all = w->busy_ns + w->idle_ns;
    if (all > UINT64_MAX / 1000u) { // keep busy * 1000 in range
        busy /= 1000u;
        all /= 1000u;
    }
    if (all == 0)
        beat__sink_field(o, "-", beat__stats_columns[11].width);
    else
        beat__sink_field_u64(o, (busy * 1000u + all / 2) / all, beat__stats_columns[11].width, 1);
    beat__sink_put(o, "\n");
}

BEAT__DEF int beat_pool_stats_format(const beat_pool *pool, char *buf, size_t cap)
{
    if (pool == NULL || (buf == NULL && cap != 0))
        return (int)BEAT_ERROR_INVALID_ARGUMENT;
    beat__sink o;
    beat__sink_init(&o, buf, cap);
    for (unsigned c = 0; c < BEAT__STATS_COLUMNS; c++)
        beat__sink_field(&o, beat__stats_columns[c].name, beat__stats_columns[c].width);
    beat__sink_put(&o, "\n");
    uint64_t now = beat__now_ns();
    beat_stats total, outside, w;
    memset(&total, 0, sizeof total);
    memset(&outside, 0, sizeof outside);
    for (unsigned i = 0; i < pool->nslots; i++) {
        beat__stats_read(&pool->workers[i], now, &w);
        beat__stats_add(&total, &w);
        if (i >= pool->nworkers) {
            beat__stats_add(&outside, &w);
            continue;
        }
        char name[32];
        beat__sink_number(name, i, 0);
        beat__stats_row(&o, name, &w);
    }
    beat_stats none;
    memset(&none, 0, sizeof none);
    if (memcmp(&outside, &none, sizeof none) != 0)
        beat__stats_row(&o, "outside", &outside);
    beat__stats_row(&o, "total", &total);
    return o.len > (size_t)INT32_MAX ? INT32_MAX : (int)o.len;
}

#ifndef BEAT_NO_STDIO
BEAT__DEF beat_result beat_pool_stats_print(const beat_pool *pool, FILE *out)
{
    if (pool == NULL || out == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    // Measure, then format; counters may grow in between, so leave room
    // and try again if they outgrew it.
    const beat_allocator *allocator = &pool->cfg.allocator;
    size_t cap = (size_t)beat_pool_stats_format(pool, NULL, 0) + 256u;
    for (;;) {
        char *text = (char *)beat__alloc(allocator, cap, 1);
        if (text == NULL)
            return BEAT_ERROR_OUT_OF_MEMORY;
        size_t len = (size_t)beat_pool_stats_format(pool, text, cap);
        int failed = len < cap && fputs(text, out) == EOF;
        beat__free(allocator, text, cap, 1);
        if (len < cap)
            return failed ? BEAT_ERROR_IO : BEAT_OK;
        cap = len + 256u;
    }
}
#endif
