#include "_cglobals_rpc.h"
