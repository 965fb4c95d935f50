// Public API definitions: configuration, pool lifecycle, jobs from any
// thread. Every entry point validates its arguments here; the sections
// above assume valid input.
#include "forkjoin.c"

#define BEAT__MAX_WORKERS 1024u
#define BEAT__MAX_DEQUE_CAPACITY (1u << 24)
#define BEAT__DEFAULT_SPIN_US 10u
#define BEAT__PERFORMANCE_SPIN_US 50u
#define BEAT__DEFAULT_DEQUE_CAPACITY 256u
#define BEAT__PERFORMANCE_DEQUE_CAPACITY 1024u
#define BEAT__DEFAULT_PRESSURE_INTERVAL_MS 100u
#define BEAT__MAX_PREDICT_SLOTS 65536u
#define BEAT__DEVELOPMENT_STUCK_WAIT_MS 5000u
#define BEAT__MAX_STUCK_WAIT_MS 3600000u

// ---------------------------------------------------------------------------
// Fork detection. The child of fork() has one thread, the one that forked:
// the pool's workers do not exist there, so a job queued in the child would
// never run and a wait would sleep forever. Each pool keeps the fork
// generation it was created in (platform.c counts forks with a
// pthread_atfork handler), and the entry points compare it with the
// current one (beat__forked in scheduler.c: one load; a getpid() per submit
// would be a system call). In a child, submits and beat_run return
// BEAT_ERROR_FORKED, beat_pool_wait reports and returns, and
// beat_pool_destroy frees the memory without waiting or joining.

// Reports a blocking call on a pool inherited through fork(); returns 1 then.
BEAT__PRIVATE int beat__forked_report(const beat_pool *pool, const char *what)
{
    if (!beat__forked(pool))
        return 0;
    beat__log(&pool->cfg.logger, BEAT_LOG_ERROR, "%s: %s", what,
              beat_result_advice(BEAT_ERROR_FORKED));
    return 1;
}

BEAT__DEF beat_config beat_config_default(beat_profile profile)
{
    beat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.profile = profile;
    cfg.heartbeat_us = BEAT_HEARTBEAT_US;
    cfg.spin_us = BEAT__DEFAULT_SPIN_US;
    cfg.deque_capacity = BEAT__DEFAULT_DEQUE_CAPACITY;
    switch (profile) {
    case BEAT_PROFILE_PERFORMANCE:
    case BEAT_PROFILE_ADVANCED:
        cfg.spin_us = BEAT__PERFORMANCE_SPIN_US;
        cfg.deque_capacity = BEAT__PERFORMANCE_DEQUE_CAPACITY;
        cfg.pin_workers = 1;
        cfg.memory_aware = profile == BEAT_PROFILE_ADVANCED;
        break;
    case BEAT_PROFILE_DEVELOPMENT:
        cfg.checks = 1;
        cfg.stuck_wait_ms = BEAT__DEVELOPMENT_STUCK_WAIT_MS;
#ifndef BEAT_NO_STDIO
        cfg.logger.fn = beat_log_stderr;
#endif
        break;
    case BEAT_PROFILE_BASIC:
        break;
    }
    return cfg;
}

// Why beat_pool_create rejects cfg, or NULL (also beat_config_analyze).
BEAT__PRIVATE const char *beat__config_problem(const beat_config *cfg)
{
    const char *problem = NULL;
    if (cfg->workers > BEAT__MAX_WORKERS)
        problem = "workers is above 1024; use 0 for one worker per allowed CPU";
    else if (cfg->heartbeat_us > 1000000u)
        problem = "heartbeat_us is above 1000000 (1 s); use 0 for the default 100 us";
    else if (cfg->spin_us > 1000000u)
        problem = "spin_us is above 1000000 (1 s); use 0 for the profile default";
    else if (cfg->deque_capacity != 0 &&
             (cfg->deque_capacity < 2 || cfg->deque_capacity > BEAT__MAX_DEQUE_CAPACITY ||
              (cfg->deque_capacity & (cfg->deque_capacity - 1)) != 0))
        problem = "deque_capacity must be 0 or a power of two from 2 to 2^24";
    else if (!beat__allocator_valid(&cfg->allocator))
        problem = "allocator has only one of alloc and free; set both or neither";
    else if ((unsigned)cfg->profile > (unsigned)BEAT_PROFILE_DEVELOPMENT)
        problem = "profile is not a beat_profile value";
    // The pool's own code needs some of it (pressure sampling builds paths
    // in PATH_MAX buffers): 16 KiB overflowed under ASan (found by fuzz_config).
    else if (cfg->stack_size != 0 && cfg->stack_size < 65536)
        problem = "stack_size is below 64 KiB; use 0 for the system default";
    else if ((cfg->worker_cpus == NULL) != (cfg->worker_cpus_count == 0))
        problem = "worker_cpus and worker_cpus_count must be set together (or both left 0)";
    else if (cfg->predict_slots > BEAT__MAX_PREDICT_SLOTS)
        problem = "predict_slots is above 65536; use 0 for the default 256";
    else if (cfg->pressure_interval_ms > 60000u)
        problem = "pressure_interval_ms is above 60000 (1 min); use 0 for the default 100 ms";
    else if (cfg->memory_aware && cfg->pressure_workers > BEAT__MAX_WORKERS)
        problem = "pressure_workers is above 1024; use 0 for half the workers";
    else if (cfg->stuck_wait_ms > BEAT__MAX_STUCK_WAIT_MS)
        problem = "stuck_wait_ms is above 3600000 (1 h); use 0 to turn the report off";
    return problem;
}

// Logs why cfg is invalid and returns INVALID_ARGUMENT, or returns OK.
BEAT__PRIVATE beat_result beat__config_check(const beat_config *cfg)
{
    const char *problem = beat__config_problem(cfg);
    if (problem == NULL)
        return BEAT_OK;
    beat__log(&cfg->logger, BEAT_LOG_ERROR, "beat_pool_create: %s", problem);
    return BEAT_ERROR_INVALID_ARGUMENT;
}

// Deque buffers of a placed worker come from its NUMA node (whole pages),
// unless the user supplied an allocator: then everything goes there.
BEAT__PRIVATE int beat__deque_on_node(const beat_ctx *ctx)
{
    return ctx->node >= 0 && ctx->pool->cfg.allocator.alloc == NULL;
}

BEAT__PRIVATE void *beat__deque_alloc(size_t bytes, void *user)
{
    beat_ctx *ctx = (beat_ctx *)user;
    if (!beat__deque_on_node(ctx))
        return beat__alloc(&ctx->pool->cfg.allocator, bytes, BEAT_CACHELINE);
    void *p = NULL;
    return beat_numa_alloc(bytes, ctx->node, &p) == BEAT_OK ? p : NULL;
}

BEAT__PRIVATE void beat__deque_release(void *ptr, size_t bytes, void *user)
{
    beat_ctx *ctx = (beat_ctx *)user;
    if (!beat__deque_on_node(ctx))
        beat__free(&ctx->pool->cfg.allocator, ptr, bytes, BEAT_CACHELINE);
    else
        beat_numa_free(ptr, bytes);
}

// Chooses each worker's CPU and orders its victims by distance, when the
// configuration asks for pinning. Returns OK (also when the topology cannot
// be read and pin_workers alone asked: then nothing is pinned),
// INVALID_ARGUMENT (worker_cpus names a CPU not allowed) or OUT_OF_MEMORY.
BEAT__PRIVATE beat_result beat__pool_place(beat_pool *pool)
{
    const beat_config *cfg = &pool->cfg;
    for (unsigned i = 0; i < pool->nslots; i++) {
        pool->workers[i].cpu = -1;
        pool->workers[i].node = -1;
    }
    if (!cfg->pin_workers && cfg->worker_cpus == NULL)
        return BEAT_OK;
    beat_topology topo;
    beat_result r = beat_topology_detect(cfg->sysfs_root, &topo);
    if (r != BEAT_OK) {
        beat__log(&cfg->logger, BEAT_LOG_WARN,
                  "beat_pool_create: cannot read the CPU topology below \"%s\" (%s); workers run "
                  "unpinned",
                  cfg->sysfs_root != NULL ? cfg->sysfs_root : "/", beat_result_string(r));
        return r == BEAT_ERROR_OUT_OF_MEMORY || cfg->worker_cpus != NULL ? r : BEAT_OK;
    }
    size_t nvictims = (size_t)pool->nworkers * (pool->nslots - 1u);
    size_t bytes = sizeof(unsigned) * (nvictims + pool->nworkers);
    unsigned *block = (unsigned *)beat__alloc(&cfg->allocator, bytes, sizeof(unsigned));
    unsigned bad_cpu = 0;
    if (block == NULL)
        r = BEAT_ERROR_OUT_OF_MEMORY;
    else
        r = beat__placement_choose(&topo, pool->nworkers, cfg->worker_cpus, cfg->worker_cpus_count,
                                   block + nvictims, &bad_cpu);
    if (r == BEAT_ERROR_INVALID_ARGUMENT)
        beat__log(&cfg->logger, BEAT_LOG_ERROR,
                  "beat_pool_create: worker_cpus names CPU %u, which this process may not use "
                  "(%u allowed by its affinity mask and cgroup cpuset); pick CPUs that "
                  "beat-topo --tree marks allowed, or set pin_workers instead",
                  bad_cpu, topo.npus_allowed);
    if (r == BEAT_OK) {
        const unsigned *pu_of_worker = block + nvictims;
        for (unsigned w = 0; w < pool->nworkers; w++) {
            beat_ctx *ctx = &pool->workers[w];
            const beat_topo_pu *pu = &topo.pus[pu_of_worker[w]];
            ctx->cpu = (int)pu->os_index;
            ctx->node = pu->node < topo.nnodes ? (int)topo.nodes[pu->node].os_index : -1;
            unsigned *victims = block + (size_t)w * (pool->nslots - 1u);
            beat__placement_victims(&topo, pu_of_worker, pool->nworkers, pool->nslots, w, victims,
                                    ctx->victim_end);
            ctx->victims = victims;
        }
        pool->placement = block;
        pool->placement_bytes = bytes;
    } else if (block != NULL) {
        beat__free(&cfg->allocator, block, bytes, sizeof(unsigned));
    }
    beat_topology_release(&topo);
    return r;
}

// Locates the pressure files below root into files; UNSUPPORTED when
// neither a PSI file nor a memory cgroup limit can be read there (nothing
// to sample). Also used by beat_config_analyze.
BEAT__PRIVATE beat_result beat__pressure_probe(const char *root, beat_pressure_files *files)
{
    beat_result r = beat_pressure_locate(root, files);
    beat_psi psi;
    beat_memory_headroom room;
    if (r == BEAT_OK && beat_psi_read_at(root, files->pressure, &psi, NULL, 0) != BEAT_OK &&
        (beat_memory_headroom_read(root, files, &room) != BEAT_OK || room.limit == 0))
        r = BEAT_ERROR_UNSUPPORTED;
    return r;
}

// Memory awareness: the interval, the thresholds, and where to read.
// Without the files (BEAT_NO_PSI, or nothing found) the level stays NONE,
// with a warning. Returns OK or OUT_OF_MEMORY.
BEAT__PRIVATE beat_result beat__pool_pressure_init(beat_pool *pool)
{
    const beat_config *cfg = &pool->cfg;
    unsigned ms = cfg->pressure_interval_ms != 0 ? cfg->pressure_interval_ms
                                                 : BEAT__DEFAULT_PRESSURE_INTERVAL_MS;
    pool->pressure_interval_ns = (uint64_t)ms * 1000000u;
    pool->thresholds = cfg->pressure_thresholds != NULL ? *cfg->pressure_thresholds
                                                        : beat_pressure_thresholds_default();
    pool->pressure_every = pool->predict != NULL ? 64u : 1u;
    if (cfg->pressure_source != NULL)
        return BEAT_OK;
    beat_pressure_files *files = (beat_pressure_files *)beat__alloc(
        &pool->cfg.allocator, sizeof(beat_pressure_files), BEAT_CACHELINE);
    if (files == NULL)
        return BEAT_ERROR_OUT_OF_MEMORY;
    beat_result r = beat__pressure_probe(cfg->sysfs_root, files);
    if (r != BEAT_OK) {
        beat__free(&pool->cfg.allocator, files, sizeof(beat_pressure_files), BEAT_CACHELINE);
        if (r == BEAT_ERROR_OUT_OF_MEMORY)
            return r;
        beat__log(&cfg->logger, BEAT_LOG_WARN,
                  "beat_pool_create: memory_aware is set but neither a PSI file nor a memory "
                  "cgroup limit can be read below \"%s\" (%s); the pressure level stays none",
                  cfg->sysfs_root != NULL ? cfg->sysfs_root : "/", beat_result_string(r));
        return BEAT_OK;
    }
    pool->pressure_files = files;
    return BEAT_OK;
}

// An outside thread waits until the count of word (the pool's jobs, or a
// counter of its jobs) is done, held deferrable jobs included: while it
// waits, deferrable jobs are not held (they may be part of what it waits
// for), also those that running jobs submit meanwhile.
BEAT__PRIVATE void beat__outside_drain(beat_pool *pool, uint64_t *word)
{
    // Seq_cst: pairs with the fence in beat__submit (see there).
    beat__atomic_fetch_add_u32(&pool->draining, 1, BEAT__MO_SEQ_CST);
    beat__arena_owner_waits(&pool->arena);
    beat__deferred_release(pool);
    beat__outside_wait(pool, word);
    beat__atomic_fetch_sub_u32(&pool->draining, 1, BEAT__MO_RELAXED);
}

// Waits until every job has finished (beat__outside_drain).
BEAT__PRIVATE void beat__pool_drain(beat_pool *pool) { beat__outside_drain(pool, &pool->jobs); }

// Stops and joins the started workers and frees everything. Also the error
// path of create, so every step tolerates a half-built pool.
BEAT__PRIVATE void beat__pool_free(beat_pool *pool, unsigned deques)
{
    beat__atomic_store_u32(&pool->stopping, 1, BEAT__MO_SEQ_CST);
    beat__idle_wake_all(pool);
    beat__futex_bump_wake(&pool->throttle_epoch, BEAT__FUTEX_WAKE_ALL);
    for (unsigned i = 0; i < pool->started; i++)
        beat__thread_join(&pool->workers[i].thread);
    beat__trace_finish(pool, pool->started == pool->nworkers && deques == pool->nslots); // ran
    for (unsigned i = 0; i < deques; i++)
        beat__deque_destroy(&pool->workers[i].deque);
    beat_allocator allocator = pool->cfg.allocator;
    beat__free(&allocator, pool->placement, pool->placement_bytes, sizeof(unsigned));
    if (pool->workers != NULL)
        beat__free(&allocator, pool->workers, sizeof(beat_ctx) * pool->nslots, BEAT_CACHELINE);
    beat_mempool_destroy(pool->tasks);
    beat__arena_destroy(&pool->arena, &allocator);
    beat__batch_spares_trim(pool);
    beat__predictor_destroy(pool->predict);
    beat__free(&allocator, pool->pressure_files, sizeof(beat_pressure_files), BEAT_CACHELINE);
    beat__free(&allocator, pool, sizeof(beat_pool), BEAT_CACHELINE);
}

BEAT__PRIVATE beat_result beat__pool_start_workers(beat_pool *pool)
{
    for (unsigned i = 0; i < pool->nworkers; i++) {
        beat_ctx *ctx = &pool->workers[i];
        beat_result hook = BEAT_OK;
        if (pool->cfg.before_thread_create != NULL)
            hook = pool->cfg.before_thread_create(i, pool->cfg.user);
        int err = hook == BEAT_OK ? beat__thread_start(&ctx->thread, beat__worker_main, ctx,
                                                       pool->cfg.stack_size)
                                  : -1;
        if (err != 0) {
            beat__log(&pool->cfg.logger, BEAT_LOG_ERROR,
                      "beat_pool_create: cannot start worker %u of %u (error %d); %s", i,
                      pool->nworkers, err, beat_result_advice(BEAT_ERROR_THREAD_CREATE));
            return BEAT_ERROR_THREAD_CREATE;
        }
        pool->started = i + 1;
    }
    return BEAT_OK;
}

BEAT__DEF beat_result beat_pool_create(const beat_config *cfg_in, beat_pool **out)
{
    if (out == NULL) {
        if (cfg_in != NULL)
            beat__log(&cfg_in->logger, BEAT_LOG_ERROR,
                      "beat_pool_create: out is NULL; pass the address of a beat_pool pointer");
        return BEAT_ERROR_INVALID_ARGUMENT;
    }
    *out = NULL;
    beat_config cfg;
    if (cfg_in != NULL)
        cfg = *cfg_in;
    else
        memset(&cfg, 0, sizeof cfg);
    beat_result r = beat__config_check(&cfg);
    if (r != BEAT_OK)
        return r;
    if (cfg.workers == 0) // allowed CPUs (affinity, cgroup cpuset) capped by the cgroup quota
        cfg.workers = beat__topology_default_workers(cfg.sysfs_root);
    if (cfg.workers > BEAT__MAX_WORKERS)
        cfg.workers = BEAT__MAX_WORKERS;
    if (cfg.heartbeat_us == 0)
        cfg.heartbeat_us = BEAT_HEARTBEAT_US;
    if (cfg.spin_us == 0)
        cfg.spin_us = BEAT__DEFAULT_SPIN_US;
    if (cfg.deque_capacity == 0)
        cfg.deque_capacity = BEAT__DEFAULT_DEQUE_CAPACITY;

    beat_pool *pool = (beat_pool *)beat__alloc(&cfg.allocator, sizeof(beat_pool), BEAT_CACHELINE);
    if (pool == NULL) {
        beat__log(&cfg.logger, BEAT_LOG_ERROR, "beat_pool_create: out of memory; %s",
                  beat_result_advice(BEAT_ERROR_OUT_OF_MEMORY));
        return BEAT_ERROR_OUT_OF_MEMORY;
    }
    memset(pool, 0, sizeof *pool);
    pool->cfg = cfg;
    pool->nworkers = cfg.workers;
    pool->nslots = cfg.workers + BEAT_OUTSIDE_SLOTS;
    pool->spin_ns = (uint64_t)cfg.spin_us * 1000u;
    pool->outside_spin_window = pool->spin_ns;
    pool->heartbeat_ns = (uint64_t)cfg.heartbeat_us * 1000u;
    pool->checks = cfg.checks || BEAT_DEBUG;
    pool->stuck_ns = pool->checks ? (uint64_t)cfg.stuck_wait_ms * 1000000u : 0;
    pool->accepting = 1;
    if (beat__fork_watch() != 0) // fork detection (see above)
        beat__log(&cfg.logger, BEAT_LOG_WARN,
                  "beat_pool_create: pthread_atfork failed; a fork() child using this pool will "
                  "not be told (BEAT_ERROR_FORKED) and may hang");
    pool->fork_generation = beat__fork_generation();
    beat__inject_init(&pool->inject);
    beat__arena_init(&pool->arena);
    pool->inject.ring = &pool->arena; // the ring owners' submits (submit_arena.c)
    beat__inject_init(&pool->deferred);
    beat__inject_init(&pool->main_jobs);
#if BEAT_PRIORITIES > 1
    beat__inject_init(&pool->inject_high);
#endif
#if BEAT_PRIORITIES > 2
    beat__inject_init(&pool->inject_low);
#endif
    pool->run_limit = pool->nworkers;

    size_t record = sizeof(beat__task) > sizeof(beat__loop_piece) ? sizeof(beat__task)
                                                                  : sizeof(beat__loop_piece);
    r = beat_mempool_create(record, 0, &cfg.allocator, &pool->tasks);
    if (r == BEAT_OK) {
        pool->workers = (beat_ctx *)beat__alloc(&cfg.allocator, sizeof(beat_ctx) * pool->nslots,
                                                BEAT_CACHELINE);
        if (pool->workers == NULL)
            r = BEAT_ERROR_OUT_OF_MEMORY;
    }
    unsigned deques = 0;
    if (r == BEAT_OK && !cfg.predict_off)
        r = beat__predictor_create(pool->nslots, cfg.predict_slots, &cfg.allocator, &pool->predict);
    if (r == BEAT_OK && cfg.memory_aware)
        r = beat__pool_pressure_init(pool);
    if (r == BEAT_OK) {
        memset(pool->workers, 0, sizeof(beat_ctx) * pool->nslots);
        for (unsigned i = 0; i < pool->nslots; i++)
            pool->workers[i].pool = pool;
        r = beat__pool_place(pool);
    }
    if (r == BEAT_OK) {
        for (; deques < pool->nslots; deques++) {
            beat_ctx *ctx = &pool->workers[deques];
            beat__deque_mem mem = {beat__deque_alloc, beat__deque_release, ctx};
            ctx->index = deques;
            ctx->rng = UINT64_C(0x9E3779B97F4A7C15) * (deques + 1);
            ctx->poll_interval = BEAT__POLL_MIN;
            ctx->spin_window = pool->spin_ns;
            ctx->prio = BEAT_PRIORITY_LOW; // no job running: takes any
            beat__inject_init(&ctx->pinned);
            if (beat__deque_init(&ctx->deque, cfg.deque_capacity, &mem) != 0) {
                beat__deque_destroy(&ctx->deque);
                r = BEAT_ERROR_OUT_OF_MEMORY;
                break;
            }
        }
    }
    if (r == BEAT_OK)
        r = beat__trace_start(pool);
    if (r == BEAT_OK)
        r = beat__pool_start_workers(pool);
    if (r != BEAT_OK) {
        if (r == BEAT_ERROR_OUT_OF_MEMORY)
            beat__log(&cfg.logger, BEAT_LOG_ERROR, "beat_pool_create: out of memory; %s",
                      beat_result_advice(r));
        beat__pool_free(pool, deques);
        return r;
    }
    *out = pool;
    return BEAT_OK;
}

// 1 (and a report) when the calling thread is a worker of pool.
BEAT__PRIVATE int beat__called_from_own_worker(const beat_pool *pool, const char *what)
{
    if (beat__own_ctx(pool) == NULL)
        return 0;
    beat__log(&pool->cfg.logger, BEAT_LOG_ERROR,
              "%s [wait-inside-pool]: called from a task of the same pool, it would wait for "
              "itself; it is for threads outside the pool. Fix: call it from outside the pool, "
              "or wait on a beat_counter inside it. The call was refused.",
              what);
    return 1;
}

BEAT__DEF void beat_pool_destroy(beat_pool *pool)
{
    if (pool == NULL || beat__called_from_own_worker(pool, "beat_pool_destroy"))
        return;
    if (beat__forked(pool)) { // fork detection: no workers here to drain or join
        pool->started = 0;
        beat__pool_free(pool, pool->nslots);
        return;
    }
    // Relaxed: only a best-effort report of misuse (an outside submit that
    // races destroy is undefined); jobs running now may still submit.
    beat__atomic_store_u32(&pool->accepting, 0, BEAT__MO_RELAXED);
    // Jobs may queue main-thread jobs and those may submit jobs: alternate
    // until both are done.
    do
        beat__pool_drain(pool);
    while (beat__main_jobs_run(pool) != 0);
    beat__pool_free(pool, pool->nslots);
}

BEAT__DEF unsigned beat_pool_workers(const beat_pool *pool)
{
    return pool == NULL ? 0 : pool->nworkers;
}

BEAT__DEF unsigned beat_pool_contexts(const beat_pool *pool)
{
    return pool == NULL ? 0 : pool->nslots;
}

BEAT__DEF beat_result beat_pool_stats(const beat_pool *pool, beat_stats *total,
                                      beat_stats *per_worker, unsigned capacity)
{
    if (pool == NULL || (per_worker == NULL && capacity != 0))
        return BEAT_ERROR_INVALID_ARGUMENT;
    beat_stats sum;
    memset(&sum, 0, sizeof sum);
    uint64_t now = beat__now_ns(); // the open busy or idle phases count up to now
    for (unsigned i = 0; i < pool->nslots; i++) {
        beat_stats w;
        beat__stats_read(&pool->workers[i], now, &w); // stats.c
        if (i < capacity)
            per_worker[i] = w;
        beat__stats_add(&sum, &w);
    }
    // Relaxed: a monotonic count read while jobs are submitted.
    sum.deferred = beat__atomic_load_u64(&pool->deferred_total, BEAT__MO_RELAXED);
    if (total != NULL)
        *total = sum;
    return BEAT_OK;
}

BEAT__DEF unsigned beat_ctx_worker(const beat_ctx *ctx) { return ctx == NULL ? 0 : ctx->index; }

BEAT__DEF beat_pool *beat_ctx_pool(const beat_ctx *ctx) { return ctx == NULL ? NULL : ctx->pool; }

// beat_submit; deferrable jobs go to the deferred queue while the pressure
// level is HIGH or above.
// prio: the job's beat_priority (a NORMAL job from a worker goes to its
// deque; other priorities always go to their queue). counter (may be
// NULL): incremented now, decremented once the job has run; such a job
// takes a record from the mempool (an arena record's counter field names
// its block, a ring job has none).
BEAT__PRIVATE beat_result beat__submit(beat_pool *pool, beat_fn fn, void *arg, int deferrable,
                                       unsigned prio, beat_counter *counter)
{
    if (pool == NULL || fn == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    if (beat__forked(pool)) // fork detection: the workers do not exist here
        return BEAT_ERROR_FORKED;
    beat_ctx *self = beat__own_ctx(pool);
    // Jobs of this pool may submit while destroy drains (they are part of
    // the work it finishes); outside threads may not.
    if (self == NULL && !beat__atomic_load_u32(&pool->accepting, BEAT__MO_RELAXED))
        return beat__refuse_shutdown(pool, deferrable ? "beat_submit_deferrable" : "beat_submit");
    // An outside thread's NORMAL job goes through its ring in the submit
    // arena when it owns one (the first threads to ask take one each).
    int ring = !deferrable && prio == BEAT_PRIORITY_NORMAL && counter == NULL;
    if (self == NULL && ring) {
        beat__arena_ring *r;
        beat__ring_job *job = beat__arena_ring_slot(&pool->arena, &pool->cfg.allocator, &r);
        if (job != NULL) {
            job->fn = fn;
            job->arg = arg;
            beat__arena_publish(r);
            beat__idle_notify_published(pool);
            return BEAT_OK;
        }
    }
    // Other outside threads take records in address order from the submit
    // arena's shared block (submit_arena.c); workers, and outside threads
    // when the arena is busy or out of memory, take them from the mempool.
    beat__arena_block *block = NULL;
    beat__task *t = self == NULL && counter == NULL
                        ? beat__arena_take(&pool->arena, &pool->cfg.allocator, &block)
                        : NULL;
    if (t == NULL) {
        t = (beat__task *)beat_mempool_alloc(pool->tasks, self ? &self->task_cache : NULL);
        if (t == NULL)
            return BEAT_ERROR_OUT_OF_MEMORY;
    }
    // An arena record bound for the NORMAL queue is counted by the worker
    // that claims it ("Counted on claim", submit_arena.c); any other job now.
    uint32_t uncounted = block != NULL && ring ? BEAT__TASK_UNCOUNTED : 0;
    if (!uncounted) {
        // Relaxed: the push below publishes the job (release) after this
        // increment, so its decrement is ordered after it.
        beat__atomic_fetch_add_u64(&pool->jobs, 1, BEAT__MO_RELAXED);
    }
    if (counter != NULL) {
        // Relaxed: the push below publishes (release) the increment with
        // the job, so its decrement is ordered after it.
        beat__atomic_fetch_add_u64(&counter->beat__state, 1, BEAT__MO_RELAXED);
    }
    // An arena record names its block in its counter field (its job has no counter).
    beat__task_init(t, fn, arg, block != NULL ? (beat_counter *)(void *)block : counter,
                    (block == NULL ? BEAT__TASK_POOLED : BEAT__TASK_ARENA) | BEAT__TASK_JOB |
                        BEAT__TASK_TIMED | uncounted |
                        (BEAT_PRIORITIES > 1 ? BEAT__TASK_PRIO(prio) : 0));
    // Relaxed: a stale level holds or queues one job early or late; the
    // re-check below keeps a held job from being missed by a release.
    if (deferrable && pool->cfg.memory_aware &&
        beat__atomic_load_u32(&pool->pressure_level, BEAT__MO_RELAXED) >= BEAT_PRESSURE_HIGH &&
        beat__atomic_load_u32(&pool->draining, BEAT__MO_RELAXED) == 0) {
        beat__atomic_fetch_add_u64(&pool->deferred_held, 1, BEAT__MO_RELAXED);
        beat__atomic_fetch_add_u64(&pool->deferred_total, 1, BEAT__MO_RELAXED);
        beat__inject_push(&pool->deferred, t);
        // Pairs with the seq_cst exchange of the level in the sampler and
        // the increment of draining in beat__pool_drain: either they see
        // our job when they release, or we see the level or the waiter.
        beat__fence_seq_cst();
        if (beat__atomic_load_u32(&pool->pressure_level, BEAT__MO_RELAXED) < BEAT_PRESSURE_HIGH ||
            beat__atomic_load_u32(&pool->draining, BEAT__MO_RELAXED) != 0)
            beat__deferred_release(pool);
        return BEAT_OK;
    }
    if (self != NULL && (BEAT_PRIORITIES == 1 || prio == BEAT_PRIORITY_NORMAL)) {
        if (beat__push_local(self, t) != 0) {
            beat_mempool_free(pool->tasks, &self->task_cache, t);
            if (counter != NULL)
                beat__count_done(pool, &counter->beat__state);
            beat__count_done(pool, &pool->jobs);
            return BEAT_ERROR_OUT_OF_MEMORY;
        }
        return BEAT_OK;
    }
    beat__inject_push(beat__queue_of(pool, prio), t);
    beat__idle_notify_pushed(pool);
    return BEAT_OK;
}

BEAT__DEF beat_result beat_submit(beat_pool *pool, beat_fn fn, void *arg)
{
    return beat__submit(pool, fn, arg, 0, BEAT_PRIORITY_NORMAL, NULL);
}

BEAT__DEF beat_result beat_submit_deferrable(beat_pool *pool, beat_fn fn, void *arg)
{
    return beat__submit(pool, fn, arg, 1, BEAT_PRIORITY_NORMAL, NULL);
}

BEAT__DEF beat_pressure_level beat_pool_pressure(const beat_pool *pool)
{
    // Relaxed: a snapshot for display and decisions outside the pool.
    return pool == NULL ? BEAT_PRESSURE_NONE
                        : (beat_pressure_level)beat__atomic_load_u32(&pool->pressure_level,
                                                                     BEAT__MO_RELAXED);
}

BEAT__DEF beat_result beat_pool_wait_checked(beat_pool *pool)
{
    if (pool == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    if (beat__called_from_own_worker(pool, "beat_pool_wait"))
        return BEAT_ERROR_DEADLOCK;
    if (beat__forked_report(pool, "beat_pool_wait"))
        return BEAT_ERROR_FORKED;
    beat__pool_drain(pool);
    return BEAT_OK;
}

BEAT__DEF void beat_pool_wait(beat_pool *pool) { (void)beat_pool_wait_checked(pool); }

// Claims a free outside slot, or NULL when all are in use.
BEAT__PRIVATE beat_ctx *beat__outside_claim(beat_pool *pool)
{
    for (unsigned i = pool->nworkers; i < pool->nslots; i++) {
        uint32_t free_slot = 0;
        // Acquire: pairs with the release of the previous user, whose
        // deque and cache we take over.
        if (beat__atomic_cas_u32(&pool->workers[i].claimed, &free_slot, 1, BEAT__MO_ACQUIRE,
                                 BEAT__MO_RELAXED))
            return &pool->workers[i];
    }
    return NULL;
}

// Runs fn on the calling thread as slot's context: its pcalls and loops
// are promoted to the slot's deque, where workers steal them, and its
// joins help. Before the slot is released its deque is drained (tasks
// spawned and never waited for are run here).
BEAT__PRIVATE void beat__outside_run(beat_ctx *slot, beat_fn fn, void *arg)
{
    beat_ctx *outer = beat__current; // a worker of another pool, or NULL
    beat__current = slot;
    beat__turn_busy(slot); // an outside slot is busy for all of beat_run but its idle waits
    uint32_t traced = BEAT__TRACE_OPEN(slot);
    fn(slot, arg);
    BEAT__TRACE_CLOSE(slot, traced, BEAT__TRACE_RUN, fn, 0, 0);
    for (beat__task *t; (t = (beat__task *)beat__deque_pop_owner(&slot->deque)) != NULL;)
        beat__task_run(slot, t);
    beat__jobs_flush(slot);
    beat__time_phase(slot, beat__now_ns(), BEAT__PHASE_OFF);
    beat__current = outer;
    beat__atomic_store_u32(&slot->claimed, 0, BEAT__MO_RELEASE);
}

BEAT__DEF beat_result beat_run(beat_pool *pool, beat_fn fn, void *arg)
{
    if (pool == NULL || fn == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    if (beat__called_from_own_worker(pool, "beat_run"))
        return BEAT_ERROR_DEADLOCK;
    if (beat__forked_report(pool, "beat_run"))
        return BEAT_ERROR_FORKED;
    if (!beat__atomic_load_u32(&pool->accepting, BEAT__MO_RELAXED))
        return beat__refuse_shutdown(pool, "beat_run");
    beat_ctx *slot = beat__outside_claim(pool);
    if (slot != NULL) {
        beat__outside_run(slot, fn, arg);
        return BEAT_OK;
    }
    // Every slot is taken: hand the task to a worker and wait. It lives on
    // this stack: we do not return before it has run.
    beat_counter done = {1};
    beat__task t = {fn, arg, &done, NULL, 0, 0};
    beat__inject_push(&pool->inject, &t);
    beat__idle_notify(pool);
    beat__outside_wait(pool, &done.beat__state);
    return BEAT_OK;
}

typedef struct beat__pool_for {
    size_t begin, end, grain;
    beat_range_fn body;
    void *arg;
} beat__pool_for;

BEAT__PRIVATE void beat__pool_for_run(beat_ctx *ctx, void *p)
{
    beat__pool_for *f = (beat__pool_for *)p;
    beat_parallel_for(ctx, f->begin, f->end, f->grain, f->body, f->arg);
}

BEAT__DEF beat_result beat_pool_parallel_for(beat_pool *pool, size_t begin, size_t end,
                                             size_t grain, beat_range_fn body, void *arg)
{
    if (body == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    beat__pool_for f = {begin, end, grain, body, arg};
    return beat_run(pool, beat__pool_for_run, &f);
}

typedef struct beat__pool_reduce {
    size_t begin, end, grain;
    const void *identity;
    size_t partial_size;
    beat_reduce_fn body;
    beat_combine_fn combine;
    void *arg, *result;
    beat_result status;
} beat__pool_reduce;

BEAT__PRIVATE void beat__pool_reduce_run(beat_ctx *ctx, void *p)
{
    beat__pool_reduce *r = (beat__pool_reduce *)p;
    r->status = beat_parallel_reduce(ctx, r->begin, r->end, r->grain, r->identity, r->partial_size,
                                     r->body, r->combine, r->arg, r->result);
}

BEAT__DEF beat_result beat_pool_parallel_reduce(beat_pool *pool, size_t begin, size_t end,
                                                size_t grain, const void *identity,
                                                size_t partial_size, beat_reduce_fn body,
                                                beat_combine_fn combine, void *arg, void *result)
{
    if (identity == NULL || body == NULL || combine == NULL || result == NULL ||
        partial_size == 0 || partial_size > BEAT_REDUCE_MAX_PARTIAL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    beat__pool_reduce r = {begin, end,     grain, identity, partial_size,
                           body,  combine, arg,   result,   BEAT_OK};
    beat_result status = beat_run(pool, beat__pool_reduce_run, &r);
    return status != BEAT_OK ? status : r.status;
}

// ---------------------------------------------------------------------------
// Prediction queries

BEAT__PRIVATE beat_result beat__predict_query(const beat_pool *pool, const void *key, double items,
                                              uint64_t *ns)
{
    if (ns != NULL)
        *ns = 0;
    if (pool == NULL || key == NULL || ns == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    if (pool->predict == NULL)
        return BEAT_ERROR_UNSUPPORTED;
    double estimate = 0;
    if (!beat__predictor_estimate(pool->predict, key, &estimate))
        return BEAT_ERROR_NO_DATA;
    double total = estimate * items + 0.5;
    *ns = total >= 18446744073709549568.0 ? UINT64_MAX : total > 0 ? (uint64_t)total : 0;
    return BEAT_OK;
}

BEAT__DEF beat_result beat_predict_ns(const beat_pool *pool, beat_fn fn, uint64_t *ns)
{
    return beat__predict_query(pool, fn != NULL ? BEAT__PREDICT_KEY(fn) : NULL, 1.0, ns);
}

BEAT__DEF beat_result beat_predict_range_ns(const beat_pool *pool, beat_range_fn body, size_t items,
                                            uint64_t *ns)
{
    return beat__predict_query(pool, body != NULL ? BEAT__PREDICT_LOOP_KEY(body) : NULL,
                               (double)items, ns);
}
