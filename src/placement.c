// Placement: which CPU each worker runs on when the pool pins, and the
// order in which a worker visits victims when it steals (nearest first).
// Pure functions over a beat_topology; the scheduler applies the results.
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

// Distance levels between two workers' CPUs, nearest first.
enum {
    BEAT__NEAR_CORE,  // SMT siblings (or the same CPU)
    BEAT__NEAR_L2,    // cores sharing an L2
    BEAT__NEAR_L3,    // cores sharing an L3
    BEAT__NEAR_NODE,  // the same NUMA node
    BEAT__NEAR_OTHER, // farther, unpinned workers and outside slots
    BEAT__NEAR_LEVELS
};

// Index into topo->pus of OS CPU os, or BEAT_TOPO_NONE.
BEAT__PRIVATE unsigned beat__placement_pu(const beat_topology *topo, unsigned os)
{
    for (unsigned i = 0; i < topo->npus; i++)
        if (topo->pus[i].os_index == os)
            return i;
    return BEAT_TOPO_NONE;
}

BEAT__PRIVATE int beat__same_group(unsigned a, unsigned b) { return a != BEAT_TOPO_NONE && a == b; }

// How near PUs a and b (indices into topo->pus) are.
BEAT__PRIVATE unsigned beat__placement_level(const beat_topology *topo, unsigned a, unsigned b)
{
    const beat_topo_pu *pa = &topo->pus[a], *pb = &topo->pus[b];
    if (beat__same_group(pa->core, pb->core))
        return BEAT__NEAR_CORE;
    if (beat__same_group(pa->l2, pb->l2))
        return BEAT__NEAR_L2;
    if (beat__same_group(pa->l3, pb->l3))
        return BEAT__NEAR_L3;
    if (beat__same_group(pa->node, pb->node))
        return BEAT__NEAR_NODE;
    return BEAT__NEAR_OTHER;
}

// Sort key of a PU for filling cores: package, die, L3 group, core. Cores
// that share caches get neighbouring workers.
BEAT__PRIVATE int beat__placement_before(const beat_topology *topo, unsigned a, unsigned b)
{
    const beat_topo_pu *pa = &topo->pus[a], *pb = &topo->pus[b];
    const beat_topo_core *ca = &topo->cores[pa->core], *cb = &topo->cores[pb->core];
    if (ca->package != cb->package)
        return ca->package < cb->package;
    if (ca->die != cb->die)
        return ca->die < cb->die;
    if (pa->l3 != pb->l3)
        return pa->l3 < pb->l3;
    if (pa->core != pb->core)
        return pa->core < pb->core;
    return pa->os_index < pb->os_index;
}

// Fills order[] with the allowed PUs (indices into topo->pus) in pinning
// order: the first thread of every core, then every core's second thread,
// and so on. Returns how many (>= 1 on any detected machine).
BEAT__PRIVATE unsigned beat__placement_order(const beat_topology *topo, unsigned *order)
{
    unsigned n = 0;
    for (unsigned smt = 0, added = 1; added; smt++) {
        added = 0;
        unsigned first = n;
        for (unsigned i = 0; i < topo->npus; i++) {
            const beat_topo_pu *pu = &topo->pus[i];
            if (!pu->allowed || pu->smt != smt)
                continue;
            // Insertion sort within this round: rounds are short (cores).
            unsigned j = n++;
            while (j > first && beat__placement_before(topo, i, order[j - 1])) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = i;
            added = 1;
        }
    }
    return n;
}

// Chooses the PU (index into topo->pus) of each of nworkers workers:
// worker_cpus (OS numbers, used round-robin) when given, else the pinning
// order round-robin. Returns OK, INVALID_ARGUMENT (a requested CPU is not
// one this process may use: *bad_cpu says which) or OUT_OF_MEMORY.
BEAT__PRIVATE beat_result beat__placement_choose(const beat_topology *topo, unsigned nworkers,
                                                 const unsigned *worker_cpus, unsigned ncpus,
                                                 unsigned *pu_of_worker, unsigned *bad_cpu)
{
    if (worker_cpus != NULL && ncpus > 0) {
        // Every entry is checked, also those beyond nworkers that no worker
        // uses: the contract is "every CPU must be allowed", and a wrong
        // number in the list is a mistake whether or not it is reached
        // (found by fuzz_config: 3 CPUs for 2 workers, the third not allowed).
        for (unsigned i = 0; i < ncpus; i++) {
            unsigned pu = beat__placement_pu(topo, worker_cpus[i]);
            if (pu == BEAT_TOPO_NONE || !topo->pus[pu].allowed) {
                *bad_cpu = worker_cpus[i];
                return BEAT_ERROR_INVALID_ARGUMENT;
            }
        }
        for (unsigned w = 0; w < nworkers; w++)
            pu_of_worker[w] = beat__placement_pu(topo, worker_cpus[w % ncpus]);
        return BEAT_OK;
    }
    unsigned *order = (unsigned *)BEAT_MALLOC(sizeof(unsigned) * (topo->npus + 1u));
    if (order == NULL)
        return BEAT_ERROR_OUT_OF_MEMORY;
    unsigned n = beat__placement_order(topo, order);
    for (unsigned w = 0; w < nworkers; w++)
        pu_of_worker[w] = n > 0 ? order[w % n] : BEAT_TOPO_NONE;
    BEAT_FREE(order);
    return BEAT_OK;
}

// The victims of worker self among nslots slots, nearest first: victims
// gets nslots - 1 slot indices, level_end[L] the end of level L in it.
// pu_of_worker holds nworkers entries; slots >= nworkers (outside threads)
// and workers without a PU are farthest.
BEAT__PRIVATE void beat__placement_victims(const beat_topology *topo, const unsigned *pu_of_worker,
                                           unsigned nworkers, unsigned nslots, unsigned self,
                                           unsigned *victims, unsigned level_end[BEAT__NEAR_LEVELS])
{
    unsigned count[BEAT__NEAR_LEVELS] = {0};
    unsigned mine = self < nworkers ? pu_of_worker[self] : BEAT_TOPO_NONE;
    for (int pass = 0; pass < 2; pass++) {
        unsigned next[BEAT__NEAR_LEVELS];
        for (unsigned l = 0, sum = 0; l < BEAT__NEAR_LEVELS; l++) {
            next[l] = sum;
            sum += count[l];
            level_end[l] = sum;
        }
        for (unsigned v = 0; v < nslots; v++) {
            if (v == self)
                continue;
            unsigned theirs = v < nworkers ? pu_of_worker[v] : BEAT_TOPO_NONE;
            unsigned level = (unsigned)BEAT__NEAR_OTHER;
            if (mine != BEAT_TOPO_NONE && theirs != BEAT_TOPO_NONE)
                level = beat__placement_level(topo, mine, theirs);
            if (pass == 0)
                count[level]++; // first pass counts, second places (a counting sort)
            else
                victims[next[level]++] = v;
        }
    }
}

// Pins the calling thread to OS CPU cpu. 0, or the error number.
BEAT__PRIVATE int beat__thread_pin(unsigned cpu)
{
    size_t bytes = CPU_ALLOC_SIZE(cpu + 1);
    cpu_set_t *set = CPU_ALLOC(cpu + 1);
    if (set == NULL)
        return ENOMEM;
    CPU_ZERO_S(bytes, set);
    CPU_SET_S(cpu, bytes, set);
    int err = pthread_setaffinity_np(pthread_self(), bytes, set);
    CPU_FREE(set);
    return err;
}
