/* m40/m40.h: everything libm40core offers; include this one. */
#ifndef M40_M40_H
#define M40_M40_H

#include <m40/error.h>
#include <m40/types.h>
#include <m40/gguf.h>
#include <m40/tokenizer.h>
#include <m40/model.h>
#include <m40/backend.h>
#include <m40/engine.h>
#include <m40/sampler.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version string, "0.1.0". */
const char *m40_version(void);

#ifdef __cplusplus
}
#endif
#endif
