/* unicode.h: UTF-8 and codepoint classes as the tokenizers need them (llama.cpp's rules). */
#ifndef M40_UNICODE_H
#define M40_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Class flags of a codepoint: one bit per general-category group (none for
 * unassigned codepoints) and a whitespace bit (White_Space property). */
#define M40U_NUMBER 0x01u  /* \p{N} */
#define M40U_LETTER 0x02u  /* \p{L} */
#define M40U_SEPAR  0x04u  /* \p{Z} */
#define M40U_MARK   0x08u  /* \p{M} */
#define M40U_PUNCT  0x10u  /* \p{P} */
#define M40U_SYMBOL 0x20u  /* \p{S} */
#define M40U_CTRL   0x40u  /* \p{C} but Cn */
#define M40U_SPACE  0x80u  /* \s */

#define M40U_MAX_CPT 0x110000u
/* What an invalid byte of input decodes to, as in llama.cpp. */
#define M40U_REPLACEMENT 0xFFFDu

/* unicode-data.c (generated) */
extern const char m40i_unicode_version[];
extern const uint16_t m40i_ucd_index[M40U_MAX_CPT >> 8];
extern const uint8_t m40i_ucd_blocks[][256];

static inline unsigned
m40i_cpt_flags(uint32_t cpt)
{
	if (cpt >= M40U_MAX_CPT)
		return 0;
	return m40i_ucd_blocks[m40i_ucd_index[cpt >> 8]][cpt & 0xff];
}

/* Bytes of the UTF-8 sequence a lead byte announces (1 for stray bytes),
 * without looking further: llama.cpp's unicode_len_utf8. */
static inline size_t
m40i_utf8_len(unsigned char c)
{
	static const unsigned char len[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4 };
	return len[c >> 4];
}

/* unicode.c */
/* Decode one codepoint at s[*i] (i < n), advancing *i.  Invalid sequences
 * take one byte and give U+FFFD (llama.cpp's unicode_cpts_from_utf8;
 * overlong forms and surrogates pass as they do there).  Values above
 * U+10FFFF, which llama.cpp cannot encode back, also give U+FFFD. */
uint32_t m40i_utf8_decode(const unsigned char *s, size_t n, size_t *i);
/* Encode cpt (<= 0x10FFFF) into out (4 bytes); returns the length. */
size_t m40i_utf8_encode(uint32_t cpt, unsigned char *out);
/* Length of the longest prefix of s[0..n) that is complete, valid UTF-8
 * (strict: no overlongs, no surrogates). */
size_t m40i_utf8_valid_prefix(const unsigned char *s, size_t n);
/* GPT-2's byte-level alphabet: byte -> codepoint, and back (-1 if none). */
uint32_t m40i_byte_to_cpt(unsigned char b);
int m40i_cpt_to_byte(uint32_t cpt);

#endif
