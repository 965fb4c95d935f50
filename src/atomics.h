// Atomics: every access to shared mutable state goes through these, with the
// memory order written at the call site (Concurrency Kit / liburcu habit).
// Plain integer and pointer fields accessed through GCC/Clang __atomic
// builtins, so no _Atomic appears anywhere and C++ compiles the same code.
// Compiles on its own (with config.h): the deque model test uses it bare.
#ifndef BEAT__ATOMICS_H_INCLUDED
#define BEAT__ATOMICS_H_INCLUDED

#include "config.h"

#define BEAT__MO_RELAXED __ATOMIC_RELAXED
#define BEAT__MO_ACQUIRE __ATOMIC_ACQUIRE
#define BEAT__MO_RELEASE __ATOMIC_RELEASE
#define BEAT__MO_ACQ_REL __ATOMIC_ACQ_REL
#define BEAT__MO_SEQ_CST __ATOMIC_SEQ_CST

#define BEAT__ATOMIC_OPS(T, name)                                                                  \
    BEAT__INLINE T beat__atomic_load_##name(const T *p, int mo) { return __atomic_load_n(p, mo); } \
    BEAT__INLINE void beat__atomic_store_##name(T *p, T v, int mo) { __atomic_store_n(p, v, mo); } \
    BEAT__INLINE T beat__atomic_exchange_##name(T *p, T v, int mo)                                 \
    {                                                                                              \
        return __atomic_exchange_n(p, v, mo);                                                      \
    }                                                                                              \
    /* Strong CAS: on failure *expected receives the current value. */                             \
    BEAT__INLINE int beat__atomic_cas_##name(T *p, T *expected, T desired, int mo_ok, int mo_fail) \
    {                                                                                              \
        return __atomic_compare_exchange_n(p, expected, desired, 0, mo_ok, mo_fail);               \
    }

#define BEAT__ATOMIC_ARITH(T, name)                                                                \
    BEAT__INLINE T beat__atomic_fetch_add_##name(T *p, T v, int mo)                                \
    {                                                                                              \
        return __atomic_fetch_add(p, v, mo);                                                       \
    }                                                                                              \
    BEAT__INLINE T beat__atomic_fetch_sub_##name(T *p, T v, int mo)                                \
    {                                                                                              \
        return __atomic_fetch_sub(p, v, mo);                                                       \
    }                                                                                              \
    BEAT__INLINE T beat__atomic_fetch_or_##name(T *p, T v, int mo)                                 \
    {                                                                                              \
        return __atomic_fetch_or(p, v, mo);                                                        \
    }                                                                                              \
    BEAT__INLINE T beat__atomic_fetch_and_##name(T *p, T v, int mo)                                \
    {                                                                                              \
        return __atomic_fetch_and(p, v, mo);                                                       \
    }

BEAT__ATOMIC_OPS(uint32_t, u32)
BEAT__ATOMIC_ARITH(uint32_t, u32)
BEAT__ATOMIC_OPS(uint64_t, u64)
BEAT__ATOMIC_ARITH(uint64_t, u64)
BEAT__ATOMIC_OPS(int64_t, i64)
BEAT__ATOMIC_ARITH(int64_t, i64)
// Through a typedef so that "const T *" reads "void *const *".
typedef void *beat__ptr;
BEAT__ATOMIC_OPS(beat__ptr, ptr)
// Function pointers go through one generic code-pointer type: converting
// between function pointer types is defined, to and from void * is not.
typedef void (*beat__code)(void);
BEAT__ATOMIC_OPS(beat__code, code)

#undef BEAT__ATOMIC_OPS
#undef BEAT__ATOMIC_ARITH

// Fences, named by what they order. ThreadSanitizer does not model fences
// (and gcc refuses them under -fsanitize=thread -Werror), so sanitizer
// builds use an RMW of that order on a dummy word instead: still a full
// barrier on the hardware, and the code paths that publish data do not
// rely on fences under TSan (see the deque).
#if BEAT__TSAN
static uint32_t beat__fence_dummy;
BEAT__INLINE void beat__fence_acquire(void)
{
    __atomic_fetch_add(&beat__fence_dummy, 0, __ATOMIC_ACQUIRE);
}
BEAT__INLINE void beat__fence_release(void)
{
    __atomic_fetch_add(&beat__fence_dummy, 0, __ATOMIC_RELEASE);
}
BEAT__INLINE void beat__fence_seq_cst(void)
{
    __atomic_fetch_add(&beat__fence_dummy, 0, __ATOMIC_SEQ_CST);
}
#else
BEAT__INLINE void beat__fence_acquire(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
BEAT__INLINE void beat__fence_release(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }
BEAT__INLINE void beat__fence_seq_cst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#endif

// Orders this thread's memory accesses for the compiler only (no
// instruction): the light side of an asymmetric fence (beat__membarrier).
BEAT__INLINE void beat__compiler_barrier(void) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }

// A spin-wait hint: pause on x86, yield on ARM, nothing elsewhere.
BEAT__INLINE void beat__cpu_relax(void)
{
#if BEAT__ARCH_X86
    __builtin_ia32_pause();
#elif BEAT__ARCH_ARM
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

// Locks on a uint32_t word, 0 free and 1 held, for short sections: a
// holder's turn is a few loads and stores. Taking one is an acquire that
// pairs with the release of beat__spin_unlock, so each holder sees what the
// previous holders wrote under it.
//
// beat__spin_trylock takes it or returns 0 at once: for queues and pools
// where who finds it held does something else (another queue, the
// mempool, a later try) instead of waiting.
BEAT__INLINE int beat__spin_trylock(uint32_t *lock)
{
    uint32_t unlocked = 0;
    return beat__atomic_cas_u32(lock, &unlocked, 1, BEAT__MO_ACQUIRE, BEAT__MO_RELAXED);
}

// beat__spin_lock waits for it: for rare writer sections (the batch-variant
// and name tables). Readers of what it guards take no lock.
BEAT__INLINE void beat__spin_lock(uint32_t *lock)
{
    while (!beat__spin_trylock(lock))
        beat__cpu_relax();
}

BEAT__INLINE void beat__spin_unlock(uint32_t *lock)
{
    beat__atomic_store_u32(lock, 0, BEAT__MO_RELEASE);
}

#endif // BEAT__ATOMICS_H_INCLUDED
