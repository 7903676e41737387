/* engine-common.h: what the engine tests share: reading llama.cpp's reference files, comparing
 * logit vectors, greedy decoding through the engine. */
#ifndef M40_ENGINE_COMMON_H
#define M40_ENGINE_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <m40/m40.h>

#define SKIP 77

/* $M40_SHARED/rel, or NULL (test skips) when the shared data is absent. */
static inline const char *
shared_path(const char *rel)
{
	static char buf[4096];
	const char *dir = getenv("M40_SHARED");

	if (dir == NULL || *dir == '\0')
		dir = "../shared";
	snprintf(buf, sizeof buf, "%s/%s", dir, rel);
	FILE *f = fopen(buf, "rb");
	if (f == NULL)
		return NULL;
	fclose(f);
	return buf;
}

/* A reference .greedy file: prompt ids, generated ids, and each step's top-2 logits. */
struct greedy_ref {
	int n_vocab;
	int n_prompt, n_gen;
	int32_t prompt[256], gen[256];
	double top1[256], top2[256];
};

static inline int
read_greedy(const char *path, struct greedy_ref *r)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	int i, id;

	if (f == NULL)
		return -1;
	memset(r, 0, sizeof *r);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "n_vocab %d", &r->n_vocab) == 1)
			continue;
		if (sscanf(line, "prompt %d %d", &i, &id) == 2 && i >= 0 && i < 256) {
			r->prompt[i] = id;
			if (i + 1 > r->n_prompt)
				r->n_prompt = i + 1;
		} else if (sscanf(line, "gen %d %d", &i, &id) == 2 && i >= 0 && i < 256) {
			r->gen[i] = id;
			if (i + 1 > r->n_gen)
				r->n_gen = i + 1;
		} else if (strncmp(line, "top ", 4) == 0) {
			double a, b;
			int ia, ib;
			if (sscanf(line, "top %d %d:%lf %d:%lf", &i, &ia, &a, &ib, &b) == 5 && i >= 0 &&
				i < 256) {
				r->top1[i] = a;
				r->top2[i] = b;
			}
		}
	}
	fclose(f);
	return r->n_prompt > 0 ? 0 : -1;
}

/* n values, one a line; returns how many were read (malloc'ed into *out). */
static inline int
read_floats(const char *path, float **out)
{
	FILE *f = fopen(path, "r");
	int n = 0, cap = 1024;
	float *v = malloc((size_t)cap * sizeof *v);
	double d;

	*out = NULL;
	if (f == NULL || v == NULL) {
		if (f != NULL)
			fclose(f);
		free(v);
		return -1;
	}
	while (fscanf(f, "%lf", &d) == 1) {
		if (n == cap) {
			cap *= 2;
			float *nv = realloc(v, (size_t)cap * sizeof *v);
			if (nv == NULL) {
				free(v);
				fclose(f);
				return -1;
			}
			v = nv;
		}
		v[n++] = (float)d;
	}
	fclose(f);
	*out = v;
	return n;
}

/* Whitespace-separated ids; returns how many. */
static inline int
read_ids(const char *path, int32_t *ids, int cap)
{
	FILE *f = fopen(path, "r");
	int n = 0, id;

	if (f == NULL)
		return -1;
	while (n < cap && fscanf(f, "%d", &id) == 1)
		ids[n++] = id;
	fclose(f);
	return n;
}

/* ||a - b|| / ||b||, in double. */
static inline double
rel_l2(const float *a, const float *b, int n)
{
	double num = 0, den = 0;
	int i;

	for (i = 0; i < n; i++) {
		double d = (double)a[i] - b[i];
		num += d * d;
		den += (double)b[i] * b[i];
	}
	return den > 0 ? sqrt(num / den) : sqrt(num);
}

static inline int
argmax(const float *v, int n)
{
	int i, best = 0;

	for (i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

/* Decode ids[0..n) of sequence seq from position pos0 as one batch; only
 * the last token asks for logits. */
static inline m40_status
prefill(m40_engine *e, int seq, int pos0, const int32_t *ids, int n, m40_error *err)
{
	int32_t *pos = malloc((size_t)n * sizeof *pos), *sq = malloc((size_t)n * sizeof *sq);
	bool *want = calloc((size_t)n, sizeof *want);
	m40_status s = M40_E_NOMEM;
	int i;

	if (pos != NULL && sq != NULL && want != NULL) {
		for (i = 0; i < n; i++) {
			pos[i] = pos0 + i;
			sq[i] = seq;
		}
		want[n - 1] = true;
		m40_batch b = { n, ids, pos, sq, want };
		s = m40_engine_decode(e, &b, err);
	}
	free(pos);
	free(sq);
	free(want);
	return s;
}

/* Greedy: n_gen tokens after a prompt already decoded (its last logits in
 * the engine), sequence 0, next position pos. */
static inline m40_status
greedy(m40_engine *e, int n_vocab, int pos, int n_gen, int32_t *out, m40_error *err)
{
	int i;
	m40_status s;

	for (i = 0; i < n_gen; i++) {
		int32_t tok = argmax(m40_engine_logits(e, 0), n_vocab), seq = 0, p = pos + i;
		bool want = true;
		m40_batch b = { 1, &tok, &p, &seq, &want };
		out[i] = tok;
		if (i + 1 < n_gen && (s = m40_engine_decode(e, &b, err)) != M40_OK)
			return s;
	}
	return M40_OK;
}

#endif
