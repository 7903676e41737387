/* tokenize-spm.c: SentencePiece BPE with scores (llama.cpp's llm_tokenizer_spm). */
#include "m40-int.h"

#include <stdlib.h>
#include <string.h>

#include "bigram-queue.h"
#include "unicode.h"
#include "vocab-int.h"

/*
 * Spaces become U+2581, the text is split into UTF-8 characters (by the lead
 * byte alone, as llama.cpp does, so invalid input is never a problem), and
 * the adjacent pair whose merged text is the best-scoring token is merged
 * first (ties: leftmost), until no pair forms a token.  Characters left that
 * are not tokens go out as byte tokens <0xNN>.
 *
 * The merges are local: a merge never crosses a place where no token holds
 * the two characters on either side.  Before each U+2581 that follows an
 * ASCII character which no token has in front of a U+2581, the text is cut
 * and the parts are tokenized one by one; the result is the same as for the
 * whole text (no merge can cross the cut, and the order of the merges inside
 * each part is unchanged), but the work queue stays small.
 */

struct sym {
	int32_t prev, next;
	uint32_t off, n;
	int32_t id;       /* token of a merged symbol, -1 before any merge */
};

struct m40i_spm {
	char *buf;
	size_t buf_cap;
	struct sym *sym;
	size_t sym_cap;
	struct m40i_bigram_queue queue;
};

struct m40i_spm *
m40i_spm_new(void)
{
	return calloc(1, sizeof(struct m40i_spm));
}

void
m40i_spm_free(struct m40i_spm *s)
{
	if (s == NULL)
		return;
	free(s->buf);
	free(s->sym);
	m40i_bigram_queue_free(&s->queue);
	free(s);
}

static bool
try_bigram(const struct m40_vocab *v, struct m40i_spm *s, int32_t left, int32_t right)
{
	struct m40i_bigram b;
	int32_t id;

	if (left < 0 || right < 0)
		return true;
	b.size = s->sym[left].n + s->sym[right].n;
	id = m40i_str_find(&v->str, s->buf + s->sym[left].off, b.size);
	if (id < 0 || id >= v->n_tokens)
		return true;
	b.key = -(double)v->score[id]; /* best score first */
	b.left = left;
	b.right = right;
	b.id = id;
	return m40i_bigram_push(&s->queue, &b);
}

/* Symbols [first, end) of s->sym, linked as a list of their own. */
static bool
merge_part(const struct m40_vocab *v, struct m40i_spm *s, int32_t first, int32_t end,
	struct m40i_ids *out)
{
	s->queue.n = 0;
	for (int32_t i = first; i < end; i++) {
		s->sym[i].prev = i > first ? i - 1 : -1;
		s->sym[i].next = i + 1 < end ? i + 1 : -1;
		s->sym[i].id = -1;
	}
	for (int32_t i = first + 1; i < end; i++)
		if (!try_bigram(v, s, i - 1, i))
			return false;
	while (s->queue.n > 0) {
		struct m40i_bigram b = m40i_bigram_pop(&s->queue);
		struct sym *l = &s->sym[b.left], *r = &s->sym[b.right];

		if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
			continue;
		l->n += r->n;
		r->n = 0;
		l->id = b.id;
		l->next = r->next;
		if (r->next >= 0)
			s->sym[r->next].prev = b.left;
		if (!try_bigram(v, s, l->prev, b.left) || !try_bigram(v, s, b.left, l->next))
			return false;
	}
	for (int32_t i = first; i != -1; i = s->sym[i].next) {
		const struct sym *y = &s->sym[i];
		int32_t id = y->id;

		if (id < 0) {
			id = m40i_str_find(&v->str, s->buf + y->off, y->n);
			if (id >= v->n_tokens)
				id = -1;
		}
		if (id >= 0) {
			m40i_ids_push(out, id);
			continue;
		}
		for (uint32_t k = 0; k < y->n; k++) {
			int32_t b = v->byte_id[(unsigned char)s->buf[y->off + k]];
			if (b < 0)
				b = v->unk;
			if (b >= 0)
				m40i_ids_push(out, b);
		}
	}
	return !out->oom;
}

bool
m40i_spm_tokenize(const struct m40_vocab *v, struct m40i_spm *s, const char *text, size_t len,
	bool add_space, struct m40i_ids *out)
{
	size_t n = 0, need = 3 * len + 3, n_sym = 0;
	int32_t first = 0;

	if (need > s->buf_cap) {
		char *b = realloc(s->buf, need);
		if (b == NULL)
			return false;
		s->buf = b;
		s->buf_cap = need;
	}
	if (add_space) {
		memcpy(s->buf, "\xe2\x96\x81", 3);
		n = 3;
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ') {
			memcpy(s->buf + n, "\xe2\x96\x81", 3);
			n += 3;
		} else {
			s->buf[n++] = text[i];
		}
	}
	if (n == 0)
		return true;
	if (n > INT32_MAX)
		return false;
	if (n > s->sym_cap) {
		struct sym *y = realloc(s->sym, n * sizeof *y);
		if (y == NULL)
			return false;
		s->sym = y;
		s->sym_cap = n;
	}
	for (size_t off = 0; off < n;) {
		size_t l = m40i_utf8_len((unsigned char)s->buf[off]);
		if (l > n - off)
			l = n - off;
		s->sym[n_sym].off = (uint32_t)off;
		s->sym[n_sym].n = (uint32_t)l;
		n_sym++;
		off += l;
	}
	for (size_t i = 1; i < n_sym; i++) {
		const struct sym *y = &s->sym[i], *p = &s->sym[i - 1];
		unsigned char c = (unsigned char)s->buf[p->off];

		if (y->n == 3 && memcmp(s->buf + y->off, "\xe2\x96\x81", 3) == 0 && p->n == 1 &&
		    c < 0x80 && !v->spm_glue[c]) {
			if (!merge_part(v, s, first, (int32_t)i, out))
				return false;
			first = (int32_t)i;
		}
	}
	return merge_part(v, s, first, (int32_t)n_sym, out);
}
