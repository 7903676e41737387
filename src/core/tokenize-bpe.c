/* tokenize-bpe.c: byte-level BPE with ranked merges (llama.cpp's llm_tokenizer_bpe). */
#include "m40-int.h"

#include <stdlib.h>
#include <string.h>

#include "bigram-queue.h"
#include "unicode.h"
#include "vocab-int.h"

/*
 * The pre-tokenizer cuts the text into words; each word's bytes become
 * GPT-2 characters (one per byte), and the adjacent pair with the lowest
 * merge rank is merged first (ties: leftmost) until no pair has a rank.
 * Symbols carry the id of their string, so finding a merge's rank is an
 * integer lookup.
 * A word always gives the same tokens, so recent words are remembered.
 */

struct sym {
	int32_t prev, next;
	uint32_t off, n;   /* in the encoded word */
	int32_t id;        /* string id (token or merge side), -1 if none */
};

#define CACHE_SLOTS 8192u
#define CACHE_MAX_WORD 64u

struct cache_slot {
	uint32_t hash, len;        /* len 0: empty */
	uint32_t ids_off, n_ids;
	char word[CACHE_MAX_WORD];
};

struct m40i_bpe {
	struct m40i_words words;
	unsigned char *enc;
	size_t enc_cap;
	struct sym *sym;
	size_t sym_cap;
	struct m40i_bigram_queue queue;
	struct cache_slot *cache;
	int32_t *cache_ids;
	size_t cache_ids_n, cache_ids_cap;
};

struct m40i_bpe *
m40i_bpe_new(void)
{
	return calloc(1, sizeof(struct m40i_bpe));
}

void
m40i_bpe_free(struct m40i_bpe *b)
{
	if (b == NULL)
		return;
	m40i_words_free(&b->words);
	free(b->enc);
	free(b->sym);
	m40i_bigram_queue_free(&b->queue);
	free(b->cache);
	free(b->cache_ids);
	free(b);
}

static bool
add_bigram(const struct m40_vocab *v, struct m40i_bpe *s, int32_t left, int32_t right)
{
	struct m40i_bigram b;
	int32_t rank;

	if (left < 0 || right < 0)
		return true;
	rank = m40i_merge_find(v, s->sym[left].id, s->sym[right].id);
	if (rank < 0)
		return true;
	b.key = rank; /* lowest rank first */
	b.id = -1;
	b.left = left;
	b.right = right;
	b.size = s->sym[left].n + s->sym[right].n;
	return m40i_bigram_push(&s->queue, &b);
}

/* One word (raw bytes) -> ids. */
static bool
word_tokenize(const struct m40_vocab *v, struct m40i_bpe *s, const unsigned char *w, size_t len,
	struct m40i_ids *out)
{
	size_t n = 0;
	int32_t n_sym = (int32_t)len;

	if (2 * len > s->enc_cap) {
		unsigned char *e = realloc(s->enc, 2 * len);
		if (e == NULL)
			return false;
		s->enc = e;
		s->enc_cap = 2 * len;
	}
	if (len > s->sym_cap) {
		struct sym *y = realloc(s->sym, len * sizeof *y);
		if (y == NULL)
			return false;
		s->sym = y;
		s->sym_cap = len;
	}
	for (size_t i = 0; i < len; i++) {
		size_t k = m40i_utf8_encode(m40i_byte_to_cpt(w[i]), s->enc + n);
		struct sym *y = &s->sym[i];

		y->prev = (int32_t)i - 1;
		y->next = i + 1 < len ? (int32_t)i + 1 : -1;
		y->off = (uint32_t)n;
		y->n = (uint32_t)k;
		y->id = v->byte_id[w[i]];
		n += k;
	}
	if (v->ignore_merges) {
		int32_t id = m40i_str_find(&v->str, (const char *)s->enc, n);
		if (id >= 0 && id < v->n_tokens) {
			m40i_ids_push(out, id);
			return !out->oom;
		}
	}
	s->queue.n = 0;
	for (int32_t i = 1; i < n_sym; i++)
		if (!add_bigram(v, s, i - 1, i))
			return false;
	while (s->queue.n > 0) {
		struct m40i_bigram b = m40i_bigram_pop(&s->queue);
		struct sym *l = &s->sym[b.left], *r = &s->sym[b.right];

		if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
			continue;
		l->n += r->n;
		r->n = 0;
		/* -1 when the merged text is neither a token nor a side of a
		 * merge: it merges no further and goes out as bytes */
		l->id = m40i_str_find(&v->str, (const char *)s->enc + l->off, l->n);
		l->next = r->next;
		if (r->next >= 0)
			s->sym[r->next].prev = b.left;
		if (!add_bigram(v, s, l->prev, b.left) || !add_bigram(v, s, b.left, l->next))
			return false;
	}
	for (int32_t i = 0; i != -1; i = s->sym[i].next) {
		const struct sym *y = &s->sym[i];

		if (y->id >= 0 && y->id < v->n_tokens) {
			m40i_ids_push(out, y->id);
			continue;
		}
		/* llama.cpp's fallback: the bytes of the symbol's text that are tokens */
		for (uint32_t k = 0; k < y->n; k++) {
			int32_t id = v->raw_byte_id[s->enc[y->off + k]];
			if (id >= 0)
				m40i_ids_push(out, id);
		}
	}
	return !out->oom;
}

static bool
cached_word(const struct m40_vocab *v, struct m40i_bpe *s, const unsigned char *w, size_t len,
	struct m40i_ids *out)
{
	struct cache_slot *c;
	uint32_t h;
	size_t before_n = out->n, k;

	if (len > CACHE_MAX_WORD)
		return word_tokenize(v, s, w, len, out);
	if (s->cache == NULL) {
		s->cache = calloc(CACHE_SLOTS, sizeof *s->cache);
		if (s->cache == NULL)
			return word_tokenize(v, s, w, len, out);
	}
	h = m40i_hash(w, len);
	c = &s->cache[h & (CACHE_SLOTS - 1)];
	if (c->len == len && c->hash == h && memcmp(c->word, w, len) == 0) {
		if (out->n + c->n_ids > out->cap && !m40i_ids_grow(out, out->n + c->n_ids))
			return false;
		memcpy(out->v + out->n, s->cache_ids + c->ids_off, c->n_ids * sizeof *out->v);
		out->n += c->n_ids;
		return true;
	}
	if (!word_tokenize(v, s, w, len, out))
		return false;
	k = out->n - before_n;
	if (s->cache_ids_n + k > s->cache_ids_cap) {
		/* start over rather than grow without end */
		if (s->cache_ids_cap < 1u << 20) {
			size_t cap = s->cache_ids_cap ? 2 * s->cache_ids_cap : 4096;
			int32_t *p = realloc(s->cache_ids, cap * sizeof *p);
			if (p == NULL)
				return true;
			s->cache_ids = p;
			s->cache_ids_cap = cap;
		} else {
			memset(s->cache, 0, CACHE_SLOTS * sizeof *s->cache);
			s->cache_ids_n = 0;
		}
		if (s->cache_ids_n + k > s->cache_ids_cap)
			return true;
	}
	memcpy(s->cache_ids + s->cache_ids_n, out->v + before_n, k * sizeof *out->v);
	c->hash = h;
	c->len = (uint32_t)len;
	memcpy(c->word, w, len);
	c->ids_off = (uint32_t)s->cache_ids_n;
	c->n_ids = (uint32_t)k;
	s->cache_ids_n += k;
	return true;
}

bool
m40i_bpe_tokenize(const struct m40_vocab *v, struct m40i_bpe *s, const char *text, size_t len,
	struct m40i_ids *out)
{
	struct m40i_words *w = &s->words;
	const uint32_t *cpt;
	unsigned char *word = NULL;
	size_t word_cap = 0, pos = 0;
	bool ok = true;

	if (!m40i_pretokenize(v->pre, text, len, w))
		return false;
	cpt = w->cpt;
	for (size_t i = 0; i < w->n_words && ok; i++) {
		size_t n = 0, need = 4 * (size_t)w->len[i];

		if (need > word_cap) {
			unsigned char *p = realloc(word, need);
			if (p == NULL) {
				ok = false;
				break;
			}
			word = p;
			word_cap = need;
		}
		/* the word's text, re-encoded: invalid input became U+FFFD */
		for (uint32_t k = 0; k < w->len[i]; k++, pos++) {
			if (cpt[pos] < 0x80)
				word[n++] = (unsigned char)cpt[pos];
			else
				n += m40i_utf8_encode(cpt[pos], word + n);
		}
		/* the cache pays only on long texts */
		ok = w->n_words > 1024 ? cached_word(v, s, word, n, out) : word_tokenize(v, s, word, n, out);
	}
	free(word);
	return ok && !out->oom;
}
