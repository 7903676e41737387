/* unicode.c: UTF-8 decoding the way llama.cpp does it, and GPT-2's byte alphabet. */
#include "m40-int.h"
#include "unicode.h"

static inline int
cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

uint32_t
m40i_utf8_decode(const unsigned char *s, size_t n, size_t *i)
{
	size_t k = *i;
	unsigned char c = s[k];
	uint32_t cpt;

	if (c < 0x80) {
		*i = k + 1;
		return c;
	}
	if (!(c & 0x40))
		goto invalid;
	if (!(c & 0x20)) {
		if (k + 1 >= n || !cont(s[k + 1]))
			goto invalid;
		*i = k + 2;
		return ((uint32_t)(c & 0x1f) << 6) | (s[k + 1] & 0x3f);
	}
	if (!(c & 0x10)) {
		if (k + 2 >= n || !cont(s[k + 1]) || !cont(s[k + 2]))
			goto invalid;
		*i = k + 3;
		return ((uint32_t)(c & 0x0f) << 12) | ((uint32_t)(s[k + 1] & 0x3f) << 6) | (s[k + 2] & 0x3f);
	}
	if (!(c & 0x08)) {
		if (k + 3 >= n || !cont(s[k + 1]) || !cont(s[k + 2]) || !cont(s[k + 3]))
			goto invalid;
		cpt = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[k + 1] & 0x3f) << 12) |
			((uint32_t)(s[k + 2] & 0x3f) << 6) | (s[k + 3] & 0x3f);
		if (cpt >= M40U_MAX_CPT)
			goto invalid;
		*i = k + 4;
		return cpt;
	}
invalid:
	*i = k + 1;
	return M40U_REPLACEMENT;
}

size_t
m40i_utf8_encode(uint32_t cpt, unsigned char *out)
{
	if (cpt < 0x80) {
		out[0] = (unsigned char)cpt;
		return 1;
	}
	if (cpt < 0x800) {
		out[0] = (unsigned char)(0xc0 | (cpt >> 6));
		out[1] = (unsigned char)(0x80 | (cpt & 0x3f));
		return 2;
	}
	if (cpt < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (cpt >> 12));
		out[1] = (unsigned char)(0x80 | ((cpt >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cpt & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | ((cpt >> 18) & 0x07));
	out[1] = (unsigned char)(0x80 | ((cpt >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cpt >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cpt & 0x3f));
	return 4;
}

size_t
m40i_utf8_valid_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		uint32_t cpt, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cpt = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cpt = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cpt = c & 0x07;
			min = 0x10000;
		} else {
			return i;
		}
		if (i + len > n)
			return i;
		for (size_t k = 1; k < len; k++) {
			if (!cont(s[i + k]))
				return i;
			cpt = (cpt << 6) | (s[i + k] & 0x3f);
		}
		if (cpt < min || cpt >= M40U_MAX_CPT || (cpt >= 0xd800 && cpt <= 0xdfff))
			return i;
		i += len;
	}
	return i;
}

/* GPT-2 keeps the printable Latin-1 bytes and moves the rest to U+0100... */
static int
byte_is_kept(unsigned b)
{
	return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
}

/* The moved bytes, in order: 0x00-0x20, 0x7f-0xa0, 0xad -> U+0100-U+0143. */
uint32_t
m40i_byte_to_cpt(unsigned char b)
{
	if (byte_is_kept(b))
		return b;
	if (b <= 0x20)
		return 256u + b;
	if (b <= 0xa0)
		return 289u + (b - 0x7fu);
	return 323u;
}

int
m40i_cpt_to_byte(uint32_t cpt)
{
	if (cpt < 256)
		return byte_is_kept(cpt) ? (int)cpt : -1;
	if (cpt < 289)
		return (int)(cpt - 256);
	if (cpt < 323)
		return (int)(cpt - 289 + 0x7f);
	return cpt == 323 ? 0xad : -1;
}
