/* cglobals: stand-in for zlib.h */
#include "_cglobals_libc.h"
#define ZLIB_VERSION "1.2.13"
#define ZLIB_VERNUM 0x12d0
#define MAX_WBITS 15
#define MAX_MEM_LEVEL 9
#define DEF_MEM_LEVEL 8
typedef unsigned char Byte;
typedef unsigned int uInt;
typedef unsigned long uLong;
typedef Byte Bytef;
typedef char charf;
typedef int intf;
typedef uInt uIntf;
typedef uLong uLongf;
typedef void *voidpf;
typedef void *voidp;
typedef const void *voidpc;
typedef long z_off_t;
typedef voidpf (*alloc_func)(voidpf opaque, uInt items, uInt size);
typedef void (*free_func)(voidpf opaque, voidpf address);
typedef struct z_stream_s { const Bytef *next_in; uInt avail_in; uLong total_in; Bytef *next_out; uInt avail_out; uLong total_out; const char *msg; alloc_func zalloc; free_func zfree; voidpf opaque; int data_type; uLong adler; } z_stream;
typedef z_stream *z_streamp;
