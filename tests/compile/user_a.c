// A second translation unit that uses the declarations.
#include "beat.h"

int user_a(void);
int user_a(void) { return beat_result_string(BEAT_ERROR_IO)[0] == 'B'; }
