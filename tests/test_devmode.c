// Development mode: every check fires on a program that breaks its rule
// and stays silent on correct programs. Each breaking program runs in a
// fresh process (this binary re-run with --child=NAME, stderr captured,
// killed after a timeout), because without its check it would hang or
// corrupt the pool; the parent asserts that the log names the rule and
// the fix and that the program got to its end. Also: beat_config_analyze
// finds what is wrong with a configuration (one line per finding, naming
// the field), and every beat_result has advice of its own.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"
#include "fib.h"
#include "tree.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define CHILD_TIMEOUT_S 120.0

static void noop(beat_ctx *ctx, void *arg) { (void)ctx, (void)arg; }

static atomic_int marks;
static void mark(beat_ctx *ctx, void *arg)
{
    (void)ctx, (void)arg;
    atomic_fetch_add(&marks, 1);
}

static atomic_ullong items;
static void count_items(beat_ctx *ctx, size_t begin, size_t end, void *arg)
{
    (void)ctx, (void)arg;
    atomic_fetch_add(&items, end - begin);
}

static void sleep_ms(long ms) { usleep((useconds_t)ms * 1000u); }

// Waits (polling) until *flag >= want or seconds pass; 1 if it got there.
static int wait_for(atomic_int *flag, int want, double seconds)
{
    double until = bt_seconds() + seconds;
    while (atomic_load(flag) < want)
        if (bt_seconds() > until)
            return 0;
        else
            usleep(200);
    return 1;
}

// ---------------------------------------------------------------------------
// Child programs: each breaks one rule with a DEVELOPMENT pool logging to
// stderr, writes "child: ..." lines with what it saw, and ends "child: done".

static beat_pool *dev_pool(unsigned workers, beat_logger logger, unsigned stuck_ms)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_DEVELOPMENT);
    cfg.workers = workers;
    cfg.stuck_wait_ms = stuck_ms;
    if (logger.fn != NULL)
        cfg.logger = logger;
    beat_pool *pool = NULL;
    if (beat_pool_create(&cfg, &pool) != BEAT_OK) {
        fprintf(stderr, "child: cannot create a pool\n");
        exit(2);
    }
    return pool;
}

static const beat_logger stderr_logger = {NULL, NULL}; // dev_pool keeps the profile's

// submit-after-destroy: an outside thread submits while destroy drains.
static atomic_int release_job;
static void blocking_job(beat_ctx *ctx, void *arg)
{
    (void)ctx, (void)arg;
    wait_for(&release_job, 1, 30);
}

static void *late_submitter(void *arg)
{
    beat_pool *pool = (beat_pool *)arg;
    beat_result r;
    double until = bt_seconds() + 30;
    while ((r = beat_submit(pool, noop, NULL)) == BEAT_OK && bt_seconds() < until)
        usleep(200);
    beat_job job = {noop, NULL};
    beat_result batch = beat_submit_batch(pool, &job, 1);
    fprintf(stderr, "child: beat_submit returned %s, beat_submit_batch %s\n", beat_result_string(r),
            beat_result_string(batch));
    atomic_store(&release_job, 1); // only now may destroy finish
    return NULL;
}

static void child_submit_after_destroy(void)
{
    beat_pool *pool = dev_pool(2, stderr_logger, 0);
    beat_submit(pool, blocking_job, NULL);
    pthread_t t;
    pthread_create(&t, NULL, late_submitter, pool);
    beat_pool_destroy(pool);
    pthread_join(t, NULL);
}

// wait-inside-pool: a job waits for, runs on and destroys its own pool.
static void waiting_job(beat_ctx *ctx, void *arg)
{
    (void)arg;
    beat_pool *pool = beat_ctx_pool(ctx);
    beat_result w = beat_pool_wait_checked(pool);
    beat_result r = beat_run(pool, noop, NULL);
    beat_pool_destroy(pool);
    fprintf(stderr, "child: wait_checked %s, run %s\n", beat_result_string(w),
            beat_result_string(r));
}

static void child_wait_inside_pool(void)
{
    beat_pool *pool = dev_pool(2, stderr_logger, 0);
    beat_submit(pool, waiting_job, NULL);
    fprintf(stderr, "child: outside wait_checked %s\n",
            beat_result_string(beat_pool_wait_checked(pool)));
    beat_pool_destroy(pool);
}

// ctx-owner: a worker's ctx kept by a job and used elsewhere.
static beat_ctx *captured;
static void capture_ctx(beat_ctx *ctx, void *arg)
{
    (void)arg;
    captured = ctx;
}

static void use_captured_ctx(void)
{
    beat_counter c = {0};
    beat_spawn(captured, &c, mark, NULL);
    beat_spawn(captured, &c, mark, NULL);
    beat_wait(captured, &c);
    beat_parallel_for(captured, 0, 1000, 0, count_items, NULL);
    fprintf(stderr, "child: %d spawned ran, %llu pending, %llu loop items\n", atomic_load(&marks),
            (unsigned long long)beat_counter_pending(&c), atomic_load(&items));
}

static void child_ctx_owner_outside(void)
{
    beat_pool *pool = dev_pool(2, stderr_logger, 0);
    beat_submit(pool, capture_ctx, NULL);
    beat_pool_wait(pool);
    use_captured_ctx(); // on the main thread, outside the pool
    beat_pool_destroy(pool);
}

static void use_captured_in_run(beat_ctx *ctx, void *arg)
{
    (void)ctx, (void)arg;
    use_captured_ctx(); // inside beat_run: this thread's own ctx is ctx
}

static void child_ctx_owner_same_pool(void)
{
    beat_pool *pool = dev_pool(2, stderr_logger, 0);
    beat_submit(pool, capture_ctx, NULL);
    beat_pool_wait(pool);
    beat_run(pool, use_captured_in_run, NULL);
    beat_pool_destroy(pool);
}

// self-wait: a spawned task waits on the counter it is counted on.
static beat_counter self_counter;
static void self_waiter(beat_ctx *ctx, void *arg)
{
    (void)arg;
    beat_wait(ctx, &self_counter);
    fprintf(stderr, "child: the self-wait returned\n");
}

static void spawn_self_waiter(beat_ctx *ctx, void *arg)
{
    (void)arg;
    beat_spawn(ctx, &self_counter, self_waiter, NULL);
    beat_wait(ctx, &self_counter);
}

static void child_self_wait(void)
{
    beat_pool *pool = dev_pool(2, stderr_logger, 0);
    beat_submit(pool, spawn_self_waiter, NULL);
    beat_pool_wait(pool);
    beat_pool_destroy(pool);
    fprintf(stderr, "child: %llu pending\n",
            (unsigned long long)beat_counter_pending(&self_counter));
}

// counter-reuse: a counter zeroed while a task counted on it runs.
static beat_counter reused;
static atomic_int reuse_go;
static void slow_task(beat_ctx *ctx, void *arg)
{
    (void)ctx, (void)arg;
    wait_for(&reuse_go, 1, 30);
}

static void reuse_while_pending(beat_ctx *ctx, void *arg)
{
    (void)arg;
    beat_spawn(ctx, &reused, slow_task, NULL);
    memset(&reused, 0, sizeof reused); // "reset" with the task pending
    atomic_store(&reuse_go, 1);
}

static void child_counter_reuse(void)
{
    beat_pool *pool = dev_pool(2, stderr_logger, 0);
    beat_submit(pool, reuse_while_pending, NULL);
    beat_pool_wait(pool);
    beat_pool_destroy(pool); // joins the workers: slow_task has finished
    fprintf(stderr, "child: %llu pending after the reuse\n",
            (unsigned long long)beat_counter_pending(&reused));
}

// stuck-wait: three waits (outside, beat_wait, a pcall join) each idle on a
// task that returns only once that wait has been reported.
static atomic_int stuck_outside, stuck_wait, stuck_join, started;

static void counting_logger(beat_log_level level, const char *message, void *user)
{
    beat_log_stderr(level, message, user);
    if (strstr(message, "beat_pool_wait/beat_pool_destroy [stuck-wait]") != NULL)
        atomic_fetch_add(&stuck_outside, 1);
    if (strstr(message, "beat_wait [stuck-wait]") != NULL)
        atomic_fetch_add(&stuck_wait, 1);
    if (strstr(message, "beat_pcall (join) [stuck-wait]") != NULL)
        atomic_fetch_add(&stuck_join, 1);
}

static void until_reported(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    atomic_fetch_add(&started, 1);
    wait_for((atomic_int *)arg, 1, 30);
}

static void wait_on_a_stolen_task(beat_ctx *ctx, void *arg)
{
    (void)arg;
    beat_counter c = {0};
    atomic_store(&started, 0);
    beat_spawn(ctx, &c, until_reported, &stuck_wait);
    wait_for(&started, 1, 30); // the other worker has stolen it
    beat_wait(ctx, &c);
}

static void spin_until_stolen(beat_ctx *ctx, void *arg)
{
    (void)arg;
    double until = bt_seconds() + 30;
    while (atomic_load(&started) == 0 && bt_seconds() < until)
        beat_pcall(ctx, noop, NULL, noop, NULL); // heartbeats promote the outer frame
}

static void join_a_stolen_branch(beat_ctx *ctx, void *arg)
{
    (void)arg;
    atomic_store(&started, 0);
    beat_pcall(ctx, spin_until_stolen, NULL, until_reported, &stuck_join);
}

static void child_stuck_wait(void)
{
    beat_logger logger = {counting_logger, NULL};
    beat_pool *pool = dev_pool(2, logger, 200);
    beat_submit(pool, until_reported, &stuck_outside);
    beat_pool_wait(pool); // reported by the outside watch
    beat_submit(pool, wait_on_a_stolen_task, NULL);
    wait_for(&stuck_wait, 1, 60);
    beat_pool_wait(pool);
    beat_run(pool, join_a_stolen_branch, NULL);
    beat_pool_destroy(pool);
    fprintf(stderr, "child: stuck reports: outside %d, beat_wait %d, join %d\n",
            atomic_load(&stuck_outside), atomic_load(&stuck_wait), atomic_load(&stuck_join));
}

static const struct {
    const char *name;
    void (*run)(void);
} children[] = {
    {"submit-after-destroy", child_submit_after_destroy},
    {"wait-inside-pool", child_wait_inside_pool},
    {"ctx-owner-outside", child_ctx_owner_outside},
    {"ctx-owner-same-pool", child_ctx_owner_same_pool},
    {"self-wait", child_self_wait},
    {"counter-reuse", child_counter_reuse},
    {"stuck-wait", child_stuck_wait},
};

static int child_main(const char *name)
{
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++)
        if (strcmp(children[i].name, name) == 0) {
            children[i].run();
            fprintf(stderr, "child: done\n");
            return 0;
        }
    fprintf(stderr, "child: no program %s\n", name);
    return 2;
}

// ---------------------------------------------------------------------------
// Parent side: runs a child, captures its stderr.

typedef struct child_run {
    char err[32768];
    int status;     // waitpid status
    int timed_out;  // killed after CHILD_TIMEOUT_S
    double seconds; // how long it ran
} child_run;

static int run_child(const char *name, child_run *out)
{
    char arg[128];
    snprintf(arg, sizeof arg, "--child=%s", name);
    memset(out, 0, sizeof *out);
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    double start = bt_seconds();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        execl("/proc/self/exe", "test_devmode", arg, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        double left = CHILD_TIMEOUT_S - (bt_seconds() - start);
        if (left <= 0) {
            out->timed_out = 1;
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd p = {fds[0], POLLIN, 0};
        int ready = poll(&p, 1, (int)(left * 1000) + 1);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue;
        char chunk[4096];
        ssize_t got = read(fds[0], chunk, sizeof chunk);
        if (got <= 0)
            break;
        size_t keep =
            (size_t)got < sizeof out->err - 1 - len ? (size_t)got : sizeof out->err - 1 - len;
        memcpy(out->err + len, chunk, keep);
        len += keep;
    }
    out->err[len] = '\0';
    close(fds[0]);
    waitpid(pid, &out->status, 0);
    out->seconds = bt_seconds() - start;
    return 0;
}

static unsigned count_of(const char *text, const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

// Runs child name; fails the case unless it ended normally.
#define RUN_CHILD(name, run)                                                                       \
    do {                                                                                           \
        CHECK_EQ(run_child(name, run), 0);                                                         \
        CHECK_MSG(!(run)->timed_out,                                                               \
                  "%s: no end after %.0f s (a hang the check should prevent)"                      \
                  "; its stderr:\n%s",                                                             \
                  name, CHILD_TIMEOUT_S, (run)->err);                                              \
        CHECK_MSG(WIFEXITED((run)->status) && WEXITSTATUS((run)->status) == 0 &&                   \
                      strstr((run)->err, "child: done") != NULL,                                   \
                  "%s: status %d; its stderr:\n%s", name, (run)->status, (run)->err);              \
    } while (0)

#define CHECK_SAYS(run, needle)                                                                    \
    CHECK_MSG(strstr((run)->err, needle) != NULL, "the log lacks \"%s\"; it was:\n%s", needle,     \
              (run)->err)

// Every report names the rule in brackets and says what to do.
#define CHECK_REPORT(run, rule)                                                                    \
    do {                                                                                           \
        CHECK_SAYS(run, "[" rule "]");                                                             \
        CHECK_SAYS(run, "Fix: ");                                                                  \
    } while (0)

static child_run the_run;

static void submit_after_destroy_began_is_refused_and_reported(void)
{
    child_run *run = &the_run;
    RUN_CHILD("submit-after-destroy", run);
    CHECK_REPORT(run, "submit-after-destroy");
    CHECK_SAYS(run, "beat: error: beat_submit [submit-after-destroy]");
    CHECK_SAYS(run, "child: beat_submit returned BEAT_ERROR_SHUTDOWN, beat_submit_batch "
                    "BEAT_ERROR_SHUTDOWN");
    CHECK_EQ(count_of(run->err, "[submit-after-destroy]"), 1); // once per pool
}

static void waiting_for_the_pool_from_its_own_job_is_refused_and_reported(void)
{
    child_run *run = &the_run;
    RUN_CHILD("wait-inside-pool", run);
    CHECK_REPORT(run, "wait-inside-pool");
    CHECK_SAYS(run, "beat_pool_wait [wait-inside-pool]");
    CHECK_SAYS(run, "beat_run [wait-inside-pool]");
    CHECK_SAYS(run, "beat_pool_destroy [wait-inside-pool]");
    CHECK_SAYS(run, "child: wait_checked BEAT_ERROR_DEADLOCK, run BEAT_ERROR_DEADLOCK");
    CHECK_SAYS(run, "child: outside wait_checked BEAT_OK");
}

static void a_ctx_used_outside_the_pool_is_reported_and_the_work_still_runs(void)
{
    child_run *run = &the_run;
    RUN_CHILD("ctx-owner-outside", run);
    CHECK_REPORT(run, "ctx-owner");
    CHECK_SAYS(run, "beat_spawn [ctx-owner]: called with the ctx of worker");
    CHECK_SAYS(run, "on a thread outside the pool");
    CHECK_SAYS(run, "child: 2 spawned ran, 0 pending, 1000 loop items");
    CHECK_EQ(count_of(run->err, "[ctx-owner]"), 1); // spawn, wait and the loop: one report
}

static void a_ctx_of_another_worker_is_reported_and_replaced_by_the_own_one(void)
{
    child_run *run = &the_run;
    RUN_CHILD("ctx-owner-same-pool", run);
    CHECK_REPORT(run, "ctx-owner");
    CHECK_SAYS(run, "(a thread of the same pool)");
    CHECK_SAYS(run, "went on with this thread's own ctx");
    CHECK_SAYS(run, "child: 2 spawned ran, 0 pending, 1000 loop items");
}

static void waiting_on_the_own_counter_is_refused_instead_of_deadlocking(void)
{
    child_run *run = &the_run;
    RUN_CHILD("self-wait", run);
    CHECK_REPORT(run, "self-wait");
    CHECK_SAYS(run, "beat_wait [self-wait]");
    CHECK_SAYS(run, "child: the self-wait returned");
    CHECK_SAYS(run, "child: 0 pending");
}

static void a_counter_zeroed_while_pending_is_reported_and_stays_at_zero(void)
{
    child_run *run = &the_run;
    RUN_CHILD("counter-reuse", run);
    CHECK_REPORT(run, "counter-reuse");
    CHECK_SAYS(run, "beat_counter [counter-reuse]");
    CHECK_SAYS(run, "child: 0 pending after the reuse");
}

static void a_stuck_wait_is_reported_once_with_what_it_waits_on(void)
{
    child_run *run = &the_run;
    RUN_CHILD("stuck-wait", run);
    CHECK_REPORT(run, "stuck-wait");
    CHECK_SAYS(run, "beat: warning: beat_pool_wait/beat_pool_destroy [stuck-wait]: a thread "
                    "outside the pool has waited at least 200 ms");
    CHECK_SAYS(run, "while the pool's unfinished jobs stayed at 1 pending");
    CHECK_SAYS(run, "beat_wait [stuck-wait]: worker");
    CHECK_SAYS(run, "while the counter stayed at 1 pending");
    CHECK_SAYS(run, "beat_pcall (join) [stuck-wait]: outside slot");
    CHECK_SAYS(run, "idle workers (spinning or parked):");
    CHECK_SAYS(run, "stuck_wait_ms");
    // One report per wait: the blocked tasks returned only after theirs.
    CHECK_EQ(count_of(run->err, "beat_wait [stuck-wait]"), 1);
    CHECK_EQ(count_of(run->err, "beat_pcall (join) [stuck-wait]"), 1);
    CHECK_SAYS(run, "child: stuck reports: outside ");
    bt_note("three stuck waits reported in %.2f s", run->seconds);
}

// ---------------------------------------------------------------------------
// Correct programs are silent

static atomic_int messages;
static char first_message[512];
static void count_messages(beat_log_level level, const char *message, void *user)
{
    (void)level, (void)user;
    if (atomic_fetch_add(&messages, 1) == 0)
        snprintf(first_message, sizeof first_message, "%s", message);
}

static void sleepy(beat_ctx *ctx, void *arg)
{
    (void)ctx, (void)arg;
    sleep_ms(30);
}

static void spawn_tree(beat_ctx *ctx, void *arg)
{
    int depth = (int)(intptr_t)arg;
    atomic_fetch_add(&marks, 1);
    if (depth == 0)
        return;
    beat_counter c = {0};
    for (int i = 0; i < 3; i++)
        beat_spawn(ctx, &c, spawn_tree, (void *)(intptr_t)(depth - 1));
    beat_wait(ctx, &c);
    // Reused after the wait returned: allowed.
    beat_spawn(ctx, &c, mark, NULL);
    beat_wait(ctx, &c);
}

static void sum_partial(beat_ctx *ctx, size_t begin, size_t end, void *partial, void *arg)
{
    (void)ctx, (void)arg;
    for (size_t i = begin; i < end; i++)
        *(uint64_t *)partial += i;
}

static void add_partial(void *left, const void *right, void *arg)
{
    (void)arg;
    *(uint64_t *)left += *(const uint64_t *)right;
}

static void correct_program(beat_ctx *ctx, void *arg)
{
    (void)arg;
    fib_arg f = {18, 0};
    fib_task(ctx, &f);
    spawn_tree(ctx, (void *)(intptr_t)4);
    beat_parallel_for(ctx, 0, 100000, 0, count_items, NULL);
    uint64_t zero = 0, sum = 0;
    beat_parallel_reduce(ctx, 0, 1000, 0, &zero, sizeof zero, sum_partial, add_partial, NULL, &sum);
    beat_counter c = {0};
    beat_spawn(ctx, &c, sleepy, NULL); // a short wait: well under stuck_wait_ms
    beat_wait(ctx, &c);
    beat_submit(beat_ctx_pool(ctx), mark, NULL); // a job may submit to its own pool
}

static void correct_programs_log_nothing(void)
{
    beat_logger logger = {count_messages, NULL};
    atomic_store(&messages, 0);
    beat_config cfg = beat_config_default(BEAT_PROFILE_DEVELOPMENT);
    cfg.workers = 3;
    cfg.logger = logger;
    cfg.stuck_wait_ms = 2000;
    CHECK_EQ(cfg.checks, 1);
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    for (int round = 0; round < 3; round++) {
        CHECK_EQ(beat_run(pool, correct_program, NULL), BEAT_OK);
        for (int i = 0; i < 100; i++)
            CHECK_EQ(beat_submit(pool, mark, NULL), BEAT_OK);
        beat_job jobs[8];
        for (int i = 0; i < 8; i++)
            jobs[i] = (beat_job){sleepy, NULL};
        CHECK_EQ(beat_submit_batch(pool, jobs, 8), BEAT_OK);
        CHECK_EQ(beat_pool_wait_checked(pool), BEAT_OK);
        CHECK_EQ(beat_pool_parallel_for(pool, 0, 5000, 7, count_items, NULL), BEAT_OK);
    }
    beat_pool_destroy(pool);
    CHECK_MSG(atomic_load(&messages) == 0, "%d messages; the first: %s", atomic_load(&messages),
              first_message);
    // The profile's own defaults.
    beat_config dev = beat_config_default(BEAT_PROFILE_DEVELOPMENT);
    CHECK_EQ(dev.stuck_wait_ms, 5000);
    CHECK_EQ(beat_config_default(BEAT_PROFILE_BASIC).stuck_wait_ms, 0);
}

#ifdef NDEBUG
static void sleep_300_ms(beat_ctx *ctx, void *arg)
{
    (void)ctx, (void)arg;
    sleep_ms(300);
}

// Without BEAT_DEBUG and checks, waits are not watched.
static void without_checks_nothing_is_watched(void)
{
    beat_logger logger = {count_messages, NULL};
    atomic_store(&messages, 0);
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = 2;
    cfg.logger = logger;
    cfg.stuck_wait_ms = 100;
    beat_pool *pool = NULL;
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
    beat_submit(pool, sleep_300_ms, NULL); // idle waits 3 x stuck_wait_ms on one count
    beat_pool_wait(pool);
    beat_pool_destroy(pool);
    CHECK_MSG(atomic_load(&messages) == 0, "%d messages; the first: %s", atomic_load(&messages),
              first_message);
}
#endif

// ---------------------------------------------------------------------------
// beat_config_analyze

// The review of cfg, in a static buffer; its length in *len.
static const char *review(const beat_config *cfg, int *len)
{
    static char text[8192];
    *len = beat_config_analyze(cfg, text, sizeof text);
    return text;
}

// 1 when every line of text starts with a field name and a colon, or
// names the field first (rejected values), and says what to do.
static int lines_are_findings(const char *text, char *why, size_t cap)
{
    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n');
        if (end == NULL) {
            snprintf(why, cap, "a line without its newline: %.200s", line);
            return 0;
        }
        size_t n = (size_t)(end - line);
        const char *space = memchr(line, ' ', n);
        if (space == NULL || space == line ||
            (memmem(line, n, "Fix: ", 5) == NULL && memmem(line, n, "; use ", 6) == NULL)) {
            snprintf(why, cap, "not a finding: %.*s", (int)n, line);
            return 0;
        }
        line = end + 1;
    }
    return 1;
}

#define CHECK_FINDING(cfg, needle)                                                                 \
    do {                                                                                           \
        int len_;                                                                                  \
        const char *text_ = review(cfg, &len_);                                                    \
        char why_[512];                                                                            \
        CHECK_MSG(len_ > 0 && strstr(text_, needle) != NULL, "no \"%s\" in the review:\n%s",       \
                  needle, text_);                                                                  \
        CHECK_MSG(lines_are_findings(text_, why_, sizeof why_), "%s", why_);                       \
    } while (0)

// A 4-CPU machine in cgroup v2 group /job with 1.5 CPUs of quota.
static const char *quota_tree(void)
{
    const char *root = tree_new();
    put(root, "sys/devices/system/cpu/online", "0-3\n");
    put(root, "sys/devices/system/cpu/possible", "0-3\n");
    for (unsigned cpu = 0; cpu < 4; cpu++) {
        char rel[96];
        snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%u/topology/core_id", cpu);
        put(root, rel, "%u\n", cpu);
    }
    put(root, "proc/self/cgroup", "0::/job\n");
    put(root, "sys/fs/cgroup/job/cpu.max", "150000 100000\n");
    return root;
}

static void a_sound_configuration_gets_an_empty_review(void)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    int len = -1;
    const char *text = review(&cfg, &len);
    CHECK_MSG(len == 0 && text[0] == '\0', "review of the BASIC defaults:\n%s", text);
    cfg.sysfs_root = quota_tree();
    cfg.workers = 2;
    text = review(&cfg, &len);
    CHECK_MSG(len == 0, "2 workers for 1.5 CPUs of quota:\n%s", text);
    cfg = beat_config_default(BEAT_PROFILE_DEVELOPMENT);
    text = review(&cfg, &len);
    CHECK_MSG(len == 0, "review of the DEVELOPMENT defaults:\n%s", text);
    CHECK_EQ(beat_config_analyze(NULL, NULL, 0), 0); // the zeroed defaults
}

static void the_review_names_each_field_with_its_problem_and_fix(void)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.sysfs_root = quota_tree();
    cfg.workers = 8;
    CHECK_FINDING(&cfg, "workers: 8 workers for 2 usable CPUs (4 allowed by the affinity mask "
                        "and cgroup cpuset, a cgroup CPU quota of 1.50)");

    cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.sysfs_root = "/nonexistent-beat-root";
    cfg.pin_workers = 1;
    CHECK_FINDING(&cfg, "pin_workers: pinning needs the CPU topology");

    static const unsigned cpus[] = {1, 9};
    cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.sysfs_root = quota_tree();
    cfg.workers = 2;
    cfg.worker_cpus = cpus;
    cfg.worker_cpus_count = 2;
    CHECK_FINDING(&cfg, "worker_cpus: CPU 9 is not one this process may use");
    cfg.worker_cpus_count = 1;
    CHECK_FINDING(&cfg, "worker_cpus: 1 CPUs for 2 workers");

    cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.heartbeat_us = 5;
    CHECK_FINDING(&cfg, "heartbeat_us: 5 us is very short");
    cfg.heartbeat_us = 50000;
    CHECK_FINDING(&cfg, "heartbeat_us: 50000 us is long");
    cfg.heartbeat_us = 2000000; // rejected by create
    CHECK_FINDING(&cfg, "heartbeat_us is above 1000000");

    cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.spin_us = 5000;
    CHECK_FINDING(&cfg, "spin_us: 5000 us");
    cfg.spin_us = 0;
    cfg.stack_size = 32768;
    CHECK_FINDING(&cfg, "stack_size: 32768 bytes is small");

    cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.sysfs_root = tree_new(); // no PSI, no memory cgroup
    cfg.memory_aware = 1;
    CHECK_FINDING(&cfg, "memory_aware: neither a PSI file nor a memory cgroup limit");
    cfg.workers = 2;
    cfg.pressure_workers = 4;
    CHECK_FINDING(&cfg, "pressure_workers: 4 is not fewer than the 2 workers");
    cfg.memory_aware = 0;
    CHECK_FINDING(&cfg, "memory_aware: 0, so the pressure_* fields");

    cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.checks = 1;
    CHECK_FINDING(&cfg, "logger: checks or stuck_wait_ms are set but there is no logger");
    cfg = beat_config_default(BEAT_PROFILE_DEVELOPMENT);
    cfg.stuck_wait_ms = 20;
    CHECK_FINDING(&cfg, "stuck_wait_ms: 20 ms is short");
    cfg.stuck_wait_ms = 4000000; // rejected by create
    CHECK_FINDING(&cfg, "stuck_wait_ms is above 3600000");
    beat_pool *pool = NULL;
    cfg.logger.fn = NULL; // the rejection is the point, not its message
    CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_ERROR_INVALID_ARGUMENT);
}

static void the_review_is_cut_like_snprintf(void)
{
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.heartbeat_us = 5;
    cfg.spin_us = 5000;
    int len = beat_config_analyze(&cfg, NULL, 0);
    CHECK(len > 0);
    char full[4096], cut[4096];
    CHECK_EQ(beat_config_analyze(&cfg, full, sizeof full), len);
    CHECK_EQ(count_of(full, "\n"), 2);
    const size_t caps[] = {1, 2, 17, (size_t)len, (size_t)len + 1};
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        memset(cut, 'x', sizeof cut);
        CHECK_EQ(beat_config_analyze(&cfg, cut, caps[k]), len);
        size_t kept = (size_t)len < caps[k] ? (size_t)len : caps[k] - 1;
        CHECK_MSG(strlen(cut) == kept && memcmp(cut, full, kept) == 0 && cut[caps[k]] == 'x',
                  "cap %zu", caps[k]);
    }
    CHECK(beat_config_analyze(&cfg, NULL, 5) < 0);
}

// ---------------------------------------------------------------------------
// Results

static void every_result_has_advice_of_its_own(void)
{
    static const struct {
        beat_result r;
        const char *name;
    } all[] = {
#define ROW(name, value, advice) {name, #name},
        BEAT_RESULT_LIST(ROW)
#undef ROW
    };
    const size_t n = sizeof all / sizeof all[0];
    const char *unknown = beat_result_advice((beat_result)12345);
    for (size_t i = 0; i < n; i++) {
        const char *advice = beat_result_advice(all[i].r);
        CHECK_MSG(strcmp(beat_result_string(all[i].r), all[i].name) == 0, "%s", all[i].name);
        CHECK_MSG(advice != NULL && strlen(advice) > 20 && strcmp(advice, unknown) != 0,
                  "%s has no advice of its own", all[i].name);
        for (size_t j = 0; j < i; j++)
            CHECK_MSG(strcmp(advice, beat_result_advice(all[j].r)) != 0,
                      "%s and %s share their advice", all[i].name, all[j].name);
    }
    // The results development mode returns say what to do about them.
    CHECK(strstr(beat_result_advice(BEAT_ERROR_SHUTDOWN), "beat_pool_destroy") != NULL);
    CHECK(strstr(beat_result_advice(BEAT_ERROR_DEADLOCK), "outside the pool") != NULL);
    bt_note("%zu results", n);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strncmp(argv[1], "--child=", 8) == 0)
        return child_main(argv[1] + 8);
    static const bt_case cases[] = {
        BT_CASE(submit_after_destroy_began_is_refused_and_reported),
        BT_CASE(waiting_for_the_pool_from_its_own_job_is_refused_and_reported),
        BT_CASE(a_ctx_used_outside_the_pool_is_reported_and_the_work_still_runs),
        BT_CASE(a_ctx_of_another_worker_is_reported_and_replaced_by_the_own_one),
        BT_CASE(waiting_on_the_own_counter_is_refused_instead_of_deadlocking),
        BT_CASE(a_counter_zeroed_while_pending_is_reported_and_stays_at_zero),
        BT_CASE(a_stuck_wait_is_reported_once_with_what_it_waits_on),
        BT_CASE(correct_programs_log_nothing),
#ifdef NDEBUG
        BT_CASE(without_checks_nothing_is_watched),
#endif
        BT_CASE(a_sound_configuration_gets_an_empty_review),
        BT_CASE(the_review_names_each_field_with_its_problem_and_fix),
        BT_CASE(the_review_is_cut_like_snprintf),
        BT_CASE(every_result_has_advice_of_its_own),
    };
    return BT_RUN(cases);
}
