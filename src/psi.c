// PSI: the pressure file parser, where this process's files are (cgroup.c
// finds the groups), cgroup memory headroom, kernel PSI triggers and the
// pressure level. See api/psi.h for the file format and the contracts.
//
// Messages are built with text.c's append helpers (no stdio): the readers
// write "FILE: " and the parser appends "line N: problem".
#include "config.h"
#include "text.c"
#include "cgroup.c"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#if BEAT__OS_LINUX && !defined(BEAT_NO_PSI)
#include <sys/vfs.h>
#endif

#define BEAT__PSI_FILE_BYTES 1024          // a pressure file is about 100 bytes
#define BEAT__PSI_LINE_MAX 255             // longest line the parser accepts
#define BEAT__PSI_DECIMALS 9               // most digits after the point
#define BEAT__PSI_STAT_BYTES 4096          // memory.stat: inactive_file is early
#define BEAT__PSI_V1_NO_LIMIT (1ULL << 62) // v1 says 2^63 - 4096 for none
#define BEAT__PSI_WINDOW_MAX_US 10000000u  // the kernel's largest window
#define BEAT__PSI_PROC_FILE "/proc/pressure/memory"

// ---------------------------------------------------------------------------
// The level (pure; present even with BEAT_NO_PSI)

BEAT__DEF beat_pressure_thresholds beat_pressure_thresholds_default(void)
{
    beat_pressure_thresholds t = {
        {5.0, 10.0, 20.0, 40.0}, {2.0, 5.0, 10.0, 20.0}, {0.80, 0.90, 0.95, 0.98}};
    return t;
}

// The highest level whose threshold value reaches (0 for none).
BEAT__PRIVATE int beat__pressure_rank(double value, const double threshold[4])
{
    int level = 0;
    for (int i = 0; i < 4; i++)
        if (value >= threshold[i])
            level = i + 1;
    return level;
}

// The working set's share of the limit (0 without a limit).
BEAT__PRIVATE double beat__pressure_usage(const beat_memory_headroom *h)
{
    if (h->limit == 0)
        return 0.0;
    unsigned long long cache = h->inactive_file < h->current ? h->inactive_file : h->current;
    return (double)(h->current - cache) / (double)h->limit;
}

BEAT__DEF beat_pressure_level beat_pressure_level_of(const beat_psi *psi,
                                                     const beat_memory_headroom *headroom,
                                                     const beat_pressure_thresholds *thresholds)
{
    beat_pressure_thresholds defaults = beat_pressure_thresholds_default();
    const beat_pressure_thresholds *t = thresholds != NULL ? thresholds : &defaults;
    int level = 0, l;
    if (psi != NULL) {
        l = beat__pressure_rank(psi->some_avg10, t->some_avg10);
        level = l > level ? l : level;
        l = psi->has_full ? beat__pressure_rank(psi->full_avg10, t->full_avg10) : 0;
        level = l > level ? l : level;
    }
    if (headroom != NULL && headroom->limit != 0) {
        l = beat__pressure_rank(beat__pressure_usage(headroom), t->usage);
        level = l > level ? l : level;
    }
    return (beat_pressure_level)level;
}

BEAT__DEF const char *beat_pressure_level_name(beat_pressure_level level)
{
    switch (level) {
    case BEAT_PRESSURE_NONE:
        return "none";
    case BEAT_PRESSURE_LOW:
        return "low";
    case BEAT_PRESSURE_MEDIUM:
        return "medium";
    case BEAT_PRESSURE_HIGH:
        return "high";
    case BEAT_PRESSURE_CRITICAL:
        return "critical";
    }
    return "unknown";
}

#ifndef BEAT_NO_PSI

// ---------------------------------------------------------------------------
// The parser

// Appends "line N: " a b to msg (cap bytes); msg may be NULL.
BEAT__PRIVATE void beat__psi_line_error(char *msg, size_t cap, unsigned line, const char *a,
                                        const char *b)
{
    if (msg == NULL || cap == 0)
        return;
    if (line > 0) {
        char number[24] = "";
        beat__text_append_u64(number, sizeof number, line);
        beat__text_append_cut(msg, cap, "line ");
        beat__text_append_cut(msg, cap, number);
        beat__text_append_cut(msg, cap, ": ");
    }
    beat__text_append_cut(msg, cap, a);
    beat__text_append_cut(msg, cap, b);
}

// True at the end of a field: a blank or the end of the line.
BEAT__PRIVATE int beat__psi_field_end(const char *s)
{
    return *s == '\0' || *s == ' ' || *s == '\t';
}

// Parses a percentage "D+[.D{1,9}]" from 0 to 100 at *s, which must end
// the field, as beat__text_parse_u64 does integers.
BEAT__PRIVATE int beat__psi_parse_avg(const char **s, double *out)
{
    const char *p = *s;
    unsigned long long whole, fraction = 0;
    double scale = 1.0;
    if (!beat__text_parse_u64(&p, 100, &whole))
        return 0;
    if (*p == '.') {
        const char *start = ++p;
        if (!beat__text_parse_u64(&p, ~0ULL, &fraction) || p - start > BEAT__PSI_DECIMALS)
            return 0;
        for (const char *d = start; d < p; d++)
            scale *= 10.0;
    }
    if ((whole == 100 && fraction != 0) || !beat__psi_field_end(p))
        return 0;
    *out = (double)whole + (double)fraction / scale;
    *s = p;
    return 1;
}

// Parses " name=" at *s (at least one blank first); 1 when it is there.
BEAT__PRIVATE int beat__psi_parse_key(const char **s, const char *name)
{
    const char *p = *s;
    size_t len = strlen(name);
    if (*p != ' ' && *p != '\t')
        return 0;
    p = beat__text_skip_blank(p);
    if (strncmp(p, name, len) != 0 || p[len] != '=')
        return 0;
    *s = p + len + 1;
    return 1;
}

// Parses the fields after "some" or "full" in the NUL-terminated line:
// the three averages and the total. Returns 1, or 0 with the problem
// appended to msg.
BEAT__PRIVATE int beat__psi_parse_fields(const char *s, unsigned line, double avg[3],
                                         unsigned long long *total, char *msg, size_t cap)
{
    static const char *const names[3] = {"avg10", "avg60", "avg300"};
    for (int i = 0; i < 3; i++) {
        if (!beat__psi_parse_key(&s, names[i])) {
            beat__psi_line_error(msg, cap, line, names[i], "= expected");
            return 0;
        }
        if (!beat__psi_parse_avg(&s, &avg[i])) {
            beat__psi_line_error(msg, cap, line, names[i], " is not a number from 0 to 100");
            return 0;
        }
    }
    if (!beat__psi_parse_key(&s, "total")) {
        beat__psi_line_error(msg, cap, line, "total", "= expected");
        return 0;
    }
    if (!beat__text_parse_u64(&s, ~0ULL, total) || !beat__psi_field_end(s)) {
        beat__psi_line_error(msg, cap, line, "total", " is not a whole number below 2^64");
        return 0;
    }
    if (*beat__text_skip_blank(s) != '\0') {
        beat__psi_line_error(msg, cap, line, "unexpected text after total", "");
        return 0;
    }
    return 1;
}

// Parses one line (len bytes, no line end) into out; seen tells which
// lines came before (1 some, 2 full). Returns 1, or 0 with msg appended.
BEAT__PRIVATE int beat__psi_parse_line(const char *text, size_t len, unsigned line, int *seen,
                                       beat_psi *out, char *msg, size_t cap)
{
    char buf[BEAT__PSI_LINE_MAX + 1];
    if (len == 0) {
        beat__psi_line_error(msg, cap, line, "empty line", "");
        return 0;
    }
    if (len > BEAT__PSI_LINE_MAX) {
        beat__psi_line_error(msg, cap, line, "longer than 255 characters", "");
        return 0;
    }
    if (memchr(text, '\0', len) != NULL) {
        beat__psi_line_error(msg, cap, line, "holds a NUL byte", "");
        return 0;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    int full = strncmp(buf, "full", 4) == 0;
    if ((!full && strncmp(buf, "some", 4) != 0) || (buf[4] != ' ' && buf[4] != '\t')) {
        beat__psi_line_error(msg, cap, line, "\"some\" or \"full\" expected", "");
        return 0;
    }
    if ((*seen & (full ? 2 : 1)) != 0) {
        beat__psi_line_error(msg, cap, line, full ? "a second \"full\"" : "a second \"some\"",
                             " line");
        return 0;
    }
    if (full && *seen == 0) {
        beat__psi_line_error(msg, cap, line, "\"full\" before the \"some\" line", "");
        return 0;
    }
    double avg[3];
    unsigned long long total;
    if (!beat__psi_parse_fields(buf + 4, line, avg, &total, msg, cap))
        return 0;
    if (full) {
        out->full_avg10 = avg[0], out->full_avg60 = avg[1], out->full_avg300 = avg[2];
        out->full_total = total;
        out->has_full = 1;
    } else {
        out->some_avg10 = avg[0], out->some_avg60 = avg[1], out->some_avg300 = avg[2];
        out->some_total = total;
    }
    *seen |= full ? 2 : 1;
    return 1;
}

// Parses the pressure file text[0..len) (need not be NUL-terminated; NUL
// bytes in it are errors) into *out. Returns BEAT_OK, or BEAT_ERROR_PARSE
// with *out zeroed and "line N: problem" appended to msg (cap bytes; msg
// may be NULL). Exposed for the fuzzer.
BEAT__PRIVATE beat_result beat__psi_parse(const char *text, size_t len, beat_psi *out, char *msg,
                                          size_t cap)
{
    memset(out, 0, sizeof *out);
    int seen = 0;
    unsigned line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *start = text + pos;
        const char *nl = (const char *)memchr(start, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - start) : len - pos;
        pos += n + (nl != NULL ? 1u : 0u);
        if (n > 0 && start[n - 1] == '\r')
            n--; // CRLF (or a CR at the very end)
        if (!beat__psi_parse_line(start, n, ++line, &seen, out, msg, cap)) {
            memset(out, 0, sizeof *out);
            return BEAT_ERROR_PARSE;
        }
    }
    if (seen == 0) {
        beat__psi_line_error(msg, cap, 0, "empty file (no \"some\" line)", "");
        return BEAT_ERROR_PARSE;
    }
    return BEAT_OK;
}

// ---------------------------------------------------------------------------
// Files

// Clears msg and, when msg_cap allows, writes "name: ".
BEAT__PRIVATE void beat__psi_msg_file(char *msg, size_t cap, const char *name)
{
    if (msg == NULL || cap == 0)
        return;
    msg[0] = '\0';
    beat__text_append_cut(msg, cap, name);
    beat__text_append_cut(msg, cap, ": ");
}

// Why a file could not be opened or read, from errno.
BEAT__PRIVATE const char *beat__psi_reason(int err)
{
    switch (err) {
    case 0:
        return "the path is too long";
    case ENOENT:
        return "no such file";
    case ENOTDIR:
        return "a part of the path is not a directory";
    case EISDIR:
        return "is a directory, not a pressure file";
    case EACCES:
    case EPERM:
        return "permission denied";
    case EOPNOTSUPP:
        return "PSI is disabled in this kernel (boot with psi=1)";
    case ENAMETOOLONG:
        return "the path is too long";
    default:
        return "cannot be read";
    }
}

// The live system: NULL, "" or "/".
BEAT__PRIVATE int beat__psi_is_live(const char *root)
{
    return root == NULL || root[0] == '\0' || (root[0] == '/' && root[1] == '\0');
}

// The root to read path under: on the live system "." for a relative path
// (so it is relative to the working directory), else root. The full path
// goes to full (cap bytes) for messages; returns -1 when it does not fit.
BEAT__PRIVATE int beat__psi_where(const char *root, const char *path, const char **read_root,
                                  char *full, size_t cap)
{
    int relative = beat__psi_is_live(root) && path[0] != '/';
    *read_root = relative ? "." : root;
    if (relative) {
        if (strlen(path) + 1 > cap)
            return -1;
        strcpy(full, path);
        return 0;
    }
    return beat__text_path(full, cap, root, path);
}

// Fills files from cgroup.c's discovery in s.
BEAT__PRIVATE void beat__psi_files_from(const char *root, const beat__cgroup_scratch *s,
                                        beat_pressure_files *files)
{
    memset(files, 0, sizeof *files);
    strcpy(files->pressure, BEAT__PSI_PROC_FILE);
    if (s->v2_group.found) {
        char rel[BEAT_PSI_PATH_BYTES] = "";
        if (beat__text_append(rel, sizeof rel, s->v2_group.dir) == 0 &&
            beat__text_append(rel, sizeof rel, "/memory.pressure") == 0 &&
            beat__cgroup_exists(root, rel))
            strcpy(files->pressure, rel);
    }
    const beat__cgroup_place *m = &s->memory_group;
    if (m->found && strlen(m->dir) < sizeof files->memory_group) {
        strcpy(files->memory_group, m->dir);
        files->memory_mount_len = (unsigned)m->mount_len;
        files->memory_version = m->v1 ? 1 : 2;
    }
}

BEAT__DEF beat_result beat_pressure_locate(const char *root, beat_pressure_files *out)
{
    if (out == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    beat__cgroup_scratch *s;
    if (beat__cgroup_locate(root, &s) != 0) {
        memset(out, 0, sizeof *out);
        return BEAT_ERROR_OUT_OF_MEMORY;
    }
    beat__psi_files_from(root, s, out);
    BEAT_FREE(s);
    return BEAT_OK;
}

// beat_pressure_locate into a temporary allocation; NULL when out of memory.
BEAT__PRIVATE beat_pressure_files *beat__psi_locate_new(const char *root)
{
    beat_pressure_files *files = (beat_pressure_files *)BEAT_MALLOC(sizeof *files);
    if (files != NULL && beat_pressure_locate(root, files) != BEAT_OK) {
        BEAT_FREE(files);
        files = NULL;
    }
    return files;
}

// Resolves path below root (beat__psi_where) into full and *read_root and
// starts msg with the file's name. IO when the path is too long.
BEAT__PRIVATE beat_result beat__psi_resolve(const char *root, const char *path,
                                            const char **read_root, char *full, char *msg,
                                            size_t cap)
{
    if (beat__psi_where(root, path, read_root, full, BEAT__PATH_MAX) != 0) {
        beat__psi_msg_file(msg, cap, path);
        beat__text_append_cut(msg, cap, "the path is too long");
        return BEAT_ERROR_IO;
    }
    beat__psi_msg_file(msg, cap, full);
    return BEAT_OK;
}

// Reads and parses path below root (see beat_psi_read_at).
BEAT__PRIVATE beat_result beat__psi_read_file(const char *root, const char *path, beat_psi *out,
                                              char *msg, size_t cap)
{
    char full[BEAT__PATH_MAX], text[BEAT__PSI_FILE_BYTES];
    const char *read_root;
    beat_result r = beat__psi_resolve(root, path, &read_root, full, msg, cap);
    if (r != BEAT_OK)
        return r;
    errno = 0;
    long len = beat__text_read(read_root, path, text, sizeof text);
    if (len < 0) {
        beat__text_append_cut(msg, cap, beat__psi_reason(errno));
        return BEAT_ERROR_IO;
    }
    if ((size_t)len == sizeof text - 1) {
        beat__text_append_cut(msg, cap, "too long for a pressure file (1023 bytes or more)");
        return BEAT_ERROR_PARSE;
    }
    r = beat__psi_parse(text, (size_t)len, out, msg, cap);
    if (r == BEAT_OK && msg != NULL && cap > 0)
        msg[0] = '\0';
    return r;
}

BEAT__DEF beat_result beat_psi_read_at(const char *root, const char *path, beat_psi *out, char *msg,
                                       size_t msg_cap)
{
    if (msg != NULL && msg_cap > 0)
        msg[0] = '\0';
    if (out == NULL) {
        beat__psi_line_error(msg, msg_cap, 0, "beat_psi_read_at: out is NULL", "");
        return BEAT_ERROR_INVALID_ARGUMENT;
    }
    memset(out, 0, sizeof *out);
    if (path != NULL)
        return beat__psi_read_file(root, path, out, msg, msg_cap);
    beat_pressure_files *files = beat__psi_locate_new(root);
    if (files == NULL) {
        beat__psi_line_error(msg, msg_cap, 0, "beat_psi_read_at: out of memory", "");
        return BEAT_ERROR_OUT_OF_MEMORY;
    }
    beat_result r = beat__psi_read_file(root, files->pressure, out, msg, msg_cap);
    BEAT_FREE(files);
    return r;
}

BEAT__DEF beat_result beat_psi_read(const char *path, beat_psi *out)
{
    return beat_psi_read_at(NULL, path, out, NULL, 0);
}

// ---------------------------------------------------------------------------
// Headroom

// Reads dir/name (dir is place->dir, extended in place and restored).
BEAT__PRIVATE long beat__psi_read_in(const char *root, beat__cgroup_place *place, const char *name,
                                     char *buf, size_t cap)
{
    size_t len = strlen(place->dir);
    long got = -1;
    if (beat__text_append(place->dir, sizeof place->dir, "/") == 0 &&
        beat__text_append(place->dir, sizeof place->dir, name) == 0)
        got = beat__text_read(root, place->dir, buf, cap);
    place->dir[len] = '\0';
    return got;
}

// One limit file: a number, "max" (v2) or anything else; 0 (no limit)
// unless it holds a number (v1: below 2^62).
BEAT__PRIVATE unsigned long long beat__psi_limit(const char *root, beat__cgroup_place *place,
                                                 const char *name)
{
    char buf[64];
    unsigned long long v;
    if (beat__psi_read_in(root, place, name, buf, sizeof buf) < 0)
        return 0;
    const char *s = beat__text_skip_blank(buf);
    if (!beat__text_parse_u64(&s, ~0ULL, &v) || !beat__text_at_end(s))
        return 0; // "max" or garbage
    return place->v1 && v >= BEAT__PSI_V1_NO_LIMIT ? 0 : v;
}

// The numbers of the group at place; 0 when it has no readable current.
BEAT__PRIVATE int beat__psi_group(const char *root, beat__cgroup_place *place,
                                  beat_memory_headroom *g)
{
    char buf[BEAT__PSI_STAT_BYTES];
    const char *current = place->v1 ? "memory.usage_in_bytes" : "memory.current";
    if (beat__psi_read_in(root, place, current, buf, 64) < 0)
        return 0;
    const char *s = beat__text_skip_blank(buf);
    if (!beat__text_parse_u64(&s, ~0ULL, &g->current) || !beat__text_at_end(s))
        return 0;
    if (place->v1) {
        g->limit = beat__psi_limit(root, place, "memory.limit_in_bytes");
    } else {
        unsigned long long high = beat__psi_limit(root, place, "memory.high");
        unsigned long long max = beat__psi_limit(root, place, "memory.max");
        g->limit = high == 0 || (max != 0 && max < high) ? max : high;
    }
    g->inactive_file = 0;
    if (g->limit == 0)
        return 1;
    long len = beat__psi_read_in(root, place, "memory.stat", buf, sizeof buf);
    if (len == (long)sizeof buf - 1) // cut: drop the partial last line
        while (len > 0 && buf[len - 1] != '\n')
            buf[--len] = '\0';
    if (len > 0 && !beat__text_key_u64(buf, place->v1 ? "total_inactive_file" : "inactive_file",
                                       &g->inactive_file))
        g->inactive_file = 0;
    return 1;
}

// Walks from the group at place up to its mount point and keeps in out
// the numbers of the group that binds (see beat_memory_headroom).
BEAT__PRIVATE void beat__psi_headroom_walk(const char *root, beat__cgroup_place *place,
                                           beat_memory_headroom *out)
{
    int have = 0;       // out holds a group's numbers
    double best = -1.0; // usage of the limited group in out; -1 while none
    do {
        beat_memory_headroom g = *out;
        if (!beat__psi_group(root, place, &g))
            continue;
        int limited = g.limit != 0;
        if (!have || (limited && beat__pressure_usage(&g) > best)) {
            *out = g;
            have = 1;
            best = limited ? beat__pressure_usage(&g) : best;
        }
    } while (beat__cgroup_up(place));
}

BEAT__DEF beat_result beat_memory_headroom_read(const char *root, const beat_pressure_files *files,
                                                beat_memory_headroom *out)
{
    if (out == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    beat_pressure_files *located = NULL;
    if (files == NULL && (files = located = beat__psi_locate_new(root)) == NULL)
        return BEAT_ERROR_OUT_OF_MEMORY;
    beat__cgroup_place place;
    const char *end = (const char *)memchr(files->memory_group, '\0', sizeof files->memory_group);
    size_t len = end != NULL ? (size_t)(end - files->memory_group) : sizeof place.dir;
    if (files->memory_version != 0 && len < sizeof place.dir && files->memory_mount_len <= len) {
        memcpy(place.dir, files->memory_group, len + 1);
        place.mount_len = files->memory_mount_len;
        place.found = 1;
        place.v1 = files->memory_version == 1;
        out->cgroup_version = files->memory_version;
        beat__psi_headroom_walk(root, &place, out);
    }
    if (located != NULL)
        BEAT_FREE(located);
    return BEAT_OK;
}

// ---------------------------------------------------------------------------
// Triggers

// True when fd is a file of procfs or cgroup2 (where triggers live).
BEAT__PRIVATE int beat__psi_is_kernel_file(int fd)
{
#if BEAT__OS_LINUX
    struct statfs fs;
    if (fstatfs(fd, &fs) != 0)
        return 0;
    return (unsigned long)fs.f_type == 0x9fa0ul ||   // PROC_SUPER_MAGIC
           (unsigned long)fs.f_type == 0x63677270ul; // CGROUP2_SUPER_MAGIC
#else
    (void)fd;
    return 0;
#endif
}

// Why the kernel refused a trigger, from errno.
BEAT__PRIVATE const char *beat__psi_trigger_reason(int err)
{
    switch (err) {
    case EINVAL:
        return "the kernel refused the trigger (EINVAL: without CAP_SYS_RESOURCE the window "
               "must be a multiple of 2 s)";
    case EPERM:
    case EACCES:
        return "the kernel refused the trigger (not permitted: CAP_SYS_RESOURCE needed before "
               "Linux 6.4)";
    case EOPNOTSUPP:
        return "PSI is disabled in this kernel (boot with psi=1)";
    case EBUSY:
        return "the file already has a trigger";
    default:
        return "the kernel refused the trigger";
    }
}

// Opens path below root and writes the trigger text (see the header).
BEAT__PRIVATE beat_result beat__psi_trigger_file(const char *root, const char *path,
                                                 const char *trigger, int *fd, char *msg,
                                                 size_t cap)
{
    char full[BEAT__PATH_MAX];
    const char *read_root;
    beat_result r = beat__psi_resolve(root, path, &read_root, full, msg, cap);
    if (r != BEAT_OK)
        return r;
    char open_path[BEAT__PATH_MAX];
    if (beat__text_path(open_path, sizeof open_path, read_root, path) != 0) {
        beat__text_append_cut(msg, cap, "the path is too long");
        return BEAT_ERROR_IO;
    }
    int f;
    do
        f = open(open_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    while (f < 0 && errno == EINTR);
    if (f < 0) {
        beat__text_append_cut(msg, cap, beat__psi_reason(errno));
        return BEAT_ERROR_IO;
    }
    if (!beat__psi_is_kernel_file(f)) {
        close(f);
        beat__text_append_cut(msg, cap, "not a kernel pressure file (procfs or cgroup2)");
        return BEAT_ERROR_UNSUPPORTED;
    }
    // The kernel turns the last byte written into a NUL: write ours too.
    size_t len = strlen(trigger) + 1;
    ssize_t wrote;
    do
        wrote = write(f, trigger, len);
    while (wrote < 0 && errno == EINTR);
    if (wrote != (ssize_t)len) {
        int err = wrote < 0 ? errno : EIO;
        close(f);
        beat__text_append_cut(msg, cap, beat__psi_trigger_reason(err));
        return BEAT_ERROR_UNSUPPORTED;
    }
    if (msg != NULL && cap > 0)
        msg[0] = '\0';
    *fd = f;
    return BEAT_OK;
}

BEAT__DEF beat_result beat_psi_trigger_open(const char *root, const char *path, int full,
                                            unsigned stall_us, unsigned window_us, int *fd,
                                            char *msg, size_t msg_cap)
{
    if (msg != NULL && msg_cap > 0)
        msg[0] = '\0';
    if (fd != NULL)
        *fd = -1;
    if (fd == NULL || stall_us == 0 || stall_us > window_us ||
        window_us > BEAT__PSI_WINDOW_MAX_US) {
        beat__psi_line_error(msg, msg_cap, 0, "beat_psi_trigger_open: ",
                             fd == NULL ? "fd is NULL"
                                        : "need 0 < stall_us <= window_us <= 10000000");
        return BEAT_ERROR_INVALID_ARGUMENT;
    }
#if !BEAT__OS_LINUX
    (void)root, (void)path, (void)full;
    beat__psi_line_error(msg, msg_cap, 0, "PSI triggers need Linux", "");
    return BEAT_ERROR_UNSUPPORTED;
#else
    char trigger[48] = "";
    beat__text_append(trigger, sizeof trigger, full ? "full " : "some ");
    beat__text_append_u64(trigger, sizeof trigger, stall_us);
    beat__text_append(trigger, sizeof trigger, " ");
    beat__text_append_u64(trigger, sizeof trigger, window_us);
    if (path != NULL)
        return beat__psi_trigger_file(root, path, trigger, fd, msg, msg_cap);
    beat_pressure_files *files = beat__psi_locate_new(root);
    if (files == NULL) {
        beat__psi_line_error(msg, msg_cap, 0, "beat_psi_trigger_open: out of memory", "");
        return BEAT_ERROR_OUT_OF_MEMORY;
    }
    beat_result r = beat__psi_trigger_file(root, files->pressure, trigger, fd, msg, msg_cap);
    BEAT_FREE(files);
    return r;
#endif
}

#else // BEAT_NO_PSI

// The readers, compiled out: UNSUPPORTED, outputs zeroed.
BEAT__PRIVATE beat_result beat__psi_compiled_out(void *out, size_t size, char *msg, size_t cap)
{
    if (out != NULL)
        memset(out, 0, size);
    if (msg != NULL && cap > 0) {
        msg[0] = '\0';
        beat__text_append_cut(msg, cap, "PSI support is compiled out (BEAT_NO_PSI)");
    }
    return BEAT_ERROR_UNSUPPORTED;
}

BEAT__DEF beat_result beat_psi_read_at(const char *root, const char *path, beat_psi *out, char *msg,
                                       size_t msg_cap)
{
    (void)root, (void)path;
    return beat__psi_compiled_out(out, sizeof *out, msg, msg_cap);
}

BEAT__DEF beat_result beat_psi_read(const char *path, beat_psi *out)
{
    (void)path;
    return beat__psi_compiled_out(out, sizeof *out, NULL, 0);
}

BEAT__DEF beat_result beat_pressure_locate(const char *root, beat_pressure_files *out)
{
    (void)root;
    return beat__psi_compiled_out(out, sizeof *out, NULL, 0);
}

BEAT__DEF beat_result beat_memory_headroom_read(const char *root, const beat_pressure_files *files,
                                                beat_memory_headroom *out)
{
    (void)root, (void)files;
    return beat__psi_compiled_out(out, sizeof *out, NULL, 0);
}

BEAT__DEF beat_result beat_psi_trigger_open(const char *root, const char *path, int full,
                                            unsigned stall_us, unsigned window_us, int *fd,
                                            char *msg, size_t msg_cap)
{
    (void)root, (void)path, (void)full, (void)stall_us, (void)window_us;
    if (fd != NULL)
        *fd = -1;
    return beat__psi_compiled_out(NULL, 0, msg, msg_cap);
}

#endif // BEAT_NO_PSI
