/* tokenize-edge.c: tokenizer edge cases on vocabularies made with the GGUF writer, and on the
 * shared ones where present: empty input, whitespace only, invalid UTF-8, NUL bytes, every byte
 * value, long runs of one character, 10 MB of text, special tokens, the streaming decoder, and
 * stories260K's prompt ids. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <m40/m40.h>

#include "check.h"

/* ---- vocabularies made here --------------------------------------------- */

static m40_vocab *
from_writer(m40_gguf_writer *w, char *warn)
{
	void *buf;
	size_t size;
	m40_gguf *g;
	m40_vocab *v = NULL;
	m40_error err;

	if (m40_gguf_writer_to_memory(w, 3, &buf, &size, &err) != M40_OK ||
	    m40_gguf_open_memory(buf, size, &g, &err) != M40_OK) {
		printf("FAIL: writing a test vocabulary: %s\n", err.msg);
		exit(1);
	}
	if (m40_vocab_load(g, &v, warn, &err) != M40_OK) {
		printf("FAIL: loading a test vocabulary: %s\n", err.msg);
		exit(1);
	}
	m40_gguf_close(g);
	free(buf); /* the vocabulary keeps copies */
	m40_gguf_writer_free(w);
	return v;
}

/* SentencePiece: <unk> <s> </s>, the 256 byte tokens, a few words. */
static m40_vocab *
make_spm(void)
{
	static const char *const words[] = {
		"\xe2\x96\x81", "a", "b", "\xe2\x96\x81" "a", "ab", "\xe2\x96\x81" "ab", "aa", "<sep>"
	};
	static const float word_scores[] = { -1, -2, -2, -3, -4, -5, -6, 0 };
	const char *tok[3 + 256 + 8];
	char bytes[256][8];
	float score[3 + 256 + 8];
	int32_t type[3 + 256 + 8];
	size_t n = 0;
	m40_gguf_writer *w = m40_gguf_writer_new();
	char warn[M40_ERROR_MSG_SIZE];

	tok[n] = "<unk>"; type[n] = 2; score[n++] = 0;
	tok[n] = "<s>"; type[n] = 3; score[n++] = 0;
	tok[n] = "</s>"; type[n] = 3; score[n++] = 0;
	for (int b = 0; b < 256; b++) {
		snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
		tok[n] = bytes[b]; type[n] = 6; score[n++] = 0;
	}
	for (size_t i = 0; i < 8; i++) {
		tok[n] = words[i];
		type[n] = i == 7 ? 4 : 1;
		score[n++] = word_scores[i];
	}
	m40_gguf_set_str(w, "general.architecture", "llama");
	m40_gguf_set_str(w, "tokenizer.ggml.model", "llama");
	m40_gguf_set_arr_str(w, "tokenizer.ggml.tokens", tok, n);
	m40_gguf_set_arr(w, "tokenizer.ggml.scores", M40_GGUF_FLOAT32, score, n);
	m40_gguf_set_arr(w, "tokenizer.ggml.token_type", M40_GGUF_INT32, type, n);
	m40_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
	m40_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
	return from_writer(w, warn);
}

/* Byte-level BPE: the 256 GPT-2 characters, "aa", "Ġa", <|endoftext|>. */
static m40_vocab *
make_bpe(const char *pre, char *warn)
{
	const char *tok[256 + 3];
	char chars[256][4];
	int32_t type[256 + 3];
	const char *merges[] = { "a a", "\xc4\xa0 a" };
	size_t n = 0;
	m40_gguf_writer *w = m40_gguf_writer_new();

	for (int b = 0; b < 256; b++) {
		/* GPT-2's byte alphabet */
		unsigned c = b;
		if (!((b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae)) {
			unsigned k = 0;
			for (int x = 0; x < b; x++)
				k += !((x >= 0x21 && x <= 0x7e) || (x >= 0xa1 && x <= 0xac) || x >= 0xae);
			c = 256 + k;
		}
		if (c < 0x80) {
			chars[b][0] = (char)c;
			chars[b][1] = '\0';
		} else {
			chars[b][0] = (char)(0xc0 | (c >> 6));
			chars[b][1] = (char)(0x80 | (c & 0x3f));
			chars[b][2] = '\0';
		}
		tok[n] = chars[b];
		type[n++] = 1;
	}
	tok[n] = "aa"; type[n++] = 1;
	tok[n] = "\xc4\xa0" "a"; type[n++] = 1;
	tok[n] = "<|endoftext|>"; type[n++] = 3;
	m40_gguf_set_str(w, "general.architecture", "gpt2");
	m40_gguf_set_str(w, "tokenizer.ggml.model", "gpt2");
	if (pre != NULL)
		m40_gguf_set_str(w, "tokenizer.ggml.pre", pre);
	m40_gguf_set_arr_str(w, "tokenizer.ggml.tokens", tok, n);
	m40_gguf_set_arr(w, "tokenizer.ggml.token_type", M40_GGUF_INT32, type, n);
	m40_gguf_set_arr_str(w, "tokenizer.ggml.merges", merges, 2);
	m40_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 258);
	m40_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 258);
	return from_writer(w, warn);
}

/* ---- helpers ------------------------------------------------------------ */

static size_t
tok(const m40_vocab *v, const char *s, size_t len, unsigned flags, int32_t **ids)
{
	size_t n = 0;
	m40_error err;

	*ids = NULL;
	if (m40_tokenize(v, s, len, flags, ids, &n, &err) != M40_OK)
		CHECK(0, "tokenize %zu bytes: %s", len, err.msg);
	return n;
}

/* text -> ids -> text gives the text back. */
static bool
roundtrip(const m40_vocab *v, const char *s, size_t len, unsigned flags)
{
	int32_t *ids;
	size_t n = tok(v, s, len, flags, &ids), dl = 0;
	char *d = NULL;
	m40_error err;
	bool ok;

	ok = m40_detokenize(v, ids, n, false, &d, &dl, &err) == M40_OK && dl == len &&
		memcmp(d, s, len) == 0;
	free(d);
	free(ids);
	return ok;
}

static bool
ids_are(const int32_t *ids, size_t n, const int32_t *want, size_t n_want)
{
	return n == n_want && (n == 0 || memcmp(ids, want, n * sizeof *ids) == 0);
}

/* The largest length <= n that ends before an ASCII byte (a character boundary). */
static size_t
ascii_cut(const char *s, size_t n)
{
	while (n > 0 && (unsigned char)s[n - 1] >= 0x80)
		n--;
	return n;
}

static bool
valid_utf8(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (k == 0 || i + k > n)
			return false;
		for (size_t j = 1; j < k; j++)
			if (((unsigned char)s[i + j] & 0xc0) != 0x80)
				return false;
		i += k;
	}
	return true;
}

static void random_bytes(const m40_vocab *v, const char *name);

/* ---- made-here vocabularies --------------------------------------------- */

static void
spm_cases(void)
{
	m40_vocab *v = make_spm();
	int32_t *ids;
	size_t n;
	char all[256], *big;
	const int32_t ab[] = { 264 }, bos[] = { 1 }, sep[] = { 266 };

	n = tok(v, "", 0, 0, &ids);
	CHECK(n == 0, "SPM: empty text gives %zu ids", n);
	free(ids);
	n = tok(v, "", 0, M40_TOK_ADD_BOS | M40_TOK_ADD_EOS, &ids);
	CHECK(ids_are(ids, n, bos, 1), "SPM: empty text with BOS is not just BOS");
	free(ids);
	n = tok(v, "ab", 2, 0, &ids);
	CHECK(ids_are(ids, n, ab, 1), "SPM: 'ab' is not the one token '\xe2\x96\x81" "ab'");
	free(ids);
	CHECK(roundtrip(v, " ", 1, 0), "SPM: one space does not round-trip");
	CHECK(roundtrip(v, " \t\n \r\n  ", 8, M40_TOK_ADD_BOS), "SPM: whitespace does not round-trip");
	CHECK(roundtrip(v, "\xff\xfe\xc3", 3, 0), "SPM: invalid UTF-8 does not round-trip");
	CHECK(roundtrip(v, "a\0b\0", 4, 0), "SPM: NUL bytes do not round-trip");
	for (int b = 0; b < 256; b++) {
		char c = (char)b;
		all[b] = c;
		if (!roundtrip(v, &c, 1, 0))
			CHECK(0, "SPM: byte 0x%02x does not round-trip", b);
	}
	CHECK(roundtrip(v, all, 256, M40_TOK_ADD_BOS), "SPM: bytes 0-255 do not round-trip");
	/* user-defined tokens are matched always, control ones only when asked */
	n = tok(v, "<sep>", 5, 0, &ids);
	CHECK(ids_are(ids, n, sep, 1), "SPM: user-defined <sep> not matched");
	free(ids);
	n = tok(v, "<s>", 3, 0, &ids);
	CHECK(n > 1, "SPM: <s> matched without special parsing");
	free(ids);
	n = tok(v, "<s>", 3, M40_TOK_PARSE_SPECIAL, &ids);
	CHECK(ids_are(ids, n, bos, 1), "SPM: <s> not matched with special parsing");
	free(ids);

	big = malloc(1 << 20);
	memset(big, 'a', 1 << 20);
	CHECK(roundtrip(v, big, 1 << 20, 0), "SPM: 1 MiB of 'a' does not round-trip");
	memset(big, ' ', 1 << 20);
	CHECK(roundtrip(v, big, 1 << 20, 0), "SPM: 1 MiB of spaces does not round-trip");
	free(big);

	/* streaming: a character split over byte tokens comes out whole */
	{
		m40_decoder *d = m40_decoder_new(v, false);
		char out[256];
		size_t k;

		k = m40_decoder_push(d, 3 + 0xc3, out, sizeof out);
		CHECK(k == 0, "decoder: half of 'é' given out (%zu bytes)", k);
		k = m40_decoder_push(d, 3 + 0xa9, out, sizeof out);
		CHECK(k == 2 && memcmp(out, "\xc3\xa9", 2) == 0, "decoder: 'é' not given out whole");
		k = m40_decoder_push(d, 3 + 0xe2, out, sizeof out);
		CHECK(k == 0, "decoder: a lone lead byte given out");
		k = m40_decoder_flush(d, out, sizeof out);
		CHECK(k == 3 && memcmp(out, "\xef\xbf\xbd", 3) == 0, "decoder: flush does not give U+FFFD");
		k = m40_decoder_push(d, 1, out, sizeof out);
		CHECK(k == 0, "decoder: BOS gives text without special");
		m40_decoder_free(d);
	}
	CHECK(m40_vocab_is_eog(v, 2) && !m40_vocab_is_eog(v, 1), "SPM: EOS not end-of-generation");
	CHECK(m40_vocab_add_bos(v) && !m40_vocab_add_eos(v), "SPM: add_bos/add_eos defaults");
	random_bytes(v, "made-here SPM");
	printf("made-here SPM vocabulary: checked\n");
	m40_vocab_free(v);
}

static void
bpe_cases(void)
{
	char warn[M40_ERROR_MSG_SIZE];
	m40_vocab *v = make_bpe("gpt-2", warn);
	int32_t *ids;
	size_t n;
	const int32_t aa_ga[] = { 256, 257 };

	CHECK(warn[0] == '\0', "BPE: unexpected warning '%s'", warn);
	n = tok(v, "aa a", 4, 0, &ids);
	CHECK(ids_are(ids, n, aa_ga, 2), "BPE: 'aa a' is not 'aa' 'Ġa'");
	free(ids);
	n = tok(v, "", 0, M40_TOK_ADD_BOS, &ids);
	CHECK(n == 0, "BPE gpt-2: BOS added though add_bos_token is absent");
	free(ids);
	for (int b = 0; b < 128; b++) {
		char c = (char)b;
		if (!roundtrip(v, &c, 1, 0))
			CHECK(0, "BPE: byte 0x%02x does not round-trip", b);
	}
	CHECK(roundtrip(v, "a\0b\0\0", 5, 0), "BPE: NUL bytes do not round-trip");
	CHECK(roundtrip(v, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15, 0),
		"BPE: UTF-8 does not round-trip");
	/* invalid UTF-8 becomes U+FFFD, as in llama.cpp */
	{
		int32_t *a, *b;
		size_t na = tok(v, "\x80", 1, 0, &a), nb = tok(v, "\xef\xbf\xbd", 3, 0, &b);
		CHECK(ids_are(a, na, b, nb), "BPE: an invalid byte is not tokenized as U+FFFD");
		free(a);
		free(b);
	}
	n = tok(v, "x<|endoftext|>", 14, M40_TOK_PARSE_SPECIAL, &ids);
	CHECK(n == 2 && ids[1] == 258, "BPE: <|endoftext|> not matched");
	free(ids);
	CHECK(m40_vocab_is_eog(v, 258), "BPE: <|endoftext|> is not end-of-generation");
	random_bytes(v, "made-here BPE");
	m40_vocab_free(v);

	v = make_bpe(NULL, warn);
	CHECK(warn[0] != '\0' && strcmp(m40_vocab_pre(v), "default") == 0,
		"BPE without tokenizer.ggml.pre: no warning or not 'default'");
	printf("missing pre-tokenizer warns: %s\n", warn);
	m40_vocab_free(v);
	v = make_bpe("no-such-pre", warn);
	CHECK(warn[0] != '\0', "BPE with an unknown pre-tokenizer: no warning");
	CHECK(roundtrip(v, "Hello, world 123!", 17, 0), "BPE fallback: no round trip");
	printf("unknown pre-tokenizer warns: %s\n", warn);
	m40_vocab_free(v);
	printf("made-here BPE vocabulary: checked\n");
}

/* ---- shared vocabularies ------------------------------------------------ */

static m40_vocab *
shared_vocab(const char *shared, const char *file)
{
	char path[4096], warn[M40_ERROR_MSG_SIZE];
	m40_gguf *g;
	m40_vocab *v;
	m40_error err;

	snprintf(path, sizeof path, "%s/%s", shared, file);
	if (m40_gguf_open(path, &g, &err) != M40_OK)
		return NULL;
	if (m40_vocab_load(g, &v, warn, &err) != M40_OK) {
		CHECK(0, "%s: %s", path, err.msg);
		v = NULL;
	}
	m40_gguf_close(g);
	return v;
}

static void
stories(const char *shared)
{
	char path[4096], line[512];
	int32_t want[64], *ids;
	size_t n_want = 0, n;
	m40_vocab *v = shared_vocab(shared, "models/stories260K.gguf");
	FILE *f;

	snprintf(path, sizeof path, "%s/reference/generate/stories260K.once.greedy", shared);
	if (v == NULL || (f = fopen(path, "r")) == NULL) {
		m40_vocab_free(v);
		return;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		int i, id;
		if (sscanf(line, "prompt %d %d", &i, &id) == 2 && n_want < 64)
			want[n_want++] = id;
	}
	fclose(f);
	n = tok(v, "Once upon a time", 16, M40_TOK_ADD_BOS, &ids);
	CHECK(n_want == 5 && ids_are(ids, n, want, n_want), "stories260K: 'Once upon a time' ids differ");
	printf("stories260K 'Once upon a time' with BOS:");
	for (size_t i = 0; i < n; i++)
		printf(" %d", ids[i]);
	printf("\n");
	free(ids);
	m40_vocab_free(v);
}

/* Random bytes (with spaces, newlines, '<', '|' and lead bytes mixed in):
 * never a failure, and a SentencePiece vocabulary gives the bytes back. */
static void
random_bytes(const m40_vocab *v, const char *name)
{
	static const char pool[] = " \n\t<|>/s_\xe2\x96\x81\xc3\xa9\xf0\x9f\x98\x80\xff\x80\x00ab'";
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char buf[400];
	int bad = 0;

	for (int k = 0; k < 300; k++) {
		size_t len;
		int32_t *ids;
		size_t n;
		m40_error err;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		len = x % sizeof buf;
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = (x >> 40) % 3 ? pool[(x >> 8) % (sizeof pool - 1)] : (char)(x >> 16);
		}
		for (unsigned flags = 0; flags < 8; flags++) {
			if (m40_tokenize(v, buf, len, flags, &ids, &n, &err) != M40_OK) {
				bad++;
				continue;
			}
			free(ids);
		}
		/* U+2581 in the input comes back as a space: leave those out.  A
		 * space right after a stray lead byte is cut into byte tokens
		 * with it (llama.cpp cuts characters by the lead byte alone) and
		 * comes back as the bytes of U+2581: count it as a space. */
		if (m40_vocab_kind(v) == M40_VOCAB_SPM && !memmem(buf, len, "\xe2\x96\x81", 3) &&
		    !memmem(buf, len, "<", 1)) {
			size_t dl = 0, m = 0;
			char *d = NULL;

			if (m40_tokenize(v, buf, len, 0, &ids, &n, &err) != M40_OK ||
			    m40_detokenize(v, ids, n, false, &d, &dl, &err) != M40_OK) {
				bad++;
				continue;
			}
			free(ids);
			for (size_t i = 0; i < dl; i++) {
				if (i + 3 <= dl && memcmp(d + i, "\xe2\x96\x81", 3) == 0) {
					d[m++] = ' ';
					i += 2;
				} else {
					d[m++] = d[i];
				}
			}
			if (m != len || memcmp(d, buf, len) != 0) {
				bad++;
				printf("  %s: no round trip for %zu bytes:", name, len);
				for (size_t i = 0; i < len && i < 40; i++)
					printf(" %02x", (unsigned char)buf[i]);
				printf("%s\n", len > 40 ? " ..." : "");
			}
			free(d);
		}
	}
	CHECK(bad == 0, "%s: %d of 300 random inputs failed", name, bad);
}

static void
shared_cases(const char *shared)
{
	static const char *const names[] = { "llama-spm", "llama-bpe" };
	char path[4096];
	char *text = NULL, *big;
	size_t len = 0, cap = 0, r;
	FILE *f;

	snprintf(path, sizeof path, "%s/bench/war-and-peace.txt", shared);
	if ((f = fopen(path, "rb")) == NULL)
		return;
	do {
		if (cap - len < 65536 && (text = realloc(text, cap = cap ? 2 * cap : 1 << 22)) == NULL)
			abort();
		r = fread(text + len, 1, cap - len, f);
		len += r;
	} while (r > 0);
	fclose(f);
	{
		static const char *const all[] = {
			"llama-spm", "llama-bpe", "phi-3", "gpt-2", "deepseek-llm", "deepseek-coder"
		};
		for (size_t k = 0; k < 6; k++) {
			char file[256];
			m40_vocab *v;
			snprintf(file, sizeof file, "reference/tokenizer/ggml-vocab-%s.gguf", all[k]);
			if ((v = shared_vocab(shared, file)) == NULL)
				continue;
			random_bytes(v, all[k]);
			m40_vocab_free(v);
		}
		printf("random bytes through the six shared vocabularies: checked\n");
	}
	/* 10 MB: the book three times and a bit */
	big = malloc(10000000);
	for (size_t i = 0; i < 10000000; i++)
		big[i] = text[i % len];
	for (size_t k = 0; k < 2; k++) {
		char file[256];
		m40_vocab *v;
		int32_t *ids;
		size_t n;
		char *run;

		snprintf(file, sizeof file, "reference/tokenizer/ggml-vocab-%s.gguf", names[k]);
		if ((v = shared_vocab(shared, file)) == NULL)
			continue;
		CHECK(roundtrip(v, big, ascii_cut(big, 10000000), M40_TOK_ADD_BOS),
			"%s: 10 MB do not round-trip", names[k]);
		n = tok(v, big, 10000000, 0, &ids);
		CHECK(n > 1000000, "%s: 10 MB give only %zu tokens", names[k], n);
		free(ids);
		run = malloc(200000);
		memset(run, 'a', 200000);
		CHECK(roundtrip(v, run, 200000, 0), "%s: a run of 'a' does not round-trip", names[k]);
		memset(run, ' ', 200000);
		CHECK(roundtrip(v, run, 200000, 0), "%s: a run of spaces does not round-trip", names[k]);
		memset(run, '\n', 200000);
		CHECK(roundtrip(v, run, 200000, 0), "%s: a run of newlines does not round-trip", names[k]);
		for (size_t i = 0; i + 3 <= 199998; i += 3)
			memcpy(run + i, "\xe4\xb8\x80", 3);
		CHECK(roundtrip(v, run, 199998, 0), "%s: a run of U+4E00 does not round-trip", names[k]);
		free(run);
		CHECK(roundtrip(v, "", 0, M40_TOK_ADD_BOS), "%s: empty text", names[k]);
		CHECK(roundtrip(v, "  \t \n\n ", 7, 0), "%s: whitespace only", names[k]);
		if (k == 0)
			CHECK(roundtrip(v, "a\xff\xfe\x80z\0\0", 7, 0), "%s: invalid UTF-8 and NUL", names[k]);
		if (k == 1) {
			CHECK(m40_vocab_is_eog(v, 128001) && m40_vocab_is_eog(v, 128009) &&
				!m40_vocab_is_eog(v, 128000), "llama-bpe: end-of-generation ids");
			CHECK(m40_vocab_bos(v) == 128000 && m40_vocab_eot(v) == 128009, "llama-bpe: BOS/EOT ids");
		}
		/* the streaming decoder gives out what m40_detokenize does, in whole characters */
		{
			size_t nt = tok(v, text, ascii_cut(text, 200000), 0, &ids), tl = 0, ol = 0;
			m40_decoder *d = m40_decoder_new(v, false);
			char *whole = NULL, *out = malloc(4 * 200000 + 1024);
			m40_error err;
			bool each_valid = true;

			for (size_t i = 0; i < nt; i++) {
				size_t w = m40_decoder_push(d, ids[i], out + ol, 256);
				each_valid = each_valid && valid_utf8(out + ol, w);
				ol += w;
			}
			ol += m40_decoder_flush(d, out + ol, 256);
			m40_detokenize(v, ids, nt, false, &whole, &tl, &err);
			/* m40_detokenize drops the first word's space prefix (SPM) */
			CHECK(each_valid, "%s: decoder gave out part of a character", names[k]);
			CHECK(ol >= tl && memcmp(out + (ol - tl), whole, tl) == 0,
				"%s: decoder text differs from m40_detokenize", names[k]);
			free(whole);
			free(out);
			free(ids);
			m40_decoder_free(d);
		}
		printf("%s: 10 MB, runs, whitespace, decoder: checked\n", names[k]);
		m40_vocab_free(v);
	}
	free(big);
	free(text);
}

int
main(void)
{
	const char *shared = getenv("M40_SHARED");
	char probe[4096];
	FILE *f;

	spm_cases();
	bpe_cases();
	if (shared == NULL || *shared == '\0')
		shared = "../shared";
	snprintf(probe, sizeof probe, "%s/README.md", shared);
	if ((f = fopen(probe, "r")) != NULL) {
		fclose(f);
		stories(shared);
		shared_cases(shared);
	} else {
		printf("no shared data at %s: shared vocabularies not checked\n", shared);
	}
	printf("%d checks, %s\n", checks, failures ? "FAILED" : "all passed");
	return failures != 0;
}
