// libFuzzer target: the cpuid dump parser and everything downstream of it
// (decoder, APIC id layout, topology builder). The input is split at 0xFF
// bytes (never part of a valid dump) into up to 8 PU files pu0, pu1, ...;
// when all of them parse, every PU is decoded and a topology is built.
//
//   clang -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_cpuid_dump.c
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_PUS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// Parses chunk i as PU i, as the loader does with a file's contents (a
// copy with a NUL after it).
static int parse_pu(beat_cpuid_dump *dump, unsigned i, const uint8_t *chunk, size_t len)
{
    char *text = (char *)malloc(len + 1);
    if (text == NULL)
        return 0;
    if (len != 0)
        memcpy(text, chunk, len);
    text[len] = '\0';
    unsigned long line;
    const char *why;
    beat_result r = beat__cpuid_dump_set_pu(dump, i, i, text, len, &line, &why);
    free(text);
    return r == BEAT_OK;
}

static void decode_all(const beat_cpuid_dump *dump)
{
    beat_cpuid_source src = beat_cpuid_dump_source(dump);
    beat_cpu_info info;
    beat_topology topo;
    for (unsigned pu = 0; pu < src.npus; pu++)
        beat_cpuid_decode(&src, pu, &info);
    if (beat_topology_from_cpuid(&src, &topo) == BEAT_OK)
        beat_topology_release(&topo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *chunks[FUZZ_MAX_PUS];
    size_t lens[FUZZ_MAX_PUS];
    unsigned n = 0;
    const uint8_t *end = data + size;
    for (const uint8_t *s = data; n < FUZZ_MAX_PUS;) {
        const uint8_t *cut = (const uint8_t *)memchr(s, 0xff, (size_t)(end - s));
        chunks[n] = s;
        lens[n++] = (size_t)((cut != NULL ? cut : end) - s);
        if (cut == NULL)
            break;
        s = cut + 1;
    }
    beat_cpuid_dump *dump = beat__cpuid_dump_new(n);
    if (dump == NULL)
        return 0;
    unsigned parsed = 0;
    while (parsed < n && parse_pu(dump, parsed, chunks[parsed], lens[parsed]))
        parsed++;
    if (parsed == n)
        decode_all(dump);
    beat_cpuid_dump_free(dump);
    return 0;
}
