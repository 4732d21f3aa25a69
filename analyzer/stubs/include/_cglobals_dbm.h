/* cglobals: stand-in for gdbm.h / ndbm.h */
#ifndef _CGLOBALS_DBM_H
#define _CGLOBALS_DBM_H
#include "_cglobals_libc.h"
#define GDBM_VERSION_MAJOR 1
#define GDBM_VERSION_MINOR 23
typedef struct { char *dptr; int dsize; } datum;
typedef struct gdbm_file_info *GDBM_FILE;
typedef int gdbm_error;
typedef struct __dbm DBM;
#endif
