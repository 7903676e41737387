/* model-int.h: the model's weights as the engine sees them (private to libm40core). */
#ifndef M40_MODEL_INT_H
#define M40_MODEL_INT_H

#include "m40-int.h"

/*
 * One transformer block's tensors, straight from the GGUF table (the data
 * pointers are into the mapping).  Shapes are GGUF's: ne[0] = columns
 * (input features), ne[1] = rows (output features).  q_dim = n_head *
 * head_dim, kv_dim = n_head_kv * head_dim.  Optional tensors are NULL when
 * absent.
 */
struct m40i_layer {
	const m40_gguf_tensor *attn_norm; /* [n_embd] */
	const m40_gguf_tensor *wq;        /* [n_embd, q_dim] */
	const m40_gguf_tensor *wk;        /* [n_embd, kv_dim] */
	const m40_gguf_tensor *wv;        /* [n_embd, kv_dim] */
	const m40_gguf_tensor *wo;        /* [q_dim, n_embd] */
	const m40_gguf_tensor *bq;        /* [q_dim]  qwen2 (optional for llama) */
	const m40_gguf_tensor *bk;        /* [kv_dim] likewise */
	const m40_gguf_tensor *bv;        /* [kv_dim] likewise */
	const m40_gguf_tensor *q_norm;    /* [head_dim] qwen3, shared by every head */
	const m40_gguf_tensor *k_norm;    /* [head_dim] qwen3 */
	const m40_gguf_tensor *ffn_norm;  /* [n_embd] */
	const m40_gguf_tensor *w_gate;    /* [n_embd, n_ff] */
	const m40_gguf_tensor *w_up;      /* [n_embd, n_ff] */
	const m40_gguf_tensor *w_down;    /* [n_ff, n_embd] */
};

struct m40_model {
	const m40_gguf *gguf;
	m40_gguf *owned;        /* set when m40_model_open opened the file */
	m40_hparams hp;
	const m40_gguf_tensor *tok_embd;    /* [n_embd, n_vocab] */
	const m40_gguf_tensor *output_norm; /* [n_embd] */
	const m40_gguf_tensor *output;      /* [n_embd, n_vocab]; == tok_embd when tied */
	const m40_gguf_tensor *rope_freqs;  /* [rope_dim / 2] F32, Llama 3.1; or NULL */
	struct m40i_layer *layers;          /* hp.n_layer of them */
	uint64_t weight_bytes;
	m40_vocab *vocab;                   /* loaded on first m40_model_vocab */
	char vocab_warn[M40_ERROR_MSG_SIZE];
};

/* model.c */
/* The vocabulary loader's warning (empty if none) once m40_model_vocab ran. */
const char *m40i_model_vocab_warning(const m40_model *m);

#endif
