// Submit arena: the task records of jobs submitted from outside the pool.
//
// Why not the mempool: a record freed by a worker goes back to the mempool
// from that worker's cache, so the next outside submit writes a line that
// sits in another CPU's cache, and the worker that pops it misses again, in
// an order no prefetcher follows. Measured with 1M jobs of 500 cycles on 2
// workers, records handed out in address order instead raised efficiency
// from 42-56 % to 67-82 % and cut the submit loop from 78-115 ms to
// 19-32 ms (README, "Single submits").
//
// So outside submits take records in address order from blocks of
// BEAT__ARENA_BLOCK_BYTES:
//
//   submitter: try-lock; next record of the current block, or a recycled
//              block, or a new one; unlock. A busy lock or a failed
//              allocation returns NULL and the caller uses the mempool, so
//              a submit never waits for another.
//   consumer:  a run record is retired into the consumer's tally; the tally
//              is subtracted from its block's pending count in one RMW when
//              the consumer meets another block or flushes its job count.
//   recycle:   the RMW that brings pending to zero (every record handed out
//              and retired) pushes the block onto a free stack; submitters
//              pop it under the lock.
//
// The free stack is a Treiber stack with any number of pushers and one
// popper at a time (the lock holder). ABA needs a block to be popped and
// pushed back between a popper's read of the head and its CAS; only the
// popper pops, so that cannot happen.
//
// Counting ahead: every job counts in the pool's job count (pool->jobs,
// what beat_pool_wait waits on). One RMW on that shared word per submit was
// a third of a submit's time (the arena's try-lock and the queue's exchange
// are the other two). So the lock holder counts the rest of a block in one
// RMW when it hands out the first record not yet counted (beat__arena_take's
// jobs argument), and the records counted but not handed out are given back
// (beat__arena_uncount) by every wait for that count before it spins and
// again once it has counted itself as a waiter in the word:
//   - a count made before that is given back by the waiter, which takes
//     the lock after counting itself, so after the count's section;
//   - a count made after it sees the waiter in its own RMW's old value, and
//     gives back all but its own record at once. While a waiter is counted,
//     submits count one record each.
// So a parked waiter never waits for records nobody submitted.
//
// A record names its block in its counter field (BEAT__TASK_ARENA; jobs
// have no counter). Blocks are freed by beat__arena_destroy, and blocks on
// the free stack by beat__arena_trim under memory pressure.

#define BEAT__ARENA_BLOCK_BYTES 16384u

typedef struct beat__arena_block {
    uint64_t pending; // records handed out or still to hand out, not retired (atomic)
    struct beat__arena_block *free_next;           // free stack link
    struct beat__arena_block *all_prev, *all_next; // every block; the lock holder's
} beat__arena_block;

// The records of a block start on the line after its header: the pending
// count, written by consumers, has its line to itself.
#define BEAT__ARENA_RECORDS                                                                        \
    ((BEAT__ARENA_BLOCK_BYTES - BEAT_CACHELINE) / (uint32_t)sizeof(beat__task))
BEAT__STATIC_ASSERT(sizeof(beat__arena_block) <= BEAT_CACHELINE, arena_header_fits_a_line);

typedef struct beat__submit_arena {
    uint32_t lock BEAT__ALIGNED(BEAT_CACHELINE); // 1 while a submitter takes a record
    uint32_t next;                               // next record of current (lock holder)
    uint32_t counted; // records of current counted in the jobs word so far (lock holder; >= next)
    beat__arena_block *current; // block being handed out, NULL before the first
    beat__arena_block *all;     // every block, newest first (lock holder)
    beat__arena_block *free_top BEAT__ALIGNED(BEAT_CACHELINE); // recycled blocks
} beat__submit_arena;

// A consumer's records retired and not yet subtracted from their block.
typedef struct beat__arena_tally {
    beat__arena_block *block;
    uint32_t count;
} beat__arena_tally;

BEAT__PRIVATE void beat__arena_init(beat__submit_arena *a) { memset(a, 0, sizeof *a); }

BEAT__INLINE beat__task *beat__arena_record(beat__arena_block *b, uint32_t i)
{
    return (beat__task *)(void *)((unsigned char *)b + BEAT_CACHELINE) + i;
}

// Lock holder: a block to hand out from, recycled or new, or NULL.
BEAT__PRIVATE beat__arena_block *beat__arena_block_get(beat__submit_arena *a,
                                                       const beat_allocator *allocator)
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
    // Relaxed: no record of b is out, so no consumer touches the count
    // until a record is published by the queue's release.
    beat__atomic_store_u64(&b->pending, BEAT__ARENA_RECORDS, BEAT__MO_RELAXED);
    return b;
}

// Lock holder: makes record a->next of the current block counted in *jobs,
// a counter word (see "Counting ahead" above).
BEAT__INLINE void beat__arena_count(beat__submit_arena *a, uint64_t *jobs)
{
    if (a->next != a->counted)
        return;
    uint64_t ahead = BEAT__ARENA_RECORDS - a->next;
    // Relaxed: the waiters only choose how far to count; one counted after
    // this load shows in the RMW's old value below.
    if (beat__atomic_load_u64(jobs, BEAT__MO_RELAXED) & BEAT__WAITERS)
        ahead = 1;
    // Relaxed, as a single submit's count in beat__submit: the queue's
    // release push of each record orders its count before its decrement.
    // The waiter protocol needs only that RMWs on one word are totally ordered.
    uint64_t old = beat__atomic_fetch_add_u64(jobs, ahead, BEAT__MO_RELAXED);
    if ((old & BEAT__WAITERS) && ahead > 1) {
        // A waiter came in between: keep only our record counted.
        // Relaxed: that record keeps the count above zero, so no waiter
        // is to be woken by this subtraction.
        beat__atomic_fetch_sub_u64(jobs, ahead - 1, BEAT__MO_RELAXED);
        ahead = 1;
    }
    a->counted = a->next + (uint32_t)ahead;
}

// Any thread: an unused record and its block (*block), counted in the job
// count *jobs (maybe with the rest of its block, see "Counting ahead"), or
// NULL when another submitter holds the lock or no block can be allocated.
BEAT__PRIVATE beat__task *beat__arena_take(beat__submit_arena *a, const beat_allocator *allocator,
                                           uint64_t *jobs, beat__arena_block **block)
{
    // The lock hands over current, next, counted and the block list.
    if (!beat__spin_trylock(&a->lock))
        return NULL;
    beat__task *t = NULL;
    if (a->current == NULL || a->next == BEAT__ARENA_RECORDS) {
        // The old block's records are all out: its consumers recycle it.
        a->current = beat__arena_block_get(a, allocator);
        a->next = 0;
        a->counted = 0;
    }
    if (a->current != NULL) {
        beat__arena_count(a, jobs);
        t = beat__arena_record(a->current, a->next++);
        *block = a->current;
    }
    beat__spin_unlock(&a->lock);
    return t;
}

// Any thread: forgets the records counted ahead and returns how many, for
// the caller to subtract from the job count. With wait == 0, returns 0 at
// once when a submitter holds the lock; otherwise waits for it (a holder's
// turn is a few instructions, or one block allocation).
BEAT__PRIVATE uint64_t beat__arena_uncount(beat__submit_arena *a, int wait)
{
    if (wait)
        while (!beat__spin_trylock(&a->lock))
            beat__thread_yield(); // the holder may be preempted
    else if (!beat__spin_trylock(&a->lock))
        return 0;
    uint64_t ahead = a->counted - a->next;
    a->counted = a->next;
    beat__spin_unlock(&a->lock);
    return ahead;
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

// Consumer, after copying a record's fields (the record may be reused once
// the tally is flushed).
BEAT__INLINE void beat__arena_retire(beat__submit_arena *a, beat__arena_tally *tally,
                                     beat__arena_block *block)
{
    if (tally->block != block) {
        beat__arena_flush(a, tally);
        tally->block = block;
    }
    tally->count++;
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
    size_t freed = 0;
    while (b != NULL) {
        beat__arena_block *next = b->free_next;
        if (b == a->current) // recycled while still current (all its records ran)
            a->current = NULL;
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
    a->current = NULL;
}
