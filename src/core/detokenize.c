/* detokenize.c: ids back to text, whole (m40_detokenize) or streamed whole characters (m40_decoder). */
#include "m40-int.h"

#include <stdlib.h>
#include <string.h>

#include "unicode.h"
#include "vocab-int.h"

/*
 * The text of a token is its piece (vocab.c): SentencePiece's U+2581 back
 * to spaces, byte tokens and GPT-2 characters back to their bytes.  Control
 * and unknown tokens give nothing unless special is set.  Like llama.cpp's
 * llama_detokenize, m40_detokenize drops one leading space of the first
 * token where the vocabulary adds a space prefix (SentencePiece), so text
 * tokenized without special tokens comes back as it was (also after a BOS
 * that is not shown, where llama.cpp keeps the space).  Unlike llama.cpp
 * it does not "clean up" spaces before punctuation for BPE vocabularies: the
 * pieces are joined as they are, so every text round-trips.
 */

static inline bool
hidden(const struct m40_vocab *v, int32_t id, bool special)
{
	return !special && (v->attr[id] & (M40I_ATTR_CONTROL | M40I_ATTR_UNKNOWN));
}

static inline const char *
piece(const struct m40_vocab *v, int32_t id, size_t *n)
{
	*n = v->piece_off[id + 1] - v->piece_off[id];
	return v->piece + v->piece_off[id];
}

m40_status
m40_detokenize(const m40_vocab *v, const int32_t *ids, size_t n_ids, bool special,
	char **text, size_t *len, m40_error *err)
{
	size_t total = 0, n;
	bool strip = v->add_space_prefix;
	char *out, *p;

	*text = NULL;
	*len = 0;
	for (size_t i = 0; i < n_ids; i++) {
		if (ids[i] < 0 || ids[i] >= v->n_tokens)
			return m40_error_set(err, M40_E_INVALID,
				_("token id %ld at position %zu is out of range (vocabulary of %ld tokens)"),
				(long)ids[i], i, (long)v->n_tokens);
		if (!hidden(v, ids[i], special)) {
			piece(v, ids[i], &n);
			total += n;
		}
	}
	out = malloc(total + 1);
	if (out == NULL)
		return m40_error_set(err, M40_E_NOMEM, _("out of memory decoding %zu tokens"), n_ids);
	p = out;
	for (size_t i = 0; i < n_ids; i++) {
		const char *s;

		/* A hidden BOS does not keep the space of the first word
		 * (llama.cpp keeps it): tokenize | detokenize round-trips. */
		if (hidden(v, ids[i], special))
			continue;
		s = piece(v, ids[i], &n);
		if (strip && n > 0 && s[0] == ' ') {
			s++;
			n--;
		}
		strip = false;
		memcpy(p, s, n);
		p += n;
	}
	*p = '\0';
	*text = out;
	*len = (size_t)(p - out);
	return M40_OK;
}

/* ---- streaming ---------------------------------------------------------- */

struct m40_decoder {
	const struct m40_vocab *v;
	bool special;
	unsigned char *held;   /* bytes not yet given out */
	size_t n_held, cap_held;
};

m40_decoder *
m40_decoder_new(const m40_vocab *v, bool special)
{
	m40_decoder *d = calloc(1, sizeof *d);

	if (d == NULL)
		return NULL;
	d->v = v;
	d->special = special;
	return d;
}

void
m40_decoder_free(m40_decoder *d)
{
	if (d == NULL)
		return;
	free(d->held);
	free(d);
}

/* Bytes of a well-formed UTF-8 sequence at s (n available): its length;
 * 0 if it may still become one (too short so far); -1 if it cannot. */
static int
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return -1;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (size_t k = 1; k < len; k++) {
		if (k >= n)
			return 0;
		if (s[k] < (k == 1 ? lo : 0x80) || s[k] > (k == 1 ? hi : 0xbf))
			return -1;
	}
	return (int)len;
}

/* Give out what is held: whole characters, U+FFFD for bytes that cannot
 * start one; an unfinished character stays unless final. */
static size_t
drain(m40_decoder *d, char *out, size_t cap, bool final)
{
	size_t i = 0, w = 0;

	while (i < d->n_held) {
		int k = utf8_seq(d->held + i, d->n_held - i);

		if (k == 0 && !final)
			break;
		if (k <= 0) {
			if (w + 3 > cap)
				break;
			memcpy(out + w, "\xef\xbf\xbd", 3);
			w += 3;
			/* one U+FFFD for the maximal part of a character */
			i++;
			while (k == 0 && i < d->n_held && (d->held[i] & 0xc0) == 0x80)
				i++;
			continue;
		}
		if (w + (size_t)k > cap)
			break;
		memcpy(out + w, d->held + i, (size_t)k);
		w += (size_t)k;
		i += (size_t)k;
	}
	if (i > 0) /* held is NULL until the first piece */
		memmove(d->held, d->held + i, d->n_held - i);
	d->n_held -= i;
	return w;
}

size_t
m40_decoder_push(m40_decoder *d, int32_t id, char *out, size_t cap)
{
	const struct m40_vocab *v = d->v;
	const char *s;
	size_t n;

	if (id >= 0 && id < v->n_tokens && !hidden(v, id, d->special)) {
		s = piece(v, id, &n);
		if (d->n_held + n > d->cap_held) {
			size_t c = (d->n_held + n) * 2 + 16;
			unsigned char *h = realloc(d->held, c);
			if (h == NULL)
				return drain(d, out, cap, false);
			d->held = h;
			d->cap_held = c;
		}
		memcpy(d->held + d->n_held, s, n);
		d->n_held += n;
	}
	return drain(d, out, cap, false);
}

size_t
m40_decoder_flush(m40_decoder *d, char *out, size_t cap)
{
	return drain(d, out, cap, true);
}
