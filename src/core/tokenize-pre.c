/* tokenize-pre.c: BPE pre-tokenizers, llama.cpp's regex splits written out by hand. */
#include "m40-int.h"

#include <stdlib.h>
#include <string.h>

#include "unicode.h"
#include "vocab-int.h"

/*
 * llama.cpp applies a list of regexes one after the other; each splits the
 * pieces the previous ones made, and text between matches stays a piece of
 * its own.  gpt2, llama3 and qwen2 have hand-written splitters there
 * (unicode.cpp), which are followed line by line below.  The others run
 * through std::regex on a "collapsed" text where every codepoint above 127
 * stands for its class (\s, \p{L}, \p{N}, \p{P}...); each of them here is
 * one of a few shapes: X+, \s?X+, X, \s+$ and [0-9]{3}.
 */

#define IN_RANGE 0x100u /* flags of a codepoint inside the current piece */
#define OOR 0xffffffffu

/* Character classes of the std::regex-based splits. */
enum cls {
	CLS_N,           /* \p{N} */
	CLS_L,           /* \p{L} */
	CLS_P,           /* \p{P} */
	CLS_P_DEFAULT,   /* [\p{P}\$\+<=>\^~\|] */
	CLS_P_FALCON,    /* [\p{P}\$\+<=>\^~\|`] */
	CLS_CRLF,        /* [\r\n] */
	CLS_HAN,         /* [一-龥ࠀ-一가-퟿] */
	CLS_DS_LETTER,   /* deepseek-llm's cased letters */
	CLS_DS_PUNCT     /* [!-/:-~！-／：-～‘-‟　-。] */
};

struct range {
	uint32_t lo, hi;
};

/* From llama.cpp's deepseek-llm regex (the Hugging Face tokenizer's). */
static const struct range ds_letter[] = {
	{0x0041, 0x005A}, {0x0061, 0x007A}, {0x00B5, 0x00B5}, {0x00C0, 0x00D6}, {0x00D8, 0x00F6},
	{0x00F8, 0x01BA}, {0x01BC, 0x01BF}, {0x01C4, 0x0293}, {0x0295, 0x02AF}, {0x0370, 0x0373},
	{0x0376, 0x0377}, {0x037B, 0x037D}, {0x037F, 0x037F}, {0x0386, 0x0386}, {0x0388, 0x038A},
	{0x038C, 0x038C}, {0x038E, 0x03A1}, {0x03A3, 0x03F5}, {0x03F7, 0x0481}, {0x048A, 0x052F},
	{0x0531, 0x0556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA},
	{0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15},
	{0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59},
	{0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC},
	{0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB},
	{0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107},
	{0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
	{0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F},
	{0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4},
	{0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F},
	{0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17},
	{0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
	{0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

static bool
in_ranges(const struct range *r, size_t n, uint32_t c)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c < r[mid].lo)
			hi = mid;
		else if (c > r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static bool
is_class(enum cls k, uint32_t c, unsigned fl)
{
	/* std::wregex sees non-ASCII whitespace as a vertical tab. */
	if (c > 0x7f && (fl & M40U_SPACE))
		c = 0x0b;
	switch (k) {
	case CLS_N:
		return fl & M40U_NUMBER;
	case CLS_L:
		return fl & M40U_LETTER;
	case CLS_P:
		return fl & M40U_PUNCT;
	case CLS_P_DEFAULT:
		return (fl & M40U_PUNCT) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' ||
			c == '^' || c == '~' || c == '|';
	case CLS_P_FALCON:
		return is_class(CLS_P_DEFAULT, c, fl) || c == '`';
	case CLS_CRLF:
		return c == '\r' || c == '\n';
	case CLS_HAN:
		return (c >= 0x4e00 && c <= 0x9fa5) || (c >= 0x0800 && c <= 0x4e00) ||
			(c >= 0xac00 && c <= 0xd7ff);
	case CLS_DS_LETTER:
		return in_ranges(ds_letter, M40_ARRAY_SIZE(ds_letter), c);
	case CLS_DS_PUNCT:
		return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x7e) || (c >= 0xff01 && c <= 0xff0f) ||
			(c >= 0xff1a && c <= 0xff5e) || (c >= 0x2018 && c <= 0x201f) ||
			(c >= 0x3000 && c <= 0x3002);
	}
	return false;
}

/* One split pass: in[] pieces -> out[] pieces (codepoint counts). */
struct pass {
	const uint32_t *cpt;
	const uint16_t *fl;
	uint32_t *out;
	size_t n_out;
	size_t ini, end, prev_end;
};

static inline void
emit(struct pass *p, size_t end)
{
	if (end > p->prev_end)
		p->out[p->n_out++] = (uint32_t)(end - p->prev_end);
	p->prev_end = end;
}

static inline uint32_t
C(const struct pass *p, size_t pos)
{
	return pos >= p->ini && pos < p->end ? p->cpt[pos] : OOR;
}

static inline unsigned
F(const struct pass *p, size_t pos)
{
	return pos >= p->ini && pos < p->end ? p->fl[pos] | IN_RANGE : 0;
}

static inline uint32_t
lower_ascii(uint32_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* 's|'t|'re|'ve|'m|'ll|'d (case-insensitive if ci): length matched, or 0. */
static size_t
contraction(const struct pass *p, size_t pos, bool ci)
{
	uint32_t a, b;

	if (C(p, pos) != '\'' || pos + 1 >= p->end)
		return 0;
	a = C(p, pos + 1);
	if (ci)
		a = lower_ascii(a);
	if (a == 's' || a == 't' || a == 'm' || a == 'd')
		return 2;
	if (pos + 2 >= p->end)
		return 0;
	b = C(p, pos + 2);
	if (ci)
		b = lower_ascii(b);
	if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
		return 3;
	return 0;
}

#define LNW (M40U_LETTER | M40U_NUMBER | M40U_SPACE)

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static void
split_gpt2(struct pass *p)
{
	size_t pos = p->ini;

	while (pos < p->end) {
		uint32_t cpt = C(p, pos);
		unsigned flags = F(p, pos), flags2;
		size_t k = contraction(p, pos, false), nws;

		if (k) {
			pos += k;
			emit(p, pos);
			continue;
		}
		flags2 = cpt == ' ' ? F(p, pos + 1) : flags;
		if (flags2 & M40U_LETTER) {
			pos += cpt == ' ';
			while (flags2 & M40U_LETTER)
				flags2 = F(p, ++pos);
			emit(p, pos);
			continue;
		}
		if (flags2 & M40U_NUMBER) {
			pos += cpt == ' ';
			while (flags2 & M40U_NUMBER)
				flags2 = F(p, ++pos);
			emit(p, pos);
			continue;
		}
		if (!(flags2 & LNW) && flags2) {
			pos += cpt == ' ';
			while (!(flags2 & LNW) && flags2)
				flags2 = F(p, ++pos);
			emit(p, pos);
			continue;
		}
		for (nws = 0; F(p, pos + nws) & M40U_SPACE; nws++)
			;
		if (nws > 1 && C(p, pos + nws) != OOR) {
			pos += nws - 1;
			emit(p, pos);
			continue;
		}
		if (nws > 0) {
			pos += nws;
			emit(p, pos);
			continue;
		}
		emit(p, ++pos);
	}
}

/* llama3 (digits 3 at a time) and qwen2 (one at a time):
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 * ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static void
split_llama3(struct pass *p, size_t max_digits)
{
	size_t pos = p->ini;

	while (pos < p->end) {
		uint32_t cpt = C(p, pos);
		unsigned flags = F(p, pos), flags2;
		size_t k = contraction(p, pos, true), nws, last_rn;

		if (k) {
			pos += k;
			emit(p, pos);
			continue;
		}
		if (!(cpt == '\r' || cpt == '\n' || (flags & M40U_NUMBER))) {
			if ((flags & M40U_LETTER) || (F(p, pos + 1) & M40U_LETTER)) {
				pos++;
				while (F(p, pos) & M40U_LETTER)
					pos++;
				emit(p, pos);
				continue;
			}
		}
		if (flags & M40U_NUMBER) {
			size_t ini = pos;
			while (F(p, pos) & M40U_NUMBER) {
				if (++pos - ini >= max_digits) {
					emit(p, pos);
					ini = pos;
				}
			}
			emit(p, pos);
			continue;
		}
		flags2 = cpt == ' ' ? F(p, pos + 1) : flags;
		if (!(flags2 & LNW) && flags) {
			uint32_t c2;
			pos += cpt == ' ';
			while (!(flags2 & LNW) && flags2)
				flags2 = F(p, ++pos);
			for (c2 = C(p, pos); c2 == '\r' || c2 == '\n'; c2 = C(p, ++pos))
				;
			emit(p, pos);
			continue;
		}
		nws = 0;
		last_rn = 0;
		while (F(p, pos + nws) & M40U_SPACE) {
			uint32_t c2 = C(p, pos + nws);
			if (c2 == '\r' || c2 == '\n')
				last_rn = pos + nws + 1;
			nws++;
		}
		if (last_rn > 0) {
			pos = last_rn;
			emit(p, pos);
			continue;
		}
		if (nws > 1 && C(p, pos + nws) != OOR) {
			pos += nws - 1;
			emit(p, pos);
			continue;
		}
		if (nws > 0) {
			pos += nws;
			emit(p, pos);
			continue;
		}
		emit(p, ++pos);
	}
}

enum shape {
	SHAPE_RUN,       /* X+ */
	SHAPE_WS_RUN,    /* \s?X+ */
	SHAPE_ONE,       /* X */
	SHAPE_TRAIL_WS,  /* \s+$ */
	SHAPE_DIGIT3     /* [0-9][0-9][0-9] */
};

static inline bool
X(const struct pass *p, enum cls k, size_t pos)
{
	return pos < p->end && is_class(k, p->cpt[pos], p->fl[pos]);
}

/* What std::regex_iterator finds: leftmost matches; the gaps become pieces. */
static void
split_regex(struct pass *p, enum shape s, enum cls k)
{
	size_t pos = p->ini, a, b;

	if (s == SHAPE_TRAIL_WS) {
		for (a = p->end; a > p->ini && (p->fl[a - 1] & M40U_SPACE); a--)
			;
		emit(p, a);
		emit(p, p->end);
		return;
	}
	while (pos < p->end) {
		a = pos;
		switch (s) {
		case SHAPE_RUN:
			if (!X(p, k, pos)) {
				pos++;
				continue;
			}
			break;
		case SHAPE_WS_RUN:
			if ((p->fl[pos] & M40U_SPACE) && X(p, k, pos + 1))
				pos++;
			else if (!X(p, k, pos)) {
				pos++;
				continue;
			}
			break;
		case SHAPE_ONE:
			if (!X(p, k, pos)) {
				pos++;
				continue;
			}
			emit(p, a);
			emit(p, ++pos);
			continue;
		case SHAPE_DIGIT3:
			if (pos + 2 < p->end && p->cpt[pos] - '0' < 10 && p->cpt[pos + 1] - '0' < 10 &&
			    p->cpt[pos + 2] - '0' < 10) {
				emit(p, a);
				pos += 3;
				emit(p, pos);
			} else {
				pos++;
			}
			continue;
		case SHAPE_TRAIL_WS:
			break;
		}
		for (b = pos; X(p, k, b); b++)
			;
		emit(p, a);
		emit(p, b);
		pos = b;
	}
	emit(p, p->end);
}

enum step_kind { STEP_GPT2, STEP_LLAMA3, STEP_QWEN2, STEP_REGEX };

struct step {
	enum step_kind kind;
	enum shape shape;
	enum cls cls;
};

#define GPT2 { STEP_GPT2, SHAPE_RUN, CLS_N }
#define REGEX(s, c) { STEP_REGEX, s, c }

static const struct step pre_default[] = {
	REGEX(SHAPE_RUN, CLS_P_DEFAULT), GPT2, REGEX(SHAPE_RUN, CLS_N), REGEX(SHAPE_DIGIT3, CLS_N)
};
static const struct step pre_llama3[] = { { STEP_LLAMA3, SHAPE_RUN, CLS_N } };
static const struct step pre_qwen2[] = { { STEP_QWEN2, SHAPE_RUN, CLS_N } };
static const struct step pre_gpt2[] = { GPT2 };
static const struct step pre_smollm[] = { REGEX(SHAPE_ONE, CLS_N), GPT2 };
static const struct step pre_falcon[] = {
	REGEX(SHAPE_RUN, CLS_P_FALCON), GPT2, REGEX(SHAPE_DIGIT3, CLS_N)
};
static const struct step pre_deepseek_llm[] = {
	REGEX(SHAPE_ONE, CLS_CRLF), REGEX(SHAPE_WS_RUN, CLS_DS_LETTER), REGEX(SHAPE_WS_RUN, CLS_DS_PUNCT),
	REGEX(SHAPE_TRAIL_WS, CLS_N), REGEX(SHAPE_RUN, CLS_HAN), REGEX(SHAPE_RUN, CLS_N)
};
static const struct step pre_deepseek_coder[] = {
	REGEX(SHAPE_ONE, CLS_CRLF), REGEX(SHAPE_WS_RUN, CLS_L), REGEX(SHAPE_WS_RUN, CLS_P),
	REGEX(SHAPE_RUN, CLS_HAN), REGEX(SHAPE_ONE, CLS_N)
};

static const struct {
	const struct step *steps;
	size_t n;
} pre_steps[] = {
	[M40I_PRE_DEFAULT] = { pre_default, M40_ARRAY_SIZE(pre_default) },
	[M40I_PRE_LLAMA3] = { pre_llama3, 1 },
	[M40I_PRE_QWEN2] = { pre_qwen2, 1 },
	[M40I_PRE_GPT2] = { pre_gpt2, 1 },
	[M40I_PRE_SMOLLM] = { pre_smollm, M40_ARRAY_SIZE(pre_smollm) },
	[M40I_PRE_FALCON] = { pre_falcon, M40_ARRAY_SIZE(pre_falcon) },
	[M40I_PRE_DEEPSEEK_LLM] = { pre_deepseek_llm, M40_ARRAY_SIZE(pre_deepseek_llm) },
	[M40I_PRE_DEEPSEEK_CODER] = { pre_deepseek_coder, M40_ARRAY_SIZE(pre_deepseek_coder) },
};

void
m40i_words_free(struct m40i_words *w)
{
	free(w->cpt);
	free(w->fl);
	free(w->len);
	free(w->tmp);
	memset(w, 0, sizeof *w);
}

bool
m40i_pretokenize(enum m40i_pre pre, const char *text, size_t len, struct m40i_words *w)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = 0, n_in;
	uint32_t *in;

	if (len + 1 > w->cap) {
		size_t cap = len + 1 > 2 * w->cap ? len + 1 : 2 * w->cap;
		uint32_t *cpt = realloc(w->cpt, cap * sizeof *cpt);
		uint16_t *fl = cpt ? realloc(w->fl, cap * sizeof *fl) : NULL;
		uint32_t *l = fl ? realloc(w->len, cap * sizeof *l) : NULL;
		uint32_t *t = l ? realloc(w->tmp, cap * sizeof *t) : NULL;
		if (cpt)
			w->cpt = cpt;
		if (fl)
			w->fl = fl;
		if (l)
			w->len = l;
		if (t == NULL)
			return false;
		w->tmp = t;
		w->cap = cap;
	}
	for (size_t i = 0; i < len;) {
		uint32_t c = s[i] < 0x80 ? s[i++] : m40i_utf8_decode(s, len, &i);
		w->cpt[n] = c;
		w->fl[n] = (uint16_t)m40i_cpt_flags(c);
		n++;
	}
	w->n_cpt = n;
	w->n_words = 0;
	if (n == 0)
		return true;
	if (n > UINT32_MAX)
		return false;

	in = w->tmp;
	in[0] = (uint32_t)n;
	n_in = 1;
	for (size_t k = 0; k < pre_steps[pre].n; k++) {
		const struct step *st = &pre_steps[pre].steps[k];
		struct pass p = { w->cpt, w->fl, in == w->tmp ? w->len : w->tmp, 0, 0, 0, 0 };
		size_t start = 0;

		for (size_t i = 0; i < n_in; i++) {
			p.ini = p.prev_end = start;
			p.end = start + in[i];
			switch (st->kind) {
			case STEP_GPT2:
				split_gpt2(&p);
				break;
			case STEP_LLAMA3:
				split_llama3(&p, 3);
				break;
			case STEP_QWEN2:
				split_llama3(&p, 1);
				break;
			case STEP_REGEX:
				split_regex(&p, st->shape, st->cls);
				break;
			}
			start = p.end;
		}
		in = p.out;
		n_in = p.n_out;
	}
	if (in != w->len)
		memcpy(w->len, in, n_in * sizeof *in);
	w->n_words = n_in;
	return true;
}
