// cpuid: the dump source (hwloc's format) and the decoder of one PU's
// answers. The live source, reading a source and the feature bits are in
// cpu_features.c, which beat_simd.h shares for its ISA detection; the
// topology built from cpuid is in cpuid_topology.c.
//
// Register layouts are from the Intel SDM vol. 2A (CPUID) and AMD's APM
// vol. 3 (appendix E); leaf 0x1A and XCR0 from the SDM vol. 1 ch. 13.
#include "config.h"
#include "cpu_features.c"
#include "text.c"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// ---------------------------------------------------------------------------
// Dumps: one file puN per PU, one query and its answer per line.

#define BEAT__CPUID_DUMP_MAX_PUS 65536u
#define BEAT__CPUID_DUMP_MAX_BYTES ((size_t)16 << 20)

typedef struct beat__cpuid_line {
    uint32_t mask;   // which of in[] are meaningful (bit k: register k)
    uint32_t in[4];  // eax (leaf), ebx, ecx (subleaf), edx
    uint32_t out[4]; // the answer
} beat__cpuid_line;

typedef struct beat__cpuid_dump_pu {
    unsigned number; // N of puN
    size_t nlines;
    beat__cpuid_line *lines;
} beat__cpuid_dump_pu;

struct beat_cpuid_dump {
    unsigned npus;              // highest N + 1
    unsigned nfiles;            // entries of files
    beat__cpuid_dump_pu *files; // sorted by number
};

// Parses "MASK EAX EBX ECX EDX => EAX EBX ECX EDX" from s to the line end
// (a '\n' or the NUL after the text). Returns NULL, or what is wrong.
BEAT__PRIVATE const char *beat__cpuid_parse_line(const char *s, beat__cpuid_line *out)
{
    uint32_t v[9];
    for (int i = 0; i < 9; i++) {
        if (i == 5) {
            s = beat__text_skip_blank(s);
            if (s[0] != '=' || s[1] != '>')
                return "expected => after the 5 input numbers";
            s += 2;
        }
        s = beat__text_skip_blank(s);
        if (!beat__text_parse_hex32(&s, &v[i]))
            return i < 5 ? "expected MASK EAX EBX ECX EDX as 32-bit hex numbers before =>"
                         : "expected 4 output numbers (32-bit hex) after =>";
    }
    s = beat__text_skip_blank(s);
    if (*s == '\r')
        s++;
    if (*s != '\n' && *s != '\0')
        return "unexpected text after the 4 output numbers";
    if (v[0] > 0xfu)
        return "MASK has bits above bit 3";
    out->mask = v[0];
    memcpy(out->in, v + 1, sizeof out->in);
    memcpy(out->out, v + 5, sizeof out->out);
    return NULL;
}

// True for a line holding only blanks, or a comment.
BEAT__PRIVATE int beat__cpuid_skip_line(const char *s)
{
    s = beat__text_skip_blank(s);
    if (*s == '\r')
        s++;
    return *s == '#' || *s == '\n' || *s == '\0';
}

// Parses a whole puN file: text[len] must be NUL (a NUL before it is an
// error). Stores the query lines in lines (NULL: only counts them) and
// their number in *count. Returns 0, or the 1-based number of the first bad
// line with *why saying what is wrong.
BEAT__PRIVATE unsigned long beat__cpuid_parse_text(const char *text, size_t len,
                                                   beat__cpuid_line *lines, size_t *count,
                                                   const char **why)
{
    const char *end = text + len;
    unsigned long number = 0;
    size_t n = 0;
    for (const char *s = text; s < end;) {
        const char *nl = (const char *)memchr(s, '\n', (size_t)(end - s));
        const char *line_end = nl != NULL ? nl : end;
        number++;
        if (memchr(s, '\0', (size_t)(line_end - s)) != NULL) {
            *why = "NUL byte in the line";
            return number;
        }
        if (!beat__cpuid_skip_line(s)) {
            beat__cpuid_line line;
            *why = beat__cpuid_parse_line(s, &line);
            if (*why != NULL)
                return number;
            if (lines != NULL)
                lines[n] = line;
            n++;
        }
        s = line_end + (nl != NULL);
    }
    *count = n;
    return 0;
}

// N of a file name "puN" (decimal, no leading zero); -1 when the name is
// something else, -2 when N >= BEAT__CPUID_DUMP_MAX_PUS.
BEAT__PRIVATE long beat__cpuid_pu_number(const char *name)
{
    if (name[0] != 'p' || name[1] != 'u' || name[2] < '0' || name[2] > '9')
        return -1;
    if (name[2] == '0' && name[3] != '\0')
        return -1;
    unsigned long long n = 0;
    for (const char *s = name + 2; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (n < BEAT__CPUID_DUMP_MAX_PUS)
            n = n * 10 + (unsigned)(*s - '0');
    }
    return n < BEAT__CPUID_DUMP_MAX_PUS ? (long)n : -2;
}

BEAT__PRIVATE int beat__cpuid_compare_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

// Appends to a growable array of PU numbers. 0 when out of memory.
BEAT__PRIVATE int beat__cpuid_push_number(unsigned **numbers, unsigned *n, unsigned *cap,
                                          unsigned number)
{
    if (*n == *cap) {
        unsigned bigger = *cap != 0 ? *cap * 2 : 64;
        unsigned *grown = (unsigned *)BEAT_MALLOC(bigger * sizeof **numbers);
        if (grown == NULL)
            return 0;
        if (*n != 0)
            memcpy(grown, *numbers, *n * sizeof **numbers);
        BEAT_FREE(*numbers);
        *numbers = grown;
        *cap = bigger;
    }
    (*numbers)[(*n)++] = number;
    return 1;
}

// The sorted PU numbers of the puN files in dir (BEAT_FREE *numbers, also
// when *n is 0). IO when dir cannot be listed; PARSE, with the file's name
// copied to bad, when a puN has N too large.
BEAT__PRIVATE beat_result beat__cpuid_list_pus(const char *dir, unsigned **numbers, unsigned *n,
                                               char bad[256])
{
    unsigned cap = 0;
    *numbers = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return BEAT_ERROR_IO;
    beat_result result = BEAT_OK;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (e == NULL) {
            result = errno != 0 ? BEAT_ERROR_IO : BEAT_OK;
            break;
        }
        long number = beat__cpuid_pu_number(e->d_name);
        if (number == -2) {
            size_t len = strnlen(e->d_name, 255);
            memcpy(bad, e->d_name, len);
            bad[len] = '\0';
            result = BEAT_ERROR_PARSE;
            break;
        }
        if (number >= 0 && !beat__cpuid_push_number(numbers, n, &cap, (unsigned)number)) {
            result = BEAT_ERROR_OUT_OF_MEMORY;
            break;
        }
    }
    closedir(d);
    if (result == BEAT_OK && *n > 1)
        qsort(*numbers, *n, sizeof **numbers, beat__cpuid_compare_unsigned);
    return result;
}

// A dump with room for nfiles PUs, all empty (filled by
// beat__cpuid_dump_set_pu in increasing PU order). NULL when out of memory.
BEAT__PRIVATE beat_cpuid_dump *beat__cpuid_dump_new(unsigned nfiles)
{
    beat_cpuid_dump *dump = (beat_cpuid_dump *)BEAT_MALLOC(sizeof *dump);
    beat__cpuid_dump_pu *files =
        (beat__cpuid_dump_pu *)BEAT_MALLOC((nfiles != 0 ? nfiles : 1) * sizeof *files);
    if (dump == NULL || files == NULL) {
        BEAT_FREE(dump);
        BEAT_FREE(files);
        return NULL;
    }
    memset(files, 0, (nfiles != 0 ? nfiles : 1) * sizeof *files);
    dump->npus = 0;
    dump->nfiles = nfiles;
    dump->files = files;
    return dump;
}

// Parses the text of PU number into slot (numbers must increase with the
// slot). PARSE with *line and *why on a bad line, or OUT_OF_MEMORY.
BEAT__PRIVATE beat_result beat__cpuid_dump_set_pu(beat_cpuid_dump *dump, unsigned slot,
                                                  unsigned number, const char *text, size_t len,
                                                  unsigned long *line, const char **why)
{
    size_t count = 0;
    *line = beat__cpuid_parse_text(text, len, NULL, &count, why);
    if (*line != 0)
        return BEAT_ERROR_PARSE;
    beat__cpuid_dump_pu *f = &dump->files[slot];
    f->number = number;
    if (count != 0) {
        f->lines = (beat__cpuid_line *)BEAT_MALLOC(count * sizeof *f->lines);
        if (f->lines == NULL)
            return BEAT_ERROR_OUT_OF_MEMORY;
        beat__cpuid_parse_text(text, len, f->lines, &count, why);
        f->nlines = count;
    }
    if (number + 1 > dump->npus)
        dump->npus = number + 1;
    return BEAT_OK;
}

BEAT__DEF void beat_cpuid_dump_free(beat_cpuid_dump *dump)
{
    if (dump == NULL)
        return;
    for (unsigned i = 0; i < dump->nfiles; i++)
        BEAT_FREE(dump->files[i].lines);
    BEAT_FREE(dump->files);
    BEAT_FREE(dump);
}

// The error message: appended piece by piece, always NUL-terminated, cut
// at the capacity (no stdio, so it works under BEAT_NO_STDIO).
typedef struct beat__cpuid_msg {
    char *buf;
    size_t cap, len;
} beat__cpuid_msg;

BEAT__PRIVATE void beat__cpuid_msg_add(beat__cpuid_msg *m, const char *s)
{
    if (m->buf == NULL || m->cap == 0)
        return;
    while (*s != '\0' && m->len + 1 < m->cap)
        m->buf[m->len++] = *s++;
    m->buf[m->len] = '\0';
}

BEAT__PRIVATE void beat__cpuid_msg_number(beat__cpuid_msg *m, unsigned long n)
{
    char digits[24];
    size_t i = sizeof digits - 1;
    digits[i] = '\0';
    do
        digits[--i] = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    beat__cpuid_msg_add(m, digits + i);
}

// Reads and parses file puN of dir into slot of dump; on error says why.
BEAT__PRIVATE beat_result beat__cpuid_load_pu(beat_cpuid_dump *dump, unsigned slot, const char *dir,
                                              unsigned number, beat__cpuid_msg *m)
{
    char name[16] = "pu", path[BEAT__PATH_MAX];
    beat__cpuid_msg name_msg = {name + 2, sizeof name - 2, 0};
    beat__cpuid_msg_number(&name_msg, number);
    beat__cpuid_msg_add(m, dir);
    beat__cpuid_msg_add(m, "/");
    beat__cpuid_msg_add(m, name);
    if (beat__text_path(path, sizeof path, dir, name) != 0) {
        beat__cpuid_msg_add(m, ": path too long");
        return BEAT_ERROR_IO;
    }
    char *text = NULL;
    size_t len = 0;
    beat_result r = beat__text_read_alloc(dir, name, BEAT__CPUID_DUMP_MAX_BYTES, &text, &len);
    if (r != BEAT_OK) {
        beat__cpuid_msg_add(m, r == BEAT_ERROR_IO      ? ": cannot be read"
                               : r == BEAT_ERROR_PARSE ? ": larger than 16 MiB"
                                                       : ": out of memory");
        return r;
    }
    unsigned long line = 0;
    const char *why = NULL;
    r = beat__cpuid_dump_set_pu(dump, slot, number, text, len, &line, &why);
    BEAT_FREE(text);
    if (r == BEAT_ERROR_PARSE) {
        beat__cpuid_msg_add(m, ":");
        beat__cpuid_msg_number(m, line);
        beat__cpuid_msg_add(m, ": ");
        beat__cpuid_msg_add(m, why);
    } else if (r != BEAT_OK) {
        beat__cpuid_msg_add(m, ": out of memory");
    }
    return r;
}

BEAT__PRIVATE beat_result beat__cpuid_dump_load_all(const char *dir, const unsigned *numbers,
                                                    unsigned n, beat_cpuid_dump **out,
                                                    beat__cpuid_msg *m)
{
    beat_cpuid_dump *dump = beat__cpuid_dump_new(n);
    if (dump == NULL) {
        beat__cpuid_msg_add(m, "out of memory");
        return BEAT_ERROR_OUT_OF_MEMORY;
    }
    for (unsigned i = 0; i < n; i++) {
        m->len = 0;
        beat_result r = beat__cpuid_load_pu(dump, i, dir, numbers[i], m);
        if (r != BEAT_OK) {
            beat_cpuid_dump_free(dump);
            return r;
        }
    }
    if (m->buf != NULL && m->cap != 0)
        m->buf[m->len = 0] = '\0';
    *out = dump;
    return BEAT_OK;
}

BEAT__DEF beat_result beat_cpuid_dump_load_msg(const char *dir, beat_cpuid_dump **out, char *msg,
                                               size_t msg_cap)
{
    beat__cpuid_msg m = {msg, msg_cap, 0};
    beat__cpuid_msg_add(&m, ""); // msg is "" unless something goes wrong
    if (out != NULL)
        *out = NULL;
    if (dir == NULL || out == NULL) {
        beat__cpuid_msg_add(&m, "beat_cpuid_dump_load: dir or out is NULL");
        return BEAT_ERROR_INVALID_ARGUMENT;
    }
    unsigned *numbers = NULL, n = 0;
    char bad[256];
    beat_result r = beat__cpuid_list_pus(dir, &numbers, &n, bad);
    beat__cpuid_msg_add(&m, dir);
    if (r == BEAT_ERROR_IO) {
        beat__cpuid_msg_add(&m, ": cannot list the directory");
    } else if (r == BEAT_ERROR_PARSE) {
        beat__cpuid_msg_add(&m, ": ");
        beat__cpuid_msg_add(&m, bad);
        beat__cpuid_msg_add(&m, ": PU number 65536 or higher");
    } else if (r != BEAT_OK) {
        beat__cpuid_msg_add(&m, ": out of memory");
    } else if (n == 0) {
        beat__cpuid_msg_add(&m, ": no puN file (not a cpuid dump)");
        r = BEAT_ERROR_PARSE;
    } else {
        r = beat__cpuid_dump_load_all(dir, numbers, n, out, &m);
    }
    BEAT_FREE(numbers);
    return r;
}

BEAT__DEF beat_result beat_cpuid_dump_load(const char *dir, beat_cpuid_dump **out)
{
    return beat_cpuid_dump_load_msg(dir, out, NULL, 0);
}

BEAT__PRIVATE const beat__cpuid_dump_pu *beat__cpuid_dump_find(const beat_cpuid_dump *dump,
                                                               unsigned number)
{
    unsigned lo = 0, hi = dump->nfiles;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (dump->files[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < dump->nfiles && dump->files[lo].number == number ? &dump->files[lo] : NULL;
}

BEAT__PRIVATE int beat__cpuid_line_matches(const beat__cpuid_line *line, const uint32_t in[4])
{
    for (unsigned k = 0; k < 4; k++)
        if ((line->mask >> k & 1u) != 0 && line->in[k] != in[k])
            return 0;
    return 1;
}

BEAT__PRIVATE void beat__cpuid_dump_query(void *user, unsigned pu, uint32_t leaf, uint32_t subleaf,
                                          uint32_t regs[4])
{
    const beat__cpuid_dump_pu *f = beat__cpuid_dump_find((const beat_cpuid_dump *)user, pu);
    const uint32_t in[4] = {leaf, 0, subleaf, 0};
    memset(regs, 0, 4 * sizeof regs[0]);
    for (size_t i = 0; f != NULL && i < f->nlines; i++) {
        if (beat__cpuid_line_matches(&f->lines[i], in)) {
            memcpy(regs, f->lines[i].out, 4 * sizeof regs[0]);
            return;
        }
    }
}

BEAT__DEF beat_cpuid_source beat_cpuid_dump_source(const beat_cpuid_dump *dump)
{
    beat_cpuid_source src;
    memset(&src, 0, sizeof src);
    if (dump == NULL)
        return src;
    src.query = beat__cpuid_dump_query;
    src.npus = dump->npus;
    src.user = (void *)(uintptr_t)dump; // queries only read it
    return src;
}

// ---------------------------------------------------------------------------
// Decoder

// Four bytes of a register as text, lowest byte first (cpuid's order).
BEAT__PRIVATE void beat__cpuid_reg_text(uint32_t reg, char *out)
{
    for (unsigned i = 0; i < 4; i++)
        out[i] = (char)(reg >> (8 * i) & 0xffu);
}

BEAT__PRIVATE beat_cpu_vendor beat__cpuid_vendor_id(const char *vendor)
{
    if (strcmp(vendor, "GenuineIntel") == 0)
        return BEAT_CPU_VENDOR_INTEL;
    if (strcmp(vendor, "AuthenticAMD") == 0)
        return BEAT_CPU_VENDOR_AMD;
    if (strcmp(vendor, "HygonGenuine") == 0)
        return BEAT_CPU_VENDOR_HYGON;
    if (strcmp(vendor, "CentaurHauls") == 0 || strcmp(vendor, "  Shanghai  ") == 0)
        return BEAT_CPU_VENDOR_ZHAOXIN;
    return BEAT_CPU_VENDOR_UNKNOWN;
}

// AMD and Hygon describe caches and topology in the 0x8000001x leaves.
BEAT__PRIVATE int beat__cpuid_amd_like(beat_cpu_vendor v)
{
    return v == BEAT_CPU_VENDOR_AMD || v == BEAT_CPU_VENDOR_HYGON;
}

BEAT__PRIVATE void beat__cpuid_vendor(const beat__cpuid_ctx *c, beat_cpu_info *out)
{
    uint32_t r[4];
    beat__cpuid_ask(c, 0, 0, r);
    beat__cpuid_reg_text(r[BEAT__EBX], out->vendor);
    beat__cpuid_reg_text(r[BEAT__EDX], out->vendor + 4);
    beat__cpuid_reg_text(r[BEAT__ECX], out->vendor + 8);
    out->vendor[12] = '\0';
    out->vendor_id = beat__cpuid_vendor_id(out->vendor);
}

// Leaf 1 EAX. The extended family counts only when the base family is 0xF;
// the extended model when it is 0xF, or 6 on Intel-like parts (AMD's rule
// leaves family 6 alone).
BEAT__PRIVATE void beat__cpuid_signature(uint32_t eax, beat_cpu_vendor vendor, beat_cpu_info *out)
{
    unsigned family = eax >> 8 & 0xfu, model = eax >> 4 & 0xfu;
    int extended_model = family == 0xf || (family == 6 && !beat__cpuid_amd_like(vendor));
    out->stepping = eax & 0xfu;
    out->family = family == 0xf ? family + (eax >> 20 & 0xffu) : family;
    out->model = extended_model ? model + ((eax >> 16 & 0xfu) << 4) : model;
}

// Leaves 0x80000002-4, 16 bytes each, without surrounding blanks.
BEAT__PRIVATE void beat__cpuid_brand(const beat__cpuid_ctx *c, char brand[49])
{
    char raw[49];
    for (uint32_t i = 0; i < 3; i++) {
        uint32_t r[4];
        beat__cpuid_ask(c, 0x80000002u + i, 0, r);
        for (unsigned k = 0; k < 4; k++)
            beat__cpuid_reg_text(r[k], raw + 16 * i + 4 * k);
    }
    raw[48] = '\0';
    const char *s = raw;
    while (*s == ' ')
        s++;
    size_t len = strlen(s);
    while (len > 0 && s[len - 1] == ' ')
        len--;
    memcpy(brand, s, len);
    brand[len] = '\0';
}

// Leaf 4 and 0x8000001D share a layout. EAX: [4:0] type, [7:5] level, [9]
// fully associative, [25:14] sharing - 1. EBX: [11:0] line - 1, [21:12]
// partitions - 1, [31:22] ways - 1. ECX: sets - 1. Returns 0 at the end of
// the list (type 0).
BEAT__PRIVATE int beat__cpuid_cache_from_regs(const uint32_t r[4], beat_cpu_cache *out)
{
    out->type = r[BEAT__EAX] & 0x1fu;
    if (out->type == 0)
        return 0;
    out->level = r[BEAT__EAX] >> 5 & 7u;
    out->sharing = (r[BEAT__EAX] >> 14 & 0xfffu) + 1;
    out->line_size = (r[BEAT__EBX] & 0xfffu) + 1;
    unsigned long long partitions = (r[BEAT__EBX] >> 12 & 0x3ffu) + 1;
    unsigned long long ways = (r[BEAT__EBX] >> 22) + 1ull;
    unsigned long long sets = r[BEAT__ECX] + 1ull, size;
    // Only nonsense (a fuzzed source) overflows; it reads as unknown.
    if (__builtin_mul_overflow(ways * partitions * out->line_size, sets, &size))
        size = 0;
    out->size = size;
    out->ways = (r[BEAT__EAX] >> 9 & 1u) != 0 ? 0 : (unsigned)ways;
    return 1;
}

// The deterministic cache leaf of this CPU: 4 (Intel-like), 0x8000001D
// (AMD-like with TopologyExtensions, 0x80000001 ECX bit 22), or 0.
BEAT__PRIVATE uint32_t beat__cpuid_cache_leaf(const beat__cpuid_ctx *c, beat_cpu_vendor vendor)
{
    if (!beat__cpuid_amd_like(vendor))
        return c->max_leaf >= 4 ? 4 : 0;
    int topoext = (beat__cpuid_reg(c, 0x80000001u, 0, BEAT__ECX) >> 22 & 1u) != 0;
    return topoext && c->max_ext_leaf >= 0x8000001du ? 0x8000001du : 0;
}

// AMD's associativity code of 0x80000006 (APM vol. 3, E.4.6): ways, or 0
// for fully associative (0xF); codes meaning "none" or "see 0x8000001D"
// give 1 (unknown, but present).
BEAT__PRIVATE unsigned beat__cpuid_amd_ways(unsigned code)
{
    static const unsigned char ways[16] = {1, 1, 2, 3, 4, 6, 8, 1, 16, 1, 32, 48, 64, 96, 128, 0};
    return ways[code & 0xfu];
}

BEAT__PRIVATE void beat__cpuid_add_cache(beat_cpu_info *out, unsigned level, unsigned type,
                                         unsigned long long size, unsigned line, unsigned ways)
{
    if (size == 0 || out->ncaches == BEAT_CPU_MAX_CACHES)
        return;
    beat_cpu_cache *cache = &out->caches[out->ncaches++];
    cache->level = level;
    cache->type = type;
    cache->size = size;
    cache->line_size = line;
    cache->ways = ways;
    cache->sharing = 0;
}

// AMD parts without TopologyExtensions. 0x80000005 ECX (data) and EDX
// (instruction): [31:24] KiB, [23:16] ways (0xFF: fully associative),
// [7:0] line. 0x80000006 ECX (L2): [31:16] KiB, [15:12] ways code, [7:0]
// line; EDX (L3): [31:18] in 512 KiB units, same codes. Sharing unknown.
BEAT__PRIVATE void beat__cpuid_caches_amd_legacy(const beat__cpuid_ctx *c, beat_cpu_info *out)
{
    uint32_t r[4];
    beat__cpuid_ask(c, 0x80000005u, 0, r);
    for (int reg = BEAT__ECX; reg <= BEAT__EDX; reg++) {
        unsigned ways = r[reg] >> 16 & 0xffu;
        beat__cpuid_add_cache(out, 1, reg == BEAT__ECX ? 1u : 2u, (r[reg] >> 24) * 1024ull,
                              r[reg] & 0xffu, ways == 0xff ? 0 : ways);
    }
    beat__cpuid_ask(c, 0x80000006u, 0, r);
    if ((r[BEAT__ECX] >> 12 & 0xfu) != 0)
        beat__cpuid_add_cache(out, 2, 3, (r[BEAT__ECX] >> 16) * 1024ull, r[BEAT__ECX] & 0xffu,
                              beat__cpuid_amd_ways(r[BEAT__ECX] >> 12));
    if ((r[BEAT__EDX] >> 12 & 0xfu) != 0)
        beat__cpuid_add_cache(out, 3, 3, (r[BEAT__EDX] >> 18) * (512ull << 10),
                              r[BEAT__EDX] & 0xffu, beat__cpuid_amd_ways(r[BEAT__EDX] >> 12));
}

BEAT__PRIVATE void beat__cpuid_caches(const beat__cpuid_ctx *c, beat_cpu_info *out)
{
    uint32_t leaf = beat__cpuid_cache_leaf(c, out->vendor_id);
    if (leaf == 0 && beat__cpuid_amd_like(out->vendor_id)) {
        beat__cpuid_caches_amd_legacy(c, out);
        return;
    }
    // Real parts list at most 5 or 6; the bound stops a looping source.
    for (uint32_t sub = 0; leaf != 0 && sub < 16 && out->ncaches < BEAT_CPU_MAX_CACHES; sub++) {
        uint32_t r[4];
        beat__cpuid_ask(c, leaf, sub, r);
        if (!beat__cpuid_cache_from_regs(r, &out->caches[out->ncaches]))
            break;
        out->ncaches++;
    }
}

// The extended topology leaf this PU has: 0x1F, else 0xB, else 0 (valid
// when subleaf 0 reports a nonzero number of logical processors in EBX).
BEAT__PRIVATE uint32_t beat__cpuid_x2apic_leaf(const beat__cpuid_ctx *c)
{
    if (beat__cpuid_reg(c, 0x1f, 0, BEAT__EBX) != 0)
        return 0x1f;
    if (beat__cpuid_reg(c, 0xb, 0, BEAT__EBX) != 0)
        return 0xb;
    return 0;
}

// AMD's extended APIC id: 0x8000001E EAX, with TopologyExtensions.
BEAT__PRIVATE int beat__cpuid_amd_apic(const beat__cpuid_ctx *c, uint32_t *apic)
{
    if ((beat__cpuid_reg(c, 0x80000001u, 0, BEAT__ECX) >> 22 & 1u) == 0 ||
        c->max_ext_leaf < 0x8000001eu)
        return 0;
    *apic = beat__cpuid_reg(c, 0x8000001eu, 0, BEAT__EAX);
    return 1;
}

BEAT__PRIVATE void beat__cpuid_apic(const beat__cpuid_ctx *c, beat_cpu_info *out)
{
    uint32_t leaf = beat__cpuid_x2apic_leaf(c);
    out->initial_apic_id = beat__cpuid_reg(c, 1, 0, BEAT__EBX) >> 24;
    out->apic_id = out->initial_apic_id;
    if (leaf != 0)
        out->apic_id = beat__cpuid_reg(c, leaf, 0, BEAT__EDX);
    else if (beat__cpuid_amd_like(out->vendor_id))
        beat__cpuid_amd_apic(c, &out->apic_id);
}

// Leaf 0x1A EAX[31:24]: 0x20 Intel Atom (efficiency), 0x40 Intel Core.
BEAT__PRIVATE beat_core_type beat__cpuid_core_type(const beat__cpuid_ctx *c)
{
    switch (beat__cpuid_reg(c, 0x1a, 0, BEAT__EAX) >> 24) {
    case 0x20:
        return BEAT_CORE_TYPE_EFFICIENCY;
    case 0x40:
        return BEAT_CORE_TYPE_PERFORMANCE;
    default:
        return BEAT_CORE_TYPE_UNKNOWN;
    }
}

// Decodes an opened PU into *out (zeroed by the caller).
BEAT__PRIVATE void beat__cpuid_decode_ctx(const beat__cpuid_ctx *c, beat_cpu_info *out)
{
    out->max_leaf = c->max_leaf;
    out->max_ext_leaf = c->max_ext_leaf;
    beat__cpuid_vendor(c, out);
    beat__cpuid_signature(beat__cpuid_reg(c, 1, 0, BEAT__EAX), out->vendor_id, out);
    out->xcr0 = beat__cpuid_xcr0(c);
    out->features = beat__cpuid_usable(beat__cpuid_cpu_features(c), out->xcr0);
    beat__cpuid_brand(c, out->brand);
    beat__cpuid_caches(c, out);
    beat__cpuid_apic(c, out);
    out->core_type = beat__cpuid_core_type(c);
}

BEAT__DEF beat_result beat_cpuid_decode(const beat_cpuid_source *src, unsigned pu,
                                        beat_cpu_info *out)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (src == NULL || src->query == NULL || out == NULL || pu >= src->npus)
        return BEAT_ERROR_INVALID_ARGUMENT;
    beat__cpuid_ctx c;
    if (!beat__cpuid_open(src, pu, &c))
        return BEAT_ERROR_UNSUPPORTED;
    beat__cpuid_decode_ctx(&c, out);
    return BEAT_OK;
}

BEAT__DEF beat_result beat_cpu_detect(beat_cpu_info *out)
{
    if (out == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
#if BEAT__ARCH_X86
    beat_cpuid_source live = beat_cpuid_live();
    return beat_cpuid_decode(&live, 0, out);
#elif BEAT__ARCH_ARM && BEAT__OS_LINUX
    memset(out, 0, sizeof *out);
    out->vendor_id = BEAT_CPU_VENDOR_ARM;
    out->features = beat__cpu_features_live();
    return BEAT_OK;
#else
    memset(out, 0, sizeof *out);
    return BEAT_ERROR_UNSUPPORTED;
#endif
}
