#include "_cglobals_openssl.h"
