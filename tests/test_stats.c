// Statistics: the counters add up to what a program did (N jobs are N
// tasks, a loop's chunks are its body calls, fib(n) makes fib_pcalls(n)
// pcalls), per-worker rows sum to the total, busy and idle time are
// plausible against the wall clock, and the stats table (beat_pool_stats_format
// and _print) parses back into the numbers beat_pool_stats gives, with
// snprintf's rules for a short buffer. The pcall count, kept as a
// countdown that thieves may bump, stays exact and never goes back.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"
#include "fib.h"

#include <stdatomic.h>

#define WORKERS 3u
#define SLOTS (WORKERS + BEAT_OUTSIDE_SLOTS)

static beat_pool *make_pool(unsigned workers)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = workers;
    beat_pool *pool = NULL;
    return beat_pool_create(&cfg, &pool) == BEAT_OK ? pool : NULL;
}

static atomic_ullong job_runs, body_calls, body_items;

static void count_job(beat_ctx *ctx, void *arg)
{
    (void)ctx, (void)arg;
    atomic_fetch_add(&job_runs, 1);
}

static void count_body(beat_ctx *ctx, size_t begin, size_t end, void *arg)
{
    (void)ctx, (void)arg;
    atomic_fetch_add(&body_calls, 1);
    atomic_fetch_add(&body_items, end - begin);
}

// A job that keeps its worker busy for about us microseconds.
static void busy_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    double until = bt_seconds() + (double)(uintptr_t)arg * 1e-6;
    while (bt_seconds() < until) {
    }
}

// Every field of a and b, compared; the name of the first that differs.
static const char *stats_differ(const beat_stats *a, const beat_stats *b)
{
#define FIELD(f)                                                                                   \
    do {                                                                                           \
        if (a->f != b->f)                                                                          \
            return #f;                                                                             \
    } while (0)
    FIELD(pcalls);
    FIELD(promotions);
    FIELD(steals);
    FIELD(failed_steals);
    FIELD(parks);
    FIELD(wakeups);
    FIELD(tasks);
    FIELD(chunks);
    FIELD(timed);
    FIELD(chained);
    FIELD(throttles);
    FIELD(busy_ns);
    FIELD(idle_ns);
#undef FIELD
    return NULL;
}

static void stats_sum(beat_stats *sum, const beat_stats *w)
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
    sum->busy_ns += w->busy_ns;
    sum->idle_ns += w->idle_ns;
}

// ---------------------------------------------------------------------------
// Counts

static void n_submitted_jobs_are_n_tasks(void)
{
    beat_pool *pool = make_pool(WORKERS);
    CHECK(pool != NULL);
    const unsigned n = BT_SCALE(20000, 2000);
    atomic_store(&job_runs, 0);
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(beat_submit(pool, count_job, NULL), BEAT_OK);
    beat_pool_wait(pool);
    beat_stats total;
    CHECK_EQ(beat_pool_stats(pool, &total, NULL, 0), BEAT_OK);
    beat_pool_destroy(pool);
    CHECK_EQ(atomic_load(&job_runs), n);
    CHECK_MSG(total.tasks == n, "%u jobs ran as %llu tasks", n, (unsigned long long)total.tasks);
    CHECK_EQ(total.pcalls, 0);
    CHECK_EQ(total.chunks, 0);
    bt_note("%u jobs: %llu tasks, %llu chained, %llu steals", n, (unsigned long long)total.tasks,
            (unsigned long long)total.chained, (unsigned long long)total.steals);
}

static void a_loops_chunks_are_its_body_calls_and_per_worker_rows_sum_to_the_total(void)
{
    beat_pool *pool = make_pool(WORKERS);
    CHECK(pool != NULL);
    const size_t n = BT_SCALE(1000000, 100000);
    const size_t grains[] = {0, 1, 100, 4096};
    atomic_store(&body_calls, 0);
    atomic_store(&body_items, 0);
    for (size_t g = 0; g < sizeof grains / sizeof grains[0]; g++)
        CHECK_EQ(beat_pool_parallel_for(pool, 0, n, grains[g], count_body, NULL), BEAT_OK);
    fib_arg a = {BT_SCALE(24, 18), 0};
    CHECK_EQ(beat_run(pool, fib_task, &a), BEAT_OK);
    // beat_pool_contexts sizes the rows: the workers, then the outside slots.
    CHECK_EQ(beat_pool_contexts(pool), (unsigned)SLOTS);
    CHECK_EQ(beat_pool_contexts(NULL), 0u);
    beat_stats total, per[SLOTS];
    CHECK_EQ(beat_pool_stats(pool, &total, per, beat_pool_contexts(pool)), BEAT_OK);
    beat_pool_destroy(pool);
    CHECK_EQ(atomic_load(&body_items), 4 * n);
    CHECK_MSG(total.chunks == atomic_load(&body_calls), "%llu chunks counted, %llu body calls",
              (unsigned long long)total.chunks, atomic_load(&body_calls));
    CHECK_EQ(total.pcalls, fib_pcalls(a.n));
    beat_stats sum;
    memset(&sum, 0, sizeof sum);
    for (unsigned i = 0; i < SLOTS; i++)
        stats_sum(&sum, &per[i]);
    const char *field = stats_differ(&sum, &total);
    CHECK_MSG(field == NULL, "the per-slot rows do not sum to the total in %s", field);
    bt_note("%zu items in %llu chunks (4 loops), fib(%d): %llu pcalls, %llu promotions", 4 * n,
            (unsigned long long)total.chunks, a.n, (unsigned long long)total.pcalls,
            (unsigned long long)total.promotions);
}

static int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

// The poll countdown (beat__polls_since): a thief's ask subtracts
// BEAT__POLL_ASK from it, and the polls made since it was armed still come
// out exactly, whatever the asks, up to the poll that makes it negative
// (every count up to 20, then strides, and always that last one).
static void the_poll_count_survives_thieves_asks(void)
{
    const int64_t armed[] = {0, 1, 15, 1000, (int64_t)BEAT__POLL_MAX - 1};
    for (size_t i = 0; i < sizeof armed / sizeof armed[0]; i++)
        for (int64_t n = 0, last = armed[i] + 1; n <= last;
             n = n == last ? n + 1 : min_i64(n + (n < 20 ? 1 : armed[i] / 7 + 1), last))
            for (int64_t k = 0; k < 4; k++) {
                int64_t left = armed[i] - n - k * BEAT__POLL_ASK;
                CHECK_MSG(beat__polls_since(armed[i], left) == (uint64_t)n,
                          "armed %lld, %lld polls, %lld asks: counted %llu", (long long)armed[i],
                          (long long)n, (long long)k,
                          (unsigned long long)beat__polls_since(armed[i], left));
            }
}

static atomic_int fib_jobs_done;

static void fib_job(beat_ctx *ctx, void *arg)
{
    fib_task(ctx, arg);
    atomic_store(&fib_jobs_done, 1);
}

// Read while workers pcall (and steal, so idle ones ask for promotions),
// each slot's pcall count never goes back, and never passes the final
// count, which is exact. A torn read of the count's parts (beat__polls_read)
// would show up as a jump ahead or back.
static void pcalls_read_while_pcalls_run_never_go_back(void)
{
    beat_pool *pool = make_pool(2);
    CHECK(pool != NULL);
    fib_arg a = {BT_SCALE(30, 25), 0};
    beat_stats seen[SLOTS], now[SLOTS];
    memset(seen, 0, sizeof seen);
    atomic_store(&fib_jobs_done, 0);
    CHECK_EQ(beat_submit(pool, fib_job, &a), BEAT_OK);
    unsigned long reads = 0;
    while (!atomic_load(&fib_jobs_done)) {
        CHECK_EQ(beat_pool_stats(pool, NULL, now, SLOTS), BEAT_OK);
        for (unsigned i = 0; i < SLOTS; i++) {
            CHECK_MSG(now[i].pcalls >= seen[i].pcalls, "slot %u: %llu pcalls, then %llu", i,
                      (unsigned long long)seen[i].pcalls, (unsigned long long)now[i].pcalls);
            seen[i] = now[i];
        }
        reads++;
    }
    beat_pool_wait(pool);
    beat_stats total;
    CHECK_EQ(beat_pool_stats(pool, &total, now, SLOTS), BEAT_OK);
    beat_pool_destroy(pool);
    CHECK_EQ(a.result, fib_serial(a.n));
    CHECK_EQ(total.pcalls, fib_pcalls(a.n));
    for (unsigned i = 0; i < SLOTS; i++)
        CHECK_MSG(seen[i].pcalls <= now[i].pcalls, "slot %u: read %llu pcalls, ended with %llu", i,
                  (unsigned long long)seen[i].pcalls, (unsigned long long)now[i].pcalls);
    bt_note("%lu reads while fib(%d) ran: %llu pcalls, %llu promotions, %llu steals", reads, a.n,
            (unsigned long long)total.pcalls, (unsigned long long)total.promotions,
            (unsigned long long)total.steals);
}

// ---------------------------------------------------------------------------
// Time

static void busy_and_idle_time_are_plausible_against_the_wall_clock(void)
{
    double start = bt_seconds();
    beat_pool *pool = make_pool(WORKERS);
    CHECK(pool != NULL);
    for (unsigned i = 0; i < 40; i++)
        CHECK_EQ(beat_submit(pool, busy_job, (void *)(uintptr_t)200), BEAT_OK);
    beat_pool_wait(pool);
    fib_arg a = {BT_SCALE(22, 16), 0};
    CHECK_EQ(beat_run(pool, fib_task, &a), BEAT_OK);
    beat_stats total, per[SLOTS], later;
    CHECK_EQ(beat_pool_stats(pool, &total, per, SLOTS), BEAT_OK);
    double wall = bt_seconds() - start;
    // Workers that ran out of work are idle from then on: time keeps
    // counting while they park (the open stretch counts up to the read).
    usleep(20000);
    CHECK_EQ(beat_pool_stats(pool, &later, NULL, 0), BEAT_OK);
    beat_pool_destroy(pool);
    double busy = (double)total.busy_ns * 1e-9, idle = (double)total.idle_ns * 1e-9;
    CHECK_MSG(total.busy_ns > 0, "no busy time after 40 jobs of 200 us");
    CHECK_MSG(total.busy_ns + total.idle_ns > 0, "no time at all");
    // Each context's time lies within the pool's life; WORKERS workers and
    // one outside slot (beat_run) took part.
    for (unsigned i = 0; i < SLOTS; i++) {
        double t = (double)(per[i].busy_ns + per[i].idle_ns) * 1e-9;
        CHECK_MSG(t <= wall * 1.1, "slot %u counts %.6f s in a life of %.6f s", i, t, wall);
    }
    CHECK_MSG(busy + idle <= wall * (WORKERS + 1) * 1.1,
              "busy %.6f s + idle %.6f s > %.6f s of wall time x %u contexts", busy, idle, wall,
              WORKERS + 1);
    CHECK_MSG(later.busy_ns + later.idle_ns > total.busy_ns + total.idle_ns,
              "time did not grow while the pool slept");
    CHECK_MSG(later.busy_ns >= total.busy_ns && later.idle_ns >= total.idle_ns,
              "time went backwards: busy %llu -> %llu, idle %llu -> %llu",
              (unsigned long long)total.busy_ns, (unsigned long long)later.busy_ns,
              (unsigned long long)total.idle_ns, (unsigned long long)later.idle_ns);
    bt_note("wall %.3f s, %u workers: busy %.3f s, idle %.3f s", wall, WORKERS, busy, idle);
}

// ---------------------------------------------------------------------------
// The table

#define COLUMNS 12
static const char *const column_names[COLUMNS] = {
    "worker",        "tasks", "chunks",  "pcalls",  "promotions", "steals",
    "failed_steals", "parks", "wakeups", "busy_ms", "idle_ms",    "util%"};

typedef struct table_row {
    char name[16];
    unsigned long long count[8]; // tasks .. wakeups
    unsigned long long busy_tenths, idle_tenths;
    int util_permille; // -1 for "-"
} table_row;

// "123.4" -> 1234; -1 when s is not that shape.
static long long parse_tenths(const char *s)
{
    char *end;
    unsigned long long whole = strtoull(s, &end, 10);
    if (end == s || end[0] != '.' || end[1] < '0' || end[1] > '9' || end[2] != '\0')
        return -1;
    return (long long)(whole * 10 + (unsigned long long)(end[1] - '0'));
}

// Parses the table; returns the number of rows, or -1 (and says why).
static int parse_table(char *text, table_row *rows, int max, char *why, size_t why_cap)
{
    char *save_line = NULL;
    char *line = strtok_r(text, "\n", &save_line);
    if (line == NULL) {
        snprintf(why, why_cap, "no header line");
        return -1;
    }
    char *save = NULL;
    int c = 0;
    for (char *tok = strtok_r(line, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
        if (c >= COLUMNS || strcmp(tok, column_names[c]) != 0) {
            snprintf(why, why_cap, "header column %d is \"%s\"", c, tok);
            return -1;
        }
        c++;
    }
    if (c != COLUMNS) {
        snprintf(why, why_cap, "header has %d columns", c);
        return -1;
    }
    int n = 0;
    while ((line = strtok_r(NULL, "\n", &save_line)) != NULL) {
        if (n >= max) {
            snprintf(why, why_cap, "more than %d rows", max);
            return -1;
        }
        table_row *r = &rows[n];
        char *tok[COLUMNS + 1];
        int k = 0;
        for (char *t = strtok_r(line, " ", &save); t != NULL && k <= COLUMNS;
             t = strtok_r(NULL, " ", &save))
            tok[k++] = t;
        if (k != COLUMNS) {
            snprintf(why, why_cap, "row %d has %d fields", n, k);
            return -1;
        }
        snprintf(r->name, sizeof r->name, "%s", tok[0]);
        for (int i = 0; i < 8; i++) {
            char *end;
            r->count[i] = strtoull(tok[i + 1], &end, 10);
            if (*end != '\0') {
                snprintf(why, why_cap, "row %d column %s is \"%s\"", n, column_names[i + 1],
                         tok[i + 1]);
                return -1;
            }
        }
        long long busy = parse_tenths(tok[9]), idle = parse_tenths(tok[10]);
        long long util = strcmp(tok[11], "-") == 0 ? -1 : parse_tenths(tok[11]);
        if (busy < 0 || idle < 0 || (util < 0 && strcmp(tok[11], "-") != 0) || util > 1000) {
            snprintf(why, why_cap, "row %d times \"%s\" \"%s\" \"%s\"", n, tok[9], tok[10],
                     tok[11]);
            return -1;
        }
        r->busy_tenths = (unsigned long long)busy;
        r->idle_tenths = (unsigned long long)idle;
        r->util_permille = (int)util;
        n++;
    }
    return n;
}

static void row_counts(const beat_stats *s, unsigned long long out[8])
{
    const uint64_t v[8] = {s->tasks,  s->chunks,        s->pcalls, s->promotions,
                           s->steals, s->failed_steals, s->parks,  s->wakeups};
    for (int i = 0; i < 8; i++)
        out[i] = v[i];
}

// A row agrees with readings before and after it: counters of finished
// work exactly, the others (parks, wakeups, failed steals, time: idle
// workers still search and sleep) between the two.
static int row_matches(const table_row *r, const beat_stats *before, const beat_stats *after,
                       char *why, size_t cap)
{
    unsigned long long lo[8], hi[8];
    row_counts(before, lo);
    row_counts(after, hi);
    for (int i = 0; i < 8; i++) {
        int exact = i < 5; // tasks, chunks, pcalls, promotions, steals
        if (exact ? r->count[i] != lo[i] || lo[i] != hi[i]
                  : r->count[i] < lo[i] || r->count[i] > hi[i]) {
            snprintf(why, cap, "row %s, %s: printed %llu, read %llu and %llu", r->name,
                     column_names[i + 1], r->count[i], lo[i], hi[i]);
            return 0;
        }
    }
    if (r->busy_tenths < before->busy_ns / 100000 || r->busy_tenths > after->busy_ns / 100000 ||
        r->idle_tenths < before->idle_ns / 100000 || r->idle_tenths > after->idle_ns / 100000) {
        snprintf(why, cap, "row %s: busy %llu idle %llu tenths of ms outside the readings", r->name,
                 r->busy_tenths, r->idle_tenths);
        return 0;
    }
    unsigned long long all = r->busy_tenths + r->idle_tenths;
    if (all >= 100 && r->util_permille >= 0) { // enough time for the rounding to matter little
        double want = 1000.0 * (double)r->busy_tenths / (double)all;
        if (r->util_permille < want - 20 || r->util_permille > want + 20) {
            snprintf(why, cap, "row %s: util %d permille, busy/(busy+idle) %.1f", r->name,
                     r->util_permille, want);
            return 0;
        }
    }
    return 1;
}

// Jobs, a loop and fib through beat_run (so the outside row is there).
static beat_pool *pool_with_history(void)
{
    beat_pool *pool = make_pool(WORKERS);
    if (pool == NULL)
        return NULL;
    for (unsigned i = 0; i < 500; i++)
        beat_submit(pool, count_job, NULL);
    beat_pool_wait(pool);
    beat_pool_parallel_for(pool, 0, 100000, 0, count_body, NULL);
    fib_arg a = {BT_SCALE(22, 16), 0};
    beat_run(pool, fib_task, &a);
    return pool;
}

static void the_table_parses_back_into_the_stats(void)
{
    beat_pool *pool = pool_with_history();
    CHECK(pool != NULL);
    beat_stats before_total, after_total, before[SLOTS], after[SLOTS];
    CHECK_EQ(beat_pool_stats(pool, &before_total, before, SLOTS), BEAT_OK);
    static char text[16384];
    int len = beat_pool_stats_format(pool, text, sizeof text);
    CHECK_EQ(beat_pool_stats(pool, &after_total, after, SLOTS), BEAT_OK);
    beat_pool_destroy(pool);
    CHECK_MSG(len > 0 && (size_t)len < sizeof text, "length %d", len);
    CHECK_EQ(strlen(text), (size_t)len);
    printf("%s", text);
    table_row rows[SLOTS + 2];
    char why[256] = "";
    int n = parse_table(text, rows, SLOTS + 2, why, sizeof why);
    CHECK_MSG(n == (int)WORKERS + 2, "%d rows (want %u workers, outside, total): %s", n, WORKERS,
              why);
    for (unsigned i = 0; i < WORKERS; i++) {
        char name[16];
        snprintf(name, sizeof name, "%u", i);
        CHECK_MSG(strcmp(rows[i].name, name) == 0, "row %u is named %s", i, rows[i].name);
        CHECK_MSG(row_matches(&rows[i], &before[i], &after[i], why, sizeof why), "%s", why);
    }
    CHECK_MSG(strcmp(rows[WORKERS].name, "outside") == 0, "row %u is %s", WORKERS,
              rows[WORKERS].name);
    beat_stats out_before, out_after;
    memset(&out_before, 0, sizeof out_before);
    memset(&out_after, 0, sizeof out_after);
    for (unsigned i = WORKERS; i < SLOTS; i++) {
        stats_sum(&out_before, &before[i]);
        stats_sum(&out_after, &after[i]);
    }
    CHECK_MSG(row_matches(&rows[WORKERS], &out_before, &out_after, why, sizeof why), "%s", why);
    CHECK(rows[WORKERS].count[2] > 0); // fib's pcalls on the beat_run caller
    const table_row *total = &rows[WORKERS + 1];
    CHECK_MSG(strcmp(total->name, "total") == 0, "last row is %s", total->name);
    CHECK_MSG(row_matches(total, &before_total, &after_total, why, sizeof why), "%s", why);
    // The total row is the sum of the rows above it.
    for (int c = 0; c < 8; c++) {
        unsigned long long sum = 0;
        for (unsigned i = 0; i <= WORKERS; i++)
            sum += rows[i].count[c];
        CHECK_MSG(sum == total->count[c], "column %s sums to %llu, total says %llu",
                  column_names[c + 1], sum, total->count[c]);
    }
    unsigned long long busy = 0;
    for (unsigned i = 0; i <= WORKERS; i++)
        busy += rows[i].busy_tenths;
    // Each row is rounded down to a tenth of a ms: the sum may lag by one per row.
    CHECK(busy <= total->busy_tenths && total->busy_tenths <= busy + WORKERS + 1);
}

static void a_short_buffer_is_cut_like_snprintf(void)
{
    beat_pool *pool = pool_with_history();
    CHECK(pool != NULL);
    static char full[16384], cut[16384];
    int len = beat_pool_stats_format(pool, NULL, 0);
    CHECK_MSG(len > 0, "measured %d", len);
    int again = beat_pool_stats_format(pool, full, sizeof full);
    // The header line does not change while the pool runs.
    size_t header = (size_t)(strchr(full, '\n') - full) + 1;
    const size_t caps[] = {1,
                           2,
                           10,
                           header - 1,
                           header,
                           header + 1,
                           (size_t)again / 2,
                           (size_t)again,
                           (size_t)again + 1,
                           sizeof cut};
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        size_t cap = caps[k];
        memset(cut, 'x', sizeof cut);
        int r = beat_pool_stats_format(pool, cut, cap);
        CHECK_MSG(r >= 0 && r > (int)header - 1, "cap %zu: returned %d", cap, r);
        size_t kept = (size_t)r < cap ? (size_t)r : cap - 1;
        CHECK_MSG(cut[kept] == '\0' && strlen(cut) == kept, "cap %zu: %zu bytes kept, want %zu",
                  cap, strlen(cut), kept);
        if (cap < sizeof cut)
            CHECK_MSG(cut[cap] == 'x', "cap %zu: wrote past the buffer", cap);
        size_t same = kept < header ? kept : header;
        CHECK_MSG(memcmp(cut, full, same) == 0, "cap %zu: the kept text differs", cap);
    }
    // cap 0 writes nothing, even with a buffer.
    cut[0] = 'x';
    CHECK_EQ(beat_pool_stats_format(pool, cut, 0), beat_pool_stats_format(pool, NULL, 0));
    CHECK(cut[0] == 'x');
    CHECK(beat_pool_stats_format(NULL, cut, sizeof cut) < 0);
    CHECK(beat_pool_stats_format(pool, NULL, 10) < 0);
    CHECK_EQ(beat_pool_stats_print(NULL, stdout), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_pool_stats_print(pool, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    beat_pool_destroy(pool);
    bt_note("table of %d bytes, cut at %zu sizes", len, sizeof caps / sizeof caps[0]);
}

static void print_writes_the_same_table(void)
{
    beat_pool *pool = pool_with_history();
    CHECK(pool != NULL);
    FILE *f = tmpfile();
    CHECK(f != NULL);
    CHECK_EQ(beat_pool_stats_print(pool, f), BEAT_OK);
    static char text[16384], printed[16384];
    int len = beat_pool_stats_format(pool, text, sizeof text);
    beat_pool_destroy(pool);
    rewind(f);
    size_t got = fread(printed, 1, sizeof printed - 1, f);
    fclose(f);
    printed[got] = '\0';
    CHECK_MSG(got > 0 && printed[got - 1] == '\n', "printed %zu bytes", got);
    table_row a[SLOTS + 2], b[SLOTS + 2];
    char why[256] = "";
    int na = parse_table(printed, a, SLOTS + 2, why, sizeof why);
    CHECK_MSG(na == (int)WORKERS + 2, "printed table: %d rows: %s", na, why);
    int nb = parse_table(text, b, SLOTS + 2, why, sizeof why);
    CHECK_EQ(nb, na);
    for (int i = 0; i < na; i++) {
        CHECK(strcmp(a[i].name, b[i].name) == 0);
        for (int c = 0; c < 5; c++) // counters of finished work
            CHECK_EQ(a[i].count[c], b[i].count[c]);
    }
    CHECK(len > 0);
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(n_submitted_jobs_are_n_tasks),
        BT_CASE(a_loops_chunks_are_its_body_calls_and_per_worker_rows_sum_to_the_total),
        BT_CASE(the_poll_count_survives_thieves_asks),
        BT_CASE(pcalls_read_while_pcalls_run_never_go_back),
        BT_CASE(busy_and_idle_time_are_plausible_against_the_wall_clock),
        BT_CASE(the_table_parses_back_into_the_stats),
        BT_CASE(a_short_buffer_is_cut_like_snprintf),
        BT_CASE(print_writes_the_same_table),
    };
    return BT_RUN(cases);
}
