/* quant-legacy.c: (being written) */
#include "m40-int.h"
