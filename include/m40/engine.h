/* m40/engine.h: a model loaded onto a backend, with its KV cache, computing logits for batches. */
#ifndef M40_ENGINE_H
#define M40_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <m40/error.h>
#include <m40/model.h>
#include <m40/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct m40_engine_params {
	const char *backend; /* "cpu", "cuda" or "auto" (NULL = "auto") */
	int device;          /* GPU index for cuda */
	int n_threads;       /* CPU threads; 0 = the number of cores */
	int n_ctx;           /* positions per sequence; 0 = min(train ctx, 4096) */
	int n_seq;           /* sequences decoded together (KV slots); 0 = 1 */
	int n_batch;         /* most tokens in one m40_engine_decode; 0 = 512 */
	/* Called while weights upload (done/total bytes); may be NULL. */
	void (*progress)(void *user, uint64_t done, uint64_t total);
	void *progress_user;
} m40_engine_params;

typedef struct m40_engine m40_engine;

m40_status m40_engine_new(m40_model *m, const m40_engine_params *p, m40_engine **out, m40_error *err);
void m40_engine_free(m40_engine *e);

/* "cpu" or "cuda": what was actually chosen. */
const char *m40_engine_backend_name(const m40_engine *e);
int m40_engine_n_ctx(const m40_engine *e);
int m40_engine_n_seq(const m40_engine *e);
int m40_engine_n_batch(const m40_engine *e);

/*
 * One step over n tokens.  Token i goes to sequence seq[i] (0 <= seq <
 * n_seq) at position pos[i]; its K and V enter that sequence's cache and it
 * attends to positions 0..pos[i] of that sequence (so a prompt is n tokens
 * of one sequence at consecutive positions, and a decode step is one token
 * for each of several sequences).  logits[i] asks for token i's logits.
 */
typedef struct m40_batch {
	int n;
	const int32_t *tokens;
	const int32_t *pos;
	const int32_t *seq;
	const bool *logits;
} m40_batch;

m40_status m40_engine_decode(m40_engine *e, const m40_batch *b, m40_error *err);
/* Logits (n_vocab floats) of the j-th token that asked for them in the last
 * decode, in batch order; valid until the next decode. */
const float *m40_engine_logits(const m40_engine *e, int j);
/* Forget a sequence's cache (its slot can take a new prompt). */
void m40_engine_seq_clear(m40_engine *e, int seq);

#ifdef __cplusplus
}
#endif
#endif
