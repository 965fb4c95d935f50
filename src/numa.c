// NUMA: node-bound pages through raw system calls (mbind, move_pages,
// getcpu). libnuma is not used, so the header stays dependency-free; the
// constants below are the kernel's (linux/mempolicy.h).
#include "config.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BEAT__MPOL_PREFERRED 1
#define BEAT__NUMA_MAX_NODES 1024 // nodes a bind mask can name

BEAT__PRIVATE size_t beat__page_round(size_t size)
{
    size_t page = beat__page_size();
    return size > SIZE_MAX - page ? 0 : (size + page - 1) / page * page;
}

// Prefers node for [ptr, ptr + bytes). 0, or the errno of mbind. ENOSYS
// (a kernel without NUMA) counts as success: there is only one node.
BEAT__PRIVATE int beat__numa_prefer(void *ptr, size_t bytes, int node)
{
    unsigned long mask[BEAT__NUMA_MAX_NODES / (8 * sizeof(unsigned long))] = {0};
    const unsigned bits = 8 * sizeof(unsigned long);
    mask[(unsigned)node / bits] = 1UL << ((unsigned)node % bits);
    long r = syscall(SYS_mbind, ptr, bytes, BEAT__MPOL_PREFERRED, mask,
                     (unsigned long)BEAT__NUMA_MAX_NODES, 0u);
    return r == 0 || errno == ENOSYS ? 0 : errno;
}

BEAT__DEF beat_result beat_numa_alloc(size_t size, int node, void **out)
{
    if (out == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    *out = NULL;
    size_t bytes = beat__page_round(size);
    if (size == 0 || bytes == 0 || node < -1 || node >= BEAT__NUMA_MAX_NODES)
        return BEAT_ERROR_INVALID_ARGUMENT;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return BEAT_ERROR_OUT_OF_MEMORY;
    if (node >= 0) {
        int err = beat__numa_prefer(p, bytes, node);
        if (err != 0) {
            munmap(p, bytes);
            // EINVAL: no such node; ENOMEM: the kernel could not allocate the policy.
            return err == ENOMEM ? BEAT_ERROR_OUT_OF_MEMORY : BEAT_ERROR_INVALID_ARGUMENT;
        }
    }
    *out = p;
    return BEAT_OK;
}

BEAT__DEF void beat_numa_free(void *ptr, size_t size)
{
    if (ptr != NULL)
        munmap(ptr, beat__page_round(size));
}

BEAT__DEF int beat_numa_node_of(const void *ptr)
{
    if (ptr == NULL)
        return -1;
    // move_pages with nodes == NULL only reports where each page is.
    void *page = (void *)((uintptr_t)ptr & ~(uintptr_t)(beat__page_size() - 1));
    int status = -1;
    if (syscall(SYS_move_pages, 0, 1UL, &page, NULL, &status, 0) != 0)
        return -1;
    return status >= 0 ? status : -1;
}

BEAT__DEF int beat_numa_current_node(void)
{
    unsigned cpu = 0, node = 0;
    if (syscall(SYS_getcpu, &cpu, &node, NULL) != 0)
        return 0;
    return (int)node;
}
