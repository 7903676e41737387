/* tokenize-bench.c: tokenizer speed on one text, vocabulary load excluded.
 *
 * Usage: tokenize-bench VOCAB.gguf TEXT [REPEAT]
 * Prints one line: vocabulary, MB/s (best of REPEAT runs, by CPU time and by
 * wall time), load seconds (CPU time: GGUF open and vocabulary), tokens. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <m40/m40.h>

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of this (single-threaded) process: on a busy machine it is what
 * the work costs; wall time is printed beside it. */
static double now(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

int
main(int argc, char **argv)
{
	m40_error err;
	m40_gguf *g;
	m40_vocab *v;
	char warn[M40_ERROR_MSG_SIZE], *text = NULL;
	size_t len = 0, cap = 0, r, n_ids = 0;
	int repeat = argc > 3 ? atoi(argv[3]) : 3;
	double t0, w0, load, best = 1e30, best_wall = 1e30;
	const char *name;
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: %s VOCAB.gguf TEXT [REPEAT]\n", argv[0]);
		return 1;
	}
	if ((f = fopen(argv[2], "rb")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	do {
		if (cap - len < 65536) {
			cap = cap ? 2 * cap : 1 << 20;
			if ((text = realloc(text, cap)) == NULL)
				return 1;
		}
		r = fread(text + len, 1, cap - len, f);
		len += r;
	} while (r > 0);
	fclose(f);

	t0 = now();
	if (m40_gguf_open(argv[1], &g, &err) != M40_OK || m40_vocab_load(g, &v, warn, &err) != M40_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], err.msg);
		return 1;
	}
	load = now() - t0;
	for (int i = 0; i < (repeat > 0 ? repeat : 1); i++) {
		int32_t *ids;
		t0 = now();
		w0 = clock_s(CLOCK_MONOTONIC);
		if (m40_tokenize(v, text, len, 0, &ids, &n_ids, &err) != M40_OK) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		t0 = now() - t0;
		w0 = clock_s(CLOCK_MONOTONIC) - w0;
		if (t0 < best)
			best = t0;
		if (w0 < best_wall)
			best_wall = w0;
		free(ids);
	}
	name = strrchr(argv[1], '/');
	name = name ? name + 1 : argv[1];
	printf("%-32s %7.2f MB/s (wall %6.2f)  load %.3f s  %zu tokens\n", name, len / best / 1e6,
		len / best_wall / 1e6, load, n_ids);
	m40_vocab_free(v);
	m40_gguf_close(g);
	free(text);
	return 0;
}
