/*
 * engine-models.c: every model of $M40_SHARED/models/synthetic and llama-2-tiny-random on the
 * engine against llama.cpp: logits at the last prompt position, and the greedy tokens while the
 * reference's top-2 margin is clear (free-running, then teacher-forced with llama.cpp's tokens so
 * that a near-tie early on does not end the comparison).
 *
 * Tolerances (relative L2 of the logit vector).  llama.cpp's CPU path
 * rounds every activation to the weight's "dot type" before a product
 * (Q8_0 or Q8_K blocks for quantized weights, F16 for F16 weights, BF16
 * for BF16) and, in flash attention, rounds Q and the V accumulator to F16
 * (see engine-stories.c); the engine keeps activations in FP32.  On these
 * random-weight models those roundings alone move the logits by the
 * amounts measured below (engine vs llama.cpp, this build), so each
 * limit is about twice the measured value, rounded up: a real defect (a
 * wrong block layout, scale, RoPE or norm) moves them by 0.3 or more.
 * That the difference is this rounding and nothing else is shown in
 * tests/ref-forward.c: a reference that rounds activations to each
 * weight's vec_dot_type and attention to F16 as llama.cpp does lands 4e-7
 * or closer to its logits for BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q2_K, Q4_K_M,
 * Q5_K_M, Q6_K, IQ4_NL and the qwen models, while the engine is within
 * 1e-5 of the unrounded reference (F16, Q5_1 and Q3_K_M keep a remainder
 * the emulation does not explain; see there).
 */
#include <config.h>

#include "engine-common.h"

static const char *backend = "cpu";

struct model_case {
	const char *model;   /* under models/ */
	const char *ref;     /* under reference/generate/, without .greedy/.logits */
	double tol;          /* relative L2 limit */
};

/* Measured (engine FP32 vs llama.cpp) in the comment of each line. */
static const struct model_case cases[] = {
	{ "synthetic/st-llama-f16.gguf", "st-llama-f16.once", 1.5e-3 }, /* 5.3e-4 */
	{ "synthetic/st-llama-bf16.gguf", "st-llama-bf16.once", 8e-3 }, /* 3.7e-3 */
	{ "synthetic/st-llama-q8_0.gguf", "st-llama-q8_0.once", 3e-2 }, /* 1.28e-2 */
	{ "synthetic/st-llama-q4_0.gguf", "st-llama-q4_0.once", 3e-2 }, /* 1.31e-2 */
	{ "synthetic/st-llama-q4_1.gguf", "st-llama-q4_1.once", 3e-2 }, /* 1.41e-2 */
	{ "synthetic/st-llama-q5_0.gguf", "st-llama-q5_0.once", 3e-2 }, /* 1.19e-2 */
	{ "synthetic/st-llama-q5_1.gguf", "st-llama-q5_1.once", 3e-2 }, /* 1.38e-2 */
	{ "synthetic/st-llama-q2_k.gguf", "st-llama-q2_k.once", 4e-2 }, /* 1.62e-2 */
	{ "synthetic/st-llama-q3_k_m.gguf", "st-llama-q3_k_m.once", 4e-2 }, /* 1.45e-2 */
	{ "synthetic/st-llama-q4_k_m.gguf", "st-llama-q4_k_m.once", 4e-2 }, /* 1.62e-2 */
	{ "synthetic/st-llama-q5_k_m.gguf", "st-llama-q5_k_m.once", 4e-2 }, /* 1.95e-2 */
	{ "synthetic/st-llama-q6_k.gguf", "st-llama-q6_k.once", 4e-2 }, /* 1.50e-2 */
	{ "synthetic/st-llama-iq4_nl.gguf", "st-llama-iq4_nl.once", 3e-2 }, /* 1.22e-2 */
	{ "synthetic/st-qwen2-q8_0.gguf", "st-qwen2-q8_0.once", 4e-2 }, /* 9.98e-3 */
	{ "synthetic/st-qwen2-q4_k_m.gguf", "st-qwen2-q4_k_m.once", 4e-2 }, /* 1.43e-2 */
	{ "synthetic/st-qwen3-q8_0.gguf", "st-qwen3-q8_0.once", 4e-2 }, /* 1.31e-2 */
	{ "synthetic/st-qwen3-q4_k_m.gguf", "st-qwen3-q4_k_m.once", 4e-2 }, /* 1.83e-2 */
	{ "llama-2-tiny-random.gguf", "llama-2-tiny-random.hello", 5e-4 }, /* 1.29e-4 (F16) */
};

/* Greedy tokens must match while the reference's margin between its top
 * two logits exceeds this many times the RMS error of our logits. */
#define MARGIN_FACTOR 8.0

static int
check(const struct model_case *c, int *skipped)
{
	char rel[512];
	const char *p;
	struct greedy_ref ref;
	float *want = NULL;
	int32_t got[256];
	m40_model *m = NULL;
	m40_engine *e = NULL;
	m40_error err;
	int n_vocab, n, i, bad = 0, n_checked = 0, n_forced = 0;
	double d, rms = 0, err_rms;
	m40_engine_params ep = { .backend = backend, .n_threads = 2, .n_ctx = 64 };

	snprintf(rel, sizeof rel, "models/%s", c->model);
	if ((p = shared_path(rel)) == NULL) {
		printf("skip: %s absent\n", rel);
		(*skipped)++;
		return 0;
	}
	m40_error_clear(&err);
	if (m40_model_open(p, &m, &err) != M40_OK) {
		printf("FAIL: %s: %s\n", c->model, err.msg);
		return 1;
	}
	n_vocab = m40_model_hparams(m)->n_vocab;
	snprintf(rel, sizeof rel, "reference/generate/%s.greedy", c->ref);
	if ((p = shared_path(rel)) == NULL || read_greedy(p, &ref) != 0) {
		printf("FAIL: cannot read %s\n", rel);
		m40_model_close(m);
		return 1;
	}
	snprintf(rel, sizeof rel, "reference/generate/%s.logits", c->ref);
	if ((p = shared_path(rel)) == NULL || (n = read_floats(p, &want)) != n_vocab) {
		printf("FAIL: cannot read %d logits from %s\n", n_vocab, rel);
		free(want);
		m40_model_close(m);
		return 1;
	}
	if (m40_engine_new(m, &ep, &e, &err) != M40_OK
		|| prefill(e, 0, 0, ref.prompt, ref.n_prompt, &err) != M40_OK) {
		printf("FAIL: %s: %s\n", c->model, err.msg);
		goto out;
	}
	d = rel_l2(m40_engine_logits(e, 0), want, n_vocab);
	for (i = 0; i < n_vocab; i++)
		rms += (double)want[i] * want[i];
	rms = sqrt(rms / n_vocab);
	err_rms = d * rms;
	if (!(d <= c->tol))
		bad = 1;
	if (greedy(e, n_vocab, ref.n_prompt, ref.n_gen, got, &err) != M40_OK) {
		printf("FAIL: %s: greedy: %s\n", c->model, err.msg);
		bad = 1;
		goto out;
	}
	/* Free-running: equal up to the first step whose reference margin is
	 * unclear (after a near-tie the continuations may part for good). */
	for (i = 0; i < ref.n_gen; i++) {
		if (ref.top1[i] - ref.top2[i] <= MARGIN_FACTOR * err_rms)
			break;
		if (got[i] != ref.gen[i]) {
			printf("FAIL: %s: greedy token %d is %d, llama.cpp has %d (margin %.3g)\n", c->model,
				i, got[i], ref.gen[i], ref.top1[i] - ref.top2[i]);
			bad = 1;
			break;
		}
		n_checked++;
	}
	/* Teacher-forced: feed llama.cpp's own tokens, so every step is
	 * compared, and ours must pick its token wherever its margin is clear. */
	m40_engine_seq_clear(e, 0);
	if (prefill(e, 0, 0, ref.prompt, ref.n_prompt, &err) != M40_OK) {
		printf("FAIL: %s: %s\n", c->model, err.msg);
		bad = 1;
		goto out;
	}
	for (i = 0; i < ref.n_gen; i++) {
		int32_t tok = ref.gen[i], pos = ref.n_prompt + i, seq = 0;
		bool w = true;
		m40_batch b = { 1, &tok, &pos, &seq, &w };
		if (ref.top1[i] - ref.top2[i] > MARGIN_FACTOR * err_rms) {
			n_forced++;
			if (argmax(m40_engine_logits(e, 0), n_vocab) != ref.gen[i]) {
				printf("FAIL: %s: teacher-forced step %d picks %d, llama.cpp %d (margin %.3g)\n",
					c->model, i, argmax(m40_engine_logits(e, 0), n_vocab), ref.gen[i],
					ref.top1[i] - ref.top2[i]);
				bad = 1;
			}
		}
		if (i + 1 < ref.n_gen && m40_engine_decode(e, &b, &err) != M40_OK) {
			printf("FAIL: %s: %s\n", c->model, err.msg);
			bad = 1;
			goto out;
		}
	}
	printf("%s: %-34s logits rel L2 %.3e (limit %.2g); greedy: first %d of %d equal, "
		"teacher-forced %d of %d steps with a margin > %.2g equal\n", bad ? "FAIL" : "ok", c->model,
		d, c->tol, n_checked, ref.n_gen, n_forced, ref.n_gen, MARGIN_FACTOR * err_rms);
out:
	if (err.code != M40_OK)
		bad = 1;
	m40_engine_free(e);
	m40_model_close(m);
	free(want);
	return bad;
}

int
main(int argc, char **argv)
{
	int bad = 0, skipped = 0;

	if (argc > 1)
		backend = argv[1];
	if (shared_path("README.md") == NULL) {
		printf("SKIP: no shared test data (M40_SHARED)\n");
		return SKIP;
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		bad |= check(&cases[i], &skipped);
	if (skipped == (int)(sizeof cases / sizeof cases[0]))
		return SKIP;
	return bad;
}
