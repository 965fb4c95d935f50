// Development mode: misuse checks and their reports. On when pool->checks
// is set (BEAT_DEBUG, i.e. builds without NDEBUG; beat_config.checks; the
// DEVELOPMENT profile). Each check is a predictable branch on pool->checks
// outside beat_pcall's unstolen fast path, which has none.
//
// Rules, each reported through beat_config.logger as
//   "<function> [<rule>]: <what happened>; <the rule>. Fix: <what to do>. <what the call did>"
// the first time it is broken in a pool (so a loop breaking it does not
// flood the log), after which the call fails or goes on safely:
//   ctx-owner             a ctx used on a thread other than its owner's
//                         (beat_spawn, beat_wait, beat_parallel_for,
//                         beat_parallel_reduce): the call goes on with the
//                         thread's own ctx of the pool, or as from outside
//   self-wait             beat_wait on the counter the running task is
//                         counted on (it can never reach zero): returns
//   counter-reuse         a counted task finishing on a counter that has
//                         nothing pending (it was zeroed or reused while its
//                         tasks ran): the count is put back to zero
//   submit-after-destroy  an outside thread submitting once destroy began:
//                         BEAT_ERROR_SHUTDOWN
//   stuck-wait            a wait idle for beat_config.stuck_wait_ms while
//                         its count did not move: reported once per wait,
//                         with what it waits on, the queues and idle workers
// Waiting for the pool from one of its own tasks (rule wait-inside-pool,
// api.c) is reported every time, checks or not: the call is refused.
#include "stats.c"

#define BEAT__RULE_CTX_OWNER 1u
#define BEAT__RULE_SELF_WAIT 2u
#define BEAT__RULE_COUNTER_REUSE 4u
#define BEAT__RULE_SUBMIT_AFTER_DESTROY 8u

#define BEAT__REPORT_MAX 1024

// 1 the first time rule is broken in pool.
BEAT__PRIVATE int beat__rule_first(beat_pool *pool, uint32_t rule)
{
    // Relaxed: the bit only keeps reports to one per rule; nothing is published.
    return (beat__atomic_fetch_or_u32(&pool->reported, rule, BEAT__MO_RELAXED) & rule) == 0;
}

BEAT__PRIVATE void beat__report(const beat_pool *pool, beat_log_level level, const char *text)
{
    const beat_logger *logger = &pool->cfg.logger;
    if (logger->fn != NULL)
        logger->fn(level, text, logger->user);
}

// "worker 3" or "outside slot 1" (a beat_run caller).
BEAT__PRIVATE void beat__sink_ctx_name(beat__sink *o, const beat_ctx *ctx)
{
    const beat_pool *pool = ctx->pool;
    int outside = ctx->index >= pool->nworkers;
    beat__sink_put(o, outside ? "outside slot " : "worker ");
    beat__sink_u64(o, outside ? ctx->index - pool->nworkers : ctx->index);
}

// ---------------------------------------------------------------------------
// ctx-owner

// For functions taking a ctx, with checks on: 1 when *ctx may be used on
// this thread. A ctx of another thread is reported; then *ctx becomes the
// calling thread's own ctx in that pool (a worker, or a beat_run caller)
// and the result is 1, or, for a thread outside the pool, the result is 0
// and *ctx is left alone (the caller then goes on as from outside).
BEAT__PRIVATE int beat__ctx_owned(beat_ctx **ctx, const char *fn)
{
    if (beat__current == *ctx)
        return 1;
    beat_pool *pool = (*ctx)->pool;
    beat_ctx *own = beat__own_ctx(pool);
    if (beat__rule_first(pool, BEAT__RULE_CTX_OWNER)) {
        char text[BEAT__REPORT_MAX];
        beat__sink o;
        beat__sink_init(&o, text, sizeof text);
        beat__sink_put(&o, fn);
        beat__sink_put(&o, " [ctx-owner]: called with the ctx of ");
        beat__sink_ctx_name(&o, *ctx);
        beat__sink_put(&o, own != NULL ? " on another thread (a thread of the same pool)"
                                       : " on a thread outside the pool");
        beat__sink_put(&o, "; a beat_ctx belongs to the task it was passed to and may be used "
                           "only on that task's thread. Fix: use the ctx your own task "
                           "received; from outside the pool use beat_submit or beat_run. ");
        beat__sink_put(&o, own != NULL ? "The call went on with this thread's own ctx."
                                       : "The call went on as from outside the pool.");
        beat__report(pool, BEAT_LOG_ERROR, text);
    }
    if (own == NULL)
        return 0;
    *ctx = own;
    return 1;
}

// beat_spawn from a thread outside the pool: the task goes through the
// injection queue. Out of memory, it runs here through beat_run.
BEAT__PRIVATE void beat__spawn_outside(beat_pool *pool, beat_counter *c, beat_fn fn, void *arg)
{
    if (c != NULL) // Relaxed: published with the task by the queue's release.
        beat__atomic_fetch_add_u64(&c->beat__state, 1, BEAT__MO_RELAXED);
    beat__task *t = (beat__task *)beat_mempool_alloc(pool->tasks, NULL);
    if (t != NULL) {
        beat__task_init(t, fn, arg, c, BEAT__TASK_POOLED | BEAT__TASK_TIMED);
        beat__inject_push(&pool->inject, t);
        beat__idle_notify(pool);
        return;
    }
    (void)beat_run(pool, fn, arg);
    if (c != NULL)
        beat__count_done(pool, &c->beat__state);
}

// beat_parallel_for from a thread outside the pool: through beat_run.
BEAT__PRIVATE void beat__parallel_for_outside(beat_pool *pool, size_t begin, size_t end,
                                              size_t grain, beat_range_fn body, void *arg)
{
    beat_result r = beat_pool_parallel_for(pool, begin, end, grain, body, arg);
    if (r != BEAT_OK)
        beat__log(&pool->cfg.logger, BEAT_LOG_ERROR,
                  "beat_parallel_for [ctx-owner]: the loop could not run from outside the pool "
                  "(%s); it did not run. Fix: %s",
                  beat_result_string(r), beat_result_advice(r));
}

// ---------------------------------------------------------------------------
// self-wait

// beat_wait with checks on.
BEAT__PRIVATE void beat__wait_checked(beat_ctx *ctx, beat_counter *c)
{
    if (!beat__ctx_owned(&ctx, "beat_wait")) {
        beat__outside_wait(ctx->pool, &c->beat__state);
        return;
    }
    if (ctx->running != c) {
        beat__worker_wait(ctx, c, NULL);
        return;
    }
    if (beat__rule_first(ctx->pool, BEAT__RULE_SELF_WAIT))
        beat__report(ctx->pool, BEAT_LOG_ERROR,
                     "beat_wait [self-wait]: the running task was spawned on this very counter, "
                     "so the counter cannot reach zero while the task waits; a task must not "
                     "wait on the counter it is counted on. Fix: wait in the task that spawned "
                     "it, or give the task's own children a counter of their own. The wait "
                     "returned at once.");
}

// ---------------------------------------------------------------------------
// counter-reuse

// A counted task finished on word, whose count was below n (old is the
// value before the subtraction): the count wrapped. It is put back (add n:
// exactly undoes the subtraction) and the misuse reported.
BEAT__PRIVATE void beat__counter_underflow(beat_pool *pool, uint64_t *word, uint64_t n)
{
    // Relaxed: undoes our own relaxed-equivalent effect on the count.
    beat__atomic_fetch_add_u64(word, n, BEAT__MO_RELAXED);
    if (!beat__rule_first(pool, BEAT__RULE_COUNTER_REUSE))
        return;
    if (word == &pool->jobs)
        beat__report(pool, BEAT_LOG_ERROR,
                     "internal [counter-reuse]: the pool's count of unfinished jobs went below "
                     "zero; this is a bug in Beat. Fix: please report it with the program that "
                     "shows it.");
    else
        beat__report(pool, BEAT_LOG_ERROR,
                     "beat_counter [counter-reuse]: a task spawned on a counter finished when "
                     "the counter had no pending tasks, so the counter was zeroed or reused "
                     "while its tasks were still running; a counter may be reset or reused "
                     "only after beat_wait on it has returned. Fix: beat_wait on it before "
                     "reusing it, or use a fresh counter per round. The count was left at zero.");
}

// ---------------------------------------------------------------------------
// submit-after-destroy

// An outside thread submitted after beat_pool_destroy began: reports it
// (checks on) and returns BEAT_ERROR_SHUTDOWN.
BEAT__PRIVATE beat_result beat__refuse_shutdown(beat_pool *pool, const char *fn)
{
    if (!pool->checks || !beat__rule_first(pool, BEAT__RULE_SUBMIT_AFTER_DESTROY))
        return BEAT_ERROR_SHUTDOWN;
    char text[BEAT__REPORT_MAX];
    beat__sink o;
    beat__sink_init(&o, text, sizeof text);
    beat__sink_put(&o, fn);
    beat__sink_put(&o, " [submit-after-destroy]: called from outside the pool after "
                       "beat_pool_destroy began; once destroy has begun only the pool's own "
                       "tasks may add work. Fix: finish submitting (and join the threads that "
                       "submit) before calling beat_pool_destroy. Returned BEAT_ERROR_SHUTDOWN.");
    beat__report(pool, BEAT_LOG_ERROR, text);
    return BEAT_ERROR_SHUTDOWN;
}

// ---------------------------------------------------------------------------
// stuck-wait
//
// A wait watches itself only while it parks (the spin before is short): a
// watch is two words, the count last seen and when it last moved. It is
// stuck once it has been idle, with the count unchanged, for stuck_wait_ms
// (a worker's idle time comes from its time phase, so a wait that runs
// other tasks meanwhile is not idle). Parks are bounded by the time left,
// so the report comes on time although nothing wakes the waiter.

#define BEAT__STUCK_REPORTED UINT64_MAX

// Appends what the pool holds: queued tasks, unfinished jobs, idle workers.
BEAT__PRIVATE void beat__sink_pool_state(beat__sink *o, beat_pool *pool, uint64_t now)
{
    uint64_t queued = 0;
    for (unsigned i = 0; i < pool->nslots; i++) {
        int64_t size = beat__deque_size(&pool->workers[i].deque);
        queued += size > 0 ? (uint64_t)size : 0;
    }
    beat__sink_put(o, "; queued: ");
    beat__sink_u64(o, queued);
    beat__sink_put(o, " tasks in deques, injection queue ");
    beat__sink_put(o, beat__inject_maybe_nonempty(&pool->inject) ? "not empty" : "empty");
    beat__sink_put(o, ", ");
    // Acquire: as beat_counter_pending (a count, nothing read through it).
    // Outside submits still in the queue are not in it yet (submit_arena.c).
    beat__sink_u64(o, beat__atomic_load_u64(&pool->jobs, BEAT__MO_ACQUIRE) & BEAT__COUNT_MASK);
    beat__sink_put(o, " jobs unfinished besides those still queued; idle workers (spinning or "
                      "parked):");
    unsigned listed = 0, idle = 0;
    for (unsigned i = 0; i < pool->nworkers; i++) {
        uint64_t busy, idle_ns, phase;
        beat__time_read(&pool->workers[i], now, &busy, &idle_ns, &phase);
        if (phase != BEAT__PHASE_IDLE)
            continue;
        idle++;
        if (listed++ < 32) {
            beat__sink_put(o, " ");
            beat__sink_u64(o, i);
        } else if (listed == 33) {
            beat__sink_put(o, " ...");
        }
    }
    if (idle == 0)
        beat__sink_put(o, " none");
    beat__sink_put(o, " (");
    beat__sink_u64(o, idle);
    beat__sink_put(o, " of ");
    beat__sink_u64(o, pool->nworkers);
    beat__sink_put(o, ")");
}

// Reports a stuck wait. who: NULL for a thread outside the pool.
BEAT__PRIVATE void beat__stuck_report(beat_pool *pool, const beat_ctx *who, const char *what,
                                      const char *target, uint64_t pending, uint64_t waited_ns)
{
    char text[BEAT__REPORT_MAX];
    beat__sink o;
    beat__sink_init(&o, text, sizeof text);
    beat__sink_put(&o, what);
    beat__sink_put(&o, " [stuck-wait]: ");
    if (who != NULL)
        beat__sink_ctx_name(&o, who);
    else
        beat__sink_put(&o, "a thread outside the pool");
    beat__sink_put(&o, " has waited at least ");
    beat__sink_u64(&o, waited_ns / 1000000u);
    beat__sink_put(&o, " ms with nothing else to run while ");
    beat__sink_put(&o, target);
    beat__sink_put(&o, " stayed at ");
    beat__sink_u64(&o, pending);
    beat__sink_put(&o, " pending");
    beat__sink_pool_state(&o, pool, beat__now_ns());
    beat__sink_put(&o, ". A wait ends only when everything it counts has finished. Fix: look "
                       "for a counted task that waits for something that never comes, or a "
                       "count raised without a task; if the tasks are merely long, raise "
                       "beat_config.stuck_wait_ms (0 turns this report off).");
    beat__report(pool, BEAT_LOG_WARN, text);
}

// Updates watch for a wait about to park with pending left; since: when
// the waiter became idle (0 when unknown). Returns how long the park may
// last (0: untimed), or reports (once) and returns 0.
BEAT__PRIVATE uint64_t beat__stuck_watch(const beat_pool *pool, uint64_t *watch, uint64_t pending,
                                         uint64_t since, uint64_t now, int *report)
{
    *report = 0;
    if (watch[0] == BEAT__STUCK_REPORTED)
        return 0;
    if (watch[0] == 0 || watch[1] != pending) { // first park, or the count moved
        watch[0] = now;
        watch[1] = pending;
    }
    uint64_t start = since > watch[0] ? since : watch[0];
    if (now - start >= pool->stuck_ns) {
        watch[0] = BEAT__STUCK_REPORTED;
        *report = 1;
        return 0;
    }
    return start + pool->stuck_ns - now;
}

// A worker (or beat_run caller) parks in a wait on c, with stuck_wait_ms
// set: beat__idle_park, bounded by the time left before c counts as stuck.
// awaited: the stolen pcall branch being joined, or NULL.
BEAT__PRIVATE void beat__stuck_park(beat_ctx *ctx, beat_counter *c, const beat__task *awaited,
                                    uint64_t *watch)
{
    uint64_t now = beat__now_ns(), busy, idle, phase;
    beat__time_read(ctx, now, &busy, &idle, &phase);
    // Relaxed: the owner reads its own phase start.
    uint64_t since = phase == BEAT__PHASE_IDLE
                         ? beat__atomic_load_u64(&ctx->stats.phase_since, BEAT__MO_RELAXED)
                         : now;
    uint64_t pending = beat_counter_pending(c);
    int report;
    ctx->park_limit_ns = beat__stuck_watch(ctx->pool, watch, pending, since, now, &report);
    if (report)
        beat__stuck_report(ctx->pool, ctx, awaited != NULL ? "beat_pcall (join)" : "beat_wait",
                           awaited != NULL ? "the branch that another worker stole" : "the counter",
                           pending, ctx->pool->stuck_ns);
    beat__idle_park(ctx, c);
    ctx->park_limit_ns = 0;
}

// An outside thread sleeps in beat__outside_wait on word (epoch read),
// with stuck_wait_ms set: the futex wait, bounded likewise.
BEAT__PRIVATE void beat__stuck_sleep(beat_pool *pool, uint64_t *word, uint32_t epoch,
                                     uint64_t *watch)
{
    uint64_t now = beat__now_ns();
    // Acquire: as beat_counter_pending.
    uint64_t pending = beat__atomic_load_u64(word, BEAT__MO_ACQUIRE) & BEAT__COUNT_MASK;
    int report;
    uint64_t limit = beat__stuck_watch(pool, watch, pending, 0, now, &report);
    if (report) {
        int jobs = word == &pool->jobs;
        beat__stuck_report(pool, NULL, jobs ? "beat_pool_wait/beat_pool_destroy" : "beat_run",
                           jobs ? "the pool's unfinished jobs" : "the task handed to a worker",
                           pending, pool->stuck_ns);
    }
    if (limit != 0)
        beat__futex_wait_for(&pool->outside_epoch, epoch, limit);
    else
        beat__futex_wait(&pool->outside_epoch, epoch);
}
