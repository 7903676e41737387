/* m40/tokenizer.h: vocabularies from GGUF metadata, text to token ids and back. */
#ifndef M40_TOKENIZER_H
#define M40_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <m40/error.h>
#include <m40/gguf.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct m40_vocab m40_vocab;

enum m40_vocab_kind {
	M40_VOCAB_SPM,  /* tokenizer.ggml.model = "llama" */
	M40_VOCAB_BPE   /* tokenizer.ggml.model = "gpt2" */
};

/* Flags for m40_tokenize. */
#define M40_TOK_ADD_BOS       0x1u /* prepend BOS if the vocabulary says so */
#define M40_TOK_PARSE_SPECIAL 0x2u /* match control/user-defined tokens in the text */
#define M40_TOK_ADD_EOS       0x4u /* append EOS if the vocabulary says so */

/* Build a vocabulary from a GGUF's tokenizer.* keys.  The vocabulary copies
 * what it needs: the GGUF may be closed afterwards.  Warnings (an unknown
 * pre-tokenizer, say) are written to warn (if not NULL, M40_ERROR_MSG_SIZE
 * bytes), empty when there are none.  A loaded vocabulary is never changed:
 * threads may tokenize with one vocabulary at the same time. */
m40_status m40_vocab_load(const m40_gguf *g, m40_vocab **out, char *warn, m40_error *err);
void m40_vocab_free(m40_vocab *v);

enum m40_vocab_kind m40_vocab_kind(const m40_vocab *v);
/* "llama-bpe", "qwen2", ... or "" for SPM. */
const char *m40_vocab_pre(const m40_vocab *v);
int32_t m40_vocab_size(const m40_vocab *v);
/* Special ids; -1 when the vocabulary has none. */
int32_t m40_vocab_bos(const m40_vocab *v);
int32_t m40_vocab_eos(const m40_vocab *v);
int32_t m40_vocab_eot(const m40_vocab *v);
int32_t m40_vocab_unk(const m40_vocab *v);
int32_t m40_vocab_pad(const m40_vocab *v);
bool m40_vocab_add_bos(const m40_vocab *v);
bool m40_vocab_add_eos(const m40_vocab *v);
/* True for ids that end a generation (EOS, EOT and the like). */
bool m40_vocab_is_eog(const m40_vocab *v, int32_t id);
/* The stored piece (not decoded), NUL-terminated; NULL for a bad id. */
const char *m40_vocab_piece(const m40_vocab *v, int32_t id);
/* The decoded text of one token, as a stream prints it (spaces kept, byte
 * tokens as their byte, control tokens as their text): *len bytes, not
 * NUL-terminated, owned by the vocabulary; NULL for a bad id. */
const char *m40_vocab_text(const m40_vocab *v, int32_t id, size_t *len);

/* Tokenize len bytes of text (any bytes, invalid UTF-8 included).
 * *ids is malloc'ed and owned by the caller. */
m40_status m40_tokenize(const m40_vocab *v, const char *text, size_t len, unsigned flags,
	int32_t **ids, size_t *n_ids, m40_error *err);

/* Decode ids to text (malloc'ed, NUL-terminated, *len without the NUL).
 * Control tokens (BOS, EOS...) produce no text unless special is true. */
m40_status m40_detokenize(const m40_vocab *v, const int32_t *ids, size_t n_ids, bool special,
	char **text, size_t *len, m40_error *err);

/* Streaming decoder: feed ids one at a time, get back only whole UTF-8
 * characters; bytes of an unfinished character are held until complete. */
typedef struct m40_decoder m40_decoder;
m40_decoder *m40_decoder_new(const m40_vocab *v, bool special);
void m40_decoder_free(m40_decoder *d);
/* Append the text that id completes to out (at most cap bytes, which must
 * be at least 256); returns the bytes written.  Text that does not fit is
 * held and comes with the next call.  Bytes that cannot be UTF-8 come out
 * as U+FFFD, so the output is always valid UTF-8. */
size_t m40_decoder_push(m40_decoder *d, int32_t id, char *out, size_t cap);
/* Whatever is still held (an incomplete character) as U+FFFD per byte run;
 * call until it returns 0 when much text may be held. */
size_t m40_decoder_flush(m40_decoder *d, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
