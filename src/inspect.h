/* inspect.h: what the parts of m40-inspect share (options, formatting, the outputs). */
#ifndef M40_INSPECT_H
#define M40_INSPECT_H

#include "cli.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#ifndef ENABLE_NLS
#define ngettext(one, many, n) ((n) == 1 ? (one) : (many))
#endif
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* What fits on a Tesla M40 24 GB: 24 GiB less what the CUDA context and
 * cuBLAS keep for themselves (about 512 MiB on the M40). */
#define M40_CARD_BYTES (UINT64_C(24) << 30)
#define M40_CARD_RESERVED (UINT64_C(512) << 20)
/* JSON arrays longer than this are summarized unless --full. */
#define JSON_ARRAY_MAX 64

enum {
	OPT_HELP = CHAR_MAX + 1,
	OPT_VERSION,
	OPT_FULL,
	OPT_VRAM,
	OPT_DEVICES
};

struct options {
	const char *model;
	const char *kv;
	bool tensors, json, full, vram, devices;
	int n_ctx, n_batch, n_seq;
};

/* Tensors per type, in type order. */
struct type_mix {
	uint64_t count[M40_TYPE_COUNT + 1]; /* the last slot: unknown ids */
	uint64_t bytes[M40_TYPE_COUNT + 1];
};

struct vram {
	int n_ctx, n_batch, n_seq;
	m40_mem_estimate est;
	uint64_t budget;
	bool fits;
	int max_ctx; /* the longest context that fits, 0 if none */
};

/* The tokenizer.ggml.*_token_id keys and their short names. */
struct special_key {
	const char *key;
	const char *what;
};
extern const struct special_key special_keys[];
extern const size_t n_special_keys;

/* inspect-text.c: the human summary, the tensor table, --kv values */
uint64_t count_params(const m40_gguf *g);
const char *fmt_bytes(uint64_t n, char *buf, size_t size);
const char *fmt_real(double x, bool single, char *buf, size_t size);
void print_summary(const char *path, const m40_gguf *g, const m40_model *m, const char *why);
void print_tensors(const m40_gguf *g);
void print_value(const m40_gguf_value *v);
const m40_gguf_value *token_list(const m40_gguf *g);
const char *type_label(int k);
void type_mix(const m40_gguf *g, struct type_mix *mix);

/* inspect-json.c: --json */
json_t *json_hparams(const m40_model *m);
void json_print(json_t *root);
json_t *json_tensors(const m40_gguf *g);
json_t *json_tokenizer(const m40_gguf *g);
json_t *jstr(const char *s, size_t len);
json_t *jvalue(const m40_gguf_value *v, bool full);

/* inspect-vram.c: --vram */
json_t *json_vram(const struct vram *r);
void print_vram(const struct vram *r);
void vram_estimate(const m40_model *m, const struct options *o, struct vram *r);

#endif
