/* m40-int.h: private declarations shared by libm40core's sources. */
#ifndef M40_INT_H
#define M40_INT_H

#include <config.h>

#include <m40/m40.h>

#ifdef ENABLE_NLS
#include <libintl.h>
/* The library translates in its own domain, whatever the program uses. */
#define _(s) dgettext(PACKAGE, s)
#else
#define _(s) (s)
#endif
#define N_(s) (s)

#define M40_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
