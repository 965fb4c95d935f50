// The pool, its contexts, fork-join, counters, jobs and loops.
#include "base.h"
#include "psi.h" // beat_pressure_level and thresholds, for memory awareness
#ifndef BEAT_NO_STDIO
#include <stdio.h> // FILE, for beat_pool_stats_print
#endif

// The implementation is Linux and POSIX only. Elsewhere the declarations
// still compile, and BEAT_IMPLEMENTATION stops at this one error: defining
// BEAT_IMPLEMENTATION_INCLUDED skips the implementation section, which
// would otherwise add a cascade of errors about missing system headers.
#if defined(BEAT_IMPLEMENTATION) && !defined(__linux__) && !defined(BEAT_IMPLEMENTATION_INCLUDED)
#error                                                                                             \
    "beat.h: BEAT_IMPLEMENTATION is Linux and POSIX only (futex, sched_getaffinity, /sys); elsewhere include beat.h without it, or use beat_simd.h alone"
#define BEAT_IMPLEMENTATION_INCLUDED 1
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct beat_pool beat_pool; // opaque; beat_pool_create/destroy
typedef struct beat_ctx beat_ctx;   // the running worker; passed to every task

// A task. ctx is the context of the worker running it; pass it on to
// beat_pcall/beat_spawn/beat_parallel_for instead of looking it up.
typedef void (*beat_fn)(beat_ctx *ctx, void *arg);
// A loop body over the half-open range [begin, end).
typedef void (*beat_range_fn)(beat_ctx *ctx, size_t begin, size_t end, void *arg);

// ---------------------------------------------------------------------------
// Configuration

typedef enum beat_profile {
    // Defaults for most programs: workers = CPUs this process may use, a
    // short spin (10 us) before an idle worker parks, checks per BEAT_DEBUG.
    BEAT_PROFILE_BASIC,
    // Throughput: a longer spin before parking (50 us, lower wake latency
    // at some idle CPU cost), larger initial deques (fewer growths), and
    // workers pinned to CPUs (pin_workers) stealing nearest-first.
    BEAT_PROFILE_PERFORMANCE,
    // PERFORMANCE plus memory-pressure awareness (memory_aware): under
    // high memory pressure fewer workers run, deferrable jobs wait, and
    // free task records go back to the system.
    BEAT_PROFILE_ADVANCED,
    // BASIC plus runtime misuse checks even in NDEBUG builds (checks), a
    // report of waits stuck for 5 s (stuck_wait_ms) and a logger that
    // prints to stderr (unless BEAT_NO_STDIO). See DEVELOPMENT MODE.
    BEAT_PROFILE_DEVELOPMENT
} beat_profile;

// Every allocation the pool makes goes through this. Both functions get the
// size and alignment (align is a power of two <= 4096). NULL functions mean
// BEAT_MALLOC/BEAT_FREE (aligned by the library). alloc may return NULL;
// Beat then reports BEAT_ERROR_OUT_OF_MEMORY and leaks nothing.
// Thread safety: called from any thread of the pool and from callers of the
// API; the functions must be thread-safe.
typedef struct beat_allocator {
    void *(*alloc)(size_t size, size_t align, void *user);
    void (*free)(void *ptr, size_t size, size_t align, void *user);
    void *user;
} beat_allocator;

typedef enum beat_log_level {
    BEAT_LOG_ERROR,
    BEAT_LOG_WARN,
    BEAT_LOG_INFO,
    BEAT_LOG_DEBUG
} beat_log_level;

// Optional. Setup paths (create, destroy, misuse reports) log through it;
// hot paths never log. Without a logger Beat prints nothing.
// Thread safety: called from any thread; must be thread-safe.
typedef struct beat_logger {
    void (*fn)(beat_log_level level, const char *message, void *user);
    void *user;
} beat_logger;

// A ready-made logger function printing "beat: <level>: <message>" to
// stderr. Absent under BEAT_NO_STDIO. Thread safety: any thread.
#ifndef BEAT_NO_STDIO
BEAT_API void beat_log_stderr(beat_log_level level, const char *message, void *user);
#endif

// Zero-initialised == defaults (BEAT_PROFILE_BASIC). beat_config_default
// fills the fields a profile sets; change what you need, then create.
typedef struct beat_config {
    unsigned workers;         // 0 = CPUs this process may use (sched_getaffinity and the
                              // cgroup cpuset), capped by the cgroup CPU quota; max 1024
    unsigned heartbeat_us;    // 0 = BEAT_HEARTBEAT_US (100); max 1000000. Each worker promotes
                              // one pcall frame (or splits one loop) per heartbeat of busy time,
                              // and at once when an idle worker asks
    beat_allocator allocator; // every allocation the pool makes goes here
    void (*on_worker_start)(unsigned worker, void *user); // runs on the worker thread, first
    void (*on_worker_stop)(unsigned worker, void *user);  // runs on the worker thread, last
    void *user;                                           // passed to the two callbacks above
    const char *sysfs_root;  // NULL = "/": where pinning reads the topology (tests point it
                             // at a captured tree)
    beat_profile profile;    // informational: the profile beat_config_default started from
    beat_logger logger;      // optional, see beat_logger
    unsigned spin_us;        // idle spin (yields after 500 ns), then park; 0 = default 10 us.
                             // Adapts per waiter from spin_us up to 20 x spin_us (workers)
                             // or 100 x spin_us (beat_pool_wait and other outside waits)
    unsigned deque_capacity; // initial slots per worker deque, power of two; 0 = 256
    size_t stack_size;       // worker stack bytes; 0 = the system default, else at least 64 KiB
    int checks;              // 1: misuse checks and reports even with NDEBUG; 0: per BEAT_DEBUG
    // Fault injection for tests: called before each worker thread is
    // created; a result other than BEAT_OK makes that creation fail as if
    // the OS refused (the pool then joins what it started and returns
    // BEAT_ERROR_THREAD_CREATE). NULL in normal use.
    beat_result (*before_thread_create)(unsigned worker, void *user);
    // Pinning. pin_workers = 1: each worker pins itself to one CPU this
    // process may use, one worker per physical core first (cores sharing
    // caches next to each other), SMT siblings after, round-robin when
    // there are more workers than CPUs; workers then steal from the
    // nearest first (SMT sibling, shared L2, shared L3, same NUMA node,
    // the rest) and their deques are placed on their node. Off in BASIC
    // and DEVELOPMENT, on in PERFORMANCE and ADVANCED. The topology is
    // read at create (below sysfs_root; that reading allocates briefly
    // through BEAT_MALLOC, not the allocator above); when it cannot be
    // read the workers run unpinned (a warning is logged).
    int pin_workers;
    // Explicit CPUs: worker i runs on OS CPU worker_cpus[i % count].
    // Implies pinning. Every CPU must be one this process may use
    // (sched_getaffinity and the cgroup cpuset), else create fails with
    // INVALID_ARGUMENT (IO when the topology cannot be read to check them).
    // The array is read during create only.
    const unsigned *worker_cpus;
    unsigned worker_cpus_count;
    // Execution-time prediction. The scheduler times a sample of what it
    // runs (submitted and spawned jobs, each job of a batch, loop chunks
    // per item: about one run in every 32 us of a function's work, so the
    // cost stays under 1 %) and keeps a One Euro estimate per function and
    // worker (beat_predict_ns reads them). The estimates decide two things:
    // a grain-0 loop whose body has an estimate starts with chunks of about
    // 2 us of work instead of 1 element, and grows them up to 8 us; a worker
    // taking submitted jobs whose function is estimated under 2 us takes
    // them from the queue in chains of up to 64 (about 8 us of work) that
    // another worker steals as one. predict_off = 1: nothing is timed,
    // there are no tables, and those decisions use the fixed defaults.
    // Absent under BEAT_NO_PREDICT (as if predict_off were 1).
    int predict_off;
    unsigned predict_slots; // functions remembered per worker; 0 = 256, at most 65536
    // Memory-pressure awareness (Linux; on in ADVANCED, off otherwise).
    // While workers are busy, one of them samples the level at most every
    // pressure_interval_ms: beat_pressure_level_of over the PSI file and
    // the memory cgroup headroom that beat_pressure_locate finds below
    // sysfs_root, with pressure_thresholds; the pool's level rises with a
    // reading at once but falls only when a reading is two levels lower (or
    // NONE), so usage hovering at a threshold does not flip it. An idle pool does not sample,
    // except while deferrable jobs are held (then one parked worker wakes
    // every interval to look). At HIGH and above:
    //   - at most pressure_workers workers take jobs (0 = half of them, at
    //     least 1; at CRITICAL one): the others park between jobs, never
    //     in the middle of one, and what they had queued stays stealable,
    //     so a job that running jobs wait for can always run;
    //   - jobs from beat_submit_deferrable are held until the level falls
    //     below HIGH, or until beat_pool_wait or beat_pool_destroy needs
    //     them (they then run whatever the level);
    //   - free task records are returned to the system (beat_mempool_trim).
    // on_pressure(level, user) reports each change of level; it runs on
    // the sampling worker, between jobs: keep it short, do not wait on the
    // pool. Without PSI support (BEAT_NO_PSI, or no readable files) and
    // without pressure_source, the level stays NONE (a warning is logged).
    int memory_aware;
    unsigned pressure_interval_ms; // 0 = 100; at most 60000
    unsigned pressure_workers;     // workers running at HIGH; 0 = max(1, workers / 2)
    const beat_pressure_thresholds *pressure_thresholds; // NULL = defaults; copied at create
    void (*on_pressure)(beat_pressure_level level, void *user);
    // Test hook: returns the level instead of reading PSI and the cgroup
    // (called where the files would be read, with user). NULL in normal use.
    beat_pressure_level (*pressure_source)(void *user);
    // Tracing (TRACE in the manual; beat_pool_trace_status): beat_pool_destroy
    // writes a Chrome/Perfetto JSON trace of what the pool ran to this file.
    // NULL = the environment variable BEAT_TRACE decides (unset or empty: no
    // trace); "" = no trace whatever BEAT_TRACE says; else the path (copied
    // at create), which wins over BEAT_TRACE. The k-th pool of the process
    // (k >= 1, counting from 0 in order of creation) tracing to the same path
    // string writes to it with ".k" before the extension (trace.json,
    // trace.1.json, ...). Ignored, with a logged warning, under BEAT_NO_TRACE.
    const char *trace_path;
    unsigned trace_events; // events per ring (one ring per worker and outside slot);
                           // 0 = BEAT_TRACE_EVENTS (65536); at most 2^24
    // Development mode (with checks, or BEAT_DEBUG): a wait (beat_wait, a
    // join, a loop's end, beat_pool_wait, beat_pool_destroy, beat_run) that
    // has had nothing else to run for stuck_wait_ms while its count did not
    // move is reported once through the logger (rule stuck-wait: what it
    // waits on, the queues, the idle workers), and goes on waiting. Such a
    // wait then parks with a timeout instead of indefinitely. 0 = off (the
    // default; DEVELOPMENT sets 5000); at most 3600000.
    unsigned stuck_wait_ms;
} beat_config;

// The defaults of a profile (see beat_profile). Thread safety: any thread.
BEAT_API beat_config beat_config_default(beat_profile profile);

// ---------------------------------------------------------------------------
// Pool lifecycle

// Creates a pool and starts its workers. cfg may be NULL (defaults).
// Errors: INVALID_ARGUMENT (out == NULL, or a field out of range: workers >
// 1024, heartbeat_us or spin_us > 1000000, deque_capacity not 0 or a power
// of two from 2 to 2^24, half an allocator, an unknown profile, stack_size
// not 0 and below 64 KiB, worker_cpus and worker_cpus_count not set
// together, predict_slots > 65536, pressure_interval_ms > 60000,
// pressure_workers > 1024 with memory_aware, stuck_wait_ms > 3600000;
// the logger, if set, names the field; beat_config_analyze gives the same
// text) or worker_cpus naming a CPU this process may not use; IO (worker_cpus set
// but the topology below sysfs_root cannot be read, so the CPUs cannot be
// checked), OUT_OF_MEMORY, THREAD_CREATE. On error *out is NULL and nothing leaks: the
// workers already started are stopped and joined.
// Thread safety: any thread.
BEAT_API beat_result beat_pool_create(const beat_config *cfg, beat_pool **out);

// Finishes every job submitted so far (and everything those jobs fork),
// stops and joins the workers, and frees everything. NULL is a no-op.
// Jobs running meanwhile may still submit (their jobs are finished too);
// outside threads must have stopped using the pool (a submit that races
// destroy may fail with BEAT_ERROR_SHUTDOWN or touch freed memory).
// Must not be called from a task of the same pool (reported, and it returns
// without destroying). In a child of fork() (see "Fork" below) it only frees
// the pool's memory: no job is run, no thread is waited for.
// Thread safety: one call, from outside the pool.
BEAT_API void beat_pool_destroy(beat_pool *pool);

// Fork: the child of fork() has only the thread that forked, so a pool
// created before the fork has no workers there. The pool notices (a
// pthread_atfork handler, registered by the first beat_pool_create; no
// system call per call): in the child, beat_submit, beat_submit_batch,
// beat_submit_deferrable and beat_run (and what goes through it) return
// BEAT_ERROR_FORKED, beat_pool_wait reports it through the logger and
// returns at once, and beat_pool_destroy frees the memory without running
// or waiting for anything (jobs queued before the fork never run in the
// child; a beat_submit_batch copy still queued is not freed). Create a new
// pool in the child if it needs one. The parent's pool is unaffected.
// fork() from inside a task is not supported: the child may only exec or
// _exit. A process cloned without fork() (raw clone) is not detected.

// Number of worker threads. Thread safety: any thread.
BEAT_API unsigned beat_pool_workers(const beat_pool *pool);

// Number of contexts: the workers, then the outside slots that beat_run
// callers use (BEAT_OUTSIDE_SLOTS of the implementation file, 4 by
// default). Context indices (beat_ctx_worker) are below it; it sizes
// beat_pool_stats' per_worker array. 0 for NULL. Thread safety: any thread.
BEAT_API unsigned beat_pool_contexts(const beat_pool *pool);

// ---------------------------------------------------------------------------
// Running work

// Runs fn(ctx, arg) and returns when it, and everything it waited for, has
// finished. The calling thread runs fn itself, as one of the pool's
// outside contexts (index >= beat_pool_workers; beat_pool_contexts): the
// workers steal its promoted pcalls and loop halves, and while it waits it
// helps like a worker. When all outside slots are in use, fn is handed to
// a worker and the caller blocks until it is done. Tasks fn spawns and
// never waits for are finished before beat_run returns.
// Errors: INVALID_ARGUMENT, SHUTDOWN, DEADLOCK (called from a task of the
// same pool, which would wait for itself), FORKED (the pool was created
// before this process forked; see "Fork").
// Thread safety: any thread outside the pool; many at once.
BEAT_API beat_result beat_run(beat_pool *pool, beat_fn fn, void *arg);

// The worker index of ctx: 0..beat_pool_workers()-1 for pool threads;
// beat_pool_workers() + k for the k-th outside slot (a beat_run caller).
// Thread safety: the ctx's own thread.
BEAT_API unsigned beat_ctx_worker(const beat_ctx *ctx);
// The pool ctx belongs to. Thread safety: the ctx's own thread.
BEAT_API beat_pool *beat_ctx_pool(const beat_ctx *ctx);

// A counter of pending spawned tasks. Zero-initialise it; no allocation,
// no destroy. It may be reused once beat_wait has returned; reset while
// its tasks run, it is reported when a task finishes below zero (rule
// counter-reuse, with checks; see DEVELOPMENT MODE in the manual).
// Fields are private: use beat_counter_pending.
typedef struct beat_counter {
    uint64_t beat__state; // bits 40-63: waiters (outside, workers); bits 0..39: pending tasks
} beat_counter;

// ---------------------------------------------------------------------------
// Fork-join: beat_pcall

// Private: the frame and context layout that the inline beat_pcall needs.
// Not part of the API; it may change in any version.
typedef struct beat__task {
    beat_fn fn;
    void *arg;
    beat_counter *counter;   // decremented after the run, may be NULL
    struct beat__task *next; // injection queue link
    uint32_t flags;
    uint32_t thief; // 1 + index of the worker that stole it (relaxed atomic), 0 = not stolen
} beat__task;

// A frame's prev is the next older frame (frames are pointer-aligned) with
// BEAT__FRAME_U64 or'd in when the frame is a beat__frame_u64, whose task
// is filled in only if it is promoted (its fast path saves that store);
// or BEAT__FRAME_PROMOTED. Without the bit the task is b as given
// (beat_pcall), or the frame is a loop's (task.fn == beat__loop_tag).
typedef struct beat__frame {
    beat__task task;                // b, published as this task when promoted
    struct beat__frame *prev;       // next older frame | kind, or BEAT__FRAME_PROMOTED
    struct beat__frame *saved_prev; // the next older frame while promoted
    beat_counter done;              // 1 while a thief may run b (set at promotion)
} beat__frame;

#define BEAT__FRAME_PROMOTED ((beat__frame *)(uintptr_t)1)
#define BEAT__FRAME_U64 ((uintptr_t)2)

// The countdown comes first so that the pcall addresses it as ctx itself:
// one register fewer kept across the call of a in every pcalling function.
typedef struct beat__ctx_head { // the first member of every beat_ctx
    // Polls (pcalls and loop chunks) left before the next heartbeat check,
    // which runs when this goes negative. The owner loads and stores it
    // (relaxed); a thief asking for work subtracts a large constant from it
    // (an atomic RMW) so that the owner's next poll checks.
    int64_t polls_left;
    beat__frame *tail; // youngest frame; owner only
} beat__ctx_head;

// Slow paths of beat_pcall (out of line, in the implementation).
BEAT_API void beat__heartbeat(beat_ctx *ctx);
// Joins the promoted frame at head.tail: when a returns, the frame of its
// pcall is the youngest again (every frame a linked has been unlinked), so
// the pcall need not keep the frame's address across the call of a.
BEAT_API void beat__join_promoted(beat_ctx *ctx);

// One heartbeat poll (a pcall or a loop chunk): counts polls_left down and
// returns 1 when the count went negative, i.e. beat__heartbeat is due.
// Relaxed load and store, not an RMW: only the owner stores. A thief's
// request landing between them is lost; the thief's flag stays set, so the
// next check (at most one poll interval later) still answers it.
static inline int beat__poll_due(beat_ctx *ctx)
{
    beat__ctx_head *head = (beat__ctx_head *)(void *)ctx;
    int64_t left = __atomic_load_n(&head->polls_left, __ATOMIC_RELAXED) - 1;
    __atomic_store_n(&head->polls_left, left, __ATOMIC_RELAXED);
    return left < 0;
}

// The part of every pcall before a runs: links frame (whose b the caller
// has recorded) into the worker's private list, its kind (0 or
// BEAT__FRAME_U64) in its prev, and polls the heartbeat.
static inline void beat__pcall_enter(beat_ctx *ctx, beat__frame *frame, uintptr_t kind)
{
    beat__ctx_head *head = (beat__ctx_head *)(void *)ctx;
    frame->prev = (beat__frame *)((uintptr_t)head->tail | kind);
    head->tail = frame;
    if (__builtin_expect(beat__poll_due(ctx), 0))
        beat__heartbeat(ctx);
}

// After a has returned: 1 if b is still ours to call directly (the frame
// was not promoted; it is unlinked), 0 if the frame must be joined.
static inline int beat__pcall_keep(beat_ctx *ctx, beat__frame *frame)
{
    if (__builtin_expect(frame->prev != BEAT__FRAME_PROMOTED, 1)) {
        ((beat__ctx_head *)(void *)ctx)->tail =
            (beat__frame *)((uintptr_t)frame->prev & ~BEAT__FRAME_U64);
        return 1;
    }
    return 0;
}

// Runs a(ctx, a_arg) and b(ctx, b_arg), potentially in parallel, and returns
// when both have finished. Unless this worker's heartbeat (or an idle
// worker asking for work) promotes the frame, this costs about a function
// call: b is recorded in a frame on this stack and linked into the worker's
// private list with plain stores, a is called, one check, b is called. No
// atomic read-modify-write, no fence, no allocation. A promoted frame is
// pushed onto the worker's deque where idle workers can steal b; joining
// one then runs other work until b is done.
// Thread safety: only from a task, with that task's ctx.
static inline void beat_pcall(beat_ctx *ctx, beat_fn a, void *a_arg, beat_fn b, void *b_arg)
{
    int kept;
    { // the frame's lifetime ends before b is called (see beat_pcall_u64)
        beat__frame frame;
        frame.task.fn = b;
        frame.task.arg = b_arg;
        beat__pcall_enter(ctx, &frame, 0);
        a(ctx, a_arg);
        kept = beat__pcall_keep(ctx, &frame);
        if (!kept)
            beat__join_promoted(ctx);
    }
    if (kept)
        b(ctx, b_arg);
}

// ---------------------------------------------------------------------------
// Fork-join on values: beat_pcall_u64

// A task that takes and returns a value: an integer, or a pointer cast to
// uintptr_t. Arguments and results travel in registers, not through
// memory as with beat_fn's void *arg.
typedef uint64_t (*beat_fn_u64)(beat_ctx *ctx, uint64_t arg);

typedef struct beat_pair_u64 {
    uint64_t a, b; // the results of a and b
} beat_pair_u64;

// Private: a pcall_u64 frame (BEAT__FRAME_U64 in frame.prev). Its task is
// unset until promotion sets fn to beat__frame_u64_run and arg to the frame.
typedef struct beat__frame_u64 {
    beat__frame frame;
    beat_fn_u64 fn; // b
    uint64_t value; // b's argument; b's result once a promoted b has run
} beat__frame_u64;

// Runs a promoted beat__frame_u64's b (the task function of such frames).
BEAT_API void beat__frame_u64_run(beat_ctx *ctx, void *frame);

// beat_pcall for tasks on values: runs a(ctx, a_arg) and b(ctx, b_arg),
// potentially in parallel, and returns both results. The same frame,
// heartbeat and promotion as beat_pcall; what it saves is the argument
// structs, whose stores and reloads cost more than the pcall itself in
// fine-grained recursion: fib(35) with a pcall at every level runs in about
// 60 % of the time it takes with beat_pcall on structs, and gcc can turn
// the call of b into a loop as in the serial recursion (bench/beat_bench.c,
// fib and tree, the "u64" rows). A b stolen by another worker returns its
// result through the frame; either way the results are visible on return.
// Example: beat_pair_u64 r = beat_pcall_u64(ctx, fib, n - 1, fib, n - 2);
//          return r.a + r.b;
// Thread safety: only from a task, with that task's ctx.
static inline beat_pair_u64 beat_pcall_u64(beat_ctx *ctx, beat_fn_u64 a, uint64_t a_arg,
                                           beat_fn_u64 b, uint64_t b_arg)
{
    beat_pair_u64 r;
    int kept;
    // The frame lives in this block only: once it is unlinked nothing can
    // reach it, and ending its lifetime before b is called lets the
    // compiler treat that call as it treats the second call of a plain
    // recursion (gcc turns fib's into a loop, as in the serial code).
    {
        beat__frame_u64 frame;
        frame.fn = b;
        frame.value = b_arg;
        beat__pcall_enter(ctx, &frame.frame, BEAT__FRAME_U64);
        r.a = a(ctx, a_arg);
        kept = beat__pcall_keep(ctx, &frame.frame);
        if (!kept) {
            beat__join_promoted(ctx);
            r.b = frame.value;
        }
    }
    if (kept)
        r.b = b(ctx, b_arg);
    return r;
}

// Increments c (if not NULL), then pushes fn(ctx, arg) onto ctx's deque
// where idle workers can steal it; when it has run, c is decremented.
// If the task record or the deque cannot grow (out of memory) fn runs
// inline instead, so no task is ever lost.
// Thread safety: only from a task, with that task's ctx. With checks
// (development mode) a ctx used on another thread is reported (rule
// ctx-owner) and the call goes on with the calling thread's own context
// of the pool, or, from a thread outside the pool, queues the task there.
BEAT_API void beat_spawn(beat_ctx *ctx, beat_counter *c, beat_fn fn, void *arg);

// Returns when c reaches zero. Meanwhile it runs other tasks: its own deque
// first, then it steals; with nothing to do it parks until c is done or new
// work appears. Memory ordering: everything the counted tasks wrote is
// visible after return (acquire). Thread safety: only from a task, with that
// task's ctx; several tasks may wait on one counter. With checks
// (development mode): a ctx of another thread as in beat_spawn (outside
// the pool the thread then sleeps until c is done); a wait on the counter
// the running task is itself counted on, which could never end, is
// reported (rule self-wait) and returns at once.
BEAT_API void beat_wait(beat_ctx *ctx, beat_counter *c);

// Pending tasks of c at this instant (racy unless nothing else runs).
// Thread safety: any thread.
BEAT_API uint64_t beat_counter_pending(const beat_counter *c);

// Queues the job fn(ctx, arg); never runs it inline and never blocks. From a
// worker of this pool it goes onto that worker's deque; from any other
// thread through a lock-free injection queue, with a record taken in address
// order from the pool's submit arena (manual: "No allocation in steady
// state"). The first outside thread to submit gets arena records of its
// own, without a lock, and publishes them with a plain store: on Linux
// with membarrier(2) (4.14 and later) such a submit has no locked
// instruction at all, and the first worker to park after a run of such
// submits pays for the pairing instead (one membarrier; the next submit
// makes one fence). Others share a try-locked block. Errors: INVALID_ARGUMENT,
// OUT_OF_MEMORY (the job is not queued), SHUTDOWN (after beat_pool_destroy
// has started; reported with checks, rule submit-after-destroy), FORKED
// (in a child of fork(); see "Fork").
// Thread safety: any thread.
BEAT_API beat_result beat_submit(beat_pool *pool, beat_fn fn, void *arg);

// One job of a batch.
typedef struct beat_job {
    beat_fn fn;
    void *arg;
} beat_job;

// Queues count jobs at the cost of about one: the array is copied into one
// allocation (so it may be reused at once), counted once, published with
// one operation, and run as a range that idle workers split between them
// (each job still runs exactly once, on some worker, in no given order).
// The way to submit many small jobs (a job of ~50 cycles is fine).
// count == 0 does nothing. Errors: INVALID_ARGUMENT (NULL pool, NULL jobs
// with count > 0, a NULL fn), OUT_OF_MEMORY (nothing queued), SHUTDOWN,
// FORKED (see "Fork").
// Thread safety: any thread.
BEAT_API beat_result beat_submit_batch(beat_pool *pool, const beat_job *jobs, size_t count);

// A batch variant of a job function: does what count calls fn(ctx, args[i])
// would do, for i < count, in one call (where vector code goes: the
// arguments of up to BEAT_BATCH_WIDTH jobs at once, e.g. to process their
// data as lanes). args is valid during the call only.
typedef void (*beat_batch_fn)(beat_ctx *ctx, void *const *args, size_t count);

// Registers batch as fn's batch variant in pool (batch == NULL removes it;
// registering fn again replaces it). From then on beat_submit_batch groups
// the jobs of each submitted array whose function has a variant: their
// arguments are gathered by function, in submission order, into groups of
// BEAT_BATCH_WIDTH (16) and each group runs as one batch(ctx, args, n) call
// (the last group of a function may be shorter); jobs of other functions
// run one by one as before. Jobs still count one each for beat_pool_wait.
// beat_submit, beat_spawn and the pool's other paths call fn itself.
// Batches already formed keep the variant they were formed with.
// Errors: INVALID_ARGUMENT (NULL pool or fn), OUT_OF_MEMORY (the pool has
// BEAT_BATCH_VARIANTS (32) functions registered already; their entries stay
// even when removed, so re-registering one of them still works).
// Thread safety: any thread, concurrently with submits.
BEAT_API beat_result beat_register_batch(beat_pool *pool, beat_fn fn, beat_batch_fn batch);

// Like beat_submit, for a job that can wait: while the pool's memory
// pressure is HIGH or above (see beat_config.memory_aware) the job is held
// and queued once the level falls below HIGH; beat_pool_wait and
// beat_pool_destroy release held jobs at once (they wait for them). With
// memory awareness off it is beat_submit. Errors: as beat_submit.
// Thread safety: any thread.
BEAT_API beat_result beat_submit_deferrable(beat_pool *pool, beat_fn fn, void *arg);

// The pool's memory-pressure level as last sampled (NONE when memory
// awareness is off or nothing was sampled yet). Thread safety: any thread.
BEAT_API beat_pressure_level beat_pool_pressure(const beat_pool *pool);

// ---------------------------------------------------------------------------
// Names

// Names a job function in pool, for traces, the profiler hooks
// (BEAT_PROFILE_BEGIN, see the manual) and beat_fn_name. name is not
// copied: a string literal, or one that outlives the pool. Naming fn again
// replaces its name. Errors: INVALID_ARGUMENT (NULL pool, fn or name),
// OUT_OF_MEMORY (BEAT_NAMES (64) functions are named already).
// Thread safety: any thread.
BEAT_API beat_result beat_name_fn(beat_pool *pool, beat_fn fn, const char *name);

// fn's name in pool, or NULL when it has none (a scan of the names: meant
// for tools and hooks, not for every job). Thread safety: any thread.
BEAT_API const char *beat_fn_name(const beat_pool *pool, beat_fn fn);

// ---------------------------------------------------------------------------
// Pinned jobs and priorities (for engines)

// beat_submit_pinned's target for jobs that run on the thread calling
// beat_pump or beat_pump_wait (a game's main thread, a dedicated I/O thread).
#define BEAT_MAIN_THREAD 0xFFFFFFFFu

// Queues a job that runs on one thread only: worker `thread` (0 ..
// workers-1), which takes it before other work, or, with BEAT_MAIN_THREAD,
// the next thread to call beat_pump or beat_pump_wait. Jobs pinned to one
// thread start in submission order. Jobs pinned to a worker count for
// beat_pool_wait; main-thread jobs do not (the thread that waits is the one
// that would pump them): they run at the next pump, and beat_pool_destroy
// runs any left, on its caller. A worker parked by memory pressure still
// runs its pinned jobs. Errors: INVALID_ARGUMENT (NULL pool or fn, thread
// neither a worker nor BEAT_MAIN_THREAD), OUT_OF_MEMORY, SHUTDOWN.
// Thread safety: any thread.
BEAT_API beat_result beat_submit_pinned(beat_pool *pool, unsigned thread, beat_fn fn, void *arg);

// Runs, on the calling thread, the main-thread jobs queued when it starts
// (jobs they queue wait for the next pump), and stores how many ran in
// *ran (if not NULL). Their ctx is one of the pool's outside contexts, as
// in beat_run: they may pcall, spawn and wait. Call it once per frame, or
// from the thread that owns BEAT_MAIN_THREAD; one pump runs at a time (a
// second caller waits for the first). Errors: INVALID_ARGUMENT (NULL
// pool), DEADLOCK (called from a job of this pool). Thread safety: any
// thread that is not a worker of this pool.
BEAT_API beat_result beat_pump(beat_pool *pool, unsigned *ran);

// Like beat_pump, but first waits until a main-thread job is queued or
// timeout_ms passes (0 = no limit), without using CPU: the loop of a
// dedicated thread. *ran is 0 after a timeout.
BEAT_API beat_result beat_pump_wait(beat_pool *pool, unsigned timeout_ms, unsigned *ran);

// beat_pool_wait for a thread that wants to help: until every job submitted
// so far has finished, the calling thread runs queued jobs and steals, on
// one of the pool's outside contexts (as in beat_run), then waits as
// beat_pool_wait does once nothing is left to take. Main-thread jobs are
// not run (beat_pump runs them). Errors: INVALID_ARGUMENT (NULL pool),
// DEADLOCK (from a job of this pool), FORKED. Thread safety: any thread
// that is not a worker of this pool.
BEAT_API beat_result beat_pool_help(beat_pool *pool);

// Job priorities. With BEAT_PRIORITIES (1, 2 or 3; default 1) levels compiled
// in, a worker choosing among queued jobs takes HIGH before NORMAL before LOW,
// across workers: no worker starts a NORMAL job while a HIGH one is queued, nor
// a LOW one while a NORMAL one is queued or left to steal (up to one job per
// other worker, the one it is taking, may start out of that order). Strict: no
// ageing, so LOW jobs wait as long as more important work keeps every worker
// busy. A job's beat_wait (and a stolen pcall's join) helps only with queued
// jobs of its own priority or higher, and steals only from workers running such
// jobs. With 2 levels LOW is NORMAL; with 1 level (zero cost: no extra queue,
// no check) all are the same. beat_submit, batches and pinned jobs are NORMAL;
// spawned tasks and pcall halves have no priority of their own (they belong to
// the job that made them).
typedef enum beat_priority {
    BEAT_PRIORITY_HIGH = 0,
    BEAT_PRIORITY_NORMAL = 1,
    BEAT_PRIORITY_LOW = 2
} beat_priority;

// beat_submit at a priority. Errors: as beat_submit, and INVALID_ARGUMENT
// for a priority other than the three. Thread safety: any thread.
BEAT_API beat_result beat_submit_priority(beat_pool *pool, beat_priority priority, beat_fn fn,
                                          void *arg);

// ---------------------------------------------------------------------------
// Task descriptors: a job with everything it can have, in one submit

// beat_task_desc.flags. Zero: NORMAL priority, any worker, not held.
#define BEAT_TASK_HIGH 1u       // as beat_submit_priority(.., BEAT_PRIORITY_HIGH, ..)
#define BEAT_TASK_LOW 2u        // as beat_submit_priority(.., BEAT_PRIORITY_LOW, ..)
#define BEAT_TASK_DEFERRABLE 4u // as beat_submit_deferrable: held under memory pressure
#define BEAT_TASK_PINNED 8u     // as beat_submit_pinned(.., thread, ..); no priority, not held
#define BEAT__TASK_FLAGS 15u    // (private: every flag above)

// A job to submit. Zero-initialise it, then set fn and what you need:
//   beat_task_desc t = {0};
//   t.fn = load_chunk; t.arg = &chunk; t.counter = &level_loaded;
//   beat_submit_task(pool, &t);                // from any thread
//   ...
//   beat_counter_wait(pool, &level_loaded);    // only this thread's jobs
typedef struct beat_task_desc {
    beat_fn fn;            // required
    void *arg;             // passed to fn
    beat_counter *counter; // optional: incremented by the submit, decremented once fn has run
    const char *name;      // optional: names fn, as beat_name_fn (traces, profiler hooks)
    unsigned flags;        // BEAT_TASK_*
    unsigned thread;       // with BEAT_TASK_PINNED: a worker index or BEAT_MAIN_THREAD
} beat_task_desc;

// Submits task->fn(ctx, task->arg) as its flags say: the same queues, order
// and guarantees as beat_submit, beat_submit_priority, beat_submit_deferrable
// and beat_submit_pinned. With a counter, it is one of the jobs that
// beat_counter_wait (any thread) and beat_wait (a task) wait for; such a
// job costs a little more than beat_submit's (a task record of the pool's,
// not the submitting thread's ring). A counter must not be reset or go out
// of scope while its jobs are pending, and counts jobs of one pool. The
// descriptor is copied; it may go once the call returns. Errors:
// INVALID_ARGUMENT (NULL pool, task or fn; unknown flags; HIGH with LOW;
// PINNED with a priority or DEFERRABLE; thread neither a worker nor
// BEAT_MAIN_THREAD), and as the call its flags name (OUT_OF_MEMORY,
// SHUTDOWN, FORKED; beat_name_fn's for a name). On error the counter is
// unchanged and the job does not run. Thread safety: any thread.
BEAT_API beat_result beat_submit_task(beat_pool *pool, const beat_task_desc *task);

// Returns once c is zero: every job counted on it has run (memory ordering:
// their writes are visible after return). From a thread outside the pool
// it spins briefly, then sleeps, and while it waits deferrable jobs are not
// held (as in beat_pool_wait: all of the pool's, not only c's); from a
// task of this pool it helps as beat_wait does. Priorities are strict, so
// c's LOW jobs wait while more important work keeps every worker busy.
// Jobs pinned to BEAT_MAIN_THREAD run only when a thread
// pumps them: waiting for them on that thread waits forever. Errors:
// INVALID_ARGUMENT (NULL pool or c), FORKED (see "Fork"). Thread safety:
// any thread; several may wait for one counter.
BEAT_API beat_result beat_counter_wait(beat_pool *pool, beat_counter *c);

// Returns once every job submitted before the call has finished (not merely
// left a queue). Workers count finished jobs in batches and report them
// when they run out of their own work or go to sleep, so the return can
// lag the last job by the task a worker is running then. It also waits for jobs submitted while it
// waits, so under a never-ending stream of submits from other threads it may not return: count
// your jobs on a beat_counter (beat_submit_task) and wait with beat_counter_wait for that. Called
// from a task of the same pool it would wait for itself: it reports the misuse and returns at once;
// so it does in a child of fork() (see "Fork"). Memory ordering: the jobs' writes are visible after
// return. Thread safety: any thread outside the pool; several at once.
BEAT_API void beat_pool_wait(beat_pool *pool);

// beat_pool_wait that says whether it waited: OK once the jobs have
// finished; INVALID_ARGUMENT (NULL pool), DEADLOCK (called from a task of
// the same pool: reported through the logger, nothing waited for), FORKED
// (see "Fork"). Thread safety: as beat_pool_wait.
BEAT_API beat_result beat_pool_wait_checked(beat_pool *pool);

// ---------------------------------------------------------------------------
// Statistics: cheap per-worker counters, summed on request.

typedef struct beat_stats {
    uint64_t pcalls;        // beat_pcall calls (all, promoted or not)
    uint64_t promotions;    // frames made stealable or loops split (heartbeat or a hungry worker)
    uint64_t steals;        // tasks taken from another worker's deque
    uint64_t failed_steals; // rounds over every other worker that found nothing
    uint64_t parks;         // times a worker went to sleep on the futex
    uint64_t wakeups;       // sleeps that ended because work (or a wait's end) was signalled
    uint64_t tasks;         // tasks run from a queue (jobs, spawned tasks, promoted frames)
    uint64_t chunks;        // loop chunks run (beat_parallel_for, batches)
    uint64_t timed;         // runs timed for the predictor (jobs and loop chunks)
    uint64_t chained;       // tiny jobs taken from the queue in chains (see predict_off)
    uint64_t throttles;     // parks because memory pressure lowered the running workers
    uint64_t deferred;      // deferrable jobs held because of memory pressure
    // Time, in ns. Busy: running tasks (for an outside slot, the time inside
    // beat_run or a beat_pump). Idle: spinning or parked with nothing to run, in the main
    // loop or inside a wait (beat_wait, a join, a loop's end). A worker is
    // neither before its first task, an outside slot between beat_run calls.
    // Clock reads happen only where a worker turns idle or busy (never per
    // pcall, nor per task of a busy worker); the open stretch counts up to
    // the read. busy / (busy + idle) is the worker's utilisation.
    uint64_t busy_ns;
    uint64_t idle_ns;
} beat_stats;

// Fills *total (if not NULL) with the sum over workers and outside slots
// (beat_run callers), and per_worker[i] for i < min(capacity,
// beat_pool_contexts(pool)): the workers, then the outside slots. Counters
// are read while the pool runs: each is exact, the set is not a single
// snapshot. Errors: INVALID_ARGUMENT (NULL pool, NULL per_worker with
// capacity > 0). Thread safety: any thread.
BEAT_API beat_result beat_pool_stats(const beat_pool *pool, beat_stats *total,
                                     beat_stats *per_worker, unsigned capacity);

// The stats as a table, one row per worker, an "outside" row (the outside
// slots summed, when beat_run was used) and a "total" row; the header row
// names the columns:
//   worker tasks chunks pcalls promotions steals failed_steals parks wakeups
//   busy_ms idle_ms util%
// Numbers are right-aligned and separated by blanks; busy_ms and idle_ms
// have one decimal, util% = 100 * busy / (busy + idle) with one decimal
// ("-" before any time was counted). The total row is the sum of the rows
// printed (one reading of each worker). Like snprintf: writes at most cap
// bytes, NUL included (nothing when cap is 0; buf may then be NULL), and
// returns the length of the whole table, so a result >= cap means it was
// cut. Works under BEAT_NO_STDIO. Errors (negative): INVALID_ARGUMENT
// (NULL pool, NULL buf with cap > 0). Thread safety: any thread.
BEAT_API int beat_pool_stats_format(const beat_pool *pool, char *buf, size_t cap);

#ifndef BEAT_NO_STDIO
// beat_pool_stats_format written to out (one allocation through the
// pool's allocator for the text). Errors: INVALID_ARGUMENT (NULL pool or
// out), OUT_OF_MEMORY, IO (the write failed). Absent under BEAT_NO_STDIO.
// Thread safety: any thread.
BEAT_API beat_result beat_pool_stats_print(const beat_pool *pool, FILE *out);
#endif

// ---------------------------------------------------------------------------
// Configuration review

// A review of cfg for this machine, one finding per line ("<field>: <the
// problem>. Fix: <what to do>."): values beat_pool_create rejects, more
// workers than the CPUs this process may use (affinity mask, cgroup cpuset
// and CPU quota, read below cfg->sysfs_root), pinning where the topology
// cannot be read or worker_cpus names CPUs not allowed, heartbeat or spin
// times at extremes, memory_aware without PSI or a memory cgroup to read,
// pressure fields that are ignored, a stuck_wait_ms or checks without a
// logger, a small stack. An empty text means nothing to report. cfg NULL
// reviews the defaults. It reads /sys, /proc and cgroup files (and
// allocates briefly through BEAT_MALLOC) like beat_pool_create; it starts
// no thread. Like snprintf: writes at most cap bytes (NUL included; buf may
// be NULL when cap is 0) and returns the length of the whole review.
// Errors (negative): INVALID_ARGUMENT (NULL buf with cap > 0).
// Thread safety: any thread.
BEAT_API int beat_config_analyze(const beat_config *cfg, char *buf, size_t cap);

// ---------------------------------------------------------------------------
// Loops

// Calls body on disjoint chunks covering [begin, end) exactly once,
// potentially in parallel, and returns when all have finished. grain is the
// minimum chunk length (0 = automatic, i.e. 1). The range runs in chunks
// that start at the grain and double up to 1024 elements (or the grain),
// and is split in halves only when the heartbeat or an idle worker asks,
// so grain 0 suits tiny and huge ranges alike. begin >= end does nothing.
// Thread safety: only from a task, with that task's ctx (with checks, a
// ctx of another thread as in beat_spawn; from outside the pool the loop
// runs through beat_pool_parallel_for).
BEAT_API void beat_parallel_for(beat_ctx *ctx, size_t begin, size_t end, size_t grain,
                                beat_range_fn body, void *arg);

// Parallel reduce over [begin, end) with partial results of partial_size
// bytes (at most BEAT_REDUCE_MAX_PARTIAL). Each chunk starts from a copy of
// identity; body folds its indices into it in order; combine(left, right)
// folds the partial of the following chunk into the preceding one, so an
// associative but non-commutative combine gives the same result as a
// serial left-to-right fold. result receives the total (identity for an
// empty range). grain as in beat_parallel_for.
// Errors: INVALID_ARGUMENT (NULL functions or pointers, partial_size 0 or
// too large). Thread safety: only from a task, with that task's ctx (with
// checks, a ctx of another thread as in beat_spawn; from outside the pool
// it runs through beat_pool_parallel_reduce, with its errors).
#define BEAT_REDUCE_MAX_PARTIAL 256
typedef void (*beat_reduce_fn)(beat_ctx *ctx, size_t begin, size_t end, void *partial, void *arg);
typedef void (*beat_combine_fn)(void *left, const void *right, void *arg);
BEAT_API beat_result beat_parallel_reduce(beat_ctx *ctx, size_t begin, size_t end, size_t grain,
                                          const void *identity, size_t partial_size,
                                          beat_reduce_fn body, beat_combine_fn combine, void *arg,
                                          void *result);

// beat_parallel_reduce from outside the pool (through beat_run).
// Errors: as beat_parallel_reduce and beat_run. Thread safety: any thread
// outside the pool.
BEAT_API beat_result beat_pool_parallel_reduce(beat_pool *pool, size_t begin, size_t end,
                                               size_t grain, const void *identity,
                                               size_t partial_size, beat_reduce_fn body,
                                               beat_combine_fn combine, void *arg, void *result);

// beat_parallel_for from outside the pool (through beat_run).
// Errors: as beat_run. Thread safety: any thread outside the pool.
BEAT_API beat_result beat_pool_parallel_for(beat_pool *pool, size_t begin, size_t end, size_t grain,
                                            beat_range_fn body, void *arg);

// ---------------------------------------------------------------------------
// Prediction: what the scheduler measured (see beat_config.predict_off)

// The pool's estimate of one run of fn as a job (submitted, spawned or in
// a batch), in ns: a mean of the workers' One Euro estimates, weighted by
// their sample counts (at most 32 each), over the workers that timed fn
// within 250 ms of the latest. For planning (how much fits in a frame);
// it follows drifts within a few timed runs. Errors: INVALID_ARGUMENT
// (NULL pool, fn or ns), NO_DATA (fn not timed yet: no estimate),
// UNSUPPORTED (predict_off, or BEAT_NO_PREDICT). Thread safety: any thread.
BEAT_API beat_result beat_predict_ns(const beat_pool *pool, beat_fn fn, uint64_t *ns);

// The same for items iterations of a loop body (beat_parallel_for and
// friends time their chunks per item): the per-item estimate times items.
// Errors: as beat_predict_ns. Thread safety: any thread.
BEAT_API beat_result beat_predict_range_ns(const beat_pool *pool, beat_range_fn body, size_t items,
                                           uint64_t *ns);

#ifdef __cplusplus
}
#endif
