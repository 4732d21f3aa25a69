#include "_cglobals_curses.h"
