/* sampler.c: choosing the next token from logits (llama.cpp's default chain). */
#include "m40-int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * The chain, in llama.cpp's default order:
 *   penalties -> top-k -> top-p -> min-p -> temperature -> sample.
 * Top-p and min-p look at the distribution before temperature (as llama.cpp
 * does); temperature 0 means greedy: the arg max of the penalized logits.
 *
 * Cost per token: a pass or two over the vocabulary, then top-k as one
 * pass with a heap of k (quickselect when k is a large part of the
 * vocabulary); only the survivors of top-k and min-p are ever sorted.
 */

typedef struct cand {
	float logit;
	int32_t id;
} cand;

struct m40_sampler {
	m40_sampler_params p;
	int32_t n_vocab;
	cand *cands;       /* n_vocab scratch candidates */
	float *penalized;  /* n_vocab logits after the penalties */
	int32_t *counts;   /* per-id occurrences in the window; zero between calls */
	int32_t *hist;     /* ring of the last hist_cap accepted tokens */
	int hist_cap;      /* 0 when penalties are off */
	int hist_len;
	int hist_head;     /* where the next token goes */
	uint64_t rng[4];   /* xoshiro256** state */
};

void
m40_sampler_params_default(m40_sampler_params *p)
{
	p->temperature = 0.8f;
	p->top_k = 40;
	p->top_p = 0.95f;
	p->min_p = 0.05f;
	p->repeat_penalty = 1.0f;
	p->freq_penalty = 0.0f;
	p->presence_penalty = 0.0f;
	p->penalty_last_n = 64;
	p->seed = 0;
}

/* splitmix64: spreads a seed over the xoshiro state. */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(m40_sampler *s)
{
	uint64_t *st = s->rng;
	uint64_t r = rotl(st[1] * 5, 7) * 9;
	uint64_t t = st[1] << 17;

	st[2] ^= st[0];
	st[3] ^= st[1];
	st[1] ^= st[2];
	st[0] ^= st[3];
	st[2] ^= t;
	st[3] = rotl(st[3], 45);
	return r;
}

/* Uniform in [0, 1) with 53 random bits. */
static double
rng_uniform(m40_sampler *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static void
rng_seed(m40_sampler *s, uint64_t seed)
{
	uint64_t x = seed;
	int i;

	for (i = 0; i < 4; i++)
		s->rng[i] = splitmix64(&x);
}

static bool
penalties_on(const m40_sampler_params *p)
{
	return p->penalty_last_n != 0 &&
		(p->repeat_penalty != 1.0f || p->freq_penalty != 0.0f || p->presence_penalty != 0.0f);
}

m40_status
m40_sampler_new(const m40_sampler_params *p, int32_t n_vocab, m40_sampler **out, m40_error *err)
{
	m40_sampler *s;

	*out = NULL;
	if (n_vocab <= 0)
		return m40_error_set(err, M40_E_INVALID, _("sampler: vocabulary size %d is not positive"),
			(int)n_vocab);
	if (!(p->temperature >= 0.0f) || !(p->top_p >= 0.0f && p->top_p <= 1.0f) ||
	    !(p->min_p >= 0.0f && p->min_p <= 1.0f) || p->top_k < 0 || !(p->repeat_penalty > 0.0f) ||
	    !isfinite(p->freq_penalty) || !isfinite(p->presence_penalty) || p->penalty_last_n < -1)
		return m40_error_set(err, M40_E_INVALID,
			_("sampler: parameter out of range (temperature >= 0, top-k >= 0, top-p and min-p in "
			  "[0, 1], repeat penalty > 0, last-n >= -1)"));
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return m40_error_set(err, M40_E_NOMEM, _("sampler: out of memory"));
	s->p = *p;
	s->n_vocab = n_vocab;
	s->cands = malloc((size_t)n_vocab * sizeof(*s->cands));
	s->penalized = malloc((size_t)n_vocab * sizeof(*s->penalized));
	if (penalties_on(p)) {
		/* -1 = the whole history: grow on demand from a modest start. */
		s->hist_cap = p->penalty_last_n > 0 ? p->penalty_last_n : 256;
		s->hist = malloc((size_t)s->hist_cap * sizeof(*s->hist));
		s->counts = calloc((size_t)n_vocab, sizeof(*s->counts));
	}
	if (s->cands == NULL || s->penalized == NULL ||
	    (s->hist_cap > 0 && (s->hist == NULL || s->counts == NULL))) {
		m40_sampler_free(s);
		return m40_error_set(err, M40_E_NOMEM, _("sampler: out of memory for %d candidates"),
			(int)n_vocab);
	}
	rng_seed(s, p->seed);
	*out = s;
	return M40_OK;
}

void
m40_sampler_free(m40_sampler *s)
{
	if (s == NULL)
		return;
	free(s->cands);
	free(s->penalized);
	free(s->counts);
	free(s->hist);
	free(s);
}

void
m40_sampler_reset(m40_sampler *s)
{
	s->hist_len = 0;
	s->hist_head = 0;
	rng_seed(s, s->p.seed);
}

void
m40_sampler_accept(m40_sampler *s, int32_t id)
{
	if (s->hist_cap == 0 || id < 0 || id >= s->n_vocab)
		return;
	if (s->p.penalty_last_n < 0 && s->hist_len == s->hist_cap) {
		/* Unbounded history: the ring is full and unrotated (head 0). */
		int32_t *h = realloc(s->hist, (size_t)s->hist_cap * 2 * sizeof(*h));

		if (h != NULL) {
			s->hist = h;
			s->hist_head = s->hist_len;
			s->hist_cap *= 2;
		}
		/* Out of memory: keep the most recent tokens, as a ring. */
	}
	s->hist[s->hist_head] = id;
	s->hist_head = (s->hist_head + 1) % s->hist_cap;
	if (s->hist_len < s->hist_cap)
		s->hist_len++;
}

/*
 * llama.cpp's penalties: for each token seen c > 0 times in the window,
 * logit = logit > 0 ? logit / repeat : logit * repeat, then
 * logit -= c * frequency + presence.
 */
static void
apply_penalties(m40_sampler *s, float *logits)
{
	int i;

	for (i = 0; i < s->hist_len; i++)
		s->counts[s->hist[i]]++;
	for (i = 0; i < s->hist_len; i++) {
		int32_t id = s->hist[i];
		int32_t c = s->counts[id];
		float l;

		if (c == 0)
			continue; /* already done */
		l = logits[id];
		l = l > 0.0f ? l / s->p.repeat_penalty : l * s->p.repeat_penalty;
		l -= (float)c * s->p.freq_penalty + s->p.presence_penalty;
		logits[id] = l;
		s->counts[id] = 0;
	}
}

static int32_t
argmax(const float *x, int32_t n)
{
	int32_t i, best = 0;

	for (i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

/* Higher logit first; ties by lower id, so results never depend on qsort. */
static bool
better(const cand *a, const cand *b)
{
	return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int
cmp_cand(const void *pa, const void *pb)
{
	const cand *a = pa, *b = pb;

	return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

static void
swap_cand(cand *a, cand *b)
{
	cand t = *a;

	*a = *b;
	*b = t;
}

/* Sift c[i] down in a heap of n whose root is the worst candidate. */
static void
heap_down(cand *c, int32_t n, int32_t i)
{
	for (;;) {
		int32_t l = 2 * i + 1, r = l + 1, w = i;

		if (l < n && better(&c[w], &c[l]))
			w = l;
		if (r < n && better(&c[w], &c[r]))
			w = r;
		if (w == i)
			return;
		swap_cand(&c[i], &c[w]);
		i = w;
	}
}

/* The k best of logits[0..n) into c[0..k) (any order), in one pass with a
 * heap of k: on a large vocabulary almost every token loses to its root at
 * the first comparison. */
static void
heap_top(cand *c, const float *logits, int32_t n, int32_t k)
{
	int32_t i;

	for (i = 0; i < k; i++) {
		c[i].logit = logits[i];
		c[i].id = i;
	}
	for (i = k / 2 - 1; i >= 0; i--)
		heap_down(c, k, i);
	for (i = k; i < n; i++) {
		cand x = { logits[i], i };

		if (better(&x, &c[0])) {
			c[0] = x;
			heap_down(c, k, 0);
		}
	}
}

/* Rearrange c[0..n) so that its k best come first (in any order). */
static void
select_top(cand *c, int32_t n, int32_t k)
{
	int32_t lo = 0, hi = n - 1;

	while (lo < hi) {
		/* Median of three as pivot, moved to hi. */
		int32_t mid = lo + (hi - lo) / 2, i, store;
		cand pivot;

		if (better(&c[mid], &c[lo]))
			swap_cand(&c[mid], &c[lo]);
		if (better(&c[hi], &c[lo]))
			swap_cand(&c[hi], &c[lo]);
		if (better(&c[mid], &c[hi]))
			swap_cand(&c[mid], &c[hi]);
		pivot = c[hi];
		store = lo;
		for (i = lo; i < hi; i++)
			if (better(&c[i], &pivot))
				swap_cand(&c[i], &c[store++]);
		swap_cand(&c[store], &c[hi]);
		/* c[lo..store) beat the pivot, c[store] is it, the rest lose. */
		if (store == k - 1 || store == k)
			return;
		if (store < k)
			lo = store + 1;
		else
			hi = store - 1;
	}
}

int32_t
m40_sampler_sample(m40_sampler *s, const float *logits)
{
	const m40_sampler_params *p = &s->p;
	const float *l = logits;
	cand *c = s->cands;
	int32_t n = s->n_vocab, i, keep = 0;
	bool use_k = p->top_k > 0 && p->top_k < n;
	bool use_p = p->top_p < 1.0f;
	float maxl, floor_l;
	double z = 0.0, cum, r;

	if (s->hist_cap > 0 && s->hist_len > 0) {
		memcpy(s->penalized, logits, (size_t)n * sizeof(*logits));
		apply_penalties(s, s->penalized);
		l = s->penalized;
	}
	if (p->temperature <= 0.0f || p->top_k == 1)
		return argmax(l, n);

	maxl = l[argmax(l, n)];
	/* Min-p keeps logit >= max + log(min_p) (llama.cpp compares logits);
	 * the max survives every step, so it is the max of each stage too. */
	floor_l = p->min_p > 0.0f ? maxl + logf(p->min_p) : -INFINITY;

	if (use_k) {
		/* Top-k: select the k best of all tokens; top-p's mass is theirs. */
		if (p->top_k <= n / 16) {
			heap_top(c, l, n, p->top_k);
		} else {
			for (i = 0; i < n; i++) {
				c[i].logit = l[i];
				c[i].id = i;
			}
			select_top(c, n, p->top_k);
		}
		keep = p->top_k;
		if (use_p)
			for (i = 0; i < keep; i++)
				z += exp((double)c[i].logit - maxl);
		/* Min-p: top-p and min-p both keep a prefix of the sorted
		 * order, so filtering by min-p first gives the same set. */
		if (p->min_p > 0.0f) {
			int32_t kept = 0;

			for (i = 0; i < keep; i++)
				if (c[i].logit >= floor_l)
					c[kept++] = c[i];
			keep = kept;
		}
	} else {
		/* No top-k: top-p's mass is over all tokens; keep only what
		 * passes min-p, so the sort below stays small. */
		for (i = 0; i < n; i++) {
			if (use_p)
				z += exp((double)l[i] - maxl);
			if (l[i] >= floor_l) {
				c[keep].logit = l[i];
				c[keep].id = i;
				keep++;
			}
		}
	}

	if (keep == 0) /* only NaNs: nothing compares */
		return argmax(l, n);

	/* Top-p: the smallest prefix (best first) whose mass reaches p. */
	if (use_p) {
		qsort(c, (size_t)keep, sizeof(*c), cmp_cand);
		cum = 0.0;
		for (i = 0; i < keep; i++) {
			cum += exp((double)c[i].logit - maxl) / z;
			if (cum >= p->top_p)
				break;
		}
		if (i < keep)
			keep = i + 1;
	}

	/* Temperature, softmax over the survivors, and one draw. */
	z = 0.0;
	for (i = 0; i < keep; i++)
		z += exp(((double)c[i].logit - maxl) / p->temperature);
	r = rng_uniform(s) * z;
	cum = 0.0;
	for (i = 0; i < keep; i++) {
		cum += exp(((double)c[i].logit - maxl) / p->temperature);
		if (r < cum)
			return c[i].id;
	}
	return c[keep - 1].id;
}
