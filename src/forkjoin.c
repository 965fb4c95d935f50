// Fork-join: the slow path of beat_pcall (its fast path is inline in the
// public header), spawn/wait, and loops and reduce built on pcall.
#include "scheduler.c"

// Joins a frame that the heartbeat promoted. Tasks that a left on the deque
// sit above the frame; run them, then the frame itself unless a thief took
// it (then the deque is empty below them), in which case help until the
// thief is done, stealing from the thief first.
BEAT__DEF void beat__join_promoted(beat_ctx *ctx, beat__frame *frame)
{
    ctx->head.tail = frame->saved_prev;
    for (;;) {
        beat__task *t = (beat__task *)beat__deque_pop_owner(&ctx->deque);
        if (t == &frame->task) {
            frame->task.fn(ctx, frame->task.arg);
            return;
        }
        if (t == NULL)
            break;
        beat__task_run(ctx, t);
    }
    beat__worker_wait(ctx, &frame->done, &frame->task);
}

BEAT__DEF void beat_spawn(beat_ctx *ctx, beat_counter *c, beat_fn fn, void *arg)
{
    BEAT_ASSERT(ctx != NULL && fn != NULL && "beat_spawn: ctx and fn are required");
    beat_pool *pool = ctx->pool;
    if (c != NULL) {
        // Relaxed: the push below publishes (release) the increment together
        // with the task, so the decrement is ordered after it.
        beat__atomic_fetch_add_u64(&c->beat__state, 1, BEAT__MO_RELAXED);
    }
    beat__task *t = (beat__task *)beat_mempool_alloc(pool->tasks, &ctx->task_cache);
    if (t != NULL) {
        t->fn = fn;
        t->arg = arg;
        t->counter = c;
        t->next = NULL;
        t->flags = BEAT__TASK_POOLED;
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
    beat__worker_wait(ctx, c, NULL);
}

BEAT__DEF uint64_t beat_counter_pending(const beat_counter *c)
{
    return c == NULL ? 0
                     : beat__atomic_load_u64(&c->beat__state, BEAT__MO_ACQUIRE) & BEAT__COUNT_MASK;
}

// ---------------------------------------------------------------------------
// Loops: recursive halving through pcall until a chunk is at most grain.

typedef struct beat__range {
    beat_range_fn body;
    void *arg;
    size_t begin, end, grain;
} beat__range;

BEAT__PRIVATE void beat__range_run(beat_ctx *ctx, void *p)
{
    beat__range *r = (beat__range *)p;
    if (r->end - r->begin < 2 * r->grain || r->end - r->begin < 2) {
        r->body(ctx, r->begin, r->end, r->arg);
        return;
    }
    size_t mid = r->begin + (r->end - r->begin) / 2;
    beat__range left = *r, right = *r;
    left.end = mid;
    right.begin = mid;
    beat_pcall(ctx, beat__range_run, &left, beat__range_run, &right);
}

// grain 0: about 8 chunks per worker, so a thief finds something to take.
BEAT__PRIVATE size_t beat__auto_grain(const beat_pool *pool, size_t n)
{
    size_t grain = n / ((size_t)pool->nworkers * 8);
    return grain == 0 ? 1 : grain;
}

BEAT__DEF void beat_parallel_for(beat_ctx *ctx, size_t begin, size_t end, size_t grain,
                                 beat_range_fn body, void *arg)
{
    BEAT_ASSERT(ctx != NULL && body != NULL && "beat_parallel_for: ctx and body are required");
    if (begin >= end)
        return;
    beat__range r = {body, arg, begin, end, grain};
    if (grain == 0)
        r.grain = beat__auto_grain(ctx->pool, end - begin);
    beat__range_run(ctx, &r);
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
