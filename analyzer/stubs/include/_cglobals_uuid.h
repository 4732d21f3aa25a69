/* cglobals: stand-in for uuid/uuid.h */
#include "_cglobals_libc.h"
typedef unsigned char uuid_t[16];
