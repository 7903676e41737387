/* fuzz-tokenize.c: libFuzzer target for the tokenizers (see tests/fuzz/README).
 *
 * Each input (capped at 64 KiB) is tokenized with every combination of
 * flags by a SentencePiece and a byte-level BPE vocabulary made with the
 * GGUF writer (or by the GGUF named in $M40_FUZZ_VOCAB), decoded whole and
 * through the streaming decoder.  Nothing may fail; the stream must be valid
 * UTF-8; a SentencePiece vocabulary must give back input without U+2581
 * that is valid UTF-8. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <m40/m40.h>

static m40_vocab *vocab[3];
static size_t n_vocab;

static m40_vocab *
load(m40_gguf_writer *w)
{
	void *buf;
	size_t size;
	m40_gguf *g;
	m40_vocab *v;
	m40_error err;

	if (m40_gguf_writer_to_memory(w, 3, &buf, &size, &err) != M40_OK ||
	    m40_gguf_open_memory(buf, size, &g, &err) != M40_OK || m40_vocab_load(g, &v, NULL, &err) != M40_OK)
		abort();
	m40_gguf_close(g);
	free(buf);
	m40_gguf_writer_free(w);
	return v;
}

static void
setup(void)
{
	static const char *const words[] = { "\xe2\x96\x81", "a", ("\xe2\x96\x81" "a"), "ab", "<u>" };
	const char *tok[3 + 256 + 5], *btok[259], *merges[] = { "a a", "\xc4\xa0 a" };
	static char bytes[256][8], chars[256][4];
	int32_t type[3 + 256 + 5], btype[259];
	float score[3 + 256 + 5];
	size_t n = 0;
	m40_gguf_writer *w;
	const char *path = getenv("M40_FUZZ_VOCAB");

	tok[n] = "<unk>"; type[n] = 2; score[n++] = 0;
	tok[n] = "<s>"; type[n] = 3; score[n++] = 0;
	tok[n] = "</s>"; type[n] = 3; score[n++] = 0;
	for (int b = 0; b < 256; b++) {
		snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
		tok[n] = bytes[b]; type[n] = 6; score[n++] = 0;
	}
	for (int i = 0; i < 5; i++) {
		tok[n] = words[i]; type[n] = i == 4 ? 4 : 1; score[n++] = (float)-i;
	}
	w = m40_gguf_writer_new();
	m40_gguf_set_str(w, "tokenizer.ggml.model", "llama");
	m40_gguf_set_arr_str(w, "tokenizer.ggml.tokens", tok, n);
	m40_gguf_set_arr(w, "tokenizer.ggml.scores", M40_GGUF_FLOAT32, score, n);
	m40_gguf_set_arr(w, "tokenizer.ggml.token_type", M40_GGUF_INT32, type, n);
	vocab[n_vocab++] = load(w);

	for (int b = 0; b < 256; b++) {
		unsigned c = b, k = 0;
		if (!((b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae)) {
			for (int x = 0; x < b; x++)
				k += !((x >= 0x21 && x <= 0x7e) || (x >= 0xa1 && x <= 0xac) || x >= 0xae);
			c = 256 + k;
		}
		if (c < 0x80) {
			chars[b][0] = (char)c;
		} else {
			chars[b][0] = (char)(0xc0 | (c >> 6));
			chars[b][1] = (char)(0x80 | (c & 0x3f));
		}
		btok[b] = chars[b];
		btype[b] = 1;
	}
	btok[256] = "aa"; btype[256] = 1;
	btok[257] = "\xc4\xa0" "a"; btype[257] = 1;
	btok[258] = "<|endoftext|>"; btype[258] = 3;
	w = m40_gguf_writer_new();
	m40_gguf_set_str(w, "tokenizer.ggml.model", "gpt2");
	m40_gguf_set_str(w, "tokenizer.ggml.pre", "llama-bpe");
	m40_gguf_set_arr_str(w, "tokenizer.ggml.tokens", btok, 259);
	m40_gguf_set_arr(w, "tokenizer.ggml.token_type", M40_GGUF_INT32, btype, 259);
	m40_gguf_set_arr_str(w, "tokenizer.ggml.merges", merges, 2);
	vocab[n_vocab++] = load(w);

	if (path != NULL) {
		m40_gguf *g;
		m40_error err;
		if (m40_gguf_open(path, &g, &err) != M40_OK ||
		    m40_vocab_load(g, &vocab[n_vocab++], NULL, &err) != M40_OK) {
			fprintf(stderr, "%s: %s\n", path, err.msg);
			abort();
		}
		m40_gguf_close(g);
	}
}

static int
valid_utf8(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (k == 0 || i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++)
			if (((unsigned char)s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	m40_error err;

	if (n_vocab == 0)
		setup();
	if (size > 65536)
		return 0;
	for (size_t k = 0; k < n_vocab; k++) {
		for (unsigned flags = 0; flags < 8; flags++) {
			int32_t *ids;
			size_t n, len;
			char *dec, out[512];
			m40_decoder *d;

			if (m40_tokenize(vocab[k], text, size, flags, &ids, &n, &err) != M40_OK)
				abort();
			if (m40_detokenize(vocab[k], ids, n, flags & 1, &dec, &len, &err) != M40_OK)
				abort();
			if (k == 0 && flags == 0 && valid_utf8(text, size) &&
			    !memmem(text, size, "\xe2\x96\x81", 3) && !memmem(text, size, "<", 1) &&
			    (len != size || memcmp(dec, text, size) != 0))
				abort();
			free(dec);
			d = m40_decoder_new(vocab[k], flags & 1);
			for (size_t i = 0; i < n; i++) {
				size_t w = m40_decoder_push(d, ids[i], out, sizeof out);
				if (!valid_utf8(out, w))
					abort();
			}
			while ((len = m40_decoder_flush(d, out, sizeof out)) > 0)
				if (!valid_utf8(out, len))
					abort();
			m40_decoder_free(d);
			free(ids);
		}
	}
	return 0;
}
