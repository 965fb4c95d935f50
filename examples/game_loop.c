// A game loop on Beat: 60 frames, each with
//   - physics: a HIGH-priority job that integrates every body with a
//     parallel loop (the frame waits for it);
//   - AI: NORMAL jobs, one per agent group;
//   - streaming: LOW jobs that may run late, across frames;
//   - render submission: jobs pinned to the main thread (BEAT_MAIN_THREAD),
//     queued by the others and run by beat_pump at the end of the frame,
//     as graphics APIs want.
// Build with BEAT_PRIORITIES 3 (below). With BEAT_TRACE=frames.json in the
// environment, or a path as the first argument, the pool writes a
// Chrome/Perfetto trace of the 60 frames when it is destroyed (open it in
// ui.perfetto.dev or chrome://tracing).
//
//   ../build/examples/game_loop [trace.json]
#define BEAT_PRIORITIES 3
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include <math.h>
#include <stdio.h>

#define FRAMES 60
#define BODIES 20000
#define GROUPS 8
#define CHUNKS 4

typedef struct body {
    float x, y, vx, vy;
} body;

typedef struct world {
    body bodies[BODIES];
    float group_goal[GROUPS];
    unsigned drawn[FRAMES]; // render jobs run per frame (main thread only)
    unsigned streamed;      // LOW jobs done (atomic)
    unsigned frame;         // the frame being built
} world;

static world w;

static void integrate(beat_ctx *ctx, size_t begin, size_t end, void *arg)
{
    (void)ctx;
    const float dt = *(const float *)arg;
    for (size_t i = begin; i < end; i++) {
        body *b = &w.bodies[i];
        b->vy -= 9.81f * dt;
        b->x += b->vx * dt;
        b->y += b->vy * dt;
        if (b->y < 0) { // bounce
            b->y = -b->y;
            b->vy = -0.8f * b->vy;
        }
    }
}

// A render job: runs on the main thread, between frames.
static void draw(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    w.drawn[(unsigned)(uintptr_t)arg]++;
}

static void physics(beat_ctx *ctx, void *arg)
{
    static float dt = 1.0f / 60;
    (void)arg;
    beat_parallel_for(ctx, 0, BODIES, 0, integrate, &dt);
    beat_submit_pinned(beat_ctx_pool(ctx), BEAT_MAIN_THREAD, draw, (void *)(uintptr_t)w.frame);
}

static void think(beat_ctx *ctx, void *arg)
{
    unsigned g = (unsigned)(uintptr_t)arg;
    float goal = 0;
    for (unsigned i = g; i < BODIES; i += GROUPS) // read-only look at the world
        goal += w.bodies[i].x;
    w.group_goal[g] = goal / (BODIES / GROUPS);
    beat_submit_pinned(beat_ctx_pool(ctx), BEAT_MAIN_THREAD, draw, (void *)(uintptr_t)w.frame);
}

static void stream(beat_ctx *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    volatile double s = 0;
    for (int i = 1; i < 20000; i++) // pretend to decompress an asset
        s += sqrt((double)i);
    __atomic_fetch_add(&w.streamed, 1, __ATOMIC_RELAXED);
}

int main(int argc, char **argv)
{
    for (unsigned i = 0; i < BODIES; i++)
        w.bodies[i] = (body){(float)i, 10.0f + (float)(i % 7), 1.0f, 0.0f};
    beat_config cfg = beat_config_default(BEAT_PROFILE_PERFORMANCE);
    if (argc > 1)
        cfg.trace_path = argv[1];
    beat_pool *pool;
    beat_result r = beat_pool_create(&cfg, &pool);
    if (r != BEAT_OK) {
        fprintf(stderr, "beat_pool_create: %s: %s\n", beat_result_string(r), beat_result_advice(r));
        return 1;
    }
    beat_name_fn(pool, physics, "physics");
    beat_name_fn(pool, think, "ai");
    beat_name_fn(pool, stream, "streaming");
    beat_name_fn(pool, draw, "render");
    for (unsigned f = 0; f < FRAMES; f++) {
        w.frame = f;
        beat_submit_priority(pool, BEAT_PRIORITY_LOW, stream, NULL);
        beat_submit_priority(pool, BEAT_PRIORITY_HIGH, physics, NULL);
        beat_pool_wait(pool); // physics and last frame's stragglers
        for (unsigned g = 0; g < GROUPS; g++)
            beat_submit(pool, think, (void *)(uintptr_t)g);
        beat_pool_wait(pool); // AI done: the world is consistent
        unsigned ran = 0;
        beat_pump(pool, &ran); // render submission on this thread
        if (ran != 1 + GROUPS || w.drawn[f] != ran) {
            fprintf(stderr, "frame %u: %u render jobs ran, expected %d\n", f, ran, 1 + GROUPS);
            return 1;
        }
    }
    beat_stats s;
    beat_pool_stats(pool, &s, NULL, 0);
    beat_pool_destroy(pool);
    printf("%d frames: %u render jobs per frame on the main thread, %u assets streamed, "
           "%llu tasks, %llu steals\n",
           FRAMES, 1 + GROUPS, w.streamed, (unsigned long long)s.tasks,
           (unsigned long long)s.steals);
    return w.streamed == FRAMES ? 0 : 1;
}
