// libFuzzer target: beat_pool_create's validation of a beat_config built
// from arbitrary bytes. Every number field takes raw input bits; pointer
// fields (which the contract requires to be valid) are picked from valid
// choices by input bytes: NULL or not, half an allocator, worker_cpus with
// fuzzed CPU numbers, thresholds with fuzzed doubles (NaN, infinities). The
// result must be exactly what the documentation (beat_config and
// beat_pool_create in src/api/pool.h) predicts: INVALID_ARGUMENT for a
// config that breaks a rule, IO for worker_cpus that cannot be checked,
// else OK, and then the pool runs a job and is destroyed. Anything else,
// a crash or a leak fails.
//
// Clamps, applied only to values the rules accept and keeping them
// accepted, so they change the cost of an input, not its verdict:
//   - workers above 4 become 1..4: up to 1024 threads per input would make
//     each run a thousand times slower (thread-creation failure has its own
//     tests: tests/test_faults.c, tests/test_hostile.c);
//   - deque_capacity above 2^12 becomes 2^12, and stack_size above 1 MiB
//     becomes 1 MiB: 2^24-slot deques (128 MiB each) and huge stacks would
//     trip libFuzzer's memory limit without testing validation;
//   - spin_us above 100 becomes 100 and heartbeat_us stays as given: a
//     second of spinning per idle worker would only slow the run down;
//   - pressure_interval_ms is kept, but sysfs_root points at nothing, so
//     memory awareness finds no files (or the pressure_source hook answers).
//
//   make fuzz                 (every tests/fuzz/fuzz_*.c, FUZZ_SECONDS each)
//   build/fuzz/fuzz_config -max_total_time=60 build/fuzz/fuzz_config.corpus
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// Reads the input front to back; past its end everything reads as zero.
typedef struct fz_input {
    const uint8_t *data;
    size_t size, at;
} fz_input;

static uint8_t fz_u8(fz_input *in) { return in->at < in->size ? in->data[in->at++] : 0; }

static uint32_t fz_u32(fz_input *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | fz_u8(in);
    return v;
}

static uint64_t fz_u64(fz_input *in)
{
    uint64_t hi = fz_u32(in);
    return hi << 32 | fz_u32(in);
}

static double fz_double(fz_input *in)
{
    uint64_t bits = fz_u64(in);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static void *fz_alloc(size_t size, size_t align, void *user)
{
    (void)user;
    void *p = NULL;
    return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) == 0 ? p
                                                                                          : NULL;
}

static void fz_free(void *ptr, size_t size, size_t align, void *user)
{
    (void)size, (void)align, (void)user;
    free(ptr);
}

static void fz_worker_hook(unsigned worker, void *user) { (void)worker, (void)user; }
static void fz_log(beat_log_level level, const char *message, void *user)
{
    (void)level, (void)message, (void)user;
}
static beat_result fz_before_thread(unsigned worker, void *user)
{
    (void)worker, (void)user;
    return BEAT_OK;
}
static void fz_on_pressure(beat_pressure_level level, void *user) { (void)level, (void)user; }
static beat_pressure_level fz_level;
static beat_pressure_level fz_pressure_source(void *user)
{
    (void)user;
    return fz_level;
}
static void fz_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    ++*(int *)arg; // one job, waited for: no race
}

#define FZ_CPUS 4
static unsigned fz_cpus[FZ_CPUS];
static beat_pressure_thresholds fz_thresholds;

// A CPU this process may not use, from the fuzzed list (CPU numbers are
// taken modulo 2^16, the limit the topology reader documents).
static int fz_cpus_disallowed(unsigned count)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    for (unsigned i = 0; i < count; i++)
        if (fz_cpus[i] >= CPU_SETSIZE || !CPU_ISSET(fz_cpus[i], &set))
            return 1;
    return 0;
}

// What the documentation (beat_config and beat_pool_create in pool.h)
// says create returns for c: INVALID_ARGUMENT when a field breaks its rule;
// with worker_cpus, IO when the topology below sysfs_root cannot be read
// (the CPUs cannot be checked), else INVALID_ARGUMENT for a CPU this
// process may not use; otherwise OK.
static beat_result fz_expected(const beat_config *c, int root_missing)
{
    unsigned cap = c->deque_capacity;
    if (c->workers > 1024 || c->heartbeat_us > 1000000 || c->spin_us > 1000000 ||
        (cap != 0 && (cap < 2 || cap > (1u << 24) || (cap & (cap - 1)) != 0)) ||
        (c->allocator.alloc == NULL) != (c->allocator.free == NULL) ||
        (unsigned)c->profile > (unsigned)BEAT_PROFILE_DEVELOPMENT ||
        (c->stack_size != 0 && c->stack_size < 65536) ||
        (c->worker_cpus == NULL) != (c->worker_cpus_count == 0) || c->predict_slots > 65536 ||
        c->pressure_interval_ms > 60000 || (c->memory_aware && c->pressure_workers > 1024))
        return BEAT_ERROR_INVALID_ARGUMENT;
    if (c->worker_cpus != NULL && root_missing)
        return BEAT_ERROR_IO;
    if (c->worker_cpus != NULL && fz_cpus_disallowed(c->worker_cpus_count))
        return BEAT_ERROR_INVALID_ARGUMENT;
    return BEAT_OK;
}

static void fz_clamp(beat_config *c)
{
    if (c->workers > 4 && c->workers <= 1024)
        c->workers = 1 + c->workers % 4;
    if (c->deque_capacity > (1u << 12) && c->deque_capacity <= (1u << 24) &&
        (c->deque_capacity & (c->deque_capacity - 1)) == 0)
        c->deque_capacity = 1u << 12;
    if (c->stack_size > (1u << 20))
        c->stack_size = 1u << 20;
    if (c->spin_us > 100 && c->spin_us <= 1000000)
        c->spin_us = 100;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = {data, size, 0};
    beat_config c;
    memset(&c, 0, sizeof c);
    uint8_t choose = fz_u8(&in); // which pointer fields are set
    uint8_t choose2 = fz_u8(&in);
    c.workers = fz_u32(&in);
    c.heartbeat_us = fz_u32(&in);
    c.spin_us = fz_u32(&in);
    c.deque_capacity = fz_u32(&in);
    c.stack_size = (size_t)fz_u64(&in);
    c.profile = (beat_profile)(int32_t)fz_u32(&in);
    c.checks = (int32_t)fz_u32(&in);
    c.pin_workers = (int32_t)fz_u32(&in);
    c.predict_off = (int32_t)fz_u32(&in);
    c.predict_slots = fz_u32(&in);
    c.memory_aware = (int32_t)fz_u32(&in);
    c.pressure_interval_ms = fz_u32(&in);
    c.pressure_workers = fz_u32(&in);
    if (choose & 1)
        c.allocator.alloc = fz_alloc;
    if (choose & 2)
        c.allocator.free = fz_free;
    if (choose & 4) {
        c.on_worker_start = fz_worker_hook;
        c.on_worker_stop = fz_worker_hook;
    }
    if (choose & 8)
        c.logger.fn = fz_log;
    if (choose & 16)
        c.before_thread_create = fz_before_thread;
    if (choose & 32) {
        unsigned n = fz_u8(&in) % (FZ_CPUS + 1);
        for (unsigned i = 0; i < FZ_CPUS; i++)
            fz_cpus[i] = fz_u8(&in) & 1 ? fz_u32(&in) % 65536 : fz_u8(&in) % 4;
        c.worker_cpus = fz_cpus;
        c.worker_cpus_count = n;
    } else if (choose & 64) {
        c.worker_cpus_count = fz_u32(&in); // a count without an array
    }
    if (choose & 128) {
        for (int i = 0; i < 4; i++) {
            fz_thresholds.some_avg10[i] = fz_double(&in);
            fz_thresholds.full_avg10[i] = fz_double(&in);
            fz_thresholds.usage[i] = fz_double(&in);
        }
        c.pressure_thresholds = &fz_thresholds;
    }
    if (choose2 & 1)
        c.on_pressure = fz_on_pressure;
    if (choose2 & 2) {
        fz_level = (beat_pressure_level)(fz_u8(&in) % 5);
        c.pressure_source = fz_pressure_source;
    }
    c.sysfs_root = choose2 & 4 ? "/nonexistent-beat-fuzz-root" : NULL;

    beat_result want = fz_expected(&c, c.sysfs_root != NULL);
    fz_clamp(&c);
    beat_pool *pool = NULL;
    beat_result r = beat_pool_create(&c, &pool);
    if (r != want || (r == BEAT_OK) != (pool != NULL)) {
        fprintf(stderr, "beat_pool_create returned %s, the documentation says %s\n",
                beat_result_string(r), beat_result_string(want));
        abort();
    }
    if (pool == NULL)
        return 0;
    unsigned workers = beat_pool_workers(pool);
    int ran = 0;
    beat_result job = beat_submit(pool, fz_job, &ran);
    beat_pool_wait(pool);
    beat_pool_destroy(pool);
    if (job != BEAT_OK || ran != 1 || workers < 1 || (c.workers != 0 && workers != c.workers)) {
        fprintf(stderr, "a created pool: submit %s, %d runs, %u workers (asked %u)\n",
                beat_result_string(job), ran, workers, c.workers);
        abort();
    }
    return 0;
}
