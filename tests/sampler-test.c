/* sampler-test.c: the sampler against the formulas of llama.cpp's chain.
 *
 * Each distribution check draws many tokens from a toy logit vector and
 * compares the counts with the probabilities computed here, independently
 * and naively (full sort, step by step as llama.cpp describes), by a
 * chi-square test at the 0.1% level; tokens the chain must drop may never
 * appear.  Seeds are fixed, so the test is deterministic. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <m40/m40.h>

#include "check.h"

static m40_sampler *
make(const m40_sampler_params *p, int n)
{
	m40_sampler *s = NULL;
	m40_error err;

	if (m40_sampler_new(p, n, &s, &err) != M40_OK) {
		printf("FAIL: m40_sampler_new: %s\n", err.msg);
		exit(1);
	}
	return s;
}

/* Plain parameters: everything off, temperature t. */
static m40_sampler_params
plain(float t, uint64_t seed)
{
	m40_sampler_params p;

	m40_sampler_params_default(&p);
	p.temperature = t;
	p.top_k = 0;
	p.top_p = 1.0f;
	p.min_p = 0.0f;
	p.seed = seed;
	return p;
}

/* --- the reference: llama.cpp's chain, written the obvious way ---------- */

typedef struct { double logit; int id; } ref_cand;

static int
ref_cmp(const void *a, const void *b)
{
	const ref_cand *x = a, *y = b;

	if (x->logit != y->logit)
		return x->logit > y->logit ? -1 : 1;
	return x->id - y->id;
}

/* Penalize logits as the formula says, given a history of tokens. */
static void
ref_penalize(double *l, int n, const m40_sampler_params *p, const int *hist, int n_hist)
{
	int i, j, first = p->penalty_last_n < 0 || p->penalty_last_n > n_hist ? 0 :
		n_hist - p->penalty_last_n;

	for (i = 0; i < n; i++) {
		int c = 0;

		for (j = first; j < n_hist; j++)
			c += hist[j] == i;
		if (c == 0)
			continue;
		l[i] = l[i] > 0 ? l[i] / p->repeat_penalty : l[i] * p->repeat_penalty;
		l[i] -= c * (double)p->freq_penalty + p->presence_penalty;
	}
}

/* prob[i] for every id, following the chain step by step. */
static void
ref_probs(const float *logits, int n, const m40_sampler_params *p, const int *hist, int n_hist,
	double *prob)
{
	ref_cand *c = malloc((size_t)n * sizeof(*c));
	double *l = malloc((size_t)n * sizeof(*l));
	double z, cum, pmax;
	int i, size = n;

	for (i = 0; i < n; i++)
		l[i] = logits[i];
	ref_penalize(l, n, p, hist, n_hist);
	for (i = 0; i < n; i++) {
		c[i].logit = l[i];
		c[i].id = i;
		prob[i] = 0;
	}
	qsort(c, (size_t)n, sizeof(*c), ref_cmp);
	if (p->top_k > 0 && p->top_k < size)
		size = p->top_k;
	/* top-p on the softmax of what top-k left */
	z = 0;
	for (i = 0; i < size; i++)
		z += exp(c[i].logit);
	cum = 0;
	for (i = 0; i < size; i++) {
		cum += exp(c[i].logit) / z;
		if (cum >= p->top_p) {
			size = i + 1;
			break;
		}
	}
	/* min-p: probability at least min_p times the largest */
	z = 0;
	for (i = 0; i < size; i++)
		z += exp(c[i].logit);
	pmax = exp(c[0].logit) / z;
	for (i = 1; i < size; i++)
		if (exp(c[i].logit) / z < p->min_p * pmax * (1 - 1e-9))
			break;
	size = i;
	/* temperature and softmax */
	z = 0;
	for (i = 0; i < size; i++)
		z += exp((c[i].logit - c[0].logit) / p->temperature);
	for (i = 0; i < size; i++)
		prob[c[i].id] = exp((c[i].logit - c[0].logit) / p->temperature) / z;
	free(c);
	free(l);
}

/* Chi-square critical values at the 0.1% level, df 1..12. */
static const double chi2_999[] = { 0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12,
	27.88, 29.59, 31.26, 32.91 };

/* Draw n_draws tokens and compare with the reference probabilities. */
static void
check_distribution(const char *name, const float *logits, int n, const m40_sampler_params *p,
	const int *hist, int n_hist, int n_draws)
{
	m40_sampler *s = make(p, n);
	double *prob = calloc((size_t)n, sizeof(*prob));
	long *count = calloc((size_t)n, sizeof(*count));
	double chi2 = 0;
	int i, df = -1, bad = 0;

	for (i = 0; i < n_hist; i++)
		m40_sampler_accept(s, hist[i]);
	ref_probs(logits, n, p, hist, n_hist, prob);
	for (i = 0; i < n_draws; i++) {
		int32_t id = m40_sampler_sample(s, logits);

		if (id < 0 || id >= n) {
			CHECK(0, "%s: token %d out of range", name, (int)id);
			bad = 1;
			break;
		}
		count[id]++;
	}
	for (i = 0; i < n && !bad; i++) {
		if (prob[i] == 0) {
			CHECK(count[i] == 0, "%s: token %d drawn %ld times, the chain drops it", name, i,
				count[i]);
			continue;
		}
		df++;
		chi2 += (count[i] - n_draws * prob[i]) * (count[i] - n_draws * prob[i]) /
			(n_draws * prob[i]);
	}
	if (!bad && df > 0) {
		CHECK(df < (int)(sizeof(chi2_999) / sizeof(chi2_999[0])), "%s: df %d", name, df);
		printf("%-34s %d draws, %d tokens kept, chi2 %.2f (df %d, 0.1%% limit %.2f)\n", name,
			n_draws, df + 1, chi2, df, chi2_999[df]);
		CHECK(chi2 < chi2_999[df], "%s: chi2 %.2f >= %.2f", name, chi2, chi2_999[df]);
	} else if (!bad) {
		/* one token kept: it must be the only one drawn */
		for (i = 0; i < n; i++)
			if (prob[i] > 0)
				CHECK(count[i] == n_draws, "%s: the one kept token %d drawn %ld of %d", name, i,
					count[i], n_draws);
		printf("%-34s %d draws, 1 token kept, always drawn\n", name, n_draws);
	}
	free(prob);
	free(count);
	m40_sampler_free(s);
}

static const float toy[] = { 2.0f, 1.0f, 0.5f, 0.0f, -1.0f, 1.5f, -3.0f, 0.25f };
#define N_TOY ((int)(sizeof(toy) / sizeof(toy[0])))

static void
test_distributions(void)
{
	m40_sampler_params p;
	int hist[] = { 0, 5, 0, 6, 3 };

	p = plain(1.0f, 1);
	check_distribution("temperature 1", toy, N_TOY, &p, NULL, 0, 200000);
	p = plain(0.6f, 2);
	check_distribution("temperature 0.6", toy, N_TOY, &p, NULL, 0, 200000);
	p = plain(2.5f, 3);
	check_distribution("temperature 2.5", toy, N_TOY, &p, NULL, 0, 200000);
	p = plain(1.0f, 4);
	p.top_k = 3;
	check_distribution("top-k 3", toy, N_TOY, &p, NULL, 0, 200000);
	p = plain(1.0f, 5);
	p.top_p = 0.8f;
	check_distribution("top-p 0.8", toy, N_TOY, &p, NULL, 0, 200000);
	p = plain(1.3f, 6);
	p.top_p = 0.5f;
	check_distribution("top-p 0.5, temperature 1.3", toy, N_TOY, &p, NULL, 0, 200000);
	p = plain(1.0f, 7);
	p.min_p = 0.2f;
	check_distribution("min-p 0.2", toy, N_TOY, &p, NULL, 0, 200000);
	/* min-p judges the probabilities before temperature */
	p = plain(2.0f, 14);
	p.min_p = 0.3f;
	check_distribution("min-p 0.3, temperature 2", toy, N_TOY, &p, NULL, 0, 200000);
	p = plain(0.8f, 8);
	p.top_k = 6;
	p.top_p = 0.9f;
	p.min_p = 0.1f;
	check_distribution("top-k 6, top-p 0.9, min-p 0.1, T 0.8", toy, N_TOY, &p, NULL, 0, 200000);
	p = plain(1.0f, 9);
	p.top_k = 5;
	p.top_p = 0.7f;
	check_distribution("top-k 5, top-p 0.7 (mass of top-k)", toy, N_TOY, &p, NULL, 0, 200000);
	m40_sampler_params_default(&p);
	p.seed = 10;
	check_distribution("defaults (T 0.8, k 40, p .95, m .05)", toy, N_TOY, &p, NULL, 0, 200000);
	p = plain(1.0f, 11);
	p.repeat_penalty = 1.3f;
	p.freq_penalty = 0.2f;
	p.presence_penalty = 0.3f;
	p.penalty_last_n = -1;
	check_distribution("penalties (all history)", toy, N_TOY, &p, hist, 5, 200000);
	p.penalty_last_n = 3;
	p.seed = 12;
	check_distribution("penalties (last 3)", toy, N_TOY, &p, hist, 5, 200000);
	/* penalties come first: they change which tokens top-k and top-p keep */
	p = plain(0.7f, 13);
	p.repeat_penalty = 2.0f;
	p.presence_penalty = 0.5f;
	p.top_k = 4;
	p.top_p = 0.85f;
	p.penalty_last_n = 64;
	check_distribution("penalties, then top-k 4, top-p 0.85", toy, N_TOY, &p, hist, 5, 200000);
}

/* Same seed, same tokens; another seed, other tokens; reset starts over. */
static void
test_seed(void)
{
	m40_sampler_params p = plain(1.0f, 42);
	m40_sampler *a = make(&p, N_TOY), *b = make(&p, N_TOY), *c;
	int32_t first[200];
	int i, same = 1, differ = 0;

	p.seed = 43;
	c = make(&p, N_TOY);
	for (i = 0; i < 200; i++) {
		int32_t x = m40_sampler_sample(a, toy), y = m40_sampler_sample(b, toy);

		first[i] = x;
		same &= x == y;
		differ |= x != m40_sampler_sample(c, toy);
	}
	CHECK(same, "two samplers with seed 42 disagree");
	CHECK(differ, "seeds 42 and 43 gave the same 200 tokens");
	m40_sampler_reset(a);
	for (i = 0; i < 200; i++)
		same &= m40_sampler_sample(a, toy) == first[i];
	CHECK(same, "after reset, seed 42 does not repeat its tokens");
	printf("seed: same seed same 200 tokens, other seed differs, reset repeats: %s\n",
		same && differ ? "ok" : "FAILED");
	m40_sampler_free(a);
	m40_sampler_free(b);
	m40_sampler_free(c);
}

/* xorshift for test data, independent of the sampler's generator */
static uint64_t test_rng = 88172645463325252ull;
static double
test_uniform(void)
{
	test_rng ^= test_rng << 13;
	test_rng ^= test_rng >> 7;
	test_rng ^= test_rng << 17;
	return (double)(test_rng >> 11) * 0x1.0p-53;
}

static void
random_logits(float *l, int n, double scale)
{
	int i;

	for (i = 0; i < n; i++)
		l[i] = (float)((test_uniform() * 2 - 1) * scale);
}

static int32_t
ref_argmax(const float *l, int n)
{
	int i, best = 0;

	for (i = 1; i < n; i++)
		if (l[i] > l[best])
			best = i;
	return best;
}

/* Greedy (temperature 0) is the arg max; top-k 1 at any temperature too. */
static void
test_greedy(void)
{
	enum { N = 1000 };
	float l[N];
	m40_sampler_params pg = plain(0.0f, 1), pk;
	m40_sampler *g, *k;
	int t, ok = 1;

	m40_sampler_params_default(&pk);
	pk.top_k = 1;
	pk.temperature = 1.5f;
	pk.seed = 99;
	g = make(&pg, N);
	k = make(&pk, N);
	for (t = 0; t < 200; t++) {
		int32_t want, a, b;

		random_logits(l, N, 8);
		want = ref_argmax(l, N);
		a = m40_sampler_sample(g, l);
		b = m40_sampler_sample(k, l);
		if (a != want || b != want) {
			CHECK(0, "trial %d: arg max %d, greedy %d, top-k 1 %d", t, (int)want, (int)a, (int)b);
			ok = 0;
			break;
		}
	}
	printf("greedy and top-k 1 equal the arg max on 200 random vectors: %s\n", ok ? "ok" : "FAILED");
	m40_sampler_free(g);
	m40_sampler_free(k);
}

/* Penalties, seen through greedy picks whose outcome the formula decides. */
static void
test_penalty_greedy(void)
{
	/* id:        0     1     2      3      4 */
	float l[] = { 3.0f, 2.9f, -0.5f, -0.6f, -5.0f };
	m40_sampler_params p = plain(0.0f, 1);
	m40_sampler *s;
	int32_t got;

	/* positive logit divided: 3.0 / 1.1 = 2.73 < 2.9 -> id 1 */
	p.repeat_penalty = 1.1f;
	p.penalty_last_n = 64;
	s = make(&p, 5);
	m40_sampler_accept(s, 0);
	got = m40_sampler_sample(s, l);
	CHECK(got == 1, "repeat penalty 1.1 on 3.0 vs 2.9: got %d, want 1", (int)got);
	m40_sampler_free(s);
	/* 3.0 / 1.03 = 2.913 > 2.9 -> still id 0 */
	p.repeat_penalty = 1.03f;
	s = make(&p, 5);
	m40_sampler_accept(s, 0);
	got = m40_sampler_sample(s, l);
	CHECK(got == 0, "repeat penalty 1.03 on 3.0 vs 2.9: got %d, want 0", (int)got);
	m40_sampler_free(s);

	/* negative logit multiplied: among 2..4 only; -0.5 * 1.3 = -0.65 < -0.6 */
	{
		float m[] = { -9.0f, -9.0f, -0.5f, -0.6f, -5.0f };

		p.repeat_penalty = 1.3f;
		s = make(&p, 5);
		m40_sampler_accept(s, 2);
		got = m40_sampler_sample(s, m);
		CHECK(got == 3, "repeat penalty on a negative logit: got %d, want 3", (int)got);
		m40_sampler_free(s);
		/* a divide (the wrong rule) would give -0.385 and keep id 2 */
	}

	/* frequency: two occurrences of 0 at 0.06 each -> 2.88 < 2.9; one -> 2.94 */
	p.repeat_penalty = 1.0f;
	p.freq_penalty = 0.06f;
	s = make(&p, 5);
	m40_sampler_accept(s, 0);
	got = m40_sampler_sample(s, l);
	CHECK(got == 0, "frequency 0.06 once: got %d, want 0", (int)got);
	m40_sampler_accept(s, 0);
	got = m40_sampler_sample(s, l);
	CHECK(got == 1, "frequency 0.06 twice: got %d, want 1", (int)got);
	m40_sampler_free(s);

	/* presence: counted once however often: 3.0 - 0.08 = 2.92 > 2.9 */
	p.freq_penalty = 0.0f;
	p.presence_penalty = 0.08f;
	s = make(&p, 5);
	m40_sampler_accept(s, 0);
	m40_sampler_accept(s, 0);
	m40_sampler_accept(s, 0);
	got = m40_sampler_sample(s, l);
	CHECK(got == 0, "presence 0.08 (x3): got %d, want 0", (int)got);
	m40_sampler_free(s);

	/* window: a token older than last-n is not penalized */
	p.presence_penalty = 0.0f;
	p.repeat_penalty = 1.5f;
	p.penalty_last_n = 2;
	s = make(&p, 5);
	m40_sampler_accept(s, 0);
	m40_sampler_accept(s, 4);
	got = m40_sampler_sample(s, l);
	CHECK(got == 1, "last-n 2, token 0 one back: got %d, want 1", (int)got);
	m40_sampler_accept(s, 4);
	got = m40_sampler_sample(s, l);
	CHECK(got == 0, "last-n 2, token 0 out of the window: got %d, want 0", (int)got);
	/* reset forgets the history */
	m40_sampler_accept(s, 0);
	m40_sampler_reset(s);
	got = m40_sampler_sample(s, l);
	CHECK(got == 0, "after reset: got %d, want 0", (int)got);
	m40_sampler_free(s);

	/* unbounded history grows past its first allocation */
	p.penalty_last_n = -1;
	s = make(&p, 5);
	{
		int i;

		m40_sampler_accept(s, 0);
		for (i = 0; i < 1000; i++)
			m40_sampler_accept(s, 4);
	}
	got = m40_sampler_sample(s, l);
	CHECK(got == 1, "last-n -1, token 0 1000 back: got %d, want 1", (int)got);
	m40_sampler_free(s);
	printf("penalties: repeat divide/multiply, frequency, presence, window, reset: checked\n");
}

/* A 128k vocabulary: every draw lies in the set the chain keeps, and it is
 * fast (time printed, not asserted). */
static void
test_large(void)
{
	enum { N = 128256, DRAWS = 300 };
	float *l = malloc(N * sizeof(*l));
	double *prob = malloc(N * sizeof(*prob));
	m40_sampler_params p;
	m40_sampler *s;
	struct timespec t0, t1;
	int i, ok = 1, kept = 0;
	double ms;

	random_logits(l, N, 6);
	/* a few strong candidates, like a real model */
	for (i = 0; i < 30; i++)
		l[(i * 7919) % N] = 10.0f + (float)(test_uniform() * 4);
	m40_sampler_params_default(&p);
	p.seed = 5;
	p.min_p = 0.0f; /* let top-k and top-p do the work */
	p.top_p = 0.99f;
	ref_probs(l, N, &p, NULL, 0, prob);
	for (i = 0; i < N; i++)
		kept += prob[i] > 0;
	s = make(&p, N);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < DRAWS; i++) {
		int32_t id = m40_sampler_sample(s, l);

		if (id < 0 || id >= N || prob[id] == 0) {
			CHECK(0, "128k vocabulary: token %d is outside the kept set", (int)id);
			ok = 0;
			break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = ((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6) / DRAWS;
	printf("128256 tokens, top-k 40, top-p 0.99 (%d kept): %s, %.3f ms per token\n", kept,
		ok ? "all draws in the kept set" : "FAILED", ms);
	m40_sampler_free(s);

	/* no top-k, min-p on: also only a sort of the survivors */
	m40_sampler_params_default(&p);
	p.top_k = 0;
	p.seed = 6;
	ref_probs(l, N, &p, NULL, 0, prob);
	kept = 0;
	for (i = 0; i < N; i++)
		kept += prob[i] > 0;
	s = make(&p, N);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < DRAWS && ok; i++) {
		int32_t id = m40_sampler_sample(s, l);

		if (id < 0 || id >= N || prob[id] == 0) {
			CHECK(0, "128k vocabulary, no top-k: token %d is outside the kept set", (int)id);
			ok = 0;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = ((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6) / DRAWS;
	printf("128256 tokens, no top-k, top-p 0.95, min-p 0.05 (%d kept): %s, %.3f ms per token\n",
		kept, ok ? "all draws in the kept set" : "FAILED", ms);
	m40_sampler_free(s);
	free(l);
	free(prob);
}

static void
test_bad_params(void)
{
	m40_sampler_params p = plain(1.0f, 1);
	m40_sampler *s = (m40_sampler *)&p;
	m40_error err;
	m40_status st;

	p.top_p = 1.5f;
	st = m40_sampler_new(&p, 10, &s, &err);
	CHECK(st == M40_E_INVALID && s == NULL && err.msg[0] != '\0', "top-p 1.5 accepted");
	p = plain(-1.0f, 1);
	st = m40_sampler_new(&p, 10, &s, &err);
	CHECK(st == M40_E_INVALID, "temperature -1 accepted");
	p = plain(1.0f, 1);
	st = m40_sampler_new(&p, 0, &s, &err);
	CHECK(st == M40_E_INVALID, "empty vocabulary accepted");
	printf("bad parameters refused: %s\n", err.msg);
	m40_sampler_free(NULL);
}

int
main(void)
{
	test_seed();
	test_greedy();
	test_penalty_greedy();
	test_distributions();
	test_large();
	test_bad_params();
	if (failures) {
		printf("%d check(s) failed\n", failures);
		return 1;
	}
	printf("all sampler checks passed\n");
	return 0;
}
