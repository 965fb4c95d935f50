// Platform: threads, futex, monotonic clock, CPU count. Linux only for now
// (a Win32 back end would replace this file's bodies, not its names).
#include "config.h"

#if !BEAT__OS_LINUX // the same check as in api/pool.h, for a header assembled otherwise
#error                                                                                             \
    "beat.h: BEAT_IMPLEMENTATION is Linux and POSIX only (futex, sched_getaffinity, /sys); elsewhere include beat.h without it, or use beat_simd.h alone"
#endif

#include "atomics.h" // fork detection, at the end

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// The affinity calls and CPU_* macros are declared only when _GNU_SOURCE
// was defined before the first system header of the file (beat.h defines
// it, unless something was included before beat.h). Without this check
// the mistake shows up as implicit declarations and a link error.
#ifndef CPU_COUNT
#error                                                                                             \
    "beat.h: a system header came before beat.h in the file with BEAT_IMPLEMENTATION, so the GNU declarations the implementation needs (CPU_COUNT, sched_getaffinity) are missing: include beat.h first in that file, or compile it with -D_GNU_SOURCE"
#endif

typedef struct beat__thread {
    pthread_t handle;
} beat__thread;

// Starts fn(arg) on a new thread. stack_size 0 = system default.
// Returns 0 or the pthread error number.
BEAT__PRIVATE int beat__thread_start(beat__thread *t, void *(*fn)(void *), void *arg,
                                     size_t stack_size)
{
    pthread_attr_t attr;
    int err = pthread_attr_init(&attr);
    if (err != 0)
        return err;
    if (stack_size != 0)
        err = pthread_attr_setstacksize(&attr, stack_size);
    if (err == 0)
        err = pthread_create(&t->handle, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return err;
}

BEAT__PRIVATE void beat__thread_join(beat__thread *t) { pthread_join(t->handle, NULL); }

// Names the calling thread (visible in top -H, gdb, perf). At most 15 chars.
BEAT__PRIVATE void beat__thread_set_name(const char *name)
{
    prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

// Sleeps while *word == expected. Returns on a wake, on EAGAIN (the word
// already differs), on EINTR and spuriously: callers always re-check their
// condition in a loop.
BEAT__PRIVATE void beat__futex_wait(uint32_t *word, uint32_t expected)
{
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

// beat__futex_wait for at most timeout_ns (relative).
BEAT__PRIVATE void beat__futex_wait_for(uint32_t *word, uint32_t expected, uint64_t timeout_ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(timeout_ns / 1000000000u);
    ts.tv_nsec = (long)(timeout_ns % 1000000000u);
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, &ts, NULL, 0);
}

// Wakes up to count threads sleeping in beat__futex_wait(word, ...).
BEAT__PRIVATE void beat__futex_wake(uint32_t *word, int count)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

// Asymmetric fences: membarrier(2)'s private expedited command makes every
// other running thread of this process execute a full memory barrier
// before it returns (threads not running get one from the context switch).
// A Dekker pair whose one side runs rarely (a worker about to park) can
// then use it in place of the fence that the frequent side (a submit)
// would otherwise pay on every call: that side needs only a compiler
// barrier. Kernel ABI values (linux/membarrier.h, Linux 4.14).
#define BEAT__MEMBARRIER_CMD_QUERY 0
#define BEAT__MEMBARRIER_CMD_PRIVATE_EXPEDITED (1 << 3)
#define BEAT__MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED (1 << 4)

// Registers the process for beat__membarrier. Returns 1 when it can be
// used, 0 when the kernel, a seccomp filter or an emulator (valgrind, some
// qemu) refuses it. Registration belongs to the address space (kept across
// fork, dropped by exec), so each pool registers at create: a few system
// calls, and a pool created in a child of fork is covered. Thread safety:
// any thread.
BEAT__PRIVATE int beat__membarrier_setup(void)
{
#ifdef SYS_membarrier
    long cmds = syscall(SYS_membarrier, BEAT__MEMBARRIER_CMD_QUERY, 0, 0);
    return cmds >= 0 && (cmds & BEAT__MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
           (cmds & BEAT__MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0 &&
           syscall(SYS_membarrier, BEAT__MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 &&
           syscall(SYS_membarrier, BEAT__MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
#else
    return 0;
#endif
}

// The heavy side of an asymmetric fence (after beat__membarrier_setup
// returned 1). Costs a few microseconds: an interrupt to every CPU
// running a thread of this process (measured 10 us on a 2-vCPU KVM guest
// with the other vCPU busy, 0.1 us with it idle).
BEAT__PRIVATE void beat__membarrier(void)
{
#ifdef SYS_membarrier
    syscall(SYS_membarrier, BEAT__MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
#endif
}

#define BEAT__FUTEX_WAKE_ALL 0x7fffffff

// Monotonic nanoseconds (CLOCK_MONOTONIC; vDSO, about 20 ns).
BEAT__PRIVATE uint64_t beat__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// CPUs this process may run on (its affinity mask), at least 1.
BEAT__PRIVATE unsigned beat__cpus_allowed(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return (unsigned)n;
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (unsigned)online : 1u;
}

BEAT__PRIVATE void beat__thread_yield(void) { sched_yield(); }

BEAT__PRIVATE size_t beat__page_size(void)
{
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096u;
}

// Gives the physical pages of [p, p + bytes) back to the system; the range
// stays mapped and reads as zeros when touched again (anonymous memory).
// p and bytes are whole pages. Returns 0, or -1 when the kernel refused
// (then nothing changed).
BEAT__PRIVATE int beat__pages_release(void *p, size_t bytes)
{
    return madvise(p, bytes, MADV_DONTNEED) == 0 ? 0 : -1;
}

// Fork detection (see api.c): a pthread_atfork child handler counts the
// forks this process descends from, so a pool can tell that it was created
// in a parent and has no threads here.
static uint32_t beat__forks; // bumped in each child of fork()
static pthread_once_t beat__fork_once = PTHREAD_ONCE_INIT;
static int beat__fork_watch_error; // pthread_atfork's result

BEAT__PRIVATE void beat__fork_child(void)
{
    // Relaxed: the child has one thread now; threads it starts later see
    // the new value through pthread_create.
    uint32_t n = beat__atomic_load_u32(&beat__forks, BEAT__MO_RELAXED);
    beat__atomic_store_u32(&beat__forks, n + 1, BEAT__MO_RELAXED);
}

BEAT__PRIVATE void beat__fork_watch_once(void)
{
    beat__fork_watch_error = pthread_atfork(NULL, NULL, beat__fork_child);
}

// Starts counting forks (registers the handler once per process); returns
// 0, or an error number (then forks are not counted).
BEAT__PRIVATE int beat__fork_watch(void)
{
    int err = pthread_once(&beat__fork_once, beat__fork_watch_once);
    return err != 0 ? err : beat__fork_watch_error;
}

// Forks counted so far in this process's line of descent.
BEAT__PRIVATE uint32_t beat__fork_generation(void)
{
    // Relaxed: written only while the process has one thread (above).
    return beat__atomic_load_u32(&beat__forks, BEAT__MO_RELAXED);
}
