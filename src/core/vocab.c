/* vocab.c: a vocabulary from a GGUF's tokenizer.* keys, with llama.cpp's defaults and fix-ups. */
#include "m40-int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h"
#include "vocab-int.h"

/* ---- hashing and the string table -------------------------------------- */

uint32_t
m40i_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
	uint64_t x;

	while (n >= 8) {
		memcpy(&x, s, 8);
		h = (h ^ x) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
		s += 8;
		n -= 8;
	}
	x = 0;
	memcpy(&x, s, n);
	h = (h ^ x) * 0x94d049bb133111ebull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(h ^ (h >> 32));
}

static void
str_free(struct m40i_strtab *t)
{
	free(t->arena);
	free(t->off);
	free(t->slot);
	memset(t, 0, sizeof *t);
}

static bool
str_rehash(struct m40i_strtab *t, uint32_t size)
{
	struct m40i_slot *slot = malloc((size_t)size * sizeof *slot);

	if (slot == NULL)
		return false;
	for (uint32_t i = 0; i < size; i++)
		slot[i].id = -1;
	for (uint32_t i = 0; t->slot != NULL && i <= t->mask; i++) {
		uint32_t j;

		if (t->slot[i].id < 0)
			continue;
		for (j = t->slot[i].hash & (size - 1); slot[j].id >= 0; j = (j + 1) & (size - 1))
			;
		slot[j] = t->slot[i];
	}
	free(t->slot);
	t->slot = slot;
	t->mask = size - 1;
	return true;
}

static bool
str_init(struct m40i_strtab *t, uint32_t n, size_t bytes)
{
	uint32_t size = 64;

	memset(t, 0, sizeof *t);
	while (size < 2 * (uint64_t)n + 2)
		size *= 2;
	t->cap = n + 16;
	t->arena_cap = bytes + n + 64;
	t->off = malloc(((size_t)t->cap + 1) * sizeof *t->off);
	t->arena = malloc(t->arena_cap);
	if (t->off == NULL || t->arena == NULL || !str_rehash(t, size))
		return false;
	t->off[0] = 0;
	return true;
}

int32_t
m40i_str_find(const struct m40i_strtab *t, const char *s, size_t n)
{
	uint32_t h = m40i_hash(s, n);

	for (uint32_t j = h & t->mask;; j = (j + 1) & t->mask) {
		int32_t id = t->slot[j].id;
		size_t len;

		if (id < 0)
			return -1;
		if (t->slot[j].hash == h) {
			const char *p = m40i_str_at(t, id, &len);
			if (len == n && memcmp(p, s, n) == 0)
				return id;
		}
	}
}

/* Append a string; it replaces an equal one in the hash (as token_to_id[word] = i). */
static int32_t
str_add(struct m40i_strtab *t, const char *s, size_t n)
{
	uint32_t h, j;
	int32_t id = (int32_t)t->n;

	if (t->n + 1 >= t->cap) {
		uint32_t cap = t->cap * 2;
		uint32_t *off = realloc(t->off, ((size_t)cap + 1) * sizeof *off);
		if (off == NULL)
			return -1;
		t->off = off;
		t->cap = cap;
	}
	if (t->arena_len + n + 1 > t->arena_cap || t->arena_len + n + 1 > UINT32_MAX) {
		size_t cap = (t->arena_cap + n + 1) * 2;
		char *a;
		if (cap > UINT32_MAX)
			return -1;
		a = realloc(t->arena, cap);
		if (a == NULL)
			return -1;
		t->arena = a;
		t->arena_cap = cap;
	}
	if ((uint64_t)(t->n + 1) * 2 > t->mask + 1 && !str_rehash(t, (t->mask + 1) * 2))
		return -1;
	memcpy(t->arena + t->arena_len, s, n);
	t->arena[t->arena_len + n] = '\0';
	t->arena_len += n + 1;
	t->off[++t->n] = (uint32_t)t->arena_len;

	h = m40i_hash(s, n);
	for (j = h & t->mask; t->slot[j].id >= 0; j = (j + 1) & t->mask) {
		size_t len;
		const char *p;

		if (t->slot[j].hash != h)
			continue;
		p = m40i_str_at(t, t->slot[j].id, &len);
		if (len == n && memcmp(p, s, n) == 0)
			break;
	}
	t->slot[j].id = id;
	t->slot[j].hash = h;
	return id;
}

static int32_t
str_intern(struct m40i_strtab *t, const char *s, size_t n)
{
	int32_t id = m40i_str_find(t, s, n);

	return id >= 0 ? id : str_add(t, s, n);
}

/* ---- BPE merges --------------------------------------------------------- */

static inline uint32_t
merge_hash(uint64_t key)
{
	key *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(key >> 32);
}

int32_t
m40i_merge_find(const struct m40_vocab *v, int32_t left, int32_t right)
{
	uint64_t key = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;

	if (v->merge == NULL || left < 0 || right < 0)
		return -1;
	for (uint32_t j = merge_hash(key) & v->merge_mask;; j = (j + 1) & v->merge_mask) {
		const struct m40i_merge *m = &v->merge[j];
		if (m->rank < 0)
			return -1;
		if (m->key == key)
			return m->rank;
	}
}

static m40_status
load_merges(struct m40_vocab *v, const m40_gguf *g, m40_error *err)
{
	const m40_gguf_value *arr = m40_gguf_get(g, "tokenizer.ggml.merges");
	uint64_t n;
	uint32_t size = 64;

	if (arr == NULL || arr->type != M40_GGUF_ARRAY || arr->v.arr.type != M40_GGUF_STRING)
		return m40_error_set(err, M40_E_FORMAT,
			_("BPE vocabulary without tokenizer.ggml.merges (an array of strings)"));
	n = arr->v.arr.n;
	if (n > INT32_MAX / 4)
		return m40_error_set(err, M40_E_FORMAT, _("too many BPE merges: %llu"),
			(unsigned long long)n);
	while (size < n + n / 2 + 2)
		size *= 2;
	v->merge = malloc((size_t)size * sizeof *v->merge);
	if (v->merge == NULL)
		return m40_error_set(err, M40_E_NOMEM, _("out of memory for %llu BPE merges"),
			(unsigned long long)n);
	for (uint32_t j = 0; j < size; j++) {
		v->merge[j].key = 0;
		v->merge[j].rank = -1;
	}
	v->merge_mask = size - 1;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t len;
		const char *s = m40_gguf_arr_str(arr, i, &len);
		const char *sp = len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
		int32_t l, r;
		size_t nl;
		uint64_t key;
		uint32_t j;

		/* llama.cpp splits at the first space after the first byte and
		 * keeps the first rank of a pair seen twice. */
		if (sp == NULL)
			continue;
		nl = (size_t)(sp - s);
		l = str_intern(&v->str, s, nl);
		r = str_intern(&v->str, sp + 1, len - nl - 1);
		if (l < 0 || r < 0)
			goto oom;
		key = ((uint64_t)(uint32_t)l << 32) | (uint32_t)r;
		for (j = merge_hash(key) & v->merge_mask; v->merge[j].rank >= 0; j = (j + 1) & v->merge_mask)
			if (v->merge[j].key == key)
				break;
		if (v->merge[j].rank >= 0)
			continue;
		v->merge[j].key = key;
		v->merge[j].rank = (int32_t)i;
	}
	return M40_OK;
oom:
	return m40_error_set(err, M40_E_NOMEM, _("out of memory reading BPE merges"));
}

/* ---- pre-tokenizer names ------------------------------------------------ */

struct pre_name {
	const char *name;
	enum m40i_pre pre;
	bool ignore_merges, add_bos, no_bos_id;
};

/* llama.cpp's llama-vocab.cpp, grouped by the regexes each name uses. */
static const struct pre_name pre_names[] = {
	{ "default", M40I_PRE_DEFAULT, false, false, false },
	{ "llama3", M40I_PRE_LLAMA3, true, true, false },
	{ "llama-v3", M40I_PRE_LLAMA3, true, true, false },
	{ "llama-bpe", M40I_PRE_LLAMA3, true, true, false },
	{ "falcon3", M40I_PRE_LLAMA3, true, true, false },
	{ "falcon-h1", M40I_PRE_LLAMA3, true, true, false },
	{ "pixtral", M40I_PRE_LLAMA3, true, true, false },
	{ "midm-2.0", M40I_PRE_LLAMA3, true, true, false },
	{ "lfm2", M40I_PRE_LLAMA3, true, true, false },
	{ "dbrx", M40I_PRE_LLAMA3, false, false, false },
	{ "smaug-bpe", M40I_PRE_LLAMA3, false, false, false },
	{ "glm4", M40I_PRE_LLAMA3, false, false, true },
	{ "chatglm-bpe", M40I_PRE_LLAMA3, false, false, true },
	{ "deepseek-llm", M40I_PRE_DEEPSEEK_LLM, false, false, false },
	{ "deepseek-coder", M40I_PRE_DEEPSEEK_CODER, false, false, false },
	{ "falcon", M40I_PRE_FALCON, false, false, false },
	{ "gpt-2", M40I_PRE_GPT2, false, false, false },
	{ "phi-2", M40I_PRE_GPT2, false, false, false },
	{ "mpt", M40I_PRE_GPT2, false, false, false },
	{ "olmo", M40I_PRE_GPT2, false, false, false },
	{ "jais", M40I_PRE_GPT2, false, false, false },
	{ "trillion", M40I_PRE_GPT2, false, false, false },
	{ "granite-docling", M40I_PRE_GPT2, false, false, false },
	{ "exaone4", M40I_PRE_GPT2, false, false, false },
	{ "jina-es", M40I_PRE_GPT2, false, false, false },
	{ "jina-de", M40I_PRE_GPT2, false, false, false },
	{ "gigachat", M40I_PRE_GPT2, false, false, false },
	{ "a.x-4.0", M40I_PRE_GPT2, false, false, false },
	{ "mellum", M40I_PRE_GPT2, false, false, false },
	{ "roberta-bpe", M40I_PRE_GPT2, false, false, false },
	{ "qwen2", M40I_PRE_QWEN2, false, false, false },
	{ "deepseek-r1-qwen", M40I_PRE_QWEN2, false, false, false },
	{ "megrez", M40I_PRE_QWEN2, false, false, false },
	{ "stablelm2", M40I_PRE_QWEN2, false, false, false },
	{ "hunyuan", M40I_PRE_QWEN2, false, false, false },
	{ "smollm", M40I_PRE_SMOLLM, false, false, false },
	{ "starcoder", M40I_PRE_SMOLLM, false, false, false },
	{ "refact", M40I_PRE_SMOLLM, false, false, false },
	{ "command-r", M40I_PRE_SMOLLM, false, false, false },
	{ "codeshell", M40I_PRE_SMOLLM, false, false, false },
	{ "exaone", M40I_PRE_SMOLLM, false, false, false },
	{ "minerva-7b", M40I_PRE_SMOLLM, false, false, false },
};

/* ---- token texts that llama.cpp recognizes ------------------------------ */

static const char *const eot_texts[] = {
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
	"<EOT>", "_<EOT>", "[EOT]", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
	"<end_of_utterance>", NULL
};
static const char *const eom_texts[] = { "<|eom_id|>", NULL };
static const char *const fim_pre_texts[] = {
	"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",
	"<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL
};
static const char *const fim_suf_texts[] = {
	"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81hole\xef\xbd\x9c>",
	"<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL
};
static const char *const fim_mid_texts[] = {
	"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>",
	"<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL
};
static const char *const fim_pad_texts[] = {
	"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL
};
static const char *const fim_rep_texts[] = {
	"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL
};
static const char *const fim_sep_texts[] = { "<|file_sep|>", NULL };
static const char *const eog_texts[] = {
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
	"<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
	"<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
	"<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", NULL
};

static int32_t
find_text(const struct m40_vocab *v, const char *s)
{
	int32_t id = m40i_str_find(&v->str, s, strlen(s));

	return id < v->n_tokens ? id : -1;
}

/* Where the metadata names no such token, the first token (lowest id) with
 * one of the texts becomes it and is made a control token. */
static int32_t
detect(struct m40_vocab *v, int32_t id, const char *const *texts)
{
	int32_t best = -1;

	if (id >= 0)
		return id;
	for (size_t i = 0; texts[i] != NULL; i++) {
		int32_t t = find_text(v, texts[i]);
		if (t >= 0 && (best < 0 || t < best))
			best = t;
	}
	if (best >= 0)
		v->attr[best] |= M40I_ATTR_CONTROL;
	return best;
}

static void
eog_set(struct m40_vocab *v, int32_t id)
{
	if (id >= 0 && id < v->n_tokens)
		v->eog[id >> 3] |= (uint8_t)(1u << (id & 7));
}

/* ---- decoded pieces ----------------------------------------------------- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "<0xNN>" -> NN, as token_to_byte reads it (strtol of two hex digits). */
static int
byte_token_value(const char *s, size_t n)
{
	int hi, lo;

	if (n < 5)
		return 0;
	hi = hexval(s[3]);
	lo = hexval(s[4]);
	if (hi < 0)
		return 0;
	return lo < 0 ? hi : hi * 16 + lo;
}

struct buf {
	char *p;
	size_t n, cap;
};

static bool
buf_put(struct buf *b, const void *s, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = (b->cap + n) * 2;
		char *p = realloc(b->p, cap);
		if (p == NULL)
			return false;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	return true;
}

/* One token's text as llama.cpp's token_to_piece(special = true) gives it. */
static bool
piece_of(const struct m40_vocab *v, int32_t id, struct buf *b)
{
	size_t n;
	const char *s = m40i_str_at(&v->str, id, &n);
	unsigned attr = v->attr[id];

	if (attr & (M40I_ATTR_UNKNOWN | M40I_ATTR_CONTROL | M40I_ATTR_USER))
		return buf_put(b, s, n);
	if (attr & M40I_ATTR_NORMAL) {
		if (v->kind == M40_VOCAB_SPM) {
			for (size_t i = 0; i < n; i++) {
				if (i + 2 < n && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
					if (!buf_put(b, " ", 1))
						return false;
					i += 2;
				} else if (!buf_put(b, s + i, 1)) {
					return false;
				}
			}
			return true;
		}
		/* Byte-level BPE: each character stands for one byte. */
		for (size_t i = 0; i < n;) {
			uint32_t cpt = m40i_utf8_decode((const unsigned char *)s, n, &i);
			int byte = m40i_cpt_to_byte(cpt);

			if (byte >= 0) {
				unsigned char c = (unsigned char)byte;
				if (!buf_put(b, &c, 1))
					return false;
			} else {
				/* llama.cpp's llama_decode_text marks what it cannot map. */
				unsigned char u[4];
				size_t k = m40i_utf8_encode(cpt, u);
				char hex[8];
				if (!buf_put(b, "[UNK_BYTE_0x", 12))
					return false;
				for (size_t j = 0; j < k; j++) {
					snprintf(hex, sizeof hex, "%02x", u[j]);
					if (!buf_put(b, hex, 2))
						return false;
				}
				if (!buf_put(b, s, n) || !buf_put(b, "]", 1))
					return false;
			}
		}
		return true;
	}
	if (attr & M40I_ATTR_BYTE) {
		unsigned char c = (unsigned char)byte_token_value(s, n);
		return buf_put(b, &c, 1);
	}
	return true;
}

/* ---- loading ------------------------------------------------------------ */

static bool
get_id(const m40_gguf *g, const char *key, int32_t n, int32_t *id)
{
	int64_t x;

	if (!m40_gguf_get_int(g, key, &x))
		return false;
	/* llama.cpp keeps its default for an id out of range. */
	if (x < 0 || x >= n)
		return false;
	*id = (int32_t)x;
	return true;
}

static int
cmp_special(const void *a, const void *b, void *ctx)
{
	const struct m40_vocab *v = ctx;
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	size_t lx = v->str.off[x + 1] - v->str.off[x], ly = v->str.off[y + 1] - v->str.off[y];

	if (lx != ly)
		return lx > ly ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void
warn_set(char *warn, const char *fmt, const char *arg)
{
	size_t used;

	if (warn == NULL)
		return;
	used = strlen(warn);
	if (used > 0 && used + 2 < M40_ERROR_MSG_SIZE) {
		strcpy(warn + used, "; ");
		used += 2;
	}
	snprintf(warn + used, M40_ERROR_MSG_SIZE - used, fmt, arg);
}

static m40_status
load_tokens(struct m40_vocab *v, const m40_gguf *g, m40_error *err)
{
	const m40_gguf_value *toks = m40_gguf_get(g, "tokenizer.ggml.tokens");
	const m40_gguf_value *scores = m40_gguf_get(g, "tokenizer.ggml.scores");
	const m40_gguf_value *types = m40_gguf_get(g, "tokenizer.ggml.token_type");
	uint64_t n;
	size_t bytes = 0;

	if (toks == NULL || toks->type != M40_GGUF_ARRAY || toks->v.arr.type != M40_GGUF_STRING)
		return m40_error_set(err, M40_E_FORMAT,
			_("no token list: tokenizer.ggml.tokens must be an array of strings"));
	n = toks->v.arr.n;
	if (n == 0 || n > (1u << 24))
		return m40_error_set(err, M40_E_FORMAT,
			_("tokenizer.ggml.tokens holds %llu tokens (1 to 16777216 supported)"),
			(unsigned long long)n);
	if (scores != NULL && (scores->type != M40_GGUF_ARRAY || scores->v.arr.n < n ||
	    scores->v.arr.type == M40_GGUF_STRING || scores->v.arr.type == M40_GGUF_ARRAY))
		return m40_error_set(err, M40_E_FORMAT,
			_("tokenizer.ggml.scores must be a numeric array of at least %llu values"),
			(unsigned long long)n);
	if (types != NULL && (types->type != M40_GGUF_ARRAY || types->v.arr.n < n ||
	    types->v.arr.type == M40_GGUF_STRING || types->v.arr.type == M40_GGUF_ARRAY))
		return m40_error_set(err, M40_E_FORMAT,
			_("tokenizer.ggml.token_type must be an integer array of at least %llu values"),
			(unsigned long long)n);
	v->n_tokens = (int32_t)n;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t len;
		m40_gguf_arr_str(toks, i, &len);
		bytes += len + 16;
	}
	v->score = malloc(n * sizeof *v->score);
	v->attr = malloc(n * sizeof *v->attr);
	if (v->score == NULL || v->attr == NULL || !str_init(&v->str, (uint32_t)n, bytes))
		return m40_error_set(err, M40_E_NOMEM, _("out of memory for %llu tokens"),
			(unsigned long long)n);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t len;
		const char *s = m40_gguf_arr_str(toks, i, &len);
		char empty[32];
		int32_t id;

		if (len == 0) {
			/* llama.cpp renames empty tokens. */
			snprintf(empty, sizeof empty, "[EMPTY_%llu]", (unsigned long long)i);
			s = empty;
			len = strlen(empty);
		}
		id = str_add(&v->str, s, len);
		if (id < 0)
			return m40_error_set(err, M40_E_NOMEM, _("out of memory for %llu tokens"),
				(unsigned long long)n);
		v->score[i] = scores != NULL ? (float)m40_gguf_arr_float(scores, i) : 0.0f;
		if (types == NULL) {
			v->attr[i] = M40I_ATTR_NORMAL;
			continue;
		}
		switch (m40_gguf_arr_int(types, i)) {
		case 1: v->attr[i] = M40I_ATTR_NORMAL; break;
		case 2: v->attr[i] = M40I_ATTR_UNKNOWN; break;
		case 3: v->attr[i] = M40I_ATTR_CONTROL; break;
		case 4: v->attr[i] = M40I_ATTR_USER; break;
		case 5: v->attr[i] = M40I_ATTR_UNUSED; break;
		case 6: v->attr[i] = M40I_ATTR_BYTE; break;
		default: v->attr[i] = 0; break;
		}
	}
	return M40_OK;
}

static void
load_special(struct m40_vocab *v, const m40_gguf *g)
{
	int32_t n = v->n_tokens, fim_pad = -1, fim_rep = -1, fim_sep = -1, fim = -1;
	bool b;

	get_id(g, "tokenizer.ggml.bos_token_id", n, &v->bos);
	get_id(g, "tokenizer.ggml.eos_token_id", n, &v->eos);
	get_id(g, "tokenizer.ggml.eot_token_id", n, &v->eot);
	get_id(g, "tokenizer.ggml.eom_token_id", n, &v->eom);
	get_id(g, "tokenizer.ggml.unknown_token_id", n, &v->unk);
	get_id(g, "tokenizer.ggml.padding_token_id", n, &v->pad);
	get_id(g, "tokenizer.ggml.fim_pad_token_id", n, &fim_pad);
	get_id(g, "tokenizer.ggml.fim_rep_token_id", n, &fim_rep);
	get_id(g, "tokenizer.ggml.fim_sep_token_id", n, &fim_sep);
	if (m40_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b))
		v->add_bos = b;
	if (m40_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b))
		v->add_eos = b;

	/* The token texts llama.cpp recognizes: they become control tokens. */
	v->eot = detect(v, v->eot, eot_texts);
	v->eom = detect(v, v->eom, eom_texts);
	fim = -1;
	get_id(g, "tokenizer.ggml.fim_pre_token_id", n, &fim);
	detect(v, fim, fim_pre_texts);
	fim = -1;
	get_id(g, "tokenizer.ggml.fim_suf_token_id", n, &fim);
	detect(v, fim, fim_suf_texts);
	fim = -1;
	get_id(g, "tokenizer.ggml.fim_mid_token_id", n, &fim);
	detect(v, fim, fim_mid_texts);
	fim_pad = detect(v, fim_pad, fim_pad_texts);
	fim_rep = detect(v, fim_rep, fim_rep_texts);
	fim_sep = detect(v, fim_sep, fim_sep_texts);

	eog_set(v, fim_pad);
	eog_set(v, fim_rep);
	eog_set(v, fim_sep);
	for (size_t i = 0; eog_texts[i] != NULL; i++) {
		int32_t id = find_text(v, eog_texts[i]);
		if (id >= 0) {
			eog_set(v, id);
			v->attr[id] |= M40I_ATTR_CONTROL;
		}
	}
	/* gpt-oss: these are always rendered. */
	{
		static const char *const user[] = { "<|channel|>", "<|message|>", "<|start|>", "<|constrain|>" };
		for (size_t i = 0; i < M40_ARRAY_SIZE(user); i++) {
			int32_t id = find_text(v, user[i]);
			if (id >= 0)
				v->attr[id] = M40I_ATTR_USER;
		}
	}
	eog_set(v, v->eos);
	eog_set(v, v->eot);
	eog_set(v, v->eom);
}

static m40_status
load_special_cache(struct m40_vocab *v, const m40_gguf *g, m40_error *err)
{
	const char *name = m40_gguf_get_str(g, "general.name");
	char lower[256];

	v->special = malloc((size_t)v->n_tokens * sizeof *v->special);
	if (v->special == NULL)
		return m40_error_set(err, M40_E_NOMEM, _("out of memory for the special tokens"));
	for (int32_t id = 0; id < v->n_tokens; id++)
		if (v->attr[id] & (M40I_ATTR_CONTROL | M40I_ATTR_USER | M40I_ATTR_UNKNOWN))
			v->special[v->n_special++] = id;
	qsort_r(v->special, v->n_special, sizeof *v->special, cmp_special, v);

	/* Phi-3: special tokens eat the whitespace after them (llama.cpp keys
	 * this on general.name). */
	if (name != NULL) {
		size_t i;
		for (i = 0; name[i] != '\0' && i + 1 < sizeof lower; i++)
			lower[i] = (char)tolower((unsigned char)name[i]);
		lower[i] = '\0';
		if (strstr(lower, "phi-3") != NULL || strstr(lower, "phi3") != NULL) {
			static const char *const keep[] = { "<unk>", "<s>", "<|endoftext|>" };
			int32_t id;
			for (size_t k = 0; k < v->n_special; k++)
				v->attr[v->special[k]] |= M40I_ATTR_RSTRIP;
			if ((id = find_text(v, "</s>")) >= 0)
				v->attr[id] |= M40I_ATTR_RSTRIP;
			for (size_t k = 0; k < M40_ARRAY_SIZE(keep); k++)
				if ((id = find_text(v, keep[k])) >= 0)
					v->attr[id] &= (uint16_t)~M40I_ATTR_RSTRIP;
		}
	}
	return M40_OK;
}

static m40_status
load_pieces(struct m40_vocab *v, m40_error *err)
{
	struct buf b = { 0 };

	v->piece_off = malloc(((size_t)v->n_tokens + 1) * sizeof *v->piece_off);
	if (v->piece_off == NULL)
		return m40_error_set(err, M40_E_NOMEM, _("out of memory for token pieces"));
	v->piece_off[0] = 0;
	for (int32_t id = 0; id < v->n_tokens; id++) {
		if (!piece_of(v, id, &b) || b.n > UINT32_MAX) {
			free(b.p);
			return m40_error_set(err, M40_E_NOMEM, _("out of memory for token pieces"));
		}
		v->piece_off[id + 1] = (uint32_t)b.n;
	}
	if (!buf_put(&b, "", 1)) {
		free(b.p);
		return m40_error_set(err, M40_E_NOMEM, _("out of memory for token pieces"));
	}
	v->piece = b.p;
	return M40_OK;
}

static void
load_bytes(struct m40_vocab *v)
{
	for (int c = 0; c < 256; c++) {
		char s[8];
		unsigned char u[4];
		char one = (char)c;

		int32_t id = m40i_str_find(&v->str, &one, 1);

		v->raw_byte_id[c] = id < v->n_tokens ? id : -1;
		if (v->kind == M40_VOCAB_SPM) {
			snprintf(s, sizeof s, "<0x%02X>", c);
			v->byte_id[c] = find_text(v, s);
			if (v->byte_id[c] < 0)
				v->byte_id[c] = v->raw_byte_id[c];
		} else {
			size_t k = m40i_utf8_encode(m40i_byte_to_cpt((unsigned char)c), u);
			v->byte_id[c] = m40i_str_find(&v->str, (const char *)u, k);
		}
	}
	if (v->kind == M40_VOCAB_SPM) {
		for (int32_t id = 0; id < v->n_tokens; id++) {
			size_t n;
			const char *s = m40i_str_at(&v->str, id, &n);
			for (size_t i = 1; i + 3 <= n; i++)
				if (memcmp(s + i, "\xe2\x96\x81", 3) == 0 && (unsigned char)s[i - 1] < 0x80)
					v->spm_glue[(unsigned char)s[i - 1]] = true;
		}
	}
}

m40_status
m40_vocab_load(const m40_gguf *g, m40_vocab **out, char *warn, m40_error *err)
{
	struct m40_vocab *v;
	const char *model, *pre;
	m40_status st;
	bool b;

	if (warn != NULL)
		warn[0] = '\0';
	*out = NULL;
	model = m40_gguf_get_str(g, "tokenizer.ggml.model");
	if (model == NULL)
		return m40_error_set(err, M40_E_NOTFOUND,
			_("no tokenizer in the GGUF: tokenizer.ggml.model is missing"));
	v = calloc(1, sizeof *v);
	if (v == NULL)
		return m40_error_set(err, M40_E_NOMEM, _("out of memory"));
	v->eot = v->eom = v->pad = -1;
	pre = m40_gguf_get_str(g, "tokenizer.ggml.pre");
	if (strcmp(model, "llama") == 0) {
		v->kind = M40_VOCAB_SPM;
		v->bos = 1;
		v->eos = 2;
		v->unk = 0;
		v->add_bos = true;
		v->add_space_prefix = true;
	} else if (strcmp(model, "gpt2") == 0) {
		size_t i;
		v->kind = M40_VOCAB_BPE;
		/* llama.cpp's defaults for a BPE vocabulary without ids */
		v->bos = 11;
		v->eos = 11;
		v->unk = -1;
		v->pre = M40I_PRE_DEFAULT;
		if (pre == NULL || *pre == '\0') {
			warn_set(warn, _("tokenizer.ggml.pre is missing: using the '%s' pre-tokenizer; "
				"tokenization may differ from the model's own"), "default");
			snprintf(v->pre_name, sizeof v->pre_name, "default");
		} else {
			for (i = 0; i < M40_ARRAY_SIZE(pre_names); i++)
				if (strcmp(pre, pre_names[i].name) == 0)
					break;
			if (i == M40_ARRAY_SIZE(pre_names)) {
				warn_set(warn, _("unknown pre-tokenizer '%s': using 'default'; "
					"tokenization may differ from the model's own"), pre);
			} else {
				v->pre = pre_names[i].pre;
				v->ignore_merges = pre_names[i].ignore_merges;
				v->add_bos = pre_names[i].add_bos;
				if (pre_names[i].no_bos_id)
					v->bos = -1;
			}
			snprintf(v->pre_name, sizeof v->pre_name, "%s", pre);
		}
	} else {
		free(v);
		return m40_error_set(err, M40_E_UNSUPPORTED,
			_("unsupported tokenizer '%s' (tokenizer.ggml.model): only 'llama' (SentencePiece) "
			"and 'gpt2' (byte-level BPE) are supported"), model);
	}
	if (m40_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &b))
		v->add_space_prefix = b;

	if ((st = load_tokens(v, g, err)) != M40_OK)
		goto fail;
	v->eog = calloc(((size_t)v->n_tokens + 7) / 8, 1);
	if (v->eog == NULL) {
		st = m40_error_set(err, M40_E_NOMEM, _("out of memory"));
		goto fail;
	}
	load_special(v, g);
	if ((st = load_special_cache(v, g, err)) != M40_OK)
		goto fail;
	if ((st = load_pieces(v, err)) != M40_OK)
		goto fail;
	if (v->kind == M40_VOCAB_BPE && (st = load_merges(v, g, err)) != M40_OK)
		goto fail;
	load_bytes(v);
	*out = v;
	return M40_OK;
fail:
	m40_vocab_free(v);
	return st;
}

void
m40_vocab_free(m40_vocab *v)
{
	if (v == NULL)
		return;
	str_free(&v->str);
	free(v->score);
	free(v->attr);
	free(v->piece);
	free(v->piece_off);
	free(v->eog);
	free(v->special);
	free(v->merge);
	free(v);
}

/* ---- accessors ---------------------------------------------------------- */

enum m40_vocab_kind
m40_vocab_kind(const m40_vocab *v)
{
	return v->kind;
}

const char *
m40_vocab_pre(const m40_vocab *v)
{
	return v->pre_name;
}

int32_t
m40_vocab_size(const m40_vocab *v)
{
	return v->n_tokens;
}

int32_t m40_vocab_bos(const m40_vocab *v) { return v->bos; }
int32_t m40_vocab_eos(const m40_vocab *v) { return v->eos; }
int32_t m40_vocab_eot(const m40_vocab *v) { return v->eot; }
int32_t m40_vocab_unk(const m40_vocab *v) { return v->unk; }
int32_t m40_vocab_pad(const m40_vocab *v) { return v->pad; }
bool m40_vocab_add_bos(const m40_vocab *v) { return v->add_bos && v->bos >= 0; }
bool m40_vocab_add_eos(const m40_vocab *v) { return v->add_eos && v->eos >= 0; }

bool
m40_vocab_is_eog(const m40_vocab *v, int32_t id)
{
	if (id < 0 || id >= v->n_tokens)
		return false;
	return (v->eog[id >> 3] >> (id & 7)) & 1;
}

const char *
m40_vocab_piece(const m40_vocab *v, int32_t id)
{
	size_t n;

	if (id < 0 || id >= v->n_tokens)
		return NULL;
	return m40i_str_at(&v->str, id, &n);
}

const char *
m40_vocab_text(const m40_vocab *v, int32_t id, size_t *len)
{
	if (id < 0 || id >= v->n_tokens) {
		*len = 0;
		return NULL;
	}
	*len = v->piece_off[id + 1] - v->piece_off[id];
	return v->piece + v->piece_off[id];
}

bool
m40i_ids_grow(struct m40i_ids *o, size_t need)
{
	size_t cap = o->cap ? o->cap : 64;
	int32_t *p;

	if (o->oom)
		return false;
	while (cap < need)
		cap *= 2;
	p = realloc(o->v, cap * sizeof *p);
	if (p == NULL) {
		o->oom = true;
		return false;
	}
	o->v = p;
	o->cap = cap;
	return true;
}
