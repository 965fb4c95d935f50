// An implementation file that includes a system header before beat.h: the
// GNU declarations are then missing unless _GNU_SOURCE is on the command
// line, and beat.h must say so in its first error.
#include <stdio.h>
#define BEAT_IMPLEMENTATION
#include "beat.h"

int main(void)
{
    printf("beat %d.%d\n", BEAT_VERSION_MAJOR, BEAT_VERSION_MINOR);
    return 0;
}
