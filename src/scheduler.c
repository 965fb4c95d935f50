// Scheduler: task records, the injection queue for outside threads, parking
// and waking, stealing, the heartbeat, and the worker loop.
//
// A worker looks for work in this order: its own deque (LIFO), the
// injection queue (taking a batch onto its deque), then the other workers'
// deques from a random start. With nothing found it spins for spin_us, then
// parks on the pool's idle futex. Parking is an event count (Promela model:
// tests/model/park.pml):
//
//   parker:   sleepers += 1; e = epoch; fence;
//             if (no work visible && !waking) futex_wait(epoch, e);
//             sleepers -= 1; waking = 0; fence; then search again
//   notifier: publish work; fence;
//             if (sleepers > 0 && waking 0 -> 1) { epoch += 1; futex_wake(epoch, 1) }
//
// The fences make store-buffering pairs: either the notifier sees the
// sleeper, or the sleeper sees the work; either the notifier sees waking
// cleared, or the woken worker's search sees the work. Without the re-check
// a wake can be lost. The waking flag keeps a stream of pushes from making
// one futex_wake syscall each while the first woken worker is on its way.
//
// Liveness rests on one invariant: whenever a task is visible, some awake
// worker will find it or a wake is on its way. Pushes onto a worker's own
// deque need no wake for liveness (the owner is awake and will pop them),
// so they notify only when the deque was empty, for parallelism; a thief
// that steals and sees more work wakes the next sleeper (wake cascade, as
// in Lace). Outside threads (beat_run, beat_pool_wait) park on a second
// futex so that work notifications never wake them by mistake.
#include "deque.c"

// Task records (beat__task, declared with beat_pcall): spawned and submitted
// tasks live in pool->tasks; pcall frames and beat_run tasks live on the
// caller's stack.
#define BEAT__TASK_POOLED 1u // from pool->tasks: freed when it runs
#define BEAT__TASK_JOB 2u    // submitted: counted in pool->jobs
#define BEAT__TASK_TIMED 4u  // a job or spawned task: sampled for the predictor
#define BEAT__TASK_CHAIN 8u  // runs a chain of jobs (not counted as a task itself)
#define BEAT__TASK_FRAME 16u // a promoted pcall frame (traces name its run)
#define BEAT__TASK_ARENA 32u // from the submit arena: its counter field names its block
// A job not yet counted in pool->jobs: the worker that claims it from the
// injection queue counts it ("Counted on claim", submit_arena.c).
#define BEAT__TASK_UNCOUNTED 64u
// A chain of one ring's jobs (beat__chain_run_ring, which frees it):
// its counter field names their block, its flags the first and how many.
#define BEAT__TASK_RING 128u
#define BEAT__RING_FIRST_SHIFT 12
#define BEAT__RING_COUNT_SHIFT 22
#define BEAT__RING_FIELD 0x3ffu
// A job's priority + 1 in two bits (0: none, the task runs at the priority
// of whatever runs it).
#define BEAT__TASK_PRIO_SHIFT 8
#define BEAT__TASK_PRIO(p) (((uint32_t)(p) + 1u) << BEAT__TASK_PRIO_SHIFT)
// The priority + 1 of a task's flags (the bits above are a ring chain's).
#define BEAT__TASK_PRIO_OF(flags) (((flags) >> BEAT__TASK_PRIO_SHIFT) & 3u)
BEAT__STATIC_ASSERT(BEAT__RING_FIRST_SHIFT >= BEAT__TASK_PRIO_SHIFT + 2, prio_bits_below_ring);

// Fills every field of a record before it is published.
BEAT__PRIVATE void beat__task_init(beat__task *t, beat_fn fn, void *arg, beat_counter *counter,
                                   uint32_t flags)
{
    t->fn = fn;
    t->arg = arg;
    t->counter = counter;
    t->next = NULL;
    t->flags = flags;
    // Relaxed: the push that publishes the record is a release.
    beat__atomic_store_u32(&t->thief, 0, BEAT__MO_RELAXED);
}

// Counter words (beat_counter and pool->jobs): the pending count in the
// low 40 bits, then how many outside threads (12 bits) and how many workers
// (12 bits) wait on it and may park. The waiters ride in the same word as
// the count so that the thread that brings the count to zero learns of
// them from its own atomic RMW, without touching the counter afterwards
// (it may be gone by then). They are numbers, not flags, so that each
// waiter takes back only itself when it leaves: with one flag per kind, the
// first waiter to leave cleared it for all, and another one, parked, missed
// the count's zero and slept for good (several threads in beat_pool_wait
// while one submits; tests/test_pool.c). See beat__waiter_add.
#define BEAT__COUNT_MASK ((UINT64_C(1) << 40) - 1)
#define BEAT__WAITER_OUTSIDE (UINT64_C(1) << 40) // one outside waiter
#define BEAT__WAITER_WORKER (UINT64_C(1) << 52)  // one worker waiter
#define BEAT__WAITERS_OUTSIDE (UINT64_C(0xfff) << 40)
#define BEAT__WAITERS_WORKER (UINT64_C(0xfff) << 52)
#define BEAT__WAITERS (BEAT__WAITERS_OUTSIDE | BEAT__WAITERS_WORKER)

// The worker running on this thread, if any (misuse checks; the hot paths
// take ctx as an argument instead).
static BEAT__THREAD_LOCAL beat_ctx *beat__current;

#include "submit_arena.c" // records of outside submits

// Multi-producer queue of task records (Vyukov's intrusive MPSC queue);
// consumers take turns through a try-lock, so producers never wait. The
// NORMAL queue also consumes the submit arena's rings (submit_arena.c):
// jobs of the outside threads that own one, published without the exchange.
typedef struct beat__inject {
    beat__task *tail BEAT__ALIGNED(BEAT_CACHELINE); // producers exchange it
    beat__task *head BEAT__ALIGNED(BEAT_CACHELINE); // the lock holder advances it
    uint32_t lock;                                  // 1 while a worker consumes
    uint32_t claimed;         // lock holder: jobs taken uncounted (list or ring), not yet counted
    beat__submit_arena *ring; // the NORMAL queue's: the arena whose rings it consumes
    beat__task stub;
} beat__inject;

// Per-worker counters. The owner updates them with relaxed load + store (no
// RMW: it is the only writer); beat_pool_stats reads them relaxed.
typedef struct beat__worker_stats {
    uint64_t promotions, steals, failed_steals, parks, wakeups, tasks;
    uint64_t chunks; // loop chunks, which also count as polls (beat__polls_read)
    uint64_t timed, chained, throttles;
    uint64_t busy_ns, idle_ns;              // closed busy and idle phases (stats.c)
    uint64_t phase, phase_since, phase_seq; // the open phase, its start, a seqlock count
} beat__worker_stats;

// What a thief asking for work subtracts from head.polls_left: far more
// than any countdown (BEAT__POLL_MAX), so the count stays recoverable.
#define BEAT__POLL_ASK (INT64_C(1) << 40)

struct beat_ctx {
    beat__ctx_head head;               // first member: the inline beat_pcall reads it
    uint32_t wanted;                   // set by an idle worker asking us to promote (relaxed)
    uint64_t last_beat;                // ns of busy time at the last promotion by heartbeat
    uint64_t busy_since;               // ns when this worker last became busy
    uint64_t last_poll, poll_interval; // heartbeat check pacing
    // The poll count (pcalls and loop chunks) is polls_base, the polls up
    // to the last check, plus those since: polls_armed (the countdown then
    // stored in head.polls_left) less polls_left, without thieves' asks
    // (beat__polls_since). Owner stores at checks only, inside the
    // polls_seq seqlock, so that beat_pool_stats reads a consistent trio.
    uint64_t polls_base, polls_seq;
    int64_t polls_armed;
    uint64_t spin_window; // idle spin now (beat__spin_adapt)
    beat__deque deque;    // cache-line aligned
    beat_pool *pool;
    unsigned index;
    uint32_t claimed;                       // outside slots: 1 while an outside thread uses it
    uint64_t rng;                           // xorshift state for victim selection
    const unsigned *victims;                // pinned pools: other slots, nearest first; else NULL
    unsigned victim_end[BEAT__NEAR_LEVELS]; // end of each distance level in victims
    int cpu;                                // OS CPU this worker pins itself to, or -1
    int node;                               // its NUMA node when memory is placed, or -1
    beat_mempool_cache task_cache;          // this worker's free task records
    uint64_t jobs_done;                     // finished jobs not yet subtracted from pool->jobs
    beat__arena_tally arena_done;           // retired arena records not yet subtracted
    uint32_t pressure_countdown;            // tasks until the next look at the pressure clock
    beat_counter *running;                  // checks: counter of the innermost task running here
    uint64_t park_limit_ns;                 // a wait's parks end after this (stuck-wait), 0 = never
    beat__worker_stats stats;
    beat__thread thread;
    struct beat__trace_ring *trace; // trace.c: this slot's ring, NULL when not tracing
    uint32_t prio;                  // beat_priority of the job running here; LOW when none
    beat__inject pinned;            // workers: jobs only this worker runs (pinned.c)
    beat__task ring_spare;          // a ring job out of memory (beat__ring_take_spare)
};

#define BEAT__STAT_ADD(ctx, field, n)                                                              \
    beat__atomic_store_u64(&(ctx)->stats.field,                                                    \
                           beat__atomic_load_u64(&(ctx)->stats.field, BEAT__MO_RELAXED) + (n),     \
                           BEAT__MO_RELAXED)

// Allocations of finished batches a pool keeps (batch.c).
#define BEAT__BATCH_SPARES 4

// A registered batch variant (see batch.c): fn never changes once the entry
// is published, batch (a beat_batch_fn, NULL when removed) may.
typedef struct beat__variant {
    beat_fn fn;
    beat__code batch;
} beat__variant;

struct beat_pool {
    uint32_t idle_epoch BEAT__ALIGNED(BEAT_CACHELINE); // futex of parked workers
    uint32_t idle_sleepers;                            // workers between "sleepers += 1" and "-= 1"
    uint32_t idle_waking;   // 1 from a notifier's wake until a worker leaves the park
    uint32_t stopping;      // 1 once destroy has drained the jobs
    uint64_t idle_woken_at; // ns of the last wake of parked workers (relaxed)
    uint32_t outside_epoch BEAT__ALIGNED(BEAT_CACHELINE); // futex of parked outside threads
    uint64_t outside_spin_window; // outside waits' spin now (beat__spin_adapt; relaxed)
    uint64_t outside_woken_at;    // ns of the last wake of outside waiters (relaxed)
    uint64_t outside_parks;       // futex sleeps of outside waits (relaxed; tests read it)
    uint64_t jobs BEAT__ALIGNED(BEAT_CACHELINE); // submitted, unfinished jobs + waiters
    uint32_t accepting;                          // 0 once destroy has started
    beat__inject inject;
    beat_ctx *workers; // nworkers threads, then BEAT_OUTSIDE_SLOTS contexts for outside callers
    unsigned nworkers;
    unsigned nslots;  // nworkers + BEAT_OUTSIDE_SLOTS: every deque a thief may visit
    unsigned started; // threads running (joined by destroy)
    // beat__fork_generation() at create (see "Fork detection" in api.c).
    uint32_t fork_generation;
    beat_mempool *tasks;
    beat__submit_arena arena; // records of outside submits (submit_arena.c)
    beat__predictor *predict; // execution times; NULL with predict_off or BEAT_NO_PREDICT
    // Memory pressure (beat_config.memory_aware; see "Memory pressure" below).
    uint32_t pressure_level BEAT__ALIGNED(BEAT_CACHELINE); // beat_pressure_level, last sampled
    uint32_t run_limit;                  // workers with index >= run_limit park between jobs
    uint32_t throttle_epoch;             // futex of the workers parked by run_limit
    uint32_t pressure_sampling;          // 1 while a worker samples (try-lock)
    uint64_t pressure_next_ns;           // no sample before this time
    uint64_t deferred_held;              // deferrable jobs in the deferred queue
    uint32_t draining;                   // beat_pool_wait/destroy calls waiting: nothing is held
    uint64_t deferred_total;             // deferrable jobs ever held (stats)
    beat__inject deferred;               // deferrable jobs held while the level is HIGH or above
    beat_pressure_files *pressure_files; // where to read; NULL with pressure_source or no PSI
    beat_pressure_thresholds thresholds;
    uint64_t pressure_interval_ns;
    uint32_t pressure_every; // tasks between looks at the clock (1 when jobs are not timed)
    unsigned *placement;     // victim lists and worker PUs of a pinned pool (one allocation)
    size_t placement_bytes;
    uint64_t spin_ns;
    uint64_t heartbeat_ns;
    int checks;
    uint64_t stuck_ns; // checks and beat_config.stuck_wait_ms: a wait idle this long is reported
    uint32_t reported; // devmode.c: rules already reported (one report each)
    // Allocations of finished batches kept for the next ones (batch.c):
    // taken by an exchange, filled by a CAS from NULL.
    void *batch_spares[BEAT__BATCH_SPARES] BEAT__ALIGNED(BEAT_CACHELINE);
    // Batch variants (batch.c): entries below nvariants are published.
    uint32_t nvariants;
    uint32_t variants_lock; // 1 while beat_register_batch changes the table
    beat__variant variants[BEAT_BATCH_VARIANTS];
#if BEAT_PRIORITIES > 1
    beat__inject inject_high; // HIGH jobs (inject holds NORMAL, and LOW with 2 levels)
#endif
#if BEAT_PRIORITIES > 2
    beat__inject inject_low;
#endif
    // Main-thread jobs (pinned.c): queued, counted in main_pending (also
    // the futex of beat_pump_wait), run by one pump at a time.
    beat__inject main_jobs;
    uint32_t main_pending BEAT__ALIGNED(BEAT_CACHELINE);
    uint32_t main_sleepers; // threads in beat_pump_wait's futex wait
    uint32_t pump_lock;     // 1 while a pump runs
    // Names (names.c): entries below nnames are published.
    uint32_t nnames;
    uint32_t names_lock; // 1 while beat_name_fn changes the table
    struct {
        beat_fn fn;
        const char *name; // replaced atomically
    } names[BEAT_NAMES];
    struct beat__trace *trace; // trace.c: NULL when not tracing
    beat_config cfg;
};

// The calling thread's context if it works for pool (a worker, or an outside
// thread inside beat_run), else NULL.
BEAT__PRIVATE beat_ctx *beat__own_ctx(const beat_pool *pool)
{
    return beat__current != NULL && beat__current->pool == pool ? beat__current : NULL;
}

// The injection queue of a priority (see beat_submit_priority).
BEAT__INLINE beat__inject *beat__queue_of(beat_pool *pool, unsigned prio)
{
#if BEAT_PRIORITIES > 1
    if (prio == BEAT_PRIORITY_HIGH)
        return &pool->inject_high;
#endif
#if BEAT_PRIORITIES > 2
    if (prio == BEAT_PRIORITY_LOW)
        return &pool->inject_low;
#endif
    (void)prio;
    return &pool->inject;
}

// A job function's name (names.c), NULL when it has none.
BEAT__PRIVATE const char *beat__fn_name(const beat_pool *pool, beat_fn fn);

// Runs the main-thread jobs queued now on the calling thread (pinned.c);
// returns how many ran.
BEAT__PRIVATE unsigned beat__main_jobs_run(beat_pool *pool);

// Busy and idle time (stats.c) and development-mode checks (devmode.c).
BEAT__PRIVATE void beat__time_busy(beat_ctx *ctx);
BEAT__PRIVATE void beat__time_busy_at(beat_ctx *ctx, uint64_t now);
BEAT__PRIVATE void beat__time_idle(beat_ctx *ctx, uint64_t now);
BEAT__PRIVATE void beat__counter_underflow(beat_pool *pool, uint64_t *word, uint64_t n);
BEAT__PRIVATE size_t beat__batch_spares_trim(beat_pool *pool);
BEAT__PRIVATE void beat__stuck_park(beat_ctx *ctx, beat_counter *c, const beat__task *awaited,
                                    uint64_t *watch);
BEAT__PRIVATE void beat__stuck_sleep(beat_pool *pool, uint64_t *word, uint32_t epoch,
                                     uint64_t *watch);

// 1 in a child of fork() when pool was created before the fork (see "Fork
// detection" in api.c): its workers do not exist in this process.
BEAT__PRIVATE int beat__forked(const beat_pool *pool)
{
    return beat__fork_generation() != pool->fork_generation;
}

#include "trace.c" // the trace recorder: reads the structures above, hooked below

// ---------------------------------------------------------------------------
// Parking and waking

BEAT__PRIVATE void beat__futex_bump_wake(uint32_t *epoch, int count)
{
    // Seq_cst: a parker that reads the new epoch must see what the waker
    // did before (the work, the zero count, the stop flag).
    beat__atomic_fetch_add_u32(epoch, 1, BEAT__MO_SEQ_CST);
    beat__futex_wake(epoch, count);
}

// Records when parked threads were woken: the woken compute from it how
// long a spin would have had to last to see the wake (beat__spin_adapt).
// Relaxed: a stale or mixed-up stamp only misjudges one window.
BEAT__PRIVATE void beat__wake_stamp(uint64_t *at)
{
    beat__atomic_store_u64(at, beat__now_ns(), BEAT__MO_RELAXED);
}

// The wake of a notifier that saw a sleeper and no wake on its way: the
// one whose CAS sets the waking flag wakes one parked worker.
BEAT__PRIVATE void beat__idle_wake_one(beat_pool *pool)
{
    uint32_t idle = 0;
    // Relaxed: the flag only limits wakes; the caller's fence (or seq_cst
    // exchange and loads) orders the rest.
    if (beat__atomic_cas_u32(&pool->idle_waking, &idle, 1, BEAT__MO_RELAXED, BEAT__MO_RELAXED)) {
        beat__wake_stamp(&pool->idle_woken_at);
        beat__futex_bump_wake(&pool->idle_epoch, 1);
    }
}

// Wakes one parked worker if there is one. Call after publishing work.
BEAT__PRIVATE void beat__idle_notify(beat_pool *pool)
{
    // Pairs with the fences in beat__idle_park (store-buffering pairs).
    beat__fence_seq_cst();
    if (beat__atomic_load_u32(&pool->idle_sleepers, BEAT__MO_RELAXED) == 0 ||
        beat__atomic_load_u32(&pool->idle_waking, BEAT__MO_RELAXED) != 0)
        return;
    beat__idle_wake_one(pool);
}

// beat__idle_notify for a producer whose publication was beat__inject_push
// into one of the pool's injection queues (beat__inject_pushed_to lists
// them): that push's seq_cst exchange of the tail stands in for the fence,
// which saves a locked instruction per beat_submit from outside the pool
// (40 -> 32 ns per submit, 1M submits to a pool whose one worker is held).
// The pairs, all in the single order S of seq_cst operations and fences:
//   producer: exchange(tail, t) ; load(idle_sleepers) ; load(idle_waking)
//   parker:   idle_sleepers += 1 ; fence ; load(tail) (beat__idle_park)
//   leaver:   idle_waking = 0 ; fence ; search (end of beat__idle_park)
// If the exchange precedes the parker's fence in S, the parker's tail load
// sees t (or a later push, or the consumer's stub after t was taken) and
// it does not sleep. Otherwise its increment precedes our seq_cst load,
// which reads it (or the decrement of a parker already gone, whose next
// park, seq_cst again, falls under the same two cases). Likewise with the
// leaver's fence: we read its clear of the waking flag, or our exchange
// precedes that fence and its next park's tail load sees t. Hence loads
// that are seq_cst, not relaxed (on x86 the same plain loads).
BEAT__PRIVATE void beat__idle_notify_pushed(beat_pool *pool)
{
    if (beat__atomic_load_u32(&pool->idle_sleepers, BEAT__MO_SEQ_CST) == 0 ||
        beat__atomic_load_u32(&pool->idle_waking, BEAT__MO_SEQ_CST) != 0)
        return;
    beat__idle_wake_one(pool);
}

// beat__idle_notify for a ring's owner after beat__arena_publish. With
// membarrier the parkers fence for both sides ("Waking", submit_arena.c), so
// a compiler barrier keeps our loads after the publish: a parker's
// membarrier either makes the count visible to its search or comes before
// these loads, which then read its sleeper count (or the clear of the
// waking flag of a leaver, whose next park is such a parker). Without it
// the fence of beat__idle_notify.
BEAT__PRIVATE void beat__idle_notify_published(beat_pool *pool)
{
    if (!beat__atomic_load_u32(&pool->arena.asym, BEAT__MO_RELAXED)) {
        beat__idle_notify(pool);
        return;
    }
    beat__compiler_barrier();
    if (beat__atomic_load_u32(&pool->idle_sleepers, BEAT__MO_RELAXED) == 0 ||
        beat__atomic_load_u32(&pool->idle_waking, BEAT__MO_RELAXED) != 0)
        return;
    beat__idle_wake_one(pool);
}

BEAT__PRIVATE void beat__idle_wake_all(beat_pool *pool)
{
    beat__wake_stamp(&pool->idle_woken_at);
    beat__futex_bump_wake(&pool->idle_epoch, BEAT__FUTEX_WAKE_ALL);
}

// Empty only when head is the stub and nothing follows it: a head that is a
// real task is itself unconsumed, even when it is also the tail. Reads the
// consumer's head and the stub's link, never the tail: idle workers call
// this in their spin, and reading the tail's cache line there made every
// producer's exchange wait for it (perf: 77 % of beat_submit's time on the
// exchange with a spinning worker). The link is what a producer stores
// last, before its fence in beat__idle_notify, so the parkers' pairing
// holds as it did with the tail. A producer between its exchange and its
// link is not seen yet; it notifies after linking.
BEAT__PRIVATE int beat__inject_maybe_nonempty(beat__inject *q)
{
    // Acquire: a non-empty answer is followed by a pop that reads the nodes.
    void *head = beat__atomic_load_ptr((void **)&q->head, BEAT__MO_ACQUIRE);
    return head != (void *)&q->stub ||
           beat__atomic_load_ptr((void **)&q->stub.next, BEAT__MO_ACQUIRE) != NULL ||
           (q->ring != NULL && beat__arena_ring_maybe_nonempty(q->ring));
}

// Park recheck only: 1 when a push into q may not be visible to
// beat__inject_maybe_nonempty yet (its exchange is, its link not). The tail
// is the stub only when q is empty or its consumer is re-linking the stub
// behind the last task (then head is that task, which the head check sees).
// Read once per park, never in a spin (see above). Acquire: the tail first,
// then the head checks see what a consumer that re-linked the stub had done.
BEAT__PRIVATE int beat__inject_tail_moved(beat__inject *q)
{
    return beat__atomic_load_ptr((void **)&q->tail, BEAT__MO_ACQUIRE) != (void *)&q->stub;
}

// 1 when test(q) holds for one of the pool's injection queues (NORMAL, and
// HIGH and LOW where BEAT_PRIORITIES has them).
BEAT__PRIVATE int beat__inject_any(beat_pool *pool, int (*test)(beat__inject *q))
{
    if (test(&pool->inject))
        return 1;
#if BEAT_PRIORITIES > 1
    if (test(&pool->inject_high))
        return 1;
#endif
#if BEAT_PRIORITIES > 2
    if (test(&pool->inject_low))
        return 1;
#endif
    return 0;
}

// beat__inject_tail_moved over the pool's injection queues, the ones whose
// producers may notify with beat__idle_notify_pushed.
BEAT__PRIVATE int beat__inject_pushed_to(beat_pool *pool)
{
    return beat__inject_any(pool, beat__inject_tail_moved);
}

BEAT__PRIVATE int beat__work_visible(beat_pool *pool)
{
    if (beat__inject_any(pool, beat__inject_maybe_nonempty))
        return 1;
    for (unsigned i = 0; i < pool->nslots; i++)
        if (beat__deque_size(&pool->workers[i].deque) > 0)
            return 1;
    return 0;
}

// One round of a spin that ends at spin_until and lasted spin_ns in all:
// the first BEAT__SPIN_PAUSE_NS pause, the rest yields the CPU. Linux
// often puts the thread a spinner has just woken on the spinner's own CPU
// (measured on a 2-vCPU KVM guest: the woken worker waited out the whole
// spin of beat_pool_wait, 20 us wake latency with spin_us 10, 61 us with
// 50); a yield lets it run now. Both cost the same CPU time.
#define BEAT__SPIN_PAUSE_NS 500u

BEAT__PRIVATE void beat__spin_round(uint64_t now, uint64_t spin_until, uint64_t spin_ns)
{
    if (now + spin_ns < spin_until + BEAT__SPIN_PAUSE_NS)
        beat__cpu_relax();
    else
        beat__thread_yield();
}

// Adaptive spin windows, after KVM's halt polling. A park costs more than
// its futex calls: on a 2-vCPU KVM guest a thread woken onto an idle vCPU
// starts 50-100 us after the wake when the waker had been busy (6 us when
// it had slept; measured with a bare futex pair), so a submit-and-wait
// loop of 100 us jobs lost half its time to parks with a 10 us spin. Each
// waiter (a worker, or the outside waits of a pool) spins for its own
// window, which starts at spin_ns. A wait that parks learns from the
// waker's time stamp how long a spin would have had to last to see the
// wake (needed): up to a bound the window grows to twice that (a margin
// for the next wait, at most the bound), past it the window halves (down to
// spin_ns). Waits that come every millisecond or so, as an idle pool's,
// keep the window at spin_ns.
//
// The bound is BEAT__SPIN_GROW_MAX x spin_ns for workers: a pool going idle
// spins at most that once per thread (200 us with the default 10 us)
// before it sleeps. Outside waits (beat_pool_wait, a beat_run handed to a
// worker) go to BEAT__SPIN_GROW_MAX_OUTSIDE x spin_ns (1 ms): their thread
// is blocked on the pool's work anyway, and a call of a few hundred
// microseconds (tree-sum of 64K nodes, 240 us on one worker) lost a 50-100
// us wake on each return with the workers' bound. The window only reaches
// a wait's length after such waits ended within the bound, so the spin
// costs at most about the wait itself, and never more CPU when idle.
#define BEAT__SPIN_GROW_MAX 20u
#define BEAT__SPIN_GROW_MAX_OUTSIDE 100u

// The next window of a waiter whose window is `window` and whose last wait
// would have needed a spin of `needed`; grow_max: the bound in spin_ns.
BEAT__PRIVATE uint64_t beat__spin_adapt(uint64_t window, uint64_t spin_ns, uint64_t grow_max,
                                        uint64_t needed)
{
    uint64_t max = spin_ns * grow_max;
    if (needed > max)
        return window / 2 > spin_ns ? window / 2 : spin_ns;
    uint64_t want = 2 * needed < max ? 2 * needed : max;
    return want > window ? want : window;
}

// How long a wait that began at start and was woken by now would have had
// to spin: up to the waker's stamp, or up to now when the stamp is from
// before the wait (another wake, or a timeout).
BEAT__PRIVATE uint64_t beat__spin_needed(uint64_t start, uint64_t now, const uint64_t *stamp)
{
    uint64_t at = beat__atomic_load_u64(stamp, BEAT__MO_RELAXED);
    return at >= start && at <= now ? at - start : now - start;
}

BEAT__PRIVATE void beat__idle_sleep(beat_ctx *ctx, uint32_t epoch)
{
    beat_pool *pool = ctx->pool;
    BEAT__STAT_ADD(ctx, parks, 1);
    uint64_t limit = ctx->park_limit_ns; // a wait watching for stuck-wait (devmode.c), or 0
    // Relaxed: a stale count only makes one sleep timed or untimed.
    if (ctx->index == 0 && pool->cfg.memory_aware &&
        beat__atomic_load_u64(&pool->deferred_held, BEAT__MO_RELAXED) != 0 &&
        (limit == 0 || limit > pool->pressure_interval_ns))
        limit = pool->pressure_interval_ns;
    uint64_t start = beat__now_ns();
    if (limit != 0)
        beat__futex_wait_for(&pool->idle_epoch, epoch, limit);
    else
        beat__futex_wait(&pool->idle_epoch, epoch);
    if (beat__atomic_load_u32(&ctx->pool->idle_epoch, BEAT__MO_RELAXED) != epoch)
        BEAT__STAT_ADD(ctx, wakeups, 1);
    // The idle stretch began a window's spin before this park.
    uint64_t spun_from = start - ctx->spin_window;
    ctx->spin_window =
        beat__spin_adapt(ctx->spin_window, pool->spin_ns, BEAT__SPIN_GROW_MAX,
                         beat__spin_needed(spun_from, beat__now_ns(), &pool->idle_woken_at));
}

// Parks the calling worker until something may have changed. waiting: the
// counter a beat_wait is waiting for (counted as its waiter already), or NULL
// in the main loop. Returns 1 when the worker should exit (main loop only:
// the pool is stopping and no work is visible).
BEAT__PRIVATE int beat__idle_park(beat_ctx *ctx, const beat_counter *waiting)
{
    beat_pool *pool = ctx->pool;
    beat__atomic_fetch_add_u32(&pool->idle_sleepers, 1, BEAT__MO_SEQ_CST);
    uint32_t epoch = beat__atomic_load_u32(&pool->idle_epoch, BEAT__MO_SEQ_CST);
    // Pairs with the fence in beat__idle_notify: our sleeper count is seen,
    // or we see the work below. The ring's publishers have no fence; for
    // them we take both sides' (beat__arena_ring_parker_fence).
    beat__fence_seq_cst();
    beat__arena_ring_parker_fence(&pool->arena);
    int exit = 0;
    // A set waking flag may stand for a wake that reached nobody (issued
    // while the sleepers were between this check and the futex): leave, so
    // the flag is cleared below and no one sleeps while it mutes notifiers
    // (found by the Promela model).
    // Jobs pinned to us count too (their submitter wakes every sleeper).
    if (beat__inject_pushed_to(pool) || beat__work_visible(pool) ||
        beat__inject_maybe_nonempty(&ctx->pinned) ||
        beat__atomic_load_u32(&pool->idle_waking, BEAT__MO_RELAXED)) {
    } else if (waiting != NULL) {
        // Acquire: pairs with the decrement that made the count zero.
        uint64_t state = beat__atomic_load_u64(&waiting->beat__state, BEAT__MO_ACQUIRE);
        if ((state & BEAT__COUNT_MASK) != 0)
            beat__idle_sleep(ctx, epoch);
    } else if (beat__atomic_load_u32(&pool->stopping, BEAT__MO_ACQUIRE)) {
        exit = 1;
    } else {
        beat__idle_sleep(ctx, epoch);
    }
    // Relaxed: a notifier that still sees us only makes a spurious wake.
    beat__atomic_fetch_sub_u32(&pool->idle_sleepers, 1, BEAT__MO_RELAXED);
    // Whoever leaves the park clears waking (maybe another's: that only
    // allows an extra wake), then the fence pairs with the notifier's, so
    // the search that follows sees work published while waking was set.
    if (beat__atomic_load_u32(&pool->idle_waking, BEAT__MO_RELAXED) != 0)
        beat__atomic_store_u32(&pool->idle_waking, 0, BEAT__MO_RELAXED);
    beat__fence_seq_cst();
    return exit;
}

// Adds one waiter (one: BEAT__WAITER_OUTSIDE or BEAT__WAITER_WORKER, field:
// that kind's bits) to a counter word before the waiter may park, and
// returns the word as it was. The waiter takes itself back (subtracts one)
// when it leaves. *added is 0 when the field is full (4,095 waiters of the
// kind on one word): that waiter is not counted, so it must not park
// without a timeout.
BEAT__PRIVATE uint64_t beat__waiter_add(uint64_t *word, uint64_t one, uint64_t field, int *added)
{
    uint64_t old = beat__atomic_load_u64(word, BEAT__MO_RELAXED);
    // Seq_cst RMW: the decrementer's RMW on the same word either comes
    // after it (and sees the waiter) or before it (and we see zero).
    while ((old & field) != field)
        if (beat__atomic_cas_u64(word, &old, old + one, BEAT__MO_SEQ_CST, BEAT__MO_RELAXED)) {
            *added = 1;
            return old;
        }
    *added = 0;
    return beat__atomic_load_u64(word, BEAT__MO_SEQ_CST);
}

// Subtracts n from a counter word; the caller must not touch the counter
// after this (a waiter may free it as soon as it sees zero).
BEAT__PRIVATE void beat__count_done_n(beat_pool *pool, uint64_t *word, uint64_t n)
{
    // Release: the task's writes happen before the waiter's acquire load
    // that sees the decrement. The waiters are read from this same RMW.
    uint64_t old = beat__atomic_fetch_sub_u64(word, n, BEAT__MO_ACQ_REL);
    if (BEAT__UNLIKELY((old & BEAT__COUNT_MASK) < n) && pool->checks)
        beat__counter_underflow(pool, word, n); // a counter reused while pending
    if ((old & BEAT__COUNT_MASK) != n)
        return;
    if (old & BEAT__WAITERS_WORKER)
        beat__idle_wake_all(pool);
    if (old & BEAT__WAITERS_OUTSIDE) {
        beat__wake_stamp(&pool->outside_woken_at);
        beat__futex_bump_wake(&pool->outside_epoch, BEAT__FUTEX_WAKE_ALL);
    }
}

BEAT__PRIVATE void beat__count_done(beat_pool *pool, uint64_t *word)
{
    beat__count_done_n(pool, word, 1);
}

// Finished jobs are subtracted from pool->jobs in batches: one shared RMW
// per batch instead of one per job. A worker flushes every
// BEAT__JOBS_BATCH jobs, whenever its own deque runs dry (before it looks
// elsewhere), and before it parks, so beat_pool_wait sees every finished
// job once that worker is done with its own deque. Its tally of retired
// arena records goes back with them: when a wait returns, every block
// whose records have all run is recycled.
#define BEAT__JOBS_BATCH 64u

BEAT__PRIVATE void beat__jobs_flush(beat_ctx *ctx)
{
    beat__arena_flush(&ctx->pool->arena, &ctx->arena_done);
    if (ctx->jobs_done == 0)
        return;
    uint64_t n = ctx->jobs_done;
    ctx->jobs_done = 0;
    beat__count_done_n(ctx->pool, &ctx->pool->jobs, n);
}

// What a wait for the pool's jobs sees ("Counted on claim" in
// submit_arena.c): the NORMAL injection queue, then its lock, then the
// count, read in that order, so that a job being claimed shows in one of
// them. CLAIMING (the lock held, the queue empty, nothing counted) is
// never parked on: the claim's end need not change the count.
enum { BEAT__JOBS_DONE, BEAT__JOBS_PENDING, BEAT__JOBS_CLAIMING };

BEAT__PRIVATE int beat__jobs_state(beat_pool *pool)
{
    if (beat__inject_maybe_nonempty(&pool->inject))
        return BEAT__JOBS_PENDING;
    // Acquire: pairs with the claimer's unlock, which follows its count.
    int claiming = beat__atomic_load_u32(&pool->inject.lock, BEAT__MO_ACQUIRE) != 0;
    // Seq_cst: a parking waiter's re-check (see beat__outside_wait); acquire
    // on the final read orders the jobs' results before our return.
    if ((beat__atomic_load_u64(&pool->jobs, BEAT__MO_SEQ_CST) & BEAT__COUNT_MASK) != 0)
        return BEAT__JOBS_PENDING;
    return claiming ? BEAT__JOBS_CLAIMING : BEAT__JOBS_DONE;
}

// Whether the count of word is done: zero, and for the pool's jobs nothing
// waiting to be counted either (beat__jobs_state).
BEAT__PRIVATE int beat__word_state(beat_pool *pool, uint64_t *word)
{
    if (word == &pool->jobs)
        return beat__jobs_state(pool);
    // Seq_cst: as in beat__jobs_state.
    return (beat__atomic_load_u64(word, BEAT__MO_SEQ_CST) & BEAT__COUNT_MASK) != 0
               ? BEAT__JOBS_PENDING
               : BEAT__JOBS_DONE;
}

// An outside waiter left uncounted (beat__waiter_add) parks this long at a
// time, then looks again.
#define BEAT__UNCOUNTED_PARK_NS 1000000u

// An outside thread waits until the count of word is done (beat__word_state):
// a short spin, then the outside futex. Memory ordering: acquire on return.
BEAT__PRIVATE void beat__outside_wait(beat_pool *pool, uint64_t *word)
{
    // Relaxed: outside waits share one window, and a lost update only
    // costs one wait the window of another.
    uint64_t window = beat__atomic_load_u64(&pool->outside_spin_window, BEAT__MO_RELAXED);
    uint64_t start = beat__now_ns(), spin_until = start + window;
    int parked = 0, counted = 0;
    uint64_t watch[2] = {0, 0}; // stuck-wait (devmode.c)
    for (;;) {
        int state = beat__word_state(pool, word);
        if (state == BEAT__JOBS_DONE)
            break;
        uint64_t now = beat__now_ns();
        if (now < spin_until) {
            beat__spin_round(now, spin_until, window);
            continue;
        }
        if (state == BEAT__JOBS_CLAIMING) { // a claim is a few instructions
            beat__thread_yield();
            continue;
        }
        // Seq_cst RMW, once counted: whoever brings the count to zero after
        // it sees us and bumps the epoch. A waiter left uncounted (the field
        // is full) tries again each time round and parks with a timeout.
        if (!counted)
            (void)beat__waiter_add(word, BEAT__WAITER_OUTSIDE, BEAT__WAITERS_OUTSIDE, &counted);
        uint32_t epoch = beat__atomic_load_u32(&pool->outside_epoch, BEAT__MO_SEQ_CST);
        // Re-check after counting ourselves and reading the epoch: a
        // decrement to zero in between bumped the epoch before our read, so
        // the futex would not wake us. Jobs still in the queue are counted
        // by their claim and bring the count to zero again when they end.
        state = beat__word_state(pool, word);
        if (state == BEAT__JOBS_DONE)
            break;
        if (state == BEAT__JOBS_CLAIMING)
            continue;
        beat__atomic_fetch_add_u64(&pool->outside_parks, 1, BEAT__MO_RELAXED);
        if (BEAT__UNLIKELY(pool->stuck_ns != 0))
            beat__stuck_sleep(pool, word, epoch, watch);
        else if (!counted) // not counted (field full): no one wakes us
            beat__futex_wait_for(&pool->outside_epoch, epoch, BEAT__UNCOUNTED_PARK_NS);
        else
            beat__futex_wait(&pool->outside_epoch, epoch);
        parked = 1;
    }
    // Take ourselves back. Relaxed: the count only steers wakes, and the
    // seq_cst load above already ordered the results.
    if (counted)
        beat__atomic_fetch_sub_u64(word, BEAT__WAITER_OUTSIDE, BEAT__MO_RELAXED);
    if (parked) {
        uint64_t needed = beat__spin_needed(start, beat__now_ns(), &pool->outside_woken_at);
        beat__atomic_store_u64(
            &pool->outside_spin_window,
            beat__spin_adapt(window, pool->spin_ns, BEAT__SPIN_GROW_MAX_OUTSIDE, needed),
            BEAT__MO_RELAXED);
    }
}

// ---------------------------------------------------------------------------
// Injection queue

BEAT__PRIVATE void beat__inject_init(beat__inject *q)
{
    q->stub.next = NULL;
    q->head = &q->stub;
    q->tail = &q->stub;
    q->lock = 0;
    q->claimed = 0;
    q->ring = NULL;
}

// Any thread. Never blocks.
BEAT__PRIVATE void beat__inject_push(beat__inject *q, beat__task *t)
{
    beat__atomic_store_ptr((void **)&t->next, NULL, BEAT__MO_RELAXED);
    // Release hands t's fields to the consumer; acquire orders our link
    // store below after the previous producer's initialisation of prev.
    // Seq_cst, more than acq_rel: beat__idle_notify_pushed pairs parkers
    // with this exchange instead of a fence (on x86 the same instruction).
    beat__task *prev =
        (beat__task *)beat__atomic_exchange_ptr((void **)&q->tail, t, BEAT__MO_SEQ_CST);
    // Release: the consumer's acquire load of prev->next sees t's fields.
    beat__atomic_store_ptr((void **)&prev->next, t, BEAT__MO_RELEASE);
}

// Lock holder only: the list's oldest task, or NULL when empty or when a
// producer is between its exchange and its link (the queue then looks
// non-empty, and that producer is awake and finishes in a few instructions).
BEAT__PRIVATE beat__task *beat__inject_list_pop_locked(beat__inject *q)
{
    beat__task *head = q->head;
    // Acquire: pairs with the producer's release store of the link.
    beat__task *next = (beat__task *)beat__atomic_load_ptr((void **)&head->next, BEAT__MO_ACQUIRE);
    if (head == &q->stub) {
        if (next == NULL)
            return NULL;
        // Relaxed: readers of head only compare it with tail.
        beat__atomic_store_ptr((void **)&q->head, next, BEAT__MO_RELAXED);
        head = next;
        next = (beat__task *)beat__atomic_load_ptr((void **)&head->next, BEAT__MO_ACQUIRE);
    }
    if (next == NULL) {
        if (beat__atomic_load_ptr((void **)&q->tail, BEAT__MO_ACQUIRE) != head)
            return NULL; // a producer is linking behind head
        beat__inject_push(q, &q->stub);
        next = (beat__task *)beat__atomic_load_ptr((void **)&head->next, BEAT__MO_ACQUIRE);
        if (next == NULL)
            return NULL;
    }
    // Release: a waiter that sees the queue without head reads the lock
    // after it and so sees it held, or released after the claim's count
    // (beat__jobs_state).
    beat__atomic_store_ptr((void **)&q->head, next, BEAT__MO_RELEASE);
    return head;
}

// Lock holder only: 1 when the list holds no task. A producer between its
// exchange and its link counts as none yet (as in the pop above).
BEAT__INLINE int beat__inject_list_empty_locked(beat__inject *q)
{
    // Relaxed: a hint; the pop that takes a task reads the link again
    // with acquire.
    return q->head == &q->stub &&
           beat__atomic_load_ptr((void **)&q->stub.next, BEAT__MO_RELAXED) == NULL;
}

// Lock holder only: the list's oldest task, or NULL
// (beat__inject_list_pop_locked). The ring's jobs are taken in chains
// (beat__chain_take_ring).
BEAT__PRIVATE beat__task *beat__inject_pop_locked(beat__inject *q)
{
    beat__task *t = beat__inject_list_pop_locked(q);
    if (t != NULL && (t->flags & BEAT__TASK_UNCOUNTED)) { // ours now: count it before unlocking
        t->flags &= ~BEAT__TASK_UNCOUNTED;
        q->claimed++;
    }
    return t;
}

// Lock holder, before unlocking: counts the uncounted jobs it popped, and
// subtracts ctx's finished jobs (beat__jobs_flush) in the same RMW. The
// jobs just claimed keep the count above zero, so the RMW wakes no one;
// flushing apart, the count touched zero between two takes and woke a
// parked beat_pool_wait for nothing every time (1M single submits on one
// worker: 86 % efficiency without counting on claim, 78 % with it, 85 %
// with the two RMWs made one).
BEAT__PRIVATE void beat__inject_count_claimed(beat_ctx *ctx, beat__inject *q)
{
    uint64_t claimed = q->claimed, done = ctx->jobs_done;
    if (claimed == 0)
        return;
    q->claimed = 0;
    ctx->jobs_done = 0;
    // Release: our finished jobs' writes, as in beat__count_done_n (a
    // later RMW to zero continues the release sequence). The unlock that
    // follows publishes the count to waiters (beat__jobs_state), and the
    // claimed jobs become runnable only after it, so each one's decrement,
    // on this thread or a thief's, comes after it.
    if (claimed >= done)
        beat__atomic_fetch_add_u64(&ctx->pool->jobs, claimed - done, BEAT__MO_RELEASE);
    else
        beat__atomic_fetch_sub_u64(&ctx->pool->jobs, done - claimed, BEAT__MO_RELEASE);
}

// ---------------------------------------------------------------------------
// Memory pressure (beat_config.memory_aware)
//
// Sampling rides on work the workers do anyway: a worker that has just
// read the clock (a timed job, a heartbeat check, becoming busy, waking
// from a park) and finds pressure_next_ns passed takes the sampling
// try-lock, reads the level and acts on a change. An idle pool reads
// nothing, except that while deferrable jobs are held, worker 0 parks
// with a timeout of one interval so that a falling level is noticed.
//
// Acting on a level: run_limit (all workers below HIGH, pressure_workers at
// HIGH, 1 at CRITICAL) makes the workers with index >= run_limit park
// between jobs on throttle_epoch; at HIGH and above free task records are
// trimmed; below HIGH the deferred queue is moved to the injection queue.
// Liveness: worker 0 is never throttled, and a throttled worker parks only
// at the top of its loop (no frame open, no wait pending), so everything
// queued (its deque included) stays stealable by the running ones, whose
// idle parks see it as visible work.

BEAT__PRIVATE beat_pressure_level beat__pressure_read(beat_pool *pool)
{
    const beat_config *cfg = &pool->cfg;
    if (cfg->pressure_source != NULL)
        return cfg->pressure_source(cfg->user);
    if (pool->pressure_files == NULL)
        return BEAT_PRESSURE_NONE;
    beat_psi psi;
    beat_memory_headroom headroom;
    int have_psi =
        beat_psi_read_at(cfg->sysfs_root, pool->pressure_files->pressure, &psi, NULL, 0) == BEAT_OK;
    int have_room =
        beat_memory_headroom_read(cfg->sysfs_root, pool->pressure_files, &headroom) == BEAT_OK;
    return beat_pressure_level_of(have_psi ? &psi : NULL, have_room ? &headroom : NULL,
                                  &pool->thresholds);
}

// Workers allowed to take jobs at a level.
BEAT__PRIVATE uint32_t beat__pressure_run_limit(const beat_pool *pool, beat_pressure_level level)
{
    if (level >= BEAT_PRESSURE_CRITICAL)
        return 1;
    if (level >= BEAT_PRESSURE_HIGH) {
        unsigned n =
            pool->cfg.pressure_workers != 0 ? pool->cfg.pressure_workers : pool->nworkers / 2;
        return n == 0 ? 1 : n > pool->nworkers ? pool->nworkers : n;
    }
    return pool->nworkers;
}

// Moves every held deferrable job to the injection queue. Any thread. When
// another thread holds the deferred queue's lock, waits for it while jobs
// remain (so a job pushed just before the holder finished is not left).
BEAT__PRIVATE void beat__deferred_release(beat_pool *pool)
{
    beat__inject *q = &pool->deferred;
    while (beat__inject_maybe_nonempty(q)) {
        if (!beat__spin_trylock(&q->lock)) {
            beat__cpu_relax();
            continue;
        }
        uint64_t moved = 0;
        for (beat__task *t; (t = beat__inject_pop_locked(q)) != NULL; moved++)
            beat__inject_push(&pool->inject, t);
        beat__spin_unlock(&q->lock);
        if (moved != 0) {
            // Relaxed: a count for the timed park and stats only.
            beat__atomic_fetch_sub_u64(&pool->deferred_held, moved, BEAT__MO_RELAXED);
            beat__idle_notify(pool);
        }
    }
}

BEAT__PRIVATE void beat__pressure_sample(beat_ctx *ctx)
{
    beat_pool *pool = ctx->pool;
    beat_pressure_level raw = beat__pressure_read(pool);
    // Hysteresis: a level rises at once but falls only to a reading two
    // levels lower (or to NONE). Usage near a threshold would otherwise
    // flip HIGH and MEDIUM every sample and wake every throttled worker
    // each time (seen in bench/pressure_bench.c with larger tasks).
    // Relaxed: only the sampler (holding the try-lock) stores the level.
    uint32_t now = beat__atomic_load_u32(&pool->pressure_level, BEAT__MO_RELAXED);
    beat_pressure_level level =
        (uint32_t)raw > now || (uint32_t)raw + 2 <= now || raw == BEAT_PRESSURE_NONE
            ? raw
            : (beat_pressure_level)now;
    // Seq_cst: pairs with the fence in beat_submit_deferrable (a job held
    // after this store is released by its submitter, before it by us).
    uint32_t old =
        beat__atomic_exchange_u32(&pool->pressure_level, (uint32_t)level, BEAT__MO_SEQ_CST);
    BEAT__TRACE_PRESSURE(ctx, level);
    if (old == (uint32_t)level)
        return;
    uint32_t limit = beat__pressure_run_limit(pool, level);
    // Relaxed: workers read it between jobs; a raise is announced by the
    // seq_cst epoch bump below, which a throttled worker re-checks against.
    uint32_t old_limit = beat__atomic_exchange_u32(&pool->run_limit, limit, BEAT__MO_SEQ_CST);
    if (limit > old_limit)
        beat__futex_bump_wake(&pool->throttle_epoch, BEAT__FUTEX_WAKE_ALL);
    if (level >= BEAT_PRESSURE_HIGH) {
        beat_mempool_cache_flush(pool->tasks, &ctx->task_cache);
        beat_mempool_trim(pool->tasks);
        beat__arena_flush(&pool->arena, &ctx->arena_done);
        beat__arena_trim(&pool->arena, &pool->cfg.allocator);
        beat__batch_spares_trim(pool);
    } else {
        beat__deferred_release(pool);
    }
    if (pool->cfg.on_pressure != NULL)
        pool->cfg.on_pressure(level, pool->cfg.user);
}

// Samples the level if an interval has passed since the last sample. now:
// a recent beat__now_ns().
BEAT__PRIVATE void beat__pressure_tick(beat_ctx *ctx, uint64_t now)
{
    beat_pool *pool = ctx->pool;
    // Relaxed: a stale time only delays or repeats a sample by a little.
    if (!pool->cfg.memory_aware ||
        now < beat__atomic_load_u64(&pool->pressure_next_ns, BEAT__MO_RELAXED))
        return;
    uint32_t idle = 0;
    // Acquire/release: the sampler's state (levels, limit) passes from one
    // holder to the next.
    if (!beat__atomic_cas_u32(&pool->pressure_sampling, &idle, 1, BEAT__MO_ACQUIRE,
                              BEAT__MO_RELAXED))
        return;
    beat__atomic_store_u64(&pool->pressure_next_ns, now + pool->pressure_interval_ns,
                           BEAT__MO_RELAXED);
    beat__pressure_sample(ctx);
    beat__atomic_store_u32(&pool->pressure_sampling, 0, BEAT__MO_RELEASE);
}

// 1 when worker ctx should park instead of taking a job: its index is at or above
// the run limit (never worker 0) and the pool is not stopping.
BEAT__PRIVATE int beat__throttled(const beat_ctx *ctx)
{
    beat_pool *pool = ctx->pool;
    // Relaxed: re-checked under the epoch protocol before sleeping.
    return ctx->index >= beat__atomic_load_u32(&pool->run_limit, BEAT__MO_RELAXED) &&
           !beat__atomic_load_u32(&pool->stopping, BEAT__MO_RELAXED);
}

// Parks a throttled worker until the run limit rises or the pool stops. Its
// finished jobs and free records are handed back first.
BEAT__PRIVATE void beat__throttle_park(beat_ctx *ctx)
{
    beat_pool *pool = ctx->pool;
    beat__jobs_flush(ctx);
    beat_mempool_cache_flush(pool->tasks, &ctx->task_cache);
    BEAT__STAT_ADD(ctx, throttles, 1);
    beat__time_idle(ctx, beat__now_ns());
    // Pass the wake on: a notifier may have woken us (we were a sleeper of
    // the idle park) for work that we now leave, while a worker that may
    // run it sleeps on. Without this the pool hung (TSan run of
    // test_adapt.c): worker 0 asleep, 8 jobs queued, worker 1 throttled.
    beat__idle_notify(pool);
    for (;;) {
        // Seq_cst: the epoch is read before the limit, and the sampler
        // stores the limit before bumping the epoch: either we see the new
        // limit, or the futex sees the new epoch and does not sleep.
        uint32_t epoch = beat__atomic_load_u32(&pool->throttle_epoch, BEAT__MO_SEQ_CST);
        // Jobs pinned to us run whatever the level: only we can run them.
        // The fence pairs with the submitter's (push, fence, bump): we see
        // its job, or it bumps the epoch after our read.
        beat__fence_seq_cst();
        if (ctx->index < beat__atomic_load_u32(&pool->run_limit, BEAT__MO_SEQ_CST) ||
            beat__atomic_load_u32(&pool->stopping, BEAT__MO_SEQ_CST) ||
            beat__inject_maybe_nonempty(&ctx->pinned))
            return;
        beat__futex_wait(&pool->throttle_epoch, epoch);
    }
}

// ---------------------------------------------------------------------------
// Finding work

#define BEAT__INJECT_BATCH 16

// Pushes onto ctx's own deque and wakes a sleeper when the deque was empty.
// Returns 0, or -1 when the deque could not grow.
BEAT__PRIVATE int beat__push_local(beat_ctx *ctx, beat__task *t)
{
    BEAT__TRACE_PUSH(ctx, t, 1);
    int64_t before = beat__deque_push_owner(&ctx->deque, t);
    if (before < 0)
        return -1;
    if (before == 0)
        beat__idle_notify(ctx->pool);
    return 0;
}

// Chains: jobs whose function the predictor estimates under
// BEAT__CHAIN_TINY_NS are taken from the injection queue in chains of about
// BEAT__CHAIN_WORK_NS of work (at most BEAT__CHAIN_MAX jobs), linked through
// their next fields behind one pooled record. The chain is one deque entry:
// one push, one pop or one steal for up to 64 jobs, where a thief taking
// 170 ns jobs one by one spends about as long stealing as running.
#ifndef BEAT__CHAIN_TINY_NS // internal; bench/ sets it to 0 to time sampling without chains
#define BEAT__CHAIN_TINY_NS 2000.0
#endif
#define BEAT__CHAIN_WORK_NS 8000.0
#define BEAT__CHAIN_MAX 64u
// A ring chain's first job and count ride in its record's flags.
BEAT__STATIC_ASSERT(BEAT__ARENA_RING_JOBS <= BEAT__RING_FIELD &&
                        BEAT__CHAIN_MAX <= BEAT__RING_FIELD,
                    ring_chain_fields_fit);

BEAT__PRIVATE void beat__task_run(beat_ctx *ctx, beat__task *t);

BEAT__PRIVATE void beat__chain_run(beat_ctx *ctx, void *arg)
{
    for (beat__task *t = (beat__task *)arg; t != NULL;) {
        beat__task *next = t->next; // read first: running t frees it
        beat__task_run(ctx, t);
        t = next;
    }
}

// How many jobs of fn to chain: 0 when its estimate on this worker is
// missing or not under BEAT__CHAIN_TINY_NS.
BEAT__PRIVATE unsigned beat__chain_length(const beat_ctx *ctx, beat_fn fn)
{
    double ns = 0;
    if (!beat__predictor_estimate_worker(ctx->pool->predict, ctx->index, BEAT__PREDICT_KEY(fn),
                                         &ns) ||
        !(ns < BEAT__CHAIN_TINY_NS))
        return 0;
    double n = BEAT__CHAIN_WORK_NS / (ns > 1 ? ns : 1);
    return n >= BEAT__CHAIN_MAX ? BEAT__CHAIN_MAX : n < 2 ? 2u : (unsigned)n;
}

BEAT__INLINE void beat__task_call(beat_ctx *ctx, beat_fn fn, void *arg, uint32_t flags);

// How a ring job runs: as a job on an arena record would (its timing, its
// trace event).
#define BEAT__RING_JOB_FLAGS (BEAT__TASK_ARENA | BEAT__TASK_JOB | BEAT__TASK_TIMED)

// Runs a chain of the ring's jobs (a BEAT__TASK_RING record, arg), which
// are consecutive in one block, and frees its record. The jobs run as
// beat__task_run would run them one by one (the chain's own run has made
// ctx busy with no counter running); what is the same for all of them is
// done once: the priority, and the retiring and the job count, after the
// last.
BEAT__PRIVATE void beat__chain_run_ring(beat_ctx *ctx, void *arg)
{
    beat__task *chain = (beat__task *)arg;
    beat__arena_block *block = (beat__arena_block *)(void *)chain->counter;
    uint32_t flags = chain->flags;
    uint32_t n = (flags >> BEAT__RING_COUNT_SHIFT) & BEAT__RING_FIELD;
    const beat__ring_job *job =
        beat__arena_ring_job(block, (flags >> BEAT__RING_FIRST_SHIFT) & BEAT__RING_FIELD);
    const beat__ring_job *end = job + n;
    beat_mempool_free(ctx->pool->tasks, &ctx->task_cache, chain);
#if BEAT_PRIORITIES > 1
    uint32_t outer_prio = ctx->prio;
    // Relaxed: thieves read it as a hint (see beat__steal_from).
    beat__atomic_store_u32(&ctx->prio, BEAT_PRIORITY_NORMAL, BEAT__MO_RELAXED);
#endif
    for (; job != end; job++)
        beat__task_call(ctx, job->fn, job->arg, BEAT__RING_JOB_FLAGS);
#if BEAT_PRIORITIES > 1
    beat__atomic_store_u32(&ctx->prio, outer_prio, BEAT__MO_RELAXED);
#endif
    BEAT__STAT_ADD(ctx, tasks, n);
    // Retired after the last: until then the block's pending count holds
    // them all, so none of the jobs is reused while we read it.
    beat__arena_retire_n(&ctx->pool->arena, &ctx->arena_done, block, n);
    if ((ctx->jobs_done += n) >= BEAT__JOBS_BATCH)
        beat__jobs_flush(ctx);
}

// Lock holder of a queue with a ring: up to max of the ring's jobs as one
// chain (beat__chain_run_ring), taken in one step without reading them;
// they are counted as claimed here, and each is read just before it runs.
// chained: they count in the chained statistic (tiny jobs). Returns the
// chain, or NULL when the ring is empty or no chain record can be had.
BEAT__PRIVATE beat__task *beat__chain_take_ring(beat_ctx *ctx, beat__inject *q, unsigned max,
                                                int chained)
{
    beat__task *chain = (beat__task *)beat_mempool_alloc(ctx->pool->tasks, &ctx->task_cache);
    if (chain == NULL)
        return NULL;
    uint32_t n;
    beat__arena_block *block;
    beat__ring_job *first = beat__arena_ring_take(q->ring, max, &n, &block);
    if (first == NULL) {
        beat_mempool_free(ctx->pool->tasks, &ctx->task_cache, chain);
        return NULL;
    }
    q->claimed += n; // every ring job is a job not yet counted
    uint32_t index = (uint32_t)(first - beat__arena_ring_job(block, 0));
    beat__task_init(chain, beat__chain_run_ring, chain, (beat_counter *)(void *)block,
                    BEAT__TASK_CHAIN | BEAT__TASK_RING | index << BEAT__RING_FIRST_SHIFT |
                        n << BEAT__RING_COUNT_SHIFT);
    if (chained)
        BEAT__STAT_ADD(ctx, chained, n);
    return chain;
}

// Lock holder of a queue with a ring, when no chain record can be had (out
// of memory): the ring's next job in ctx's spare record, to be run at once
// by ctx (it is never pushed), or NULL. Out of memory the ring still
// drains, one job a take.
BEAT__PRIVATE beat__task *beat__ring_take_spare(beat_ctx *ctx, beat__inject *q)
{
    uint32_t n;
    beat__arena_block *block;
    beat__ring_job *job = beat__arena_ring_take(q->ring, 1, &n, &block);
    if (job == NULL)
        return NULL;
    q->claimed++;
    beat__task_init(&ctx->ring_spare, job->fn, job->arg, (beat_counter *)(void *)block,
                    BEAT__RING_JOB_FLAGS |
                        (BEAT_PRIORITIES > 1 ? BEAT__TASK_PRIO(BEAT_PRIORITY_NORMAL) : 0));
    return &ctx->ring_spare;
}

// Lock holder: pops up to max jobs into a chain behind a pooled record.
// Returns the record, or NULL (nothing popped, or no record: then *single
// is the one task popped, to be pushed as it is).
BEAT__PRIVATE beat__task *beat__chain_take(beat_ctx *ctx, beat__inject *q, unsigned max,
                                           beat__task **single)
{
    if (q->ring != NULL && beat__inject_list_empty_locked(q)) {
        *single = NULL;
        return beat__chain_take_ring(ctx, q, max, 1);
    }
    *single = beat__inject_pop_locked(q);
    if (*single == NULL || !(((*single)->flags & BEAT__TASK_JOB)))
        return NULL;
    beat__task *chain = (beat__task *)beat_mempool_alloc(ctx->pool->tasks, &ctx->task_cache);
    if (chain == NULL)
        return NULL;
    beat__task *first = *single, *last = first;
    unsigned n = 1;
    for (; n < max; n++) {
        beat__task *t = beat__inject_pop_locked(q);
        if (t == NULL)
            break;
        last->next = t;
        last = t;
        if (!(t->flags & BEAT__TASK_JOB))
            break; // a batch or a handed-over beat_run ends the chain (it still runs in it)
    }
    last->next = NULL;
    beat__task_init(chain, beat__chain_run, first, NULL, BEAT__TASK_POOLED | BEAT__TASK_CHAIN);
    BEAT__STAT_ADD(ctx, chained, n);
    *single = NULL;
    return chain;
}

// How beat__inject_take_from takes from a queue.
enum {
    // Also move up to BEAT__INJECT_BATCH more tasks onto our deque, where
    // other workers can steal them: one lock for many jobs. Not for HIGH
    // jobs: on our deque they would wait behind our own work while other
    // workers, finding the HIGH queue empty, took less important jobs.
    BEAT__TAKE_SPREAD = 1,
    // While another consumer holds the queue's lock, wait for it, instead
    // of turning to less important work: the queue may still hold a task,
    // or the holder may be moving the ones it took onto its deque (which
    // it does before it lets go; a failed take then sees them there).
    BEAT__TAKE_WAIT = 2
};

// Takes the oldest injected task (a chain of them when they are tiny, see
// above), and with BEAT__TAKE_SPREAD moves more onto ctx's deque.
BEAT__PRIVATE beat__task *beat__inject_take_from(beat_ctx *ctx, beat__inject *q, unsigned how)
{
    // The queue's one consumer at a time.
    for (;;) {
        int nonempty = beat__inject_maybe_nonempty(q);
        if (nonempty && beat__spin_trylock(&q->lock))
            break;
        // Acquire load of the lock: a free lock read after a holder's
        // unlock shows what it pushed to its deque.
        if (!(how & BEAT__TAKE_WAIT) ||
            (!nonempty && beat__atomic_load_u32(&q->lock, BEAT__MO_ACQUIRE) == 0))
            return NULL;
        beat__cpu_relax();
    }
    beat__task *first = beat__inject_pop_locked(q);
    unsigned chain = 0;
    if (first != NULL) {
        if (first->flags & BEAT__TASK_JOB)
            chain = beat__chain_length(ctx, first->fn);
    } else if (q->ring != NULL) {
        const beat__ring_job *next = beat__arena_ring_peek(q->ring);
        if (next != NULL) {
            chain = beat__chain_length(ctx, next->fn);
            first = beat__chain_take_ring(ctx, q, chain != 0 ? chain : 1, chain != 0);
            if (first == NULL)
                first = beat__ring_take_spare(ctx, q);
        }
    }
    beat__task *taken[BEAT__INJECT_BATCH];
    unsigned n = 0;
    while (first != NULL && (how & BEAT__TAKE_SPREAD) && n < BEAT__INJECT_BATCH) {
        beat__task *t = NULL;
        if (chain != 0) {
            beat__task *chained = beat__chain_take(ctx, q, chain, &t);
            if (chained != NULL)
                t = chained;
        } else {
            t = beat__inject_pop_locked(q);
            if (t == NULL && q->ring != NULL)
                t = beat__chain_take_ring(ctx, q, 1, 0);
        }
        if (t == NULL)
            break;
        taken[n++] = t;
    }
    // Counted before any of them can run: a thief may take one from our
    // deque as soon as it is pushed, and its end subtracts.
    beat__inject_count_claimed(ctx, q);
    // Pushed before the unlock: a worker that waits for the lock
    // (BEAT__TAKE_WAIT) and then finds the queue empty finds the jobs on
    // our deque, instead of neither and turning to less important work.
    unsigned moved = 0;
    for (; moved < n; moved++) {
        BEAT__TRACE_PUSH(ctx, taken[moved], 0);
        if (beat__deque_push_owner(&ctx->deque, taken[moved]) < 0) {
            // Out of memory: the rest back into the queue (a chain as one
            // task), counted now.
            for (unsigned i = moved; i < n; i++)
                beat__inject_push(q, taken[i]);
            break;
        }
    }
    beat__spin_unlock(&q->lock);
    // Jobs on our deque, or (not spreading) jobs left in the queue: wake
    // a sleeper for them, as a submit would have if we had not been awake.
    if (moved != 0 ||
        (!(how & BEAT__TAKE_SPREAD) && first != NULL && beat__inject_maybe_nonempty(q)))
        beat__idle_notify(ctx->pool);
    return first;
}

// A HIGH or NORMAL job from the injection queues, HIGH first; a worker
// running a HIGH job (a wait helping) takes no NORMAL one. LOW jobs come
// after stealing (beat__find_work), so a worker that would take them
// (running none, or a LOW one) waits out another worker's take from the
// NORMAL queue, which moves its jobs onto that worker's deque before it
// lets go: it then finds them there instead of turning to LOW jobs.
BEAT__PRIVATE beat__task *beat__inject_take(beat_ctx *ctx)
{
#if BEAT_PRIORITIES > 1
    beat__task *t = beat__inject_take_from(ctx, &ctx->pool->inject_high, BEAT__TAKE_WAIT);
    if (t != NULL || ctx->prio == BEAT_PRIORITY_HIGH)
        return t;
#endif
#if BEAT_PRIORITIES > 2
    if (ctx->prio == BEAT_PRIORITY_LOW)
        return beat__inject_take_from(ctx, &ctx->pool->inject, BEAT__TAKE_SPREAD | BEAT__TAKE_WAIT);
#endif
    return beat__inject_take_from(ctx, &ctx->pool->inject, BEAT__TAKE_SPREAD);
}

// The oldest job pinned to this worker, or NULL. Only the owner consumes
// its queue, so the try-lock always succeeds; it is kept for the queue's
// contract.
BEAT__INLINE beat__task *beat__pinned_take(beat_ctx *ctx)
{
    beat__inject *q = &ctx->pinned;
    if (!beat__inject_maybe_nonempty(q))
        return NULL;
    if (!beat__spin_trylock(&q->lock))
        return NULL;
    beat__task *t = beat__inject_pop_locked(q);
    beat__spin_unlock(&q->lock);
    return t;
}

BEAT__PRIVATE uint32_t beat__rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return (uint32_t)(x >> 32);
}

// Steals from one victim, retrying a few lost races. On success the task
// records who stole it (a joiner waiting for it steals back from us first),
// and a victim with more work left wakes the next sleeper (wake cascade).
BEAT__PRIVATE beat__task *beat__steal_from(beat_ctx *ctx, beat_ctx *victim)
{
#if BEAT_PRIORITIES > 1
    // A job's wait helps only with work of its priority or higher: the
    // victim's deque holds what its current job made. Relaxed: a hint; a
    // stale value steals or skips one round early or late.
    if (beat__atomic_load_u32(&victim->prio, BEAT__MO_RELAXED) > ctx->prio)
        return NULL;
#endif
    for (int attempt = 0; attempt < 4; attempt++) {
        void *item = NULL;
        beat__steal_result r = beat__deque_steal(&victim->deque, &item);
        if (r == BEAT__STEAL_EMPTY)
            return NULL;
        if (r == BEAT__STEAL_OK) {
            beat__task *t = (beat__task *)item;
            // Relaxed: a hint for the joiner, read while it helps.
            beat__atomic_store_u32(&t->thief, ctx->index + 1, BEAT__MO_RELAXED);
            BEAT__STAT_ADD(ctx, steals, 1);
            BEAT__TRACE_STEAL(ctx, t, victim);
            if (beat__deque_size(&victim->deque) > 0)
                beat__idle_notify(ctx->pool);
            return t;
        }
        beat__cpu_relax();
    }
    return NULL;
}

// Asks victim to promote a frame at its next pcall: subtracting
// BEAT__POLL_ASK makes its countdown negative, so its next poll checks and
// finds wanted set. The flag keeps further asks from piling up. Relaxed
// flag, release RMW: pairs with the acquire load in beat__heartbeat, so
// the check that sees the ask sees the flag. An ask lost to the owner's
// own store of polls_left is answered by its next regular check, which
// still finds the flag (at most one poll interval, about heartbeat/8).
BEAT__PRIVATE void beat__ask_for_work(beat_ctx *victim)
{
    if (beat__atomic_load_u32(&victim->wanted, BEAT__MO_RELAXED))
        return;
    beat__atomic_store_u32(&victim->wanted, 1, BEAT__MO_RELAXED);
    beat__atomic_fetch_sub_i64(&victim->head.polls_left, BEAT__POLL_ASK, BEAT__MO_RELEASE);
}

// Tries every other slot once, from a random start. Failing, it asks the
// first one to promote work (hungry thieves make the pool ramp up fast).
BEAT__PRIVATE beat__task *beat__steal_random(beat_ctx *ctx)
{
    beat_pool *pool = ctx->pool;
    unsigned n = pool->nslots;
    unsigned start = beat__rng_next(&ctx->rng) % n;
    for (unsigned i = 0; i < n; i++) {
        beat_ctx *victim = &pool->workers[(start + i) % n];
        if (victim == ctx)
            continue;
        beat__task *t = beat__steal_from(ctx, victim);
        if (t != NULL)
            return t;
    }
    BEAT__STAT_ADD(ctx, failed_steals, 1);
    beat_ctx *first = &pool->workers[start];
    beat__ask_for_work(first != ctx ? first : &pool->workers[(start + 1) % n]);
    return NULL;
}

// The same over ctx->victims, level by level (SMT sibling, shared L2,
// shared L3, same node, the rest), from a random start within each level.
// Failing, it asks the nearest victim it tried first.
BEAT__PRIVATE beat__task *beat__steal_nearest(beat_ctx *ctx)
{
    beat_pool *pool = ctx->pool;
    beat_ctx *asked = NULL;
    for (unsigned level = 0, from = 0; level < BEAT__NEAR_LEVELS; level++) {
        unsigned n = ctx->victim_end[level] - from;
        unsigned start = n > 1 ? beat__rng_next(&ctx->rng) % n : 0;
        for (unsigned i = 0; i < n; i++) {
            beat_ctx *victim = &pool->workers[ctx->victims[from + (start + i) % n]];
            beat__task *t = beat__steal_from(ctx, victim);
            if (t != NULL)
                return t;
            if (asked == NULL)
                asked = victim;
        }
        from = ctx->victim_end[level];
    }
    BEAT__STAT_ADD(ctx, failed_steals, 1);
    if (asked != NULL)
        beat__ask_for_work(asked);
    return NULL;
}

BEAT__PRIVATE beat__task *beat__steal_any(beat_ctx *ctx)
{
    return ctx->victims != NULL ? beat__steal_nearest(ctx) : beat__steal_random(ctx);
}

// Own deque, then the preferred victim (the thief of a frame we join),
// then the injection queue, then everyone.
BEAT__PRIVATE beat__task *beat__find_work(beat_ctx *ctx, beat_ctx *prefer)
{
    beat__task *t = beat__pinned_take(ctx);
    if (t != NULL)
        return t;
#if BEAT_PRIORITIES > 1
    // HIGH jobs go before our own deque (which may hold less important work).
    if (ctx->prio != BEAT_PRIORITY_HIGH || beat__deque_size(&ctx->deque) == 0)
        t = beat__inject_take_from(ctx, &ctx->pool->inject_high, BEAT__TAKE_WAIT);
    if (t != NULL)
        return t;
#endif
    t = (beat__task *)beat__deque_pop_owner(&ctx->deque);
    if (t != NULL)
        return t;
    // Own work done: let waiters see it before we run anything long, except
    // that a claim from the injection queue subtracts our finished jobs
    // itself (beat__inject_count_claimed).
    if (prefer != NULL && prefer != ctx) {
        beat__jobs_flush(ctx);
        t = beat__steal_from(ctx, prefer);
    }
    if (t == NULL)
        t = beat__inject_take(ctx);
    if (t == NULL || ctx->jobs_done != 0)
        beat__jobs_flush(ctx);
    if (t == NULL)
        t = beat__steal_any(ctx);
#if BEAT_PRIORITIES > 2
    // LOW jobs last: none queued as NORMAL (beat__inject_take), none to steal.
    if (t == NULL && ctx->prio == BEAT_PRIORITY_LOW)
        t = beat__inject_take_from(ctx, &ctx->pool->inject_low, BEAT__TAKE_SPREAD);
#endif
    return t;
}

// ---------------------------------------------------------------------------
// Heartbeat: promotion of the oldest unpromoted frame
//
// beat_pcall counts its polls down in head.polls_left and calls
// beat__heartbeat when the count goes negative. The check reads the clock,
// promotes one frame if a heartbeat of busy time has passed (one promotion
// per heartbeat bounds the overhead, Acar et al., PLDI 2018) or an idle
// worker asked (wanted), and re-arms the countdown so that checks come
// about every heartbeat/8 whatever the pcall rate. Idle workers run no
// pcalls, so an idle pool pays nothing.

#define BEAT__POLL_MIN 16u
#define BEAT__POLL_MAX (1u << 20)

// Polls since the countdown was armed at armed, from a value left of
// head.polls_left. left = armed - n - k * BEAT__POLL_ASK for n polls
// (0 <= n <= armed + 1: the poll that makes it negative checks) and k
// asks, and n < BEAT__POLL_ASK, so n is the difference modulo the ask.
BEAT__PRIVATE uint64_t beat__polls_since(int64_t armed, int64_t left)
{
    return ((uint64_t)armed - (uint64_t)left) & (uint64_t)(BEAT__POLL_ASK - 1);
}

// Owner only: adds done polls to the count and arms the countdown to check
// after interval more (interval >= 1). An ask arriving since left was
// loaded is overwritten (see beat__ask_for_work).
BEAT__PRIVATE void beat__polls_rearm(beat_ctx *ctx, uint64_t done, uint64_t interval)
{
    // Relaxed loads: the owner is the only writer of these words.
    uint64_t seq = beat__atomic_load_u64(&ctx->polls_seq, BEAT__MO_RELAXED);
    uint64_t base = beat__atomic_load_u64(&ctx->polls_base, BEAT__MO_RELAXED);
    int64_t armed = (int64_t)interval - 1;
    // Odd count, then a release fence before the data stores: pairs with
    // the reader's acquire fence (beat__polls_read), as in beat__time_phase.
    beat__atomic_store_u64(&ctx->polls_seq, seq + 1, BEAT__MO_RELAXED);
    beat__fence_release();
    beat__atomic_store_u64(&ctx->polls_base, base + done, BEAT__MO_RELAXED);
    beat__atomic_store_i64(&ctx->polls_armed, armed, BEAT__MO_RELAXED);
    beat__atomic_store_i64(&ctx->head.polls_left, armed, BEAT__MO_RELAXED);
    // Release: a reader whose acquire load sees this even count sees the data.
    beat__atomic_store_u64(&ctx->polls_seq, seq + 2, BEAT__MO_RELEASE);
}

// Owner only: the polls since the countdown was last armed. Acquire: pairs
// with a thief's release RMW (beat__ask_for_work), so a check that sees an
// ask also sees the thief's wanted flag.
BEAT__PRIVATE uint64_t beat__polls_pending(const beat_ctx *ctx)
{
    int64_t left = beat__atomic_load_i64(&ctx->head.polls_left, BEAT__MO_ACQUIRE);
    return beat__polls_since(beat__atomic_load_i64(&ctx->polls_armed, BEAT__MO_RELAXED), left);
}

// Restarts the heartbeat at now (a clock just read) when a worker starts
// or becomes busy after being idle (beat__turn_busy). The first poll checks
// at once: an idle worker that asked while we were idle had its ask
// overwritten by the re-arm below, and the flag it left is answered there.
BEAT__PRIVATE void beat__heartbeat_restart(beat_ctx *ctx, uint64_t now)
{
    ctx->last_beat = now;
    ctx->busy_since = now;
    ctx->last_poll = now;
    beat__polls_rearm(ctx, beat__polls_pending(ctx), 1);
    beat__pressure_tick(ctx, now);
}

// ctx (a worker, or beat_run's slot) turns busy after being idle: restarts
// the heartbeat and opens the busy phase (stats) with one clock read.
BEAT__PRIVATE void beat__turn_busy(beat_ctx *ctx)
{
    uint64_t now = beat__now_ns();
    beat__heartbeat_restart(ctx, now);
    beat__time_busy_at(ctx, now);
}

// ---------------------------------------------------------------------------
// Loop frames. A running beat_parallel_for keeps a frame in the same private
// list as pcall frames; promoting it splits off the second half of what is
// left as a piece task (which can be split again). Pieces are counted on
// the loop's counter, which the loop's owner waits for at the end.

typedef struct beat__loop_desc {
    beat_range_fn body;
    void *arg;
    int timed;                   // chunks are sampled for the predictor
    size_t min_chunk, max_chunk; // a piece or chunk is never shorter than min_chunk
    size_t first_chunk;          // the owner's first chunk (pieces too)
    beat_counter pending;        // pieces published and not yet finished
} beat__loop_desc;

typedef struct beat__loop {
    beat__frame frame; // first member; frame.task.fn == beat__loop_tag marks a loop frame
    const beat__loop_desc *desc;
    size_t cur, end; // what is left for the owner; a split lowers end
} beat__loop;

typedef struct beat__loop_piece {
    beat__task task; // arg = the piece; the piece frees itself when it starts
    beat__loop_desc *desc;
    size_t begin, end;
} beat__loop_piece;

// Marks loop frames; never called.
BEAT__PRIVATE void beat__loop_tag(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
}

BEAT__PRIVATE void beat__loop_piece_run(beat_ctx *ctx, void *arg);

// Bit 1 of a frame's address is free for BEAT__FRAME_U64.
typedef struct beat__frame_align {
    char c;
    beat__frame frame;
} beat__frame_align;
BEAT__STATIC_ASSERT(offsetof(beat__frame_align, frame) > BEAT__FRAME_U64, frame_kind_bit_is_free);

// Whether f is a pcall_u64 frame, whose task is set only at promotion.
BEAT__PRIVATE int beat__frame_is_u64(const beat__frame *f)
{
    return ((uintptr_t)f->prev & BEAT__FRAME_U64) != 0;
}

// The frame older than f (f not promoted).
BEAT__PRIVATE beat__frame *beat__frame_older(const beat__frame *f)
{
    return (beat__frame *)((uintptr_t)f->prev & ~BEAT__FRAME_U64);
}

BEAT__PRIVATE int beat__frame_promotable(const beat__frame *f)
{
    if (beat__frame_is_u64(f) || f->task.fn != beat__loop_tag)
        return 1;
    const beat__loop *loop = (const beat__loop *)(const void *)f;
    return loop->end - loop->cur >= 2 * loop->desc->min_chunk;
}

// Splits the second half of what loop has left into a piece on the deque.
BEAT__PRIVATE int beat__loop_split(beat_ctx *ctx, beat__loop *loop)
{
    beat__loop_piece *piece =
        (beat__loop_piece *)beat_mempool_alloc(ctx->pool->tasks, &ctx->task_cache);
    if (piece == NULL)
        return 0; // no memory: the owner keeps the whole range
    beat__loop_desc *desc = (beat__loop_desc *)(uintptr_t)loop->desc;
    size_t mid = loop->cur + (loop->end - loop->cur) / 2;
    piece->desc = desc;
    piece->begin = mid;
    piece->end = loop->end;
    beat__task_init(&piece->task, beat__loop_piece_run, piece, &desc->pending, 0);
    // Relaxed: published with the piece by the push (release).
    beat__atomic_fetch_add_u64(&desc->pending.beat__state, 1, BEAT__MO_RELAXED);
    if (beat__push_local(ctx, &piece->task) != 0) {
        beat__atomic_fetch_sub_u64(&desc->pending.beat__state, 1, BEAT__MO_RELAXED);
        beat_mempool_free(ctx->pool->tasks, &ctx->task_cache, piece);
        return 0;
    }
    loop->end = mid;
    return 1;
}

// Promotes the oldest promotable frame of ctx: a pcall frame's b is pushed
// onto the deque, a loop frame is split. Pcall frames are promoted oldest
// first, so promoted ones are a prefix of the list and the walk stops at
// the first one (a loop frame older than it could not be split then and
// cannot now: its range only shrinks). Returns 1 if work was published.
BEAT__PRIVATE int beat__promote_oldest(beat_ctx *ctx)
{
    beat__frame *oldest = NULL;
    for (beat__frame *f = ctx->head.tail; f != NULL && f->prev != BEAT__FRAME_PROMOTED;
         f = beat__frame_older(f))
        if (beat__frame_promotable(f))
            oldest = f;
    if (oldest == NULL)
        return 0;
    if (beat__frame_is_u64(oldest)) {
        // Its fast path recorded b in the frame only; the frame is the argument.
        oldest->task.fn = beat__frame_u64_run;
        oldest->task.arg = oldest;
    } else if (oldest->task.fn == beat__loop_tag) {
        if (!beat__loop_split(ctx, (beat__loop *)(void *)oldest))
            return 0;
        BEAT__STAT_ADD(ctx, promotions, 1);
        return 1;
    }
    beat__task_init(&oldest->task, oldest->task.fn, oldest->task.arg, &oldest->done,
                    BEAT__TASK_FRAME);
    // Relaxed: the push below publishes it with release.
    beat__atomic_store_u64(&oldest->done.beat__state, 1, BEAT__MO_RELAXED);
    if (beat__push_local(ctx, &oldest->task) != 0)
        return 0; // the deque cannot grow: b stays with us
    oldest->saved_prev = beat__frame_older(oldest);
    oldest->prev = BEAT__FRAME_PROMOTED;
    BEAT__STAT_ADD(ctx, promotions, 1);
    return 1;
}

// The next countdown: about heartbeat/8 at the pcall rate seen since the
// last check, growing at most 2x per check (one long pcall proves little).
BEAT__PRIVATE uint64_t beat__poll_pace(const beat_ctx *ctx, uint64_t done, uint64_t elapsed)
{
    if (elapsed == 0 || done == 0)
        return ctx->poll_interval;
    uint64_t interval = done * (ctx->pool->heartbeat_ns / 8) / elapsed;
    if (interval > 2 * ctx->poll_interval)
        interval = 2 * ctx->poll_interval;
    return interval < BEAT__POLL_MIN   ? BEAT__POLL_MIN
           : interval > BEAT__POLL_MAX ? BEAT__POLL_MAX
                                       : interval;
}

BEAT__DEF void beat__heartbeat(beat_ctx *ctx)
{
    uint64_t done = beat__polls_pending(ctx); // first: its acquire shows wanted
    uint64_t now = beat__now_ns();
    int wanted = beat__atomic_load_u32(&ctx->wanted, BEAT__MO_RELAXED) != 0;
    if (wanted)
        beat__atomic_store_u32(&ctx->wanted, 0, BEAT__MO_RELAXED);
    // Parked workers are hungry too, but they cannot ask, and waking one
    // costs the waker a syscall: worth it only once this call has been busy
    // for a tenth of a heartbeat (a tiny call finishes alone, never slower
    // than serial). Relaxed: a stale count costs one promotion too many or
    // a heartbeat's delay.
    if (now - ctx->busy_since >= ctx->pool->heartbeat_ns / 10 &&
        beat__atomic_load_u32(&ctx->pool->idle_sleepers, BEAT__MO_RELAXED) != 0)
        wanted = 1;
    if ((wanted || now - ctx->last_beat >= ctx->pool->heartbeat_ns) && beat__promote_oldest(ctx))
        ctx->last_beat = now;
    beat__pressure_tick(ctx, now);
    ctx->poll_interval = beat__poll_pace(ctx, done, now - ctx->last_poll);
    ctx->last_poll = now;
    beat__polls_rearm(ctx, done, ctx->poll_interval);
}

// Calls fn(ctx, arg), timing it for the predictor when the predictor
// samples this run (about one run per 32 us of fn's work; an untimed run
// costs a compare and a decrement). Returns the clock after a timed run,
// else 0.
// Ends a timed run of key that began at start and covered items items:
// records its time per item and returns the clock.
BEAT__PRIVATE uint64_t beat__timed_record(beat_ctx *ctx, const void *key, uint64_t start,
                                          uint64_t items)
{
    uint64_t now = beat__now_ns();
    beat__predictor_record_items_owner(ctx->pool->predict, ctx->index, key, now - start, items,
                                       now);
    BEAT__STAT_ADD(ctx, timed, 1);
    return now;
}

BEAT__INLINE uint64_t beat__call_timed(beat_ctx *ctx, beat_fn fn, void *arg)
{
    beat__predictor *p = ctx->pool->predict;
    if (p == NULL || !beat__predictor_sample_owner(p, ctx->index, BEAT__PREDICT_KEY(fn))) {
        fn(ctx, arg);
        return 0;
    }
    uint64_t start = beat__now_ns();
    fn(ctx, arg);
    return beat__timed_record(ctx, BEAT__PREDICT_KEY(fn), start, 1);
}

// Memory awareness looks at the clock after timed runs, and every
// pressure_every tasks otherwise.
BEAT__PRIVATE void beat__pressure_after_task(beat_ctx *ctx, uint64_t now)
{
    beat_pool *pool = ctx->pool;
    if (!pool->cfg.memory_aware)
        return;
    if (now == 0 && ++ctx->pressure_countdown < pool->pressure_every)
        return;
    ctx->pressure_countdown = 0;
    beat__pressure_tick(ctx, now != 0 ? now : beat__now_ns());
}

// Calls a task's function between the trace's and the profiler's hooks,
// timed for the predictor when flags say so.
BEAT__INLINE void beat__task_call(beat_ctx *ctx, beat_fn fn, void *arg, uint32_t flags)
{
    uint32_t traced = BEAT__TRACE_OPEN_TASK(ctx);
#ifdef BEAT_PROFILE_BEGIN
    BEAT_PROFILE_BEGIN(beat__fn_name(ctx->pool, fn), ctx->index);
#endif
    if (flags & BEAT__TASK_TIMED)
        beat__pressure_after_task(ctx, beat__call_timed(ctx, fn, arg));
    else
        fn(ctx, arg);
#ifdef BEAT_PROFILE_END
    BEAT_PROFILE_END(ctx->index);
#endif
    BEAT__TRACE_CLOSE(ctx, traced, beat__trace_task_kind(flags, fn), fn, 0, 0);
}

// Runs t and retires it. The record is released before the call (its
// fields are copied), and nothing touches the counter after its decrement.
BEAT__PRIVATE void beat__task_run(beat_ctx *ctx, beat__task *t)
{
    beat_pool *pool = ctx->pool;
    beat_fn fn = t->fn;
    void *arg = t->arg;
    beat_counter *counter = t->counter;
    uint32_t flags = t->flags;
    if (flags & BEAT__TASK_POOLED) {
        beat_mempool_free(pool->tasks, &ctx->task_cache, t);
    } else if (flags & BEAT__TASK_ARENA) {
        beat__arena_retire_n(&pool->arena, &ctx->arena_done, (beat__arena_block *)(void *)counter,
                             1);
        counter = NULL;
    } else if (flags & BEAT__TASK_RING) {
        counter = NULL; // it names the ring block; the chain's run frees the record
    }
    beat__time_busy(ctx);
    beat_counter *outer = ctx->running; // what the self-wait check compares with (devmode.c)
    ctx->running = counter;
#if BEAT_PRIORITIES > 1
    uint32_t outer_prio = ctx->prio;
    if (BEAT__TASK_PRIO_OF(flags))
        // Relaxed: thieves read it as a hint (see beat__steal_from).
        beat__atomic_store_u32(&ctx->prio, BEAT__TASK_PRIO_OF(flags) - 1, BEAT__MO_RELAXED);
#endif
    if (!(flags & BEAT__TASK_CHAIN))
        BEAT__STAT_ADD(ctx, tasks, 1);
    beat__task_call(ctx, fn, arg, flags);
    ctx->running = outer;
#if BEAT_PRIORITIES > 1
    beat__atomic_store_u32(&ctx->prio, outer_prio, BEAT__MO_RELAXED);
#endif
    if (counter != NULL)
        beat__count_done(pool, &counter->beat__state);
    if ((flags & BEAT__TASK_JOB) && ++ctx->jobs_done >= BEAT__JOBS_BATCH)
        beat__jobs_flush(ctx);
}

// The idle spin of a worker that found nothing: returns 1 (after a pause)
// while the window opened by the first failed search is open, 0 when it is
// time to park. *spin_until is 0 while the worker is busy. The worker's
// idle time starts at the first failed search.
BEAT__PRIVATE int beat__idle_spin(beat_ctx *ctx, uint64_t *spin_until)
{
    uint64_t now = beat__now_ns();
    if (*spin_until == 0) {
        *spin_until = now + ctx->spin_window;
        beat__time_idle(ctx, now);
    }
    if (now >= *spin_until)
        return 0;
    beat__spin_round(now, *spin_until, ctx->spin_window);
    return 1;
}

// Runs other work until c reaches zero, parking when there is none.
// awaited: the task being waited for, if there is one; the deque of the
// worker that stole it is tried first (its children are likely there).
// Memory ordering: acquire on return.
// One step of a loop that helps while it waits: runs a task if one can be
// found, else spins a while. Returns 0 once the spin is over (time to park).
BEAT__PRIVATE int beat__help_step(beat_ctx *ctx, beat_ctx *prefer, uint64_t *spin_until)
{
    beat__task *t = beat__find_work(ctx, prefer);
    if (t != NULL) {
        beat__task_run(ctx, t);
        *spin_until = 0;
        return 1;
    }
    return beat__idle_spin(ctx, spin_until);
}

BEAT__PRIVATE void beat__worker_wait(beat_ctx *ctx, beat_counter *c, const beat__task *awaited)
{
    uint64_t spin_until = 0;
    uint64_t watch[2] = {0, 0}; // stuck-wait (devmode.c)
    uint32_t traced = BEAT__TRACE_OPEN(ctx);
    int counted = 0;
    while ((beat__atomic_load_u64(&c->beat__state, BEAT__MO_ACQUIRE) & BEAT__COUNT_MASK) != 0) {
        beat_ctx *prefer = NULL;
        if (awaited != NULL) {
            uint32_t thief = beat__atomic_load_u32(&awaited->thief, BEAT__MO_RELAXED);
            prefer = thief != 0 ? &ctx->pool->workers[thief - 1] : NULL;
        }
        if (beat__help_step(ctx, prefer, &spin_until))
            continue;
        // Counted once (the RMW of beat__waiter_add); after that the park's
        // own fence and re-check of c order us with the decrementer's wake.
        uint64_t seen = counted ? beat__atomic_load_u64(&c->beat__state, BEAT__MO_SEQ_CST)
                                : beat__waiter_add(&c->beat__state, BEAT__WAITER_WORKER,
                                                   BEAT__WAITERS_WORKER, &counted);
        if ((seen & BEAT__COUNT_MASK) == 0)
            break;
        beat__jobs_flush(ctx);
        if (BEAT__UNLIKELY(!counted)) // not counted (field full): no one wakes us
            beat__thread_yield();
        else if (BEAT__UNLIKELY(ctx->pool->stuck_ns != 0))
            beat__stuck_park(ctx, c, awaited, watch);
        else
            beat__idle_park(ctx, c);
        spin_until = 0;
    }
    beat__time_busy(ctx); // the waiting task goes on
    if (counted)          // relaxed: as in beat__outside_wait
        beat__atomic_fetch_sub_u64(&c->beat__state, BEAT__WAITER_WORKER, BEAT__MO_RELAXED);
    beat__fence_acquire(); // the counted tasks' writes, if the loop ended on the RMW
    BEAT__TRACE_CLOSE(ctx, traced, BEAT__TRACE_WAIT, awaited != NULL ? awaited->fn : NULL, 0, 0);
}

// ---------------------------------------------------------------------------
// Workers

// Pins the worker to its CPU, itself (before it touches most of its stack,
// so those pages are placed on its node). A refusal is reported, not fatal:
// the CPU was allowed when the pool was created.
BEAT__PRIVATE void beat__worker_pin(beat_ctx *ctx)
{
    if (ctx->cpu < 0)
        return;
    int err = beat__thread_pin((unsigned)ctx->cpu);
    if (err != 0)
        beat__log(&ctx->pool->cfg.logger, BEAT_LOG_WARN,
                  "worker %u: cannot pin to CPU %d (error %d); it runs unpinned", ctx->index,
                  ctx->cpu, err);
}

BEAT__PRIVATE void *beat__worker_main(void *arg)
{
    beat_ctx *ctx = (beat_ctx *)arg;
    beat_pool *pool = ctx->pool;
    char name[16] = "beat-wNN";
    name[6] = (char)('0' + ctx->index / 10 % 10);
    name[7] = (char)('0' + ctx->index % 10);
    beat__thread_set_name(name);
    BEAT_PROFILE_THREAD(name);
    beat__current = ctx;
    beat__worker_pin(ctx);
    if (pool->cfg.on_worker_start != NULL)
        pool->cfg.on_worker_start(ctx->index, pool->cfg.user);
    beat__heartbeat_restart(ctx, beat__now_ns());
    uint64_t spin_until = 0;
    int idle = 0; // found nothing since the last task (spinning, or back from a park)
    for (;;) {
        if (BEAT__UNLIKELY(beat__throttled(ctx))) {
            beat__throttle_park(ctx);
            spin_until = 0;
            idle = 1;
            continue;
        }
        beat__task *t = beat__find_work(ctx, NULL);
        if (t != NULL) {
            if (idle)
                beat__turn_busy(ctx); // the heartbeat counts busy time
            idle = 0;
            beat__task_run(ctx, t);
            spin_until = 0;
            continue;
        }
        idle = 1;
        if (beat__idle_spin(ctx, &spin_until))
            continue;
        beat__jobs_flush(ctx);
        if (beat__idle_park(ctx, NULL))
            break;
        if (pool->cfg.memory_aware)
            beat__pressure_tick(ctx, beat__now_ns()); // e.g. the timed park of held jobs
        spin_until = 0;
    }
    beat_mempool_cache_flush(pool->tasks, &ctx->task_cache);
    if (pool->cfg.on_worker_stop != NULL)
        pool->cfg.on_worker_stop(ctx->index, pool->cfg.user);
    beat__current = NULL;
    return NULL;
}
