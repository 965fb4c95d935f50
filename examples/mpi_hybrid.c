// Hybrid MPI + Beat: the documented way to use more than one machine.
//
//   mpirun -np RANKS build/examples/mpi_hybrid [N [WORKERS]]
//
// A Beat pool lives in one process: its workers share memory and steal work
// from each other's deques, which needs no messages but stops at the process
// boundary. Beat has no distributed mode. To go beyond one machine, run one
// MPI rank per machine (or per socket or NUMA node), give each rank its own
// pool to spread the rank's share over its cores, and combine the ranks'
// results with MPI, called from the main thread between pool calls.
//
// This program sums i*i over [0, N) (default N = 2,000,000): each rank takes
// a contiguous share, reduces it with beat_pool_parallel_reduce, and
// MPI_Allreduce adds up the ranks' partial sums; every rank checks the total
// against the closed form N(N-1)(2N-1)/6. Exit status 0 when all ranks agree.
//
// Threads: only the main thread calls MPI, and never while it is inside a pool
// call, so MPI_THREAD_FUNNELED is enough. If tasks called MPI themselves, the
// program would need MPI_THREAD_MULTIPLE.
//
// Workers per rank: WORKERS, or by default the CPUs in this rank's affinity
// mask (and cgroup quota), which mpirun sets: e.g. `mpirun -np 4 --map-by
// socket:PE=8` gives each rank 8 cores and so 8 workers. Under --bind-to none
// every rank sees every CPU; then pass WORKERS = CPUs per machine / ranks per
// machine so that the pools do not oversubscribe the machine.
//
// Build: make -C examples builds it with mpicc when mpicc is installed
// (Debian: libopenmpi-dev openmpi-bin); tests/mpi/run.sh runs it on 2 ranks.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include <mpi.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

// N is at most this, so that the sum of squares (about N^3/3) fits in 64 bits.
#define MAX_N 3000000u

static void squares_body(beat_ctx *ctx, size_t begin, size_t end, void *partial, void *arg)
{
    uint64_t s = *(uint64_t *)partial;
    (void)ctx;
    (void)arg;
    for (size_t i = begin; i < end; i++)
        s += (uint64_t)i * i;
    *(uint64_t *)partial = s;
}

static void add_u64(void *left, const void *right, void *arg)
{
    (void)arg;
    *(uint64_t *)left += *(const uint64_t *)right;
}

// N(N-1)(2N-1)/6, without overflow for N <= MAX_N: the 2 is divided out of
// N or N-1 (one of them is even), the 3 out of whichever factor it divides.
static uint64_t sum_of_squares_below(uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t f[3] = {n, n - 1, 2 * n - 1};
    f[n % 2 == 0 ? 0 : 1] /= 2;
    for (int i = 0; i < 3; i++) {
        if (f[i] % 3 == 0) {
            f[i] /= 3;
            break;
        }
    }
    return f[0] * f[1] * f[2];
}

// Parses argv[i] as an unsigned number no larger than max; returns 0 on error.
static int parse_arg(int argc, char **argv, int i, unsigned long max, unsigned long *out)
{
    if (i >= argc)
        return 1;
    char *end;
    unsigned long v = strtoul(argv[i], &end, 10);
    if (*argv[i] == '\0' || *end != '\0' || v > max)
        return 0;
    *out = v;
    return 1;
}

// Sums i*i over this rank's share of [0, n) on its own pool.
static int rank_sum(unsigned long n, unsigned workers, int rank, int ranks, uint64_t *partial)
{
    size_t lo = (size_t)(n * (unsigned long)rank / (unsigned long)ranks);
    size_t hi = (size_t)(n * (unsigned long)(rank + 1) / (unsigned long)ranks);
    beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
    cfg.workers = workers; // 0: this rank's CPUs (affinity mask, cgroup quota)
    beat_pool *pool;
    beat_result r = beat_pool_create(&cfg, &pool);
    if (r != BEAT_OK) {
        fprintf(stderr, "rank %d: beat_pool_create: %s: %s\n", rank, beat_result_string(r),
                beat_result_advice(r));
        return 0;
    }
    const uint64_t zero = 0;
    r = beat_pool_parallel_reduce(pool, lo, hi, 0, &zero, sizeof zero, squares_body, add_u64, NULL,
                                  partial);
    printf("rank %d/%d: [%zu, %zu) on %u workers: partial %" PRIu64 "\n", rank, ranks, lo, hi,
           beat_pool_workers(pool), *partial);
    beat_pool_destroy(pool);
    if (r != BEAT_OK) {
        fprintf(stderr, "rank %d: beat_pool_parallel_reduce: %s: %s\n", rank, beat_result_string(r),
                beat_result_advice(r));
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    int provided, rank, ranks;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    if (provided < MPI_THREAD_FUNNELED) {
        if (rank == 0)
            fprintf(stderr, "this MPI does not allow threads (MPI_THREAD_FUNNELED); use an MPI "
                            "built with thread support, e.g. Open MPI\n");
        MPI_Finalize();
        return 1;
    }

    unsigned long n = 2000000, workers = 0;
    if (!parse_arg(argc, argv, 1, MAX_N, &n) || !parse_arg(argc, argv, 2, 4096, &workers)) {
        if (rank == 0)
            fprintf(stderr, "usage: %s [N (at most %u) [WORKERS per rank, 0 = its CPUs]]\n",
                    argv[0], MAX_N);
        MPI_Finalize();
        return 2;
    }

    uint64_t partial = 0, total = 0;
    int ok = rank_sum(n, (unsigned)workers, rank, ranks, &partial);
    MPI_Allreduce(&partial, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);

    uint64_t expected = sum_of_squares_below(n);
    ok = ok && total == expected;
    int all_ok;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    if (rank == 0)
        printf("sum of i*i over [0, %lu) on %d ranks = %" PRIu64 " (closed form %" PRIu64 "): %s\n",
               n, ranks, total, expected, all_ok ? "ok" : "WRONG");
    MPI_Finalize();
    return all_ok ? 0 : 1;
}
