// Chase-Lev work-stealing deque with the C11 orderings of Lê, Pop, Cohen and
// Zappa Nardelli, "Correct and Efficient Work-Stealing for Weak Memory
// Models" (PPoPP 2013), plus the fixes found since (see ../shared research):
// the grown buffer is published with release and loaded by thieves with
// acquire, push re-reads the buffer after growing, every slot of a new buffer
// is initialised, and indices are 64-bit with signed differences so that a
// take on a fresh deque (bottom 0) is empty and wrap-around is defined.
//
// Which operations may run at the same time (X = yes):
//
//                 push_owner  pop_owner  steal  grow
//     push_owner      -           -        X     -     (grow runs inside push)
//     pop_owner       -           -        X     -
//     steal           X           X        X     X
//
// Items are non-NULL pointers. The buffer only grows; retired buffers stay
// on a list until beat__deque_destroy because a thief may still read one.
// Compiles on its own with atomics.h (tests/model/deque_model.c).
#ifndef BEAT__DEQUE_C_INCLUDED
#define BEAT__DEQUE_C_INCLUDED

#include "atomics.h"

// Memory for buffers; the pool passes its allocator shim, the model test
// passes malloc. alloc returns NULL on failure.
typedef struct beat__deque_mem {
    void *(*alloc)(size_t bytes, void *user);
    void (*release)(void *ptr, size_t bytes, void *user);
    void *user;
} beat__deque_mem;

typedef struct beat__deque_buf {
    uint64_t capacity;                    // power of two
    struct beat__deque_buf *retired_next; // owner only
    void **slots;                         // capacity slots, relaxed atomics
} beat__deque_buf;

typedef struct beat__deque {
    uint64_t top BEAT__ALIGNED(BEAT_CACHELINE);    // next to steal; CAS by thieves and owner
    uint64_t bottom BEAT__ALIGNED(BEAT_CACHELINE); // next free slot; stored by the owner only
    beat__deque_buf *buf;                          // owner stores (release), thieves load (acquire)
    beat__deque_buf *retired;                      // owner only
    beat__deque_mem mem;
} beat__deque;

typedef enum beat__steal_result {
    BEAT__STEAL_OK,
    BEAT__STEAL_EMPTY,
    BEAT__STEAL_LOST // lost a race with the owner or another thief; retrying may succeed
} beat__steal_result;

BEAT__PRIVATE beat__deque_buf *beat__deque_buf_new(const beat__deque_mem *mem, uint64_t capacity)
{
    size_t bytes = sizeof(beat__deque_buf) + (size_t)capacity * sizeof(void *);
    beat__deque_buf *buf = (beat__deque_buf *)mem->alloc(bytes, mem->user);
    if (buf == NULL)
        return NULL;
    buf->capacity = capacity;
    buf->retired_next = NULL;
    buf->slots = (void **)(void *)(buf + 1);
    // Every slot initialised: a thief racing a grow may read a slot of the
    // new buffer outside the copied range (the value is then discarded).
    for (uint64_t i = 0; i < capacity; i++)
        beat__atomic_store_ptr(&buf->slots[i], NULL, BEAT__MO_RELAXED);
    return buf;
}

BEAT__PRIVATE void beat__deque_buf_free(const beat__deque_mem *mem, beat__deque_buf *buf)
{
    mem->release(buf, sizeof(beat__deque_buf) + (size_t)buf->capacity * sizeof(void *), mem->user);
}

// capacity: a power of two >= 2. start: the initial index (0 in normal use;
// tests start near the wrap point). 0 on success, -1 out of memory.
BEAT__PRIVATE int beat__deque_init_at(beat__deque *d, uint64_t capacity, const beat__deque_mem *mem,
                                      uint64_t start)
{
    d->mem = *mem;
    d->retired = NULL;
    d->buf = beat__deque_buf_new(mem, capacity);
    d->top = start;
    d->bottom = start;
    return d->buf == NULL ? -1 : 0;
}

BEAT__PRIVATE int beat__deque_init(beat__deque *d, uint64_t capacity, const beat__deque_mem *mem)
{
    return beat__deque_init_at(d, capacity, mem, 0);
}

// Frees the buffer and every retired one. No other thread may use d.
BEAT__PRIVATE void beat__deque_destroy(beat__deque *d)
{
    beat__deque_buf *buf = d->retired;
    while (buf != NULL) {
        beat__deque_buf *next = buf->retired_next;
        beat__deque_buf_free(&d->mem, buf);
        buf = next;
    }
    if (d->buf != NULL)
        beat__deque_buf_free(&d->mem, d->buf);
    d->buf = NULL;
    d->retired = NULL;
}

// Owner: doubles the buffer, copying the live range [t, b). Returns the new
// buffer, or NULL (out of memory; the old one stays in place).
BEAT__PRIVATE beat__deque_buf *beat__deque_grow_owner(beat__deque *d, beat__deque_buf *old,
                                                      uint64_t t, uint64_t b)
{
    beat__deque_buf *buf = beat__deque_buf_new(&d->mem, old->capacity * 2);
    if (buf == NULL)
        return NULL;
    for (uint64_t i = t; i != b; i++) {
        void *item = beat__atomic_load_ptr(&old->slots[i & (old->capacity - 1)], BEAT__MO_RELAXED);
        beat__atomic_store_ptr(&buf->slots[i & (buf->capacity - 1)], item, BEAT__MO_RELAXED);
    }
    // Release: a thief that loads this buffer (acquire) sees its slots.
    beat__atomic_store_ptr((void **)&d->buf, buf, BEAT__MO_RELEASE);
    old->retired_next = d->retired;
    d->retired = old;
    return buf;
}

// Owner: pushes item. Returns the number of items that were in the deque
// before (0 = it was empty; the caller may wake a sleeper), or -1 when the
// buffer had to grow and could not (the item is not pushed).
// Hot path: no allocation except growth, never logs.
BEAT__PRIVATE int64_t beat__deque_push_owner(beat__deque *d, void *item)
{
    uint64_t b = beat__atomic_load_u64(&d->bottom, BEAT__MO_RELAXED);
    // Acquire pairs with the thieves' CAS on top, so their reads of the
    // slots they took happen before we overwrite those slots.
    uint64_t t = beat__atomic_load_u64(&d->top, BEAT__MO_ACQUIRE);
    beat__deque_buf *buf =
        (beat__deque_buf *)beat__atomic_load_ptr((void **)&d->buf, BEAT__MO_RELAXED);
    int64_t size = (int64_t)(b - t);
    if (size >= (int64_t)buf->capacity) {
        buf = beat__deque_grow_owner(d, buf, t, b); // re-read: push must use the new buffer
        if (buf == NULL)
            return -1;
    }
    beat__atomic_store_ptr(&buf->slots[b & (buf->capacity - 1)], item, BEAT__MO_RELAXED);
#if BEAT__TSAN
    // ThreadSanitizer does not see fences: publish with a release store.
    beat__atomic_store_u64(&d->bottom, b + 1, BEAT__MO_RELEASE);
#else
    // Release fence: the slot (and the item it points to) is visible to a
    // thief whose acquire load of bottom reads b + 1.
    beat__fence_release();
    beat__atomic_store_u64(&d->bottom, b + 1, BEAT__MO_RELAXED);
#endif
    return size < 0 ? 0 : size;
}

// Owner: takes the most recently pushed item, or NULL when empty.
// Hot path: no allocation, never logs.
BEAT__PRIVATE void *beat__deque_pop_owner(beat__deque *d)
{
    uint64_t b = beat__atomic_load_u64(&d->bottom, BEAT__MO_RELAXED) - 1;
    beat__deque_buf *buf =
        (beat__deque_buf *)beat__atomic_load_ptr((void **)&d->buf, BEAT__MO_RELAXED);
#if BEAT__TSAN
    beat__atomic_store_u64(&d->bottom, b, BEAT__MO_SEQ_CST);
    uint64_t t = beat__atomic_load_u64(&d->top, BEAT__MO_SEQ_CST);
#else
    beat__atomic_store_u64(&d->bottom, b, BEAT__MO_RELAXED);
    // Seq_cst fence: with the one in steal it forbids the store-buffering
    // outcome where we miss a thief's top increment and the thief misses our
    // bottom decrement, which would hand the last item to both (Lê et al.).
    beat__fence_seq_cst();
    uint64_t t = beat__atomic_load_u64(&d->top, BEAT__MO_RELAXED);
#endif
    int64_t size = (int64_t)(b - t); // items left after taking slot b, minus 1
    if (size < 0) {
        beat__atomic_store_u64(&d->bottom, b + 1, BEAT__MO_RELAXED); // empty: restore
        return NULL;
    }
    void *item = beat__atomic_load_ptr(&buf->slots[b & (buf->capacity - 1)], BEAT__MO_RELAXED);
    if (size > 0)
        return item; // more than one item: no thief can reach slot b
    // The last item: race the thieves for it on top. Seq_cst success as in
    // the paper; on failure a thief took it.
    if (!beat__atomic_cas_u64(&d->top, &t, t + 1, BEAT__MO_SEQ_CST, BEAT__MO_RELAXED))
        item = NULL;
    beat__atomic_store_u64(&d->bottom, b + 1, BEAT__MO_RELAXED); // restore either way
    return item;
}

// Any thread: takes the oldest item into *out. Hot path: never allocates or
// logs.
BEAT__PRIVATE beat__steal_result beat__deque_steal(beat__deque *d, void **out)
{
    // Acquire pairs with the CAS on top by the owner (last item) and other
    // thieves.
    uint64_t t = beat__atomic_load_u64(&d->top, BEAT__MO_ACQUIRE);
#if BEAT__TSAN
    uint64_t b = beat__atomic_load_u64(&d->bottom, BEAT__MO_SEQ_CST);
#else
    // Seq_cst fence: the other half of the store-buffering pair in pop_owner.
    beat__fence_seq_cst();
    // Acquire pairs with push's release (fence) before its bottom store, so
    // the slot we read below was written.
    uint64_t b = beat__atomic_load_u64(&d->bottom, BEAT__MO_ACQUIRE);
#endif
    if ((int64_t)(b - t) <= 0)
        return BEAT__STEAL_EMPTY;
    // Acquire pairs with the release store of a grown buffer.
    beat__deque_buf *buf =
        (beat__deque_buf *)beat__atomic_load_ptr((void **)&d->buf, BEAT__MO_ACQUIRE);
    void *item = beat__atomic_load_ptr(&buf->slots[t & (buf->capacity - 1)], BEAT__MO_RELAXED);
    // Seq_cst CAS as in the paper: claims slot t against the owner and the
    // other thieves. A failed CAS means the item we read may be stale.
    if (!beat__atomic_cas_u64(&d->top, &t, t + 1, BEAT__MO_SEQ_CST, BEAT__MO_RELAXED))
        return BEAT__STEAL_LOST;
    *out = item;
    return BEAT__STEAL_OK;
}

// Any thread: a snapshot of the number of items (may be stale at once).
BEAT__PRIVATE int64_t beat__deque_size(beat__deque *d)
{
    // Acquire on both: callers use a non-zero size to decide to steal.
    uint64_t t = beat__atomic_load_u64(&d->top, BEAT__MO_ACQUIRE);
    uint64_t b = beat__atomic_load_u64(&d->bottom, BEAT__MO_ACQUIRE);
    int64_t size = (int64_t)(b - t);
    return size < 0 ? 0 : size;
}

#endif // BEAT__DEQUE_C_INCLUDED
