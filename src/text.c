// Text: the one reader and parser for /sys, /proc and cgroup files (and
// cpuid dumps). Files are read with open/read (no stdio, no allocation for
// small files), below a root directory so tests can use captured trees.
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define BEAT__PATH_MAX 4096

// Joins root and path ("/sys/..." or "sys/...") into out. root NULL or ""
// or "/" means the live system. Returns 0, or -1 when it does not fit.
BEAT__PRIVATE int beat__text_path(char *out, size_t cap, const char *root, const char *path)
{
    size_t rlen = root != NULL ? strlen(root) : 0;
    while (rlen > 0 && root[rlen - 1] == '/')
        rlen--;
    while (*path == '/')
        path++;
    size_t plen = strlen(path);
    if (rlen + 1 + plen + 1 > cap)
        return -1;
    if (rlen > 0)
        memcpy(out, root, rlen);
    out[rlen] = '/';
    memcpy(out + rlen + 1, path, plen + 1);
    return 0;
}

// Opens root/path read-only, retrying EINTR. The fd, or -1 (errno set).
BEAT__PRIVATE int beat__text_open(const char *root, const char *path)
{
    char full[BEAT__PATH_MAX];
    if (beat__text_path(full, sizeof full, root, path) != 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd;
    do
        fd = open(full, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    return fd;
}

// Reads fd until end of file or cap - 1 bytes (cap >= 1), then writes a
// NUL. Returns the bytes read, or -1 (errno set).
BEAT__PRIVATE long beat__text_read_fd(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t got = read(fd, buf + len, cap - 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        len += (size_t)got;
    }
    buf[len] = '\0';
    return (long)len;
}

// Reads root/path into buf as a NUL-terminated string of at most cap - 1
// bytes (a longer file is cut: callers size buf for the files they read).
// Returns the length, or -1 when the file cannot be opened or read (errno
// then says why: ENOENT, EACCES, EISDIR for a directory, ...).
BEAT__PRIVATE long beat__text_read(const char *root, const char *path, char *buf, size_t cap)
{
    if (cap == 0)
        return -1;
    int fd = beat__text_open(root, path);
    if (fd < 0)
        return -1;
    long len = beat__text_read_fd(fd, buf, cap);
    int saved = errno; // the read's reason, whatever close does
    close(fd);
    errno = saved;
    return len;
}

// Reads all of root/path, however long, into a new NUL-terminated buffer
// (BEAT_FREE it) of *len bytes. Errors: IO (cannot be opened or read),
// PARSE (longer than max bytes), OUT_OF_MEMORY.
BEAT__PRIVATE beat_result beat__text_read_alloc(const char *root, const char *path, size_t max,
                                                char **text, size_t *len)
{
    int fd = beat__text_open(root, path);
    if (fd < 0)
        return BEAT_ERROR_IO;
    size_t cap = 4096, n = 0;
    char *buf = NULL;
    beat_result r = BEAT_OK;
    for (;;) { // grow by doubling until a read stops short of the end of the buffer
        char *bigger = (char *)BEAT_MALLOC(cap);
        if (bigger == NULL) {
            r = BEAT_ERROR_OUT_OF_MEMORY;
            break;
        }
        if (buf != NULL) {
            memcpy(bigger, buf, n);
            BEAT_FREE(buf);
        }
        buf = bigger;
        long got = beat__text_read_fd(fd, buf + n, cap - n);
        if (got < 0) {
            r = BEAT_ERROR_IO;
            break;
        }
        n += (size_t)got;
        if (n > max) {
            r = BEAT_ERROR_PARSE;
            break;
        }
        if (n + 1 < cap)
            break;
        cap *= 2;
    }
    close(fd);
    if (r != BEAT_OK) {
        if (buf != NULL)
            BEAT_FREE(buf);
        return r;
    }
    *text = buf;
    *len = n;
    return BEAT_OK;
}

// Skips spaces and tabs (not newlines).
BEAT__PRIVATE const char *beat__text_skip_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

// Parses a decimal unsigned number at *s (no sign, no blanks), at most max.
// On success stores it, advances *s past the digits and returns 1; returns
// 0 (and leaves *s) when there is no digit or the value exceeds max.
BEAT__PRIVATE int beat__text_parse_u64(const char **s, unsigned long long max,
                                       unsigned long long *out)
{
    const char *p = *s;
    unsigned long long v = 0;
    if (*p < '0' || *p > '9')
        return 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (max - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    *s = p;
    return 1;
}

// Parses a hexadecimal number (no prefix) of at most 32 bits.
BEAT__PRIVATE int beat__text_parse_hex32(const char **s, uint32_t *out)
{
    const char *p = *s;
    uint32_t v = 0;
    int digits = 0;
    for (;; p++, digits++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else if (*p >= 'A' && *p <= 'F')
            d = (unsigned)(*p - 'A' + 10);
        else
            break;
        if (v > 0x0fffffffu)
            return 0;
        v = (v << 4) | d;
    }
    if (digits == 0)
        return 0;
    *out = v;
    *s = p;
    return 1;
}

// True when the rest of s is only blanks and at most one line end (LF or
// CRLF): what a well-formed one-value file ends with.
BEAT__PRIVATE int beat__text_at_end(const char *s)
{
    s = beat__text_skip_blank(s);
    if (*s == '\r')
        s++;
    if (*s == '\n')
        s++;
    return *s == '\0';
}

// Parses a Linux CPU list ("0-3,8,10-11\n", also "" for none) into a bitmap
// of nbits bits (nwords = nbits / 64 words, cleared first). Returns the
// number of CPUs set, or -1 on malformed text or a CPU >= nbits.
BEAT__PRIVATE long beat__text_parse_cpulist(const char *s, uint64_t *bits, unsigned nbits)
{
    memset(bits, 0, (nbits + 63) / 64 * sizeof *bits);
    long count = 0;
    s = beat__text_skip_blank(s);
    if (beat__text_at_end(s))
        return 0;
    for (;;) {
        unsigned long long lo, hi;
        if (!beat__text_parse_u64(&s, nbits - 1u, &lo))
            return -1;
        hi = lo;
        if (*s == '-') {
            s++;
            if (!beat__text_parse_u64(&s, nbits - 1u, &hi) || hi < lo)
                return -1;
        }
        for (unsigned long long c = lo; c <= hi; c++) {
            uint64_t bit = (uint64_t)1 << (c % 64);
            if ((bits[c / 64] & bit) == 0)
                count++;
            bits[c / 64] |= bit;
        }
        if (*s != ',')
            break;
        s++;
    }
    return beat__text_at_end(s) ? count : -1;
}

// Reads one unsigned decimal value from root/path (surrounding blanks and a
// line end allowed). Returns 1 and stores it, or 0 when the file is missing,
// unreadable or holds anything else.
BEAT__PRIVATE int beat__text_read_u64(const char *root, const char *path, unsigned long long *out)
{
    char buf[64];
    if (beat__text_read(root, path, buf, sizeof buf) < 0)
        return 0;
    const char *s = beat__text_skip_blank(buf);
    unsigned long long v;
    if (!beat__text_parse_u64(&s, ~0ULL, &v) || !beat__text_at_end(s))
        return 0;
    *out = v;
    return 1;
}

// Largest number in a CPU list's text (without checking the rest of the
// syntax), so callers can size the bitmap before parsing. Returns 1 and
// stores it, or 0 when there is no number or one overflows.
BEAT__PRIVATE int beat__text_cpulist_max(const char *s, unsigned long long *out)
{
    int found = 0;
    unsigned long long max = 0;
    while (*s != '\0') {
        if (*s < '0' || *s > '9') {
            s++;
            continue;
        }
        unsigned long long v;
        if (!beat__text_parse_u64(&s, ~0ULL, &v))
            return 0;
        max = v > max ? v : max;
        found = 1;
    }
    if (found)
        *out = max;
    return found;
}

// Parses a sysfs cache size: a decimal number with an optional K, M or G
// suffix (powers of 1024), e.g. "32K", "24576K", "24M", then the line end.
// Returns 1 and stores bytes, or 0 on anything else or on overflow.
BEAT__PRIVATE int beat__text_parse_size(const char *s, unsigned long long *out)
{
    unsigned long long v;
    unsigned shift = 0;
    s = beat__text_skip_blank(s);
    if (!beat__text_parse_u64(&s, ~0ULL, &v))
        return 0;
    if (*s == 'K' || *s == 'k')
        shift = 10;
    else if (*s == 'M' || *s == 'm')
        shift = 20;
    else if (*s == 'G' || *s == 'g')
        shift = 30;
    if (shift != 0)
        s++;
    if (!beat__text_at_end(s) || v > (~0ULL >> shift))
        return 0;
    *out = v << shift;
    return 1;
}

// Appends s to the string in out (capacity cap). Returns 0, or -1 when it
// does not fit (out is then unchanged). For building paths without stdio.
BEAT__PRIVATE int beat__text_append(char *out, size_t cap, const char *s)
{
    size_t len = strlen(out), add = strlen(s);
    if (len + add + 1 > cap)
        return -1;
    memcpy(out + len, s, add + 1);
    return 0;
}

// Appends v in decimal to the string in out, as beat__text_append.
BEAT__PRIVATE int beat__text_append_u64(char *out, size_t cap, unsigned long long v)
{
    char digits[24];
    size_t i = sizeof digits - 1;
    digits[i] = '\0';
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return beat__text_append(out, cap, digits + i);
}

// Reads one signed decimal value ("-1" is common in /sys and cgroup files)
// from root/path, as beat__text_read_u64. Magnitudes above 2^63 - 1 fail.
BEAT__PRIVATE int beat__text_read_i64(const char *root, const char *path, long long *out)
{
    char buf[64];
    if (beat__text_read(root, path, buf, sizeof buf) < 0)
        return 0;
    const char *s = beat__text_skip_blank(buf);
    int negative = *s == '-';
    s += negative;
    unsigned long long v;
    if (!beat__text_parse_u64(&s, 0x7fffffffffffffffULL, &v) || !beat__text_at_end(s))
        return 0;
    *out = negative ? -(long long)v : (long long)v;
    return 1;
}

// Parses a Linux CPU mask ("00000000,000000ff\n": 32-bit hex words, most
// significant first, as in cpumap and shared_cpu_map) into a bitmap of
// nbits bits, cleared first. Returns the number of CPUs set, or -1 on
// malformed text or a CPU >= nbits.
BEAT__PRIVATE long beat__text_parse_cpumask(const char *s, uint64_t *bits, unsigned nbits)
{
    memset(bits, 0, (nbits + 63) / 64 * sizeof *bits);
    s = beat__text_skip_blank(s);
    unsigned long long words = 1;
    for (const char *p = s; *p != '\0' && *p != '\n'; p++)
        words += *p == ',';
    long count = 0;
    for (unsigned long long w = words; w-- > 0;) {
        const char *start = s;
        uint32_t v;
        if (!beat__text_parse_hex32(&s, &v) || s - start > 8)
            return -1;
        for (unsigned b = 0; b < 32; b++) {
            unsigned long long cpu = w * 32 + b;
            if (((v >> b) & 1u) == 0)
                continue;
            if (cpu >= nbits)
                return -1;
            bits[cpu / 64] |= (uint64_t)1 << (cpu % 64);
            count++;
        }
        if (w > 0 && *s++ != ',')
            return -1;
    }
    return beat__text_at_end(s) ? count : -1;
}

// Appends as much of s as fits to the string in out (capacity cap, which
// it already fits): for messages, where a cut sentence beats none. Does
// nothing when cap is 0.
BEAT__PRIVATE void beat__text_append_cut(char *out, size_t cap, const char *s)
{
    if (cap == 0)
        return;
    size_t len = strlen(out), add = strlen(s);
    if (add > cap - 1 - len)
        add = cap - 1 - len;
    memcpy(out + len, s, add);
    out[len + add] = '\0';
}

// True when the rest of the line at s is only blanks (and a CR): the line
// ends there, at a newline or at the end of the text.
BEAT__PRIVATE int beat__text_at_line_end(const char *s)
{
    s = beat__text_skip_blank(s);
    if (*s == '\r')
        s++;
    return *s == '\n' || *s == '\0';
}

// Finds the line "key value" (blanks between; e.g. memory.stat) in text
// and parses its unsigned decimal value. Returns 1 and stores it, or 0 when
// no line has that key or its value is not a number that fits.
BEAT__PRIVATE int beat__text_key_u64(const char *text, const char *key, unsigned long long *out)
{
    size_t klen = strlen(key);
    for (const char *line = text; *line != '\0';) {
        if (strncmp(line, key, klen) == 0 && (line[klen] == ' ' || line[klen] == '\t')) {
            const char *s = beat__text_skip_blank(line + klen);
            return beat__text_parse_u64(&s, ~0ULL, out) && beat__text_at_line_end(s);
        }
        const char *next = strchr(line, '\n');
        if (next == NULL)
            break;
        line = next + 1;
    }
    return 0;
}
