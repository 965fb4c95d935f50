// beat-psi: prints a memory pressure file as Beat parses it (build/beat-psi).
//
//   beat-psi [--sysfs ROOT] [PATH]
//
//   PATH           the pressure file to read; default: what beat_psi_read(NULL)
//                  picks (the process's cgroup v2 memory.pressure, else
//                  /proc/pressure/memory)
//   --sysfs ROOT   read below ROOT (a captured or fake tree) instead of /:
//                  PATH and the default's /proc and cgroup files are taken
//                  below it
//
// Output, stable (other programs parse it):
//   some avg10 <x> avg60 <x> avg300 <x> total <n>
//   full avg10 <x> avg60 <x> avg300 <x> total <n>    or "full none"
//   level <none|low|medium|high|critical>
// x: percent with two decimals, as the kernel prints them; n: microseconds.
// The level comes from this file alone (beat_pressure_level_of with the
// default thresholds and no cgroup headroom).
//
// Errors (unknown option, unreadable or malformed input): one line on
// stderr naming the file and the problem, exit status 1.
#define BEAT_IMPLEMENTATION
#include "beat.h"

#include <stdio.h>
#include <string.h>

static int usage(const char *problem)
{
    fprintf(stderr, "beat-psi: %s (usage: beat-psi [--sysfs ROOT] [PATH])\n", problem);
    return 1;
}

int main(int argc, char **argv)
{
    const char *root = NULL, *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sysfs") == 0) {
            if (++i == argc)
                return usage("--sysfs needs a directory");
            root = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage("unknown option");
        } else if (path == NULL) {
            path = argv[i];
        } else {
            return usage("more than one PATH");
        }
    }
    beat_psi psi;
    char msg[4200];
    beat_result r = beat_psi_read_at(root, path, &psi, msg, sizeof msg);
    if (r != BEAT_OK) {
        fprintf(stderr, "beat-psi: %s\n", msg[0] != '\0' ? msg : beat_result_string(r));
        return 1;
    }
    printf("some avg10 %.2f avg60 %.2f avg300 %.2f total %llu\n", psi.some_avg10, psi.some_avg60,
           psi.some_avg300, psi.some_total);
    if (psi.has_full)
        printf("full avg10 %.2f avg60 %.2f avg300 %.2f total %llu\n", psi.full_avg10,
               psi.full_avg60, psi.full_avg300, psi.full_total);
    else
        printf("full none\n");
    printf("level %s\n", beat_pressure_level_name(beat_pressure_level_of(&psi, NULL, NULL)));
    return 0;
}
