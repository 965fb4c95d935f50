// Synthetic file trees for tests that read /sys, /proc and cgroup files
// below a root: every tree_new() is a fresh directory below one temporary
// directory (in /dev/shm when possible), removed at exit.
//
//   const char *root = tree_new();
//   put(root, "proc/self/cgroup", "0::/a/b\n");
//   put_dir(root, "sys/fs/cgroup/a/b");
#ifndef BEAT_TEST_TREE_H
#define BEAT_TEST_TREE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tree_top[64];
static unsigned tree_count;

static int tree_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void tree_remove_all(void)
{
    if (tree_top[0] != '\0')
        nftw(tree_top, tree_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

// A new empty directory for one tree (the string lives until exit; the
// last 8 stay valid at once).
__attribute__((unused)) static const char *tree_new(void)
{
    static char roots[8][96];
    if (tree_top[0] == '\0') {
        static const char *const bases[] = {"/dev/shm", "/tmp"}; // memory first
        for (int i = 0; i < 2 && tree_top[0] == '\0'; i++) {
            snprintf(tree_top, sizeof tree_top, "%s/beat-tree-XXXXXX", bases[i]);
            if (mkdtemp(tree_top) == NULL)
                tree_top[0] = '\0';
        }
        if (tree_top[0] == '\0') {
            perror("mkdtemp");
            exit(1);
        }
        atexit(tree_remove_all);
    }
    char *root = roots[tree_count % 8];
    snprintf(root, sizeof roots[0], "%s/t%u", tree_top, tree_count++);
    mkdir(root, 0755);
    return root;
}

// mkdir -p of the directory part of path.
static void tree_make_parents(char *path)
{
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            perror(path);
            exit(1);
        }
        *p = '/';
    }
}

// Writes len bytes of text to root/rel, creating directories.
__attribute__((unused)) static void put_bytes(const char *root, const char *rel, const char *text,
                                              size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 && errno == ENOENT) { // plain open first: most directories exist
        tree_make_parents(path);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        perror(path);
        exit(1);
    }
    close(fd);
}

// Writes root/rel (creating directories) with printf-style content.
__attribute__((unused, format(printf, 3, 4))) static void put(const char *root, const char *rel,
                                                              const char *fmt, ...)
{
    char text[8192];
    va_list args;
    va_start(args, fmt);
    int len = vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    if (len < 0 || (size_t)len >= sizeof text) {
        fprintf(stderr, "put: content of %s too long\n", rel);
        exit(1);
    }
    put_bytes(root, rel, text, (size_t)len);
}

// Creates the directory root/rel and its parents.
__attribute__((unused)) static void put_dir(const char *root, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/", root, rel);
    tree_make_parents(path);
}

#endif // BEAT_TEST_TREE_H
