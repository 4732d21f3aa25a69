#include "_cglobals_uuid.h"
