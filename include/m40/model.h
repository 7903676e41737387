/* m40/model.h: a model file opened and described (architecture, shapes, weights). */
#ifndef M40_MODEL_H
#define M40_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <m40/error.h>
#include <m40/gguf.h>
#include <m40/tokenizer.h>

#ifdef __cplusplus
extern "C" {
#endif

enum m40_arch {
	M40_ARCH_LLAMA,
	M40_ARCH_QWEN2,
	M40_ARCH_QWEN3
};

enum m40_rope_scaling {
	M40_ROPE_SCALING_NONE,
	M40_ROPE_SCALING_LINEAR,
	M40_ROPE_SCALING_YARN,
	M40_ROPE_SCALING_LLAMA3
};

typedef struct m40_hparams {
	enum m40_arch arch;
	char arch_name[32];
	int32_t n_vocab;
	int32_t n_ctx_train;
	int32_t n_embd;
	int32_t n_layer;
	int32_t n_head;
	int32_t n_head_kv;
	int32_t head_dim;     /* n_embd / n_head unless the file says otherwise */
	int32_t n_ff;
	float norm_eps;       /* RMSNorm epsilon */
	float rope_base;      /* default 10000 */
	bool rope_neox;       /* rotate halves (qwen) instead of pairs (llama) */
	int32_t rope_dim;     /* dimensions rotated per head (usually head_dim) */
	enum m40_rope_scaling rope_scaling;
	float rope_scale;           /* linear factor (1 = none) */
	float rope_llama3_low;      /* Llama 3.1 low_freq_factor */
	float rope_llama3_high;     /* Llama 3.1 high_freq_factor */
	int32_t rope_orig_ctx;      /* original context of the scaling */
	bool tied_embeddings; /* no output.weight: the embedding is reused */
	bool qkv_bias;        /* qwen2 */
	bool qk_norm;         /* qwen3 */
	uint64_t n_params;
} m40_hparams;

typedef struct m40_model m40_model;

/* Open, validate and describe; refuses unknown architectures and missing
 * or mis-shaped tensors with a message naming them. */
m40_status m40_model_open(const char *path, m40_model **out, m40_error *err);
/* Describe an already open GGUF (the model does not own g). */
m40_status m40_model_from_gguf(const m40_gguf *g, m40_model **out, m40_error *err);
void m40_model_close(m40_model *m);

const m40_hparams *m40_model_hparams(const m40_model *m);
const m40_gguf *m40_model_gguf(const m40_model *m);
/* The vocabulary, loaded on first use (NULL with err set on failure). */
const m40_vocab *m40_model_vocab(m40_model *m, m40_error *err);
/* Sum of the bytes of every tensor the engine uploads. */
uint64_t m40_model_weight_bytes(const m40_model *m);

/* Memory a run needs with an FP16 KV cache for n_ctx positions of n_seq
 * sequences and batches of n_batch tokens.  gpu_buffers is what the CUDA
 * backend keeps beside them (weight tiles for prompt batches, cuBLAS's
 * workspace, attention partials); total counts it, a CPU run does not
 * need it. */
typedef struct m40_mem_estimate {
	uint64_t weights;
	uint64_t kv_cache;
	uint64_t scratch;
	uint64_t gpu_buffers;
	uint64_t total;
} m40_mem_estimate;
/* The built-in demo model: a small GGUF with random weights (deterministic)
 * and a byte-level SentencePiece vocabulary, made in memory by the GGUF
 * writer so that every program works with no model configured.  *buf is
 * malloc'ed; open it with m40_gguf_open_memory. */
m40_status m40_model_demo(void **buf, size_t *size, m40_error *err);

void m40_model_estimate_memory(const m40_model *m, int n_ctx, int n_seq, int n_batch,
	m40_mem_estimate *est);

#ifdef __cplusplus
}
#endif
#endif
