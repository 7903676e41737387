/*
 * m40-bench.c: token rates of the engine on one model file, as llama-bench
 * and llama-batched-bench count them.
 *
 *   m40-bench MODEL [BACKEND] [depth D] [tg N] [pp N] [batched B1,B2,...]
 *
 * tg N: N tokens decoded one at a time from an empty context (tg128), or
 * after a prompt of D tokens (depth D, untimed; llama-bench's -d).
 * pp N: one prompt of N tokens as one batch (pp512), logits of the last.
 * batched: B sequences, each a 128-token prompt, then 128 steps of B tokens
 * (one per sequence); the aggregate rate counts the generated tokens over
 * the time of the generation steps.
 * Each measurement runs once untimed first (the CUDA backend captures its
 * graphs then), then timed; the token ids are random (speed does not depend
 * on them).  Prints one line per rate, plus the model's bytes and the FP32
 * FLOPs per token of its matrix products (for the roofline fractions).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <m40/m40.h>

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
die(const char *what, const m40_error *err)
{
	fprintf(stderr, "m40-bench: %s: %s\n", what, err->msg);
	exit(1);
}

static int n_vocab;

static void
decode(m40_engine *e, int n, const int32_t *pos, const int32_t *seq, const bool *want)
{
	static int32_t tok[8192];
	m40_error err;
	for (int i = 0; i < n; i++)
		tok[i] = (int32_t)(rand() % n_vocab);
	m40_batch b = { n, tok, pos, seq, want };
	if (m40_engine_decode(e, &b, &err) != M40_OK)
		die("decode", &err);
}

/* n tokens of sequence s at positions p0.. in batches of at most nb */
static void
prompt(m40_engine *e, int s, int p0, int n, int nb)
{
	static int32_t pos[8192], seq[8192];
	static bool want[8192];
	for (int done = 0; done < n;) {
		int m = n - done < nb ? n - done : nb;
		for (int i = 0; i < m; i++) {
			pos[i] = p0 + done + i;
			seq[i] = s;
			want[i] = i == m - 1;
		}
		decode(e, m, pos, seq, want);
		done += m;
	}
}

static double
tg(m40_engine *e, int n, int depth)
{
	int32_t seq = 0;
	bool want = true;
	double t0 = 0;
	for (int rep = 0; rep < 2; rep++) {
		m40_engine_seq_clear(e, 0);
		if (depth > 0)
			prompt(e, 0, 0, depth, 512);
		if (rep == 1)
			t0 = now();
		for (int i = 0; i < (rep ? n : 4); i++) {
			int32_t p = depth + i;
			decode(e, 1, &p, &seq, &want);
		}
	}
	return n / (now() - t0);
}

static double
pp(m40_engine *e, int n)
{
	double best = 0;
	for (int rep = 0; rep < 4; rep++) {
		m40_engine_seq_clear(e, 0);
		double t0 = now();
		prompt(e, 0, 0, n, n);
		double r = n / (now() - t0);
		if (rep >= 2 && r > best)
			best = r;
	}
	return best;
}

static double
batched(m40_engine *e, int B, int n_prompt, int n_gen, int nb)
{
	static int32_t pos[1024], seq[1024];
	static bool want[1024];
	double rate = 0;
	for (int rep = 0; rep < 2; rep++) {
		for (int s = 0; s < B; s++) {
			m40_engine_seq_clear(e, s);
			prompt(e, s, 0, n_prompt, nb);
		}
		int steps = rep ? n_gen : 3;
		double t0 = now();
		for (int k = 0; k < steps; k++) {
			for (int s = 0; s < B; s++) {
				pos[s] = n_prompt + k;
				seq[s] = s;
				want[s] = true;
			}
			decode(e, B, pos, seq, want);
		}
		rate = (double)B * steps / (now() - t0);
	}
	return rate;
}

int
main(int argc, char **argv)
{
	m40_model *m;
	m40_engine *e = NULL;
	m40_error err;
	const char *backend = "auto";
	int a = 2, n_tg = 0, n_pp = 0, depth = 0, bs[16], n_bs = 0, max_b = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: m40-bench MODEL [BACKEND] [depth D] [tg N] [pp N] [batched B1,B2,...]\n");
		return 2;
	}
	if (argc > 2 && strcmp(argv[2], "tg") && strcmp(argv[2], "pp") && strcmp(argv[2], "batched") &&
		strcmp(argv[2], "depth"))
		backend = argv[a++];
	for (; a + 1 < argc; a += 2) {
		if (strcmp(argv[a], "tg") == 0)
			n_tg = atoi(argv[a + 1]);
		else if (strcmp(argv[a], "pp") == 0)
			n_pp = atoi(argv[a + 1]);
		else if (strcmp(argv[a], "depth") == 0)
			depth = atoi(argv[a + 1]);
		else if (strcmp(argv[a], "batched") == 0)
			for (char *t = strtok(argv[a + 1], ","); t && n_bs < 16; t = strtok(NULL, ","))
				bs[n_bs++] = atoi(t);
	}
	if (depth < 0 || depth > 65536 || n_tg < 0 || n_tg > 8192) {
		fprintf(stderr, "m40-bench: depth must be 0..65536 and tg 0..8192\n");
		return 2;
	}
	for (int i = 0; i < n_bs; i++)
		if (bs[i] > max_b)
			max_b = bs[i];
	srand(1);
	if (m40_model_open(argv[1], &m, &err) != M40_OK)
		die(argv[1], &err);
	const m40_gguf *g = m40_model_gguf(m);
	n_vocab = m40_model_hparams(m)->n_vocab;
	/* FP32 FLOPs per token: 2 per weight of every matrix product (the
	 * embedding is a lookup unless it doubles as the output) */
	double flops = 0;
	int has_output = m40_gguf_find_tensor(g, "output.weight") != NULL;
	for (size_t i = 0; i < m40_gguf_n_tensors(g); i++) {
		const m40_gguf_tensor *t = m40_gguf_tensor_at(g, i);
		if (t->n_dims < 2 || (strcmp(t->name, "token_embd.weight") == 0 && has_output))
			continue;
		flops += 2.0 * (double)t->ne[0] * (double)t->ne[1];
	}
	printf("model %s: %.3f GB file, %.2f GFLOP per token\n", argv[1], m40_gguf_file_size(g) / 1e9, flops / 1e9);
	m40_engine_params ep = { .backend = backend, .n_ctx = 1024, .n_seq = 1, .n_batch = 512 };
	if (depth + n_tg + 8 > ep.n_ctx)
		ep.n_ctx = (depth + n_tg + 8 + 255) / 256 * 256;
	if (n_tg > 0 || n_pp > 0) {
		double t0 = now();
		if (m40_engine_new(m, &ep, &e, &err) != M40_OK)
			die("engine", &err);
		printf("backend %s, loaded in %.1f s\n", m40_engine_backend_name(e), now() - t0);
		fflush(stdout);
		if (n_tg > 0) {
			double r = tg(e, n_tg, depth);
			if (depth > 0)
				printf("tg%d@d%d %.1f t/s\n", n_tg, depth, r);
			else
				printf("tg%d %.1f t/s\n", n_tg, r);
			fflush(stdout);
		}
		if (n_pp > 0) {
			printf("pp%d %.1f t/s\n", n_pp, pp(e, n_pp));
			fflush(stdout);
		}
		m40_engine_free(e);
		e = NULL;
	}
	if (n_bs > 0) {
		/* a second engine: max_b sequences of 256 positions */
		ep.n_ctx = 256;
		ep.n_seq = max_b;
		if (m40_engine_new(m, &ep, &e, &err) != M40_OK)
			die("engine", &err);
		for (int i = 0; i < n_bs; i++) {
			printf("batched %d %.1f t/s\n", bs[i], batched(e, bs[i], 128, 128, 512));
			fflush(stdout);
		}
	}
	m40_engine_free(e);
	m40_model_close(m);
	return 0;
}
