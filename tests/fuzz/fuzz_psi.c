// libFuzzer target for the pressure file parser (beat__psi_parse in
// src/psi.c) on arbitrary bytes. Beyond "no crash, no out-of-bounds
// access" (the input is an exact-size heap copy without a terminator) it
// checks that a parse either fails with a message and a zeroed result or
// gives averages from 0 to 100, and that printing the result the kernel's
// way and parsing that again gives the same totals and averages within
// the two printed decimals. The message must fit its buffer. Each input
// is also spliced into a well-formed file (at the offset its first byte
// names), so near-valid files are explored from an empty corpus.
//
//   make fuzz                 (every tests/fuzz/fuzz_*.c, FUZZ_SECONDS each)
//   build/fuzz/fuzz_psi -max_total_time=60 build/fuzz/fuzz_psi.corpus
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int in_range(double x) { return x >= 0.0 && x <= 100.0; }

static int close_to(double a, double b) { return a - b <= 0.005001 && b - a <= 0.005001; }

// Prints p as the kernel would (two decimals) into buf; returns the length.
static int print_kernel_way(const beat_psi *p, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "some avg10=%.2f avg60=%.2f avg300=%.2f total=%llu\n", p->some_avg10,
                     p->some_avg60, p->some_avg300, p->some_total);
    if (p->has_full)
        n += snprintf(buf + n, cap - (size_t)n,
                      "full avg10=%.2f avg60=%.2f avg300=%.2f total=%llu\n", p->full_avg10,
                      p->full_avg60, p->full_avg300, p->full_total);
    return n;
}

static void check_round_trip(const beat_psi *p)
{
    char text[512], msg[128] = "";
    beat_psi q;
    int n = print_kernel_way(p, text, sizeof text);
    if (beat__psi_parse(text, (size_t)n, &q, msg, sizeof msg) != BEAT_OK)
        abort();
    if (q.some_total != p->some_total || q.full_total != p->full_total || q.has_full != p->has_full)
        abort();
    if (!close_to(q.some_avg10, p->some_avg10) || !close_to(q.some_avg60, p->some_avg60) ||
        !close_to(q.some_avg300, p->some_avg300) || !close_to(q.full_avg10, p->full_avg10) ||
        !close_to(q.full_avg60, p->full_avg60) || !close_to(q.full_avg300, p->full_avg300))
        abort();
}

static const char good[] = "some avg10=1.52 avg60=0.40 avg300=0.09 total=2875331\n"
                           "full avg10=0.31 avg60=0.08 avg300=0.02 total=598210\n";

static void check(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size);
    if (size > 0) { // good[0..at) + data[1..size) + good[at..)
        size_t at = data[0] % sizeof good, len = sizeof good - 1 + size - 1;
        uint8_t *spliced = (uint8_t *)malloc(len);
        if (spliced == NULL)
            abort();
        memcpy(spliced, good, at);
        memcpy(spliced + at, data + 1, size - 1);
        memcpy(spliced + at + size - 1, good + at, sizeof good - 1 - at);
        check(spliced, len);
        free(spliced);
    }
    return 0;
}

static void check(const uint8_t *data, size_t size)
{
    char *text = (char *)malloc(size > 0 ? size : 1);
    char msg[64];
    if (text == NULL)
        abort();
    if (size > 0)
        memcpy(text, data, size);
    memset(msg, 0, sizeof msg);
    beat_psi p;
    beat_result r = beat__psi_parse(text, size, &p, msg, sizeof msg);
    if (memchr(msg, '\0', sizeof msg) == NULL)
        abort();
    if (r == BEAT_OK) {
        if (msg[0] != '\0' || (p.has_full != 0 && p.has_full != 1))
            abort();
        if (!in_range(p.some_avg10) || !in_range(p.some_avg60) || !in_range(p.some_avg300) ||
            !in_range(p.full_avg10) || !in_range(p.full_avg60) || !in_range(p.full_avg300))
            abort();
        if (!p.has_full && (p.full_total != 0 || p.full_avg10 != 0.0))
            abort();
        check_round_trip(&p);
    } else {
        beat_psi zero;
        memset(&zero, 0, sizeof zero);
        if (r != BEAT_ERROR_PARSE || msg[0] == '\0' || memcmp(&p, &zero, sizeof p) != 0)
            abort();
    }
    free(text);
}
