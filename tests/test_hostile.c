#define BEAT_IMPLEMENTATION
#include "beat.h"
#include "test.h"
#include "fib.h"
#include "tree.h"

// Hostile environments, provoked for real where this machine allows it:
//   - the OS refusing threads: RLIMIT_NPROC as an unprivileged user (needs
//     root to switch users; as root the kernel ignores the limit) and an
//     address-space limit (RLIMIT_AS, any user);
//   - /sys, /proc/self/cgroup, cgroup and PSI files missing, empty, cut
//     short, full of garbage, replaced by directories, or unreadable to an
//     unprivileged user: detection, the readers and a whole pool keep to
//     their documented defaults;
//   - fork() with a live pool: the child gets BEAT_ERROR_FORKED at once and
//     never hangs, the parent is unaffected;
//   - signal storms (every thread signalled about every 100 us) during a
//     million jobs, with and without SA_RESTART;
//   - 16 workers confined to one CPU;
//   - pools running each other three deep (A -> B -> C, and A -> B -> A);
//   - join recursion deeper than the stack, which must kill the process by
//     SIGSEGV/SIGBUS rather than hang;
//   - deque indices, futex epochs and the task free list's ABA tag started
//     just below their wrap points.
// Anything that could hang runs in a forked child with a deadline, so a
// hang is reported as a failure instead of stalling the run.

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HT_SANITIZED 1
#endif
#endif
#ifndef HT_SANITIZED
#define HT_SANITIZED 0
#endif

#define HT_NOBODY 65534

// ---------------------------------------------------------------------------
// Helpers: children with a deadline, a fork-safe logger, thread counts.

static void ht_sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

// How a child ended.
typedef struct ht_outcome {
    int started;  // fork() worked
    int hung;     // still running at the deadline: killed
    int exited;   // exit status in code
    int code;     //
    int signaled; // killed by signal sig
    int sig;      //
    double seconds;
} ht_outcome;

static const char *ht_outcome_text(const ht_outcome *o)
{
    static char text[128];
    if (!o->started)
        snprintf(text, sizeof text, "fork failed");
    else if (o->hung)
        snprintf(text, sizeof text, "still running after %.1f s (hang): killed", o->seconds);
    else if (o->signaled)
        snprintf(text, sizeof text, "killed by signal %d (%s) after %.2f s", o->sig,
                 strsignal(o->sig), o->seconds);
    else
        snprintf(text, sizeof text, "exit %d after %.2f s", o->code, o->seconds);
    return text;
}

// A child's exit code: 0 when every check passed.
typedef int (*ht_child_fn)(void *arg);

// Runs fn(arg) in a forked child and waits at most timeout_s seconds.
static ht_outcome ht_in_child(ht_child_fn fn, void *arg, double timeout_s)
{
    ht_outcome o;
    memset(&o, 0, sizeof o);
    fflush(stdout);
    double start = bt_seconds();
    pid_t pid = fork();
    if (pid < 0)
        return o;
    if (pid == 0) {
        alarm(0);
        int code = fn(arg);
        fflush(stdout);
        _exit(code); // not exit(): the parent's atexit handlers remove the trees
    }
    o.started = 1;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            break;
        if (bt_seconds() - start > timeout_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            o.hung = 1;
            break;
        }
        ht_sleep_us(2000);
    }
    o.seconds = bt_seconds() - start;
    if (!o.hung && WIFEXITED(status)) {
        o.exited = 1;
        o.code = WEXITSTATUS(status);
    } else if (!o.hung && WIFSIGNALED(status)) {
        o.signaled = 1;
        o.sig = WTERMSIG(status);
    }
    return o;
}

static int ht_ok(const ht_outcome *o) { return o->exited && o->code == 0; }

// Checks inside a child: print the reason, return a failure exit code.
static void ht_child_fail(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ht_child_fail(int line, const char *fmt, ...)
{
    va_list args;
    printf("     child, %s:%d: ", __FILE__, line);
    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);
    printf("\n");
    fflush(stdout);
}

#define CHILD_CHECK(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ht_child_fail(__LINE__, __VA_ARGS__);                                                  \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

// A logger without locks (a child may fork while a worker logs): counts
// messages per level, keeps the first error and the first warning, and the
// first HT_LOG_KEEP messages of any level for ht_log_has.
#define HT_LOG_KEEP 32

typedef struct ht_log {
    atomic_uint count[4];
    atomic_uint kept_error, kept_warning, kept;
    char error[512], warning[512];
    char messages[HT_LOG_KEEP][256];
    atomic_int ready[HT_LOG_KEEP]; // message i is complete
} ht_log;

static ht_log ht_the_log;

static void ht_log_fn(beat_log_level level, const char *message, void *user)
{
    ht_log *log = (ht_log *)user;
    if ((unsigned)level < 4u)
        atomic_fetch_add(&log->count[level], 1);
    if (level == BEAT_LOG_ERROR && atomic_exchange(&log->kept_error, 1) == 0)
        snprintf(log->error, sizeof log->error, "%s", message);
    if (level == BEAT_LOG_WARN && atomic_exchange(&log->kept_warning, 1) == 0)
        snprintf(log->warning, sizeof log->warning, "%s", message);
    unsigned slot = atomic_fetch_add(&log->kept, 1);
    if (slot < HT_LOG_KEEP) {
        snprintf(log->messages[slot], sizeof log->messages[slot], "%s", message);
        atomic_store(&log->ready[slot], 1);
    }
}

static void ht_log_reset(void)
{
    for (int i = 0; i < 4; i++)
        atomic_store(&ht_the_log.count[i], 0);
    atomic_store(&ht_the_log.kept_error, 0);
    atomic_store(&ht_the_log.kept_warning, 0);
    for (int i = 0; i < HT_LOG_KEEP; i++)
        atomic_store(&ht_the_log.ready[i], 0);
    atomic_store(&ht_the_log.kept, 0);
    ht_the_log.error[0] = ht_the_log.warning[0] = '\0';
}

// 1 when a kept message contains needle.
static int ht_log_has(const char *needle)
{
    unsigned n = atomic_load(&ht_the_log.kept);
    for (unsigned i = 0; i < n && i < HT_LOG_KEEP; i++)
        if (atomic_load(&ht_the_log.ready[i]) && strstr(ht_the_log.messages[i], needle) != NULL)
            return 1;
    return 0;
}

static beat_logger ht_logger(void)
{
    beat_logger l = {ht_log_fn, &ht_the_log};
    return l;
}

static unsigned ht_log_errors(void) { return atomic_load(&ht_the_log.count[BEAT_LOG_ERROR]); }
static unsigned ht_log_warnings(void) { return atomic_load(&ht_the_log.count[BEAT_LOG_WARN]); }

// Threads of this process (/proc/self/task), or -1.
static int ht_threads(void)
{
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(dir);
    return n;
}

// Threads of this process named like workers ("beat-wNN"), or -1.
static int ht_worker_threads(void)
{
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        char path[300], comm[32] = "";
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            n += fgets(comm, sizeof comm, f) != NULL && strncmp(comm, "beat-w", 6) == 0;
            fclose(f);
        }
    }
    closedir(dir);
    return n;
}

// Polls until count() is want (a joined thread leaves the task list a
// moment after pthread_join returns) or 2 s have passed.
static int ht_threads_settle(int (*count)(void), int want)
{
    int n = count();
    for (int i = 0; i < 2000 && n != want; i++) {
        ht_sleep_us(1000);
        n = count();
    }
    return n;
}

static void ht_count_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    atomic_fetch_add_explicit((atomic_ulong *)arg, 1, memory_order_relaxed);
}

// Submits n counting jobs and waits; returns how many ran (or -1 when a
// submit failed).
static long ht_run_jobs(beat_pool *pool, unsigned n)
{
    atomic_ulong count;
    atomic_init(&count, 0);
    for (unsigned i = 0; i < n; i++)
        if (beat_submit(pool, ht_count_job, &count) != BEAT_OK) {
            beat_pool_wait(pool);
            return -1;
        }
    beat_pool_wait(pool);
    return (long)atomic_load(&count);
}

static void ht_sum_range(beat_ctx *ctx, size_t begin, size_t end, void *arg)
{
    (void)ctx;
    unsigned long s = 0;
    for (size_t i = begin; i < end; i++)
        s += i;
    atomic_fetch_add_explicit((atomic_ulong *)arg, s, memory_order_relaxed);
}

// Switches this (child) process to uid/gid 65534 with no supplementary
// groups, dropping root's capabilities; 0 on success.
static int ht_become_nobody(void)
{
    if (setgroups(0, NULL) != 0 || setresgid(HT_NOBODY, HT_NOBODY, HT_NOBODY) != 0 ||
        setresuid(HT_NOBODY, HT_NOBODY, HT_NOBODY) != 0)
        return -1;
    return geteuid() == HT_NOBODY && getuid() == HT_NOBODY ? 0 : -1;
}

// ---------------------------------------------------------------------------
// 1. The OS refuses threads

// Parses "cannot start worker K of N (error E)" from the first logged error.
static int ht_refused_worker(unsigned *worker, unsigned *of, int *err)
{
    const char *at = strstr(ht_the_log.error, "cannot start worker ");
    return at != NULL &&
           sscanf(at, "cannot start worker %u of %u (error %d)", worker, of, err) == 3;
}

// After a refused create: THREAD_CREATE, NULL pool, the refusal logged with
// the OS error, and no thread left but the caller. Then, with the limit
// lifted by lift(), a small pool must work. Returns a child exit code.
static int ht_refusal_checks(beat_result r, beat_pool *pool, unsigned workers, const char *how,
                             int (*lift)(void))
{
    CHILD_CHECK(r == BEAT_ERROR_THREAD_CREATE, "%s: create returned %s, want THREAD_CREATE", how,
                beat_result_string(r));
    CHILD_CHECK(pool == NULL, "%s: *out is not NULL after a failed create", how);
    unsigned worker = 0, of = 0;
    int err = 0;
    CHILD_CHECK(ht_refused_worker(&worker, &of, &err),
                "%s: no \"cannot start worker\" error logged (first error: \"%s\")", how,
                ht_the_log.error);
    CHILD_CHECK(of == workers && worker < workers, "%s: logged worker %u of %u", how, worker, of);
    CHILD_CHECK(err == EAGAIN, "%s: worker %u refused with error %d, want EAGAIN (%d)", how, worker,
                err, EAGAIN);
    CHILD_CHECK(strstr(ht_the_log.error, "ulimit") != NULL,
                "%s: the message does not carry the advice: \"%s\"", how, ht_the_log.error);
    // Sanitizers run threads of their own: there, only workers are counted.
    int threads = HT_SANITIZED ? ht_threads_settle(ht_worker_threads, 0)
                               : ht_threads_settle(ht_threads, 1) - 1;
    CHILD_CHECK(threads == 0,
                "%s: %d threads besides the caller still run after the failed create (started "
                "workers not stopped)",
                how, threads);
    CHILD_CHECK(lift() == 0, "%s: cannot lift the limit again", how);
    beat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 4;
    beat_pool *small = NULL;
    r = beat_pool_create(&cfg, &small);
    CHILD_CHECK(r == BEAT_OK, "%s: a 4-worker pool after lifting the limit: %s", how,
                beat_result_string(r));
    long ran = ht_run_jobs(small, 1000);
    beat_pool_destroy(small);
    CHILD_CHECK(ran == 1000, "%s: the pool after the refusal ran %ld of 1000 jobs", how, ran);
    printf("     # %s: worker %u of %u refused with EAGAIN, no started worker left running, then "
           "a 4-worker pool ran 1000 jobs\n",
           how, worker, workers);
    return 0;
}

static int ht_nproc_lift(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NPROC, &rl) != 0)
        return -1;
    rl.rlim_cur = rl.rlim_max;
    return setrlimit(RLIMIT_NPROC, &rl);
}

// As uid 65534 with RLIMIT_NPROC = *limit, a 64-worker pool must fail.
static int ht_nproc_child(void *arg)
{
    unsigned limit = *(const unsigned *)arg;
    CHILD_CHECK(ht_become_nobody() == 0, "cannot switch to uid %d: %s", HT_NOBODY, strerror(errno));
    struct rlimit rl;
    CHILD_CHECK(getrlimit(RLIMIT_NPROC, &rl) == 0, "getrlimit: %s", strerror(errno));
    rl.rlim_cur = limit;
    CHILD_CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0, "setrlimit(RLIMIT_NPROC, %u): %s", limit,
                strerror(errno));
    ht_log_reset();
    beat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 64;
    cfg.logger = ht_logger();
    beat_pool *pool = NULL;
    beat_result r = beat_pool_create(&cfg, &pool);
    char how[64];
    snprintf(how, sizeof how, "uid %d, RLIMIT_NPROC %u", HT_NOBODY, limit);
    return ht_refusal_checks(r, pool, cfg.workers, how, ht_nproc_lift);
}

static void thread_limit_of_an_unprivileged_user_fails_create_cleanly(void)
{
    if (geteuid() != 0) {
        bt_skip("needs root to run a child as uid 65534 (RLIMIT_NPROC does not bind root, and a "
                "plain user's own count is unknown); run the tests as root to cover it");
        return;
    }
    static const unsigned limits[] = {1, 2, 5, 9};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        ht_outcome o = ht_in_child(ht_nproc_child, (void *)&limits[i], 30);
        CHECK_MSG(ht_ok(&o), "RLIMIT_NPROC %u: child %s", limits[i], ht_outcome_text(&o));
    }
}

static rlim_t ht_as_saved;

static int ht_as_lift(void)
{
    struct rlimit rl = {ht_as_saved, ht_as_saved};
    return setrlimit(RLIMIT_AS, &rl);
}

// Bytes of address space this process has mapped (VmSize), or 0.
static unsigned long long ht_vm_size(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    unsigned long long kb = 0;
    char line[256];
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmSize: %llu kB", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kb * 1024;
}

// With the address space capped at what is mapped + 96 MB, workers with
// 32 MB stacks cannot all start.
static int ht_as_child(void *arg)
{
    (void)arg;
    unsigned long long mapped = ht_vm_size();
    CHILD_CHECK(mapped > 0, "cannot read VmSize from /proc/self/status");
    struct rlimit rl;
    CHILD_CHECK(getrlimit(RLIMIT_AS, &rl) == 0, "getrlimit: %s", strerror(errno));
    ht_as_saved = rl.rlim_max;
    rl.rlim_cur = (rlim_t)(mapped + (96ull << 20));
    CHILD_CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit(RLIMIT_AS): %s", strerror(errno));
    ht_log_reset();
    beat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 16;
    cfg.stack_size = 32u << 20;
    cfg.logger = ht_logger();
    beat_pool *pool = NULL;
    beat_result r = beat_pool_create(&cfg, &pool);
    ht_as_lift();
    return ht_refusal_checks(r, pool, cfg.workers, "RLIMIT_AS = mapped + 96 MB, 32 MB stacks",
                             ht_as_lift);
}

static void address_space_limit_fails_create_cleanly(void)
{
    if (HT_SANITIZED) {
        bt_skip("sanitizers reserve terabytes of address space: RLIMIT_AS cannot be applied");
        return;
    }
    ht_outcome o = ht_in_child(ht_as_child, NULL, 30);
    CHECK_MSG(ht_ok(&o), "child %s", ht_outcome_text(&o));
}

// ---------------------------------------------------------------------------
// 2. Hostile /sys, /proc and cgroup files
//
// A 4-CPU machine in cgroup v2 group /app/job, whose cpu.max allows 1.5
// CPUs (so 2 default workers), with a 4 GiB memory limit and calm PSI.

typedef struct ht_file {
    const char *rel;
    const char *text;
} ht_file;

#define HT_CPU_DIR "sys/devices/system/cpu/"
#define HT_CG "sys/fs/cgroup/app/job/"
#define HT_CPU_FILES(n)                                                                            \
    {HT_CPU_DIR "cpu" #n "/topology/core_id", #n "\n"},                                            \
        {HT_CPU_DIR "cpu" #n "/topology/physical_package_id", "0\n"},                              \
        {HT_CPU_DIR "cpu" #n "/topology/core_cpus_list", #n "\n"},                                 \
        {HT_CPU_DIR "cpu" #n "/cache/index3/level", "3\n"},                                        \
        {HT_CPU_DIR "cpu" #n "/cache/index3/type", "Unified\n"},                                   \
        {HT_CPU_DIR "cpu" #n "/cache/index3/size", "32768K\n"},                                    \
    {                                                                                              \
        HT_CPU_DIR "cpu" #n "/cache/index3/shared_cpu_list", "0-3\n"                               \
    }

static const ht_file ht_machine[] = {
    {HT_CPU_DIR "online", "0-3\n"},
    {HT_CPU_DIR "possible", "0-3\n"},
    HT_CPU_FILES(0),
    HT_CPU_FILES(1),
    HT_CPU_FILES(2),
    HT_CPU_FILES(3),
    {"sys/devices/system/node/node0/cpulist", "0-3\n"},
    {"sys/devices/system/node/node0/distance", "10\n"},
    {"proc/self/cgroup", "0::/app/job\n"},
    {"proc/mounts", "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
                    "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n"},
    {"sys/fs/cgroup/app/cpu.max", "max 100000\n"},
    {HT_CG "cpu.max", "150000 100000\n"},
    {HT_CG "cpuset.cpus.effective", "0-3\n"},
    {HT_CG "memory.max", "4294967296\n"},
    {HT_CG "memory.high", "max\n"},
    {HT_CG "memory.current", "104857600\n"},
    {HT_CG "memory.stat", "anon 52428800\nfile 52428800\ninactive_file 4096\n"},
    {HT_CG "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1200\n"
                              "full avg10=0.00 avg60=0.00 avg300=0.00 total=300\n"},
    {"proc/pressure/memory", "some avg10=0.10 avg60=0.00 avg300=0.00 total=5000\n"
                             "full avg10=0.00 avg60=0.00 avg300=0.00 total=900\n"},
};

#define HT_NFILES (sizeof ht_machine / sizeof ht_machine[0])

static void ht_machine_write(const char *root)
{
    for (size_t i = 0; i < HT_NFILES; i++)
        put(root, ht_machine[i].rel, "%s", ht_machine[i].text);
}

static const char *ht_path(const char *root, const char *rel)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return path;
}

// Removes root/rel whatever it is (file or empty directory).
static void ht_remove(const char *root, const char *rel)
{
    const char *path = ht_path(root, rel);
    if (unlink(path) != 0)
        rmdir(path);
}

static int ht_finite_nonnegative(double x) { return isfinite(x) && x >= 0.0; }

// Structural invariants of any detected topology; NULL or the broken one.
static const char *ht_topology_problem(const beat_topology *t)
{
    static char why[160];
    if (t->npus < 1 || t->npus_online < 1 || t->npus_allowed < 1 || t->ncores < 1 ||
        t->npackages < 1 || t->nnodes < 1)
        return "a count is zero";
    if (t->npus_allowed > t->npus_online || t->npus_online > t->npus)
        return "allowed > online or online > all PUs";
    if (t->default_workers < 1 || t->default_workers > t->npus_allowed)
        return "default_workers outside 1..npus_allowed";
    if (!ht_finite_nonnegative(t->cpu_quota))
        return "cpu_quota negative or not finite";
    if (t->cpu_quota > 0 && t->default_workers != (unsigned)ceil(t->cpu_quota) &&
        t->default_workers != t->npus_allowed)
        return "default_workers is neither ceil(quota) nor npus_allowed";
    if (t->cgroup_version < 0 || t->cgroup_version > 2)
        return "cgroup_version not 0, 1 or 2";
    for (unsigned i = 0; i < t->npus; i++) {
        const beat_topo_pu *pu = &t->pus[i];
        if (!pu->online)
            continue;
        if (pu->core >= t->ncores || pu->package >= t->npackages ||
            (pu->node != BEAT_TOPO_NONE && pu->node >= t->nnodes)) {
            snprintf(why, sizeof why, "PU %u has an index out of range", pu->os_index);
            return why;
        }
    }
    for (unsigned i = 0; i < t->ncaches; i++)
        if (t->caches[i].level < 1 || t->caches[i].level > 4)
            return "a cache level outside 1..4";
    return NULL;
}

static void ht_pressure_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    double start = bt_seconds();
    while (bt_seconds() - start < 20e-6) {
    }
    atomic_fetch_add_explicit((atomic_ulong *)arg, 1, memory_order_relaxed);
}

// Everything that reads the tree at root, checked against invariants:
// detection, the default worker count, PSI, the memory headroom, and a
// pinned, memory-aware pool with default workers that runs jobs while it
// samples the (maybe broken) files. NULL, or what went wrong.
static const char *ht_tree_problem(const char *root, unsigned *workers_out)
{
    static char why[256];
    beat_topology t;
    beat_result r = beat_topology_detect(root, &t);
    if (r != BEAT_OK) {
        snprintf(why, sizeof why, "topology: %s", beat_result_string(r));
        return why;
    }
    const char *bad = ht_topology_problem(&t);
    unsigned workers = t.default_workers;
    beat_topology_release(&t);
    if (bad != NULL)
        return bad;
    unsigned quick = beat__topology_default_workers(root);
    if (quick != workers) {
        snprintf(why, sizeof why, "default workers %u, but the topology says %u", quick, workers);
        return why;
    }
    beat_pressure_files files;
    if (beat_pressure_locate(root, &files) != BEAT_OK)
        return "beat_pressure_locate failed";
    beat_psi psi;
    char msg[128];
    r = beat_psi_read_at(root, files.pressure, &psi, msg, sizeof msg);
    if (r == BEAT_OK) {
        if (psi.some_avg10 < 0 || psi.some_avg10 > 100 || psi.full_avg10 < 0 ||
            psi.full_avg10 > 100)
            return "PSI averages outside 0..100";
    } else if (r != BEAT_ERROR_IO && r != BEAT_ERROR_PARSE) {
        snprintf(why, sizeof why, "PSI read: %s", beat_result_string(r));
        return why;
    } else if (msg[0] == '\0' || psi.some_total != 0 || psi.has_full != 0) {
        return "a failed PSI read left no message or a non-zero result";
    }
    beat_memory_headroom room;
    if (beat_memory_headroom_read(root, &files, &room) != BEAT_OK)
        return "beat_memory_headroom_read failed";
    if (room.cgroup_version < 0 || room.cgroup_version > 2)
        return "headroom cgroup_version not 0, 1 or 2";

    beat_config cfg = beat_config_default(BEAT_PROFILE_ADVANCED); // pinned, memory-aware
    cfg.sysfs_root = root;
    cfg.pressure_interval_ms = 1;
    cfg.logger = ht_logger();
    beat_pool *pool = NULL;
    r = beat_pool_create(&cfg, &pool);
    if (r != BEAT_OK) {
        snprintf(why, sizeof why, "pool: %s", beat_result_string(r));
        return why;
    }
    unsigned pool_workers = beat_pool_workers(pool);
    atomic_ulong count;
    atomic_init(&count, 0);
    for (unsigned i = 0; i < 16; i++)
        beat_submit(pool, ht_pressure_job, &count);
    beat_pool_wait(pool);
    beat_pressure_level level = beat_pool_pressure(pool);
    beat_pool_destroy(pool);
    if (pool_workers != workers) {
        snprintf(why, sizeof why, "pool has %u workers, default is %u", pool_workers, workers);
        return why;
    }
    if (atomic_load(&count) != 16)
        return "the pool lost jobs";
    if ((unsigned)level > (unsigned)BEAT_PRESSURE_CRITICAL)
        return "pressure level out of range";
    if (workers_out != NULL)
        *workers_out = workers;
    return NULL;
}

// Contents that break parsers: words, signs, overflow, binary, separators
// without numbers, and (index 0, filled at run time) one line longer than
// any reader's buffer.
typedef struct ht_bytes {
    const char *text;
    size_t len;
} ht_bytes;

#define HT_BYTES(s)                                                                                \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
static ht_bytes ht_garbage[] = {
    {NULL, 0}, // the long line
    HT_BYTES("abracadabra\n"),
    HT_BYTES("-1\n"),
    HT_BYTES("18446744073709551616 18446744073709551616\n"),
    HT_BYTES("\xff\xfe\x00\x01\x00\n"),
    HT_BYTES("0-\n,,,\n-\n"),
    HT_BYTES("max max max\n"),
    HT_BYTES("some avg10=nan avg60=inf avg300=-0 total=-5\n"),
    HT_BYTES("\n\n\n"),
};

#define HT_NGARBAGE (sizeof ht_garbage / sizeof ht_garbage[0])
#define HT_LONG_LINE 100000

static void ht_garbage_init(void)
{
    static char *line;
    if (line == NULL) {
        line = (char *)malloc(HT_LONG_LINE + 1);
        if (line == NULL)
            abort();
        memset(line, '7', HT_LONG_LINE);
        line[HT_LONG_LINE] = '\n';
        ht_garbage[0].text = line;
        ht_garbage[0].len = HT_LONG_LINE + 1;
    }
}

static void every_file_missing_empty_cut_or_garbage_keeps_readers_and_pools_working(void)
{
    ht_garbage_init();
    const char *root = tree_new();
    ht_machine_write(root);
    unsigned workers = 0;
    const char *problem = ht_tree_problem(root, &workers);
    CHECK_MSG(problem == NULL, "the intact tree: %s", problem);
    CHECK_MSG(workers == 2, "the intact tree gives %u default workers, want 2 (cpu.max 1.5)",
              workers);
    ht_log_reset();
    unsigned variants = 0, cut_every = BT_SCALE(1, 5);
    for (size_t f = 0; f < HT_NFILES; f++) {
        const ht_file *file = &ht_machine[f];
        size_t len = strlen(file->text);
        // Variants: 0 missing, 1 a directory, 2..: cut to k bytes (0 = empty), then garbage.
        size_t ncut = len, nvariants = 2 + ncut + HT_NGARBAGE;
        for (size_t v = 0; v < nvariants; v++) {
            char what[160];
            ht_remove(root, file->rel);
            if (v == 0) {
                snprintf(what, sizeof what, "%s missing", file->rel);
            } else if (v == 1) {
                mkdir(ht_path(root, file->rel), 0755);
                snprintf(what, sizeof what, "%s a directory", file->rel);
            } else if (v < 2 + ncut) {
                size_t k = v - 2;
                if (k % cut_every != 0)
                    continue;
                put_bytes(root, file->rel, file->text, k);
                snprintf(what, sizeof what, "%s cut to %zu of %zu bytes", file->rel, k, len);
            } else {
                const ht_bytes *g = &ht_garbage[v - 2 - ncut];
                put_bytes(root, file->rel, g->text, g->len);
                snprintf(what, sizeof what, "%s = garbage #%zu", file->rel, v - 2 - ncut);
            }
            problem = ht_tree_problem(root, NULL);
            ht_remove(root, file->rel);
            put(root, file->rel, "%s", file->text);
            CHECK_MSG(problem == NULL, "%s: %s", what, problem);
            variants++;
        }
    }
    problem = ht_tree_problem(root, &workers);
    CHECK_MSG(problem == NULL && workers == 2, "the restored tree: %s, %u workers",
              problem != NULL ? problem : "fine", workers);
    bt_note("%zu files x (missing, directory, every cut, %zu garbages): %u trees, each detected, "
            "read and run by a pinned memory-aware pool; %u warnings logged",
            HT_NFILES, HT_NGARBAGE, variants, ht_log_warnings());
}

// Known answers: what the documentation promises for odd files.
typedef struct ht_known {
    const char *what;
    const char *rel[4];
    const char *text[4]; // NULL: remove the file
    int cgroup_version;
    double quota;
    unsigned workers;
    beat_result psi;              // reading the pressure file beat_pressure_locate picks
    unsigned long long mem_limit; // headroom limit, 0 = none
} ht_known;

#define HT_GiB4 4294967296ull
static const ht_known ht_known_answers[] = {
    {"no proc/self/cgroup", {"proc/self/cgroup"}, {NULL}, 0, 0, 4, BEAT_OK, 0},
    {"proc/self/cgroup is garbage", {"proc/self/cgroup"}, {"abracadabra\n"}, 0, 0, 4, BEAT_OK, 0},
    {"proc/self/cgroup cut to \"0::\" (the root group)",
     {"proc/self/cgroup"},
     {"0::"},
     2,
     0,
     4,
     BEAT_OK,
     0},
    {"cpu.max is garbage (the parent's \"max\" rules)",
     {HT_CG "cpu.max"},
     {"abracadabra\n"},
     2,
     0,
     4,
     BEAT_OK,
     HT_GiB4},
    {"cpu.max \"max\"", {HT_CG "cpu.max"}, {"max 100000\n"}, 2, 0, 4, BEAT_OK, HT_GiB4},
    {"cpu.max quota 0", {HT_CG "cpu.max"}, {"0 100000\n"}, 2, 0, 4, BEAT_OK, HT_GiB4},
    {"cpu.max period 0", {HT_CG "cpu.max"}, {"150000 0\n"}, 2, 0, 4, BEAT_OK, HT_GiB4},
    {"cpu.max negative quota", {HT_CG "cpu.max"}, {"-150000 100000\n"}, 2, 0, 4, BEAT_OK, HT_GiB4},
    {"cpu.max absurdly large",
     {HT_CG "cpu.max"},
     {"18446744073709551615 1\n"},
     2,
     0,
     4,
     BEAT_OK,
     HT_GiB4},
    {"cpu.max without a period (100000 assumed)",
     {HT_CG "cpu.max"},
     {"250000\n"},
     2,
     2.5,
     3,
     BEAT_OK,
     HT_GiB4},
    {"the parent's cpu.max is tighter",
     {"sys/fs/cgroup/app/cpu.max"},
     {"50000 100000\n"},
     2,
     0.5,
     1,
     BEAT_OK,
     HT_GiB4},
    {"cpuset is garbage (all CPUs allowed)",
     {HT_CG "cpu.max", HT_CG "cpuset.cpus.effective"},
     {NULL, "abracadabra\n"},
     2,
     0,
     4,
     BEAT_OK,
     HT_GiB4},
    {"cpuset names one CPU",
     {HT_CG "cpu.max", HT_CG "cpuset.cpus.effective"},
     {NULL, "1\n"},
     2,
     0,
     1,
     BEAT_OK,
     HT_GiB4},
    {"memory.pressure is garbage (reported, no fallback)",
     {HT_CG "memory.pressure"},
     {"abracadabra\n"},
     2,
     1.5,
     2,
     BEAT_ERROR_PARSE,
     HT_GiB4},
    {"memory.max and memory.high are garbage",
     {HT_CG "memory.max", HT_CG "memory.high"},
     {"abracadabra\n", "-1\n"},
     2,
     1.5,
     2,
     BEAT_OK,
     0},
    {"memory.max \"max\"", {HT_CG "memory.max"}, {"max\n"}, 2, 1.5, 2, BEAT_OK, 0},
    {"no PSI and no memory limit anywhere",
     {HT_CG "memory.pressure", "proc/pressure/memory", HT_CG "memory.max", HT_CG "memory.high"},
     {NULL, NULL, NULL, NULL},
     2,
     1.5,
     2,
     BEAT_ERROR_IO,
     0},
};

static void odd_files_give_the_documented_defaults_to_readers_and_pools(void)
{
    size_t n = sizeof ht_known_answers / sizeof ht_known_answers[0];
    for (size_t i = 0; i < n; i++) {
        const ht_known *k = &ht_known_answers[i];
        const char *root = tree_new();
        ht_machine_write(root);
        for (int j = 0; j < 4 && k->rel[j] != NULL; j++) {
            ht_remove(root, k->rel[j]);
            if (k->text[j] != NULL)
                put(root, k->rel[j], "%s", k->text[j]);
        }
        beat_topology t;
        CHECK_MSG(beat_topology_detect(root, &t) == BEAT_OK, "%s: detection failed", k->what);
        int version = t.cgroup_version;
        double quota = t.cpu_quota;
        unsigned workers = t.default_workers;
        beat_topology_release(&t);
        CHECK_MSG(version == k->cgroup_version && quota == k->quota && workers == k->workers,
                  "%s: cgroup v%d, quota %g, %u workers; want v%d, %g, %u", k->what, version, quota,
                  workers, k->cgroup_version, k->quota, k->workers);
        beat_pressure_files files;
        CHECK(beat_pressure_locate(root, &files) == BEAT_OK);
        beat_psi psi;
        beat_result r = beat_psi_read_at(root, files.pressure, &psi, NULL, 0);
        CHECK_MSG(r == k->psi, "%s: PSI read %s, want %s", k->what, beat_result_string(r),
                  beat_result_string(k->psi));
        beat_memory_headroom room;
        CHECK(beat_memory_headroom_read(root, &files, &room) == BEAT_OK);
        CHECK_MSG(room.limit == k->mem_limit, "%s: memory limit %llu, want %llu", k->what,
                  room.limit, k->mem_limit);
        ht_log_reset();
        const char *problem = ht_tree_problem(root, &workers);
        CHECK_MSG(problem == NULL && workers == k->workers, "%s: %s, %u workers", k->what,
                  problem != NULL ? problem : "pool fine", workers);
        if (k->psi != BEAT_OK && k->mem_limit == 0)
            CHECK_MSG(ht_log_has("neither a PSI file nor a memory cgroup limit"),
                      "%s: no warning that the pressure level stays none (first: \"%s\")", k->what,
                      ht_the_log.warning);
    }
    bt_note("%zu odd trees: quota, cpuset, cgroup version, PSI and memory limit as documented, "
            "and pools with those defaults",
            n);
}

static void without_a_readable_cpu_directory_pools_fall_back_to_the_affinity_mask(void)
{
    const char *roots[3];
    roots[0] = "/nonexistent/beat-hostile-root";
    roots[1] = tree_new(); // empty
    roots[2] = tree_new();
    put(roots[2], "sys/devices/system", "a file where a directory should be\n");
    unsigned allowed = beat__cpus_allowed();
    for (int i = 0; i < 3; i++) {
        beat_topology t;
        beat_result r = beat_topology_detect(roots[i], &t);
        CHECK_MSG(r == BEAT_ERROR_IO, "root %s: detection %s, want IO", roots[i],
                  beat_result_string(r));
        CHECK(t.npus == 0 && t.beat__block == NULL); // zeroed on error
        beat_config cfg = beat_config_default(BEAT_PROFILE_ADVANCED);
        cfg.sysfs_root = roots[i];
        cfg.logger = ht_logger();
        ht_log_reset();
        beat_pool *pool = NULL;
        r = beat_pool_create(&cfg, &pool);
        CHECK_MSG(r == BEAT_OK, "root %s: create %s", roots[i], beat_result_string(r));
        unsigned workers = beat_pool_workers(pool);
        long ran = ht_run_jobs(pool, 100);
        beat_pressure_level level = beat_pool_pressure(pool);
        beat_pool_destroy(pool);
        CHECK_MSG(workers == allowed, "root %s: %u workers, want the %u CPUs of the affinity mask",
                  roots[i], workers, allowed);
        CHECK_EQ(ran, 100);
        CHECK_EQ(level, BEAT_PRESSURE_NONE);
        CHECK_MSG(ht_log_warnings() >= 2 && ht_log_errors() == 0,
                  "root %s: %u warnings and %u errors, want the topology and pressure warnings",
                  roots[i], ht_log_warnings(), ht_log_errors());
    }
    bt_note("missing root, empty root, file instead of sys/devices/system: IO from detection, "
            "pools of %u workers (the affinity mask), unpinned, pressure none, warnings logged",
            allowed);
}

static void high_pressure_in_a_fake_tree_reaches_the_pool(void)
{
    // The positive control of the trees above: the pool does read them.
    const char *root = tree_new();
    ht_machine_write(root);
    put(root, HT_CG "memory.pressure",
        "some avg10=60.00 avg60=50.00 avg300=40.00 total=90000000\n"
        "full avg10=30.00 avg60=20.00 avg300=10.00 total=40000000\n");
    beat_config cfg = beat_config_default(BEAT_PROFILE_ADVANCED);
    cfg.sysfs_root = root;
    cfg.pressure_interval_ms = 1;
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    atomic_ulong count;
    atomic_init(&count, 0);
    double start = bt_seconds();
    unsigned rounds = 0;
    while (beat_pool_pressure(pool) != BEAT_PRESSURE_CRITICAL && bt_seconds() - start < 20) {
        for (unsigned i = 0; i < 256; i++)
            beat_submit(pool, ht_pressure_job, &count);
        beat_pool_wait(pool);
        rounds++;
    }
    beat_pressure_level level = beat_pool_pressure(pool);
    beat_pool_destroy(pool);
    CHECK_MSG(level == BEAT_PRESSURE_CRITICAL, "level %s after %u rounds of jobs, want critical",
              beat_pressure_level_name(level), rounds);
    CHECK_EQ(atomic_load(&count), 256ul * rounds);
    bt_note("some avg10=60 in the fake memory.pressure: critical after %u rounds of 256 jobs",
            rounds);
}

// Unreadable files: in a child as uid 65534 (as root) or as ourselves,
// every file of one tree has mode 0, and a second tree has no files at
// all; both must give the same answers. A third tree has every cgroup and
// pressure directory untraversable.
typedef struct ht_answers {
    unsigned npus, workers, ncaches;
    int cgroup_version;
    double quota;
    beat_result psi;
    unsigned long long limit;
    unsigned pool_workers;
} ht_answers;

static const char *ht_answers_of(const char *root, ht_answers *a)
{
    memset(a, 0, sizeof *a);
    beat_topology t;
    if (beat_topology_detect(root, &t) != BEAT_OK)
        return "detection failed";
    a->npus = t.npus;
    a->workers = t.default_workers;
    a->ncaches = t.ncaches;
    a->cgroup_version = t.cgroup_version;
    a->quota = t.cpu_quota;
    beat_topology_release(&t);
    beat_pressure_files files;
    beat_psi psi;
    beat_memory_headroom room;
    if (beat_pressure_locate(root, &files) != BEAT_OK ||
        beat_memory_headroom_read(root, &files, &room) != BEAT_OK)
        return "pressure locate or headroom failed";
    a->psi = beat_psi_read_at(root, files.pressure, &psi, NULL, 0);
    a->limit = room.limit;
    return ht_tree_problem(root, &a->pool_workers);
}

static int ht_answers_equal(const ht_answers *a, const ht_answers *b)
{
    return a->npus == b->npus && a->workers == b->workers && a->ncaches == b->ncaches &&
           a->cgroup_version == b->cgroup_version && a->quota == b->quota && a->psi == b->psi &&
           a->limit == b->limit && a->pool_workers == b->pool_workers;
}

typedef struct ht_unreadable {
    const char *locked, *missing, *sealed;
} ht_unreadable;

static int ht_unreadable_child(void *arg)
{
    const ht_unreadable *u = (const ht_unreadable *)arg;
    if (geteuid() == 0)
        CHILD_CHECK(ht_become_nobody() == 0, "cannot switch to uid %d: %s", HT_NOBODY,
                    strerror(errno));
    const char *probe = ht_path(u->locked, "proc/self/cgroup");
    int fd = open(probe, O_RDONLY);
    CHILD_CHECK(fd < 0 && errno == EACCES, "%s is readable: the test cannot work (%s)", probe,
                fd < 0 ? strerror(errno) : "opened");
    ht_answers locked, missing, sealed;
    const char *problem = ht_answers_of(u->locked, &locked);
    CHILD_CHECK(problem == NULL, "unreadable files: %s", problem);
    problem = ht_answers_of(u->missing, &missing);
    CHILD_CHECK(problem == NULL, "missing files: %s", problem);
    problem = ht_answers_of(u->sealed, &sealed);
    CHILD_CHECK(problem == NULL, "untraversable directories: %s", problem);
    CHILD_CHECK(ht_answers_equal(&locked, &missing),
                "unreadable != missing: %u/%u PUs, %u/%u workers, %u/%u caches, v%d/v%d, quota "
                "%g/%g, psi %s/%s, limit %llu/%llu",
                locked.npus, missing.npus, locked.workers, missing.workers, locked.ncaches,
                missing.ncaches, locked.cgroup_version, missing.cgroup_version, locked.quota,
                missing.quota, beat_result_string(locked.psi), beat_result_string(missing.psi),
                locked.limit, missing.limit);
    CHILD_CHECK(locked.psi == BEAT_ERROR_IO && locked.limit == 0 && locked.ncaches == 0,
                "unreadable: psi %s, limit %llu, %u caches", beat_result_string(locked.psi),
                locked.limit, locked.ncaches);
    CHILD_CHECK(sealed.psi == BEAT_ERROR_IO && sealed.limit == 0 && sealed.quota == 0 &&
                    sealed.workers == 4,
                "untraversable cgroup dirs: psi %s, limit %llu, quota %g, %u workers",
                beat_result_string(sealed.psi), sealed.limit, sealed.quota, sealed.workers);
    printf("     # as uid %d: every file unreadable == every file missing (%u PUs, %u workers, "
           "psi %s); untraversable cgroup and pressure directories: no limits, %u workers\n",
           (int)geteuid(), locked.npus, locked.workers, beat_result_string(locked.psi),
           sealed.workers);
    return 0;
}

static void unreadable_files_count_as_missing_for_an_unprivileged_user(void)
{
    ht_unreadable u;
    u.locked = tree_new();
    u.missing = tree_new();
    u.sealed = tree_new();
    ht_machine_write(u.locked);
    ht_machine_write(u.sealed);
    for (size_t i = 0; i < HT_NFILES; i++) {
        CHECK(chmod(ht_path(u.locked, ht_machine[i].rel), 0) == 0);
        put_dir(u.missing, ht_machine[i].rel);
        rmdir(ht_path(u.missing, ht_machine[i].rel)); // the directories, not the file
    }
    static const char *const sealed_dirs[] = {"sys/fs/cgroup/app", "proc/pressure"};
    for (size_t i = 0; i < 2; i++)
        CHECK(chmod(ht_path(u.sealed, sealed_dirs[i]), 0) == 0);
    // The trees live below a mkdtemp directory (mode 0700): let uid 65534 in.
    CHECK(chmod(tree_top, 0755) == 0);
    ht_outcome o = ht_in_child(ht_unreadable_child, &u, 60);
    for (size_t i = 0; i < 2; i++)
        chmod(ht_path(u.sealed, sealed_dirs[i]), 0755); // so the trees can be removed
    CHECK_MSG(ht_ok(&o), "child %s", ht_outcome_text(&o));
}

// ---------------------------------------------------------------------------
// 3. fork() with a live pool

// Counts the bytes the pool holds, so the child can see destroy free them.
static atomic_llong ht_bytes_out;

static void *ht_counting_alloc(size_t size, size_t align, void *user)
{
    (void)user;
    void *p = NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) != 0)
        return NULL;
    atomic_fetch_add(&ht_bytes_out, (long long)size);
    return p;
}

static void ht_counting_free(void *ptr, size_t size, size_t align, void *user)
{
    (void)align, (void)user;
    atomic_fetch_sub(&ht_bytes_out, (long long)size);
    free(ptr);
}

static void ht_busy_job(beat_ctx *ctx, void *arg)
{
    double start = bt_seconds();
    while (bt_seconds() - start < 50e-6) {
    }
    ht_count_job(ctx, arg);
}

typedef struct ht_fork {
    beat_pool *pool;
    atomic_ulong *count;
} ht_fork;

static void ht_noop(beat_ctx *ctx, void *arg) { (void)ctx, (void)arg; }

static int ht_fork_child(void *arg)
{
    ht_fork *f = (ht_fork *)arg;
    double start = bt_seconds();
    unsigned errors = ht_log_errors();
    beat_result r = beat_submit(f->pool, ht_noop, NULL);
    CHILD_CHECK(r == BEAT_ERROR_FORKED, "beat_submit: %s", beat_result_string(r));
    r = beat_submit_deferrable(f->pool, ht_noop, NULL);
    CHILD_CHECK(r == BEAT_ERROR_FORKED, "beat_submit_deferrable: %s", beat_result_string(r));
    beat_job jobs[3] = {{ht_noop, NULL}, {ht_noop, NULL}, {ht_noop, NULL}};
    r = beat_submit_batch(f->pool, jobs, 3);
    CHILD_CHECK(r == BEAT_ERROR_FORKED, "beat_submit_batch: %s", beat_result_string(r));
    r = beat_run(f->pool, ht_noop, NULL);
    CHILD_CHECK(r == BEAT_ERROR_FORKED, "beat_run: %s", beat_result_string(r));
    CHILD_CHECK(ht_log_errors() == errors + 1, "beat_run logged %u errors, want 1",
                ht_log_errors() - errors);
    atomic_ulong sum;
    atomic_init(&sum, 0);
    r = beat_pool_parallel_for(f->pool, 0, 1000, 0, ht_sum_range, &sum);
    CHILD_CHECK(r == BEAT_ERROR_FORKED && atomic_load(&sum) == 0,
                "beat_pool_parallel_for: %s, sum %lu", beat_result_string(r),
                (unsigned long)atomic_load(&sum));
    beat_pool_wait(f->pool); // returns at once instead of waiting for absent workers
    CHILD_CHECK(ht_log_errors() == errors + 3 && ht_log_has("beat_pool_wait: The pool was created "
                                                            "before this process was forked"),
                "beat_pool_wait in the child: %u errors logged, none from it naming the fork",
                ht_log_errors() - errors);
    CHILD_CHECK(strcmp(beat_result_string(BEAT_ERROR_FORKED), "BEAT_ERROR_FORKED") == 0 &&
                    strstr(beat_result_advice(BEAT_ERROR_FORKED), "new pool") != NULL,
                "BEAT_ERROR_FORKED lacks its name or advice");
    beat_pool_destroy(f->pool); // frees without joining threads that do not exist here
    long long left = atomic_load(&ht_bytes_out);
    CHILD_CHECK(left == 0, "%lld bytes still allocated after destroy in the child", left);
    double took = bt_seconds() - start;
#if !BEAT__TSAN // TSan cannot start threads after a multi-threaded fork
    beat_pool *fresh = NULL;
    r = beat_pool_create(NULL, &fresh);
    CHILD_CHECK(r == BEAT_OK, "a new pool in the child: %s", beat_result_string(r));
    fib_arg a = {20, 0};
    r = beat_run(fresh, fib_task, &a);
    long ran = ht_run_jobs(fresh, 1000);
    beat_pool_destroy(fresh);
    CHILD_CHECK(r == BEAT_OK && a.result == fib_serial(20) && ran == 1000,
                "the child's new pool: %s, fib %ld, %ld of 1000 jobs", beat_result_string(r),
                a.result, ran);
#endif
    printf("     # child: every call on the inherited pool answered FORKED in %.1f ms, destroy "
           "freed it all%s\n",
           took * 1e3, BEAT__TSAN ? "" : "; a new pool ran fib(20) and 1000 jobs");
    return 0;
}

static void fork_with_a_live_pool_gives_the_child_forked_errors_and_spares_the_parent(void)
{
    for (int busy = 0; busy < 2; busy++) {
        beat_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.workers = 2;
        cfg.logger = ht_logger();
        cfg.allocator.alloc = ht_counting_alloc;
        cfg.allocator.free = ht_counting_free;
        ht_log_reset();
        beat_pool *pool = NULL;
        CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
        atomic_ulong count;
        atomic_init(&count, 0);
        unsigned queued = busy ? 4000 : 0;
        for (unsigned i = 0; i < queued; i++)
            CHECK_EQ(beat_submit(pool, ht_busy_job, &count), BEAT_OK);
        ht_fork f = {pool, &count};
        ht_outcome o = ht_in_child(ht_fork_child, &f, 30);
        unsigned long at_fork_return = atomic_load(&count);
        beat_pool_wait(pool);
        unsigned long done = atomic_load(&count);
        long more = ht_run_jobs(pool, 1000);
        beat_pool_destroy(pool);
        CHECK_MSG(ht_ok(&o), "%s pool: child %s", busy ? "busy" : "idle", ht_outcome_text(&o));
        CHECK_MSG(done == queued, "parent: %lu of %u jobs ran", done, queued);
        CHECK_EQ(more, 1000);
        CHECK_EQ(atomic_load(&ht_bytes_out), 0);
        CHECK_MSG(ht_log_errors() == 0, "the parent logged an error: \"%s\"", ht_the_log.error);
        if (busy)
            bt_note("forked with %u jobs queued (%lu done when the child finished): the parent "
                    "finished all of them and 1000 more",
                    queued, at_fork_return);
    }
}

// ---------------------------------------------------------------------------
// 4. Signal storms

static atomic_ulong ht_signals;

static void ht_on_signal(int sig)
{
    (void)sig;
    atomic_fetch_add_explicit(&ht_signals, 1, memory_order_relaxed);
}

typedef struct ht_storm {
    atomic_int stop;
    pid_t pid;
    unsigned long rounds;
    pthread_t thread;
} ht_storm;

static int ht_list_threads(pid_t *tids, int cap)
{
    DIR *dir = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; dir != NULL && n < cap && (e = readdir(dir)) != NULL;)
        if (e->d_name[0] != '.')
            tids[n++] = (pid_t)atoi(e->d_name);
    if (dir != NULL)
        closedir(dir);
    return n;
}

// Every 100 us (10 kHz: absolute deadlines and a 1 ns timer slack, so the
// rate holds while the thread gets a CPU), sends SIGUSR1 to every other
// thread of the process; the list is refreshed every 64 rounds, so new
// workers are hit too.
static void *ht_storm_main(void *arg)
{
    ht_storm *s = (ht_storm *)arg;
    pid_t self = (pid_t)syscall(SYS_gettid), tids[256];
    int n = 0;
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load(&s->stop)) {
        if (s->rounds % 64 == 0)
            n = ht_list_threads(tids, 256);
        for (int i = 0; i < n; i++)
            if (tids[i] != self)
                syscall(SYS_tgkill, s->pid, tids[i], SIGUSR1);
        s->rounds++;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec + 1 ||
            (now.tv_sec - next.tv_sec) * 1000000000L + (now.tv_nsec - next.tv_nsec) > 100000)
            next = now; // late (no CPU): no burst to catch up, it would only merge signals
        next.tv_nsec += 100000;
        if (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
        }
    }
    return NULL;
}

typedef struct ht_tree_node {
    struct ht_tree_node *left, *right;
    long value;
} ht_tree_node;

static ht_tree_node *ht_tree_build(unsigned depth, long *next)
{
    ht_tree_node *n = (ht_tree_node *)malloc(sizeof *n);
    if (n == NULL)
        abort();
    n->value = (*next)++;
    n->left = depth > 0 ? ht_tree_build(depth - 1, next) : NULL;
    n->right = depth > 0 ? ht_tree_build(depth - 1, next) : NULL;
    return n;
}

static void ht_tree_free(ht_tree_node *n)
{
    if (n == NULL)
        return;
    ht_tree_free(n->left);
    ht_tree_free(n->right);
    free(n);
}

typedef struct ht_tree_sum {
    const ht_tree_node *node;
    long sum;
} ht_tree_sum;

static void ht_tree_sum_task(beat_ctx *ctx, void *arg)
{
    ht_tree_sum *t = (ht_tree_sum *)arg;
    if (t->node == NULL) {
        t->sum = 0;
        return;
    }
    ht_tree_sum l = {t->node->left, 0}, r = {t->node->right, 0};
    beat_pcall(ctx, ht_tree_sum_task, &l, ht_tree_sum_task, &r);
    t->sum = t->node->value + l.sum + r.sum;
}

// fib, a tree sum and a parallel_for on pool; NULL or what was wrong.
static const char *ht_fork_join_problem(beat_pool *pool, int fib_n, unsigned tree_depth)
{
    static char why[160];
    fib_arg a = {fib_n, 0};
    beat_result r = beat_run(pool, fib_task, &a);
    if (r != BEAT_OK || a.result != fib_serial(fib_n)) {
        snprintf(why, sizeof why, "fib(%d): %s, %ld", fib_n, beat_result_string(r), a.result);
        return why;
    }
    long next = 0;
    ht_tree_node *root = ht_tree_build(tree_depth, &next);
    ht_tree_sum t = {root, 0};
    r = beat_run(pool, ht_tree_sum_task, &t);
    ht_tree_free(root);
    long want = next * (next - 1) / 2; // values 0..next-1
    if (r != BEAT_OK || t.sum != want) {
        snprintf(why, sizeof why, "tree sum: %s, %ld, want %ld", beat_result_string(r), t.sum,
                 want);
        return why;
    }
    const size_t n = 1000000;
    atomic_ulong sum;
    atomic_init(&sum, 0);
    r = beat_pool_parallel_for(pool, 0, n, 0, ht_sum_range, &sum);
    if (r != BEAT_OK || atomic_load(&sum) != (unsigned long)(n * (n - 1) / 2)) {
        snprintf(why, sizeof why, "parallel_for: %s, sum %lu", beat_result_string(r),
                 (unsigned long)atomic_load(&sum));
        return why;
    }
    return NULL;
}

static void signal_storm_during_a_million_jobs_loses_nothing_with_or_without_sa_restart(void)
{
    const unsigned bursts = BT_SCALE(1000, 100), per_burst = 1000;
    for (int restart = 1; restart >= 0; restart--) {
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = ht_on_signal;
        sa.sa_flags = restart ? SA_RESTART : 0;
        sigemptyset(&sa.sa_mask);
        CHECK(sigaction(SIGUSR1, &sa, &old) == 0);
        atomic_store(&ht_signals, 0);
        beat_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.workers = 4; // more than the CPUs here: workers park and wake all the time
        beat_pool *pool = NULL;
        CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
        ht_storm storm;
        atomic_init(&storm.stop, 0);
        storm.pid = getpid();
        storm.rounds = 0;
        CHECK(pthread_create(&storm.thread, NULL, ht_storm_main, &storm) == 0);
        double start = bt_seconds();
        atomic_ulong count;
        atomic_init(&count, 0);
        unsigned long refused = 0;
        const char *problem = NULL;
        unsigned lifecycles = 0;
        for (unsigned b = 0; b < bursts && problem == NULL; b++) {
            for (unsigned i = 0; i < per_burst; i++)
                refused += beat_submit(pool, ht_count_job, &count) != BEAT_OK;
            beat_pool_wait(pool); // parks on the outside futex: signals interrupt it
            if (atomic_load(&count) != (unsigned long)(b + 1) * per_burst - refused)
                problem = "beat_pool_wait returned before every submitted job had run";
            if (b % 100 == 0)
                problem = ht_fork_join_problem(pool, 20, 10);
            if (b % 100 == 50) { // create and destroy under the storm too
                beat_pool *extra = NULL;
                if (beat_pool_create(&cfg, &extra) == BEAT_OK) {
                    lifecycles++;
                    if (ht_run_jobs(extra, 100) != 100)
                        problem = "a pool created under the storm lost jobs";
                    beat_pool_destroy(extra);
                }
            }
        }
        double seconds = bt_seconds() - start;
        atomic_store(&storm.stop, 1);
        pthread_join(storm.thread, NULL);
        beat_stats stats;
        beat_pool_stats(pool, &stats, NULL, 0);
        beat_pool_destroy(pool);
        struct sigaction ignore;
        memset(&ignore, 0, sizeof ignore);
        ignore.sa_handler = SIG_IGN; // late signals must not kill us
        sigaction(SIGUSR1, &ignore, NULL);
        unsigned long signals = atomic_load(&ht_signals);
        CHECK_MSG(problem == NULL, "%s: %s", restart ? "SA_RESTART" : "no SA_RESTART", problem);
        CHECK_EQ(refused, 0);
        CHECK_EQ(atomic_load(&count), (unsigned long)bursts * per_burst);
        CHECK_MSG(signals >= BT_SCALE(1000u, 100u), "only %lu signals handled in %lu rounds",
                  signals, storm.rounds);
        CHECK_MSG(stats.parks > 0, "no worker ever parked: the futex waits were not exercised");
        bt_note("%s: %u jobs, fib/tree/parallel_for %u times, %u pools made and destroyed, under "
                "%lu signals (%.0f per second per thread, %llu parks): exact",
                restart ? "SA_RESTART" : "without SA_RESTART", bursts * per_burst,
                (bursts + 99) / 100, lifecycles, signals, storm.rounds / seconds,
                (unsigned long long)stats.parks);
        (void)old;
    }
}

// ---------------------------------------------------------------------------
// 5. Oversubscription: 16 workers on one CPU

static atomic_uint ht_one_cpu_workers;

static void ht_on_start_one_cpu(unsigned worker, void *user)
{
    (void)worker, (void)user;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) == 1)
        atomic_fetch_add(&ht_one_cpu_workers, 1);
}

static int ht_one_cpu_child(void *arg)
{
    (void)arg;
    cpu_set_t set;
    CHILD_CHECK(sched_getaffinity(0, sizeof set, &set) == 0, "sched_getaffinity: %s",
                strerror(errno));
    int cpu = 0;
    while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set))
        cpu++;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    CHILD_CHECK(sched_setaffinity(0, sizeof set, &set) == 0, "sched_setaffinity: %s",
                strerror(errno));
    beat_pool *pool = NULL;
    CHILD_CHECK(beat_pool_create(NULL, &pool) == BEAT_OK, "default pool");
    unsigned defaults = beat_pool_workers(pool);
    beat_pool_destroy(pool);
    CHILD_CHECK(defaults == 1, "workers = 0 on one allowed CPU gave %u workers", defaults);
    beat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 16;
    cfg.on_worker_start = ht_on_start_one_cpu;
    CHILD_CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK, "16-worker pool");
    const char *problem = ht_fork_join_problem(pool, 27, 16);
    long ran = ht_run_jobs(pool, 10000);
    beat_pool_destroy(pool);
    CHILD_CHECK(problem == NULL, "16 workers on CPU %d: %s", cpu, problem);
    CHILD_CHECK(ran == 10000, "16 workers on CPU %d: %ld of 10000 jobs", cpu, ran);
    CHILD_CHECK(atomic_load(&ht_one_cpu_workers) == 16, "%u of 16 workers saw one allowed CPU",
                atomic_load(&ht_one_cpu_workers));
    printf("     # CPU %d only: default pool 1 worker; 16 workers: fib(27), a 131071-node tree, "
           "parallel_for over 1e6 and 10000 jobs all exact\n",
           cpu);
    return 0;
}

static void sixteen_workers_on_one_cpu_compute_correctly(void)
{
    ht_outcome o = ht_in_child(ht_one_cpu_child, NULL, BT_SCALE(60, 110));
    CHECK_MSG(ht_ok(&o), "child %s", ht_outcome_text(&o));
}

// ---------------------------------------------------------------------------
// 6. Pools running each other

typedef struct ht_nest {
    beat_pool *a, *b, *c;
    atomic_ulong sum;
    atomic_uint failures;
} ht_nest;

static void ht_nest_fib(beat_ctx *ctx, void *arg)
{
    ht_nest *n = (ht_nest *)arg;
    fib_arg f = {15, 0};
    fib_task(ctx, &f);
    atomic_fetch_add(&n->sum, (unsigned long)f.result);
}

// Each index of the range calls beat_run on the next pool down.
static void ht_nest_c_range(beat_ctx *ctx, size_t begin, size_t end, void *arg)
{
    (void)ctx;
    ht_nest *n = (ht_nest *)arg;
    for (size_t i = begin; i < end; i++)
        if (beat_run(n->c, ht_nest_fib, n) != BEAT_OK)
            atomic_fetch_add(&n->failures, 1);
}

static void ht_nest_b_task(beat_ctx *ctx, void *arg)
{
    beat_parallel_for(ctx, 0, 4, 1, ht_nest_c_range, arg);
}

static void ht_nest_b_range(beat_ctx *ctx, size_t begin, size_t end, void *arg)
{
    (void)ctx;
    ht_nest *n = (ht_nest *)arg;
    for (size_t i = begin; i < end; i++)
        if (beat_run(n->b, ht_nest_b_task, n) != BEAT_OK)
            atomic_fetch_add(&n->failures, 1);
}

static void ht_nest_a_task(beat_ctx *ctx, void *arg)
{
    beat_parallel_for(ctx, 0, 8, 1, ht_nest_b_range, arg);
}

static void ht_nest_a_job(beat_ctx *ctx, void *arg) { ht_nest_b_range(ctx, 0, 1, arg); }

// A -> B -> A: a job of A runs a loop on B whose pieces beat_run on A.
static void ht_cross_back_range(beat_ctx *ctx, size_t begin, size_t end, void *arg)
{
    (void)ctx;
    ht_nest *n = (ht_nest *)arg;
    for (size_t i = begin; i < end; i++)
        if (beat_run(n->a, ht_nest_fib, n) != BEAT_OK)
            atomic_fetch_add(&n->failures, 1);
}

static void ht_cross_b_task(beat_ctx *ctx, void *arg)
{
    beat_parallel_for(ctx, 0, 2, 1, ht_cross_back_range, arg);
}

static void ht_cross_a_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    ht_nest *n = (ht_nest *)arg;
    if (beat_run(n->b, ht_cross_b_task, n) != BEAT_OK)
        atomic_fetch_add(&n->failures, 1);
}

static int ht_nest_child(void *arg)
{
    (void)arg;
    ht_nest n;
    atomic_init(&n.sum, 0);
    atomic_init(&n.failures, 0);
    beat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 2;
    CHILD_CHECK(beat_pool_create(&cfg, &n.a) == BEAT_OK &&
                    beat_pool_create(&cfg, &n.b) == BEAT_OK &&
                    beat_pool_create(&cfg, &n.c) == BEAT_OK,
                "three pools");
    const unsigned long fib15 = (unsigned long)fib_serial(15);
    unsigned rounds = BT_SCALE(20, 4);
    for (unsigned round = 0; round < rounds; round++) {
        // A -> B -> C from an outside thread (beat_run) and from jobs of A.
        beat_result r = beat_run(n.a, ht_nest_a_task, &n);
        for (unsigned i = 0; i < 8; i++)
            beat_submit(n.a, ht_nest_a_job, &n);
        beat_pool_wait(n.a);
        CHILD_CHECK(r == BEAT_OK && atomic_load(&n.failures) == 0, "A->B->C: %s, %u failures",
                    beat_result_string(r), atomic_load(&n.failures));
        CHILD_CHECK(atomic_load(&n.sum) == (8 + 8) * 4 * fib15, "A->B->C round %u: sum %lu", round,
                    (unsigned long)atomic_load(&n.sum));
        atomic_store(&n.sum, 0);
        // A -> B -> A: jobs of A wait on B, whose loop pieces wait on A.
        for (unsigned i = 0; i < 2; i++)
            beat_submit(n.a, ht_cross_a_job, &n);
        beat_pool_wait(n.a);
        CHILD_CHECK(atomic_load(&n.failures) == 0 && atomic_load(&n.sum) == 2 * 2 * fib15,
                    "A->B->A round %u: sum %lu, %u failures", round,
                    (unsigned long)atomic_load(&n.sum), atomic_load(&n.failures));
        atomic_store(&n.sum, 0);
    }
    beat_pool_destroy(n.c);
    beat_pool_destroy(n.b);
    beat_pool_destroy(n.a);
    printf("     # %u rounds: A->B->C fanning out 8 x 4 from beat_run and from 8 jobs (64 fib(15) "
           "each) and A->B->A from 2 jobs, all sums exact\n",
           rounds);
    return 0;
}

static void pools_running_each_other_three_deep_all_finish(void)
{
    ht_outcome o = ht_in_child(ht_nest_child, NULL, BT_SCALE(60, 110));
    CHECK_MSG(ht_ok(&o), "child %s", ht_outcome_text(&o));
}

// ---------------------------------------------------------------------------
// 7. Join recursion deeper than the stack

typedef struct ht_deep {
    long depth, result;
} ht_deep;

static void ht_leaf(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    *(long *)arg = 1;
}

// Recursion through beat_pcall: a recurses, b is a leaf (so a thief that
// steals b does not recurse). Not a tail call: the sum follows.
static void ht_deep_task(beat_ctx *ctx, void *arg)
{
    ht_deep *d = (ht_deep *)arg;
    if (d->depth == 0) {
        d->result = 0;
        return;
    }
    ht_deep inner = {d->depth - 1, 0};
    long leaf = 0;
    beat_pcall(ctx, ht_deep_task, &inner, ht_leaf, &leaf);
    d->result = inner.result + leaf;
}

#define HT_DEEP 20000 // about 3 MB of frames: over 64 KiB, well under 64 MiB

typedef struct ht_deep_case {
    size_t stack;  // worker (or caller thread) stack size
    int on_caller; // 0: a job on a worker; 1: beat_run from a thread with that stack
    int quiet;     // the crash is expected: no sanitizer report on stderr
} ht_deep_case;

static void *ht_deep_caller(void *arg)
{
    beat_pool *pool = (beat_pool *)arg;
    ht_deep *d = (ht_deep *)malloc(sizeof *d);
    d->depth = HT_DEEP;
    d->result = 0;
    beat_result r = beat_run(pool, ht_deep_task, d);
    long result = r == BEAT_OK ? d->result : -1;
    free(d);
    return (void *)(intptr_t)result;
}

static int ht_deep_child(void *arg)
{
    const ht_deep_case *c = (const ht_deep_case *)arg;
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core); // a crash must not leave a core file behind
    int devnull = c->quiet ? open("/dev/null", O_WRONLY) : -1;
    if (devnull >= 0)
        dup2(devnull, STDERR_FILENO);
    beat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 2;
    cfg.stack_size = c->on_caller ? 0 : c->stack;
    beat_pool *pool = NULL;
    CHILD_CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK, "pool with %zu-byte stacks", c->stack);
    long result;
    if (c->on_caller) {
        pthread_attr_t attr;
        pthread_t t;
        void *ret = NULL;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, c->stack);
        CHILD_CHECK(pthread_create(&t, &attr, ht_deep_caller, pool) == 0, "caller thread");
        pthread_join(t, &ret);
        pthread_attr_destroy(&attr);
        result = (long)(intptr_t)ret;
    } else {
        ht_deep d = {HT_DEEP, 0};
        beat_submit(pool, ht_deep_task, &d);
        beat_pool_wait(pool);
        result = d.result;
    }
    beat_pool_destroy(pool);
    CHILD_CHECK(result == HT_DEEP, "depth %d gave %ld", HT_DEEP, result);
    return 0;
}

static void join_recursion_deeper_than_the_stack_dies_by_signal_instead_of_hanging(void)
{
    for (int on_caller = 0; on_caller < 2; on_caller++) {
        const char *where = on_caller ? "beat_run caller thread" : "worker";
        ht_deep_case big = {64u << 20, on_caller, 0}, small = {64u << 10, on_caller, 1};
        ht_outcome o = ht_in_child(ht_deep_child, &big, BT_SCALE(60, 110));
        CHECK_MSG(ht_ok(&o), "%s, 64 MiB stack, depth %d: child %s", where, HT_DEEP,
                  ht_outcome_text(&o));
        o = ht_in_child(ht_deep_child, &small, BT_SCALE(30, 110));
        int by_signal = o.signaled && (o.sig == SIGSEGV || o.sig == SIGBUS);
        // A sanitizer catches the overflow itself: it reports and exits non-zero.
        int by_sanitizer = HT_SANITIZED && o.exited && o.code != 0;
        CHECK_MSG(by_signal || by_sanitizer,
                  "%s, 64 KiB stack, depth %d: child %s; want death by SIGSEGV or SIGBUS", where,
                  HT_DEEP, ht_outcome_text(&o));
        bt_note("%s: depth %d passes with a 64 MiB stack and overflowing 64 KiB ends in %s "
                "after %.2f s",
                where, HT_DEEP, by_signal ? strsignal(o.sig) : "a sanitizer report", o.seconds);
    }
}

// ---------------------------------------------------------------------------
// 8. Wrap-around: deque indices, futex epochs, the free list's ABA tag
//
// No public hook exists for these; this file compiles the implementation,
// so the test reaches in at the one moment it is safe: before_thread_create
// for worker 0 runs after every deque is made and before any thread
// starts. The pool is found through the allocator (its first allocation of
// sizeof(beat_pool) bytes).

#define HT_INDEX_START (UINT64_MAX - 1000)
#define HT_EPOCH_START (UINT32_MAX - 100)
#define HT_TAG_START (UINT32_MAX - 100)

static beat_pool *ht_wrap_pool;

static void *ht_wrap_alloc(size_t size, size_t align, void *user)
{
    void *p = ht_counting_alloc(size, align, user);
    if (p != NULL && size == sizeof(beat_pool) && ht_wrap_pool == NULL)
        ht_wrap_pool = (beat_pool *)p;
    return p;
}

static beat_result ht_wrap_before_threads(unsigned worker, void *user)
{
    (void)user;
    beat_pool *pool = ht_wrap_pool;
    if (worker != 0 || pool == NULL)
        return BEAT_OK;
    for (unsigned i = 0; i < pool->nslots; i++) { // empty deques: move both ends
        pool->workers[i].deque.top = HT_INDEX_START;
        pool->workers[i].deque.bottom = HT_INDEX_START;
    }
    pool->idle_epoch = pool->outside_epoch = pool->throttle_epoch = HT_EPOCH_START;
    uint64_t head = pool->tasks->head;
    pool->tasks->head = ((uint64_t)HT_TAG_START << 32) | (head & 0xffffffffu);
    return BEAT_OK;
}

typedef struct ht_wrap_job {
    atomic_uchar *hits;
    size_t index;
} ht_wrap_job;

static void ht_wrap_hit(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    ht_wrap_job *j = (ht_wrap_job *)arg;
    atomic_fetch_add_explicit(&j->hits[j->index], 1, memory_order_relaxed);
}

typedef struct ht_spawner {
    ht_wrap_job *jobs;
    size_t first, count;
    int wrapped; // bottom was past UINT64_MAX once everything was pushed
} ht_spawner;

// Spawns count tasks onto this context's deque and waits for them (the
// pops take bottom back below the wrap point).
static void ht_spawn_many(beat_ctx *ctx, void *arg)
{
    ht_spawner *s = (ht_spawner *)arg;
    beat_counter c = {0};
    for (size_t i = 0; i < s->count; i++)
        beat_spawn(ctx, &c, ht_wrap_hit, &s->jobs[s->first + i]);
    // Relaxed: the owner reads its own index.
    s->wrapped = beat__atomic_load_u64(&ctx->deque.bottom, BEAT__MO_RELAXED) < HT_INDEX_START;
    beat_wait(ctx, &c);
}

// Longer than the spin bound of outside waits (BEAT__SPIN_GROW_MAX_OUTSIDE
// x the default 10 us), so that a beat_pool_wait for it parks.
static void ht_sleepy_job(beat_ctx *ctx, void *arg)
{
    (void)ctx, (void)arg;
    ht_sleep_us(BEAT__SPIN_GROW_MAX_OUTSIDE * 15);
}

static int ht_wrap_child(void *arg)
{
    (void)arg;
    const size_t spawned = 4000, submitted = BT_SCALE(50000, 10000),
                 total = 2 * spawned + submitted;
    atomic_uchar *hits = (atomic_uchar *)calloc(total, sizeof *hits);
    ht_wrap_job *jobs = (ht_wrap_job *)malloc(total * sizeof *jobs);
    CHILD_CHECK(hits != NULL && jobs != NULL, "out of memory");
    for (size_t i = 0; i < total; i++) {
        jobs[i].hits = hits;
        jobs[i].index = i;
    }
    ht_wrap_pool = NULL;
    beat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = 2;
    cfg.deque_capacity = 64; // small: the spawns also grow the deques across the wrap
    cfg.allocator.alloc = ht_wrap_alloc;
    cfg.allocator.free = ht_counting_free;
    cfg.before_thread_create = ht_wrap_before_threads;
    beat_pool *pool = NULL;
    CHILD_CHECK(beat_pool_create(&cfg, &pool) == BEAT_OK, "create");
    CHILD_CHECK(pool == ht_wrap_pool, "the pool was not the allocation of sizeof(beat_pool) bytes");

    // The beat_run caller's deque (an outside slot) and a worker's deque.
    ht_spawner outside = {jobs, 0, spawned, 0}, inside = {jobs, spawned, spawned, 0};
    beat_result r = beat_run(pool, ht_spawn_many, &outside);
    beat_result r2 = beat_submit(pool, ht_spawn_many, &inside);
    beat_pool_wait(pool);
    CHILD_CHECK(r == BEAT_OK && r2 == BEAT_OK, "spawners: %s, %s", beat_result_string(r),
                beat_result_string(r2));
    fib_arg a = {22, 0};
    r = beat_run(pool, fib_task, &a);
    CHILD_CHECK(r == BEAT_OK && a.result == fib_serial(22), "fib(22): %s, %ld",
                beat_result_string(r), a.result);
    // Outside submits pop the shared free list (one tagged CAS each); each
    // round ends with a wait that parks (a sleepy job), bumping the epochs.
    size_t next = 2 * spawned, rounds = 0;
    while (next < total) {
        for (size_t i = 0; i < 500 && next < total; i++, next++)
            CHILD_CHECK(beat_submit(pool, ht_wrap_hit, &jobs[next]) == BEAT_OK, "submit");
        CHILD_CHECK(beat_submit(pool, ht_sleepy_job, NULL) == BEAT_OK, "submit");
        beat_pool_wait(pool);
        rounds++;
    }
    for (unsigned i = 0; i < 150; i++) { // enough parks and wakes to pass both epoch wraps
        CHILD_CHECK(beat_submit(pool, ht_sleepy_job, NULL) == BEAT_OK, "submit");
        beat_pool_wait(pool);
    }
    unsigned wrapped_deques = 0; // that stayed past the wrap (top moved by steals)
    for (unsigned i = 0; i < pool->nslots; i++)
        wrapped_deques +=
            beat__atomic_load_u64(&pool->workers[i].deque.top, BEAT__MO_RELAXED) < HT_INDEX_START;
    uint32_t idle = beat__atomic_load_u32(&pool->idle_epoch, BEAT__MO_RELAXED);
    uint32_t outside_epoch = beat__atomic_load_u32(&pool->outside_epoch, BEAT__MO_RELAXED);
    uint32_t tag = (uint32_t)(beat__atomic_load_u64(&pool->tasks->head, BEAT__MO_RELAXED) >> 32);
    beat_pool_destroy(pool);
    size_t wrong = 0;
    for (size_t i = 0; i < total; i++)
        wrong += atomic_load(&hits[i]) != 1;
    free(hits);
    free(jobs);
    CHILD_CHECK(wrong == 0, "%zu of %zu tasks did not run exactly once", wrong, total);
    CHILD_CHECK(outside.wrapped && inside.wrapped,
                "the spawns did not take bottom past UINT64_MAX (outside slot %d, worker %d)",
                outside.wrapped, inside.wrapped);
    CHILD_CHECK(idle < HT_EPOCH_START && outside_epoch < HT_EPOCH_START,
                "epochs did not wrap: idle %u, outside %u", idle, outside_epoch);
    CHILD_CHECK(tag < HT_TAG_START, "the free-list tag did not wrap: %u", tag);
    CHILD_CHECK(atomic_load(&ht_bytes_out) == 0, "%lld bytes leaked",
                (long long)atomic_load(&ht_bytes_out));
    printf(
        "     # %zu tasks exactly once; bottom of an outside slot's and a worker's deque went past "
        "UINT64_MAX and back (%u deques with top past it too); epochs at %u and %u and the "
        "ABA tag at %u after their 2^32 wrap\n",
        total, wrapped_deques, idle, outside_epoch, tag);
    return 0;
}

static void indices_epochs_and_free_list_tags_cross_their_wrap_points(void)
{
    // In a child: a wrap bug loses tasks, and a wait for a lost task hangs.
    ht_outcome o = ht_in_child(ht_wrap_child, NULL, BT_SCALE(60, 110));
    CHECK_MSG(ht_ok(&o), "child %s", ht_outcome_text(&o));
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(thread_limit_of_an_unprivileged_user_fails_create_cleanly),
        BT_CASE(address_space_limit_fails_create_cleanly),
        BT_CASE(every_file_missing_empty_cut_or_garbage_keeps_readers_and_pools_working),
        BT_CASE(odd_files_give_the_documented_defaults_to_readers_and_pools),
        BT_CASE(without_a_readable_cpu_directory_pools_fall_back_to_the_affinity_mask),
        BT_CASE(high_pressure_in_a_fake_tree_reaches_the_pool),
        BT_CASE(unreadable_files_count_as_missing_for_an_unprivileged_user),
        BT_CASE(fork_with_a_live_pool_gives_the_child_forked_errors_and_spares_the_parent),
        BT_CASE(signal_storm_during_a_million_jobs_loses_nothing_with_or_without_sa_restart),
        BT_CASE(sixteen_workers_on_one_cpu_compute_correctly),
        BT_CASE(pools_running_each_other_three_deep_all_finish),
        BT_CASE(join_recursion_deeper_than_the_stack_dies_by_signal_instead_of_hanging),
        BT_CASE(indices_epochs_and_free_list_tags_cross_their_wrap_points),
    };
    return BT_RUN(cases);
}
