// Implementation-side configuration: defaults of the user macros, platform
// facts as 0/1 macros (tested with #if so -Wundef catches typos), and the
// private linkage macros. Shared by beat.h and beat_simd.h (own guard).
#ifndef BEAT__CONFIG_H_INCLUDED
#define BEAT__CONFIG_H_INCLUDED

#include "api/base.h"

#if defined(__linux__)
#define BEAT__OS_LINUX 1
#else
#define BEAT__OS_LINUX 0
#endif

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define BEAT__ARCH_X86 1
#else
#define BEAT__ARCH_X86 0
#endif
#if defined(__aarch64__) || defined(__arm__)
#define BEAT__ARCH_ARM 1
#else
#define BEAT__ARCH_ARM 0
#endif

// ThreadSanitizer does not model atomic_thread_fence; under it the deque
// publishes with release stores instead (see deque.c).
#if defined(__SANITIZE_THREAD__)
#define BEAT__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BEAT__TSAN 1
#endif
#endif
#ifndef BEAT__TSAN
#define BEAT__TSAN 0
#endif

#ifndef BEAT_ASSERT
#include <assert.h>
#define BEAT_ASSERT(c) assert(c)
#endif

#if defined(BEAT_MALLOC) && defined(BEAT_FREE)
#elif !defined(BEAT_MALLOC) && !defined(BEAT_FREE)
#include <stdlib.h>
#define BEAT_MALLOC(size) malloc(size)
#define BEAT_FREE(ptr) free(ptr)
#else
#error "beat.h: define both BEAT_MALLOC and BEAT_FREE, or neither"
#endif

// BEAT_DEBUG: development checks (misuse reports, invariant asserts).
#ifndef BEAT_DEBUG
#ifdef NDEBUG
#define BEAT_DEBUG 0
#else
#define BEAT_DEBUG 1
#endif
#endif

#ifndef BEAT_CACHELINE
#define BEAT_CACHELINE 64
#endif

// Contexts a pool keeps for outside threads in beat_run (which then runs
// its task on the calling thread, helping the workers).
#ifndef BEAT_OUTSIDE_SLOTS
#define BEAT_OUTSIDE_SLOTS 4
#endif

// Submit rings per pool: the first outside threads to submit NORMAL jobs
// (one ring each) submit without a lock or a locked instruction; other
// outside threads take a try-lock and a list's exchange (submit_arena.c).
// An exited owner's ring goes to the next thread that asks.
#ifndef BEAT_SUBMIT_RINGS
#define BEAT_SUBMIT_RINGS 4
#endif
#if BEAT_SUBMIT_RINGS < 1 || BEAT_SUBMIT_RINGS > 64
#error "BEAT_SUBMIT_RINGS must be 1 to 64"
#endif

// Batch variants (beat_register_batch): functions per pool, and jobs per
// batch call.
#ifndef BEAT_BATCH_VARIANTS
#define BEAT_BATCH_VARIANTS 32
#endif
#ifndef BEAT_BATCH_WIDTH
#define BEAT_BATCH_WIDTH 16
#endif
#if BEAT_BATCH_WIDTH < 1 || BEAT_BATCH_VARIANTS < 1
#error "BEAT_BATCH_WIDTH and BEAT_BATCH_VARIANTS must be at least 1"
#endif

// Job priority levels (beat_submit_priority): 1, 2 or 3.
#ifndef BEAT_PRIORITIES
#define BEAT_PRIORITIES 1
#endif
#if BEAT_PRIORITIES < 1 || BEAT_PRIORITIES > 3
#error "BEAT_PRIORITIES must be 1, 2 or 3"
#endif

// Names per pool (beat_name_fn).
#ifndef BEAT_NAMES
#define BEAT_NAMES 64
#endif

// Profiler hooks: see PROFILER HOOKS in the manual. Nothing unless the
// program defines them before including the implementation.
#if defined(BEAT_PROFILE_BEGIN) != defined(BEAT_PROFILE_END)
#error "define BEAT_PROFILE_BEGIN and BEAT_PROFILE_END together"
#endif
#ifndef BEAT_PROFILE_THREAD
#define BEAT_PROFILE_THREAD(name) ((void)0)
#endif

#ifndef BEAT_HEARTBEAT_US
#define BEAT_HEARTBEAT_US 100
#endif

#if defined(__GNUC__) || defined(__clang__)
#if defined(BEAT_STATIC)
#define BEAT__DEF static __attribute__((unused)) // a program uses only some of them
#else
#define BEAT__DEF
#endif
#define BEAT__PRIVATE static __attribute__((unused))
#define BEAT__INLINE static inline __attribute__((unused))
#define BEAT__LIKELY(x) __builtin_expect(!!(x), 1)
#define BEAT__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define BEAT__NOINLINE __attribute__((noinline))
#define BEAT__ALIGNED(n) __attribute__((aligned(n)))
#define BEAT__THREAD_LOCAL __thread
#else
#error "beat.h: the implementation needs GCC or Clang (GNU builtins); MSVC is not supported yet"
#endif

// A compile-time check usable at file scope in C99 and C++.
#define BEAT__STATIC_ASSERT(cond, name) typedef char beat__static_assert_##name[(cond) ? 1 : -1]

#endif // BEAT__CONFIG_H_INCLUDED
