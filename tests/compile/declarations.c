// The public part only: no implementation, nothing but declarations.
#include "beat.h"

int beat_compile_declarations(void);
int beat_compile_declarations(void) { return (int)BEAT_OK + (int)sizeof(beat_config); }
