/* cglobals: stand-in for tk.h */
#include "tcl.h"
#define TK_MAJOR_VERSION 8
#define TK_MINOR_VERSION 6
#define TK_RELEASE_LEVEL 2
#define TK_RELEASE_SERIAL 13
#define TK_VERSION "8.6"
#define TK_HEX_VERSION 0x08060213
typedef struct Tk_Window_ *Tk_Window;
