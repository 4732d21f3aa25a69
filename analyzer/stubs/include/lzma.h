/* cglobals: stand-in for lzma.h */
#include "_cglobals_libc.h"
#define LZMA_VERSION 50040010
#define LZMA_STREAM_INIT { 0 }
#define LZMA_FILTERS_MAX 4
#define LZMA_VLI_UNKNOWN (~(lzma_vli)0)
typedef unsigned char lzma_bool;
typedef uint64_t lzma_vli;
typedef enum { LZMA_OK = 0, LZMA_STREAM_END = 1 } lzma_ret;
typedef enum { LZMA_RUN = 0, LZMA_FINISH = 3 } lzma_action;
typedef enum { LZMA_CHECK_NONE = 0 } lzma_check;
typedef enum { LZMA_MODE_FAST = 1, LZMA_MODE_NORMAL = 2 } lzma_mode;
typedef enum { LZMA_MF_HC3 = 0x03 } lzma_match_finder;
typedef enum { LZMA_DELTA_TYPE_BYTE } lzma_delta_type;
typedef struct { void *(*alloc)(void *, size_t, size_t); void (*free)(void *, void *); void *opaque; } lzma_allocator;
typedef struct lzma_internal_s lzma_internal;
typedef struct { const uint8_t *next_in; size_t avail_in; uint64_t total_in; uint8_t *next_out; size_t avail_out; uint64_t total_out; const lzma_allocator *allocator; lzma_internal *internal; } lzma_stream;
typedef struct { lzma_vli id; void *options; } lzma_filter;
typedef struct { uint32_t dict_size; const uint8_t *preset_dict; uint32_t preset_dict_size; uint32_t lc; uint32_t lp; uint32_t pb; lzma_mode mode; uint32_t nice_len; lzma_match_finder mf; uint32_t depth; } lzma_options_lzma;
typedef struct { lzma_delta_type type; uint32_t dist; } lzma_options_delta;
typedef struct { uint32_t start_offset; } lzma_options_bcj;
