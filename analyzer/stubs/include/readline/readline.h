/* cglobals: stand-in for GNU readline */
#ifndef _CGLOBALS_READLINE_H
#define _CGLOBALS_READLINE_H
#include "_cglobals_libc.h"
#define RL_READLINE_VERSION 0x0802
#define RL_VERSION_MAJOR 8
#define RL_VERSION_MINOR 2
typedef int rl_command_func_t(int, int);
typedef char *rl_compentry_func_t(const char *, int);
typedef char **rl_completion_func_t(const char *, int, int);
typedef char *rl_quote_func_t(char *, int, char *);
typedef int rl_hook_func_t(void);
typedef void rl_vcpfunc_t(char *);
typedef void rl_compdisp_func_t(char **, int, int);
typedef int rl_icppfunc_t(char **);
typedef struct _hist_entry { char *line; char *timestamp; void *data; } HIST_ENTRY;
typedef struct _hist_state { HIST_ENTRY **entries; int offset; int length; int size; int flags; } HISTORY_STATE;
typedef struct _keymap_entry *Keymap;
typedef void *histdata_t;
#endif
