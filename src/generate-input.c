/* generate-input.c: m40-generate's prompts: the token-id protocol, parsed strictly. */
#include "cli.h"
#include "generate.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
gen_prompts_free(gen_prompts *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		free(ps->v[i].ids);
	free(ps->v);
	ps->v = NULL;
	ps->n = ps->cap = 0;
}

void
gen_prompts_add(gen_prompts *ps, int32_t *ids, size_t n, const char *label)
{
	gen_prompt *p;

	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		gen_prompt *v = realloc(ps->v, cap * sizeof(*v));

		if (v == NULL)
			cli_die(M40_EXIT_FAILURE, _("out of memory"));
		ps->v = v;
		ps->cap = cap;
	}
	p = &ps->v[ps->n++];
	p->ids = ids;
	p->n = n;
	snprintf(p->label, sizeof(p->label), "%s", label);
}

/* Quote at most 20 bytes of a bad word for a message. */
static void
quote_word(const char *w, size_t len, char *out, size_t size)
{
	size_t i, j = 0;

	for (i = 0; i < len && i < 20 && j + 5 < size; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c >= 0x20 && c != 0x7f)
			out[j++] = (char)c;
		else
			j += (size_t)snprintf(out + j, size - j, "\\x%02x", c);
	}
	if (i < len && j + 4 < size) {
		memcpy(out + j, "...", 3);
		j += 3;
	}
	out[j] = '\0';
}

bool
gen_parse_ids(const char *line, int32_t n_vocab, int32_t **ids, size_t *n, char *msg, size_t msg_size)
{
	const char *s = line;
	int32_t *v = NULL;
	size_t count = 0, cap = 0;

	*ids = NULL;
	*n = 0;
	for (;;) {
		const char *w;
		size_t len;
		long val = 0;
		bool digits = true;
		size_t i;

		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (*s == '\0')
			break;
		w = s;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
		len = (size_t)(s - w);
		for (i = 0; i < len; i++) {
			if (!isdigit((unsigned char)w[i])) {
				digits = false;
				break;
			}
			if (val <= INT32_MAX)
				val = val * 10 + (w[i] - '0');
		}
		if (!digits) {
			char q[100];

			quote_word(w, len, q, sizeof(q));
			snprintf(msg, msg_size, _("'%s' is not a token id (for text, use --text or -p, "
				"or pipe it through m40-tokenize)"), q);
			free(v);
			return false;
		}
		if (val >= n_vocab) {
			char q[100];

			quote_word(w, len, q, sizeof(q));
			snprintf(msg, msg_size, _("token id %s is out of range (the vocabulary has %ld tokens)"),
				q, (long)n_vocab);
			free(v);
			return false;
		}
		if (count == cap) {
			int32_t *nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL)
				cli_die(M40_EXIT_FAILURE, _("out of memory"));
			v = nv;
		}
		v[count++] = (int32_t)val;
	}
	if (count == 0) {
		snprintf(msg, msg_size, _("empty prompt (no token ids)"));
		return false;
	}
	*ids = v;
	*n = count;
	return true;
}
