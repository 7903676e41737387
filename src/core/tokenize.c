/* tokenize.c: m40_tokenize: special tokens first, then SPM or BPE on the text between them. */
#include "m40-int.h"

#include <stdlib.h>
#include <string.h>

#include "vocab-int.h"

/*
 * Special tokens are found as llama.cpp's tokenizer_st_partition finds
 * them: longest text first, each at every place where it occurs in text not
 * yet taken (user-defined tokens always, control and unknown ones only when
 * special parsing is asked for).  Rather than one pass over the text per
 * token, all occurrences are collected in one pass and then accepted in
 * that order.
 */

struct occ {
	uint32_t rank; /* position of the token in v->special */
	size_t pos;
};

struct frag {
	size_t off, len;
	int32_t id;    /* >= 0: a special token */
};

static int
cmp_occ(const void *a, const void *b)
{
	const struct occ *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int
cmp_frag(const void *a, const void *b)
{
	const struct frag *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static bool
is_c_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

#define NB 4096u
static inline uint32_t
bucket(unsigned char a, unsigned char b)
{
	return ((uint32_t)a * 0x9e37u + b * 0x3u) & (NB - 1);
}

/* Fragments of the text: special tokens and the raw text between them. */
static m40_status
partition(const struct m40_vocab *v, const char *text, size_t len, bool parse_special,
	struct frag **frags, size_t *n_frags, m40_error *err)
{
	int32_t *head = NULL, *next = NULL, single[256];
	struct occ *occ = NULL;
	size_t n_occ = 0, cap_occ = 0, n_acc = 0, n_out = 0;
	unsigned char *claim = NULL;
	struct frag *acc = NULL, *out = NULL;
	bool any = false;

	*frags = NULL;
	*n_frags = 0;
	for (size_t r = 0; r < v->n_special && !any; r++)
		any = parse_special || !(v->attr[v->special[r]] & (M40I_ATTR_CONTROL | M40I_ATTR_UNKNOWN));
	if (any) {
		head = malloc(NB * sizeof *head);
		next = malloc(v->n_special * sizeof *next);
		if (head == NULL || next == NULL)
			goto oom;
		memset(head, 0xff, NB * sizeof *head);
		memset(single, 0xff, sizeof single);
		/* lists hold ranks in increasing order: insert from the back */
		for (size_t r = v->n_special; r-- > 0;) {
			int32_t id = v->special[r];
			size_t n;
			const unsigned char *s = (const unsigned char *)m40i_str_at(&v->str, id, &n);

			next[r] = -1;
			if (!parse_special && (v->attr[id] & (M40I_ATTR_CONTROL | M40I_ATTR_UNKNOWN)))
				continue;
			if (n == 1) {
				next[r] = single[s[0]];
				single[s[0]] = (int32_t)r;
			} else {
				uint32_t b = bucket(s[0], s[1]);
				next[r] = head[b];
				head[b] = (int32_t)r;
			}
		}
		for (size_t i = 0; i < len; i++) {
			const unsigned char *t = (const unsigned char *)text + i;
			int32_t r = single[t[0]];
			for (int pass = 0; pass < 2; pass++) {
				for (; r >= 0; r = next[r]) {
					size_t n;
					const char *s = m40i_str_at(&v->str, v->special[r], &n);
					if (n > len - i || memcmp(s, t, n) != 0)
						continue;
					if (n_occ == cap_occ) {
						size_t cap = cap_occ ? 2 * cap_occ : 64;
						struct occ *o = realloc(occ, cap * sizeof *o);
						if (o == NULL)
							goto oom;
						occ = o;
						cap_occ = cap;
					}
					occ[n_occ].rank = (uint32_t)r;
					occ[n_occ].pos = i;
					n_occ++;
				}
				r = i + 1 < len ? head[bucket(t[0], t[1])] : -1;
			}
		}
	}
	if (n_occ > 0) {
		qsort(occ, n_occ, sizeof *occ, cmp_occ);
		claim = calloc(len, 1);
		acc = malloc(n_occ * sizeof *acc);
		if (claim == NULL || acc == NULL)
			goto oom;
		for (size_t k = 0; k < n_occ; k++) {
			int32_t id = v->special[occ[k].rank];
			size_t n, p = occ[k].pos, e;
			bool free_run = true;

			m40i_str_at(&v->str, id, &n);
			for (size_t j = p; j < p + n && free_run; j++)
				free_run = !claim[j];
			if (!free_run)
				continue;
			memset(claim + p, 1, n);
			acc[n_acc].off = p;
			acc[n_acc].len = n;
			acc[n_acc].id = id;
			n_acc++;
			if (v->attr[id] & M40I_ATTR_LSTRIP)
				for (e = p; e > 0 && !claim[e - 1] && is_c_space((unsigned char)text[e - 1]); e--)
					claim[e - 1] = 2;
			if (v->attr[id] & M40I_ATTR_RSTRIP)
				for (e = p + n; e < len && !claim[e] && is_c_space((unsigned char)text[e]); e++)
					claim[e] = 2;
		}
		qsort(acc, n_acc, sizeof *acc, cmp_frag);
	}
	out = malloc((2 * n_acc + 1) * sizeof *out);
	if (out == NULL)
		goto oom;
	{
		size_t i = 0, a = 0;
		while (i < len) {
			if (a < n_acc && acc[a].off == i) {
				out[n_out++] = acc[a];
				i += acc[a].len;
				a++;
			} else if (claim != NULL && claim[i]) {
				i++;
			} else {
				size_t j = i;
				while (j < len && (claim == NULL || !claim[j]))
					j++;
				out[n_out].off = i;
				out[n_out].len = j - i;
				out[n_out].id = -1;
				n_out++;
				i = j;
			}
		}
	}
	free(head);
	free(next);
	free(occ);
	free(claim);
	free(acc);
	*frags = out;
	*n_frags = n_out;
	return M40_OK;
oom:
	free(head);
	free(next);
	free(occ);
	free(claim);
	free(acc);
	free(out);
	return m40_error_set(err, M40_E_NOMEM, _("out of memory tokenizing %zu bytes"), len);
}

m40_status
m40_tokenize(const m40_vocab *v, const char *text, size_t len, unsigned flags,
	int32_t **ids, size_t *n_ids, m40_error *err)
{
	struct m40i_ids out = { 0 };
	struct frag *frags = NULL;
	size_t n_frags = 0;
	struct m40i_spm *spm = NULL;
	struct m40i_bpe *bpe = NULL;
	bool ok = true, prev_special = true;
	m40_status st;

	*ids = NULL;
	*n_ids = 0;
	if (v == NULL || (text == NULL && len > 0))
		return m40_error_set(err, M40_E_INVALID, _("m40_tokenize: no vocabulary or no text"));
	if (len > 0 && (st = partition(v, text, len, flags & M40_TOK_PARSE_SPECIAL, &frags, &n_frags,
	    err)) != M40_OK)
		return st;
	if (!m40i_ids_grow(&out, len / 3 + 16))
		goto oom;
	if ((flags & M40_TOK_ADD_BOS) && m40_vocab_add_bos(v))
		m40i_ids_push(&out, v->bos);
	if (v->kind == M40_VOCAB_SPM)
		spm = m40i_spm_new();
	else
		bpe = m40i_bpe_new();
	if (spm == NULL && bpe == NULL)
		goto oom;
	for (size_t i = 0; i < n_frags && ok; i++) {
		const struct frag *f = &frags[i];

		if (f->id >= 0) {
			m40i_ids_push(&out, f->id);
			prev_special = true;
			continue;
		}
		if (spm != NULL)
			ok = m40i_spm_tokenize(v, spm, text + f->off, f->len,
				v->add_space_prefix && prev_special, &out);
		else
			ok = m40i_bpe_tokenize(v, bpe, text + f->off, f->len, &out);
		prev_special = false;
	}
	if (!ok || out.oom)
		goto oom;
	if ((flags & M40_TOK_ADD_EOS) && m40_vocab_add_eos(v))
		m40i_ids_push(&out, v->eos);
	if (out.oom)
		goto oom;
	m40i_spm_free(spm);
	m40i_bpe_free(bpe);
	free(frags);
	*ids = out.v;
	*n_ids = out.n;
	return M40_OK;
oom:
	m40i_spm_free(spm);
	m40i_bpe_free(bpe);
	free(frags);
	free(out.v);
	return m40_error_set(err, M40_E_NOMEM, _("out of memory tokenizing %zu bytes"), len);
}
