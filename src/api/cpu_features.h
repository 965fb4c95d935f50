// ---------------------------------------------------------------------------
// CPU features: where cpuid answers come from and the feature bits decoded
// from them. Part of the cpuid layer (api/cpuid.h), shared with beat_simd.h
// (own guard), whose ISA detection uses it.
#ifndef BEAT__CPU_FEATURES_API_INCLUDED
#define BEAT__CPU_FEATURES_API_INCLUDED

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

// Where cpuid answers come from. query answers cpuid(leaf, subleaf) as seen
// by processing unit pu (0..npus-1) into regs[0..3] = eax, ebx, ecx, edx.
// xcr0, optional, answers xgetbv(0) on that PU (the state components the
// OS enabled); the decoder calls it only when leaf 1 reports OSXSAVE. When
// it is NULL the decoder takes XCR0 to be what leaf 0xD subleaf 0 says the
// CPU supports (EDX:EAX), i.e. assumes the OS enabled all of it: what a
// dump, which records no xgetbv, implies.
// Thread safety: the decoder calls the functions from the calling thread
// only; a source shared by threads must answer concurrently.
typedef struct beat_cpuid_source {
    void (*query)(void *user, unsigned pu, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);
    unsigned npus;
    void *user;
    uint64_t (*xcr0)(void *user, unsigned pu);
} beat_cpuid_source;

// The cpuid and xgetbv instructions of the CPU the calling thread runs on.
// npus is 1 and pu is ignored (the thread is not moved; for the whole
// machine use beat_topology_detect). Off x86 the source answers zeros to
// every leaf, so decoding it gives BEAT_ERROR_UNSUPPORTED.
// Thread safety: any thread.
BEAT_API beat_cpuid_source beat_cpuid_live(void);

// Features, as bits of beat_cpu_info.features: test with
// (info.features & BEAT_CPU_FEATURE_AVX2). A bit is set only when the CPU has the
// feature and the OS saves its registers: the AVX family (AVX, FMA, F16C,
// AVX2, AVX-VNNI) needs OSXSAVE and XCR0 bits 1-2 (SSE and AVX state),
// AVX-512 needs those and XCR0 bits 5-7 (opmask, ZMM state).
typedef enum beat_cpu_feature {
    BEAT_CPU_FEATURE_SSE = 1 << 0,
    BEAT_CPU_FEATURE_SSE2 = 1 << 1,
    BEAT_CPU_FEATURE_SSE3 = 1 << 2,
    BEAT_CPU_FEATURE_SSSE3 = 1 << 3,
    BEAT_CPU_FEATURE_SSE41 = 1 << 4,
    BEAT_CPU_FEATURE_SSE42 = 1 << 5,
    BEAT_CPU_FEATURE_POPCNT = 1 << 6,
    BEAT_CPU_FEATURE_AES = 1 << 7,
    BEAT_CPU_FEATURE_PCLMUL = 1 << 8,
    BEAT_CPU_FEATURE_AVX = 1 << 9,
    BEAT_CPU_FEATURE_F16C = 1 << 10,
    BEAT_CPU_FEATURE_FMA = 1 << 11,
    BEAT_CPU_FEATURE_AVX2 = 1 << 12,
    BEAT_CPU_FEATURE_BMI1 = 1 << 13,
    BEAT_CPU_FEATURE_BMI2 = 1 << 14,
    BEAT_CPU_FEATURE_LZCNT = 1 << 15,
    BEAT_CPU_FEATURE_MOVBE = 1 << 16,
    BEAT_CPU_FEATURE_AVX512F = 1 << 17,
    BEAT_CPU_FEATURE_AVX512DQ = 1 << 18,
    BEAT_CPU_FEATURE_AVX512CD = 1 << 19,
    BEAT_CPU_FEATURE_AVX512BW = 1 << 20,
    BEAT_CPU_FEATURE_AVX512VL = 1 << 21,
    BEAT_CPU_FEATURE_AVX512VNNI = 1 << 22,
    BEAT_CPU_FEATURE_AVXVNNI = 1 << 23,
    BEAT_CPU_FEATURE_SHA = 1 << 24,
    BEAT_CPU_FEATURE_HYBRID = 1 << 25, // leaf 7 EDX bit 15: P- and E-cores
    BEAT_CPU_FEATURE_NEON = 1 << 26,   // Arm Advanced SIMD (beat_cpu_detect on Arm)
    BEAT_CPU_FEATURE_SVE = 1 << 27,    // Arm SVE
    BEAT_CPU_FEATURE_SVE2 = 1 << 28    // Arm SVE2
} beat_cpu_feature;

#ifdef __cplusplus
}
#endif

#endif // BEAT__CPU_FEATURES_API_INCLUDED
