// ---------------------------------------------------------------------------
// cpuid: what the processor is and can do, decoded from an injectable source
//
// Every cpuid answer the decoder uses comes through a beat_cpuid_source: the
// live instruction (beat_cpuid_live), per-PU dumps in hwloc's test format
// (beat_cpuid_dump_*), or a function of the caller's (tests, simulators).
// beat_cpuid_decode turns one PU's answers into a beat_cpu_info: vendor,
// family/model/stepping, brand, features the CPU *and* the OS support,
// caches, APIC id and hybrid core type. beat_topology_from_cpuid builds a
// beat_topology (packages, cores, PUs, cache groups) from the APIC ids of
// all PUs of a source. The decoder never asks a source for a leaf above the
// maximum that leaf 0 (or 0x80000000 for extended leaves) reports (the
// first PU's, in beat_topology_from_cpuid).
#include "topology.h"
#include "cpu_features.h" // beat_cpuid_source, beat_cpuid_live, beat_cpu_feature

#ifdef __cplusplus
extern "C" {
#endif

// Per-PU dumps in hwloc's test format: a directory of files puN (N decimal,
// no leading zeros, N < 65536; numbering may be sparse; other files are
// ignored), each line "# comment", blank, or
//     MASK EAX EBX ECX EDX => EAX EBX ECX EDX
// in hex: MASK says which inputs are meaningful (bit 0 eax = leaf, bit 1
// ebx, bit 2 ecx = subleaf, bit 3 edx; higher bits are rejected), then the
// inputs, then the answer. A query answers from the first line whose
// meaningful inputs match (ebx and edx inputs are 0); none answers zeros.
// The source's npus is the highest N + 1; PU numbers without a file answer
// zeros everywhere (beat_topology_from_cpuid leaves them out).
typedef struct beat_cpuid_dump beat_cpuid_dump; // opaque

// Loads the dump in dir. Errors: INVALID_ARGUMENT (dir or out NULL), IO
// (dir or a puN file cannot be opened or read), PARSE (no puN file, a
// malformed line, N >= 65536, a file over 16 MiB), OUT_OF_MEMORY. On error
// *out is NULL and nothing is leaked. Thread safety: any thread.
BEAT_API beat_result beat_cpuid_dump_load(const char *dir, beat_cpuid_dump **out);
// beat_cpuid_dump_load, and on error a one-line reason in msg (at most
// msg_cap bytes with the NUL; cut if longer), naming the file and line:
// "DIR/pu3:12: MASK has bits above bit 3". msg may be NULL.
// Thread safety: any thread.
BEAT_API beat_result beat_cpuid_dump_load_msg(const char *dir, beat_cpuid_dump **out, char *msg,
                                              size_t msg_cap);
// Frees a dump (NULL is a no-op). Sources made from it become invalid.
// Thread safety: not concurrently with queries on its sources.
BEAT_API void beat_cpuid_dump_free(beat_cpuid_dump *dump);
// A source answering from the dump (xcr0 NULL: see beat_cpuid_source).
// dump NULL gives an all-zero source, which the decoder rejects.
// Thread safety: any thread; queries on it may run concurrently.
BEAT_API beat_cpuid_source beat_cpuid_dump_source(const beat_cpuid_dump *dump);

// ---------------------------------------------------------------------------
// Decoded CPU

typedef enum beat_cpu_vendor {
    BEAT_CPU_VENDOR_UNKNOWN = 0,
    BEAT_CPU_VENDOR_INTEL,   // "GenuineIntel"
    BEAT_CPU_VENDOR_AMD,     // "AuthenticAMD"
    BEAT_CPU_VENDOR_HYGON,   // "HygonGenuine": decoded like AMD
    BEAT_CPU_VENDOR_ZHAOXIN, // "CentaurHauls", "  Shanghai  ": like Intel
    BEAT_CPU_VENDOR_ARM      // beat_cpu_detect on Arm
} beat_cpu_vendor;

// Values of beat_cpu_cache.type, as cpuid numbers them.
typedef enum beat_cpu_cache_type {
    BEAT_CPU_CACHE_DATA = 1,
    BEAT_CPU_CACHE_INSTRUCTION = 2,
    BEAT_CPU_CACHE_UNIFIED = 3
} beat_cpu_cache_type;

// One cache as this PU sees it (leaf 4 on Intel and Zhaoxin, 0x8000001D on
// AMD and Hygon; 0x80000005/6 on older AMD parts without it). Intel parts
// older than leaf 4 (leaf 2 descriptors only) report none.
typedef struct beat_cpu_cache {
    unsigned level;          // 1, 2, 3 ...
    unsigned type;           // beat_cpu_cache_type
    unsigned long long size; // bytes: ways * partitions * line * sets
    unsigned line_size;      // bytes
    unsigned ways;           // 0 = fully associative
    unsigned sharing;        // logical processors sharing it, as cpuid says:
                             // the APIC ids it spans on Intel (a power of
                             // two on most parts), the count on AMD; 0 when
                             // unknown (0x80000005/6)
} beat_cpu_cache;

#define BEAT_CPU_MAX_CACHES 8

typedef struct beat_cpu_info {
    char vendor[13]; // "GenuineIntel"; NUL-terminated
    char brand[49];  // leaves 0x80000002-4 without surrounding
                     // blanks; "" when absent
    beat_cpu_vendor vendor_id;
    unsigned family; // base family, + extended family when it is 0xF
    unsigned model;  // base model, + extended model << 4 when the
                     // base family is 0xF (or 6 on Intel/Zhaoxin)
    unsigned stepping;
    uint32_t max_leaf;        // leaf 0 EAX
    uint32_t max_ext_leaf;    // leaf 0x80000000 EAX; 0 when absent
    uint64_t features;        // beat_cpu_feature bits (CPU and OS support)
    uint64_t xcr0;            // state the OS enabled; 0 without OSXSAVE
    uint32_t apic_id;         // the one topology uses: x2APIC id (0x1F,
                              // else 0xB), AMD extended id (0x8000001E),
                              // else the initial id
    uint32_t initial_apic_id; // leaf 1 EBX[31:24]
    beat_core_type core_type; // leaf 0x1A: 0x20 Atom = EFFICIENCY, 0x40
                              // Core = PERFORMANCE; else UNKNOWN
    unsigned ncaches;
    beat_cpu_cache caches[BEAT_CPU_MAX_CACHES]; // in the order cpuid lists
                                                // them (all types)
} beat_cpu_info;

// Decodes what src says about PU pu into *out (zeroed first).
// Errors: INVALID_ARGUMENT (src, its query or out NULL, pu >= npus),
// UNSUPPORTED (leaf 0 answers all zeros: no cpuid, e.g. beat_cpuid_live
// off x86, or a PU number a sparse dump does not have).
// Thread safety: any thread (as far as the source allows).
BEAT_API beat_result beat_cpuid_decode(const beat_cpuid_source *src, unsigned pu,
                                       beat_cpu_info *out);

// The CPU the calling thread runs on. x86: beat_cpuid_decode of the live
// source. Arm Linux: vendor_id ARM and the NEON, SVE, SVE2 bits from
// getauxval(AT_HWCAP/AT_HWCAP2), the rest zero. Elsewhere UNSUPPORTED.
// Errors: INVALID_ARGUMENT (out NULL), UNSUPPORTED. Thread safety: any thread.
BEAT_API beat_result beat_cpu_detect(beat_cpu_info *out);

// A topology built from cpuid alone: each PU's APIC id split into package,
// die, core and thread by leaf 0x1F (else 0xB; else, on AMD, 0x8000001E
// and 0x80000008; else leaves 1 and 4), cache groups from the number of
// PUs sharing each cache, core types from 0x1A. os_index is the PU number
// of the source; every PU is online and allowed; one NUMA node. PUs whose
// leaf 0 answers zeros are left out. The leaf ranges of the first PU apply
// to all (a machine has one; hwloc reads them once too).
// Errors: INVALID_ARGUMENT (src, query or out NULL, npus 0), UNSUPPORTED
// (no PU answers leaf 0), OUT_OF_MEMORY. On error *out is zeroed. Release
// with beat_topology_release. Thread safety: any thread.
BEAT_API beat_result beat_topology_from_cpuid(const beat_cpuid_source *src, beat_topology *out);

#ifdef __cplusplus
}
#endif
