// Configuration review (beat_config_analyze): what a configuration would do
// on this machine, one finding per line, "<field>: <the problem>. Fix: <what
// to do>." It reads what beat_pool_create would read (the topology and
// process limits, the PSI and cgroup files below sysfs_root) and starts
// nothing.
#include "api.c"

// "1.50" for 1.5 (two decimals, rounded; negative values print as 0).
BEAT__PRIVATE void beat__sink_hundredths(beat__sink *o, double v)
{
    uint64_t n = v > 0 && v < 1e15 ? (uint64_t)(v * 100.0 + 0.5) : 0;
    beat__sink_u64(o, n / 100u);
    beat__sink_put(o, n % 100u < 10u ? ".0" : ".");
    beat__sink_u64(o, n % 100u);
}

BEAT__PRIVATE void beat__sink_root(beat__sink *o, const char *root)
{
    beat__sink_put(o, "\"");
    beat__sink_put(o, root != NULL && root[0] != '\0' ? root : "/");
    beat__sink_put(o, "\"");
}

// Workers and pinning against the CPUs this process may use. Returns the
// number of workers the pool would have.
BEAT__PRIVATE unsigned beat__analyze_cpus(beat__sink *o, const beat_config *cfg)
{
    beat_topology topo;
    beat_result tr = beat_topology_detect(cfg->sysfs_root, &topo);
    unsigned usable =
        tr == BEAT_OK ? topo.default_workers : beat__topology_default_workers(cfg->sysfs_root);
    unsigned workers = cfg->workers != 0 ? cfg->workers : usable;
    if (cfg->workers > usable) {
        beat__sink_put(o, "workers: ");
        beat__sink_u64(o, cfg->workers);
        beat__sink_put(o, " workers for ");
        beat__sink_u64(o, usable);
        beat__sink_put(o, " usable CPUs (");
        if (tr == BEAT_OK) {
            beat__sink_u64(o, topo.npus_allowed);
            beat__sink_put(o, " allowed by the affinity mask and cgroup cpuset");
            if (topo.cpu_quota > 0) {
                beat__sink_put(o, ", a cgroup CPU quota of ");
                beat__sink_hundredths(o, topo.cpu_quota);
            }
        } else {
            beat__sink_put(o, "the affinity mask");
        }
        beat__sink_put(o, "); workers beyond the CPUs preempt each other in the middle of tasks, "
                          "and a join may wait for a thread that is not running. Fix: workers = "
                          "0 (one per usable CPU) or at most ");
        beat__sink_u64(o, usable);
        beat__sink_put(o, ".\n");
    }
    if ((cfg->pin_workers || cfg->worker_cpus != NULL) && tr != BEAT_OK) {
        beat__sink_put(o, cfg->worker_cpus != NULL ? "worker_cpus" : "pin_workers");
        beat__sink_put(o, ": pinning needs the CPU topology, which cannot be read below ");
        beat__sink_root(o, cfg->sysfs_root);
        beat__sink_put(o, " (");
        beat__sink_put(o, beat_result_string(tr));
        beat__sink_put(o, cfg->worker_cpus != NULL ? "), so beat_pool_create fails"
                                                   : "), so the workers run unpinned");
        beat__sink_put(o, ". Fix: point sysfs_root at a tree holding sys/devices/system/cpu "
                          "(NULL for this system), or leave pinning off.\n");
    }
    if (cfg->worker_cpus != NULL && tr == BEAT_OK) {
        for (unsigned i = 0; i < cfg->worker_cpus_count; i++) {
            unsigned cpu = cfg->worker_cpus[i], p = 0;
            while (p < topo.npus && topo.pus[p].os_index != cpu)
                p++;
            if (p < topo.npus && topo.pus[p].allowed)
                continue;
            beat__sink_put(o, "worker_cpus: CPU ");
            beat__sink_u64(o, cpu);
            beat__sink_put(o, " is not one this process may use (");
            beat__sink_u64(o, topo.npus_allowed);
            beat__sink_put(o, " allowed by the affinity mask and cgroup cpuset), so "
                              "beat_pool_create fails with BEAT_ERROR_INVALID_ARGUMENT. Fix: "
                              "list allowed CPUs only (beat-topo --tree marks them), or set "
                              "pin_workers instead.\n");
            break;
        }
        if (cfg->worker_cpus_count < workers) {
            beat__sink_put(o, "worker_cpus: ");
            beat__sink_u64(o, cfg->worker_cpus_count);
            beat__sink_put(o, " CPUs for ");
            beat__sink_u64(o, workers);
            beat__sink_put(o, " workers, so workers share CPUs (worker i runs on worker_cpus[i % "
                              "count]). Fix: one CPU per worker, or workers = ");
            beat__sink_u64(o, cfg->worker_cpus_count);
            beat__sink_put(o, ".\n");
        }
    }
    if (tr == BEAT_OK)
        beat_topology_release(&topo);
    return workers;
}

// Heartbeat, spin and stack.
BEAT__PRIVATE void beat__analyze_timing(beat__sink *o, const beat_config *cfg)
{
    if (cfg->heartbeat_us != 0 && cfg->heartbeat_us < 20) {
        beat__sink_put(o, "heartbeat_us: ");
        beat__sink_u64(o, cfg->heartbeat_us);
        beat__sink_put(o, " us is very short: every busy worker reads the clock and promotes a "
                          "frame that often, which costs fork-join throughput (at 100 us the "
                          "cost stays within a few percent). Fix: 0 (100 us), or 50 to 1000.\n");
    } else if (cfg->heartbeat_us > 10000) {
        beat__sink_put(o, "heartbeat_us: ");
        beat__sink_u64(o, cfg->heartbeat_us);
        beat__sink_put(o, " us is long: without hungry thieves a worker shares work once per "
                          "heartbeat, and parked workers are woken only after a tenth of one, so "
                          "short parallel phases run serially. Fix: 0 (100 us), or at most "
                          "1000.\n");
    }
    if (cfg->spin_us > 1000) {
        beat__sink_put(o, "spin_us: ");
        beat__sink_u64(o, cfg->spin_us);
        beat__sink_put(o, " us: each time a worker runs out of work it keeps its CPU busy that "
                          "long before it parks, CPU time other threads cannot use. Fix: 0 (the "
                          "profile default, 10 or 50 us), or at most 100.\n");
    }
    if (cfg->stack_size != 0 && cfg->stack_size < 65536) {
        beat__sink_put(o, "stack_size: ");
        beat__sink_u64(o, cfg->stack_size);
        beat__sink_put(o, " bytes is small: every pcall keeps a frame on the worker's stack and "
                          "joins run other tasks on top of it, so deep recursion may overflow "
                          "it. Fix: 0 (the system default), or 256 KiB or more.\n");
    }
}

// Memory awareness.
BEAT__PRIVATE void beat__analyze_pressure(beat__sink *o, const beat_config *cfg, unsigned workers)
{
    if (!cfg->memory_aware) {
        if (cfg->pressure_workers != 0 || cfg->pressure_interval_ms != 0 ||
            cfg->pressure_thresholds != NULL || cfg->on_pressure != NULL ||
            cfg->pressure_source != NULL)
            beat__sink_put(o, "memory_aware: 0, so the pressure_* fields and on_pressure are "
                              "ignored. Fix: memory_aware = 1 (or the ADVANCED profile) if memory "
                              "pressure should matter, else leave them 0.\n");
        return;
    }
    if (cfg->pressure_source == NULL) {
        beat_pressure_files *files = (beat_pressure_files *)BEAT_MALLOC(sizeof *files);
        beat_result r =
            files != NULL ? beat__pressure_probe(cfg->sysfs_root, files) : BEAT_ERROR_OUT_OF_MEMORY;
        BEAT_FREE(files);
        if (r != BEAT_OK && r != BEAT_ERROR_OUT_OF_MEMORY) {
            beat__sink_put(o, "memory_aware: neither a PSI file nor a memory cgroup limit can be "
                              "read below ");
            beat__sink_root(o, cfg->sysfs_root);
            beat__sink_put(o, " (");
            beat__sink_put(o, beat_result_string(r));
            beat__sink_put(o, "), so the pressure level stays NONE and memory awareness does "
                              "nothing. Fix: a kernel with PSI (CONFIG_PSI, psi=1), or a memory "
                              "cgroup with a limit, or leave memory_aware 0.\n");
        }
    }
    if (cfg->pressure_workers > workers) {
        beat__sink_put(o, "pressure_workers: ");
        beat__sink_u64(o, cfg->pressure_workers);
        beat__sink_put(o, " is not fewer than the ");
        beat__sink_u64(o, workers);
        beat__sink_put(o, " workers, so high memory pressure throttles nobody. Fix: 0 (half the "
                          "workers) or fewer than the workers.\n");
    }
    if (cfg->pressure_interval_ms != 0 && cfg->pressure_interval_ms < 10) {
        beat__sink_put(o, "pressure_interval_ms: ");
        beat__sink_u64(o, cfg->pressure_interval_ms);
        beat__sink_put(o, " ms: a busy pool reads the PSI and cgroup files that often (several "
                          "system calls each time). Fix: 0 (100 ms), or 10 or more.\n");
    }
}

// Development mode.
BEAT__PRIVATE void beat__analyze_checks(beat__sink *o, const beat_config *cfg)
{
    int checks = cfg->checks || BEAT_DEBUG;
    if (cfg->stuck_wait_ms != 0 && !checks) {
        beat__sink_put(o, "stuck_wait_ms: set, but checks are off (checks = 0 in an NDEBUG "
                          "build), so no wait is watched. Fix: checks = 1 (or the DEVELOPMENT "
                          "profile).\n");
    } else if (cfg->stuck_wait_ms != 0 && cfg->stuck_wait_ms < 100) {
        beat__sink_put(o, "stuck_wait_ms: ");
        beat__sink_u64(o, cfg->stuck_wait_ms);
        beat__sink_put(o, " ms is short: waits for tasks that are merely long get reported as "
                          "stuck. Fix: 1000 or more (DEVELOPMENT uses 5000).\n");
    }
    if ((cfg->checks || cfg->stuck_wait_ms != 0) && cfg->logger.fn == NULL)
        beat__sink_put(o, "logger: checks or stuck_wait_ms are set but there is no logger, so "
                          "their reports go nowhere. Fix: logger.fn = beat_log_stderr (the "
                          "DEVELOPMENT profile sets it) or a function of your own.\n");
}

BEAT__DEF int beat_config_analyze(const beat_config *cfg_in, char *buf, size_t cap)
{
    if (buf == NULL && cap != 0)
        return (int)BEAT_ERROR_INVALID_ARGUMENT;
    beat_config cfg;
    if (cfg_in != NULL)
        cfg = *cfg_in;
    else
        memset(&cfg, 0, sizeof cfg);
    beat__sink o;
    beat__sink_init(&o, buf, cap);
    const char *problem = beat__config_problem(&cfg);
    if (problem != NULL) {
        beat__sink_put(&o, problem);
        beat__sink_put(&o, " (beat_pool_create rejects this configuration with "
                           "BEAT_ERROR_INVALID_ARGUMENT).\n");
    }
    unsigned workers = beat__analyze_cpus(&o, &cfg);
    beat__analyze_timing(&o, &cfg);
    beat__analyze_pressure(&o, &cfg, workers);
    beat__analyze_checks(&o, &cfg);
    return o.len > (size_t)INT32_MAX ? INT32_MAX : (int)o.len;
}
