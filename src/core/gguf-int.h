/* gguf-int.h: what the GGUF reader and writer agree on. */
#ifndef M40_GGUF_INT_H
#define M40_GGUF_INT_H

#define M40I_GGUF_MAGIC "GGUF"
/* Arrays nest at most this deep (a depth bomb is refused, not recursed into). */
#define M40I_GGUF_MAX_DEPTH 16
/* Keys and tensor names are at most this long, in bytes. */
#define M40I_GGUF_MAX_NAME 65535

/* gguf-read.c */
/* Bytes of one element of a scalar metadata type; 0 for STRING, ARRAY and unknown ids. */
size_t m40i_gguf_scalar_size(enum m40_gguf_type t);
/* True when s[0..len) is valid UTF-8 with no control characters (names and keys). */
bool m40i_gguf_name_ok(const char *s, uint64_t len);

#endif
