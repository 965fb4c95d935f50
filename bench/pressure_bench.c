// Memory awareness judged by its outcome: one memory-hungry parallel job,
// run in a memory-limited cgroup twice, with beat_config.memory_aware off
// and on. Off, the pool keeps every worker allocating and the kernel
// OOM-kills the job; on, the pool runs fewer workers once the cgroup's
// headroom shrinks, and the job completes.
//
//   make -C bench pressure                      build, run off then on
//   make -C bench pressure ARGS="--mode on --verbose"
//   ../build/bench/pressure_bench --help        the options
//
// Needs root and a writable memory controller: cgroup v1 (the memory line
// of /proc/self/cgroup), or v2 where the own group may delegate "memory" to
// a child. Elsewhere it prints "pressure_bench skipped: <why>" and exits 0.
//
// The job: --tasks tasks (default: as many as fill the limit, see below),
// each of which
//   1. maps a scratch buffer of --scratch-mb and "decodes" into it page by
//      page (an LCG stream), so its memory is faulted in gradually;
//   2. "processes" it: MIX_PASSES dependent passes over the whole buffer,
//      which is resident all that time (a task: tens of ms);
//   3. keeps a result of --retained-kb sampled from the scratch (malloc'd
//      and written; it stays allocated until the job ends, like the
//      thumbnails of a batch of images);
//   4. unmaps the scratch (mmap rather than malloc: glibc could keep a freed
//      block of this size in a thread's arena, and what matters here is
//      what the task holds).
// The resident set is the results so far plus the scratch of every running
// task. Early on every worker's scratch fits; at the end the results leave
// room for one scratch buffer but not one per worker. The main thread
// submits every task with beat_submit and waits in beat_pool_wait.
// --deferrable also makes each task submit a "preview" job with
// beat_submit_deferrable (half a scratch buffer for a moment, nothing kept):
// work that can wait until the pressure falls.
//
// Each mode runs in a forked child that moves itself into a fresh child
// group of the process's own memory cgroup (beat_pressure_<pid>_<mode>;
// memory.limit_in_bytes, or memory.max and memory.swap.max 0, = --limit-mb)
// before it creates the pool: BEAT_PROFILE_BASIC, --workers, the pressure
// settings below, and memory_aware the only difference between the modes.
// The parent waits (at most --timeout-s), reads from the group what the
// kernel saw (OOM kills: v1 memory.oom_control, v2 memory.events; the peak:
// v1 memory.max_usage_in_bytes, v2 memory.peak) and removes it. What the
// child saw (tasks finished, most tasks running at once, the pool's
// statistics every 50 ms, each level on_pressure reported) it writes to a
// shared page as it goes, so a killed child still tells how far it got.
//
// Output: a markdown table, one row per mode, then the level changes of the
// aware run. "max running": the most tasks running at once; "max running
// started at >= high": the same, counting only tasks that began while
// beat_pool_pressure said HIGH or CRITICAL. The working set in the level
// list is read by the callback, a moment after the pool's own sample; the
// two can differ by about a scratch buffer, since one is freed or filled
// every few ms. Exit status: 0 when the aware run completed or the bench
// was skipped, 1 otherwise.
//
// The defaults, and why: 4 workers (on 2 CPUs here, so that four scratch
// buffers are live at once as on a 4-core machine), a 512 MiB limit, 5 MiB
// scratch, 768 KiB results, 665 tasks (results 499 MiB: the limit less one
// scratch buffer, 3 MiB and 1 % for the program and page tables), the
// pool's default thresholds (working set / limit: HIGH 0.95, CRITICAL 0.98),
// pressure_interval_ms 10 and pressure_workers 1.
//   - Off: the job dies once the results pass the limit less four scratch
//     buffers (about 487 MiB, 15 tasks before the end).
//   - On: whenever the pool samples a level below HIGH, all four workers may
//     start a task, so four scratch buffers (20 MiB, 3.9 %) must fit in the
//     5 % between HIGH and the limit (0.95 x 512 + 20 = 506 MiB). Once the
//     results alone pass 0.95 the level stays HIGH or above and one worker
//     runs: 499 + 5 + what the program holds stays below 512.
//   - pressure_workers 1 rather than the default (half the workers): two
//     tasks at HIGH would need two scratch buffers above 0.98 x 512 (502 +
//     10 MiB, the whole limit) until CRITICAL cuts to one.
//   - Results much smaller than the scratch make the resident set climb in
//     small steps, so each band is sampled many times; tasks of tens of ms
//     keep one run near 15 s on 2 CPUs.
#define BEAT_IMPLEMENTATION
#include "../beat.h"

#include "bench.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define MIB (1024.0 * 1024.0)
#define PAGE_BYTES 4096u
#define MIX_PASSES 8 // passes over the filled scratch (sets the task length)
#define LEVEL_LOG 48 // level changes the aware run remembers

typedef struct options {
    unsigned workers;
    unsigned limit_mb;
    unsigned scratch_mb;
    unsigned retained_kb;
    unsigned tasks; // 0: results = limit - scratch - reserve_mb(limit)
    unsigned interval_ms;
    unsigned pressure_workers;
    int custom_thresholds;
    double usage_thresholds[4];
    int deferrable;
    int run_off, run_on;
    unsigned timeout_s;
    int verbose;
} options;

// One level change as on_pressure saw it.
typedef struct level_event {
    double seconds;   // since the first submit
    double usage;     // working set / limit of the cgroup then, -1 unknown
    uint32_t level;   // beat_pressure_level
    uint32_t running; // tasks running then
    uint64_t done;    // tasks finished then
} level_event;

// What a child reports to the parent: a MAP_SHARED page written while the
// child runs (so it survives an OOM kill), read after it has exited.
typedef struct report {
    uint64_t done;                   // tasks finished
    uint64_t alloc_failures;         // scratch or result allocations that failed
    uint64_t previews, previews_run; // deferrable preview jobs submitted, run
    uint32_t running, running_high;
    uint32_t max_running, max_running_high;
    uint32_t level_max;
    uint32_t events; // level changes (log holds the first LEVEL_LOG)
    level_event log[LEVEL_LOG];
    uint64_t task_ns;        // summed duration of finished tasks
    uint64_t baseline_bytes; // the group's usage once the pool was created
    double all_done_s;       // when the last task finished, since the first submit
    double job_s;            // when beat_pool_wait returned, 0 if it did not
    int stats_valid;         // the pool statistics below were read (every 50 ms)
    uint64_t throttles, deferred;
    char error[256];
} report;

// The child's job; a global because the child is a process of its own.
static struct job {
    const options *opt;
    report *rep;
    beat_pool *pool;
    size_t scratch_bytes, retained_bytes;
    unsigned char **results;
    double start;
    int finished;              // beat_pool_wait has returned
    beat_pressure_files files; // for the usage in the level log
    int have_files;
} job;

// ---------------------------------------------------------------------------
// The workload

// Writes one page: an LCG stream (the first touch faults the page in).
static uint64_t fill_page(uint64_t *w, size_t n, uint64_t h)
{
    for (size_t k = 0; k < n; k++) {
        h = h * 6364136223846793005u + 1442695040888963407u;
        w[k] = h;
    }
    return h;
}

// One pass over the whole buffer mixing every word with the one before (a
// dependent chain, so the compiler cannot collapse the passes).
static uint64_t mix_pass(uint64_t *w, size_t n, uint64_t h)
{
    for (size_t k = 0; k < n; k++) {
        h = (h >> 7 ^ w[k]) * 0x9E3779B97F4A7C15u;
        w[k] = h;
    }
    return h;
}

static uint32_t max_u32(uint32_t *max, uint32_t v)
{
    uint32_t seen = __atomic_load_n(max, __ATOMIC_RELAXED);
    while (v > seen &&
           !__atomic_compare_exchange_n(max, &seen, v, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    return v;
}

static void task_enter(int pressed)
{
    report *r = job.rep;
    max_u32(&r->max_running, __atomic_add_fetch(&r->running, 1, __ATOMIC_RELAXED));
    if (pressed)
        max_u32(&r->max_running_high, __atomic_add_fetch(&r->running_high, 1, __ATOMIC_RELAXED));
}

static void task_leave(int pressed)
{
    __atomic_sub_fetch(&job.rep->running, 1, __ATOMIC_RELAXED);
    if (pressed)
        __atomic_sub_fetch(&job.rep->running_high, 1, __ATOMIC_RELAXED);
}

static void *map_scratch(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED)
        return p;
    __atomic_add_fetch(&job.rep->alloc_failures, 1, __ATOMIC_RELAXED);
    return NULL;
}

// The deferrable follow-up of a task: half a scratch buffer for a moment.
static void preview_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    size_t bytes = job.scratch_bytes / 2, words = PAGE_BYTES / sizeof(uint64_t);
    uint64_t *w = (uint64_t *)map_scratch(bytes);
    if (w == NULL)
        return;
    uint64_t h = (uint64_t)(uintptr_t)arg;
    for (size_t off = 0; off < bytes / sizeof(uint64_t); off += words)
        h = fill_page(w + off, words, h);
    bench_sink_u64(mix_pass(w, bytes / sizeof(uint64_t), h));
    munmap(w, bytes);
    __atomic_add_fetch(&job.rep->previews_run, 1, __ATOMIC_RELAXED);
}

static void job_task(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    size_t i = (size_t)(uintptr_t)arg;
    int pressed = beat_pool_pressure(job.pool) >= BEAT_PRESSURE_HIGH;
    double t0 = bench_now();
    task_enter(pressed);
    size_t words = job.scratch_bytes / sizeof(uint64_t), page_words = PAGE_BYTES / sizeof(uint64_t);
    uint64_t *scratch = (uint64_t *)map_scratch(job.scratch_bytes);
    uint64_t *result = NULL;
    if (scratch != NULL) {
        uint64_t h = 0x243F6A8885A308D3u ^ i;
        for (size_t off = 0; off < words; off += page_words) // "decode", page by page
            h = fill_page(scratch + off, page_words, h);
        for (unsigned p = 0; p < MIX_PASSES; p++) // "process", the whole buffer resident
            h = mix_pass(scratch, words, h);
        result = (uint64_t *)malloc(job.retained_bytes);
        if (result != NULL) {
            // One word from every few scratch words, spread over all pages.
            size_t n = job.retained_bytes / sizeof(uint64_t), step = words / n;
            for (size_t k = 0; k < n; k++)
                result[k] = scratch[k * step + k % step] ^ h;
        } else {
            __atomic_add_fetch(&job.rep->alloc_failures, 1, __ATOMIC_RELAXED);
        }
        munmap(scratch, job.scratch_bytes);
    }
    job.results[i] = (unsigned char *)result;
    if (result != NULL) {
        __atomic_add_fetch(&job.rep->task_ns, (uint64_t)((bench_now() - t0) * 1e9),
                           __ATOMIC_RELAXED);
        if (__atomic_add_fetch(&job.rep->done, 1, __ATOMIC_RELAXED) == job.opt->tasks)
            job.rep->all_done_s = bench_now() - job.start;
    }
    task_leave(pressed);
    if (result != NULL && job.opt->deferrable &&
        beat_submit_deferrable(job.pool, preview_job, arg) == BEAT_OK)
        __atomic_add_fetch(&job.rep->previews, 1, __ATOMIC_RELAXED);
}

// ---------------------------------------------------------------------------
// The child: join the group, run the job, report

static void on_pressure(beat_pressure_level level, void *user)
{
    report *r = (report *)user;
    level_event e = {bench_now() - job.start, -1, (uint32_t)level,
                     __atomic_load_n(&r->running, __ATOMIC_RELAXED),
                     __atomic_load_n(&r->done, __ATOMIC_RELAXED)};
    beat_memory_headroom room;
    if (job.have_files && beat_memory_headroom_read(NULL, &job.files, &room) == BEAT_OK &&
        room.limit != 0)
        e.usage = (double)(room.current - room.inactive_file) / (double)room.limit;
    uint32_t n = __atomic_fetch_add(&r->events, 1, __ATOMIC_RELAXED);
    if (n < LEVEL_LOG)
        r->log[n] = e;
    max_u32(&r->level_max, (uint32_t)level);
    if (job.opt->verbose)
        fprintf(stderr, "  %7.3f s  %-8s usage %.3f  running %u  done %llu\n", e.seconds,
                beat_pressure_level_name(level), e.usage, e.running, (unsigned long long)e.done);
}

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int err = n == (ssize_t)len ? 0 : n < 0 ? errno : EIO;
    close(fd);
    errno = err;
    return err == 0 ? 0 : -1;
}

static int child_fail(report *r, int status, const char *what, beat_result res)
{
    snprintf(r->error, sizeof r->error, "%s: %s", what, beat_result_string(res));
    return status;
}

// Copies the pool's counters into the report every 50 ms until the job has
// finished, so that a run the parent kills still shows them.
static void *stats_monitor(void *arg)
{
    report *r = (report *)arg;
    for (;;) {
        int last = __atomic_load_n(&job.finished, __ATOMIC_ACQUIRE);
        beat_stats st;
        if (beat_pool_stats(job.pool, &st, NULL, 0) == BEAT_OK) {
            __atomic_store_n(&r->throttles, st.throttles, __ATOMIC_RELAXED);
            __atomic_store_n(&r->deferred, st.deferred, __ATOMIC_RELAXED);
            __atomic_store_n(&r->stats_valid, 1, __ATOMIC_RELAXED);
        }
        if (last)
            return NULL;
        bench_sleep(0.05);
    }
}

static int child_main(const options *o, int aware, const char *group, report *r)
{
    char pid[32];
    snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (write_file(group, "cgroup.procs", pid) != 0) {
        snprintf(r->error, sizeof r->error, "joining the cgroup: %s", strerror(errno));
        return 4;
    }
    job.opt = o;
    job.rep = r;
    job.scratch_bytes = (size_t)o->scratch_mb << 20;
    job.retained_bytes = (size_t)o->retained_kb << 10;
    job.results = (unsigned char **)calloc(o->tasks, sizeof *job.results);
    if (job.results == NULL)
        return child_fail(r, 4, "results array", BEAT_ERROR_OUT_OF_MEMORY);
    job.have_files = beat_pressure_locate(NULL, &job.files) == BEAT_OK;

    beat_pressure_thresholds thresholds = beat_pressure_thresholds_default();
    if (o->custom_thresholds)
        memcpy(thresholds.usage, o->usage_thresholds, sizeof thresholds.usage);
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = o->workers;
    cfg.memory_aware = aware;
    cfg.pressure_interval_ms = o->interval_ms;
    cfg.pressure_workers = o->pressure_workers;
    cfg.pressure_thresholds = &thresholds;
    cfg.on_pressure = on_pressure;
    cfg.user = r;
    cfg.logger.fn = beat_log_stderr;
    beat_result res = beat_pool_create(&cfg, &job.pool);
    if (res != BEAT_OK)
        return child_fail(r, 4, "beat_pool_create", res);

    beat_memory_headroom room;
    if (job.have_files && beat_memory_headroom_read(NULL, &job.files, &room) == BEAT_OK)
        r->baseline_bytes = room.current;
    pthread_t monitor;
    if (pthread_create(&monitor, NULL, stats_monitor, r) != 0)
        return child_fail(r, 4, "the statistics thread", BEAT_ERROR_THREAD_CREATE);
    job.start = bench_now();
    for (unsigned i = 0; i < o->tasks; i++)
        if ((res = beat_submit(job.pool, job_task, (void *)(uintptr_t)i)) != BEAT_OK)
            return child_fail(r, 4, "beat_submit", res);
    beat_pool_wait(job.pool);
    r->job_s = bench_now() - job.start;
    __atomic_store_n(&job.finished, 1, __ATOMIC_RELEASE);
    pthread_join(monitor, NULL); // its last copy comes after the wait
    beat_pool_destroy(job.pool);
    return __atomic_load_n(&r->alloc_failures, __ATOMIC_RELAXED) != 0 ? 3 : 0;
}

// ---------------------------------------------------------------------------
// The parent: a memory cgroup per run

typedef struct cgroup {
    int version;             // 1 or 2
    char own[PATH_MAX];      // the process's own memory group
    char dir[PATH_MAX + 64]; // the group of the current run
} cgroup;

static int read_text(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

// The number of a one-number file, or of the line "key N" when key is set.
static int read_u64(const char *dir, const char *name, const char *key, uint64_t *out)
{
    char buf[4096];
    if (read_text(dir, name, buf, sizeof buf) != 0)
        return -1;
    const char *p = buf;
    if (key != NULL) {
        size_t klen = strlen(key);
        while (strncmp(p, key, klen) != 0 || p[klen] != ' ') {
            if ((p = strchr(p, '\n')) == NULL)
                return -1;
            p++;
        }
        p += klen + 1;
    }
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p)
        return -1;
    *out = v;
    return 0;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// Finds the memory group as the pool will (beat_pressure_locate); NULL or
// why the bench cannot run here.
static const char *cgroup_find(cgroup *cg)
{
    if (geteuid() != 0)
        return "creating a memory cgroup needs root";
    static beat_pressure_files files; // 8 KB: not on the stack
    if (beat_pressure_locate(NULL, &files) != BEAT_OK || files.memory_version == 0)
        return "no memory cgroup controller found through /proc/self/cgroup and /proc/mounts";
    cg->version = files.memory_version;
    snprintf(cg->own, sizeof cg->own, "%s", files.memory_group);
    if (!is_dir(cg->own))
        return "the process's memory cgroup directory is not visible";
    if (cg->version == 2) {
        char ctl[512];
        if (read_text(cg->own, "cgroup.subtree_control", ctl, sizeof ctl) != 0)
            return "cgroup v2: cannot read cgroup.subtree_control of the own group";
        // Enabling it fails (EBUSY) when the own group holds processes and is
        // not the root: then the controller is not ours to delegate.
        if (strstr(ctl, "memory") == NULL &&
            write_file(cg->own, "cgroup.subtree_control", "+memory") != 0)
            return "cgroup v2: the memory controller is not enabled for child groups of the "
                   "own group and cannot be";
    }
    return NULL;
}

static void cgroup_remove(cgroup *cg)
{
    // The kernel may take a moment to let go of a group whose last task was
    // just reaped.
    for (int i = 0; i < 100 && rmdir(cg->dir) != 0 && errno == EBUSY; i++)
        bench_sleep(0.01);
}

// Creates the group of one run with the limit; NULL or why not.
static const char *cgroup_create(cgroup *cg, const char *mode, uint64_t limit)
{
    snprintf(cg->dir, sizeof cg->dir, "%s/beat_pressure_%d_%s", cg->own, (int)getpid(), mode);
    rmdir(cg->dir); // a leftover of an interrupted run
    if (mkdir(cg->dir, 0755) != 0)
        return errno == EACCES || errno == EROFS || errno == EPERM
                   ? "the memory cgroup hierarchy is not writable"
                   : "cannot create a child memory cgroup";
    char text[32];
    snprintf(text, sizeof text, "%llu\n", (unsigned long long)limit);
    int ok;
    if (cg->version == 1) {
        ok = write_file(cg->dir, "memory.limit_in_bytes", text) == 0;
        write_file(cg->dir, "memory.memsw.limit_in_bytes", text); // only with swap accounting
        write_file(cg->dir, "memory.oom_control", "0\n");         // the OOM killer on
    } else {
        ok = write_file(cg->dir, "memory.max", text) == 0;
        write_file(cg->dir, "memory.swap.max", "0\n");
    }
    if (!ok) {
        cgroup_remove(cg);
        return "cannot set the memory limit of a child cgroup";
    }
    return NULL;
}

// What the kernel says about the run's group, -1 (as uint64) = unknown.
typedef struct kernel_view {
    uint64_t peak, oom_kills;
} kernel_view;

static kernel_view cgroup_view(const cgroup *cg)
{
    kernel_view k = {UINT64_MAX, UINT64_MAX};
    if (cg->version == 1) {
        read_u64(cg->dir, "memory.max_usage_in_bytes", NULL, &k.peak);
        read_u64(cg->dir, "memory.oom_control", "oom_kill", &k.oom_kills);
    } else {
        read_u64(cg->dir, "memory.peak", NULL, &k.peak);
        read_u64(cg->dir, "memory.events", "oom_kill", &k.oom_kills);
    }
    return k;
}

// ---------------------------------------------------------------------------
// The parent: runs

typedef struct run {
    const char *mode;
    int aware;
    int status;   // from waitpid
    int timedout; // the parent killed it
    double wall_s;
    kernel_view kernel;
    report *rep;
} run;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) { interrupted = sig; }

static void run_one(const options *o, cgroup *cg, run *rn)
{
    const char *why = cgroup_create(cg, rn->mode, (uint64_t)o->limit_mb << 20);
    if (why != NULL)
        bench_die("%s (%s)", why, cg->dir);
    rn->rep = (report *)mmap(NULL, sizeof(report), PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (rn->rep == MAP_FAILED)
        bench_die("mmap of the report page: %s", strerror(errno));
    memset(rn->rep, 0, sizeof(report)); // charged to our group, not the run's
    if (o->verbose && rn->aware)
        fprintf(stderr, "%s: level changes\n", rn->mode);
    fflush(NULL);
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork: %s", strerror(errno));
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        _exit(child_main(o, rn->aware, cg->dir, rn->rep));
    }
    for (;;) {
        pid_t w = waitpid(pid, &rn->status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            bench_die("waitpid: %s", strerror(errno));
        if (!rn->timedout && (interrupted || bench_now() - t0 > o->timeout_s)) {
            rn->timedout = !interrupted;
            kill(pid, SIGKILL);
        }
        bench_sleep(0.002);
    }
    rn->wall_s = bench_now() - t0;
    rn->kernel = cgroup_view(cg);
    cgroup_remove(cg);
    if (interrupted) {
        fprintf(stderr, "interrupted; removed %s\n", cg->dir);
        exit(130);
    }
}

static const char *outcome(const run *rn, char *buf, size_t cap)
{
    const report *r = rn->rep;
    if (rn->timedout && r->all_done_s != 0 && r->job_s == 0)
        snprintf(buf, cap, "hung: every task done at %.1f s, beat_pool_wait not returned at %.0f s",
                 r->all_done_s, rn->wall_s);
    else if (rn->timedout)
        snprintf(buf, cap, "timed out (killed after %.0f s)", rn->wall_s);
    else if (WIFSIGNALED(rn->status) && WTERMSIG(rn->status) == SIGKILL &&
             rn->kernel.oom_kills != 0)
        snprintf(buf, cap, "OOM-killed");
    else if (WIFSIGNALED(rn->status))
        snprintf(buf, cap, "killed by signal %d", WTERMSIG(rn->status));
    else if (WEXITSTATUS(rn->status) == 0)
        snprintf(buf, cap, "completed");
    else if (WEXITSTATUS(rn->status) == 3)
        snprintf(buf, cap, "allocation failures (%llu)", (unsigned long long)r->alloc_failures);
    else
        snprintf(buf, cap, "error (exit %d): %s", WEXITSTATUS(rn->status), r->error);
    return buf;
}

static void print_table(const options *o, const run *runs, int n)
{
    printf("| mode | outcome | wall | peak memory | tasks done | throttles | deferred "
           "| max running | max running started at >= high | highest level |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < n; i++) {
        const run *rn = &runs[i];
        const report *r = rn->rep;
        char out[320], peak[32] = "?", thr[32] = "-", def[32] = "-";
        if (rn->kernel.peak != UINT64_MAX)
            snprintf(peak, sizeof peak, "%.1f MiB", (double)rn->kernel.peak / MIB);
        if (r->stats_valid) {
            snprintf(thr, sizeof thr, "%llu", (unsigned long long)r->throttles);
            snprintf(def, sizeof def, "%llu", (unsigned long long)r->deferred);
        }
        printf("| %s | %s | %.2f s | %s | %llu / %u | %s | %s | %u | %u | %s |\n", rn->mode,
               outcome(rn, out, sizeof out), rn->wall_s, peak, (unsigned long long)r->done,
               o->tasks, thr, def, r->max_running, r->max_running_high,
               rn->aware ? beat_pressure_level_name((beat_pressure_level)r->level_max) : "(off)");
    }
}

static void print_levels(const options *o, const run *rn)
{
    const report *r = rn->rep;
    if (o->deferrable)
        printf("\n%s: %llu preview jobs submitted with beat_submit_deferrable, %llu run.\n",
               rn->mode, (unsigned long long)r->previews, (unsigned long long)r->previews_run);
    if (!rn->aware)
        return;
    printf("\n%s: %u level change%s", rn->mode, r->events, r->events == 1 ? "" : "s");
    if (r->events > LEVEL_LOG)
        printf(" (the first %d)", LEVEL_LOG);
    fputs(r->events != 0 ? ":\n\n" : "\n", stdout);
    for (uint32_t i = 0; i < r->events && i < LEVEL_LOG; i++) {
        const level_event *e = &r->log[i];
        printf("- %.3f s: %s (working set %.3f of the limit, %u running, %llu done)\n", e->seconds,
               beat_pressure_level_name((beat_pressure_level)e->level), e->usage, e->running,
               (unsigned long long)e->done);
    }
}

// ---------------------------------------------------------------------------
// Options

static void usage(const char *prog)
{
    printf("usage: %s [options]\n"
           "  --mode off|on|both       which runs (both)\n"
           "  --workers N              pool workers (4)\n"
           "  --limit-mb N             the cgroup's memory limit (512)\n"
           "  --scratch-mb N           each task's scratch buffer (5)\n"
           "  --retained-kb N          each task's kept result (768)\n"
           "  --tasks N                tasks (0: results = limit - scratch - 3 MiB - 1 %%)\n"
           "  --interval-ms N          pressure_interval_ms (10)\n"
           "  --pressure-workers N     pressure_workers (1; 0: the pool's default, workers / 2)\n"
           "  --usage-thresholds A,B,C,D  working set / limit at LOW,MEDIUM,HIGH,CRITICAL\n"
           "                           (the pool's defaults: 0.80,0.90,0.95,0.98)\n"
           "  --deferrable             each task also submits a deferrable preview job\n"
           "  --timeout-s N            kill a run after N s (60)\n"
           "  --verbose                print level changes as they happen (stderr)\n",
           prog);
}

// What the default task count leaves for the program and the kernel's
// bookkeeping (page tables, about 0.2 % of the memory mapped) besides the
// results and one scratch buffer: the pool's last task must still fit.
static double reserve_mb(unsigned limit_mb) { return 3.0 + limit_mb / 100.0; }

static unsigned parse_unsigned(const char *name, const char *s, unsigned lo, unsigned hi)
{
    char *end;
    unsigned long v = s != NULL ? strtoul(s, &end, 10) : 0;
    if (s == NULL || *s == '\0' || *end != '\0' || v < lo || v > hi)
        bench_die("%s wants a number from %u to %u", name, lo, hi);
    return (unsigned)v;
}

static void parse_options(int argc, char **argv, options *o)
{
    *o = (options){.workers = 4,
                   .limit_mb = 512,
                   .scratch_mb = 5,
                   .retained_kb = 768,
                   .pressure_workers = 1,
                   .interval_ms = 10,
                   .run_off = 1,
                   .run_on = 1,
                   .timeout_s = 60};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 1;
        if (strcmp(a, "--workers") == 0)
            o->workers = parse_unsigned(a, v, 1, 64);
        else if (strcmp(a, "--limit-mb") == 0)
            o->limit_mb = parse_unsigned(a, v, 16, 1u << 20);
        else if (strcmp(a, "--scratch-mb") == 0)
            o->scratch_mb = parse_unsigned(a, v, 1, 1u << 16);
        else if (strcmp(a, "--retained-kb") == 0)
            o->retained_kb = parse_unsigned(a, v, 4, 1u << 20);
        else if (strcmp(a, "--tasks") == 0)
            o->tasks = parse_unsigned(a, v, 0, 1u << 24);
        else if (strcmp(a, "--interval-ms") == 0)
            o->interval_ms = parse_unsigned(a, v, 1, 60000);
        else if (strcmp(a, "--pressure-workers") == 0)
            o->pressure_workers = parse_unsigned(a, v, 0, 64);
        else if (strcmp(a, "--timeout-s") == 0)
            o->timeout_s = parse_unsigned(a, v, 1, 3600);
        else if (strcmp(a, "--usage-thresholds") == 0) {
            double *t = o->usage_thresholds;
            if (v == NULL || sscanf(v, "%lf,%lf,%lf,%lf", &t[0], &t[1], &t[2], &t[3]) != 4)
                bench_die("--usage-thresholds wants four fractions: LOW,MEDIUM,HIGH,CRITICAL");
            o->custom_thresholds = 1;
        } else if (strcmp(a, "--mode") == 0) {
            o->run_off = v != NULL && (strcmp(v, "off") == 0 || strcmp(v, "both") == 0);
            o->run_on = v != NULL && (strcmp(v, "on") == 0 || strcmp(v, "both") == 0);
            if (!o->run_off && !o->run_on)
                bench_die("--mode wants off, on or both");
        } else {
            used = 0;
            if (strcmp(a, "--deferrable") == 0)
                o->deferrable = 1;
            else if (strcmp(a, "--verbose") == 0)
                o->verbose = 1;
            else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                usage(argv[0]);
                exit(0);
            } else
                bench_die("unknown option %s (--help lists them)", a);
        }
        i += used;
    }
    if ((size_t)o->retained_kb << 10 > ((size_t)o->scratch_mb << 20) / 2)
        bench_die("--retained-kb must be at most half of --scratch-mb");
    if (o->tasks == 0) {
        double room = (double)o->limit_mb - o->scratch_mb - reserve_mb(o->limit_mb);
        o->tasks = room > 0 ? (unsigned)(room * 1024.0 / o->retained_kb) : 0;
        if (o->tasks == 0)
            bench_die("the limit leaves no room for results: raise --limit-mb or set --tasks");
    }
}

int main(int argc, char **argv)
{
    options o;
    parse_options(argc, argv, &o);
    cgroup cg;
    const char *why = cgroup_find(&cg);
    if (why == NULL && (why = cgroup_create(&cg, "probe", (uint64_t)o.limit_mb << 20)) == NULL)
        cgroup_remove(&cg);
    if (why != NULL) {
        printf("pressure_bench skipped: %s\n", why);
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    beat_pressure_thresholds th = beat_pressure_thresholds_default();
    const double *u = o.custom_thresholds ? o.usage_thresholds : th.usage;
    printf("# Memory awareness under a cgroup limit\n\n"
           "cgroup v%d below %s, limit %u MiB, no swap. Job: %u tasks on %u workers, each "
           "filling %u MiB of scratch and keeping %u KiB (results in all: %.0f MiB). Pool: "
           "BEAT_PROFILE_BASIC, pressure_interval_ms %u, pressure_workers %u%s, usage "
           "thresholds %.2f/%.2f/%.2f/%.2f%s.\n\n",
           cg.version, cg.own, o.limit_mb, o.tasks, o.workers, o.scratch_mb, o.retained_kb,
           (double)o.tasks * o.retained_kb / 1024.0, o.interval_ms, o.pressure_workers,
           o.pressure_workers == 0 ? " (workers / 2)" : "", u[0], u[1], u[2], u[3],
           o.deferrable ? ", a deferrable preview job after each task" : "");

    run runs[2];
    int n = 0;
    if (o.run_off)
        runs[n++] = (run){.mode = "off", .aware = 0};
    if (o.run_on)
        runs[n++] = (run){.mode = "on", .aware = 1};
    for (int i = 0; i < n; i++)
        run_one(&o, &cg, &runs[i]);

    print_table(&o, runs, n);
    double task_ms = 0;
    for (int i = 0; i < n; i++)
        if (runs[i].rep->done != 0)
            task_ms = (double)runs[i].rep->task_ns / 1e6 / (double)runs[i].rep->done;
    printf("\nA task took %.1f ms on average (with %u workers on %ld CPUs). Usage of the group "
           "once the pool was created: %.1f MiB.\n",
           task_ms, o.workers, sysconf(_SC_NPROCESSORS_ONLN),
           (double)runs[n - 1].rep->baseline_bytes / MIB);
    for (int i = 0; i < n; i++)
        print_levels(&o, &runs[i]);

    int on_ok = 1;
    for (int i = 0; i < n; i++)
        if (runs[i].aware)
            on_ok =
                !runs[i].timedout && WIFEXITED(runs[i].status) && WEXITSTATUS(runs[i].status) == 0;
    return on_ok ? 0 : 1;
}
