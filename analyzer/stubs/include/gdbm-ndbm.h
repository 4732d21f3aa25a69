#include "_cglobals_dbm.h"
