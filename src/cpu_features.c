// CPU features: which instruction sets this CPU has and the OS saves the
// registers of, from cpuid and xgetbv (x86) or the kernel's hwcaps (Arm).
// The part of the cpuid layer that the SIMD dispatch needs: beat.h gets it
// through cpuid.c, beat_simd.h on its own (own guard, so including both
// headers defines it once). Needs only config.h.
//
// Register layouts are from the Intel SDM vol. 2A (CPUID) and AMD's APM
// vol. 3 (appendix E); XCR0 from the SDM vol. 1 ch. 13.
#ifndef BEAT__CPU_FEATURES_IMPL_INCLUDED
#define BEAT__CPU_FEATURES_IMPL_INCLUDED

#include "config.h"

#include <string.h>
#if BEAT__ARCH_X86
#include <cpuid.h>
#endif
#if BEAT__ARCH_ARM && BEAT__OS_LINUX
#include <sys/auxv.h>
#endif

enum { BEAT__EAX, BEAT__EBX, BEAT__ECX, BEAT__EDX };

// ---------------------------------------------------------------------------
// Live source

#if BEAT__ARCH_X86
BEAT__PRIVATE void beat__cpuid_live_query(void *user, unsigned pu, uint32_t leaf, uint32_t subleaf,
                                          uint32_t regs[4])
{
    unsigned a, b, c, d;
    (void)user;
    (void)pu;
    __cpuid_count(leaf, subleaf, a, b, c, d);
    regs[BEAT__EAX] = a;
    regs[BEAT__EBX] = b;
    regs[BEAT__ECX] = c;
    regs[BEAT__EDX] = d;
}

// The decoder calls this only when leaf 1 reports OSXSAVE: without it
// xgetbv raises #UD.
BEAT__PRIVATE uint64_t beat__cpuid_live_xcr0(void *user, unsigned pu)
{
    uint32_t lo, hi;
    (void)user;
    (void)pu;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#else
// No cpuid instruction: every leaf answers zeros, which the decoder reports
// as BEAT_ERROR_UNSUPPORTED.
BEAT__PRIVATE void beat__cpuid_zero_query(void *user, unsigned pu, uint32_t leaf, uint32_t subleaf,
                                          uint32_t regs[4])
{
    (void)user;
    (void)pu;
    (void)leaf;
    (void)subleaf;
    memset(regs, 0, 4 * sizeof regs[0]);
}
#endif

BEAT__DEF beat_cpuid_source beat_cpuid_live(void)
{
    beat_cpuid_source src;
    memset(&src, 0, sizeof src);
#if BEAT__ARCH_X86
    src.query = beat__cpuid_live_query;
    src.xcr0 = beat__cpuid_live_xcr0;
#else
    src.query = beat__cpuid_zero_query;
#endif
    src.npus = 1;
    return src;
}

// ---------------------------------------------------------------------------
// Reading a source

// One PU of a source and its leaf ranges. Every question goes through
// beat__cpuid_ask, which answers zeros above the range without asking.
typedef struct beat__cpuid_ctx {
    const beat_cpuid_source *src;
    unsigned pu;
    uint32_t max_leaf;     // leaf 0 EAX
    uint32_t max_ext_leaf; // leaf 0x80000000 EAX, 0 when not in that range
} beat__cpuid_ctx;

BEAT__PRIVATE void beat__cpuid_raw(const beat_cpuid_source *src, unsigned pu, uint32_t leaf,
                                   uint32_t subleaf, uint32_t r[4])
{
    memset(r, 0, 4 * sizeof r[0]); // a query that leaves registers unset
    src->query(src->user, pu, leaf, subleaf, r);
}

BEAT__PRIVATE void beat__cpuid_ask(const beat__cpuid_ctx *c, uint32_t leaf, uint32_t subleaf,
                                   uint32_t r[4])
{
    uint32_t max = leaf >= 0x80000000u ? c->max_ext_leaf : c->max_leaf;
    if (leaf > max) {
        memset(r, 0, 4 * sizeof r[0]);
        return;
    }
    beat__cpuid_raw(c->src, c->pu, leaf, subleaf, r);
}

// Reads the ranges of pu. 0 when leaf 0 answers all zeros (no cpuid).
BEAT__PRIVATE int beat__cpuid_open(const beat_cpuid_source *src, unsigned pu, beat__cpuid_ctx *c)
{
    uint32_t r[4];
    c->src = src;
    c->pu = pu;
    beat__cpuid_raw(src, pu, 0, 0, r);
    if ((r[0] | r[1] | r[2] | r[3]) == 0)
        return 0;
    c->max_leaf = r[BEAT__EAX];
    beat__cpuid_raw(src, pu, 0x80000000u, 0, r);
    c->max_ext_leaf = (r[BEAT__EAX] & 0xffff0000u) == 0x80000000u ? r[BEAT__EAX] : 0;
    return 1;
}

BEAT__PRIVATE uint32_t beat__cpuid_reg(const beat__cpuid_ctx *c, uint32_t leaf, uint32_t subleaf,
                                       int reg)
{
    uint32_t r[4];
    beat__cpuid_ask(c, leaf, subleaf, r);
    return r[reg];
}

// Where each feature bit lives, grouped by (leaf, subleaf).
typedef struct beat__cpuid_bit {
    uint32_t leaf, subleaf;
    unsigned char reg, bit;
    uint32_t feature;
} beat__cpuid_bit;

static const beat__cpuid_bit beat__cpuid_bits[] = {
    {1, 0, BEAT__EDX, 25, BEAT_CPU_FEATURE_SSE},
    {1, 0, BEAT__EDX, 26, BEAT_CPU_FEATURE_SSE2},
    {1, 0, BEAT__ECX, 0, BEAT_CPU_FEATURE_SSE3},
    {1, 0, BEAT__ECX, 1, BEAT_CPU_FEATURE_PCLMUL},
    {1, 0, BEAT__ECX, 9, BEAT_CPU_FEATURE_SSSE3},
    {1, 0, BEAT__ECX, 12, BEAT_CPU_FEATURE_FMA},
    {1, 0, BEAT__ECX, 19, BEAT_CPU_FEATURE_SSE41},
    {1, 0, BEAT__ECX, 20, BEAT_CPU_FEATURE_SSE42},
    {1, 0, BEAT__ECX, 22, BEAT_CPU_FEATURE_MOVBE},
    {1, 0, BEAT__ECX, 23, BEAT_CPU_FEATURE_POPCNT},
    {1, 0, BEAT__ECX, 25, BEAT_CPU_FEATURE_AES},
    {1, 0, BEAT__ECX, 28, BEAT_CPU_FEATURE_AVX},
    {1, 0, BEAT__ECX, 29, BEAT_CPU_FEATURE_F16C},
    {7, 0, BEAT__EBX, 3, BEAT_CPU_FEATURE_BMI1},
    {7, 0, BEAT__EBX, 5, BEAT_CPU_FEATURE_AVX2},
    {7, 0, BEAT__EBX, 8, BEAT_CPU_FEATURE_BMI2},
    {7, 0, BEAT__EBX, 16, BEAT_CPU_FEATURE_AVX512F},
    {7, 0, BEAT__EBX, 17, BEAT_CPU_FEATURE_AVX512DQ},
    {7, 0, BEAT__EBX, 28, BEAT_CPU_FEATURE_AVX512CD},
    {7, 0, BEAT__EBX, 29, BEAT_CPU_FEATURE_SHA},
    {7, 0, BEAT__EBX, 30, BEAT_CPU_FEATURE_AVX512BW},
    {7, 0, BEAT__EBX, 31, BEAT_CPU_FEATURE_AVX512VL},
    {7, 0, BEAT__ECX, 11, BEAT_CPU_FEATURE_AVX512VNNI},
    {7, 0, BEAT__EDX, 15, BEAT_CPU_FEATURE_HYBRID},
    {7, 1, BEAT__EAX, 4, BEAT_CPU_FEATURE_AVXVNNI},
    {0x80000001u, 0, BEAT__ECX, 5, BEAT_CPU_FEATURE_LZCNT},
};

#define BEAT__CPUID_OSXSAVE (1u << 27) // leaf 1 ECX
#define BEAT__XCR0_AVX 0x06u           // SSE and AVX (YMM) state
#define BEAT__XCR0_AVX512 0xe0u        // opmask, ZMM_Hi256, Hi16_ZMM state
#define BEAT__CPU_NEEDS_AVX                                                                        \
    (BEAT_CPU_FEATURE_AVX | BEAT_CPU_FEATURE_F16C | BEAT_CPU_FEATURE_FMA | BEAT_CPU_FEATURE_AVX2 | \
     BEAT_CPU_FEATURE_AVXVNNI)
#define BEAT__CPU_NEEDS_AVX512                                                                     \
    (BEAT_CPU_FEATURE_AVX512F | BEAT_CPU_FEATURE_AVX512DQ | BEAT_CPU_FEATURE_AVX512CD |            \
     BEAT_CPU_FEATURE_AVX512BW | BEAT_CPU_FEATURE_AVX512VL | BEAT_CPU_FEATURE_AVX512VNNI)

// What the CPU reports, before asking whether the OS saves the registers.
// Leaf 7 subleaf k exists only when leaf 7 subleaf 0 EAX >= k.
BEAT__PRIVATE uint64_t beat__cpuid_cpu_features(const beat__cpuid_ctx *c)
{
    uint32_t r[4] = {0, 0, 0, 0}, leaf = 0, subleaf = 0;
    uint32_t leaf7_subleaves = beat__cpuid_reg(c, 7, 0, BEAT__EAX);
    uint64_t features = 0;
    size_t n = sizeof beat__cpuid_bits / sizeof beat__cpuid_bits[0];
    for (size_t i = 0; i < n; i++) {
        const beat__cpuid_bit *b = &beat__cpuid_bits[i];
        if (b->leaf == 7 && b->subleaf > leaf7_subleaves)
            continue;
        if (i == 0 || b->leaf != leaf || b->subleaf != subleaf) {
            leaf = b->leaf;
            subleaf = b->subleaf;
            beat__cpuid_ask(c, leaf, subleaf, r);
        }
        if ((r[b->reg] >> b->bit & 1u) != 0)
            features |= b->feature;
    }
    return features;
}

// XCR0 as the OS set it: 0 without OSXSAVE; from the source's xcr0 when it
// has one, else what leaf 0xD subleaf 0 says the CPU supports.
BEAT__PRIVATE uint64_t beat__cpuid_xcr0(const beat__cpuid_ctx *c)
{
    if ((beat__cpuid_reg(c, 1, 0, BEAT__ECX) & BEAT__CPUID_OSXSAVE) == 0)
        return 0;
    if (c->src->xcr0 != NULL)
        return c->src->xcr0(c->src->user, c->pu);
    uint32_t r[4];
    beat__cpuid_ask(c, 0xd, 0, r);
    return (uint64_t)r[BEAT__EDX] << 32 | r[BEAT__EAX];
}

BEAT__PRIVATE uint64_t beat__cpuid_usable(uint64_t features, uint64_t xcr0)
{
    if ((xcr0 & BEAT__XCR0_AVX) != BEAT__XCR0_AVX)
        return features & ~(uint64_t)(BEAT__CPU_NEEDS_AVX | BEAT__CPU_NEEDS_AVX512);
    if ((xcr0 & BEAT__XCR0_AVX512) != BEAT__XCR0_AVX512)
        return features & ~(uint64_t)BEAT__CPU_NEEDS_AVX512;
    return features;
}

// ---------------------------------------------------------------------------
// Arm: features from the kernel's hwcaps (there is no user-mode cpuid).
// Bits from Linux's uapi asm/hwcap.h: aarch64 HWCAP_ASIMD 1 << 1,
// HWCAP_SVE 1 << 22, HWCAP2_SVE2 1 << 1; 32-bit Arm HWCAP_NEON 1 << 12.
// Compiled everywhere so tests can check the mapping on any machine.

BEAT__PRIVATE uint64_t beat__cpu_arm_features(unsigned long hwcap, unsigned long hwcap2,
                                              int aarch64)
{
    uint64_t features = 0;
    if (!aarch64)
        return (hwcap >> 12 & 1ul) != 0 ? (uint64_t)BEAT_CPU_FEATURE_NEON : 0;
    if ((hwcap >> 1 & 1ul) != 0)
        features |= BEAT_CPU_FEATURE_NEON;
    if ((hwcap >> 22 & 1ul) != 0)
        features |= BEAT_CPU_FEATURE_SVE;
    if ((hwcap2 >> 1 & 1ul) != 0)
        features |= BEAT_CPU_FEATURE_SVE2;
    return features;
}

// ---------------------------------------------------------------------------
// This CPU

// The beat_cpu_feature bits of the CPU the calling thread runs on, CPU and
// OS support both (what beat_cpu_info.features holds); 0 without cpuid or
// hwcaps. Thread safety: any thread.
BEAT__PRIVATE uint64_t beat__cpu_features_live(void)
{
#if BEAT__ARCH_X86
    beat_cpuid_source live = beat_cpuid_live();
    beat__cpuid_ctx c;
    if (!beat__cpuid_open(&live, 0, &c))
        return 0;
    return beat__cpuid_usable(beat__cpuid_cpu_features(&c), beat__cpuid_xcr0(&c));
#elif BEAT__ARCH_ARM && BEAT__OS_LINUX
    unsigned long hwcap2 = 0;
#ifdef AT_HWCAP2
    hwcap2 = getauxval(AT_HWCAP2);
#endif
#if defined(__aarch64__)
    return beat__cpu_arm_features(getauxval(AT_HWCAP), hwcap2, 1);
#else
    return beat__cpu_arm_features(getauxval(AT_HWCAP), hwcap2, 0);
#endif
#else
    return 0;
#endif
}

#endif // BEAT__CPU_FEATURES_IMPL_INCLUDED
