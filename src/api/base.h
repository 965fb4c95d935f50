// Shared by beat.h and beat_simd.h: version, linkage, results. Guarded on its
// own so that including both headers declares everything once.
#ifndef BEAT__BASE_H_INCLUDED
#define BEAT__BASE_H_INCLUDED

// The implementation needs GNU/POSIX declarations (futex syscall, affinity).
// In the implementation file beat.h must come before any system header, or
// the file must be compiled with -D_GNU_SOURCE.
#if (defined(BEAT_IMPLEMENTATION) || defined(BEAT_SIMD_IMPLEMENTATION)) && defined(__linux__) &&   \
    !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif

#include <stddef.h>
#include <stdint.h>

// The inline beat_pcall uses GNU atomic builtins. MSVC and other compilers
// are not supported yet.
#if !defined(__GNUC__) && !defined(__clang__)
#error "beat.h needs GCC or Clang (GNU atomic builtins); other compilers are not supported yet"
#endif

#define BEAT_VERSION_MAJOR 0
#define BEAT_VERSION_MINOR 1
#define BEAT_VERSION_PATCH 0
#define BEAT_VERSION_STRING "0.1.0"

// Linkage. BEAT_STATIC makes every function static to the implementation
// file (then each file that uses Beat must define BEAT_IMPLEMENTATION).
// BEAT_API can be set to anything else, e.g. a visibility attribute.
#ifndef BEAT_API
#ifdef BEAT_STATIC
#define BEAT_API static
#else
#define BEAT_API extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

// Results: BEAT_OK is 0, errors are negative. One list makes the enum, the
// names (beat_result_string) and the advice (beat_result_advice).
#define BEAT_RESULT_LIST(X)                                                                        \
    X(BEAT_OK, 0, "Success; nothing to do.")                                                       \
    X(BEAT_ERROR_INVALID_ARGUMENT, -1,                                                             \
      "An argument is NULL, zero or out of range; check the call against its documentation in "    \
      "beat.h (the logger, if set, names the argument).")                                          \
    X(BEAT_ERROR_OUT_OF_MEMORY, -2,                                                                \
      "An allocation failed; free memory, lower beat_config.workers, or check the allocator in "   \
      "beat_config.allocator.")                                                                    \
    X(BEAT_ERROR_THREAD_CREATE, -3,                                                                \
      "A worker thread could not be created; lower beat_config.workers or raise the process's "    \
      "thread limit (ulimit -u, pids.max of the cgroup).")                                         \
    X(BEAT_ERROR_UNSUPPORTED, -4,                                                                  \
      "The feature is compiled out (a BEAT_NO_* macro) or not available on this platform; use "    \
      "the fallback or rebuild without the macro.")                                                \
    X(BEAT_ERROR_IO, -5,                                                                           \
      "A system file could not be read; check the path and its permissions (sysfs_root in "        \
      "beat_config for tests).")                                                                   \
    X(BEAT_ERROR_PARSE, -6,                                                                        \
      "A system file had an unexpected format; the logger message names the file and the line.")   \
    X(BEAT_ERROR_SHUTDOWN, -7,                                                                     \
      "The pool is shutting down; submit work before calling beat_pool_destroy.")                  \
    X(BEAT_ERROR_DEADLOCK, -8,                                                                     \
      "The call would wait for itself (e.g. beat_pool_wait from a job of the same pool); wait "    \
      "from outside the pool or use a beat_counter inside it.")                                    \
    X(BEAT_ERROR_NO_DATA, -9,                                                                      \
      "Nothing measured yet (e.g. no run of the function has been timed); run it a few times "     \
      "first, or fall back on a default.")                                                         \
    X(BEAT_ERROR_FORKED, -10,                                                                      \
      "The pool was created before this process was forked, and its threads do not exist in "      \
      "the child; create a new pool in the child (beat_pool_destroy only frees the old one).")

typedef enum beat_result {
#define BEAT__RESULT_ENUM(name, value, advice) name = value,
    BEAT_RESULT_LIST(BEAT__RESULT_ENUM)
#undef BEAT__RESULT_ENUM
} beat_result;

// "BEAT_ERROR_OUT_OF_MEMORY" for BEAT_ERROR_OUT_OF_MEMORY; "BEAT_RESULT_UNKNOWN"
// for values outside the list. Thread safety: any thread (static strings).
BEAT_API const char *beat_result_string(beat_result r);
// One sentence saying what to do about r. Thread safety: any thread.
BEAT_API const char *beat_result_advice(beat_result r);

#ifdef __cplusplus
}
#endif

#endif // BEAT__BASE_H_INCLUDED
