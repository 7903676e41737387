/* engine-demo.c: the built-in demo model: the same bytes every time, a valid llama with an SPM
 * vocabulary, and it runs on the engine (no shared data needed). */
#include <config.h>

#include "engine-common.h"

int
main(void)
{
	void *a = NULL, *b = NULL;
	size_t na = 0, nb = 0, n_ids = 0;
	m40_gguf *g = NULL;
	m40_model *m = NULL;
	m40_engine *e = NULL;
	const m40_vocab *v;
	int32_t *ids = NULL, out[8];
	const char *name;
	m40_error err;
	int bad = 0, i;
	const char text[] = "Once upon a time there was a little girl";

	m40_error_clear(&err);
	if (m40_model_demo(&a, &na, &err) != M40_OK || m40_model_demo(&b, &nb, &err) != M40_OK) {
		printf("FAIL: m40_model_demo: %s\n", err.msg);
		return 1;
	}
	if (na != nb || memcmp(a, b, na) != 0) {
		printf("FAIL: two builds of the demo model differ\n");
		bad = 1;
	} else {
		printf("ok: the demo model is %zu bytes, the same on every build\n", na);
	}
	free(b);
	if (m40_gguf_open_memory(a, na, &g, &err) != M40_OK || m40_model_from_gguf(g, &m, &err) != M40_OK) {
		printf("FAIL: the demo model does not open: %s\n", err.msg);
		bad = 1;
		goto out;
	}
	name = m40_gguf_get_str(g, "general.name");
	if (name == NULL || strcmp(name, "m40-llm demo (random weights)") != 0) {
		printf("FAIL: general.name is '%s'\n", name ? name : "(none)");
		bad = 1;
	}
	if ((v = m40_model_vocab(m, &err)) == NULL
		|| m40_tokenize(v, text, strlen(text), M40_TOK_ADD_BOS, &ids, &n_ids, &err) != M40_OK) {
		printf("FAIL: the demo vocabulary: %s\n", err.msg);
		bad = 1;
		goto out;
	}
	/* BOS and one piece per word: the words are in the vocabulary. */
	printf("%s: '%s' is %zu tokens with BOS (want 10)\n", n_ids == 10 ? "ok" : "FAIL", text, n_ids);
	bad |= n_ids != 10;
	m40_engine_params ep = { .backend = "cpu", .n_threads = 2 };
	if (m40_engine_new(m, &ep, &e, &err) != M40_OK
		|| prefill(e, 0, 0, ids, (int)n_ids, &err) != M40_OK
		|| greedy(e, m40_model_hparams(m)->n_vocab, (int)n_ids, 8, out, &err) != M40_OK) {
		printf("FAIL: the demo model on the engine: %s\n", err.msg);
		bad = 1;
		goto out;
	}
	printf("ok: the demo model generates on the CPU:");
	for (i = 0; i < 8; i++)
		printf(" %d", out[i]);
	printf(" (n_ctx %d)\n", m40_engine_n_ctx(e));
out:
	free(ids);
	m40_engine_free(e);
	m40_model_close(m);
	m40_gguf_close(g);
	free(a);
	return bad;
}
