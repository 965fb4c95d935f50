// libFuzzer target for the cgroup readers (src/cgroup.c and the memory
// headroom in src/psi.c): /proc/self/cgroup lines, /proc/mounts, v2 cpu.max,
// cpuset.cpus.effective, memory.max/high/current/stat, v1
// cpu.cfs_quota_us/cfs_period_us, cpuset.effective_cpus,
// memory.limit_in_bytes/usage_in_bytes/stat, and memory.pressure. These
// parsers work on files, so the target writes the input into a small tree
// in /dev/shm (a 4-CPU machine with a v2 group and v1 controllers mounted
// beside it) and runs the real readers on it: beat_topology_detect, the
// pool's default worker count, beat_pressure_locate, beat_psi_read_at and
// beat_memory_headroom_read.
//
// Input: byte 0 chooses the layout (bit 0: /proc/self/cgroup names v1
// controllers; else only the v2 group) and removes files (bits 1-7: the
// first seven below); the rest is split at 0xFF bytes into the contents of
// the files in this order, the others keeping good defaults:
//   cpu.max, memory.max, proc/self/cgroup, cpu.cfs_quota_us,
//   cpu.cfs_period_us, memory.limit_in_bytes, proc/mounts, ...
// Beyond "no crash, no out-of-bounds access, no leak": invariants of every
// result (quota finite and >= 0, default workers within 1..allowed CPUs
// and equal to ceil(quota) when that is smaller, versions 0..2, PSI either
// parsed or IO/PARSE), and, when only a number file differs from the
// defaults, the value read must be what an independent reading of the
// documented format gives: cpu.max "QUOTA [PERIOD]" or "max" (period 0,
// quota 0, garbage or >= 10^7 CPUs: no limit), cfs_quota_us/cfs_period_us
// (-1 or <= 0: none), memory.max ("max", 0, garbage: none),
// memory.limit_in_bytes (>= 2^62: none). A number file is judged by the
// first 63 bytes up to a NUL, as the readers read it (text.c: callers size
// their buffers to the files they read).
//
//   make fuzz                 (every tests/fuzz/fuzz_*.c, FUZZ_SECONDS each)
//   build/fuzz/fuzz_cgroup -max_total_time=60 build/fuzz/fuzz_cgroup.corpus
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define V2 "sys/fs/cgroup/unified/g/"
#define CPU1 "sys/fs/cgroup/cpu,cpuacct/g/"
#define MEM1 "sys/fs/cgroup/memory/g/"

enum { F_CPU_MAX, F_MEM_MAX, F_CGROUP, F_CFS_QUOTA, F_CFS_PERIOD, F_MEM_LIMIT, F_MOUNTS, F_COUNT };

typedef struct fz_file {
    const char *rel;
    const char *fallback; // the good default
} fz_file;

static const fz_file fz_files[] = {
    {V2 "cpu.max", "150000 100000\n"},
    {V2 "memory.max", "1073741824\n"},
    {"proc/self/cgroup", NULL}, // depends on the layout bit
    {CPU1 "cpu.cfs_quota_us", "50000\n"},
    {CPU1 "cpu.cfs_period_us", "100000\n"},
    {MEM1 "memory.limit_in_bytes", "536870912\n"},
    {"proc/mounts", "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid 0 0\n"
                    "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n"
                    "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n"
                    "cgroup /sys/fs/cgroup/cpuset cgroup rw,cpuset 0 0\n"},
    {V2 "cpuset.cpus.effective", "0-3\n"},
    {"sys/fs/cgroup/cpuset/g/cpuset.effective_cpus", "0-3\n"},
    {V2 "memory.high", "max\n"},
    {V2 "memory.current", "1048576\n"},
    {V2 "memory.stat", "anon 4096\nfile 8192\ninactive_file 4096\n"},
    {MEM1 "memory.usage_in_bytes", "1048576\n"},
    {MEM1 "memory.stat", "cache 8192\ntotal_inactive_file 4096\n"},
    {V2 "memory.pressure", "some avg10=1.00 avg60=0.50 avg300=0.10 total=1000\n"
                           "full avg10=0.00 avg60=0.00 avg300=0.00 total=10\n"},
};

#define FZ_NFILES (sizeof fz_files / sizeof fz_files[0])
static const char fz_cgroup_v2[] = "0::/g\n";
static const char fz_cgroup_v1[] = "5:cpu,cpuacct:/g\n4:memory:/g\n3:cpuset:/g\n0::/g\n";

static char fz_root[64];

// What each file holds now (rewritten only when that changes).
static struct {
    int present;
    size_t len;
    char *text;
} fz_disk[FZ_NFILES];

static int fz_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void fz_cleanup(void) { nftw(fz_root, fz_remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

static void fz_mkdirs(const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", fz_root, rel);
    for (char *p = path + strlen(fz_root) + 1; *p != '\0'; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
}

static void fz_write(size_t i, const char *text, size_t len, int present)
{
    if (fz_disk[i].present == present &&
        (!present || (fz_disk[i].len == len && memcmp(fz_disk[i].text, text, len) == 0)))
        return;
    char path[256];
    snprintf(path, sizeof path, "%s/%s", fz_root, fz_files[i].rel);
    if (!present) {
        unlink(path);
    } else {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || (len > 0 && write(fd, text, len) != (ssize_t)len))
            abort();
        close(fd);
        free(fz_disk[i].text);
        fz_disk[i].text = (char *)malloc(len + 1);
        if (fz_disk[i].text == NULL)
            abort();
        memcpy(fz_disk[i].text, text, len);
        fz_disk[i].len = len;
    }
    fz_disk[i].present = present;
}

static void fz_setup(void)
{
    snprintf(fz_root, sizeof fz_root, "/dev/shm/beat-fuzz-cgroup-XXXXXX");
    if (mkdtemp(fz_root) == NULL) {
        snprintf(fz_root, sizeof fz_root, "/tmp/beat-fuzz-cgroup-XXXXXX");
        if (mkdtemp(fz_root) == NULL)
            abort();
    }
    atexit(fz_cleanup);
    for (size_t i = 0; i < FZ_NFILES; i++)
        fz_mkdirs(fz_files[i].rel);
    static const char *const cpus[] = {
        "sys/devices/system/cpu/cpu0/", "sys/devices/system/cpu/cpu1/",
        "sys/devices/system/cpu/cpu2/", "sys/devices/system/cpu/cpu3/"};
    for (size_t i = 0; i < 4; i++)
        fz_mkdirs(cpus[i]);
    char path[256];
    snprintf(path, sizeof path, "%s/sys/devices/system/cpu/online", fz_root);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        abort();
    fputs("0-3\n", f);
    fclose(f);
}

// A number file as documented: blanks, digits (below 2^64), blanks, an
// optional CR and LF, nothing else; read as the readers do (63 bytes, up
// to a NUL). allow_sign: a leading '-' (v1 signed files). 1 and *v, or 0.
static int fz_number(const char *text, size_t len, int allow_sign, int *negative,
                     unsigned long long *v)
{
    char buf[64];
    size_t n = len < 63 ? len : 63;
    memcpy(buf, text, n);
    buf[n] = '\0';
    const char *s = buf;
    while (*s == ' ' || *s == '\t')
        s++;
    *negative = allow_sign && *s == '-';
    s += *negative;
    if (*s < '0' || *s > '9')
        return 0;
    unsigned long long limit = allow_sign ? 0x7fffffffffffffffULL : ~0ULL;
    *v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (*v > (limit - d) / 10)
            return 0;
        *v = *v * 10 + d;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\r')
        s++;
    if (*s == '\n')
        s++;
    return *s == '\0';
}

// cpu.max as documented: "QUOTA [PERIOD]" (PERIOD 100000 when absent).
static double fz_cpu_max(const char *text, size_t len)
{
    char *buf = (char *)malloc(len + 1);
    if (buf == NULL)
        abort();
    memcpy(buf, text, len);
    buf[len] = '\0';
    double cpus = 0;
    const char *s = buf;
    unsigned long long quota = 0, period = 100000;
    while (*s == ' ' || *s == '\t')
        s++;
    const char *digits = s;
    while (*s >= '0' && *s <= '9')
        s++;
    int ok = s > digits;
    size_t qlen = (size_t)(s - digits);
    while (*s == ' ' || *s == '\t')
        s++;
    const char *pdigits = s;
    while (*s >= '0' && *s <= '9')
        s++;
    size_t plen = (size_t)(s - pdigits);
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\r')
        s++;
    if (*s == '\n')
        s++;
    // cpu.max is read whole (not cut at 63 bytes like the number files):
    // leading zeros never cut the value off (found by this target in CI:
    // 54 zeros, then a quota of 19 digits).
    while (qlen > 1 && *digits == '0')
        digits++, qlen--;
    while (plen > 1 && *pdigits == '0')
        pdigits++, plen--;
    int neg;
    ok = ok && *s == '\0' && fz_number(digits, qlen, 0, &neg, &quota) &&
         (plen == 0 || fz_number(pdigits, plen, 0, &neg, &period));
    if (ok && quota > 0 && period > 0) {
        cpus = (double)quota / (double)period;
        if (!(cpus < 1e7))
            cpus = 0;
    }
    free(buf);
    return cpus;
}

static void fz_check_topology(const char *root, double want_quota, int check_quota)
{
    beat_topology t;
    if (beat_topology_detect(root, &t) != BEAT_OK)
        abort(); // the CPU directory is always there
    if (!isfinite(t.cpu_quota) || t.cpu_quota < 0 || t.cpu_quota >= 1e7 || t.cgroup_version < 0 ||
        t.cgroup_version > 2 || t.npus_allowed < 1 || t.npus_allowed > 4 || t.default_workers < 1 ||
        t.default_workers > t.npus_allowed)
        abort();
    if (t.cpu_quota > 0 && ceil(t.cpu_quota) < t.npus_allowed &&
        t.default_workers != (unsigned)ceil(t.cpu_quota))
        abort();
    if (check_quota && t.cpu_quota != want_quota) {
        fprintf(stderr, "quota %.17g, the file says %.17g\n", t.cpu_quota, want_quota);
        abort();
    }
    if (beat__topology_default_workers(root) != t.default_workers)
        abort();
    beat_topology_release(&t);
}

static void fz_check_memory(const char *root, unsigned long long want_limit, int check_limit)
{
    beat_pressure_files files;
    if (beat_pressure_locate(root, &files) != BEAT_OK)
        abort();
    beat_psi psi;
    char msg[96];
    beat_result r = beat_psi_read_at(root, files.pressure, &psi, msg, sizeof msg);
    if (r != BEAT_OK && r != BEAT_ERROR_IO && r != BEAT_ERROR_PARSE)
        abort();
    beat_memory_headroom room;
    if (beat_memory_headroom_read(root, &files, &room) != BEAT_OK || room.cgroup_version < 0 ||
        room.cgroup_version > 2)
        abort();
    if (check_limit && room.limit != want_limit) {
        fprintf(stderr, "limit %llu, the file says %llu\n", room.limit, want_limit);
        abort();
    }
    beat_pressure_level level = beat_pressure_level_of(r == BEAT_OK ? &psi : NULL, &room, NULL);
    if ((unsigned)level > (unsigned)BEAT_PRESSURE_CRITICAL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fz_root[0] == '\0')
        fz_setup();
    uint8_t mode = size > 0 ? data[0] : 0;
    int v1 = mode & 1;
    const uint8_t *chunk[FZ_NFILES];
    size_t len[FZ_NFILES], nchunks = 0;
    const uint8_t *p = size > 0 ? data + 1 : data, *end = data + size;
    while (size > 0 && nchunks < FZ_NFILES) {
        const uint8_t *cut = (const uint8_t *)memchr(p, 0xff, (size_t)(end - p));
        chunk[nchunks] = p;
        len[nchunks++] = (size_t)((cut != NULL ? cut : end) - p);
        if (cut == NULL)
            break;
        p = cut + 1;
    }
    int changed[FZ_NFILES];
    for (size_t i = 0; i < FZ_NFILES; i++) {
        int present = !(i < 7 && (mode >> (i + 1)) & 1);
        const char *text = fz_files[i].fallback;
        if (i == F_CGROUP)
            text = v1 ? fz_cgroup_v1 : fz_cgroup_v2;
        size_t n = strlen(text);
        changed[i] = i < nchunks || !present;
        if (i < nchunks) {
            text = (const char *)chunk[i];
            n = len[i];
        }
        fz_write(i, text, n, present);
    }
    // The differential checks hold while the layout files are the defaults.
    int layout = !changed[F_CGROUP] && !changed[F_MOUNTS];
    double quota = 0;
    int check_quota = 0;
    if (layout && !v1) {
        check_quota = 1;
        if (fz_disk[F_CPU_MAX].present)
            quota = fz_cpu_max(fz_disk[F_CPU_MAX].text, fz_disk[F_CPU_MAX].len);
    } else if (layout && v1) {
        int nq, np;
        unsigned long long q, per;
        check_quota = 1;
        if (fz_disk[F_CFS_QUOTA].present && fz_disk[F_CFS_PERIOD].present &&
            fz_number(fz_disk[F_CFS_QUOTA].text, fz_disk[F_CFS_QUOTA].len, 1, &nq, &q) &&
            fz_number(fz_disk[F_CFS_PERIOD].text, fz_disk[F_CFS_PERIOD].len, 1, &np, &per) && !nq &&
            !np && q > 0 && per > 0) {
            quota = (double)q / (double)per;
            if (!(quota < 1e7))
                quota = 0;
        }
    }
    unsigned long long limit = 0;
    int check_limit = 0, neg;
    if (layout && !v1) {
        check_limit = 1;
        if (!fz_disk[F_MEM_MAX].present ||
            !fz_number(fz_disk[F_MEM_MAX].text, fz_disk[F_MEM_MAX].len, 0, &neg, &limit))
            limit = 0;
    } else if (layout && v1) {
        check_limit = 1;
        if (!fz_disk[F_MEM_LIMIT].present ||
            !fz_number(fz_disk[F_MEM_LIMIT].text, fz_disk[F_MEM_LIMIT].len, 0, &neg, &limit) ||
            limit >= (1ULL << 62))
            limit = 0;
    }
    fz_check_topology(fz_root, quota, check_quota);
    fz_check_memory(fz_root, limit, check_limit);
    return 0;
}
