// BEAT_NO_MEMBARRIER: the arena owner's ring publishes with a fence of its
// own and parking workers never call membarrier. Every job still runs once,
// including jobs submitted just as the workers park.
#define BEAT_NO_MEMBARRIER
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"

static void count_job(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    __atomic_fetch_add((unsigned *)arg, 1u, __ATOMIC_RELAXED);
}

static void the_owner_fences_and_every_job_runs_once(void)
{
    static const unsigned workers[] = {1, 2, 3};
    uint64_t rng = 0x2545F4914F6CDD1Du;
    for (size_t w = 0; w < sizeof workers / sizeof workers[0]; w++) {
        beat_config cfg = beat_config_default(BEAT_PROFILE_BASIC);
        cfg.workers = workers[w];
        cfg.spin_us = 1; // short spins: many submits land on parking or parked workers
        beat_pool *pool = NULL;
        CHECK_EQ(beat_pool_create(&cfg, &pool), BEAT_OK);
        CHECK_EQ(pool->arena.asym, 0u);
        const unsigned rounds = BT_SCALE(2000u, 300u);
        unsigned count = 0, expected = 0;
        for (unsigned i = 0; i < rounds; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            unsigned jobs = 1 + (unsigned)(rng % 4);
            double until = bt_seconds() + (double)(rng % 64) * 1e-6; // 0-63 us idle
            while (bt_seconds() < until) {
            }
            for (unsigned j = 0; j < jobs; j++)
                CHECK_EQ(beat_submit(pool, count_job, &count), BEAT_OK);
            expected += jobs;
            double deadline = bt_seconds() + 5.0;
            while (__atomic_load_n(&count, __ATOMIC_ACQUIRE) != expected && bt_seconds() < deadline)
                sched_yield();
            if (__atomic_load_n(&count, __ATOMIC_ACQUIRE) != expected) {
                CHECK_MSG(0, "round %u, %u workers: a job did not run within 5 s (lost wake)", i,
                          workers[w]);
                break;
            }
        }
        beat_pool_wait(pool);
        CHECK_EQ(count, expected);
        CHECK_EQ(pool->arena.ring[0].published, (uint64_t)expected); // through the ring
        beat_pool_destroy(pool);
    }
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(the_owner_fences_and_every_job_runs_once),
    };
    return BT_RUN(cases);
}
