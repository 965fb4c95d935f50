// Trace: a Chrome/Perfetto JSON trace of what a pool ran (api/trace.h,
// beat_config.trace_path, BEAT_TRACE; TRACE in the manual). Included by
// scheduler.c after its structures (it reads beat_ctx and beat_pool) and
// before the code that records.
//
// Recording. Each slot (a worker, or an outside slot of beat_run) owns a
// ring of fixed-size records that only the thread using the slot writes (an
// outside slot passes from one thread to the next through its claim, an
// acquire/release pair). A slice takes its record when it opens, so records
// sit in the order their events began and a slice's children follow it; it
// fills in its end, kind and arguments when it closes. A full ring refuses
// every later record and counts it: what is kept is everything before the
// moment the ring filled, so slices still nest and no flow is paired with a
// stale push (below). Only the counts are shared (relaxed, for
// beat_pool_trace_status); the writer reads the records after the workers
// are joined, and the join orders every record before that.
//
// What is recorded, by one-line hooks in the scheduler, fork-join and API
// sections (each a predictable branch on ctx->trace, NULL when off):
//   slices    a task run (job, spawned task, promoted pcall frame, loop
//             piece, chain of jobs, other internal task), a loop chunk, a
//             wait (beat_wait, the join of a stolen frame, a loop's end),
//             and a beat_run on an outside slot;
//   pushes    onto the slot's own deque (promotion, spawn, submit from a
//             task), and jobs moved there from the injection queue;
//   steals    the task, the victim, the victim's deque depth after it;
//   pressure  every sample of the memory-pressure level.
// The inline beat_pcall records nothing: a frame appears only once promoted.
//
// Flows. On the thief's ring a steal is followed by the slice of what it
// stole (no slice opens in between). The writer pairs the steal with the
// victim's latest push of the same task record before the steal: a record
// is pushed again only after it ran, which is after the steal. Steals of
// jobs moved from the injection queue get no flow (they come from outside
// threads), nor do steals whose push or slice was not kept.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BEAT_NO_TRACE

#ifndef BEAT_TRACE_EVENTS // records per ring when beat_config.trace_events is 0
#define BEAT_TRACE_EVENTS 65536
#endif
#define BEAT__TRACE_MAX_EVENTS (1u << 24)
#define BEAT__TRACE_NO_DEPTH UINT32_MAX

// Record kinds. Slices first (BEAT__TRACE_UNCLOSED while open), then
// instants. The names are what the trace calls them.
enum {
    BEAT__TRACE_UNCLOSED,
    BEAT__TRACE_JOB,   // beat_submit job
    BEAT__TRACE_SPAWN, // beat_spawn task
    BEAT__TRACE_PCALL, // promoted pcall frame: b, run by a thief or by its owner's join
    BEAT__TRACE_PIECE, // piece of a loop split off by promotion
    BEAT__TRACE_CHAIN, // tiny jobs taken from the injection queue together
    BEAT__TRACE_TASK,  // another task (a batch, a beat_run handed to a worker)
    BEAT__TRACE_RUN,   // beat_run's function on an outside slot
    BEAT__TRACE_CHUNK, // a loop chunk
    BEAT__TRACE_WAIT,  // beat_wait, a join whose frame was stolen, the end of a loop
    BEAT__TRACE_SLICES,
    BEAT__TRACE_PUSHED = BEAT__TRACE_SLICES, // onto the own deque
    BEAT__TRACE_MOVED,                       // from the injection queue onto the own deque
    BEAT__TRACE_STOLEN,                      // from another slot's deque
    BEAT__TRACE_SAMPLED                      // the memory-pressure level
};

static const char *const beat__trace_names[BEAT__TRACE_SLICES] = {
    "unclosed", "job", "spawn", "pcall", "loop piece", "chain", "task", "run", "chunk", "wait"};

typedef struct beat__trace_rec {
    uint64_t begin; // ns since the trace's origin
    uint64_t end;   // slices: ns since the origin when it closed
    uint64_t what;  // slices: the function; pushes and steals: the task record
    uint64_t a, b;  // chunks: first and end index; steals: victim slot (a); pressure: level (a)
    uint32_t kind;
    uint32_t depth; // own deque (the victim's for steals) sampled with it, or NO_DEPTH
} beat__trace_rec;

typedef struct beat__trace_ring {
    beat__trace_rec *recs BEAT__ALIGNED(BEAT_CACHELINE); // one line per ring: no false sharing
    uint64_t origin;                                     // beat__now_ns() when the trace started
    uint64_t dropped;  // records refused; the owner stores, status reads (relaxed)
    uint64_t full_at;  // when the first was refused, ns since the origin
    uint32_t used;     // records taken; the owner stores, status reads (relaxed)
    uint32_t capacity; // records
} beat__trace_ring;

typedef struct beat__trace beat__trace;

struct beat__trace {
    beat__trace_ring *rings; // one per slot
    beat__trace_rec *recs;   // every ring's records, one block
    char *path;              // where destroy writes (".k" applied)
    size_t recs_bytes, path_bytes;
    uint64_t origin;
    unsigned nrings, capacity, index; // index: k of the ".k" rule
};

// ---------------------------------------------------------------------------
// Hooks (the only trace code outside this file)

#define BEAT__TRACE_ADDR(p) ((uint64_t)(uintptr_t)(p))

// Opens a slice on ctx's ring: its record number + 1, or 0 (off or full).
#define BEAT__TRACE_OPEN(ctx)                                                                      \
    (BEAT__UNLIKELY((ctx)->trace != NULL) ? beat__trace_open((ctx)->trace, -1) : 0u)
// The same for a task run, sampling the depth of ctx's deque.
#define BEAT__TRACE_OPEN_TASK(ctx)                                                                 \
    (BEAT__UNLIKELY((ctx)->trace != NULL)                                                          \
         ? beat__trace_open((ctx)->trace, beat__deque_size(&(ctx)->deque))                         \
         : 0u)
// Closes what BEAT__TRACE_OPEN returned: kind, function, two arguments.
#define BEAT__TRACE_CLOSE(ctx, slot, kind, fn, a, b)                                               \
    do {                                                                                           \
        if (BEAT__UNLIKELY((slot) != 0))                                                           \
            beat__trace_close((ctx)->trace, (slot), (kind), BEAT__TRACE_ADDR(fn), (a), (b));       \
    } while (0)
// task is about to go onto ctx's own deque; flow = 0 when it came from the
// injection queue (no flow is drawn for its steal).
#define BEAT__TRACE_PUSH(ctx, task, flow)                                                          \
    do {                                                                                           \
        if (BEAT__UNLIKELY((ctx)->trace != NULL))                                                  \
            beat__trace_instant((ctx)->trace,                                                      \
                                (uint32_t)((flow) ? BEAT__TRACE_PUSHED : BEAT__TRACE_MOVED),       \
                                BEAT__TRACE_ADDR(task), 0, beat__deque_size(&(ctx)->deque) + 1);   \
    } while (0)
// ctx has just stolen task from victim.
#define BEAT__TRACE_STEAL(ctx, task, victim)                                                       \
    do {                                                                                           \
        if (BEAT__UNLIKELY((ctx)->trace != NULL))                                                  \
            beat__trace_instant((ctx)->trace, BEAT__TRACE_STOLEN, BEAT__TRACE_ADDR(task),          \
                                (victim)->index, beat__deque_size(&(victim)->deque));              \
    } while (0)
// ctx has just sampled the pool's memory-pressure level.
#define BEAT__TRACE_PRESSURE(ctx, level)                                                           \
    do {                                                                                           \
        if (BEAT__UNLIKELY((ctx)->trace != NULL))                                                  \
            beat__trace_instant((ctx)->trace, BEAT__TRACE_SAMPLED, 0, (uint64_t)(level), -1);      \
    } while (0)

// ---------------------------------------------------------------------------
// Recording (owner of the ring only)

// The next record of r, with its begin time, or NULL when r is full (then
// the refusal is counted; only the first refusal reads the clock).
BEAT__PRIVATE beat__trace_rec *beat__trace_take(beat__trace_ring *r, int64_t depth)
{
    // Relaxed: only this thread stores used and dropped; status reads them.
    uint32_t used = beat__atomic_load_u32(&r->used, BEAT__MO_RELAXED);
    if (used == r->capacity) {
        uint64_t dropped = beat__atomic_load_u64(&r->dropped, BEAT__MO_RELAXED);
        if (dropped == 0)
            r->full_at = beat__now_ns() - r->origin;
        beat__atomic_store_u64(&r->dropped, dropped + 1, BEAT__MO_RELAXED);
        return NULL;
    }
    uint64_t now = beat__now_ns() - r->origin;
    beat__atomic_store_u32(&r->used, used + 1, BEAT__MO_RELAXED);
    beat__trace_rec *rec = &r->recs[used];
    rec->begin = now;
    rec->end = 0;
    rec->what = 0;
    rec->a = 0;
    rec->b = 0;
    rec->kind = BEAT__TRACE_UNCLOSED;
    rec->depth = depth < 0                                 ? BEAT__TRACE_NO_DEPTH
                 : (uint64_t)depth >= BEAT__TRACE_NO_DEPTH ? BEAT__TRACE_NO_DEPTH - 1
                                                           : (uint32_t)depth;
    return rec;
}

BEAT__PRIVATE BEAT__NOINLINE uint32_t beat__trace_open(beat__trace_ring *r, int64_t depth)
{
    beat__trace_rec *rec = beat__trace_take(r, depth);
    return rec == NULL ? 0u : (uint32_t)(rec - r->recs) + 1u;
}

BEAT__PRIVATE BEAT__NOINLINE void beat__trace_close(beat__trace_ring *r, uint32_t slot,
                                                    uint32_t kind, uint64_t what, uint64_t a,
                                                    uint64_t b)
{
    beat__trace_rec *rec = &r->recs[slot - 1];
    rec->end = beat__now_ns() - r->origin;
    rec->what = what;
    rec->a = a;
    rec->b = b;
    rec->kind = kind;
}

BEAT__PRIVATE BEAT__NOINLINE void beat__trace_instant(beat__trace_ring *r, uint32_t kind,
                                                      uint64_t what, uint64_t a, int64_t depth)
{
    beat__trace_rec *rec = beat__trace_take(r, depth);
    if (rec == NULL)
        return;
    rec->end = rec->begin;
    rec->what = what;
    rec->a = a;
    rec->kind = kind;
}

BEAT__PRIVATE void beat__loop_piece_run(beat_ctx *ctx, void *arg); // forkjoin section

// What a trace calls the run of a task with these flags.
BEAT__PRIVATE uint32_t beat__trace_task_kind(uint32_t flags, beat_fn fn)
{
    if (flags & BEAT__TASK_JOB)
        return BEAT__TRACE_JOB;
    if (flags & BEAT__TASK_FRAME)
        return BEAT__TRACE_PCALL;
    if (flags & BEAT__TASK_CHAIN)
        return BEAT__TRACE_CHAIN;
    if (flags & BEAT__TASK_TIMED)
        return BEAT__TRACE_SPAWN;
    return fn == beat__loop_piece_run ? BEAT__TRACE_PIECE : BEAT__TRACE_TASK;
}

// ---------------------------------------------------------------------------
// Paths: the process-wide ".k" count per path string

#define BEAT__TRACE_PATHS 256

// FNV-1a hashes of the path strings seen, with the pools created for each.
// Guarded by a spin lock: pool creation only. Past BEAT__TRACE_PATHS
// distinct paths, new ones share the last entry's count.
static struct {
    uint64_t hash;
    unsigned pools;
} beat__trace_paths[BEAT__TRACE_PATHS];
static unsigned beat__trace_paths_used;
static uint32_t beat__trace_paths_lock;

BEAT__PRIVATE unsigned beat__trace_path_index(const char *path)
{
    uint64_t hash = UINT64_C(0xcbf29ce484222325);
    for (const unsigned char *p = (const unsigned char *)path; *p != 0; p++)
        hash = (hash ^ *p) * UINT64_C(0x100000001b3);
    while (!beat__spin_trylock(&beat__trace_paths_lock)) // the table passes from creator to creator
        beat__thread_yield();
    unsigned i = 0;
    while (i < beat__trace_paths_used && beat__trace_paths[i].hash != hash)
        i++;
    if (i == beat__trace_paths_used && i < BEAT__TRACE_PATHS) {
        beat__trace_paths[i].hash = hash;
        beat__trace_paths[i].pools = 0;
        beat__trace_paths_used++;
    } else if (i == BEAT__TRACE_PATHS) {
        i = BEAT__TRACE_PATHS - 1;
    }
    unsigned k = beat__trace_paths[i].pools++;
    beat__spin_unlock(&beat__trace_paths_lock);
    return k;
}

// path with ".k" before the extension of its last component (none for
// k = 0; a leading dot starts no extension): a/t.json -> a/t.1.json, a/t ->
// a/t.1. Allocated; *bytes receives its size. NULL when out of memory.
BEAT__PRIVATE char *beat__trace_path_for(const beat_allocator *al, const char *path, unsigned k,
                                         size_t *bytes)
{
    size_t len = strlen(path), base = len, dot = len;
    while (base > 0 && path[base - 1] != '/')
        base--;
    for (size_t i = len; i > base + 1; i--)
        if (path[i - 1] == '.') {
            dot = i - 1;
            break;
        }
    *bytes = len + 16;
    char *out = (char *)beat__alloc(al, *bytes, 1);
    if (out == NULL)
        return NULL;
    memcpy(out, path, len + 1);
    if (k == 0)
        return out;
    out[dot] = '\0';
    beat__text_append(out, *bytes, ".");
    beat__text_append_u64(out, *bytes, k);
    beat__text_append(out, *bytes, path + dot);
    return out;
}

// ---------------------------------------------------------------------------
// Start and status

// The path the configuration asks to trace to, or NULL.
BEAT__PRIVATE const char *beat__trace_requested(const beat_config *cfg)
{
    const char *path = cfg->trace_path != NULL ? cfg->trace_path : getenv("BEAT_TRACE");
    return path != NULL && path[0] != '\0' ? path : NULL;
}

BEAT__PRIVATE void beat__trace_free(const beat_allocator *al, beat__trace *t)
{
    if (t == NULL)
        return;
    beat__free(al, t->recs, t->recs_bytes, BEAT_CACHELINE);
    beat__free(al, t->rings, sizeof(beat__trace_ring) * t->nrings, BEAT_CACHELINE);
    beat__free(al, t->path, t->path_bytes, 1);
    beat__free(al, t, sizeof(beat__trace), BEAT_CACHELINE);
}

// Starts tracing if the configuration asks for it: every slot gets its
// ring. Call once the slots exist, before the workers start. Errors:
// INVALID_ARGUMENT (trace_events too large), OUT_OF_MEMORY (logged).
BEAT__PRIVATE beat_result beat__trace_start(beat_pool *pool)
{
    const beat_config *cfg = &pool->cfg;
    if (cfg->trace_events > BEAT__TRACE_MAX_EVENTS) {
        beat__log(&cfg->logger, BEAT_LOG_ERROR,
                  "beat_pool_create: trace_events is above 2^24; use 0 for the default 65536");
        return BEAT_ERROR_INVALID_ARGUMENT;
    }
    const char *requested = beat__trace_requested(cfg);
    if (requested == NULL)
        return BEAT_OK;
    const beat_allocator *al = &cfg->allocator;
    unsigned capacity = cfg->trace_events != 0 ? cfg->trace_events : BEAT_TRACE_EVENTS;
    uint64_t recs_bytes = (uint64_t)pool->nslots * capacity * sizeof(beat__trace_rec);
    beat__trace *t = (beat__trace *)beat__alloc(al, sizeof(beat__trace), BEAT_CACHELINE);
    if (t != NULL) {
        memset(t, 0, sizeof *t);
        t->nrings = pool->nslots;
        t->capacity = capacity;
        t->index = beat__trace_path_index(requested);
        t->path = beat__trace_path_for(al, requested, t->index, &t->path_bytes);
        t->rings = (beat__trace_ring *)beat__alloc(al, sizeof(beat__trace_ring) * t->nrings,
                                                   BEAT_CACHELINE);
        if (recs_bytes <= SIZE_MAX) {
            t->recs_bytes = (size_t)recs_bytes;
            t->recs = (beat__trace_rec *)beat__alloc(al, t->recs_bytes, BEAT_CACHELINE);
        }
    }
    if (t == NULL || t->path == NULL || t->rings == NULL || t->recs == NULL) {
        beat__log(&cfg->logger, BEAT_LOG_ERROR,
                  "beat_pool_create: out of memory for the trace rings (%u slots x %u events x "
                  "%u bytes); lower beat_config.trace_events or unset BEAT_TRACE",
                  pool->nslots, capacity, (unsigned)sizeof(beat__trace_rec));
        beat__trace_free(al, t);
        return BEAT_ERROR_OUT_OF_MEMORY;
    }
    t->origin = beat__now_ns();
    memset(t->rings, 0, sizeof(beat__trace_ring) * t->nrings);
    for (unsigned i = 0; i < t->nrings; i++) {
        beat__trace_ring *r = &t->rings[i];
        r->recs = t->recs + (size_t)i * capacity;
        r->capacity = capacity;
        r->origin = t->origin;
        pool->workers[i].trace = r;
    }
    pool->trace = t;
    return BEAT_OK;
}

BEAT__DEF beat_result beat_pool_trace_status(const beat_pool *pool, beat_trace_status *out)
{
    if (pool == NULL || out == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    const beat__trace *t = pool->trace;
    if (t == NULL)
        return BEAT_ERROR_NO_DATA;
    out->path = t->path;
    out->ring_events = t->capacity;
    out->rings = t->nrings;
    for (unsigned i = 0; i < t->nrings; i++) {
        // Relaxed: counts stored by the rings' owners while they run.
        out->recorded += beat__atomic_load_u32(&t->rings[i].used, BEAT__MO_RELAXED);
        out->dropped += beat__atomic_load_u64(&t->rings[i].dropped, BEAT__MO_RELAXED);
    }
    return BEAT_OK;
}

// ---------------------------------------------------------------------------
// Writing the JSON file (at destroy, after the workers are joined)

#define BEAT__TRACE_OUT_BUF 65536

typedef struct beat__trace_out {
    char *buf;
    size_t len;
    int fd;
    int error;       // errno of the first failed write, else 0
    uint64_t events; // written so far (for the separators)
    uint64_t pid;
    const beat_pool *pool; // for the names of functions (beat_name_fn)
} beat__trace_out;

BEAT__PRIVATE void beat__trace_flush(beat__trace_out *o)
{
    size_t done = 0;
    while (done < o->len && o->error == 0) {
        ssize_t n = write(o->fd, o->buf + done, o->len - done);
        if (n > 0)
            done += (size_t)n;
        else if (n < 0 && errno != EINTR)
            o->error = errno;
    }
    o->len = 0;
}

BEAT__PRIVATE void beat__trace_put(beat__trace_out *o, const char *s)
{
    for (; *s != '\0'; s++) {
        if (o->len == BEAT__TRACE_OUT_BUF)
            beat__trace_flush(o);
        o->buf[o->len++] = *s;
    }
}

// s as the inside of a JSON string: quotes, backslashes and control
// characters escaped (other bytes as they are: names should be UTF-8).
BEAT__PRIVATE void beat__trace_put_escaped(beat__trace_out *o, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        char one[7] = {(char)c, '\0'};
        if (c == '"' || c == '\\') {
            one[0] = '\\';
            one[1] = (char)c;
            one[2] = '\0';
        } else if (c < 0x20) {
            memcpy(one, "\\u00", 4);
            one[4] = "0123456789abcdef"[c >> 4];
            one[5] = "0123456789abcdef"[c & 15];
            one[6] = '\0';
        }
        beat__trace_put(o, one);
    }
}

BEAT__PRIVATE void beat__trace_put_u64(beat__trace_out *o, uint64_t v)
{
    char digits[24];
    digits[0] = '\0';
    beat__text_append_u64(digits, sizeof digits, v);
    beat__trace_put(o, digits);
}

// ns as microseconds with three decimals: exact, so slices that nest in ns
// nest in the file.
BEAT__PRIVATE void beat__trace_put_us(beat__trace_out *o, uint64_t ns)
{
    char frac[5] = {'.', (char)('0' + ns / 100 % 10), (char)('0' + ns / 10 % 10),
                    (char)('0' + ns % 10), '\0'};
    beat__trace_put_u64(o, ns / 1000);
    beat__trace_put(o, frac);
}

BEAT__PRIVATE void beat__trace_put_hex(beat__trace_out *o, uint64_t v)
{
    char text[20];
    size_t i = sizeof text - 1;
    text[i] = '\0';
    do {
        text[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v != 0);
    text[--i] = 'x';
    text[--i] = '0';
    beat__trace_put(o, text + i);
}

// Opens one event: {"ph":ph,"cat":"beat","name":name,"pid":..,"tid":..,"ts":..
// (name escaped). The caller adds its fields and the closing brace.
BEAT__PRIVATE void beat__trace_event(beat__trace_out *o, const char *ph, const char *name,
                                     unsigned tid, uint64_t ns)
{
    beat__trace_put(o, o->events++ != 0 ? ",\n{\"ph\":\"" : "{\"ph\":\"");
    beat__trace_put(o, ph);
    beat__trace_put(o, "\",\"cat\":\"beat\",\"name\":\"");
    beat__trace_put_escaped(o, name);
    beat__trace_put(o, "\",\"pid\":");
    beat__trace_put_u64(o, o->pid);
    beat__trace_put(o, ",\"tid\":");
    beat__trace_put_u64(o, tid);
    beat__trace_put(o, ",\"ts\":");
    beat__trace_put_us(o, ns);
}

// The track name of a slot: "beat worker 3", "beat_run slot 0", after prefix.
BEAT__PRIVATE const char *beat__trace_label(char *out, size_t cap, const char *prefix,
                                            unsigned nworkers, unsigned slot)
{
    out[0] = '\0';
    beat__text_append(out, cap, prefix);
    beat__text_append(out, cap, slot < nworkers ? "beat worker " : "beat_run slot ");
    beat__text_append_u64(out, cap, slot < nworkers ? slot : slot - nworkers);
    return out;
}

// Slot tids start at 1 (viewers treat tid 0 as special).
#define BEAT__TRACE_TID(slot) ((slot) + 1u)

BEAT__PRIVATE void beat__trace_counter(beat__trace_out *o, const char *name, unsigned tid,
                                       uint64_t ns, const char *key, uint64_t value)
{
    beat__trace_event(o, "C", name, tid, ns);
    beat__trace_put(o, ",\"args\":{\"");
    beat__trace_put(o, key);
    beat__trace_put(o, "\":");
    beat__trace_put_u64(o, value);
    beat__trace_put(o, "}}");
}

// A push as the flow pairing sees it.
typedef struct beat__trace_push {
    uint64_t what, begin;
    uint32_t slot, kind;
} beat__trace_push;

BEAT__PRIVATE int beat__trace_push_cmp(const void *x, const void *y)
{
    const beat__trace_push *p = (const beat__trace_push *)x, *q = (const beat__trace_push *)y;
    if (p->slot != q->slot)
        return p->slot < q->slot ? -1 : 1;
    if (p->what != q->what)
        return p->what < q->what ? -1 : 1;
    return p->begin < q->begin ? -1 : p->begin > q->begin;
}

// Every push of t, sorted by slot, task and time; NULL (no flows) when
// there is none or no memory.
BEAT__PRIVATE beat__trace_push *beat__trace_pushes(const beat__trace *t, const beat_allocator *al,
                                                   size_t *count)
{
    size_t n = 0;
    for (unsigned s = 0; s < t->nrings; s++)
        for (uint32_t i = 0; i < t->rings[s].used; i++)
            n += t->rings[s].recs[i].kind == BEAT__TRACE_PUSHED ||
                 t->rings[s].recs[i].kind == BEAT__TRACE_MOVED;
    *count = n;
    beat__trace_push *pushes =
        n == 0 ? NULL : (beat__trace_push *)beat__alloc(al, n * sizeof *pushes, 8);
    if (pushes == NULL)
        return NULL;
    n = 0;
    for (unsigned s = 0; s < t->nrings; s++)
        for (uint32_t i = 0; i < t->rings[s].used; i++) {
            const beat__trace_rec *rec = &t->rings[s].recs[i];
            if (rec->kind != BEAT__TRACE_PUSHED && rec->kind != BEAT__TRACE_MOVED)
                continue;
            beat__trace_push p = {rec->what, rec->begin, s, rec->kind};
            pushes[n++] = p;
        }
    qsort(pushes, n, sizeof *pushes, beat__trace_push_cmp);
    return pushes;
}

// The push that a steal of what from slot at time ns took, or NULL: the
// latest push of it there before the steal, if that was a push with a flow
// and the victim's ring had not filled by then.
BEAT__PRIVATE const beat__trace_push *beat__trace_push_of(const beat__trace *t,
                                                          const beat__trace_push *pushes, size_t n,
                                                          uint32_t slot, uint64_t what, uint64_t ns)
{
    if (pushes == NULL || slot >= t->nrings ||
        (t->rings[slot].dropped != 0 && t->rings[slot].full_at <= ns))
        return NULL;
    beat__trace_push key = {what, ns, slot, 0};
    size_t lo = 0, hi = n; // first push after key
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (beat__trace_push_cmp(&pushes[mid], &key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const beat__trace_push *p = &pushes[lo - 1];
    return p->slot == slot && p->what == what && p->kind == BEAT__TRACE_PUSHED ? p : NULL;
}

// Where a flow ends in the stolen slice rec (followed by next, or NULL): a
// moment inside it before its first child, so that the slice is the
// innermost one there.
BEAT__PRIVATE uint64_t beat__trace_flow_end(const beat__trace_rec *rec, const beat__trace_rec *next)
{
    uint64_t limit = next != NULL && next->begin < rec->end ? next->begin : rec->end;
    return rec->begin + (limit - rec->begin) / 2;
}

BEAT__PRIVATE const char *beat__fn_name(const beat_pool *pool, beat_fn fn); // names section

// One slice: an X event named by its function's name (beat_name_fn) or else
// by its kind, and the deque counter it sampled.
BEAT__PRIVATE void beat__trace_write_slice(beat__trace_out *o, const beat__trace_rec *rec,
                                           unsigned tid, int stolen, const char *deque)
{
    const char *kind = beat__trace_names[rec->kind];
    const char *name =
        rec->what != 0 ? beat__fn_name(o->pool, (beat_fn)(uintptr_t)rec->what) : NULL;
    beat__trace_event(o, "X", name != NULL ? name : kind, tid, rec->begin);
    beat__trace_put(o, ",\"dur\":");
    beat__trace_put_us(o, rec->end - rec->begin);
    beat__trace_put(o, ",\"args\":{\"kind\":\"");
    beat__trace_put(o, kind);
    beat__trace_put(o, "\",\"fn\":\"");
    beat__trace_put_hex(o, rec->what);
    beat__trace_put(o, "\"");
    if (rec->kind == BEAT__TRACE_CHUNK) {
        beat__trace_put(o, ",\"begin\":");
        beat__trace_put_u64(o, rec->a);
        beat__trace_put(o, ",\"end\":");
        beat__trace_put_u64(o, rec->b);
    }
    if (stolen)
        beat__trace_put(o, ",\"stolen\":true");
    beat__trace_put(o, "}}");
    if (rec->depth != BEAT__TRACE_NO_DEPTH)
        beat__trace_counter(o, deque, tid, rec->begin, "depth", rec->depth);
}

// The events of slot's ring. Returns the flows drawn.
BEAT__PRIVATE uint64_t beat__trace_write_ring(beat__trace_out *o, const beat__trace *t,
                                              unsigned nworkers, unsigned slot,
                                              const beat__trace_push *pushes, size_t npushes,
                                              uint64_t flows)
{
    const beat__trace_ring *r = &t->rings[slot];
    unsigned tid = BEAT__TRACE_TID(slot);
    char deque[48], victim_deque[48];
    beat__trace_label(deque, sizeof deque, "deque: ", nworkers, slot);
    const beat__trace_rec *steal = NULL; // a steal waiting for its slice
    for (uint32_t i = 0; i < r->used; i++) {
        const beat__trace_rec *rec = &r->recs[i];
        if (rec->kind == BEAT__TRACE_UNCLOSED)
            continue; // cannot happen once the workers are joined
        if (rec->kind < BEAT__TRACE_SLICES) {
            beat__trace_write_slice(o, rec, tid, steal != NULL, deque);
            const beat__trace_push *push =
                steal != NULL ? beat__trace_push_of(t, pushes, npushes, (uint32_t)steal->a,
                                                    steal->what, steal->begin)
                              : NULL;
            if (push != NULL) {
                flows++;
                beat__trace_event(o, "s", "steal", BEAT__TRACE_TID(push->slot), push->begin);
                beat__trace_put(o, ",\"id\":");
                beat__trace_put_u64(o, flows);
                beat__trace_put(o, "}");
                beat__trace_event(o, "f", "steal", tid,
                                  beat__trace_flow_end(rec, i + 1 < r->used ? rec + 1 : NULL));
                beat__trace_put(o, ",\"bp\":\"e\",\"id\":");
                beat__trace_put_u64(o, flows);
                beat__trace_put(o, "}");
            }
            steal = NULL;
        } else if (rec->kind == BEAT__TRACE_STOLEN) {
            steal = rec;
            beat__trace_counter(o,
                                beat__trace_label(victim_deque, sizeof victim_deque,
                                                  "deque: ", nworkers, (unsigned)rec->a),
                                tid, rec->begin, "depth", rec->depth);
        } else if (rec->kind == BEAT__TRACE_SAMPLED) {
            beat__trace_counter(o, "memory pressure", tid, rec->begin, "level", rec->a);
        } else { // pushed or moved
            beat__trace_counter(o, deque, tid, rec->begin, "depth", rec->depth);
        }
    }
    if (r->dropped != 0) {
        beat__trace_event(o, "i", "trace ring full", tid, r->full_at);
        beat__trace_put(o, ",\"s\":\"t\",\"args\":{\"dropped\":");
        beat__trace_put_u64(o, r->dropped);
        beat__trace_put(o, "}}");
    }
    return flows;
}

// Metadata: the process and one named track per worker (outside slots only
// when they recorded something), and the pressure level at the start.
BEAT__PRIVATE void beat__trace_write_names(beat__trace_out *o, const beat__trace *t,
                                           unsigned nworkers)
{
    beat__trace_event(o, "M", "process_name", 0, 0);
    beat__trace_put(o, ",\"args\":{\"name\":\"beat pool\"}}");
    for (unsigned s = 0; s < t->nrings; s++) {
        if (s >= nworkers && t->rings[s].used == 0 && t->rings[s].dropped == 0)
            continue;
        char name[48];
        beat__trace_event(o, "M", "thread_name", BEAT__TRACE_TID(s), 0);
        beat__trace_put(o, ",\"args\":{\"name\":\"");
        beat__trace_put(o, beat__trace_label(name, sizeof name, "", nworkers, s));
        beat__trace_put(o, "\"}}");
        beat__trace_event(o, "M", "thread_sort_index", BEAT__TRACE_TID(s), 0);
        beat__trace_put(o, ",\"args\":{\"sort_index\":");
        beat__trace_put_u64(o, s);
        beat__trace_put(o, "}}");
    }
    beat__trace_counter(o, "memory pressure", BEAT__TRACE_TID(0), 0, "level", BEAT_PRESSURE_NONE);
}

BEAT__PRIVATE void beat__trace_write_meta(beat__trace_out *o, const beat__trace *t,
                                          unsigned nworkers, uint64_t flows)
{
    uint64_t recorded = 0, dropped = 0;
    for (unsigned s = 0; s < t->nrings; s++) {
        recorded += t->rings[s].used;
        dropped += t->rings[s].dropped;
    }
    beat__trace_put(o, "\n],\n\"otherData\":{\"beat_version\":\"" BEAT_VERSION_STRING "\"");
    const char *keys[] = {
        ",\"workers\":",        ",\"rings\":", ",\"ring_events\":", ",\"recorded_events\":",
        ",\"dropped_events\":", ",\"flows\":", ",\"origin_ns\":",   ",\"trace_index\":"};
    uint64_t values[] = {nworkers, t->nrings, t->capacity, recorded,
                         dropped,  flows,     t->origin,   t->index};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        beat__trace_put(o, keys[i]);
        beat__trace_put_u64(o, values[i]);
    }
    beat__trace_put(o, ",\"dropped_per_ring\":[");
    for (unsigned s = 0; s < t->nrings; s++) {
        beat__trace_put(o, s != 0 ? "," : "");
        beat__trace_put_u64(o, t->rings[s].dropped);
    }
    beat__trace_put(o, "],\"clock\":\"CLOCK_MONOTONIC\"}}\n");
}

// Writes the pool's trace to its path. Returns 0, or the errno of the
// failure.
BEAT__PRIVATE int beat__trace_write(const beat_pool *pool, uint64_t *flows)
{
    const beat__trace *t = pool->trace;
    const beat_allocator *al = &pool->cfg.allocator;
    unsigned nworkers = pool->nworkers;
    beat__trace_out o;
    memset(&o, 0, sizeof o);
    o.pool = pool;
    o.buf = (char *)beat__alloc(al, BEAT__TRACE_OUT_BUF, BEAT_CACHELINE);
    if (o.buf == NULL)
        return ENOMEM;
    o.pid = (uint64_t)getpid();
    do
        o.fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    while (o.fd < 0 && errno == EINTR);
    if (o.fd < 0) {
        int err = errno;
        beat__free(al, o.buf, BEAT__TRACE_OUT_BUF, BEAT_CACHELINE);
        return err;
    }
    size_t npushes = 0;
    beat__trace_push *pushes = beat__trace_pushes(t, al, &npushes);
    beat__trace_put(&o, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    beat__trace_write_names(&o, t, nworkers);
    *flows = 0;
    for (unsigned s = 0; s < t->nrings; s++)
        *flows = beat__trace_write_ring(&o, t, nworkers, s, pushes, npushes, *flows);
    beat__trace_write_meta(&o, t, nworkers, *flows);
    beat__trace_flush(&o);
    if (close(o.fd) != 0 && o.error == 0 && errno != EINTR)
        o.error = errno;
    beat__free(al, pushes, npushes * sizeof *pushes, 8);
    beat__free(al, o.buf, BEAT__TRACE_OUT_BUF, BEAT_CACHELINE);
    return o.error;
}

// Ends the pool's trace: writes the file when write is set (a pool that
// ran; not the error path of create, nor a child of fork()), then frees
// it. Call after the workers are joined.
BEAT__PRIVATE void beat__trace_finish(beat_pool *pool, int write)
{
    beat__trace *t = pool->trace;
    if (t == NULL)
        return;
    const beat_config *cfg = &pool->cfg;
    if (write) {
        uint64_t flows = 0;
        int err = beat__trace_write(pool, &flows);
        beat_trace_status status;
        beat_pool_trace_status(pool, &status);
        if (err != 0)
            beat__log(&cfg->logger, BEAT_LOG_WARN,
                      "beat_pool_destroy: cannot write the trace to \"%s\" (%s); check that its "
                      "directory exists and is writable",
                      t->path, strerror(err));
        else
            beat__log(&cfg->logger, BEAT_LOG_INFO,
                      "beat_pool_destroy: trace written to \"%s\" (%llu events, %llu dropped "
                      "because a ring was full, %llu flows)",
                      t->path, (unsigned long long)status.recorded,
                      (unsigned long long)status.dropped, (unsigned long long)flows);
    }
    pool->trace = NULL;
    for (unsigned i = 0; i < pool->nslots; i++)
        pool->workers[i].trace = NULL;
    beat__trace_free(&cfg->allocator, t);
}

#else // BEAT_NO_TRACE: hooks compile to nothing; a requested trace is refused with a warning

#define BEAT__TRACE_OPEN(ctx) 0u
#define BEAT__TRACE_OPEN_TASK(ctx) 0u
#define BEAT__TRACE_CLOSE(ctx, slot, kind, fn, a, b) ((void)(slot))
#define BEAT__TRACE_PUSH(ctx, task, flow) ((void)0)
#define BEAT__TRACE_STEAL(ctx, task, victim) ((void)0)
#define BEAT__TRACE_PRESSURE(ctx, level) ((void)0)

BEAT__PRIVATE beat_result beat__trace_start(beat_pool *pool)
{
    const beat_config *cfg = &pool->cfg;
    const char *path = cfg->trace_path != NULL ? cfg->trace_path : getenv("BEAT_TRACE");
    if (path != NULL && path[0] != '\0')
        beat__log(&cfg->logger, BEAT_LOG_WARN,
                  "beat_pool_create: a trace to \"%s\" was asked for (trace_path or BEAT_TRACE), "
                  "but this build has BEAT_NO_TRACE; no trace is written (rebuild without it)",
                  path);
    return BEAT_OK;
}

BEAT__PRIVATE void beat__trace_finish(beat_pool *pool, int write)
{
    (void)pool;
    (void)write;
}

BEAT__DEF beat_result beat_pool_trace_status(const beat_pool *pool, beat_trace_status *out)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    return pool == NULL || out == NULL ? BEAT_ERROR_INVALID_ARGUMENT : BEAT_ERROR_UNSUPPORTED;
}

#endif // BEAT_NO_TRACE
