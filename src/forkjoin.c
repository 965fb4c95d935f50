// Fork-join: the slow path of beat_pcall (its fast path is inline in the
// public header), spawn/wait, and loops and reduce built on pcall.
#include "scheduler.c"
#include "devmode.c" // misuse checks in spawn, wait and loops

// Joins a frame that the heartbeat promoted. Tasks that a left on the deque
// sit above the frame; run them, then the frame itself unless a thief took
// it (then the deque is empty below them), in which case help until the
// thief is done, stealing from the thief first.
BEAT__DEF void beat__join_promoted(beat_ctx *ctx)
{
    beat__frame *frame = ctx->head.tail; // the joining pcall's (see pool.h)
    BEAT_ASSERT(frame != NULL && frame->prev == BEAT__FRAME_PROMOTED &&
                "beat__join_promoted: the youngest frame is not the promoted one being joined");
    ctx->head.tail = frame->saved_prev;
    for (;;) {
        beat__task *t = (beat__task *)beat__deque_pop_owner(&ctx->deque);
        if (t == &frame->task) {
            uint32_t traced = BEAT__TRACE_OPEN_TASK(ctx);
            frame->task.fn(ctx, frame->task.arg);
            BEAT__TRACE_CLOSE(ctx, traced, BEAT__TRACE_PCALL, frame->task.fn, 0, 0);
            return;
        }
        if (t == NULL)
            break;
        beat__task_run(ctx, t);
    }
    beat__worker_wait(ctx, &frame->done, &frame->task);
}

BEAT__DEF void beat__frame_u64_run(beat_ctx *ctx, void *frame)
{
    beat__frame_u64 *f = (beat__frame_u64 *)frame;
    f->value = f->fn(ctx, f->value);
}

BEAT__DEF void beat_spawn(beat_ctx *ctx, beat_counter *c, beat_fn fn, void *arg)
{
    BEAT_ASSERT(ctx != NULL && fn != NULL && "beat_spawn: ctx and fn are required");
    beat_pool *pool = ctx->pool;
    if (BEAT__UNLIKELY(pool->checks) && !beat__ctx_owned(&ctx, "beat_spawn")) {
        beat__spawn_outside(pool, c, fn, arg); // rule ctx-owner, from outside the pool
        return;
    }
    if (c != NULL) {
        // Relaxed: the push below publishes (release) the increment together
        // with the task, so the decrement is ordered after it.
        beat__atomic_fetch_add_u64(&c->beat__state, 1, BEAT__MO_RELAXED);
    }
    beat__task *t = (beat__task *)beat_mempool_alloc(pool->tasks, &ctx->task_cache);
    if (t != NULL) {
        beat__task_init(t, fn, arg, c, BEAT__TASK_POOLED | BEAT__TASK_TIMED);
        if (beat__push_local(ctx, t) == 0)
            return;
        beat_mempool_free(pool->tasks, &ctx->task_cache, t);
    }
    fn(ctx, arg); // out of memory: run it here so it is never lost
    if (c != NULL)
        beat__count_done(pool, &c->beat__state);
}

BEAT__DEF void beat_wait(beat_ctx *ctx, beat_counter *c)
{
    BEAT_ASSERT(ctx != NULL && c != NULL && "beat_wait: ctx and c are required");
    if (BEAT__UNLIKELY(ctx->pool->checks))
        beat__wait_checked(ctx, c); // rules ctx-owner and self-wait
    else
        beat__worker_wait(ctx, c, NULL);
}

BEAT__DEF uint64_t beat_counter_pending(const beat_counter *c)
{
    return c == NULL ? 0
                     : beat__atomic_load_u64(&c->beat__state, BEAT__MO_ACQUIRE) & BEAT__COUNT_MASK;
}

// ---------------------------------------------------------------------------
// Loops: run in chunks from a loop frame that promotion splits (see
// beat__loop in the scheduler). Chunks start at the grain (1 when automatic)
// and double up to BEAT__LOOP_MAX_CHUNK and never exceed a quarter of what
// is left, so a tiny range costs a few body calls, a huge one polls often
// enough for hungry workers to get a split quickly, and the end of a range
// can still be shared.

#define BEAT__LOOP_MAX_CHUNK 1024u

// With a per-item estimate for the body (and grain 0), chunks start at
// about BEAT__LOOP_FIRST_NS of work and grow to about BEAT__LOOP_CHUNK_NS,
// at most BEAT__LOOP_PREDICTED_MAX elements: a cheap body then pays one
// poll per few microseconds instead of one per 1024 elements, and a split
// still waits at most one chunk.
#define BEAT__LOOP_FIRST_NS 2000.0
#define BEAT__LOOP_CHUNK_NS 8000.0
#define BEAT__LOOP_PREDICTED_MAX ((size_t)1 << 20)

// Loop bodies are timed per item under a key of their own: the body's
// address with the top bit flipped (no user-space code address has it), so
// a function used both as a job and as a body keeps two estimates.
#define BEAT__PREDICT_LOOP_KEY(body)                                                               \
    ((const void *)((uintptr_t)(body) ^ ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1))))

// Runs one chunk, timing it per item when the predictor samples it.
BEAT__PRIVATE void beat__chunk_call(beat_ctx *ctx, const beat__loop_desc *desc, size_t begin,
                                    size_t end)
{
    beat__predictor *p = desc->timed ? ctx->pool->predict : NULL;
    const void *key = BEAT__PREDICT_LOOP_KEY(desc->body);
    if (p == NULL || !beat__predictor_sample_owner(p, ctx->index, key)) {
        desc->body(ctx, begin, end, desc->arg);
        return;
    }
    uint64_t start = beat__now_ns();
    desc->body(ctx, begin, end, desc->arg);
    beat__pressure_tick(ctx, beat__timed_record(ctx, key, start, end - begin));
}

// Sets the chunk sizes of a grain-0 loop from the body's estimate, if the
// worker has one.
BEAT__PRIVATE void beat__loop_predict_chunks(beat_ctx *ctx, beat__loop_desc *desc)
{
    double ns = 0;
    if (!beat__predictor_estimate_worker(ctx->pool->predict, ctx->index,
                                         BEAT__PREDICT_LOOP_KEY(desc->body), &ns) ||
        !(ns > 0))
        return;
    double first = BEAT__LOOP_FIRST_NS / ns, most = BEAT__LOOP_CHUNK_NS / ns;
    double cap = (double)BEAT__LOOP_PREDICTED_MAX;
    desc->first_chunk = first >= cap ? BEAT__LOOP_PREDICTED_MAX : first < 1 ? 1 : (size_t)first;
    if (most > BEAT__LOOP_MAX_CHUNK)
        desc->max_chunk = most >= cap ? BEAT__LOOP_PREDICTED_MAX : (size_t)most;
    if (desc->first_chunk > desc->max_chunk)
        desc->first_chunk = desc->max_chunk;
}

// One poll of the heartbeat per chunk (counted as a chunk, not a pcall).
BEAT__PRIVATE void beat__loop_poll(beat_ctx *ctx)
{
    // The countdown first, then the chunk count, as the pcalls count in the
    // stats is the polls less the chunks (beat__stats_read).
    int due = beat__poll_due(ctx);
    BEAT__STAT_ADD(ctx, chunks, 1);
    if (due)
        beat__heartbeat(ctx);
}

// Runs [begin, end) of desc's loop here, splittable by promotion.
BEAT__PRIVATE void beat__loop_run(beat_ctx *ctx, const beat__loop_desc *desc, size_t begin,
                                  size_t end)
{
    beat__loop loop;
    loop.frame.task.fn = beat__loop_tag;
    loop.frame.task.arg = NULL;
    loop.frame.prev = ctx->head.tail;
    ctx->head.tail = &loop.frame;
    loop.desc = desc;
    loop.cur = begin;
    loop.end = end;
    size_t chunk = desc->first_chunk;
    while (loop.cur < loop.end) {
        size_t left = loop.end - loop.cur;
        // At most a quarter of what is left, so the end of the range stays
        // splittable for an idle worker (about log(n) more chunks), and no
        // short last chunk.
        size_t n = left / 4 < chunk ? left / 4 : chunk;
        if (n < desc->min_chunk)
            n = desc->min_chunk;
        if (left < n + desc->min_chunk)
            n = left;
        size_t first = loop.cur;
        loop.cur += n; // before the body: a pcall in it may split what is left
        uint32_t traced = BEAT__TRACE_OPEN(ctx);
        beat__chunk_call(ctx, desc, first, first + n);
        BEAT__TRACE_CLOSE(ctx, traced, BEAT__TRACE_CHUNK, desc->body, first, first + n);
        if (chunk < desc->max_chunk)
            chunk = chunk * 2 < desc->max_chunk ? chunk * 2 : desc->max_chunk;
        beat__loop_poll(ctx);
    }
    ctx->head.tail = loop.frame.prev;
}

BEAT__PRIVATE void beat__loop_piece_run(beat_ctx *ctx, void *arg)
{
    beat__loop_piece *piece = (beat__loop_piece *)arg;
    const beat__loop_desc *desc = piece->desc;
    size_t begin = piece->begin, end = piece->end;
    beat_mempool_free(ctx->pool->tasks, &ctx->task_cache, piece);
    beat__loop_run(ctx, desc, begin, end); // the task's counter is the loop's
}

// beat_parallel_for; timed = 0 leaves the chunks untimed (batches time
// their jobs themselves).
BEAT__PRIVATE void beat__parallel_for(beat_ctx *ctx, size_t begin, size_t end, size_t grain,
                                      beat_range_fn body, void *arg, int timed)
{
    if (begin >= end)
        return;
    beat__loop_desc desc;
    desc.body = body;
    desc.arg = arg;
    desc.timed = timed;
    desc.min_chunk = grain == 0 ? 1 : grain;
    desc.first_chunk = desc.min_chunk;
    desc.max_chunk = desc.min_chunk > BEAT__LOOP_MAX_CHUNK ? desc.min_chunk : BEAT__LOOP_MAX_CHUNK;
    if (grain == 0 && timed)
        beat__loop_predict_chunks(ctx, &desc);
    desc.pending.beat__state = 0;
    beat__loop_run(ctx, &desc, begin, end);
    if (beat_counter_pending(&desc.pending) != 0)
        beat__worker_wait(ctx, &desc.pending, NULL);
}

BEAT__DEF void beat_parallel_for(beat_ctx *ctx, size_t begin, size_t end, size_t grain,
                                 beat_range_fn body, void *arg)
{
    BEAT_ASSERT(ctx != NULL && body != NULL && "beat_parallel_for: ctx and body are required");
    if (BEAT__UNLIKELY(ctx->pool->checks) && !beat__ctx_owned(&ctx, "beat_parallel_for")) {
        beat__parallel_for_outside(ctx->pool, begin, end, grain, body, arg);
        return;
    }
    beat__parallel_for(ctx, begin, end, grain, body, arg, 1);
}

// Reduce leaves when grain is 0: about 64 per worker. Splits are pcalls,
// promoted lazily, so the count only bounds the balance, not the overhead.
BEAT__PRIVATE size_t beat__auto_grain(const beat_pool *pool, size_t n)
{
    size_t grain = n / ((size_t)pool->nworkers * 64 + 64);
    return grain == 0 ? 1 : grain;
}

// ---------------------------------------------------------------------------
// Reduce: the same halving; each split folds the right half's partial into
// the left one after both are done, which keeps the serial order.

typedef struct beat__reduce_spec {
    beat_reduce_fn body;
    beat_combine_fn combine;
    void *arg;
    const void *identity;
    size_t size, grain;
} beat__reduce_spec;

typedef struct beat__reduce {
    const beat__reduce_spec *spec;
    size_t begin, end;
    void *partial; // receives this range's result
} beat__reduce;

BEAT__PRIVATE void beat__reduce_run(beat_ctx *ctx, void *p)
{
    beat__reduce *r = (beat__reduce *)p;
    const beat__reduce_spec *spec = r->spec;
    if (r->end - r->begin < 2 * spec->grain || r->end - r->begin < 2) {
        memcpy(r->partial, spec->identity, spec->size);
        spec->body(ctx, r->begin, r->end, r->partial, spec->arg);
        return;
    }
    unsigned char right_partial[BEAT_REDUCE_MAX_PARTIAL] BEAT__ALIGNED(64);
    size_t mid = r->begin + (r->end - r->begin) / 2;
    beat__reduce left = {spec, r->begin, mid, r->partial};
    beat__reduce right = {spec, mid, r->end, right_partial};
    beat_pcall(ctx, beat__reduce_run, &left, beat__reduce_run, &right);
    spec->combine(r->partial, right_partial, spec->arg);
}

BEAT__DEF beat_result beat_parallel_reduce(beat_ctx *ctx, size_t begin, size_t end, size_t grain,
                                           const void *identity, size_t partial_size,
                                           beat_reduce_fn body, beat_combine_fn combine, void *arg,
                                           void *result)
{
    if (ctx == NULL || identity == NULL || body == NULL || combine == NULL || result == NULL ||
        partial_size == 0 || partial_size > BEAT_REDUCE_MAX_PARTIAL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    if (BEAT__UNLIKELY(ctx->pool->checks) && !beat__ctx_owned(&ctx, "beat_parallel_reduce"))
        return beat_pool_parallel_reduce(ctx->pool, begin, end, grain, identity, partial_size, body,
                                         combine, arg, result); // from outside the pool
    if (begin >= end) {
        memcpy(result, identity, partial_size);
        return BEAT_OK;
    }
    beat__reduce_spec spec = {body, combine, arg, identity, partial_size, grain};
    if (grain == 0)
        spec.grain = beat__auto_grain(ctx->pool, end - begin);
    beat__reduce r = {&spec, begin, end, result};
    beat__reduce_run(ctx, &r);
    return BEAT_OK;
}
