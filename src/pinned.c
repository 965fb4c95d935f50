// ---------------------------------------------------------------------------
// Pinned jobs, main-thread jobs and priorities
//
// A job pinned to worker w goes to w's own queue (ctx->pinned), which only
// w consumes, first thing whenever it looks for work (its loop and its
// waits). Parked workers share one futex, so the submitter wakes all of
// them (the others park again), and a worker parked by memory pressure
// through throttle_epoch. Worker-pinned jobs count in pool->jobs.
//
// Main-thread jobs go to pool->main_jobs and are counted in main_pending,
// which is also the futex word beat_pump_wait sleeps on. They are not in
// pool->jobs: beat_pool_wait's caller is usually the thread that pumps. A
// pump holds pump_lock, borrows an outside context (as beat_run does), and
// runs as many jobs as main_pending held when it started, so jobs queued
// by those jobs wait for the next pump instead of keeping it going.

// beat_submit_pinned with a counter (may be NULL), incremented now and
// decremented once the job has run.
BEAT__PRIVATE beat_result beat__submit_pinned(beat_pool *pool, unsigned thread, beat_fn fn,
                                              void *arg, beat_counter *counter)
{
    if (pool == NULL || fn == NULL || (thread != BEAT_MAIN_THREAD && thread >= pool->nworkers))
        return BEAT_ERROR_INVALID_ARGUMENT;
    if (beat__forked(pool)) // fork detection: the workers do not exist here
        return BEAT_ERROR_FORKED;
    beat_ctx *self = beat__own_ctx(pool);
    if (self == NULL && !beat__atomic_load_u32(&pool->accepting, BEAT__MO_RELAXED))
        return beat__refuse_shutdown(pool, "beat_submit_pinned");
    beat__task *t = (beat__task *)beat_mempool_alloc(pool->tasks, self ? &self->task_cache : NULL);
    if (t == NULL)
        return BEAT_ERROR_OUT_OF_MEMORY;
    if (counter != NULL) {
        // Relaxed: the push below publishes (release) the increment with
        // the job, so its decrement is ordered after it.
        beat__atomic_fetch_add_u64(&counter->beat__state, 1, BEAT__MO_RELAXED);
    }
    if (thread == BEAT_MAIN_THREAD) {
        beat__task_init(t, fn, arg, counter, BEAT__TASK_POOLED | BEAT__TASK_TIMED);
        beat__inject_push(&pool->main_jobs, t);
        // Seq_cst, after the push: a pump that reads the count finds the
        // job linked; with the seq_cst increment of main_sleepers in
        // beat_pump_wait, either we see the sleeper or its futex sees the
        // new count.
        beat__atomic_fetch_add_u32(&pool->main_pending, 1, BEAT__MO_SEQ_CST);
        if (beat__atomic_load_u32(&pool->main_sleepers, BEAT__MO_SEQ_CST) != 0)
            beat__futex_wake(&pool->main_pending, BEAT__FUTEX_WAKE_ALL);
        return BEAT_OK;
    }
    beat__task_init(t, fn, arg, counter, BEAT__TASK_POOLED | BEAT__TASK_JOB | BEAT__TASK_TIMED);
    // Relaxed: the push below publishes the job, as in beat_submit.
    beat__atomic_fetch_add_u64(&pool->jobs, 1, BEAT__MO_RELAXED);
    beat__inject_push(&pool->workers[thread].pinned, t);
    // Pairs with the fence in beat__idle_park (after the sleeper count) and
    // in beat__throttle_park (after the epoch): the worker sees the job, or
    // we see it sleeping and wake it.
    beat__fence_seq_cst();
    if (beat__atomic_load_u32(&pool->idle_sleepers, BEAT__MO_RELAXED) != 0)
        beat__idle_wake_all(pool);
    // Relaxed: a stale limit only costs a spurious wake, or (limit just
    // lowered) the sampler's own bump wakes the worker's next park check.
    if (thread >= beat__atomic_load_u32(&pool->run_limit, BEAT__MO_RELAXED))
        beat__futex_bump_wake(&pool->throttle_epoch, BEAT__FUTEX_WAKE_ALL);
    return BEAT_OK;
}

BEAT__DEF beat_result beat_submit_pinned(beat_pool *pool, unsigned thread, beat_fn fn, void *arg)
{
    return beat__submit_pinned(pool, thread, fn, arg, NULL);
}

// The queue level of a priority: LOW is NORMAL with two levels, and with
// one every job is NORMAL.
BEAT__INLINE unsigned beat__priority_level(beat_priority priority)
{
#if BEAT_PRIORITIES == 2
    if (priority == BEAT_PRIORITY_LOW) // two levels: LOW is NORMAL
        priority = BEAT_PRIORITY_NORMAL;
#endif
    return (unsigned)priority;
}

BEAT__DEF beat_result beat_submit_priority(beat_pool *pool, beat_priority priority, beat_fn fn,
                                           void *arg)
{
    if ((unsigned)priority > BEAT_PRIORITY_LOW)
        return BEAT_ERROR_INVALID_ARGUMENT;
    return beat__submit(pool, fn, arg, 0, beat__priority_level(priority), NULL);
}

// ---------------------------------------------------------------------------
// Task descriptors: one submit with everything a job can have

BEAT__DEF beat_result beat_submit_task(beat_pool *pool, const beat_task_desc *task)
{
    if (pool == NULL || task == NULL || task->fn == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    unsigned flags = task->flags;
    unsigned prio = (flags & BEAT_TASK_HIGH)  ? BEAT_PRIORITY_HIGH
                    : (flags & BEAT_TASK_LOW) ? BEAT_PRIORITY_LOW
                                              : BEAT_PRIORITY_NORMAL;
    // One priority, and pinned jobs have none (nor are they held); the
    // pinned thread is checked by beat__submit_pinned.
    if ((flags & ~(unsigned)BEAT__TASK_FLAGS) != 0 ||
        (flags & (BEAT_TASK_HIGH | BEAT_TASK_LOW)) == (BEAT_TASK_HIGH | BEAT_TASK_LOW) ||
        ((flags & BEAT_TASK_PINNED) &&
         (flags & (BEAT_TASK_HIGH | BEAT_TASK_LOW | BEAT_TASK_DEFERRABLE))))
        return BEAT_ERROR_INVALID_ARGUMENT;
    if (task->name != NULL) {
        beat_result r = beat_name_fn(pool, task->fn, task->name);
        if (r != BEAT_OK)
            return r;
    }
    if (flags & BEAT_TASK_PINNED)
        return beat__submit_pinned(pool, task->thread, task->fn, task->arg, task->counter);
    return beat__submit(pool, task->fn, task->arg, (flags & BEAT_TASK_DEFERRABLE) != 0,
                        beat__priority_level((beat_priority)prio), task->counter);
}

BEAT__DEF beat_result beat_counter_wait(beat_pool *pool, beat_counter *c)
{
    if (pool == NULL || c == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    beat_ctx *self = beat__own_ctx(pool);
    if (self != NULL) { // a task of this pool: help while waiting
        beat_wait(self, c);
        return BEAT_OK;
    }
    if (beat__forked_report(pool, "beat_counter_wait"))
        return BEAT_ERROR_FORKED;
    beat__outside_drain(pool, &c->beat__state); // held deferrable jobs run meanwhile
    return BEAT_OK;
}

// What a pump runs on its borrowed context.
typedef struct beat__pump_state {
    uint32_t count; // jobs to run
    uint32_t ran;
} beat__pump_state;

BEAT__PRIVATE void beat__pump_body(beat_ctx *ctx, void *arg)
{
    beat__pump_state *s = (beat__pump_state *)arg;
    beat__inject *q = &ctx->pool->main_jobs;
    while (s->ran < s->count) {
        // A counted job is linked, but one queued before it may still be
        // between its producer's exchange and link (a few instructions).
        beat__task *t = beat__inject_pop_locked(q);
        if (t == NULL) {
            beat__cpu_relax();
            continue;
        }
        beat__task_run(ctx, t);
        s->ran++;
    }
}

BEAT__PRIVATE unsigned beat__main_jobs_run(beat_pool *pool)
{
    while (!beat__spin_trylock(&pool->pump_lock)) // one pump at a time
        beat__thread_yield();
    beat__pump_state s = {0, 0};
    // Acquire: pairs with the submitters' increments (after their pushes).
    s.count = beat__atomic_load_u32(&pool->main_pending, BEAT__MO_ACQUIRE);
    if (s.count != 0) {
        beat__inject *q = &pool->main_jobs;
        // The queue's consumer lock: the pump lock already excludes other
        // consumers; taken for the queue's contract.
        beat__atomic_store_u32(&q->lock, 1, BEAT__MO_RELAXED);
        beat_ctx *slot;
        while ((slot = beat__outside_claim(pool)) == NULL)
            beat__thread_yield(); // every outside context is in a beat_run
        beat__outside_run(slot, beat__pump_body, &s);
        beat__atomic_store_u32(&q->lock, 0, BEAT__MO_RELAXED);
        // Relaxed: only pumps (serialised by the lock) and submitters
        // (adding) touch the count.
        beat__atomic_fetch_sub_u32(&pool->main_pending, s.ran, BEAT__MO_RELAXED);
    }
    beat__spin_unlock(&pool->pump_lock);
    return s.ran;
}

// beat_pool_help's body on its borrowed context: the worker loop, ending
// when the pool's job count is zero.
BEAT__PRIVATE void beat__help_body(beat_ctx *ctx, void *arg)
{
    beat_pool *pool = ctx->pool;
    uint64_t spin_until = 0;
    (void)arg;
    // The state's last load orders the finished jobs' writes before our
    // caller's reads.
    while (beat__jobs_state(pool) != BEAT__JOBS_DONE) {
        if (beat__help_step(ctx, NULL, &spin_until))
            continue;
        beat__jobs_flush(ctx); // ours must count before we wait for the count
        beat__outside_wait(pool, &pool->jobs);
        break;
    }
}

BEAT__DEF beat_result beat_pool_help(beat_pool *pool)
{
    if (pool == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    if (beat__called_from_own_worker(pool, "beat_pool_help"))
        return BEAT_ERROR_DEADLOCK;
    if (beat__forked_report(pool, "beat_pool_help"))
        return BEAT_ERROR_FORKED;
    beat_ctx *slot = beat__outside_claim(pool);
    if (slot == NULL) { // every outside context is in use: wait without helping
        beat__pool_drain(pool);
        return BEAT_OK;
    }
    // As beat__pool_drain: held deferrable jobs are released while we wait.
    // Seq_cst: pairs with the fence in beat__submit (see there).
    beat__atomic_fetch_add_u32(&pool->draining, 1, BEAT__MO_SEQ_CST);
    beat__deferred_release(pool);
    beat__outside_run(slot, beat__help_body, NULL);
    beat__atomic_fetch_sub_u32(&pool->draining, 1, BEAT__MO_RELAXED);
    return BEAT_OK;
}

BEAT__DEF beat_result beat_pump(beat_pool *pool, unsigned *ran)
{
    if (ran != NULL)
        *ran = 0;
    if (pool == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    if (beat__called_from_own_worker(pool, "beat_pump"))
        return BEAT_ERROR_DEADLOCK;
    if (beat__forked_report(pool, "beat_pump"))
        return BEAT_ERROR_FORKED;
    unsigned n = beat__main_jobs_run(pool);
    if (ran != NULL)
        *ran = n;
    return BEAT_OK;
}

BEAT__DEF beat_result beat_pump_wait(beat_pool *pool, unsigned timeout_ms, unsigned *ran)
{
    if (ran != NULL)
        *ran = 0;
    if (pool == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    if (beat__called_from_own_worker(pool, "beat_pump_wait"))
        return BEAT_ERROR_DEADLOCK;
    if (beat__forked_report(pool, "beat_pump_wait"))
        return BEAT_ERROR_FORKED;
    uint64_t deadline = timeout_ms ? beat__now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
    // Acquire: as in beat__main_jobs_run.
    while (beat__atomic_load_u32(&pool->main_pending, BEAT__MO_ACQUIRE) == 0) {
        uint64_t now = deadline ? beat__now_ns() : 0;
        if (deadline && now >= deadline)
            return BEAT_OK;
        // Seq_cst: pairs with the submitter's increment, then its read of
        // the sleepers; the futex sleeps only while the count is still 0.
        beat__atomic_fetch_add_u32(&pool->main_sleepers, 1, BEAT__MO_SEQ_CST);
        if (deadline)
            beat__futex_wait_for(&pool->main_pending, 0, deadline - now);
        else
            beat__futex_wait(&pool->main_pending, 0);
        // Relaxed: a submitter that still counts us makes one spare wake.
        beat__atomic_fetch_sub_u32(&pool->main_sleepers, 1, BEAT__MO_RELAXED);
    }
    unsigned n = beat__main_jobs_run(pool);
    if (ran != NULL)
        *ran = n;
    return BEAT_OK;
}
