/* tokenize-json.c: the shared JSON test vectors.
 *
 * llama2_spm_llama2c_test_vectors.json: llama2.c's Llama 2 cases, BOS added,
 * on ggml-vocab-llama-spm.gguf.  llama3_bpe_ollama_test_vectors.json:
 * ollama's Llama 3 cases on ggml-vocab-llama-bpe.gguf: encodings with special
 * tokens parsed and no BOS, the pre-tokenizer's splits (checked on the
 * splitter itself, compiled into this test), and round trips. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <m40/m40.h>

#include "vocab-int.h"

static int fail;

static m40_vocab *
load(const char *dir, const char *name)
{
	char path[4096], warn[M40_ERROR_MSG_SIZE];
	m40_gguf *g;
	m40_vocab *v;
	m40_error err;

	snprintf(path, sizeof path, "%s/ggml-vocab-%s.gguf", dir, name);
	if (m40_gguf_open(path, &g, &err) != M40_OK || m40_vocab_load(g, &v, warn, &err) != M40_OK) {
		printf("FAIL %s: %s\n", path, err.msg);
		exit(1);
	}
	m40_gguf_close(g);
	return v;
}

static json_t *
read_json(const char *dir, const char *name)
{
	char path[4096];
	json_error_t e;
	json_t *j;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	j = json_load_file(path, 0, &e);
	if (j == NULL) {
		printf("FAIL %s:%d: %s\n", path, e.line, e.text);
		exit(1);
	}
	return j;
}

/* text -> ids must equal the JSON array want. */
static int
check_encode(const m40_vocab *v, const char *text, size_t len, unsigned flags, json_t *want)
{
	int32_t *ids;
	size_t n;
	m40_error err;
	bool same;

	if (m40_tokenize(v, text, len, flags, &ids, &n, &err) != M40_OK) {
		printf("  '%s': %s\n", text, err.msg);
		return 0;
	}
	same = n == json_array_size(want);
	for (size_t i = 0; same && i < n; i++)
		same = ids[i] == json_integer_value(json_array_get(want, i));
	if (!same) {
		printf("  '%s': got", text);
		for (size_t i = 0; i < n; i++)
			printf(" %d", ids[i]);
		printf(", want");
		for (size_t i = 0; i < json_array_size(want); i++)
			printf(" %lld", (long long)json_integer_value(json_array_get(want, i)));
		printf("\n");
	}
	free(ids);
	return same;
}

static void
llama2(const char *dir)
{
	json_t *j = read_json(dir, "llama2_spm_llama2c_test_vectors.json");
	json_t *cases = json_object_get(j, "cases");
	m40_vocab *v = load(dir, "llama-spm");
	size_t ok = 0, n = json_array_size(cases);

	for (size_t i = 0; i < n; i++) {
		json_t *c = json_array_get(cases, i);
		const char *text = json_string_value(json_object_get(c, "text"));
		ok += check_encode(v, text, json_string_length(json_object_get(c, "text")), M40_TOK_ADD_BOS,
			json_object_get(c, "ids_with_bos"));
	}
	printf("llama2.c Llama 2 vectors: %zu/%zu\n", ok, n);
	fail += ok != n || n == 0;
	m40_vocab_free(v);
	json_decref(j);
}

static void
llama3(const char *dir)
{
	json_t *j = read_json(dir, "llama3_bpe_ollama_test_vectors.json");
	json_t *enc = json_object_get(j, "encode"), *split = json_object_get(j, "pretokenize_split");
	json_t *rt = json_object_get(j, "roundtrip_texts");
	m40_vocab *v = load(dir, "llama-bpe");
	size_t ok = 0, n = json_array_size(enc);
	struct m40i_words w = { 0 };
	m40_error err;

	for (size_t i = 0; i < n; i++) {
		json_t *c = json_array_get(enc, i), *t = json_object_get(c, "text");
		ok += check_encode(v, json_string_value(t), json_string_length(t), M40_TOK_PARSE_SPECIAL,
			json_object_get(c, "ids"));
	}
	printf("ollama Llama 3 encode vectors: %zu/%zu\n", ok, n);
	fail += ok != n || n == 0;

	ok = 0;
	n = json_array_size(split);
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_array_get(split, i), *t = json_object_get(c, "text");
		json_t *pieces = json_object_get(c, "pieces");
		const char *text = json_string_value(t);
		size_t off = 0, cpt = 0, k;
		bool same;

		if (!m40i_pretokenize(M40I_PRE_LLAMA3, text, json_string_length(t), &w)) {
			printf("  '%s': out of memory\n", text);
			continue;
		}
		same = w.n_words == json_array_size(pieces);
		/* compare codepoint counts with the expected pieces' bytes */
		for (k = 0; same && k < w.n_words; k++) {
			const char *p = json_string_value(json_array_get(pieces, k));
			size_t plen = strlen(p), pcpts = 0;
			for (size_t b = 0; b < plen; b++)
				pcpts += ((unsigned char)p[b] & 0xc0) != 0x80;
			same = pcpts == w.len[k] && strncmp(text + off, p, plen) == 0;
			off += plen;
			cpt += w.len[k];
		}
		if (!same)
			printf("  split of '%s' differs (%zu pieces, want %zu)\n", text, w.n_words,
				json_array_size(pieces));
		ok += same;
	}
	printf("ollama Llama 3 pre-tokenizer splits: %zu/%zu\n", ok, n);
	fail += ok != n || n == 0;

	ok = 0;
	n = json_array_size(rt);
	for (size_t i = 0; i < n; i++) {
		json_t *t = json_array_get(rt, i);
		int32_t *ids;
		size_t n_ids, len;
		char *text;

		if (m40_tokenize(v, json_string_value(t), json_string_length(t), M40_TOK_ADD_BOS, &ids, &n_ids,
		    &err) != M40_OK)
			continue;
		if (m40_detokenize(v, ids, n_ids, false, &text, &len, &err) == M40_OK) {
			if (len == json_string_length(t) && memcmp(text, json_string_value(t), len) == 0)
				ok++;
			else
				printf("  round trip of '%s' gives '%s'\n", json_string_value(t), text);
			free(text);
		}
		free(ids);
	}
	printf("ollama Llama 3 round trips: %zu/%zu\n", ok, n);
	fail += ok != n || n == 0;
	m40i_words_free(&w);
	m40_vocab_free(v);
	json_decref(j);
}

int
main(void)
{
	const char *shared = getenv("M40_SHARED");
	char dir[4096], probe[4200];
	FILE *f;

	if (shared == NULL || *shared == '\0')
		shared = "../shared";
	snprintf(dir, sizeof dir, "%s/reference/tokenizer", shared);
	snprintf(probe, sizeof probe, "%s/llama3_bpe_ollama_test_vectors.json", dir);
	if ((f = fopen(probe, "rb")) == NULL) {
		printf("SKIP: no shared tokenizer data in %s\n", dir);
		return 77;
	}
	fclose(f);
	llama2(dir);
	llama3(dir);
	return fail ? 1 : 0;
}
