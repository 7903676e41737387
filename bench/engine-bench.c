/* engine-bench.c: prompt processing and generation speed of the engine on one model,
 * llama-bench style: ppN (one batch of N prompt tokens) and tgN (N single-token steps).
 * usage: engine-bench MODEL.gguf [-b cpu|cuda] [-t THREADS] [-p N] [-n N] [-r REPS] [-s SEQS] */
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

/* CPU seconds of every thread of the process: on a busy machine, tokens
 * per (CPU time / threads) estimates the rate an idle one would give. */
static double
cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
die(const char *what, const m40_error *err)
{
	fprintf(stderr, "engine-bench: %s: %s\n", what, err->msg);
	return 1;
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *backend = "cpu";
	int threads = 2, n_pp = 64, n_tg = 32, reps = 3, n_seqs = 1, i, r, s;
	m40_model *m = NULL;
	m40_engine *e = NULL;
	m40_error err;
	double best_pp = 0, best_tg = 0, cpu_pp = 0, cpu_tg = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-b") == 0 && i + 1 < argc)
			backend = argv[++i];
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			n_pp = atoi(argv[++i]);
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n_tg = atoi(argv[++i]);
		else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			n_seqs = atoi(argv[++i]);
		else
			path = argv[i];
	}
	if (path == NULL || n_pp < 1 || n_tg < 1 || reps < 1 || n_seqs < 1) {
		fprintf(stderr, "usage: engine-bench MODEL.gguf [-b cpu|cuda] [-t THREADS] [-p N] [-n N] "
			"[-r REPS] [-s SEQS]\n");
		return 2;
	}
	m40_error_clear(&err);
	if (m40_model_open(path, &m, &err) != M40_OK)
		return die(path, &err);
	m40_engine_params ep = { .backend = backend, .n_threads = threads, .n_ctx = n_pp + n_tg + 8,
		.n_seq = n_seqs, .n_batch = n_pp > n_seqs ? n_pp : n_seqs };
	if (m40_engine_new(m, &ep, &e, &err) != M40_OK)
		return die("engine", &err);

	int32_t *tok = malloc((size_t)(n_pp > n_seqs ? n_pp : n_seqs) * sizeof *tok);
	int32_t *pos = malloc((size_t)(n_pp > n_seqs ? n_pp : n_seqs) * sizeof *pos);
	int32_t *seq = calloc((size_t)(n_pp > n_seqs ? n_pp : n_seqs), sizeof *seq);
	bool *want = calloc((size_t)(n_pp > n_seqs ? n_pp : n_seqs), sizeof *want);
	int n_vocab = m40_model_hparams(m)->n_vocab;

	for (r = 0; r < reps; r++) {
		double t0, t1, c0, c1;
		for (s = 0; s < n_seqs; s++)
			m40_engine_seq_clear(e, s);
		/* ppN: the prompt of sequence 0 in one batch. */
		for (i = 0; i < n_pp; i++) {
			tok[i] = (int32_t)((i * 7919 + 17) % n_vocab);
			pos[i] = i;
			seq[i] = 0;
			want[i] = i == n_pp - 1;
		}
		m40_batch b = { n_pp, tok, pos, seq, want };
		t0 = now();
		c0 = cpu_now();
		if (m40_engine_decode(e, &b, &err) != M40_OK)
			return die("prompt", &err);
		t1 = now();
		c1 = cpu_now();
		if (n_pp / (t1 - t0) > best_pp)
			best_pp = n_pp / (t1 - t0);
		if (n_pp * threads / (c1 - c0) > cpu_pp)
			cpu_pp = n_pp * threads / (c1 - c0);
		/* The other sequences copy the first token of the prompt. */
		for (s = 1; s < n_seqs; s++) {
			int32_t p0 = 0;
			bool w = true;
			m40_batch one = { 1, tok, &p0, &s, &w };
			if (m40_engine_decode(e, &one, &err) != M40_OK)
				return die("prompt", &err);
		}
		/* tgN: n_tg steps of one token per sequence. */
		t0 = now();
		c0 = cpu_now();
		for (i = 0; i < n_tg; i++) {
			for (s = 0; s < n_seqs; s++) {
				tok[s] = (int32_t)((i * 31 + s) % n_vocab);
				pos[s] = (s == 0 ? n_pp : 1) + i;
				seq[s] = s;
				want[s] = true;
			}
			m40_batch st = { n_seqs, tok, pos, seq, want };
			if (m40_engine_decode(e, &st, &err) != M40_OK)
				return die("generation", &err);
		}
		t1 = now();
		c1 = cpu_now();
		if (n_tg * n_seqs / (t1 - t0) > best_tg)
			best_tg = n_tg * n_seqs / (t1 - t0);
		if (n_tg * n_seqs * threads / (c1 - c0) > cpu_tg)
			cpu_tg = n_tg * n_seqs * threads / (c1 - c0);
	}
	printf("backend %s, %d threads, %d sequences: pp%d %.2f t/s, tg%d %.2f t/s (best of %d); "
		"by CPU time: pp%d %.2f t/s, tg%d %.2f t/s\n", m40_engine_backend_name(e), threads, n_seqs,
		n_pp, best_pp, n_tg, best_tg, reps, n_pp, cpu_pp, n_tg, cpu_tg);
	free(tok);
	free(pos);
	free(seq);
	free(want);
	m40_engine_free(e);
	m40_model_close(m);
	return 0;
}
