// The floor under beat_bench wake on this machine: one thread sleeps on a
// bare futex, the main thread wakes it every 1 ms and measures the time
// until the woken thread reads the clock. No pool is involved, so the
// median is what a futex wake costs here (beat_bench wake adds Beat's
// submit, park and search on top). The main thread busy-waits for the
// answer, so the CPU column counts that too.
//
//   make -C bench wake-floor [ARGS="--tries 1000 --spin-us 0"]
//
// --spin-us U: the sleeper first spins U us before each futex wait (as an
// idle Beat worker does with spin_us), to show what spinning buys.
#define _GNU_SOURCE 1
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint32_t word;    // the futex: the number of wakes so far
static uint64_t woke_ns; // when the sleeper saw the last wake (0 = not yet)
static double spin_us;   // the sleeper's spin before each futex wait
static unsigned tries = 1000;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (uint32_t seen = 0; seen < tries;) {
        uint64_t start = now_ns();
        while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == seen &&
               (double)(now_ns() - start) < spin_us * 1e3)
            ;
        while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == seen)
            syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
        seen = __atomic_load_n(&word, __ATOMIC_ACQUIRE);
        __atomic_store_n(&woke_ns, now_ns(), __ATOMIC_RELEASE);
    }
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--tries") == 0)
            tries = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--spin-us") == 0)
            spin_us = atof(argv[i + 1]);
        else {
            fprintf(stderr, "usage: %s [--tries N] [--spin-us U]\n", argv[0]);
            return 2;
        }
    }
    if (tries == 0)
        tries = 1;
    double *latency = (double *)malloc(sizeof(double) * tries);
    pthread_t thread;
    if (latency == NULL || pthread_create(&thread, NULL, sleeper, NULL) != 0)
        return 1;
    struct timespec cpu0, cpu1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
    uint64_t wall0 = now_ns();
    for (unsigned i = 0; i < tries; i++) {
        usleep(1000);
        __atomic_store_n(&woke_ns, 0, __ATOMIC_RELAXED);
        uint64_t sent = now_ns();
        __atomic_store_n(&word, i + 1, __ATOMIC_RELEASE);
        syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        uint64_t woke;
        while ((woke = __atomic_load_n(&woke_ns, __ATOMIC_ACQUIRE)) == 0)
            ;
        latency[i] = (double)(woke - sent) * 1e-3;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
    double cpu =
        (double)(cpu1.tv_sec - cpu0.tv_sec) * 1e6 + (double)(cpu1.tv_nsec - cpu0.tv_nsec) * 1e-3;
    double wall = (double)(now_ns() - wall0) * 1e-3;
    pthread_join(thread, NULL);
    qsort(latency, tries, sizeof(double), by_value);
    printf("bare futex wake, %u tries, sleeper spin %.0f us: median %.2f us, p90 %.2f us, "
           "min %.2f us, CPU %.1f %%\n",
           tries, spin_us, latency[tries / 2], latency[tries * 9 / 10], latency[0],
           100.0 * cpu / wall);
    free(latency);
    return 0;
}
