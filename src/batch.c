// ---------------------------------------------------------------------------
// Batches: beat_submit_batch and batch variants
//
// beat_submit_batch copies the jobs into one allocation whose task runs
// them as a parallel loop over units. A unit is a job, or a group: up to
// BEAT_BATCH_WIDTH arguments of jobs whose function has a batch variant
// (beat_register_batch), run by one call of the variant. Grouping takes two
// passes over the array with the variant table read once: the first counts
// the jobs of each variant, the second places every job (a counting sort
// by function, stable within a function). A one-entry cache of the last
// function looked up makes a run of one function, the case batches are
// for, cost a compare per job and pass.

// A batch: one allocation holding the task that runs it, its units, and
// (when it has groups) the groups and their arguments.
typedef struct beat__batch {
    beat__task task;
    size_t count; // jobs, as counted in pool->jobs
    size_t units; // entries of jobs: single jobs, then one per group
    size_t bytes; // of the allocation (beat__batch_alloc)
    beat_job *jobs;
} beat__batch;

// Jobs of one function that its batch variant runs in one call.
typedef struct beat__group {
    beat_batch_fn batch;
    void *const *args;
    size_t count;
} beat__group;

// The unit function of a group.
BEAT__PRIVATE void beat__group_run(beat_ctx *ctx, void *arg)
{
    const beat__group *g = (const beat__group *)arg;
    g->batch(ctx, g->args, g->count);
}

// A chunk of a batch. The predictor samples chunks, not jobs (a check per
// 50-cycle job would cost several percent): a sampled chunk whose units all
// share one function is timed and recorded per unit under that function
// (groups are recorded under beat__group_run, which nothing looks up).
BEAT__PRIVATE void beat__batch_range(beat_ctx *ctx, size_t begin, size_t end, void *arg)
{
    const beat_job *jobs = ((beat__batch *)arg)->jobs;
    beat__predictor *p = ctx->pool->predict;
    beat_fn fn = jobs[begin].fn;
    if (p == NULL || !beat__predictor_sample_owner(p, ctx->index, BEAT__PREDICT_KEY(fn))) {
        for (size_t i = begin; i < end; i++)
            jobs[i].fn(ctx, jobs[i].arg);
        return;
    }
    int same = 1;
    uint64_t start = beat__now_ns();
    for (size_t i = begin; i < end; i++) {
        same &= jobs[i].fn == fn;
        jobs[i].fn(ctx, jobs[i].arg);
    }
    // A mixed chunk says nothing about fn: only its clock is used.
    beat__pressure_tick(ctx,
                        same ? beat__timed_record(ctx, BEAT__PREDICT_KEY(fn), start, end - begin)
                             : beat__now_ns());
}

// ---------------------------------------------------------------------------
// Batch allocations
//
// The worker that finishes a batch keeps its allocation in a free slot of
// pool->batch_spares instead of freeing it, and beat_submit_batch takes a
// spare that is big enough before it allocates. Sizes are rounded up to
// whole pages, so batches of about one size share their allocations.
// Allocating 64 KiB for each batch of 4,096 jobs on the submitting thread
// and freeing it on a worker cost page faults in the copy (glibc gave the
// memory back and took it again), memory-cgroup charges and waits for
// malloc's lock: about 12 % of all samples in 1M batched jobs of 50 cycles
// on 2 workers (perf, scratch).
//
// A slot changes hands by exchange and compare-and-swap of the whole
// pointer, so a spare has one owner at a time and no ABA can arise.

#define BEAT__BATCH_PAGE 4096u
#define BEAT__BATCH_SPARE_BYTES ((size_t)1 << 20) // larger batches are freed at once

// An allocation of at least bytes for a batch, its size in ->bytes; NULL
// when out of memory.
BEAT__PRIVATE beat__batch *beat__batch_alloc(beat_pool *pool, size_t bytes)
{
    size_t want = bytes > SIZE_MAX - BEAT__BATCH_PAGE
                      ? bytes
                      : (bytes + BEAT__BATCH_PAGE - 1) & ~(size_t)(BEAT__BATCH_PAGE - 1);
    for (unsigned i = 0; want <= BEAT__BATCH_SPARE_BYTES && i < BEAT__BATCH_SPARES; i++) {
        // Relaxed look first: an empty slot costs no locked instruction.
        // Acquire exchange: pairs with the release that put the spare
        // there, after its last batch's last read.
        if (beat__atomic_load_ptr(&pool->batch_spares[i], BEAT__MO_RELAXED) == NULL)
            continue;
        beat__batch *spare = (beat__batch *)beat__atomic_exchange_ptr(&pool->batch_spares[i], NULL,
                                                                      BEAT__MO_ACQUIRE);
        if (spare == NULL)
            continue;
        if (spare->bytes >= want)
            return spare;
        beat__free(&pool->cfg.allocator, spare, spare->bytes, BEAT_CACHELINE); // too small now
    }
    beat__batch *batch = (beat__batch *)beat__alloc(&pool->cfg.allocator, want, BEAT_CACHELINE);
    if (batch != NULL)
        batch->bytes = want;
    return batch;
}

// Keeps a finished batch's allocation as a spare, or frees it when the
// slots are full or it is too big to keep.
BEAT__PRIVATE void beat__batch_release(beat_pool *pool, beat__batch *batch)
{
    for (unsigned i = 0; batch->bytes <= BEAT__BATCH_SPARE_BYTES && i < BEAT__BATCH_SPARES; i++) {
        // Release: our reads of the batch come before its next owner's
        // writes (the acquire exchange in beat__batch_alloc).
        void *empty = NULL;
        if (beat__atomic_load_ptr(&pool->batch_spares[i], BEAT__MO_RELAXED) == NULL &&
            beat__atomic_cas_ptr(&pool->batch_spares[i], &empty, batch, BEAT__MO_RELEASE,
                                 BEAT__MO_RELAXED))
            return;
    }
    beat__free(&pool->cfg.allocator, batch, batch->bytes, BEAT_CACHELINE);
}

// Frees the spares (memory pressure, and destroy). Returns the bytes freed.
BEAT__PRIVATE size_t beat__batch_spares_trim(beat_pool *pool)
{
    size_t freed = 0;
    for (unsigned i = 0; i < BEAT__BATCH_SPARES; i++) {
        // Acquire: as in beat__batch_alloc.
        beat__batch *spare = (beat__batch *)beat__atomic_exchange_ptr(&pool->batch_spares[i], NULL,
                                                                      BEAT__MO_ACQUIRE);
        if (spare != NULL) {
            freed += spare->bytes;
            beat__free(&pool->cfg.allocator, spare, spare->bytes, BEAT_CACHELINE);
        }
    }
    return freed;
}

BEAT__PRIVATE void beat__batch_run(beat_ctx *ctx, void *arg)
{
    beat__batch *batch = (beat__batch *)arg;
    beat_pool *pool = ctx->pool;
    size_t count = batch->count;
    beat__parallel_for(ctx, 0, batch->units, 0, beat__batch_range, batch, 0);
    beat__batch_release(pool, batch);
    beat__count_done_n(pool, &pool->jobs, count);
}

// ---------------------------------------------------------------------------
// The variant table

BEAT__DEF beat_result beat_register_batch(beat_pool *pool, beat_fn fn, beat_batch_fn batch)
{
    if (pool == NULL || fn == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    beat__spin_lock(&pool->variants_lock); // orders writers; readers never take it
    beat_result r = BEAT_OK;
    // Relaxed: nvariants only changes under the lock we hold.
    uint32_t n = beat__atomic_load_u32(&pool->nvariants, BEAT__MO_RELAXED), i = 0;
    while (i < n && pool->variants[i].fn != fn)
        i++;
    if (i < n) {
        // Release: a submit that reads the new variant sees what the
        // registering thread did before (the data the variant uses).
        beat__atomic_store_code(&pool->variants[i].batch, (beat__code)batch, BEAT__MO_RELEASE);
    } else if (batch == NULL) {
        // Nothing registered, nothing to remove.
    } else if (n == BEAT_BATCH_VARIANTS) {
        r = BEAT_ERROR_OUT_OF_MEMORY;
    } else {
        pool->variants[n].fn = fn;
        beat__atomic_store_code(&pool->variants[n].batch, (beat__code)batch, BEAT__MO_RELAXED);
        // Release: publishes the entry written above to readers that
        // acquire nvariants.
        beat__atomic_store_u32(&pool->nvariants, n + 1, BEAT__MO_RELEASE);
    }
    beat__spin_unlock(&pool->variants_lock);
    if (r != BEAT_OK)
        beat__log(&pool->cfg.logger, BEAT_LOG_ERROR,
                  "beat_register_batch: %d functions have batch variants already; raise "
                  "BEAT_BATCH_VARIANTS or register fewer",
                  BEAT_BATCH_VARIANTS);
    return r;
}

// The variants in force, read once per submit.
typedef struct beat__variant_view {
    uint32_t n;
    beat_fn fn[BEAT_BATCH_VARIANTS];
    beat_batch_fn batch[BEAT_BATCH_VARIANTS];
} beat__variant_view;

// Fills *view with the registered variants (removed ones left out) and
// returns how many there are.
BEAT__PRIVATE uint32_t beat__variant_view_read(beat_pool *pool, beat__variant_view *view)
{
    // Acquire: pairs with the release in beat_register_batch, making the
    // entries below n visible.
    uint32_t n = beat__atomic_load_u32(&pool->nvariants, BEAT__MO_ACQUIRE);
    view->n = 0;
    for (uint32_t i = 0; i < n; i++) {
        // Acquire: pairs with the release store of a replacement.
        beat__code batch = beat__atomic_load_code(&pool->variants[i].batch, BEAT__MO_ACQUIRE);
        if (batch == NULL)
            continue;
        view->fn[view->n] = pool->variants[i].fn;
        view->batch[view->n] = (beat_batch_fn)batch;
        view->n++;
    }
    return view->n;
}

// The index of fn's variant in view, or -1; *last_fn/*last caches the
// previous answer.
BEAT__INLINE int beat__variant_find(const beat__variant_view *view, beat_fn fn, beat_fn *last_fn,
                                    int *last)
{
    if (fn == *last_fn)
        return *last;
    int found = -1;
    for (uint32_t i = 0; i < view->n; i++)
        if (view->fn[i] == fn) {
            found = (int)i;
            break;
        }
    *last_fn = fn;
    *last = found;
    return found;
}

// ---------------------------------------------------------------------------
// Forming a batch

// The end of the run of jobs sharing jobs[begin]'s function. Both passes
// go run by run: within a run there is no lookup and no counter update,
// only a compare and a copy per job.
BEAT__INLINE size_t beat__run_end(const beat_job *jobs, size_t begin, size_t count)
{
    beat_fn fn = jobs[begin].fn;
    size_t end = begin + 1;
    while (end < count && jobs[end].fn == fn)
        end++;
    return end;
}

// Builds the batch of jobs[0, count): groups for the jobs that have a
// variant in view, the other jobs as they are. NULL when out of memory.
BEAT__PRIVATE beat__batch *beat__batch_form(beat_pool *pool, const beat_job *jobs, size_t count,
                                            const beat__variant_view *view)
{
    const size_t width = BEAT_BATCH_WIDTH;
    size_t per[BEAT_BATCH_VARIANTS]; // jobs of each variant
    size_t grouped = 0, groups = 0;
    beat_fn last_fn = NULL;
    int last = -1;
    for (uint32_t v = 0; v < view->n; v++)
        per[v] = 0;
    if (view->n > 0)
        for (size_t i = 0, end; i < count; i = end) {
            end = beat__run_end(jobs, i, count);
            int v = beat__variant_find(view, jobs[i].fn, &last_fn, &last);
            if (v >= 0)
                per[v] += end - i;
        }
    for (uint32_t v = 0; v < view->n; v++) {
        grouped += per[v];
        groups += (per[v] + width - 1) / width;
    }
    // At most one unit, group and argument per job.
    const size_t per_job = sizeof(beat_job) + sizeof(beat__group) + sizeof(void *);
    if (count > (SIZE_MAX - sizeof(beat__batch)) / per_job)
        return NULL;
    size_t units = count - grouped + groups;
    size_t bytes = sizeof(beat__batch) + units * sizeof(beat_job) + groups * sizeof(beat__group) +
                   grouped * sizeof(void *);
    beat__batch *batch = beat__batch_alloc(pool, bytes);
    if (batch == NULL)
        return NULL;
    batch->jobs = (beat_job *)(void *)(batch + 1);
    batch->count = count;
    batch->units = units;
    if (grouped == 0) {
        memcpy(batch->jobs, jobs, count * sizeof(beat_job));
        return batch;
    }
    beat__group *group = (beat__group *)(void *)(batch->jobs + units);
    void **args = (void **)(void *)(group + groups);
    // Groups first (units [0, groups)), then the single jobs in order.
    size_t next[BEAT_BATCH_VARIANTS], start = 0, g = 0;
    for (uint32_t v = 0; v < view->n; v++) {
        next[v] = start;
        for (size_t off = 0; off < per[v]; off += width, g++) {
            group[g].batch = view->batch[v];
            group[g].args = args + start + off;
            group[g].count = per[v] - off < width ? per[v] - off : width;
            batch->jobs[g].fn = beat__group_run;
            batch->jobs[g].arg = &group[g];
        }
        start += per[v];
    }
    beat_job *single = batch->jobs + groups;
    for (size_t i = 0, end; i < count; i = end) {
        end = beat__run_end(jobs, i, count);
        int v = beat__variant_find(view, jobs[i].fn, &last_fn, &last);
        if (v < 0) { // a loop, not memcpy: runs are often a job or two
            for (size_t k = i; k < end; k++)
                *single++ = jobs[k];
            continue;
        }
        void **to = args + next[v];
        for (size_t k = i; k < end; k++)
            *to++ = jobs[k].arg;
        next[v] += end - i;
    }
    return batch;
}

BEAT__DEF beat_result beat_submit_batch(beat_pool *pool, const beat_job *jobs, size_t count)
{
    if (pool == NULL || (jobs == NULL && count != 0))
        return BEAT_ERROR_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; i++)
        if (jobs[i].fn == NULL)
            return BEAT_ERROR_INVALID_ARGUMENT;
    if (count == 0)
        return BEAT_OK;
    if (beat__forked(pool)) // fork detection (api.c): the workers do not exist here
        return BEAT_ERROR_FORKED;
    beat_ctx *self = beat__own_ctx(pool);
    if (self == NULL && !beat__atomic_load_u32(&pool->accepting, BEAT__MO_RELAXED))
        return beat__refuse_shutdown(pool, "beat_submit_batch"); // devmode.c
    beat__variant_view view;
    beat__variant_view_read(pool, &view);
    beat__batch *batch = beat__batch_form(pool, jobs, count, &view);
    if (batch == NULL)
        return BEAT_ERROR_OUT_OF_MEMORY;
    beat__task_init(&batch->task, beat__batch_run, batch, NULL, 0); // it counts its jobs itself
    // Relaxed: published by the push below, as in beat_submit.
    beat__atomic_fetch_add_u64(&pool->jobs, count, BEAT__MO_RELAXED);
    if (self != NULL && beat__push_local(self, &batch->task) == 0)
        return BEAT_OK;
    beat__inject_push(&pool->inject, &batch->task);
    beat__idle_notify(pool);
    return BEAT_OK;
}
