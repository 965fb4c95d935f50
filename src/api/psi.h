// ---------------------------------------------------------------------------
// PSI: memory pressure (Linux pressure stall information), cgroup memory
// headroom, and a pressure level (none..critical) made of the two.
//
// A pressure file (/proc/pressure/memory for the whole machine,
// memory.pressure in every cgroup v2 group for that group) holds
//     some avg10=1.52 avg60=0.40 avg300=0.09 total=2875331
//     full avg10=0.31 avg60=0.08 avg300=0.02 total=598210
// "some" is the share of wall time (percent, averaged over 10, 60 and 300
// seconds) in which at least one task of the group waited for memory
// (reclaim, refaults, swap-in); "full" the share in which all its non-idle
// tasks did at once, so nothing productive ran. total: stall time so far,
// in microseconds. Kernels without "full" for a resource print one line.
//
// Every reader takes a root directory (NULL, "" or "/" = the live system)
// and reads the files below it, so tests and beat_config.sysfs_root point
// them at fake trees. Readers use open/read, no stdio; none logs.
//
// BEAT_NO_PSI (set it where the implementation is compiled) leaves the
// readers out: they return BEAT_ERROR_UNSUPPORTED. The pure pieces (the
// thresholds, beat_pressure_level_of, beat_pressure_level_name) remain.
#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

// One parsed pressure file.
typedef struct beat_psi {
    double some_avg10, some_avg60, some_avg300; // percent, 0..100
    double full_avg10, full_avg60, full_avg300; // percent, 0..100; 0 without full
    unsigned long long some_total, full_total;  // microseconds stalled
    int has_full;                               // 1 when the file had a full line
} beat_psi;

// Reads and parses a pressure file of the live system. path NULL picks one
// as beat_pressure_locate does: the process's cgroup v2 memory.pressure
// when it exists, else /proc/pressure/memory. Same as
// beat_psi_read_at(NULL, path, out, NULL, 0). Thread safety: any thread.
BEAT_API beat_result beat_psi_read(const char *path, beat_psi *out);

// Reads and parses the pressure file path below root (root NULL, "" or
// "/": the live system, and path as given, relative to the working
// directory unless absolute). path NULL: the file beat_pressure_locate
// picks below root (a temporary allocation of about 100 KB; to read often,
// locate once and pass files.pressure).
// The parser is strict: line 1 "some", then optionally line 2 "full", each
// exactly "avg10=X avg60=X avg300=X total=N" (blank-separated; X a decimal
// number from 0 to 100 with at most 9 decimals, N below 2^64), lines ending
// in LF or CRLF (the last may end without one). Anything else is an error.
// Errors: INVALID_ARGUMENT (out NULL), OUT_OF_MEMORY (path NULL only), IO
// (missing, a directory, not readable, PSI disabled in the kernel), PARSE.
// On error *out is zeroed and, when msg_cap > 0, msg holds one line naming
// the file and the problem ("/proc/pressure/memory: line 2: avg10 is not a
// number from 0 to 100"), cut to msg_cap; on success msg is "".
// Thread safety: any thread.
BEAT_API beat_result beat_psi_read_at(const char *root, const char *path, beat_psi *out, char *msg,
                                      size_t msg_cap);

// Room for one path in beat_pressure_files.
#define BEAT_PSI_PATH_BYTES 4096

// Where this process's memory pressure and memory cgroup files are. Paths
// are below the root they were located under.
typedef struct beat_pressure_files {
    // The pressure file: memory.pressure of the process's cgroup v2 group
    // (the "0::" line of /proc/self/cgroup, under the cgroup2 mount named in
    // /proc/mounts) when that file exists, else "/proc/pressure/memory"
    // (even when that is missing too: reading it then says so).
    char pressure[BEAT_PSI_PATH_BYTES];
    // The memory controller's group directory: the "memory" line's group
    // under the v1 memory mount, else the v2 group; "" when neither.
    char memory_group[BEAT_PSI_PATH_BYTES];
    unsigned memory_mount_len; // memory_group[0..len) is the mount point
    int memory_version;        // 0 (no memory group found), 1 or 2
} beat_pressure_files;

// Finds the files above through proc/self/cgroup and proc/mounts below
// root. Missing or malformed files only mean "none found". Uses a
// temporary allocation of about 100 KB (proc/mounts can be long).
// Errors: INVALID_ARGUMENT (out NULL), OUT_OF_MEMORY (*out zeroed).
// Thread safety: any thread.
BEAT_API beat_result beat_pressure_locate(const char *root, beat_pressure_files *out);

// How close the process's memory cgroup is to its limit. Of the groups
// from the process's own up to the mount point that have a limit, the
// numbers are those of the one whose working set (current - inactive_file,
// what kubelet calls it) is the largest fraction of its limit; with no
// limit anywhere, the own group's numbers and limit 0. Zeroed = unknown.
typedef struct beat_memory_headroom {
    unsigned long long current;       // bytes charged: v2 memory.current,
                                      // v1 memory.usage_in_bytes
    unsigned long long inactive_file; // of which inactive page cache, the
                                      // first to be reclaimed: memory.stat
                                      // inactive_file (v1 total_inactive_file);
                                      // 0 when not known
    unsigned long long limit;         // bytes; 0 = no limit. v2: the smaller of
                                      // memory.high and memory.max ("max" =
                                      // none); v1: memory.limit_in_bytes (2^62
                                      // or more = none); garbage or 0 = none
    int cgroup_version;               // 0 (no memory cgroup found), 1 or 2
} beat_memory_headroom;

// Reads the headroom of the group in files (NULL: beat_pressure_locate
// first, with its allocation) below root. With files given it allocates
// nothing and opens at most four files per group level; missing or
// malformed files count as "no limit" (or skip that level for
// current). Errors: INVALID_ARGUMENT (out NULL), OUT_OF_MEMORY (files
// NULL only); no cgroup is not an error (cgroup_version 0, no limit). On
// error *out is zeroed. Thread safety: any thread.
BEAT_API beat_result beat_memory_headroom_read(const char *root, const beat_pressure_files *files,
                                               beat_memory_headroom *out);

// A kernel PSI trigger, so that a monitor can sleep in poll() until the
// pressure rises instead of sampling: the kernel wakes it (POLLPRI) when
// tasks stalled for stall_us or more within any window_us (at most one
// event per window). Suggested: stall 100000 (5 % of the window, the LOW
// "some" threshold) over BEAT_PSI_TRIGGER_WINDOW_US.
#define BEAT_PSI_TRIGGER_WINDOW_US 2000000u

// Opens the pressure file path below root (NULL: as beat_pressure_locate
// picks) read-write and non-blocking, and writes the trigger "some
// <stall_us> <window_us>" ("full ..." when full != 0) to it. On success *fd
// is the trigger: poll it for POLLPRI (an event: read the pressure now);
// POLLERR means the trigger is gone (its cgroup was removed); close(*fd)
// removes it. The kernel accepts windows up to 10 s; without
// CAP_SYS_RESOURCE (since Linux 6.4; earlier kernels refuse unprivileged
// triggers) only whole multiples of 2 s, since such triggers
// ride on the 2 s averaging instead of a real-time thread.
// Errors: INVALID_ARGUMENT (fd NULL, stall_us 0 or above window_us,
// window_us above 10 s), OUT_OF_MEMORY (path NULL only), IO (the file
// cannot be opened), UNSUPPORTED (not a kernel pressure file, e.g. in a
// fake tree; the kernel refused the trigger: EINVAL, EPERM, EOPNOTSUPP; or
// not Linux). msg as in beat_psi_read_at. On error *fd is -1.
// Thread safety: any thread.
BEAT_API beat_result beat_psi_trigger_open(const char *root, const char *path, int full,
                                           unsigned stall_us, unsigned window_us, int *fd,
                                           char *msg, size_t msg_cap);

// How hard memory is pressed, from nothing to "about to run out".
typedef enum beat_pressure_level {
    BEAT_PRESSURE_NONE = 0,
    BEAT_PRESSURE_LOW = 1,
    BEAT_PRESSURE_MEDIUM = 2,
    BEAT_PRESSURE_HIGH = 3,
    BEAT_PRESSURE_CRITICAL = 4
} beat_pressure_level;

// Where each level begins, for each signal: element i is the value at
// which level i + 1 (LOW, MEDIUM, HIGH, CRITICAL) is reached (value >=
// threshold). A signal gives the highest level whose threshold it reaches;
// a threshold that cannot be reached (e.g. 1e9, or NaN) turns that level
// off for that signal. Defaults (beat_pressure_thresholds_default):
//
//   signal                         LOW   MEDIUM  HIGH  CRITICAL
//   some avg10 (percent)            5      10     20      40
//   full avg10 (percent)            2       5     10      20
//   working set / limit            0.80   0.90   0.95    0.98
//
// Why: glib's memory monitor calls "some" 3.5 % and 5 % low and medium and
// "full" 5 % critical (over 2 s windows; avg10 is smoother, so a little
// higher here); systemd-oomd by default kills at 60 % pressure held for
// 30 s, which a runtime that can shed parallelism should never wait for. The working set leaves out
// inactive page cache, so a container full of cache is not "pressed";
// above 0.98 of memory.high the kernel throttles, of memory.max it kills.
typedef struct beat_pressure_thresholds {
    double some_avg10[4]; // percent of time some tasks stalled
    double full_avg10[4]; // percent of time all non-idle tasks stalled
    double usage[4];      // (current - inactive_file) / limit, 0..1
} beat_pressure_thresholds;

// The defaults in the table above. Thread safety: any thread.
BEAT_API beat_pressure_thresholds beat_pressure_thresholds_default(void);

// The level: the highest of what some avg10, full avg10 (when has_full)
// and the headroom's usage (when its limit is not 0) reach. psi or headroom NULL: that signal is
// left out; thresholds NULL: the defaults. Pure: reads nothing but its arguments. Thread safety:
// any thread.
BEAT_API beat_pressure_level beat_pressure_level_of(const beat_psi *psi,
                                                    const beat_memory_headroom *headroom,
                                                    const beat_pressure_thresholds *thresholds);

// "none", "low", "medium", "high", "critical"; "unknown" for other values.
// Thread safety: any thread (static strings).
BEAT_API const char *beat_pressure_level_name(beat_pressure_level level);

#ifdef __cplusplus
}
#endif
