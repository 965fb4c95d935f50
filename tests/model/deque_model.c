// Bounded scenarios for the Chase-Lev deque (src/deque.c) on its own: the
// deque section and the atomics layer, no pool. Plain C11 with pthreads and
// assert, fixed thread counts, no unbounded loops, no timing and no output
// inside threads, so that the same file runs natively and under a C11 model
// checker, which explores every execution the memory model allows.
//
// Under GenMC (not installed here; see ../shared/research/reliability_anchors.md):
//   genmc -- -DSCENARIO=1 -I. tests/model/deque_model.c          RC11
//   genmc --tso -- -DSCENARIO=2 -I. tests/model/deque_model.c    x86-TSO
// With SCENARIO set, main runs that one scenario once: it starts the owner
// and the thieves as threads, joins them and checks with assert. A scenario
// passes when GenMC reports "No errors"; a broken ordering shows up as a
// failed assert.
//
// Natively (SCENARIO unset; make test) main runs every scenario many times,
// each on a fresh deque, and prints the project's count format. Creating
// threads for each run would rarely make them overlap on a small machine,
// so there main plays the owner and the thieves are threads kept for the
// whole scenario; all of them meet at a start gate, then wait a few
// pseudo-random pauses. The owner and thief code is the same in both modes.
//
// What each scenario proves, besides the checks they share (every pushed
// item comes back exactly once, counting a drain after the join, and only
// pushed items come back):
// - T1 capacity 2 with a resize: the owner pushes 3 items into a deque of
//   capacity 2 (the third push grows the buffer unless the thief took one
//   first) and takes 2, while a thief steals once. A thief that read the old
//   buffer, or the new one, still gets the oldest item; the owner's takes
//   are LIFO (3 then 2) and the thief never loses a CAS nobody raced.
// - T2 two thieves: the owner pushes 2 and takes twice while 2 thieves steal
//   once each. Thieves racing each other and the owner never share an item;
//   the owner's takes are LIFO and the deque is empty afterwards.
// - T3 owner take racing a thief for the last item: the owner pushes 1 and
//   takes it while a thief steals once (the store-buffering pattern the two
//   seq_cst fences forbid): exactly one of them gets the item.
#undef NDEBUG // the asserts are the model checker's oracle
#include "../../src/deque.c"

#include <assert.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef MODEL_RUNS
#ifdef BEAT_TEST_QUICK
#define MODEL_RUNS 5000 // sanitizer builds
#else
#define MODEL_RUNS 20000
#endif
#endif

// Under a model checker a failed check is an assert; natively the first
// failure of a run is recorded so main can report it and go on counting.
#ifdef SCENARIO
#define EXPECT(cond) assert(cond)
#else
static const char *failed_check;
static int failed_line;
#define EXPECT(cond) ((cond) ? (void)0 : expect_failed(#cond, __LINE__))
static void expect_failed(const char *cond, int line)
{
    if (failed_check == NULL) {
        failed_check = cond;
        failed_line = line;
    }
}
#endif

// Memory for the buffers: plain malloc and free.
static void *model_alloc(size_t bytes, void *user)
{
    (void)user;
    return malloc(bytes);
}

static void model_release(void *ptr, size_t bytes, void *user)
{
    (void)bytes;
    (void)user;
    free(ptr);
}

static const beat__deque_mem model_mem = {model_alloc, model_release, NULL};

enum { MAX_ITEMS = 3, MAX_THIEVES = 2 };

// The deque and the items: distinct non-NULL pointers.
static beat__deque deque;
static int item_storage[MAX_ITEMS];
#define ITEM(i) ((void *)&item_storage[i])

// Results: each thread writes its own, main reads them after the joins.
static void *owner_took[MAX_ITEMS];
static void *thief_took[MAX_THIEVES]; // NULL unless the steal returned OK
static beat__steal_result thief_result[MAX_THIEVES];

// ---- The start gate (native only) ------------------------------------------

#ifdef SCENARIO
static void gate_wait(int who) { (void)who; }
#else
// Spins until *word == value; yields after a while, since on 2 cores a
// spinner can keep the thread it waits for off the CPU.
static void wait_for(const int *word, int value)
{
    for (unsigned k = 0; __atomic_load_n(word, __ATOMIC_ACQUIRE) != value; k++) {
        if (k < 2000)
            beat__cpu_relax();
        else
            sched_yield();
    }
}

static int gate_arrived, gate_threads;
static unsigned gate_pauses[1 + MAX_THIEVES]; // after the gate; [0] is the owner's
static uint64_t gate_rng = 0x9e3779b97f4a7c15u;

// Before a run (no thread is at the gate): who is coming, and their pauses.
// The owner goes at once; each thief waits 0-11 pauses (measured on a
// 2-core x86 VM: this spread lands the most steals inside the owner's run).
static void gate_reset(int threads)
{
    gate_arrived = 0;
    gate_threads = threads;
    gate_pauses[0] = 0;
    for (int i = 1; i < threads; i++) {
        gate_rng ^= gate_rng << 13; // xorshift64
        gate_rng ^= gate_rng >> 7;
        gate_rng ^= gate_rng << 17;
        gate_pauses[i] = (unsigned)(gate_rng % 12);
    }
}

static void gate_wait(int who)
{
    __atomic_fetch_add(&gate_arrived, 1, __ATOMIC_ACQ_REL);
    wait_for(&gate_arrived, gate_threads);
    for (unsigned k = 0; k < gate_pauses[who]; k++)
        beat__cpu_relax();
}
#endif

// ---- The threads of a scenario ----------------------------------------------

static void owner_push(int i) { EXPECT(beat__deque_push_owner(&deque, ITEM(i)) >= 0); }

// One steal by thief i (the argument); no retry, so the thread is bounded.
static void *thief_steal_once(void *arg)
{
    int i = (int)(intptr_t)arg;
    void *out = NULL;
    gate_wait(1 + i);
    thief_result[i] = beat__deque_steal(&deque, &out);
    thief_took[i] = thief_result[i] == BEAT__STEAL_OK ? out : NULL;
    return NULL;
}

static void *t1_owner(void *arg)
{
    (void)arg;
    gate_wait(0);
    owner_push(0);
    owner_push(1);
    owner_push(2); // size 2 = capacity: grows, unless the thief took item 0
    owner_took[0] = beat__deque_pop_owner(&deque);
    owner_took[1] = beat__deque_pop_owner(&deque);
    return NULL;
}

static void *t2_owner(void *arg)
{
    (void)arg;
    gate_wait(0);
    owner_push(0);
    owner_push(1);
    owner_took[0] = beat__deque_pop_owner(&deque);
    owner_took[1] = beat__deque_pop_owner(&deque);
    return NULL;
}

static void *t3_owner(void *arg)
{
    (void)arg;
    gate_wait(0);
    owner_push(0);
    owner_took[0] = beat__deque_pop_owner(&deque);
    return NULL;
}

// A fresh deque of capacity 2 and cleared results.
static int run_prepare(void)
{
    for (int i = 0; i < MAX_ITEMS; i++)
        owner_took[i] = NULL;
    for (int i = 0; i < MAX_THIEVES; i++) {
        thief_took[i] = NULL;
        thief_result[i] = BEAT__STEAL_EMPTY;
    }
    return beat__deque_init(&deque, 2, &model_mem);
}

#ifdef SCENARIO
// Runs the owner and `thieves` one-steal thieves as threads, then joins
// them. Returns 0, or -1 if the deque or a thread could not be made.
static int run_threads(void *(*owner)(void *), int thieves)
{
    pthread_t threads[1 + MAX_THIEVES];
    int started = 0;
    if (run_prepare() != 0)
        return -1;
    if (pthread_create(&threads[0], NULL, owner, NULL) == 0)
        started = 1;
    for (int i = 0; started == 1 + i && i < thieves; i++)
        if (pthread_create(&threads[started], NULL, thief_steal_once, (void *)(intptr_t)i) == 0)
            started++;
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    return started == 1 + thieves ? 0 : -1;
}
#else
// The thieves of the current scenario: each does one steal per run. Main
// bumps crew_runs to start a run and waits for crew_done to reach
// crew_size before it looks at the results.
static pthread_t crew_threads[MAX_THIEVES];
static int crew_size, crew_runs, crew_done, crew_quit;

static void *crew_main(void *arg)
{
    for (int run = 1;; run++) {
        wait_for(&crew_runs, run);
        if (__atomic_load_n(&crew_quit, __ATOMIC_ACQUIRE))
            return NULL;
        thief_steal_once(arg);
        __atomic_fetch_add(&crew_done, 1, __ATOMIC_ACQ_REL);
    }
}

static int crew_start(int thieves)
{
    crew_runs = crew_done = crew_quit = 0;
    for (crew_size = 0; crew_size < thieves; crew_size++)
        if (pthread_create(&crew_threads[crew_size], NULL, crew_main,
                           (void *)(intptr_t)crew_size) != 0)
            return -1;
    return 0;
}

static void crew_stop(void)
{
    __atomic_store_n(&crew_quit, 1, __ATOMIC_RELEASE);
    __atomic_fetch_add(&crew_runs, 1, __ATOMIC_ACQ_REL);
    for (int i = 0; i < crew_size; i++)
        pthread_join(crew_threads[i], NULL);
}

// One run: main is the owner, the crew the thieves (thieves == crew_size).
static int run_threads(void *(*owner)(void *), int thieves)
{
    if (thieves != crew_size || run_prepare() != 0)
        return -1;
    gate_reset(1 + thieves);
    __atomic_store_n(&crew_done, 0, __ATOMIC_RELAXED); // the crew waits for crew_runs
    __atomic_fetch_add(&crew_runs, 1, __ATOMIC_ACQ_REL);
    owner(NULL);
    wait_for(&crew_done, thieves);
    return 0;
}
#endif

// ---- Checks -----------------------------------------------------------------

// After the joins: takes what is left (at most `pushed`, so bounded), checks
// the deque is then empty, and checks that every pushed item came back
// exactly once among the owner's takes, the thieves' steals and the drain.
// Returns how many items the drain found; destroys the deque.
static int check_and_destroy(int pushed, int owner_takes, int thieves)
{
    void *seen[2 * MAX_ITEMS + MAX_THIEVES];
    int n = 0, drained = 0;
    for (int i = 0; i < owner_takes; i++)
        seen[n++] = owner_took[i];
    for (int i = 0; i < thieves; i++) {
        EXPECT((thief_result[i] == BEAT__STEAL_OK) == (thief_took[i] != NULL));
        seen[n++] = thief_took[i];
    }
    for (int i = 0; i < pushed; i++) {
        void *left = beat__deque_pop_owner(&deque);
        drained += left != NULL;
        seen[n++] = left;
    }
    void *out = NULL;
    EXPECT(beat__deque_pop_owner(&deque) == NULL);
    EXPECT(beat__deque_steal(&deque, &out) == BEAT__STEAL_EMPTY);
    EXPECT(beat__deque_size(&deque) == 0);
    EXPECT(deque.top == deque.bottom); // empty takes put bottom back

    for (int k = 0; k < n; k++) { // only pushed items come back
        int pushed_item = seen[k] == NULL;
        for (int i = 0; i < pushed; i++)
            pushed_item |= seen[k] == ITEM(i);
        EXPECT(pushed_item);
    }
    for (int i = 0; i < pushed; i++) { // each exactly once: none lost, none twice
        int times = 0;
        for (int k = 0; k < n; k++)
            times += seen[k] == ITEM(i);
        EXPECT(times == 1);
    }
    beat__deque_destroy(&deque);
    return drained;
}

// What happened in the runs, for the native notes.
static int outcome_grew, outcome_thief_got, outcome_thief_lost;

static void count_outcomes(int thieves)
{
    for (int i = 0; i < thieves; i++) {
        outcome_thief_got += thief_result[i] == BEAT__STEAL_OK;
        outcome_thief_lost += thief_result[i] == BEAT__STEAL_LOST;
    }
}

// ---- Scenarios --------------------------------------------------------------

static void t1_capacity_2_with_a_resize(void)
{
    EXPECT(run_threads(t1_owner, 1) == 0);
    // The thief takes at most one item, so neither take can come back empty,
    // and nobody else moves top, so the steal cannot lose its CAS.
    EXPECT(owner_took[0] == ITEM(2));
    EXPECT(owner_took[1] == ITEM(1));
    EXPECT(thief_result[0] != BEAT__STEAL_LOST);
    EXPECT(thief_took[0] == NULL || thief_took[0] == ITEM(0));
    outcome_grew += deque.retired != NULL;
    count_outcomes(1);
    check_and_destroy(3, 2, 1);
}

static void t2_two_thieves(void)
{
    EXPECT(run_threads(t2_owner, 2) == 0);
    // LIFO: the first take can only be the newest item; once a take finds
    // the deque empty, the next one does too.
    EXPECT(owner_took[0] == NULL || owner_took[0] == ITEM(1));
    EXPECT(owner_took[1] == NULL || owner_took[1] == ITEM(0));
    EXPECT(owner_took[0] != NULL || owner_took[1] == NULL);
    count_outcomes(2);
    EXPECT(check_and_destroy(2, 2, 2) == 0); // two takes leave it empty
}

static void t3_owner_take_racing_a_thief_for_the_last_item(void)
{
    EXPECT(run_threads(t3_owner, 1) == 0);
    // Exactly one of them gets the item: the owner comes back empty only
    // when the thief won it.
    EXPECT((owner_took[0] == NULL) == (thief_result[0] == BEAT__STEAL_OK));
    count_outcomes(1);
    EXPECT(check_and_destroy(1, 1, 1) == 0);
}

typedef struct scenario {
    const char *name;
    void (*run)(void);
    int thieves;
} scenario;

static const scenario scenarios[] = {
    {"T1 capacity 2 with a resize", t1_capacity_2_with_a_resize, 1},
    {"T2 two thieves", t2_two_thieves, 2},
    {"T3 owner take racing a thief for the last item",
     t3_owner_take_racing_a_thief_for_the_last_item, 1},
};

#ifdef SCENARIO
int main(void)
{
    scenarios[SCENARIO - 1].run();
    return 0;
}
#else
// Runs one scenario MODEL_RUNS times; returns 1 if it passed.
static int run_scenario(const scenario *s)
{
    int run = 0;
    outcome_grew = outcome_thief_got = outcome_thief_lost = 0;
    failed_check = NULL;
    if (crew_start(s->thieves) != 0)
        expect_failed("the thief threads start", __LINE__);
    for (; run < MODEL_RUNS && failed_check == NULL; run++)
        s->run();
    crew_stop();
    if (failed_check != NULL) {
        printf("FAIL %s\n     tests/model/deque_model.c:%d: %s (run %d of %d)\n", s->name,
               failed_line, failed_check, run, MODEL_RUNS);
        return 0;
    }
    printf("ok   %s (%d runs)\n", s->name, run);
    printf("     # thieves got an item %d times, lost the CAS %d times", outcome_thief_got,
           outcome_thief_lost);
    if (outcome_grew)
        printf(", the buffer grew in %d runs", outcome_grew);
    printf("\n");
    return 1;
}

int main(void)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (run_scenario(&scenarios[i]))
            passed++;
        else
            failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
#endif
