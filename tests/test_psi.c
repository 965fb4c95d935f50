// PSI (src/psi.c, and the cgroup discovery in cgroup.c): the strict
// parser on a table of good and bad files, reading through fake trees
// (messages name the file and the problem), the choice of the pressure
// file (cgroup v2 memory.pressure first, then /proc/pressure/memory),
// cgroup v1/v2 memory headroom, the pressure level over synthetic inputs
// and threshold edges, and on this machine: /proc/pressure/memory and a
// kernel PSI trigger (skipped where the kernel has none or refuses).
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include "test.h"
#include "tree.h"

#include <poll.h>

// ---------------------------------------------------------------------------
// The parser

#define NORMAL                                                                                     \
    "some avg10=1.52 avg60=0.40 avg300=0.09 total=2875331\n"                                       \
    "full avg10=0.31 avg60=0.08 avg300=0.02 total=598210\n"

// Parses a NUL-terminated text; msg gets the parser's message.
static beat_result parse(const char *text, beat_psi *psi, char *msg, size_t cap)
{
    msg[0] = '\0';
    return beat__psi_parse(text, strlen(text), psi, msg, cap);
}

static int near(double a, double b) { return a - b < 1e-9 && b - a < 1e-9; }

static void parser_reads_some_and_full_lines(void)
{
    beat_psi p;
    char msg[256];
    CHECK_EQ(parse(NORMAL, &p, msg, sizeof msg), BEAT_OK);
    CHECK(near(p.some_avg10, 1.52) && near(p.some_avg60, 0.40) && near(p.some_avg300, 0.09));
    CHECK(near(p.full_avg10, 0.31) && near(p.full_avg60, 0.08) && near(p.full_avg300, 0.02));
    CHECK_EQ(p.some_total, 2875331);
    CHECK_EQ(p.full_total, 598210);
    CHECK_EQ(p.has_full, 1);
}

static void parser_accepts_a_some_line_alone(void)
{
    beat_psi p;
    char msg[256];
    CHECK_EQ(parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &p, msg, sizeof msg),
             BEAT_OK);
    CHECK(p.has_full == 0 && p.full_avg10 == 0.0 && p.full_total == 0);
}

static void parser_tolerates_crlf_and_a_missing_final_line_end(void)
{
    static const char *const ok[] = {
        "some avg10=1.00 avg60=2.00 avg300=3.00 total=4\r\n"
        "full avg10=0.50 avg60=0.25 avg300=0.00 total=1\r\n",
        "some avg10=1.00 avg60=2.00 avg300=3.00 total=4\n"
        "full avg10=0.50 avg60=0.25 avg300=0.00 total=1",
        "some avg10=1.00 avg60=2.00 avg300=3.00 total=4\r",
        "some\tavg10=1.00  avg60=2.00\tavg300=3.00 total=4  \n", // any blanks between
        "some avg10=1 avg60=2.0 avg300=3.000000000 total=4\n",   // 0 to 9 decimals
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        beat_psi p;
        char msg[256];
        CHECK_MSG(parse(ok[i], &p, msg, sizeof msg) == BEAT_OK, "case %zu: %s", i, msg);
        CHECK(near(p.some_avg10, 1.0) && near(p.some_avg60, 2.0) && near(p.some_avg300, 3.0));
        CHECK_EQ(p.some_total, 4);
    }
}

static void parser_accepts_the_extremes(void)
{
    beat_psi p;
    char msg[256];
    CHECK_EQ(parse("some avg10=100.00 avg60=0.00 avg300=100 total=18446744073709551615\n"
                   "full avg10=0.000000001 avg60=99.999999999 avg300=100.0 total=0\n",
                   &p, msg, sizeof msg),
             BEAT_OK);
    CHECK(p.some_avg10 == 100.0 && p.some_avg300 == 100.0 && p.full_avg300 == 100.0);
    CHECK(p.full_avg10 > 0.0 && p.full_avg10 < 1e-8 && p.full_avg60 < 100.0);
    CHECK(p.some_total == ~0ULL && p.full_total == 0);
}

// Each malformed file, and a word the message must contain.
static void parser_rejects_malformed_files(void)
{
    static char long_line[400];
    memset(long_line, ' ', sizeof long_line - 1);
    static const char head[] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0";
    memcpy(long_line, head, sizeof head - 1);
    static const struct {
        const char *text, *problem;
    } bad[] = {
        {"", "empty file"},
        {"hello world\n", "line 1: \"some\" or \"full\" expected"},
        {"\x01\x02garbage\xff", "line 1: \"some\" or \"full\" expected"},
        {"some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n", "line 1: avg10 is not a number"},
        {"some avg10=0.00 avg60=100.01 avg300=0.00 total=0\n", "avg60 is not a number from 0"},
        {"some avg10=0.00 avg60=0.00 avg300=101 total=0\n", "avg300 is not a number"},
        {"some avg10=1e2 avg60=0.00 avg300=0.00 total=0\n", "avg10 is not a number"},
        {"some avg10=.5 avg60=0.00 avg300=0.00 total=0\n", "avg10 is not a number"},
        {"some avg10=5. avg60=0.00 avg300=0.00 total=0\n", "avg10 is not a number"},
        {"some avg10=0.0000000001 avg60=0.00 avg300=0.00 total=0\n", "avg10 is not a number"},
        {"some avg10=nan avg60=0.00 avg300=0.00 total=0\n", "avg10 is not a number"},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n",
         "total is not a whole number below 2^64"},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=99999999999999999999999\n",
         "total is not a whole"},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n", "total is not a whole"},
        {long_line, "line 1: longer than 255 characters"},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=0 avg600=0.00\n",
         "unexpected text after total"},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=0x10\n", "total is not a whole"},
        {"some avg10=0.00 avg60=0.00 total=0\n", "line 1: avg300= expected"},
        {"some avg10=0.00 avg60=0.00 avg300=0.00\n", "line 1: total= expected"},
        {"some\n", "\"some\" or \"full\" expected"},
        {"some avg10=0.00avg60=0.00 avg300=0.00 total=0\n", "avg10 is not a number"},
        {"some avg60=0.00 avg10=0.00 avg300=0.00 total=0\n", "avg10= expected"},
        {"some avg10 = 0.00 avg60=0.00 avg300=0.00 total=0\n", "avg10= expected"},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
         "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
         "line 2: a second \"some\" line"},
        {NORMAL "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "line 3: a second \"full\""},
        {"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "line 1: \"full\" before"},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n\n", "line 2: empty line"},
        {"\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "line 1: empty line"},
        {" some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "\"some\" or \"full\" expected"},
        {"SOME avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "\"some\" or \"full\" expected"},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\r\r\n", "total is not a whole"},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00\n",
         "line 2: avg60= expected"},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\ncpu avg10=0.00\n", "line 2: \"some\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        beat_psi p;
        char msg[256];
        memset(&p, 0x55, sizeof p);
        beat_result r = parse(bad[i].text, &p, msg, sizeof msg);
        CHECK_MSG(r == BEAT_ERROR_PARSE, "case %zu parsed (%s)", i, bad[i].text);
        CHECK_MSG(strstr(msg, bad[i].problem) != NULL, "case %zu: \"%s\" lacks \"%s\"", i, msg,
                  bad[i].problem);
        CHECK_MSG(p.has_full == 0 && p.some_total == 0 && p.some_avg10 == 0.0,
                  "case %zu: output not zeroed", i);
    }
    bt_note("%zu malformed files rejected with the expected message", sizeof bad / sizeof bad[0]);
}

static void parser_rejects_nul_bytes_and_reads_no_further_than_told(void)
{
    static const char text[] = "some avg10=0.00 avg60=0.00\0avg300=0.00 total=0\n";
    beat_psi p;
    char msg[128] = "";
    CHECK_EQ(beat__psi_parse(text, sizeof text - 1, &p, msg, sizeof msg), BEAT_ERROR_PARSE);
    CHECK(strstr(msg, "NUL byte") != NULL);
    // Only the first 46 bytes of a longer buffer: the line ends there.
    static const char longer[] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=1234 junk";
    CHECK_EQ(beat__psi_parse(longer, 46, &p, NULL, 0), BEAT_OK);
    CHECK_EQ(p.some_total, 1);
}

static void parser_messages_are_cut_to_the_capacity(void)
{
    beat_psi p;
    char msg[12];
    memset(msg, 'x', sizeof msg);
    msg[0] = '\0';
    CHECK_EQ(beat__psi_parse("junk", 4, &p, msg, sizeof msg), BEAT_ERROR_PARSE);
    CHECK(strlen(msg) == sizeof msg - 1 && strncmp(msg, "line 1: \"so", 11) == 0);
    CHECK_EQ(beat__psi_parse("junk", 4, &p, NULL, 0), BEAT_ERROR_PARSE);
}

// ---------------------------------------------------------------------------
// Reading files

static void read_at_reads_a_file_below_the_root(void)
{
    const char *root = tree_new();
    put(root, "proc/pressure/memory", NORMAL);
    beat_psi p;
    char msg[256] = "junk";
    CHECK_EQ(beat_psi_read_at(root, "/proc/pressure/memory", &p, msg, sizeof msg), BEAT_OK);
    CHECK(msg[0] == '\0' && p.has_full && p.some_total == 2875331);
    CHECK_EQ(beat_psi_read_at(root, "proc/pressure/memory", &p, NULL, 0), BEAT_OK);
}

static void read_at_names_the_file_and_the_problem(void)
{
    const char *root = tree_new();
    put(root, "bad", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=300\n");
    char expect[600];
    snprintf(expect, sizeof expect, "%s/bad: line 2: avg10 is not a number from 0 to 100", root);
    beat_psi p;
    char msg[600];
    CHECK_EQ(beat_psi_read_at(root, "bad", &p, msg, sizeof msg), BEAT_ERROR_PARSE);
    CHECK_MSG(strcmp(msg, expect) == 0, "\"%s\"", msg);
    CHECK(p.some_total == 0 && p.has_full == 0);
    CHECK(strchr(msg, '\n') == NULL);
}

static void read_at_reports_missing_files_directories_and_oversized_files(void)
{
    const char *root = tree_new();
    put_dir(root, "proc/pressure/memory");
    char big[3000];
    memset(big, 'a', sizeof big);
    put_bytes(root, "big", big, sizeof big);
    put(root, "empty", "%s", "");
    static const struct {
        const char *path, *problem;
        beat_result r;
    } cases[] = {
        {"missing", "/missing: no such file", BEAT_ERROR_IO},
        {"empty/below", "/empty/below: a part of the path is not a directory", BEAT_ERROR_IO},
        {"proc/pressure/memory", "/proc/pressure/memory: is a directory", BEAT_ERROR_IO},
        {"big", "/big: too long for a pressure file", BEAT_ERROR_PARSE},
        {"empty", "/empty: empty file", BEAT_ERROR_PARSE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        beat_psi p;
        char msg[600];
        CHECK_EQ(beat_psi_read_at(root, cases[i].path, &p, msg, sizeof msg), cases[i].r);
        CHECK_MSG(strncmp(msg, root, strlen(root)) == 0 && strstr(msg, cases[i].problem),
                  "case %zu: \"%s\"", i, msg);
    }
    beat_psi p;
    CHECK_EQ(beat_psi_read_at(root, "x", NULL, NULL, 0), BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_psi_read(NULL, NULL), BEAT_ERROR_INVALID_ARGUMENT);
    char longpath[5000];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    static char msg[6000];
    CHECK_EQ(beat_psi_read_at(root, longpath, &p, msg, sizeof msg), BEAT_ERROR_IO);
    CHECK(strstr(msg, "too long") != NULL);
}

static void a_relative_path_on_the_live_system_is_relative_to_the_working_directory(void)
{
    const char *root = tree_new();
    put(root, "sub/pressure", NORMAL);
    char cwd[512];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(root) == 0);
    beat_psi p;
    char msg[256];
    beat_result r1 = beat_psi_read_at(NULL, "sub/pressure", &p, msg, sizeof msg);
    beat_result r2 = beat_psi_read("sub/pressure", &p);
    beat_result r3 = beat_psi_read_at("/", "sub/missing", &p, msg, sizeof msg);
    CHECK(chdir(cwd) == 0);
    CHECK_EQ(r1, BEAT_OK);
    CHECK_EQ(r2, BEAT_OK);
    CHECK(r3 == BEAT_ERROR_IO && strcmp(msg, "sub/missing: no such file") == 0);
}

// ---------------------------------------------------------------------------
// Which file path NULL reads

#define OTHER "some avg10=7.00 avg60=0.00 avg300=0.00 total=70\n"

static void auto_selection_prefers_the_cgroup_v2_memory_pressure(void)
{
    const char *root = tree_new();
    put(root, "proc/self/cgroup", "0::/a/b\n");
    put(root, "sys/fs/cgroup/a/b/memory.pressure", OTHER);
    put(root, "proc/pressure/memory", NORMAL);
    beat_psi p;
    char msg[256];
    CHECK_EQ(beat_psi_read_at(root, NULL, &p, msg, sizeof msg), BEAT_OK);
    CHECK(p.some_total == 70 && !p.has_full);
    beat_pressure_files f;
    CHECK_EQ(beat_pressure_locate(root, &f), BEAT_OK);
    CHECK(strcmp(f.pressure, "/sys/fs/cgroup/a/b/memory.pressure") == 0);
    CHECK(strcmp(f.memory_group, "/sys/fs/cgroup/a/b") == 0 && f.memory_version == 2);
    CHECK_EQ(f.memory_mount_len, strlen("/sys/fs/cgroup"));
}

static void auto_selection_falls_back_to_proc_pressure_memory(void)
{
    // The group has no memory.pressure (a kernel with cgroup PSI off).
    const char *root = tree_new();
    put(root, "proc/self/cgroup", "0::/a/b\n");
    put_dir(root, "sys/fs/cgroup/a/b");
    put(root, "proc/pressure/memory", NORMAL);
    beat_psi p;
    CHECK_EQ(beat_psi_read_at(root, NULL, &p, NULL, 0), BEAT_OK);
    CHECK(p.some_total == 2875331);
    // cgroup v1 only (no "0::" line): no v2 group to look in.
    root = tree_new();
    put(root, "proc/self/cgroup", "4:memory:/m\n3:cpu:/c\n");
    put(root, "sys/fs/cgroup/memory.pressure", OTHER);
    put(root, "proc/pressure/memory", NORMAL);
    CHECK_EQ(beat_psi_read_at(root, NULL, &p, NULL, 0), BEAT_OK);
    CHECK(p.some_total == 2875331);
    // No proc/self/cgroup at all.
    root = tree_new();
    put(root, "proc/pressure/memory", NORMAL);
    CHECK_EQ(beat_psi_read_at(root, NULL, &p, NULL, 0), BEAT_OK);
    CHECK(p.some_total == 2875331);
}

static void auto_selection_finds_the_hybrid_unified_mount(void)
{
    // systemd's hybrid layout, like this machine's: memory on v1, the v2
    // hierarchy at /sys/fs/cgroup/unified (named in proc/mounts).
    const char *root = tree_new();
    put(root, "proc/mounts",
        "tmpfs /sys/fs/cgroup tmpfs rw 0 0\n"
        "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
        "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n");
    put(root, "proc/self/cgroup", "4:memory:/job\n1:name=systemd:/\n0::/svc\n");
    put(root, "sys/fs/cgroup/unified/svc/memory.pressure", OTHER);
    put(root, "sys/fs/cgroup/memory/job/memory.usage_in_bytes", "100\n");
    beat_psi p;
    CHECK_EQ(beat_psi_read_at(root, NULL, &p, NULL, 0), BEAT_OK);
    CHECK_EQ(p.some_total, 70);
    beat_pressure_files f;
    CHECK_EQ(beat_pressure_locate(root, &f), BEAT_OK);
    CHECK(strcmp(f.memory_group, "/sys/fs/cgroup/memory/job") == 0 && f.memory_version == 1);
    CHECK(strcmp(f.pressure, "/sys/fs/cgroup/unified/svc/memory.pressure") == 0);
}

static void auto_selection_with_nothing_names_proc_pressure_memory(void)
{
    const char *root = tree_new();
    beat_psi p;
    char msg[600];
    CHECK_EQ(beat_psi_read_at(root, NULL, &p, msg, sizeof msg), BEAT_ERROR_IO);
    CHECK_MSG(strstr(msg, "/proc/pressure/memory: no such file") != NULL, "\"%s\"", msg);
    beat_pressure_files f;
    CHECK_EQ(beat_pressure_locate(root, &f), BEAT_OK);
    CHECK(f.memory_version == 0 && f.memory_group[0] == '\0');
    CHECK_EQ(beat_pressure_locate(root, NULL), BEAT_ERROR_INVALID_ARGUMENT);
}

static void auto_selection_reports_a_malformed_cgroup_file_instead_of_falling_back(void)
{
    const char *root = tree_new();
    put(root, "proc/self/cgroup", "0::/a\n");
    put(root, "sys/fs/cgroup/a/memory.pressure", "some avg10=x\n");
    put(root, "proc/pressure/memory", NORMAL);
    beat_psi p;
    char msg[600];
    CHECK_EQ(beat_psi_read_at(root, NULL, &p, msg, sizeof msg), BEAT_ERROR_PARSE);
    CHECK(strstr(msg, "/sys/fs/cgroup/a/memory.pressure: line 1: avg10 is not") != NULL);
}

// ---------------------------------------------------------------------------
// Headroom

static beat_result headroom(const char *root, beat_memory_headroom *h)
{
    beat_pressure_files f;
    beat_result r = beat_pressure_locate(root, &f);
    return r != BEAT_OK ? r : beat_memory_headroom_read(root, &f, h);
}

// A v2 tree with group /a/b; files given as NULL are left out.
static const char *tree_v2(const char *current, const char *high, const char *max, const char *stat)
{
    const char *root = tree_new();
    put(root, "proc/self/cgroup", "0::/a/b\n");
    put_dir(root, "sys/fs/cgroup/a/b");
    if (current != NULL)
        put(root, "sys/fs/cgroup/a/b/memory.current", "%s", current);
    if (high != NULL)
        put(root, "sys/fs/cgroup/a/b/memory.high", "%s", high);
    if (max != NULL)
        put(root, "sys/fs/cgroup/a/b/memory.max", "%s", max);
    if (stat != NULL)
        put(root, "sys/fs/cgroup/a/b/memory.stat", "%s", stat);
    return root;
}

static void headroom_v2_takes_the_smaller_of_high_and_max(void)
{
    static const struct {
        const char *high, *max;
        unsigned long long limit;
    } cases[] = {
        {"max\n", "1000\n", 1000},               // high "max": no limit
        {"800\n", "1000\n", 800},                // high is the smaller
        {"2000\n", "1000\n", 1000},              // max is the smaller
        {"800\n", "max\n", 800},                 // high alone
        {"max\n", "max\n", 0},                   // no limit: 0
        {NULL, NULL, 0},                         // no files
        {"0\n", "1000\n", 1000},                 // 0 is no limit
        {"garbage\n", "1000\n", 1000},           // garbage is no limit
        {"-5\n", "12 34\n", 0},                  // negative; two numbers
        {"", "1000\r\n", 1000},                  // empty; CRLF
        {"99999999999999999999999\n", "max", 0}, // overflow
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *root = tree_v2("600\n", cases[i].high, cases[i].max, NULL);
        beat_memory_headroom h;
        CHECK_EQ(headroom(root, &h), BEAT_OK);
        CHECK_MSG(h.limit == cases[i].limit, "case %zu: limit %llu", i, h.limit);
        CHECK(h.current == 600 && h.cgroup_version == 2 && h.inactive_file == 0);
    }
}

static void headroom_subtracts_inactive_page_cache_from_the_working_set(void)
{
    const char *root = tree_v2("1000\n", "max\n", "1000\n",
                               "anon 100\nfile 900\ninactive_anon 0\nactive_file 100\n"
                               "inactive_file 800\nworkingset_refault_file 3\n");
    beat_memory_headroom h;
    CHECK_EQ(headroom(root, &h), BEAT_OK);
    CHECK(h.current == 1000 && h.limit == 1000 && h.inactive_file == 800);
    // Full by current, but mostly cache: working set 0.2 of the limit.
    CHECK_EQ(beat_pressure_level_of(NULL, &h, NULL), BEAT_PRESSURE_NONE);
    root = tree_v2("1000\n", "max\n", "1000\n", "inactive_file lots\n");
    CHECK_EQ(headroom(root, &h), BEAT_OK);
    CHECK(h.inactive_file == 0);
    CHECK_EQ(beat_pressure_level_of(NULL, &h, NULL), BEAT_PRESSURE_CRITICAL);
}

static void headroom_the_tightest_group_up_to_the_mount_binds(void)
{
    const char *root = tree_v2("100\n", "max\n", "max\n", NULL);
    put(root, "sys/fs/cgroup/a/memory.current", "900\n");
    put(root, "sys/fs/cgroup/a/memory.max", "1000\n");
    put(root, "sys/fs/cgroup/memory.current", "5000\n"); // the mount: no limit files
    beat_memory_headroom h;
    CHECK_EQ(headroom(root, &h), BEAT_OK);
    CHECK(h.current == 900 && h.limit == 1000);
    // The own group is tighter (0.95 > 0.9).
    put(root, "sys/fs/cgroup/a/b/memory.high", "105\n");
    CHECK_EQ(headroom(root, &h), BEAT_OK);
    CHECK(h.current == 100 && h.limit == 105);
    // No limit anywhere: the own group's current.
    root = tree_v2("100\n", NULL, NULL, NULL);
    put(root, "sys/fs/cgroup/a/memory.current", "900\n");
    CHECK_EQ(headroom(root, &h), BEAT_OK);
    CHECK(h.current == 100 && h.limit == 0 && h.cgroup_version == 2);
}

static void headroom_v1_reads_usage_and_limit_in_bytes(void)
{
    static const struct {
        const char *limit;
        unsigned long long expect;
    } cases[] = {
        {"1048576\n", 1048576},
        {"9223372036854771712\n", 0}, // v1's "no limit"
        {"4611686018427387904\n", 0}, // 2^62
        {"4611686018427387903\n", 4611686018427387903ULL},
        {"-1\n", 0},
        {"max\n", 0},
        {NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *root = tree_new();
        put(root, "proc/self/cgroup", "5:memory:/g\n4:cpu,cpuacct:/\n0::/\n");
        put(root, "sys/fs/cgroup/memory/g/memory.usage_in_bytes", "524288\n");
        put(root, "sys/fs/cgroup/memory/g/memory.stat",
            "cache 10\ninactive_file 1\ntotal_inactive_file 4096\n");
        if (cases[i].limit != NULL)
            put(root, "sys/fs/cgroup/memory/g/memory.limit_in_bytes", "%s", cases[i].limit);
        beat_memory_headroom h;
        CHECK_EQ(headroom(root, &h), BEAT_OK);
        CHECK_MSG(h.limit == cases[i].expect, "case %zu: limit %llu", i, h.limit);
        CHECK(h.current == 524288 && h.cgroup_version == 1);
        CHECK_EQ(h.inactive_file, h.limit == 0 ? 0 : 4096);
    }
}

static void headroom_missing_or_garbage_files_mean_no_limit(void)
{
    beat_memory_headroom h;
    // No cgroup at all.
    CHECK_EQ(headroom(tree_new(), &h), BEAT_OK);
    CHECK(h.cgroup_version == 0 && h.current == 0 && h.limit == 0);
    // A group without memory files (v2 root on old kernels).
    CHECK_EQ(headroom(tree_v2(NULL, NULL, "1000\n", NULL), &h), BEAT_OK);
    CHECK(h.cgroup_version == 2 && h.current == 0 && h.limit == 0);
    // Garbage current: the level is skipped, its limit too.
    CHECK_EQ(headroom(tree_v2("lots\n", NULL, "1000\n", NULL), &h), BEAT_OK);
    CHECK(h.limit == 0);
    CHECK_EQ(headroom(tree_v2("", NULL, "1000\n", NULL), &h), BEAT_OK);
    CHECK(h.limit == 0);
    // files NULL locates first; NULL out is refused.
    const char *root = tree_v2("10\n", NULL, "20\n", NULL);
    CHECK_EQ(beat_memory_headroom_read(root, NULL, &h), BEAT_OK);
    CHECK(h.current == 10 && h.limit == 20);
    CHECK_EQ(beat_memory_headroom_read(root, NULL, NULL), BEAT_ERROR_INVALID_ARGUMENT);
}

// ---------------------------------------------------------------------------
// The level

static beat_psi psi_of(double some10, double full10, int has_full)
{
    beat_psi p;
    memset(&p, 0, sizeof p);
    p.some_avg10 = some10;
    p.full_avg10 = full10;
    p.has_full = has_full;
    return p;
}

static beat_memory_headroom room(unsigned long long current, unsigned long long inactive,
                                 unsigned long long limit)
{
    beat_memory_headroom h;
    memset(&h, 0, sizeof h);
    h.current = current;
    h.inactive_file = inactive;
    h.limit = limit;
    h.cgroup_version = 2;
    return h;
}

static void level_is_the_highest_any_signal_reaches(void)
{
    static const struct {
        double some, full;
        int has_full;
        unsigned long long current, inactive, limit;
        beat_pressure_level expect;
    } cases[] = {
        {0.00, 0.00, 1, 0, 0, 0, BEAT_PRESSURE_NONE},
        {4.99, 0.00, 1, 0, 0, 0, BEAT_PRESSURE_NONE},
        {5.00, 0.00, 1, 0, 0, 0, BEAT_PRESSURE_LOW}, // edges reach
        {9.99, 0.00, 0, 0, 0, 0, BEAT_PRESSURE_LOW},
        {10.0, 0.00, 0, 0, 0, 0, BEAT_PRESSURE_MEDIUM},
        {20.0, 0.00, 0, 0, 0, 0, BEAT_PRESSURE_HIGH},
        {39.99, 0.0, 0, 0, 0, 0, BEAT_PRESSURE_HIGH},
        {40.0, 0.00, 0, 0, 0, 0, BEAT_PRESSURE_CRITICAL},
        {100., 100., 1, 0, 0, 0, BEAT_PRESSURE_CRITICAL},
        {0.00, 1.99, 1, 0, 0, 0, BEAT_PRESSURE_NONE},
        {0.00, 2.00, 1, 0, 0, 0, BEAT_PRESSURE_LOW},
        {5.00, 5.00, 1, 0, 0, 0, BEAT_PRESSURE_MEDIUM},
        {10.0, 10.0, 1, 0, 0, 0, BEAT_PRESSURE_HIGH},
        {21.0, 20.0, 1, 0, 0, 0, BEAT_PRESSURE_CRITICAL},
        {21.0, 20.0, 0, 0, 0, 0, BEAT_PRESSURE_HIGH}, // full ignored
        {0.00, 0.00, 0, 799, 0, 1000, BEAT_PRESSURE_NONE},
        {0.00, 0.00, 0, 800, 0, 1000, BEAT_PRESSURE_LOW},
        {0.00, 0.00, 0, 900, 0, 1000, BEAT_PRESSURE_MEDIUM},
        {0.00, 0.00, 0, 950, 0, 1000, BEAT_PRESSURE_HIGH},
        {0.00, 0.00, 0, 979, 0, 1000, BEAT_PRESSURE_HIGH},
        {0.00, 0.00, 0, 980, 0, 1000, BEAT_PRESSURE_CRITICAL},
        {0.00, 0.00, 0, 5000, 0, 1000, BEAT_PRESSURE_CRITICAL},    // over the limit
        {0.00, 0.00, 0, 1000, 200, 1000, BEAT_PRESSURE_LOW},       // 0.8 working set
        {0.00, 0.00, 0, 1000, 5000, 1000, BEAT_PRESSURE_NONE},     // cache > current
        {0.00, 0.00, 0, 0, 0, 0, BEAT_PRESSURE_NONE},              // limit 0: none
        {12.0, 0.00, 0, 950, 0, 1000, BEAT_PRESSURE_HIGH},         // headroom wins
        {45.0, 0.00, 0, 800, 0, 1000, BEAT_PRESSURE_CRITICAL},     // PSI wins
        {0.00, 0.00, 0, 1ULL << 40, 0, ~0ULL, BEAT_PRESSURE_NONE}, // huge limit
        {0.00, 0.00, 0, 5000, 0, 0, BEAT_PRESSURE_NONE},           // no limit
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        beat_psi p = psi_of(cases[i].some, cases[i].full, cases[i].has_full);
        beat_memory_headroom h = room(cases[i].current, cases[i].inactive, cases[i].limit);
        beat_pressure_level l = beat_pressure_level_of(&p, &h, NULL);
        CHECK_MSG(l == cases[i].expect, "case %zu: %s, expected %s", i, beat_pressure_level_name(l),
                  beat_pressure_level_name(cases[i].expect));
    }
    bt_note("%zu synthetic PSI + headroom inputs", sizeof cases / sizeof cases[0]);
}

static void level_leaves_out_null_signals_and_takes_custom_thresholds(void)
{
    beat_psi p = psi_of(30.0, 0.0, 1);
    beat_memory_headroom h = room(990, 0, 1000);
    CHECK_EQ(beat_pressure_level_of(NULL, NULL, NULL), BEAT_PRESSURE_NONE);
    CHECK_EQ(beat_pressure_level_of(&p, NULL, NULL), BEAT_PRESSURE_HIGH);
    CHECK_EQ(beat_pressure_level_of(NULL, &h, NULL), BEAT_PRESSURE_CRITICAL);
    beat_pressure_thresholds t = beat_pressure_thresholds_default();
    CHECK(t.some_avg10[0] == 5.0 && t.full_avg10[3] == 20.0 && t.usage[1] == 0.90);
    t.usage[3] = 2.0; // headroom never critical
    t.usage[2] = 1e300;
    CHECK_EQ(beat_pressure_level_of(NULL, &h, &t), BEAT_PRESSURE_MEDIUM);
    t.some_avg10[2] = 50.0; // out of order: the highest reached level counts
    t.some_avg10[3] = 25.0;
    CHECK_EQ(beat_pressure_level_of(&p, NULL, &t), BEAT_PRESSURE_CRITICAL);
    t = beat_pressure_thresholds_default();
    t.some_avg10[0] = __builtin_nan(""); // NaN: never reached
    CHECK_EQ(beat_pressure_level_of(&p, NULL, &t), BEAT_PRESSURE_HIGH);
    p = psi_of(1.0, 0.0, 0);
    CHECK_EQ(beat_pressure_level_of(&p, NULL, &t), BEAT_PRESSURE_NONE);
}

static void level_names(void)
{
    static const char *const names[] = {"none", "low", "medium", "high", "critical"};
    for (int i = 0; i < 5; i++)
        CHECK(strcmp(beat_pressure_level_name((beat_pressure_level)i), names[i]) == 0);
    CHECK(strcmp(beat_pressure_level_name((beat_pressure_level)5), "unknown") == 0);
    CHECK(strcmp(beat_pressure_level_name((beat_pressure_level)-1), "unknown") == 0);
}

// ---------------------------------------------------------------------------
// This machine

static void live_proc_pressure_memory_parses(void)
{
    if (access("/proc/pressure/memory", F_OK) != 0) {
        bt_skip("no /proc/pressure/memory (kernel without PSI)");
        return;
    }
    beat_psi p;
    char msg[256];
    beat_result r = beat_psi_read_at(NULL, "/proc/pressure/memory", &p, msg, sizeof msg);
    if (r == BEAT_ERROR_IO && strstr(msg, "disabled") != NULL) {
        bt_skip(msg);
        return;
    }
    CHECK_MSG(r == BEAT_OK, "%s", msg);
    bt_note("/proc/pressure/memory: some avg10 %.2f total %llu, full %s avg10 %.2f", p.some_avg10,
            p.some_total, p.has_full ? "yes" : "no", p.full_avg10);
    beat_psi again;
    CHECK_EQ(beat_psi_read("/proc/pressure/memory", &again), BEAT_OK);
    CHECK(again.some_total >= p.some_total && again.full_total >= p.full_total);
}

static void live_auto_selection_and_headroom(void)
{
    beat_pressure_files f;
    CHECK_EQ(beat_pressure_locate(NULL, &f), BEAT_OK);
    beat_psi p;
    char msg[600];
    beat_result r = beat_psi_read_at(NULL, NULL, &p, msg, sizeof msg);
    if (r == BEAT_ERROR_IO) {
        bt_skip(msg);
        return;
    }
    CHECK_MSG(r == BEAT_OK, "%s", msg);
    beat_memory_headroom h;
    CHECK_EQ(beat_memory_headroom_read(NULL, &f, &h), BEAT_OK);
    bt_note("pressure file %s; memory group %s (v%d): current %llu, limit %s, level %s", f.pressure,
            f.memory_version ? f.memory_group : "-", h.cgroup_version, h.current,
            h.limit == 0 ? "none" : "set",
            beat_pressure_level_name(beat_pressure_level_of(&p, &h, NULL)));
}

// Opens a trigger on the live file path; 0 with the test skipped when the
// kernel refuses.
static int live_trigger(const char *path, int *fd)
{
    char msg[600];
    beat_result r = beat_psi_trigger_open(NULL, path, 0, 150000, 2000000, fd, msg, sizeof msg);
    if (r == BEAT_ERROR_IO || r == BEAT_ERROR_UNSUPPORTED) {
        bt_skip(msg);
        return 0;
    }
    if (r != BEAT_OK) {
        bt_fail(__FILE__, __LINE__, "%s: %s", beat_result_string(r), msg);
        return 0;
    }
    return 1;
}

static void live_trigger_on_proc_pressure_memory_polls(void)
{
    int fd;
    if (!live_trigger("/proc/pressure/memory", &fd))
        return;
    // Nothing is pressing memory here: no event within 100 ms is the
    // likely answer, but an event (POLLPRI) is legal too. Never an error.
    struct pollfd pfd = {fd, POLLPRI, 0};
    int n = poll(&pfd, 1, 100);
    CHECK(n == 0 || (n == 1 && (pfd.revents & (POLLERR | POLLNVAL)) == 0));
    // A second trigger on the same descriptor is refused (EBUSY).
    CHECK(write(fd, "some 150000 2000000", 20) < 0 && errno == EBUSY);
    CHECK(close(fd) == 0);
    // A 1 s window needs CAP_SYS_RESOURCE; without it the message says why.
    char msg[600];
    beat_result r = beat_psi_trigger_open(NULL, "/proc/pressure/memory", 1, 50000, 1000000, &fd,
                                          msg, sizeof msg);
    CHECK_MSG(r == BEAT_OK || (r == BEAT_ERROR_UNSUPPORTED && strstr(msg, "multiple of 2 s")), "%s",
              msg);
    if (r == BEAT_OK)
        close(fd);
    bt_note("trigger \"some 150000 2000000\" on /proc/pressure/memory: fd ok, poll %s; "
            "\"full 50000 1000000\" %s",
            n == 0 ? "quiet" : "event", r == BEAT_OK ? "accepted" : "refused (not privileged)");
}

static void live_trigger_on_the_auto_selected_file(void)
{
    int fd;
    if (!live_trigger(NULL, &fd))
        return;
    struct pollfd pfd = {fd, POLLPRI, 0};
    int n = poll(&pfd, 1, 0);
    CHECK(n == 0 || (pfd.revents & (POLLERR | POLLNVAL)) == 0);
    CHECK(close(fd) == 0);
}

static void trigger_refuses_bad_arguments_and_fake_files(void)
{
    int fd = 7;
    char msg[600];
    CHECK_EQ(beat_psi_trigger_open(NULL, NULL, 0, 0, 2000000, &fd, msg, sizeof msg),
             BEAT_ERROR_INVALID_ARGUMENT);
    CHECK(fd == -1 && strstr(msg, "stall_us") != NULL);
    CHECK_EQ(beat_psi_trigger_open(NULL, NULL, 0, 3000000, 2000000, &fd, NULL, 0),
             BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_psi_trigger_open(NULL, NULL, 1, 100000, 12000000, &fd, NULL, 0),
             BEAT_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(beat_psi_trigger_open(NULL, NULL, 0, 100, 2000000, NULL, NULL, 0),
             BEAT_ERROR_INVALID_ARGUMENT);
    // A fake tree's file is no kernel file: refused, and left as it was.
    const char *root = tree_new();
    put(root, "proc/pressure/memory", NORMAL);
    CHECK_EQ(beat_psi_trigger_open(root, NULL, 0, 100000, 2000000, &fd, msg, sizeof msg),
             BEAT_ERROR_UNSUPPORTED);
    CHECK(fd == -1 && strstr(msg, "/proc/pressure/memory: not a kernel pressure file"));
    beat_psi p;
    CHECK_EQ(beat_psi_read_at(root, NULL, &p, NULL, 0), BEAT_OK);
    CHECK_EQ(p.some_total, 2875331);
    CHECK_EQ(beat_psi_trigger_open(root, "missing", 0, 100000, 2000000, &fd, msg, sizeof msg),
             BEAT_ERROR_IO);
    CHECK(strstr(msg, "/missing: no such file") != NULL);
}

int main(int argc, char **argv)
{
    static const bt_case cases[] = {
        BT_CASE(parser_reads_some_and_full_lines),
        BT_CASE(parser_accepts_a_some_line_alone),
        BT_CASE(parser_tolerates_crlf_and_a_missing_final_line_end),
        BT_CASE(parser_accepts_the_extremes),
        BT_CASE(parser_rejects_malformed_files),
        BT_CASE(parser_rejects_nul_bytes_and_reads_no_further_than_told),
        BT_CASE(parser_messages_are_cut_to_the_capacity),
        BT_CASE(read_at_reads_a_file_below_the_root),
        BT_CASE(read_at_names_the_file_and_the_problem),
        BT_CASE(read_at_reports_missing_files_directories_and_oversized_files),
        BT_CASE(a_relative_path_on_the_live_system_is_relative_to_the_working_directory),
        BT_CASE(auto_selection_prefers_the_cgroup_v2_memory_pressure),
        BT_CASE(auto_selection_falls_back_to_proc_pressure_memory),
        BT_CASE(auto_selection_finds_the_hybrid_unified_mount),
        BT_CASE(auto_selection_with_nothing_names_proc_pressure_memory),
        BT_CASE(auto_selection_reports_a_malformed_cgroup_file_instead_of_falling_back),
        BT_CASE(headroom_v2_takes_the_smaller_of_high_and_max),
        BT_CASE(headroom_subtracts_inactive_page_cache_from_the_working_set),
        BT_CASE(headroom_the_tightest_group_up_to_the_mount_binds),
        BT_CASE(headroom_v1_reads_usage_and_limit_in_bytes),
        BT_CASE(headroom_missing_or_garbage_files_mean_no_limit),
        BT_CASE(level_is_the_highest_any_signal_reaches),
        BT_CASE(level_leaves_out_null_signals_and_takes_custom_thresholds),
        BT_CASE(level_names),
        BT_CASE(live_proc_pressure_memory_parses),
        BT_CASE(live_auto_selection_and_headroom),
        BT_CASE(live_trigger_on_proc_pressure_memory_polls),
        BT_CASE(live_trigger_on_the_auto_selected_file),
        BT_CASE(trigger_refuses_bad_arguments_and_fake_files),
    };
    return BT_RUN(cases);
}
