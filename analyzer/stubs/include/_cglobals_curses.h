/* cglobals: stand-in for curses.h, ncurses.h, panel.h and term.h */
#ifndef _CGLOBALS_CURSES_H
#define _CGLOBALS_CURSES_H
#include "_cglobals_libc.h"
#define NCURSES_VERSION "6.4"
#define NCURSES_VERSION_MAJOR 6
#define NCURSES_VERSION_MINOR 4
#define NCURSES_EXT_FUNCS 20221231
#define NCURSES_EXT_COLORS 20221231
#define NCURSES_OPAQUE 1
#define NCURSES_REENTRANT 0
#define ERR (-1)
#define OK 0
#define KEY_MIN 0401
#define KEY_MAX 0777
typedef unsigned int chtype;
typedef chtype attr_t;
typedef unsigned long mmask_t;
typedef struct _win_st WINDOW;
typedef struct screen SCREEN;
typedef struct term TERMINAL;
typedef struct panel PANEL;
typedef struct { short id; int x, y, z; mmask_t bstate; } MEVENT;
typedef struct { attr_t attr; wchar_t chars[5]; int ext_color; } cchar_t;
typedef int (*NCURSES_OUTC)(int);
extern WINDOW *stdscr;
extern WINDOW *curscr;
#endif
