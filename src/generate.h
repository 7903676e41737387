/* generate.h: m40-generate's parts: prompts in, the batch scheduler, results out. */
#ifndef M40_GENERATE_H
#define M40_GENERATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <m40/m40.h>

/* One prompt: its token ids and where it came from ("line 3"). */
typedef struct gen_prompt {
	int32_t *ids;
	size_t n;
	char label[48];
} gen_prompt;

typedef struct gen_prompts {
	gen_prompt *v;
	size_t n, cap;
} gen_prompts;

enum gen_format {
	GEN_PLAIN, /* each result then '\n' */
	GEN_NUL,   /* each result then '\0' */
	GEN_JSON   /* one JSON object a line */
};

/* What m40-generate was asked to do. */
typedef struct gen_opts {
	int n_predict;          /* tokens to generate; -1 = until EOS or the context end */
	bool ignore_eos;
	const char **stops;     /* stop strings */
	size_t n_stops;
	bool tokens;            /* print ids instead of text */
	enum gen_format format;
	bool verbose;
	const char *dump_logits; /* file for the first prompt's last logits, or NULL */
	int parallel;           /* most sequences decoded together */
	m40_sampler_params sampling;
} gen_opts;

/* generate-input.c */
void gen_prompts_free(gen_prompts *ps);
/* Parse one line of the token-id protocol; on error, msg says why. */
bool gen_parse_ids(const char *line, int32_t n_vocab, int32_t **ids, size_t *n, char *msg, size_t msg_size);
/* Append a prompt (takes ids). */
void gen_prompts_add(gen_prompts *ps, int32_t *ids, size_t n, const char *label);

/* generate-run.c: decode every prompt (several at a time) and print the
 * results in input order; exits with a message on an engine failure. */
void gen_run(m40_engine *e, const m40_vocab *vocab, int32_t n_vocab, const gen_prompts *ps,
	const gen_opts *o);

#endif
