#include "readline/readline.h"
