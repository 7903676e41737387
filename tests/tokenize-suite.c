/* tokenize-suite.c: llama.cpp's tokenizer test suite (test-tokenizer-0) on every shared vocabulary.
 *
 * For each ../shared/reference/tokenizer/ggml-vocab-NAME.gguf: the 46 texts
 * of NAME.gguf.inp must tokenize (no BOS, no special parsing) to the ids on
 * the matching line of NAME.gguf.out, and those ids must decode back to the
 * text.  Prints a score per vocabulary. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <m40/m40.h>

static const char *const vocabs[] = {
	"llama-spm", "llama-bpe", "phi-3", "gpt-2", "deepseek-llm", "deepseek-coder"
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap + 1);
			if (buf == NULL)
				abort();
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
print_ids(const char *what, const int32_t *ids, size_t n)
{
	printf("    %s:", what);
	for (size_t i = 0; i < n && i < 40; i++)
		printf(" %d", ids[i]);
	printf("%s\n", n > 40 ? " ..." : "");
}

/* Returns the number of failures. */
static int
run_vocab(const char *dir, const char *name)
{
	char path[4096], warn[M40_ERROR_MSG_SIZE];
	m40_error err;
	m40_gguf *g = NULL;
	m40_vocab *v = NULL;
	char *inp, *out, *texts[64], *lines[64];
	size_t inp_len, out_len, n_texts = 0, n_lines = 0;
	int tok_ok = 0, dec_ok = 0, shown = 0;
	double t0;

	snprintf(path, sizeof path, "%s/ggml-vocab-%s.gguf", dir, name);
	if (m40_gguf_open(path, &g, &err) != M40_OK) {
		printf("FAIL %s: %s\n", name, err.msg);
		return 1;
	}
	t0 = now();
	if (m40_vocab_load(g, &v, warn, &err) != M40_OK) {
		printf("FAIL %s: %s\n", name, err.msg);
		m40_gguf_close(g);
		return 1;
	}
	printf("%s: %d tokens, pre '%s', loaded in %.3f s%s%s\n", name, m40_vocab_size(v),
		m40_vocab_pre(v), now() - t0, warn[0] ? "; warning: " : "", warn);
	m40_gguf_close(g); /* the vocabulary keeps its own copy */

	snprintf(path, sizeof path, "%s/ggml-vocab-%s.gguf.inp", dir, name);
	inp = slurp(path, &inp_len);
	snprintf(path, sizeof path, "%s/ggml-vocab-%s.gguf.out", dir, name);
	out = slurp(path, &out_len);
	if (inp == NULL || out == NULL) {
		printf("FAIL %s: cannot read %s\n", name, path);
		return 1;
	}
	for (char *p = inp; n_texts < 64;) {
		char *sep = strstr(p, "\n__ggml_vocab_test__\n");
		if (sep == NULL)
			break;
		*sep = '\0';
		texts[n_texts++] = p;
		p = sep + strlen("\n__ggml_vocab_test__\n");
	}
	for (char *p = out; *p != '\0' && n_lines < 64;) {
		char *nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		lines[n_lines++] = p;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (n_texts != 46 || n_lines != 46) {
		printf("FAIL %s: expected 46 texts and 46 lines, found %zu and %zu\n", name, n_texts, n_lines);
		return 1;
	}
	for (size_t i = 0; i < n_texts; i++) {
		int32_t want[4096], *ids = NULL;
		size_t n_want = 0, n_ids = 0, dlen = 0;
		char *end, *dec = NULL;
		bool same;

		for (char *p = lines[i]; *p != '\0'; p = end) {
			long x = strtol(p, &end, 10);
			if (end == p)
				break;
			if (n_want < 4096)
				want[n_want++] = (int32_t)x;
		}
		if (m40_tokenize(v, texts[i], strlen(texts[i]), 0, &ids, &n_ids, &err) != M40_OK) {
			printf("  text %zu: %s\n", i, err.msg);
			continue;
		}
		same = n_ids == n_want && memcmp(ids, want, n_ids * sizeof *ids) == 0;
		tok_ok += same;
		if (!same && shown++ < 5) {
			printf("  %s text %zu differs: '%s'\n", name, i, texts[i]);
			print_ids("want", want, n_want);
			print_ids("got ", ids, n_ids);
		}
		free(ids);
		if (m40_detokenize(v, want, n_want, false, &dec, &dlen, &err) != M40_OK) {
			printf("  text %zu: decode: %s\n", i, err.msg);
			continue;
		}
		if (dlen == strlen(texts[i]) && memcmp(dec, texts[i], dlen) == 0)
			dec_ok++;
		else if (shown++ < 5)
			printf("  %s text %zu decodes to '%s', not '%s'\n", name, i, dec, texts[i]);
		free(dec);
	}
	printf("%s: %d/46 tokenized exactly, %d/46 decoded back\n", name, tok_ok, dec_ok);
	free(inp);
	free(out);
	m40_vocab_free(v);
	return (46 - tok_ok) + (46 - dec_ok);
}

int
main(void)
{
	const char *shared = getenv("M40_SHARED");
	char dir[4096];
	int fail = 0;
	FILE *f;

	if (shared == NULL || *shared == '\0')
		shared = "../shared";
	snprintf(dir, sizeof dir, "%s/reference/tokenizer", shared);
	snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "%s", "");
	{
		char probe[4200];
		snprintf(probe, sizeof probe, "%s/ggml-vocab-llama-spm.gguf", dir);
		if ((f = fopen(probe, "rb")) == NULL) {
			printf("SKIP: no shared tokenizer data in %s\n", dir);
			return 77;
		}
		fclose(f);
	}
	for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++)
		fail += run_vocab(dir, vocabs[i]) != 0;
	printf("%d of %zu vocabularies failed\n", fail, sizeof vocabs / sizeof vocabs[0]);
	return fail ? 1 : 0;
}
