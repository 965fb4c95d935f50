// Submit arena: the task records (and ring jobs) of jobs submitted from
// outside the pool.
//
// Why not the mempool: a record freed by a worker goes back to the mempool
// from that worker's cache, so the next outside submit writes a line that
// sits in another CPU's cache, and the worker that pops it misses again, in
// an order no prefetcher follows. Measured with 1M jobs of 500 cycles on 2
// workers, records handed out in address order instead raised efficiency
// from 42-56 % to 67-82 % and cut the submit loop from 78-115 ms to
// 19-32 ms (README, "Results").
//
// So outside submits take records in address order from blocks of
// BEAT__ARENA_BLOCK_BYTES:
//
//   owners:    the first BEAT_SUBMIT_RINGS outside threads to submit a
//              NORMAL job own a ring each, while they live (then the next
//              threads to ask take them over): a block of their own, whose
//              next ring job (a function and an argument, beat__ring_job)
//              they take with plain loads and stores: no lock, no atomic
//              read-modify-write. An owner takes the lock only to get its
//              next block. Its jobs go to the workers through its ring.
//   others:    (and the owners' other submits: other priorities,
//              deferrable) try-lock; next record of the shared block, or a
//              recycled block, or a new one; unlock. A busy lock or a failed
//              allocation returns NULL and the caller uses the mempool, so
//              a submit never waits for another.
//   consumer:  a run record (or ring job) is retired into the consumer's
//              tally; the tally
//              is subtracted from its block's pending count in one RMW when
//              the consumer meets another block or flushes its job count.
//   recycle:   the RMW that brings pending to zero (every record handed out
//              and retired) pushes the block onto a free stack; submitters
//              pop it under the lock.
//
// The owner's try-lock cost a third of a single submit (a locked
// instruction on a line other submitters and waiters write), and the
// exchange of the injection queue's list most of the rest ("The rings"
// below). With one ring for the first thread only, a second submitting
// thread doubled the CPU per job above the work (1M jobs of 500 cycles
// from 2 threads, 2 workers: 23-25 ns against 12-13 from one thread;
// scratch). A ring is its thread's until the thread exits; then the next
// thread without a ring that asks for one takes it over (before a new ring
// is made), with its block and the jobs not yet run (beat__submitter,
// beat__arena_ring_claim).
//
// The free stack is a Treiber stack with any number of pushers and one
// popper at a time (the lock holder). ABA needs a block to be popped and
// pushed back between a popper's read of the head and its CAS; only the
// popper pops, so that cannot happen.
//
// Counted on claim: every job counts in the pool's job count (pool->jobs,
// what beat_pool_wait waits on). A record that goes to the NORMAL injection
// queue is not counted by its submit (BEAT__TASK_UNCOUNTED): the worker that
// claims it from the queue counts it, with all it claims in one take, in
// one RMW made before it releases the queue's lock and before any of them
// can run (beat__inject_take_from). A wait for the pool's jobs reads the
// queue, then its lock, then the count (beat__jobs_state): a job is in the
// queue, or being claimed under the lock, or counted. So a submit makes no
// RMW on the shared count, and no wait has anything to take back from the
// arena. (Counting a block ahead at the submit, as Beat did before, needed
// every wait to take the uncounted rest back under the arena's lock, which
// the owner no longer takes.)
//
// The rings: an owner's blocks, linked in the order it took them, are a
// single-producer queue. A submit fills the owner's next ring job
// and publishes it by storing the count of jobs published (a release
// store, no read-modify-write); the exchange that a push onto the
// injection queue's list makes was the one locked instruction left in a
// single submit (12.8-13.6 ns of the submitting thread's time per submit
// with it, 6.9-7.2 ns with the ring, on 40-byte task records; 1M submits
// to a held worker). Consumers take a ring's jobs in order under the
// NORMAL queue's lock, as part of that queue (beat__inject_take_from),
// serving the rings in turn, one ring a take: the consumed counts, the
// lock and the job count keep their meaning for waits. The owner links
// its next block into its ring before it publishes a job of it; the
// ring's consumer cursor holds one count of its block's pending
// (BEAT__ARENA_RING_REF), given back when it moves on, so a block is not
// recycled while the cursor may still read its link.
//
// Ring chains: a worker takes the ring's jobs when the list is empty, up
// to a chain's length of them in one step (beat__arena_ring_take; one,
// when its function's jobs are not tiny): they are consecutive in one
// block, so a chain record names the block, the first and a count
// (BEAT__TASK_RING), and no job is read before it runs
// (beat__chain_run_ring). Popping task records one by one read each
// record's line from the submitter's cache, wrote it twice (the claim's
// flag, the chain's link), and read it again to run it: 1M single submits
// of 500 cycles on 2 workers cost 27.7 ns of CPU per job above the work
// before and 21.3 ns after; later, 16-byte ring jobs instead of 40-byte
// records took it from about 17 to about 14 ns, the submitting thread's
// part from 6.8 to 4.2 ns (scratch, medians).
//
// Waking: a worker about to park counts itself in idle_sleepers and then
// looks for work; a publisher stores the count and then reads
// idle_sleepers. Without a fence between each side's store and load, both
// can miss the other's (store buffering). The parker's side runs rarely,
// so it takes the whole fence: membarrier (beat__membarrier in platform.c)
// makes the publisher's store visible, or its later load see the sleeper.
// It does so only while an owner is active: from its first publish (which
// fences once) to its next beat_pool_wait, or to the first park after
// that publish, which clears active after its membarrier; the owner's
// next publish sees the clear and fences again. So an owner that stops
// publishing costs one membarrier, however long the workers then idle;
// one membarrier serves every active ring.
// Where membarrier is refused, or with BEAT_NO_MEMBARRIER, the publisher
// fences instead (asym == 0).
//
// A record names its block in its counter field (BEAT__TASK_ARENA; jobs
// have no counter). Blocks are freed by beat__arena_destroy, and blocks on
// the free stack by beat__arena_trim under memory pressure.

#define BEAT__ARENA_BLOCK_BYTES 16384u

typedef struct beat__arena_block {
    uint64_t pending; // records handed out or still to hand out, not retired (atomic)
    struct beat__arena_block *free_next;           // free stack link
    struct beat__arena_block *all_prev, *all_next; // every block; the lock holder's
    struct beat__arena_block *ring_next;           // the owner's next block (ring blocks)
} beat__arena_block;

// The ring's consumer cursor holds this much of its block's pending count.
#define BEAT__ARENA_RING_REF 1u

// The records of a block start on the line after its header: the pending
// count, written by consumers, has its line to itself.
#define BEAT__ARENA_RECORDS                                                                        \
    ((BEAT__ARENA_BLOCK_BYTES - BEAT_CACHELINE) / (uint32_t)sizeof(beat__task))
BEAT__STATIC_ASSERT(sizeof(beat__arena_block) <= BEAT_CACHELINE, arena_header_fits_a_line);

// A job in the owner's ring: its function and argument, nothing else.
// Every ring job is a NORMAL job with no counter, counted on claim, so the
// rest of a task record would be the same in all of them. At 16 bytes
// four share a line, where task records (40 bytes) take 1.6 each: the
// lines that move from the submitter's cache to a worker's are most of
// what a submit costs (with records padded to a line each, 9.3 ns a
// submit against 7.2 ns; 1M submits to a held worker, scratch).
typedef struct beat__ring_job {
    beat_fn fn;
    void *arg;
} beat__ring_job;

#define BEAT__ARENA_RING_JOBS                                                                      \
    ((BEAT__ARENA_BLOCK_BYTES - BEAT_CACHELINE) / (uint32_t)sizeof(beat__ring_job))

// Where records are handed out from: a block and its next record (ring
// job, for the owner's). next == the block's count of them when the block
// is used up (or there is none yet).
// Accessed with relaxed atomics: the owner's cursor is read by the owner
// outside the lock.
typedef struct beat__arena_cursor {
    beat__arena_block *block;
    uint32_t next;
} beat__arena_cursor;

// One submitting thread's ring ("The rings"). Three lines, one per writer:
// the owner's (its cursor, its copy of the count and active), the count
// it publishes, and the consumers' (the NORMAL queue's lock holder's).
typedef struct beat__arena_ring {
    beat__arena_cursor own BEAT__ALIGNED(BEAT_CACHELINE); // the owner's; refilled under the lock
    uint64_t own_published; // the owner's copy of published (owner only)
    uint32_t active; // 1 from the owner's first publish to its next wait or the next park (atomic)
    // Jobs the owner has published (owner stores, release).
    uint64_t published BEAT__ALIGNED(BEAT_CACHELINE);
    // The lock holder's, except first (set once by the owner, release) and
    // consumed (read by waiters).
    beat__arena_block *first BEAT__ALIGNED(BEAT_CACHELINE); // the owner's first block
    beat__arena_cursor cursor; // the next job to consume (block NULL: first's job 0)
    uint64_t consumed;         // jobs consumed (release store)
    uint64_t seen;             // published as the lock holder last read it
} beat__arena_ring;

typedef struct beat__submit_arena {
    uint32_t lock BEAT__ALIGNED(BEAT_CACHELINE); // 1 while a submitter takes a record
    beat__arena_cursor shared;                   // the other outside threads' (lock holder)
    beat__arena_block *all;                      // every block, newest first (lock holder)
    // Read-mostly. owner[i] and rings are written by a lock holder when a
    // thread takes ring i (when its owner has exited, again), then read by
    // every outside submitter; rings also by consumers and parkers.
    void *owner[BEAT_SUBMIT_RINGS] BEAT__ALIGNED(BEAT_CACHELINE); // owners' beat__submitter
    uint32_t rings; // rings made: ring[0] to ring[rings - 1] (release store)
    uint32_t asym;  // 1: parkers call membarrier, publishers do not fence (set at init; relaxed)
    // beat__submitters_gone when a lock holder last found no ring whose
    // owner is gone (lock holder writes; read before the lock, relaxed).
    uint64_t gone_seen;
    uint32_t turn BEAT__ALIGNED(BEAT_CACHELINE); // ring being served (NORMAL queue's lock holder)
    beat__arena_ring ring[BEAT_SUBMIT_RINGS];
    beat__arena_block *free_top BEAT__ALIGNED(BEAT_CACHELINE); // recycled blocks
} beat__submit_arena;

// A consumer's records retired and not yet subtracted from their block.
typedef struct beat__arena_tally {
    beat__arena_block *block;
    uint32_t count;
} beat__arena_tally;

BEAT__PRIVATE void beat__arena_init(beat__submit_arena *a)
{
    memset(a, 0, sizeof *a);
    a->shared.next = BEAT__ARENA_RECORDS; // the first take gets a block
    for (unsigned i = 0; i < BEAT_SUBMIT_RINGS; i++)
        a->ring[i].own.next = BEAT__ARENA_RING_JOBS;
#ifdef BEAT_NO_MEMBARRIER
    a->asym = 0; // the owner fences at every publish; parkers never interrupt other CPUs
#else
    a->asym = (uint32_t)beat__membarrier_setup();
#endif
}

BEAT__INLINE beat__task *beat__arena_record(beat__arena_block *b, uint32_t i)
{
    return (beat__task *)(void *)((unsigned char *)b + BEAT_CACHELINE) + i;
}

BEAT__INLINE beat__ring_job *beat__arena_ring_job(beat__arena_block *b, uint32_t i)
{
    return (beat__ring_job *)(void *)((unsigned char *)b + BEAT_CACHELINE) + i;
}

// Lock holder: a block to hand out from, recycled or new, or NULL.
// pending: its records (or ring jobs), plus BEAT__ARENA_RING_REF for a
// ring block.
BEAT__PRIVATE beat__arena_block *
beat__arena_block_get(beat__submit_arena *a, const beat_allocator *allocator, uint32_t pending)
{
    // Acquire: pairs with the release push, so the consumers' last reads
    // and writes of the block's records happen before we rewrite them.
    beat__arena_block *b =
        (beat__arena_block *)beat__atomic_load_ptr((void **)&a->free_top, BEAT__MO_ACQUIRE);
    // Relaxed load of b->free_next: b was published by the acquire above
    // (or the failed CAS's acquire), and no one else pops it meanwhile.
    while (b != NULL &&
           !beat__atomic_cas_ptr((void **)&a->free_top, (void **)&b,
                                 beat__atomic_load_ptr((void **)&b->free_next, BEAT__MO_RELAXED),
                                 BEAT__MO_ACQUIRE, BEAT__MO_ACQUIRE)) {
    }
    if (b == NULL) {
        b = (beat__arena_block *)beat__alloc(allocator, BEAT__ARENA_BLOCK_BYTES, BEAT_CACHELINE);
        if (b == NULL)
            return NULL;
        b->all_prev = NULL;
        b->all_next = a->all;
        if (a->all != NULL)
            a->all->all_prev = b;
        a->all = b;
    }
    // Relaxed: no record of b is out, so no consumer touches the count or
    // the link until a record is published by a release (the queue's push,
    // or the ring's count after the link that leads to b).
    beat__atomic_store_u64(&b->pending, pending, BEAT__MO_RELAXED);
    beat__atomic_store_ptr((void **)&b->ring_next, NULL, BEAT__MO_RELAXED);
    return b;
}

// A thread that owns rings (in any number of pools) is named in them by
// its beat__submitter, made at its first claim. A ring passes to another
// thread once its owner has exited: a pthread key's destructor marks the
// record gone, after the thread's last submit; the next thread without a
// ring that asks for one takes over one whose owner is gone before a new
// ring is made (beat__arena_ring_claim), with the jobs and block it holds. The
// record outlives the thread while a ring names it: refs counts the live
// thread and every ring that names it, and the last to let go frees it.
// (Before, a thread's tag was the address of a thread-local variable: an
// exited thread's ring passed on only to a thread that happened to get
// its address, when glibc reused its stack.)
typedef struct beat__submitter {
    uint32_t refs; // the live thread (1) + the rings naming it (atomic)
    uint32_t gone; // 1 once the thread has exited (release store)
} beat__submitter;

// The calling thread's record, NULL before its first claim (or when none
// could be made). Set and cleared by the thread itself.
static BEAT__THREAD_LOCAL beat__submitter *beat__submitter_self;
static pthread_key_t beat__submitter_key; // its destructor marks the thread gone
static pthread_once_t beat__submitter_once = PTHREAD_ONCE_INIT;
// 1 once the key exists (written inside the once), 0 again once unloaded.
static uint32_t beat__submitter_key_made;
// Records marked gone so far (release add after the mark). An arena whose
// rings are all named looks for a gone owner only when this has moved
// since it last looked (beat__submit_arena.gone_seen).
static uint64_t beat__submitters_gone;

// Drops one reference to s; the last frees it. Acq_rel: the last one's
// free comes after every other holder's reads of s.
BEAT__PRIVATE void beat__submitter_release(beat__submitter *s)
{
    if (beat__atomic_fetch_sub_u32(&s->refs, 1, BEAT__MO_ACQ_REL) == 1)
        BEAT_FREE(s);
}

// The key's destructor, on the exiting thread: its submits are over.
BEAT__PRIVATE void beat__submitter_exit(void *p)
{
    beat__submitter *s = (beat__submitter *)p;
    beat__submitter_self = NULL; // a later destructor's submit makes a new record
    // Release: a thread that reads gone as 1 (acquire, under an arena's
    // lock) and takes over a ring sees every store this thread made to it.
    beat__atomic_store_u32(&s->gone, 1, BEAT__MO_RELEASE);
    // Release, after the mark: a thread that reads the count including
    // this exit (acquire) reads gone as 1.
    beat__atomic_fetch_add_u64(&beat__submitters_gone, 1, BEAT__MO_RELEASE);
    beat__submitter_release(s);
}

BEAT__PRIVATE void beat__submitter_make_key(void)
{
    beat__atomic_store_u32(&beat__submitter_key_made,
                           pthread_key_create(&beat__submitter_key, beat__submitter_exit) == 0,
                           BEAT__MO_RELAXED);
}

// When the program unloads the code (dlclose of a library that holds the
// implementation, or at exit), the key goes first: a thread that exits
// afterwards must not call a destructor that is no longer mapped. Its
// record is then not freed, and its ring stays with it.
__attribute__((destructor)) static void beat__submitter_unload(void)
{
    if (beat__atomic_exchange_u32(&beat__submitter_key_made, 0, BEAT__MO_RELAXED))
        pthread_key_delete(beat__submitter_key);
}

// The calling thread's record, made on its first call; NULL when the key
// or the record cannot be made (the thread then owns no ring).
BEAT__PRIVATE beat__submitter *beat__submitter_get(void)
{
    beat__submitter *s = beat__submitter_self;
    if (s != NULL)
        return s;
    // Relaxed load of made: pthread_once orders its store before us.
    if (pthread_once(&beat__submitter_once, beat__submitter_make_key) != 0 ||
        !beat__atomic_load_u32(&beat__submitter_key_made, BEAT__MO_RELAXED))
        return NULL;
    s = (beat__submitter *)BEAT_MALLOC(sizeof *s);
    if (s == NULL)
        return NULL;
    s->refs = 1;
    s->gone = 0;
    if (pthread_setspecific(beat__submitter_key, s) != 0) {
        BEAT_FREE(s);
        return NULL;
    }
    beat__submitter_self = s;
    return s;
}

// The calling thread's tag in the rings: its record, or NULL before its
// first claim (no ring names NULL).
BEAT__INLINE void *beat__thread_tag(void) { return (void *)beat__submitter_self; }

// Lock holder: gives c (ring r's own cursor, or the shared one with r
// NULL) a new block when its own is used up (its consumers recycle that
// one), linking a ring's into its ring. Returns the block, or NULL when
// none can be had.
BEAT__PRIVATE beat__arena_block *beat__arena_cursor_refill(beat__submit_arena *a,
                                                           const beat_allocator *allocator,
                                                           beat__arena_cursor *c,
                                                           beat__arena_ring *r)
{
    beat__arena_block *fresh = beat__arena_block_get(
        a, allocator,
        r != NULL ? BEAT__ARENA_RING_JOBS + BEAT__ARENA_RING_REF : BEAT__ARENA_RECORDS);
    if (fresh == NULL)
        return NULL;
    beat__arena_block *used =
        (beat__arena_block *)beat__atomic_load_ptr((void **)&c->block, BEAT__MO_RELAXED);
    if (r != NULL && used != NULL) {
        // Release: the consumer that follows the link (after the acquire of
        // a count that includes fresh's first job) sees its reset.
        beat__atomic_store_ptr((void **)&used->ring_next, fresh, BEAT__MO_RELEASE);
    } else if (r != NULL) {
        beat__atomic_store_ptr((void **)&r->first, fresh, BEAT__MO_RELEASE);
    }
    beat__atomic_store_ptr((void **)&c->block, fresh, BEAT__MO_RELAXED);
    return fresh;
}

// The index of c's next record (or ring job; limit of them to a block) and
// its block (*block), from a new block when c's is used up; *block is NULL
// when no block can be had. r: the ring whose own cursor c is, or NULL.
// Lock holder only.
BEAT__INLINE uint32_t beat__arena_cursor_take(beat__submit_arena *a,
                                              const beat_allocator *allocator,
                                              beat__arena_cursor *c, beat__arena_ring *r,
                                              uint32_t limit, beat__arena_block **block)
{
    uint32_t i = beat__atomic_load_u32(&c->next, BEAT__MO_RELAXED);
    beat__arena_block *b =
        (beat__arena_block *)beat__atomic_load_ptr((void **)&c->block, BEAT__MO_RELAXED);
    if (BEAT__UNLIKELY(i == limit)) {
        b = beat__arena_cursor_refill(a, allocator, c, r);
        i = 0;
    }
    if (b != NULL)
        beat__atomic_store_u32(&c->next, i + 1, BEAT__MO_RELAXED);
    *block = b;
    return i;
}

// Any thread: an unused record of the shared block and its block (*block),
// or NULL when another submitter holds the lock or no block can be
// allocated. The record goes through an injection queue's list; one bound
// for the NORMAL queue is not counted in the pool's jobs (see "Counted on
// claim").
BEAT__PRIVATE beat__task *beat__arena_take(beat__submit_arena *a, const beat_allocator *allocator,
                                           beat__arena_block **block)
{
    // The lock hands over the shared cursor, the block list and the free
    // stack's pop.
    *block = NULL;
    if (!beat__spin_trylock(&a->lock))
        return NULL;
    uint32_t i =
        beat__arena_cursor_take(a, allocator, &a->shared, NULL, BEAT__ARENA_RECORDS, block);
    beat__spin_unlock(&a->lock);
    return *block != NULL ? beat__arena_record(*block, i) : NULL;
}

// The ring owned by the thread tagged me, or NULL (me NULL: no ring names
// it). Relaxed loads: owner[i] is written by a lock holder before rings
// counts it, and compared here with our own tag, which only we can have
// written (a record is not freed, nor its address reused, while a ring
// names it); a ring counted late is only looked for again under the lock.
BEAT__INLINE beat__arena_ring *beat__arena_ring_of(beat__submit_arena *a, void *me)
{
    uint32_t rings = beat__atomic_load_u32(&a->rings, BEAT__MO_RELAXED);
    for (uint32_t i = 0; i < rings; i++)
        if (beat__atomic_load_ptr(&a->owner[i], BEAT__MO_RELAXED) == me)
            return &a->ring[i];
    return NULL;
}

// Lock holder: a ring for the thread whose record is me, which owns none:
// one whose owner is gone, else a new one; NULL when every ring is a live
// thread's. Taking over a gone owner's ring takes its state as it is: the
// owner's cursor and published count go on where the gone owner left
// them, and its jobs not yet run stay queued in order before ours.
BEAT__PRIVATE beat__arena_ring *beat__arena_ring_claim(beat__submit_arena *a, beat__submitter *me)
{
    // Relaxed load of rings: it is written under the lock, which we hold.
    uint32_t rings = beat__atomic_load_u32(&a->rings, BEAT__MO_RELAXED);
    // Acquire: pairs with the release add of an exit, so an exit counted
    // here is seen in its record's gone below. One counted later moves the
    // count past gone_seen, and a later claim looks again. gone_seen is set
    // only by a scan that finds no gone owner: one that takes a ring may
    // leave others for the next claims.
    uint64_t gone = beat__atomic_load_u64(&beat__submitters_gone, BEAT__MO_ACQUIRE);
    if (gone != beat__atomic_load_u64(&a->gone_seen, BEAT__MO_RELAXED)) {
        for (uint32_t i = 0; i < rings; i++) {
            // Relaxed: owner[i] is the lock holder's to write. The ring's
            // reference keeps the record alive while we read it.
            beat__submitter *old =
                (beat__submitter *)beat__atomic_load_ptr(&a->owner[i], BEAT__MO_RELAXED);
            // Acquire: pairs with the exit's release, so the old owner's
            // stores to the ring (its cursor, its copy of the count) are
            // seen by us, who go on from them.
            if (!beat__atomic_load_u32(&old->gone, BEAT__MO_ACQUIRE))
                continue;
            beat__atomic_fetch_add_u32(&me->refs, 1, BEAT__MO_RELAXED); // we hold one
            beat__atomic_store_ptr(&a->owner[i], me, BEAT__MO_RELAXED);
            beat__submitter_release(old);
            return &a->ring[i];
        }
        beat__atomic_store_u64(&a->gone_seen, gone, BEAT__MO_RELAXED);
    }
    if (rings == BEAT_SUBMIT_RINGS)
        return NULL;
    beat__atomic_fetch_add_u32(&me->refs, 1, BEAT__MO_RELAXED); // we hold one
    beat__atomic_store_ptr(&a->owner[rings], me, BEAT__MO_RELAXED);
    // Release: a consumer or parker that counts ring[rings] reads its
    // fields as initialised (and its owner).
    beat__atomic_store_u32(&a->rings, rings + 1, BEAT__MO_RELEASE);
    return &a->ring[rings];
}

// 1 when a thread without a ring may find one under the lock: a ring not
// made yet, or an exit since a lock holder last looked for a gone owner.
// Relaxed: a hint (the claim decides under the lock).
BEAT__INLINE int beat__arena_ring_may_claim(beat__submit_arena *a)
{
    return beat__atomic_load_u32(&a->rings, BEAT__MO_RELAXED) < BEAT_SUBMIT_RINGS ||
           beat__atomic_load_u64(&beat__submitters_gone, BEAT__MO_RELAXED) !=
               beat__atomic_load_u64(&a->gone_seen, BEAT__MO_RELAXED);
}

// A ring owner's next ring job when its block is used up, and a thread's
// first (it claims a ring: beat__arena_ring_claim): under the lock. r: the
// ring of the thread whose record is me (beat__arena_ring_of), NULL when it
// has none. Only that thread gives its record a ring, so it need not be
// looked for again under the lock.
// NULL when every ring is a live thread's, the lock is busy or no block
// can be had.
BEAT__PRIVATE beat__ring_job *beat__arena_ring_slot_locked(beat__submit_arena *a,
                                                           const beat_allocator *allocator,
                                                           beat__submitter *me, beat__arena_ring *r,
                                                           beat__arena_ring **ring)
{
    if (!beat__spin_trylock(&a->lock))
        return NULL;
    if (r == NULL)
        r = beat__arena_ring_claim(a, me);
    beat__ring_job *job = NULL;
    if (r != NULL) {
        beat__arena_block *b = NULL;
        uint32_t i = beat__arena_cursor_take(a, allocator, &r->own, r, BEAT__ARENA_RING_JOBS, &b);
        if (b != NULL)
            job = beat__arena_ring_job(b, i);
    }
    beat__spin_unlock(&a->lock);
    *ring = r;
    return job;
}

// Any outside thread with a NORMAL job to submit: the next job of its ring
// (*ring), to be filled and then published (beat__arena_publish) before it
// takes another; a thread's first ask takes the next free ring. NULL when
// every ring is another thread's, or the lock is busy or no block can be
// had: the job then goes another way (beat__arena_take, or the mempool).
BEAT__INLINE beat__ring_job *beat__arena_ring_slot(beat__submit_arena *a,
                                                   const beat_allocator *allocator,
                                                   beat__arena_ring **ring)
{
    beat__submitter *me = beat__submitter_self;
    beat__arena_ring *r = beat__arena_ring_of(a, me);
    if (BEAT__LIKELY(r != NULL)) {
        // Relaxed: the owner's cursor is written by the owner alone (by a
        // lock holder that is the owner, when it refills).
        uint32_t i = beat__atomic_load_u32(&r->own.next, BEAT__MO_RELAXED);
        if (BEAT__LIKELY(i < BEAT__ARENA_RING_JOBS)) { // no new block: no lock
            beat__atomic_store_u32(&r->own.next, i + 1, BEAT__MO_RELAXED);
            *ring = r;
            return beat__arena_ring_job((beat__arena_block *)beat__atomic_load_ptr(
                                            (void **)&r->own.block, BEAT__MO_RELAXED),
                                        i);
        }
    }
    // A thread without a ring takes the lock only when it may find one.
    if (r == NULL &&
        (!beat__arena_ring_may_claim(a) || (me == NULL && (me = beat__submitter_get()) == NULL)))
        return NULL;
    return beat__arena_ring_slot_locked(a, allocator, me, r, ring);
}

// Owner of r, after filling the ring job it took last: hands it to the
// consumers.
BEAT__INLINE void beat__arena_publish(beat__arena_ring *r)
{
    // The first publish since the owner's last wait, or since a parker's
    // membarrier, turns the parkers' membarrier on, with a fence of ours
    // (beat__arena_ring_parker_fence).
    if (BEAT__UNLIKELY(!beat__atomic_load_u32(&r->active, BEAT__MO_RELAXED))) {
        beat__atomic_store_u32(&r->active, 1, BEAT__MO_RELAXED);
        beat__fence_seq_cst();
    }
    // Relaxed load and store of the owner's own copy: it is the only writer,
    // and the shared count's line may be in a consumer's cache.
    uint64_t n = beat__atomic_load_u64(&r->own_published, BEAT__MO_RELAXED) + 1;
    beat__atomic_store_u64(&r->own_published, n, BEAT__MO_RELAXED);
    // Release: a consumer whose acquire load reads n sees the job's fields
    // and the link to its block.
    beat__atomic_store_u64(&r->published, n, BEAT__MO_RELEASE);
}

// Any thread: 1 when a ring may hold a job not consumed yet. Consumed is
// read before published, and never passes it, so a job published and not
// consumed while both are read is seen. Acquire: a consumer or a waiter
// that goes on to read the jobs or the lock sees them current; and the
// acquire of rings (pairs with its release) makes every ring it counts
// initialised.
BEAT__INLINE int beat__arena_ring_maybe_nonempty(beat__submit_arena *a)
{
    uint32_t rings = beat__atomic_load_u32(&a->rings, BEAT__MO_ACQUIRE);
    for (uint32_t i = 0; i < rings; i++) {
        beat__arena_ring *r = &a->ring[i];
        uint64_t consumed = beat__atomic_load_u64(&r->consumed, BEAT__MO_ACQUIRE);
        if (beat__atomic_load_u64(&r->published, BEAT__MO_ACQUIRE) != consumed)
            return 1;
    }
    return 0;
}

// A worker about to park, after counting itself in idle_sleepers and its
// fence, before it looks for work: the heavy side of the rings' wake
// pairing (see "Waking"), paid once per run of publishes. membarrier
// interrupts every CPU that runs a thread of this process, so it is made
// only when some owner is active: not while every owner waits
// (beat__arena_owner_waits), before any published, or again before one
// publishes again. One membarrier serves every ring.
BEAT__PRIVATE void beat__arena_ring_parker_fence(beat__submit_arena *a)
{
    if (!beat__atomic_load_u32(&a->asym, BEAT__MO_RELAXED))
        return;
    // Acquire loads, after our fence: reading 0 means either a clear (by
    // the owner's wait, or by a parker after its membarrier; both release:
    // the publishes before it are visible to our search) or a value from
    // before the owner's next first publish, whose fence then comes after
    // ours, so its checks of idle_sleepers see us. Acquire of rings: as in
    // beat__arena_ring_maybe_nonempty. A ring it does not count yet has
    // an owner whose claim comes before its first publish's fence, so
    // that fence comes after ours and, as for a 0, the owner's checks of
    // idle_sleepers see us.
    uint32_t rings = beat__atomic_load_u32(&a->rings, BEAT__MO_ACQUIRE), i;
    uint64_t set = 0; // the rings read as active (BEAT_SUBMIT_RINGS <= 64)
    for (i = 0; i < rings; i++)
        if (beat__atomic_load_u32(&a->ring[i].active, BEAT__MO_ACQUIRE))
            set |= (uint64_t)1 << i;
    if (set == 0)
        return;
    beat__membarrier();
    // Release, after the membarrier: an owner's publishes before it are
    // visible to our search, and to a parker that reads this 0. A publish
    // after it that still read active as 1 (no fence) sees our sleeper
    // count, so it wakes someone; the first that reads 0 fences again
    // (beat__arena_publish). Overwriting a 1 an owner has just stored
    // again costs it one fence more.
    for (i = 0; i < rings; i++)
        if (set & (uint64_t)1 << i)
            beat__atomic_store_u32(&a->ring[i].active, 0, BEAT__MO_RELEASE);
}

// The calling thread is about to wait for the pool's jobs: if it owns a
// ring, it publishes nothing until it returns, so parkers need not
// membarrier for its ring meanwhile; its next publish turns them back on.
BEAT__PRIVATE void beat__arena_owner_waits(beat__submit_arena *a)
{
    // Release store: a parker that reads the 0 sees every job we published
    // before it.
    beat__arena_ring *r = beat__arena_ring_of(a, beat__thread_tag());
    if (r != NULL && beat__atomic_load_u32(&r->active, BEAT__MO_RELAXED))
        beat__atomic_store_u32(&r->active, 0, BEAT__MO_RELEASE);
}

BEAT__PRIVATE void beat__arena_flush(beat__submit_arena *a, beat__arena_tally *tally);

// Lock holder of the NORMAL injection queue: moves r's cursor onto the
// next published job (into the next block when its block is used up) and
// returns how many published jobs follow from there in that block; 0 when
// every published job has been consumed.
BEAT__PRIVATE uint32_t beat__arena_ring_ready(beat__submit_arena *a, beat__arena_ring *r)
{
    uint64_t consumed = beat__atomic_load_u64(&r->consumed, BEAT__MO_RELAXED); // ours
    // The count's line is the owner's, written at every submit: read it
    // again only when the jobs seen last are all consumed (one miss per
    // take, not one per job). Acquire: pairs with the owner's release of
    // the count, which follows the jobs' fields and the link (or first)
    // that leads to their block.
    if (consumed == r->seen) {
        uint64_t published = beat__atomic_load_u64(&r->published, BEAT__MO_ACQUIRE);
        if (published == consumed)
            return 0;
        r->seen = published;
    }
    beat__arena_block *b = r->cursor.block;
    uint32_t i = r->cursor.next;
    if (b == NULL) {
        b = (beat__arena_block *)beat__atomic_load_ptr((void **)&r->first, BEAT__MO_RELAXED);
        i = 0;
    } else if (i == BEAT__ARENA_RING_JOBS) {
        beat__arena_block *next =
            (beat__arena_block *)beat__atomic_load_ptr((void **)&b->ring_next, BEAT__MO_RELAXED);
        beat__arena_tally leave = {b, BEAT__ARENA_RING_REF}; // after our last read of b
        beat__arena_flush(a, &leave);
        b = next;
        i = 0;
    }
    r->cursor.block = b;
    r->cursor.next = i;
    uint64_t k = r->seen - consumed;
    return k < BEAT__ARENA_RING_JOBS - i ? (uint32_t)k : BEAT__ARENA_RING_JOBS - i;
}

// Lock holder of the NORMAL injection queue: the ring to take from (turn,
// or the next after it with published jobs) and how many of its jobs
// are ready in its block (*ready, beat__arena_ring_ready), or NULL when
// every ring's jobs are consumed. Acquire of rings: as in
// beat__arena_ring_maybe_nonempty.
BEAT__PRIVATE beat__arena_ring *beat__arena_ring_pick(beat__submit_arena *a, uint32_t *ready)
{
    uint32_t rings = beat__atomic_load_u32(&a->rings, BEAT__MO_ACQUIRE);
    uint32_t t = a->turn;
    for (uint32_t k = 0; k < rings; k++, t = t + 1 == rings ? 0 : t + 1) {
        *ready = beat__arena_ring_ready(a, &a->ring[t]);
        if (*ready != 0) {
            a->turn = t;
            return &a->ring[t];
        }
    }
    return NULL;
}

// Lock holder of the NORMAL injection queue, starting a take: the next
// published job of the next ring in turn that has one (so each take
// serves the rings in turn), left in its ring; NULL when there is none.
// The takes that follow (beat__arena_ring_take) stay with that ring
// while it has published jobs.
BEAT__PRIVATE const beat__ring_job *beat__arena_ring_peek(beat__submit_arena *a)
{
    uint32_t rings = beat__atomic_load_u32(&a->rings, BEAT__MO_RELAXED); // as in ring_pick
    if (rings > 1)
        a->turn = a->turn + 1 >= rings ? 0 : a->turn + 1;
    uint32_t ready;
    beat__arena_ring *r = beat__arena_ring_pick(a, &ready);
    return r != NULL ? beat__arena_ring_job(r->cursor.block, r->cursor.next) : NULL;
}

// Lock holder of the NORMAL injection queue: the next published jobs of
// one ring (the one in turn, or the next after it with published jobs),
// at most max and all in one block (*block), so consecutive in memory.
// Returns the first and sets *n to how many (the jobs are not read), or
// returns NULL with *n = 0 when every published job has been consumed.
BEAT__PRIVATE beat__ring_job *beat__arena_ring_take(beat__submit_arena *a, uint32_t max,
                                                    uint32_t *n, beat__arena_block **block)
{
    uint32_t k;
    beat__arena_ring *r = beat__arena_ring_pick(a, &k);
    *n = 0;
    *block = NULL;
    if (r == NULL)
        return NULL;
    *n = k < max ? k : max;
    *block = r->cursor.block;
    uint32_t i = r->cursor.next;
    r->cursor.next = i + *n;
    // Release: a waiter that sees the jobs consumed reads the lock after it
    // and so sees it held, or released after the claim's count
    // (beat__jobs_state), as with the list's head.
    beat__atomic_store_u64(&r->consumed, beat__atomic_load_u64(&r->consumed, BEAT__MO_RELAXED) + *n,
                           BEAT__MO_RELEASE);
    return beat__arena_ring_job(r->cursor.block, i);
}

// Consumer: subtracts the tally from its block, recycling the block when
// that retires its last record.
BEAT__PRIVATE void beat__arena_flush(beat__submit_arena *a, beat__arena_tally *tally)
{
    if (tally->count == 0)
        return;
    beat__arena_block *b = tally->block;
    uint64_t n = tally->count;
    tally->count = 0;
    // Acq_rel: release orders our reads of the records (and the chain links
    // written into them) before the reuse; acquire makes the last
    // subtraction see every other consumer's, before the push passes them on.
    if (beat__atomic_fetch_sub_u64(&b->pending, n, BEAT__MO_ACQ_REL) != n)
        return;
    beat__arena_block *top =
        (beat__arena_block *)beat__atomic_load_ptr((void **)&a->free_top, BEAT__MO_RELAXED);
    do // relaxed store of the link: the release CAS publishes it
        beat__atomic_store_ptr((void **)&b->free_next, top, BEAT__MO_RELAXED);
    while (!beat__atomic_cas_ptr((void **)&a->free_top, (void **)&top, b, BEAT__MO_RELEASE,
                                 BEAT__MO_RELAXED));
}

// Consumer, after its last read of n records of block (they may be reused
// once the tally is flushed).
BEAT__INLINE void beat__arena_retire_n(beat__submit_arena *a, beat__arena_tally *tally,
                                       beat__arena_block *block, uint32_t n)
{
    if (tally->block != block) {
        beat__arena_flush(a, tally);
        tally->block = block;
    }
    tally->count += n;
}

// Frees the blocks on the free stack (memory pressure); skipped while a
// submitter holds the lock. Returns the bytes freed.
BEAT__PRIVATE size_t beat__arena_trim(beat__submit_arena *a, const beat_allocator *allocator)
{
    // Holding the lock makes us the free stack's one popper.
    if (!beat__spin_trylock(&a->lock))
        return 0;
    // Acquire: pairs with the pushes, as in beat__arena_block_get.
    beat__arena_block *b = (beat__arena_block *)beat__atomic_exchange_ptr((void **)&a->free_top,
                                                                          NULL, BEAT__MO_ACQUIRE);
    // A block on the free stack has every record handed out, so a cursor
    // still naming it (next == BEAT__ARENA_RECORDS) never reads it again.
    size_t freed = 0;
    while (b != NULL) {
        beat__arena_block *next = b->free_next;
        if (b->all_prev != NULL)
            b->all_prev->all_next = b->all_next;
        else
            a->all = b->all_next;
        if (b->all_next != NULL)
            b->all_next->all_prev = b->all_prev;
        beat__free(allocator, b, BEAT__ARENA_BLOCK_BYTES, BEAT_CACHELINE);
        freed += BEAT__ARENA_BLOCK_BYTES;
        b = next;
    }
    beat__spin_unlock(&a->lock);
    return freed;
}

// After the pool's threads are gone: frees every block.
BEAT__PRIVATE void beat__arena_destroy(beat__submit_arena *a, const beat_allocator *allocator)
{
    for (beat__arena_block *b = a->all, *next; b != NULL; b = next) {
        next = b->all_next;
        beat__free(allocator, b, BEAT__ARENA_BLOCK_BYTES, BEAT_CACHELINE);
    }
    a->all = NULL;
    a->shared.block = NULL;
    for (unsigned i = 0; i < BEAT_SUBMIT_RINGS; i++)
        a->ring[i].own.block = a->ring[i].cursor.block = a->ring[i].first = NULL;
    // The rings let go of their owners' records (a live owner keeps its own).
    for (unsigned i = 0; i < a->rings; i++) {
        beat__submitter_release((beat__submitter *)a->owner[i]);
        a->owner[i] = NULL;
    }
    a->rings = 0;
}
