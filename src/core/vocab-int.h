/* vocab-int.h: the vocabulary's insides, shared by vocab.c, tokenize-*.c and detokenize.c. */
#ifndef M40_VOCAB_INT_H
#define M40_VOCAB_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <m40/tokenizer.h>

/* Token attributes, as llama.cpp derives them from tokenizer.ggml.token_type
 * (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte) and
 * from the token texts. */
enum {
	M40I_ATTR_UNKNOWN = 1u << 0,
	M40I_ATTR_UNUSED = 1u << 1,
	M40I_ATTR_NORMAL = 1u << 2,
	M40I_ATTR_CONTROL = 1u << 3,
	M40I_ATTR_USER = 1u << 4,
	M40I_ATTR_BYTE = 1u << 5,
	M40I_ATTR_LSTRIP = 1u << 7,
	M40I_ATTR_RSTRIP = 1u << 8
};

/* Pre-tokenizer splits (tokenizer.ggml.pre), one per distinct regex set. */
enum m40i_pre {
	M40I_PRE_DEFAULT,
	M40I_PRE_LLAMA3,
	M40I_PRE_QWEN2,
	M40I_PRE_GPT2,
	M40I_PRE_SMOLLM,
	M40I_PRE_FALCON,
	M40I_PRE_DEEPSEEK_LLM,
	M40I_PRE_DEEPSEEK_CODER
};

/*
 * Strings (token texts, and for BPE the merge sides that are not tokens)
 * live in one arena; id i < n_tokens is token i.  A string hash table maps
 * bytes to the id that llama.cpp's token_to_id would give (the last token of
 * a duplicated text wins).
 */
struct m40i_strtab {
	char *arena;       /* NUL after each string */
	size_t arena_len, arena_cap;
	uint32_t *off;     /* n + 1 offsets */
	uint32_t n, cap;
	struct m40i_slot {
		int32_t id;    /* -1: empty */
		uint32_t hash;
	} *slot;           /* open addressing */
	uint32_t mask;
};

/* A merge: (left id, right id) -> rank.  The merged string's id is looked
 * up when the merge is made (tokenize-bpe.c), which keeps loading fast. */
struct m40i_merge {
	uint64_t key;      /* left << 32 | right */
	int32_t rank;      /* -1: empty slot */
};

struct m40_vocab {
	enum m40_vocab_kind kind;
	enum m40i_pre pre;
	char pre_name[64];
	int32_t n_tokens;

	struct m40i_strtab str;
	float *score;
	uint16_t *attr;

	/* Decoded text of each token (special tokens keep their text). */
	char *piece;
	uint32_t *piece_off; /* n_tokens + 1 */

	int32_t bos, eos, eot, eom, unk, pad;
	bool add_bos, add_eos, add_space_prefix, ignore_merges;
	uint8_t *eog;        /* bitmap */

	/* Control, user-defined and unknown tokens, longest text first. */
	int32_t *special;
	size_t n_special;

	/* SPM: id of <0xNN> (or of the one-byte token), -1 if none.
	 * BPE: string id of the byte's GPT-2 character, -1 if none. */
	int32_t byte_id[256];
	/* BPE: ids of one-byte strings (the fallback of unmergeable symbols). */
	int32_t raw_byte_id[256];

	struct m40i_merge *merge;
	uint32_t merge_mask;

	/* SPM: whether a token holds U+2581 right after this ASCII byte; where
	 * none does, the text can be cut before the U+2581 (see tokenize-spm.c). */
	bool spm_glue[128];
};

/* vocab.c */
uint32_t m40i_hash(const void *p, size_t n);
int32_t m40i_str_find(const struct m40i_strtab *t, const char *s, size_t n);
static inline const char *
m40i_str_at(const struct m40i_strtab *t, int32_t id, size_t *len)
{
	*len = t->off[id + 1] - t->off[id] - 1;
	return t->arena + t->off[id];
}
int32_t m40i_merge_find(const struct m40_vocab *v, int32_t left, int32_t right);

/* A growing array of ids. */
struct m40i_ids {
	int32_t *v;
	size_t n, cap;
	bool oom;
};
bool m40i_ids_grow(struct m40i_ids *o, size_t need);
static inline void
m40i_ids_push(struct m40i_ids *o, int32_t id)
{
	if (o->n < o->cap || m40i_ids_grow(o, o->n + 1))
		o->v[o->n++] = id;
}

/* tokenize-pre.c: split text into words (codepoint counts). */
struct m40i_words {
	uint32_t *cpt;     /* decoded text */
	uint16_t *fl;      /* class flags */
	uint32_t *len, *tmp; /* word lengths in codepoints */
	size_t n_cpt, n_words, cap;
};
bool m40i_pretokenize(enum m40i_pre pre, const char *text, size_t len, struct m40i_words *w);
void m40i_words_free(struct m40i_words *w);

/* tokenize-spm.c, tokenize-bpe.c: one raw-text fragment each. */
struct m40i_spm;
struct m40i_spm *m40i_spm_new(void);
void m40i_spm_free(struct m40i_spm *s);
bool m40i_spm_tokenize(const struct m40_vocab *v, struct m40i_spm *s, const char *text, size_t len,
	bool add_space, struct m40i_ids *out);
struct m40i_bpe;
struct m40i_bpe *m40i_bpe_new(void);
void m40i_bpe_free(struct m40i_bpe *b);
bool m40i_bpe_tokenize(const struct m40_vocab *v, struct m40i_bpe *b, const char *text, size_t len,
	struct m40i_ids *out);

#endif
