/* m40/sampler.h: choosing the next token from logits. */
#ifndef M40_SAMPLER_H
#define M40_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include <m40/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct m40_sampler_params {
	float temperature;      /* 0 = greedy */
	int top_k;              /* 0 = off */
	float top_p;            /* 1 = off */
	float min_p;            /* 0 = off */
	float repeat_penalty;   /* 1 = off (llama.cpp's divide/multiply rule) */
	float freq_penalty;     /* 0 = off */
	float presence_penalty; /* 0 = off */
	int penalty_last_n;     /* tokens looked back for penalties; -1 = all */
	uint64_t seed;
} m40_sampler_params;

/* The defaults (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalties). */
void m40_sampler_params_default(m40_sampler_params *p);

typedef struct m40_sampler m40_sampler;

m40_status m40_sampler_new(const m40_sampler_params *p, int32_t n_vocab, m40_sampler **out, m40_error *err);
void m40_sampler_free(m40_sampler *s);
/* Pick a token; logits are not modified. */
int32_t m40_sampler_sample(m40_sampler *s, const float *logits);
/* Record a token (prompt or generated) for the penalties. */
void m40_sampler_accept(m40_sampler *s, int32_t id);
void m40_sampler_reset(m40_sampler *s);

#ifdef __cplusplus
}
#endif
#endif
