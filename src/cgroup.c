// Cgroup: the CPU limits of this process's control group, v1 or v2.
//
// proc/self/cgroup names the group ("0::/path" for v2, "N:cpuset:/path"
// and "N:cpu,cpuacct:/path" for v1; without it, proc/self/cpuset names the
// cpuset group); proc/mounts says where each hierarchy is mounted (else
// the usual places under sys/fs/cgroup). All paths are below the caller's
// root. The cpuset is the one nearest the group (v2 cpuset.cpus.effective,
// v1 cpuset.effective_cpus or cpuset.cpus, walking up to the mount point
// while missing); the quota is the smallest on the path from the group up
// (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us). Odd values
// ("max", -1, period 0, garbage, absurdly large quotas) mean no limit.
//
// For PSI (psi.c) the same discovery also finds the process's v2 group,
// where memory.pressure lives even when the controllers are on v1, and its
// memory controller group (v1 "memory" line, else the v2 group).
#include "config.h"
#include "text.c"

#include <string.h>
#include <unistd.h>

#define BEAT__CGROUP_TEXT_BYTES 65536 // proc/mounts can be long in containers
#define BEAT__CGROUP_MOUNT_BYTES 256
#define BEAT__CGROUP_QUOTA_MAX 1e7 // CPUs; a larger quota is no limit
#define BEAT__CGROUP_PERIOD_US 100000

// What the cgroup says about CPUs.
typedef struct beat__cgroup {
    int version;    // 0 none found, 2, or 1 when cpu or cpuset is on v1
    int has_cpuset; // the cpuset bitmap was filled (a non-empty set)
    double quota;   // CPUs' worth of time per period; 0 = no limit
} beat__cgroup;

// One controller's group: mount point + path, relative to the root.
typedef struct beat__cgroup_place {
    char dir[BEAT__PATH_MAX];
    size_t mount_len; // dir[0..mount_len) is the mount point
    int found, v1;
} beat__cgroup_place;

typedef struct beat__cgroup_scratch {
    char text[BEAT__CGROUP_TEXT_BYTES];
    char path[BEAT__PATH_MAX];
    // Mount points, and whether proc/mounts listed them (else defaults).
    char v2[BEAT__CGROUP_MOUNT_BYTES], cpuset[BEAT__CGROUP_MOUNT_BYTES],
        cpu[BEAT__CGROUP_MOUNT_BYTES], memory[BEAT__CGROUP_MOUNT_BYTES];
    int v2_listed, cpuset_listed;
    beat__cgroup_place cpuset_group, cpu_group;
    beat__cgroup_place v2_group, memory_group; // for PSI; found is 0 if none
} beat__cgroup_scratch;

// True when the comma-separated list s[0..len) holds token.
BEAT__PRIVATE int beat__cgroup_has_token(const char *s, size_t len, const char *token)
{
    size_t tlen = strlen(token);
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && s[end] != ',')
            end++;
        if (end - i == tlen && memcmp(s + i, token, tlen) == 0)
            return 1;
        i = end + 1;
    }
    return 0;
}

// Copies s[0..len) without trailing slashes into out (cap bytes); returns
// 0, or -1 when it does not fit.
BEAT__PRIVATE int beat__cgroup_copy(char *out, size_t cap, const char *s, size_t len)
{
    while (len > 0 && s[len - 1] == '/')
        len--;
    if (len + 1 > cap)
        return -1;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

// Splits line into up to n blank-separated fields; returns how many.
BEAT__PRIVATE unsigned beat__cgroup_fields(const char *line, const char *end, const char **field,
                                           size_t *len, unsigned n)
{
    unsigned count = 0;
    while (count < n) {
        while (line < end && (*line == ' ' || *line == '\t'))
            line++;
        if (line == end)
            break;
        field[count] = line;
        while (line < end && *line != ' ' && *line != '\t')
            line++;
        len[count] = (size_t)(line - field[count]);
        count++;
    }
    return count;
}

// Notes where one proc/mounts line mounts a hierarchy we care about.
BEAT__PRIVATE void beat__cgroup_mount_line(beat__cgroup_scratch *s, const char *line,
                                           const char *end)
{
    const char *f[4];
    size_t len[4];
    if (beat__cgroup_fields(line, end, f, len, 4) < 4)
        return;
    if (len[2] == 7 && memcmp(f[2], "cgroup2", 7) == 0 && s->v2[0] == '\0')
        beat__cgroup_copy(s->v2, sizeof s->v2, f[1], len[1]);
    if (len[2] != 6 || memcmp(f[2], "cgroup", 6) != 0)
        return;
    if (beat__cgroup_has_token(f[3], len[3], "cpuset") && s->cpuset[0] == '\0')
        beat__cgroup_copy(s->cpuset, sizeof s->cpuset, f[1], len[1]);
    if (beat__cgroup_has_token(f[3], len[3], "cpu") && s->cpu[0] == '\0')
        beat__cgroup_copy(s->cpu, sizeof s->cpu, f[1], len[1]);
    if (beat__cgroup_has_token(f[3], len[3], "memory") && s->memory[0] == '\0')
        beat__cgroup_copy(s->memory, sizeof s->memory, f[1], len[1]);
}

// True when root/rel exists.
BEAT__PRIVATE int beat__cgroup_exists(const char *root, const char *rel)
{
    char full[BEAT__PATH_MAX];
    return beat__text_path(full, sizeof full, root, rel) == 0 && access(full, F_OK) == 0;
}

// Finds the mount points in proc/mounts, else takes the usual places.
BEAT__PRIVATE void beat__cgroup_mounts(const char *root, beat__cgroup_scratch *s)
{
    long len = beat__text_read(root, "proc/mounts", s->text, sizeof s->text);
    if (len == (long)sizeof s->text - 1) // cut: drop the partial last line
        while (len > 0 && s->text[len - 1] != '\n')
            s->text[--len] = '\0';
    for (const char *p = s->text; len > 0 && *p != '\0';) {
        const char *end = strchr(p, '\n');
        end = end != NULL ? end : p + strlen(p);
        beat__cgroup_mount_line(s, p, end);
        p = *end != '\0' ? end + 1 : end;
    }
    s->v2_listed = s->v2[0] != '\0';
    s->cpuset_listed = s->cpuset[0] != '\0';
    if (s->v2[0] == '\0')
        strcpy(s->v2, beat__cgroup_exists(root, "sys/fs/cgroup/unified/cgroup.controllers")
                          ? "/sys/fs/cgroup/unified"
                          : "/sys/fs/cgroup");
    if (s->cpuset[0] == '\0')
        strcpy(s->cpuset, "/sys/fs/cgroup/cpuset");
    if (s->cpu[0] == '\0')
        strcpy(s->cpu, beat__cgroup_exists(root, "sys/fs/cgroup/cpu,cpuacct")
                           ? "/sys/fs/cgroup/cpu,cpuacct"
                           : "/sys/fs/cgroup/cpu");
    if (s->memory[0] == '\0')
        strcpy(s->memory, "/sys/fs/cgroup/memory");
}

// Sets place to group path[0..len) below mount. A path that climbs out
// (".." from a cgroup namespace) or does not fit leaves the mount itself.
BEAT__PRIVATE void beat__cgroup_place_at(beat__cgroup_place *place, const char *mount, int v1,
                                         const char *path, size_t len)
{
    strcpy(place->dir, mount);
    place->mount_len = strlen(mount);
    place->found = 1;
    place->v1 = v1;
    for (size_t i = 0; i + 1 < len; i++)
        if (path[i] == '.' && path[i + 1] == '.' && (i == 0 || path[i - 1] == '/'))
            return;
    while (len > 0 && (path[len - 1] == '\n' || path[len - 1] == '\r' || path[len - 1] == '/'))
        len--;
    for (; len > 0 && path[0] == '/'; len--)
        path++;
    size_t at = place->mount_len;
    if (len == 0 || at + 1 + len + 1 > sizeof place->dir)
        return;
    place->dir[at] = '/';
    memcpy(place->dir + at + 1, path, len);
    place->dir[at + 1 + len] = '\0';
}

// Handles one proc/self/cgroup line "id:controllers:path". Remembers the
// v2 path in *v2 / *v2_len.
BEAT__PRIVATE void beat__cgroup_group_line(beat__cgroup_scratch *s, const char *line,
                                           const char *end, const char **v2, size_t *v2_len)
{
    const char *c1 = (const char *)memchr(line, ':', (size_t)(end - line));
    const char *c2 = c1 != NULL ? (const char *)memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
    if (c2 == NULL)
        return;
    const char *path = c2 + 1;
    size_t ctl_len = (size_t)(c2 - c1 - 1), path_len = (size_t)(end - path);
    if (c1 - line == 1 && line[0] == '0' && ctl_len == 0) {
        *v2 = path;
        *v2_len = path_len;
        return;
    }
    if (beat__cgroup_has_token(c1 + 1, ctl_len, "cpuset"))
        beat__cgroup_place_at(&s->cpuset_group, s->cpuset, 1, path, path_len);
    if (beat__cgroup_has_token(c1 + 1, ctl_len, "cpu"))
        beat__cgroup_place_at(&s->cpu_group, s->cpu, 1, path, path_len);
    if (beat__cgroup_has_token(c1 + 1, ctl_len, "memory"))
        beat__cgroup_place_at(&s->memory_group, s->memory, 1, path, path_len);
}

// Without proc/self/cgroup: proc/self/cpuset names the cpuset group, in
// the v1 cpuset hierarchy if proc/mounts lists one, else in v2.
BEAT__PRIVATE int beat__cgroup_legacy(const char *root, beat__cgroup_scratch *s)
{
    long len = beat__text_read(root, "proc/self/cpuset", s->text, BEAT__PATH_MAX);
    if (len <= 0 || s->text[0] != '/')
        return 0;
    int v1 = s->cpuset_listed ||
             (!s->v2_listed && beat__cgroup_exists(root, "sys/fs/cgroup/cpuset/cpuset.cpus"));
    beat__cgroup_place_at(&s->cpuset_group, v1 ? s->cpuset : s->v2, v1, s->text, (size_t)len);
    return v1 ? 1 : 2;
}

// Finds this process's groups; returns the cgroup version (0 none).
BEAT__PRIVATE int beat__cgroup_groups(const char *root, beat__cgroup_scratch *s)
{
    long len = beat__text_read(root, "proc/self/cgroup", s->text, sizeof s->text);
    if (len < 0)
        return beat__cgroup_legacy(root, s);
    const char *v2 = NULL;
    size_t v2_len = 0;
    for (const char *p = s->text; *p != '\0';) {
        const char *end = strchr(p, '\n');
        end = end != NULL ? end : p + strlen(p);
        beat__cgroup_group_line(s, p, end, &v2, &v2_len);
        p = *end != '\0' ? end + 1 : end;
    }
    if (v2 != NULL) {
        beat__cgroup_place_at(&s->v2_group, s->v2, 0, v2, v2_len);
        if (!s->memory_group.found)
            s->memory_group = s->v2_group;
    }
    if (s->cpuset_group.found || s->cpu_group.found)
        return 1;
    if (v2 == NULL)
        return 0;
    beat__cgroup_place_at(&s->cpuset_group, s->v2, 0, v2, v2_len);
    beat__cgroup_place_at(&s->cpu_group, s->v2, 0, v2, v2_len);
    return 2;
}

// Moves place one group up; 0 when it is already at the mount point.
BEAT__PRIVATE int beat__cgroup_up(beat__cgroup_place *place)
{
    size_t len = strlen(place->dir);
    if (len <= place->mount_len)
        return 0;
    while (len > place->mount_len && place->dir[len - 1] != '/')
        len--;
    while (len > place->mount_len && place->dir[len - 1] == '/')
        len--;
    place->dir[len] = '\0';
    return 1;
}

// Sets s->path to file name of the group at place; 0, or -1 if too long.
BEAT__PRIVATE int beat__cgroup_path(beat__cgroup_scratch *s, const beat__cgroup_place *place,
                                    const char *name)
{
    s->path[0] = '\0';
    if (beat__text_append(s->path, sizeof s->path, place->dir) != 0 ||
        beat__text_append(s->path, sizeof s->path, "/") != 0 ||
        beat__text_append(s->path, sizeof s->path, name) != 0)
        return -1;
    return 0;
}

// Reads file name of the group at place into s->text; length or -1.
BEAT__PRIVATE long beat__cgroup_read_file(const char *root, beat__cgroup_scratch *s,
                                          const beat__cgroup_place *place, const char *name)
{
    if (beat__cgroup_path(s, place, name) != 0)
        return -1;
    return beat__text_read(root, s->path, s->text, sizeof s->text);
}

// The cpuset nearest the group into cpuset (nbits bits); 1 when found.
BEAT__PRIVATE int beat__cgroup_cpuset(const char *root, beat__cgroup_scratch *s, uint64_t *cpuset,
                                      unsigned nbits)
{
    static const char *const v1_files[] = {"cpuset.effective_cpus", "cpuset.cpus", NULL};
    static const char *const v2_files[] = {"cpuset.cpus.effective", NULL};
    beat__cgroup_place *place = &s->cpuset_group;
    const char *const *files = place->v1 ? v1_files : v2_files;
    do {
        for (int i = 0; files[i] != NULL; i++)
            if (beat__cgroup_read_file(root, s, place, files[i]) >= 0 &&
                beat__text_parse_cpulist(s->text, cpuset, nbits) > 0)
                return 1;
    } while (beat__cgroup_up(place));
    return 0;
}

// CPUs from quota and period (microseconds); 0 when either is nonsense.
BEAT__PRIVATE double beat__cgroup_cpus(unsigned long long quota, unsigned long long period)
{
    if (period == 0 || quota == 0)
        return 0.0;
    double cpus = (double)quota / (double)period;
    return cpus < BEAT__CGROUP_QUOTA_MAX ? cpus : 0.0;
}

// v2 cpu.max of one group: "max 100000" or "50000 100000" (period optional).
BEAT__PRIVATE double beat__cgroup_cpu_max(const char *root, beat__cgroup_scratch *s)
{
    if (beat__cgroup_read_file(root, s, &s->cpu_group, "cpu.max") < 0)
        return 0.0;
    const char *p = beat__text_skip_blank(s->text);
    unsigned long long quota, period = BEAT__CGROUP_PERIOD_US;
    if (!beat__text_parse_u64(&p, ~0ULL, &quota))
        return 0.0; // "max" or garbage
    p = beat__text_skip_blank(p);
    if (!beat__text_at_end(p) && !beat__text_parse_u64(&p, ~0ULL, &period))
        return 0.0;
    return beat__text_at_end(p) ? beat__cgroup_cpus(quota, period) : 0.0;
}

// v1 cpu.cfs_quota_us / cpu.cfs_period_us of one group (quota -1: none).
BEAT__PRIVATE double beat__cgroup_cfs(const char *root, beat__cgroup_scratch *s)
{
    long long quota, period;
    if (beat__cgroup_path(s, &s->cpu_group, "cpu.cfs_quota_us") != 0 ||
        !beat__text_read_i64(root, s->path, &quota) || quota <= 0)
        return 0.0;
    if (beat__cgroup_path(s, &s->cpu_group, "cpu.cfs_period_us") != 0 ||
        !beat__text_read_i64(root, s->path, &period) || period <= 0)
        return 0.0;
    return beat__cgroup_cpus((unsigned long long)quota, (unsigned long long)period);
}

// The smallest quota from the group up to the mount point; 0 = none.
BEAT__PRIVATE double beat__cgroup_quota(const char *root, beat__cgroup_scratch *s)
{
    double best = 0.0;
    do {
        double cpus = s->cpu_group.v1 ? beat__cgroup_cfs(root, s) : beat__cgroup_cpu_max(root, s);
        if (cpus > 0.0 && (best == 0.0 || cpus < best))
            best = cpus;
    } while (beat__cgroup_up(&s->cpu_group));
    return best;
}

// Reads the limits of this process's cgroup below root into *out and, if
// it has one, its cpuset into cpuset (nbits bits). Anything missing or
// malformed just means "no limit"; an allocation failure too.
BEAT__PRIVATE void beat__cgroup_read(const char *root, uint64_t *cpuset, unsigned nbits,
                                     beat__cgroup *out)
{
    memset(out, 0, sizeof *out);
    beat__cgroup_scratch *s = (beat__cgroup_scratch *)BEAT_MALLOC(sizeof *s);
    if (s == NULL)
        return;
    memset(s, 0, sizeof *s);
    beat__cgroup_mounts(root, s);
    out->version = beat__cgroup_groups(root, s);
    if (s->cpuset_group.found)
        out->has_cpuset = beat__cgroup_cpuset(root, s, cpuset, nbits);
    if (s->cpu_group.found)
        out->quota = beat__cgroup_quota(root, s);
    BEAT_FREE(s);
}

// Finds this process's v2 group and memory group (s->v2_group and
// s->memory_group; found is 0 for either when proc/self/cgroup has no such
// line). Returns 0, or -1 when the scratch cannot be allocated (*out is
// then NULL); the caller frees *out with BEAT_FREE.
BEAT__PRIVATE int beat__cgroup_locate(const char *root, beat__cgroup_scratch **out)
{
    beat__cgroup_scratch *s = (beat__cgroup_scratch *)BEAT_MALLOC(sizeof *s);
    *out = s;
    if (s == NULL)
        return -1;
    memset(s, 0, sizeof *s);
    beat__cgroup_mounts(root, s);
    (void)beat__cgroup_groups(root, s);
    return 0;
}
