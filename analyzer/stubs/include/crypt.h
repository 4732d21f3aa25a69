#include "_cglobals_libc.h"
