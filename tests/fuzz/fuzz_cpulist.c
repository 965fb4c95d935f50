// libFuzzer target for the /sys text parsers (src/text.c): CPU lists
// ("0-3,8"), CPU masks ("0000ffff,00000001") and cache sizes ("32K") on
// arbitrary bytes. Beyond "no crash, no out-of-bounds access" it checks
// that a successful parse sets exactly as many bits as it reports, none at
// or above the bitmap size, and that the largest number a list names is
// its highest bit. The first byte chooses the bitmap size (64..4096 bits).
//
//   make fuzz                 (every tests/fuzz/fuzz_*.c, FUZZ_SECONDS each)
//   build/fuzz/fuzz_cpulist -max_total_time=60 build/fuzz/fuzz_cpulist.corpus
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_WORDS 64

static unsigned highest_bit(const uint64_t *bits, unsigned nwords)
{
    for (unsigned w = nwords; w-- > 0;)
        if (bits[w] != 0)
            return w * 64 + 63 - (unsigned)__builtin_clzll(bits[w]);
    return ~0u;
}

static long count_bits(const uint64_t *bits, unsigned nwords)
{
    long n = 0;
    for (unsigned w = 0; w < nwords; w++)
        n += __builtin_popcountll(bits[w]);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned nwords = size > 0 ? 1u + data[0] % FUZZ_WORDS : 1u;
    unsigned nbits = nwords * 64;
    // An exact-size heap copy, so reading past the terminator is caught.
    char *text = (char *)malloc(size + 1);
    uint64_t *bits = (uint64_t *)malloc(nwords * sizeof *bits);
    if (text == NULL || bits == NULL)
        abort();
    if (size > 0)
        memcpy(text, data, size);
    text[size] = '\0';

    long n = beat__text_parse_cpulist(text, bits, nbits);
    unsigned long long max;
    if (n >= 0 && count_bits(bits, nwords) != n)
        abort();
    if (n > 0 && (!beat__text_cpulist_max(text, &max) || max != highest_bit(bits, nwords)))
        abort();
    n = beat__text_parse_cpumask(text, bits, nbits);
    if (n >= 0 && count_bits(bits, nwords) != n)
        abort();
    if (n > 0 && highest_bit(bits, nwords) >= nbits)
        abort();
    unsigned long long bytes;
    (void)beat__text_parse_size(text, &bytes);
    free(bits);
    free(text);
    return 0;
}
