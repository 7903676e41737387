/*
 * backend-ops.h: the interface between the engine and a compute backend.
 *
 * The engine (engine.c) owns the model's step: it calls these ops in order
 * on buffers the backend allocated.  The CPU backend (backend-cpu.c) runs
 * each op at once; the CUDA backend (cuda/) enqueues it on its stream, so
 * pointers here are device pointers there and results are only visible
 * after download or sync.  Both must compute the same function.
 *
 * Graph rule: inside run_step, an op's arguments may depend only on n (the
 * batch size) and on the model; everything that changes from step to step
 * (tokens, positions, sequences, the rows that want logits) lives in
 * backend buffers uploaded before run_step.  That lets the CUDA backend
 * capture one step per n as a graph and replay it.
 *
 * This header is C and is included by .cu files: no C99-only syntax.
 */
#ifndef M40_BACKEND_OPS_H
#define M40_BACKEND_OPS_H

#include <stddef.h>
#include <stdint.h>

#include <m40/error.h>
#include <m40/types.h>
#include <m40/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A weight matrix exactly as stored in GGUF: rows of cols elements, each
 * row row_bytes of blocks of type. */
typedef struct m40_weight {
	const void *data; /* backend memory */
	int type;         /* enum m40_type */
	int64_t rows;     /* output features (GGUF ne[1]) */
	int64_t cols;     /* input features (GGUF ne[0]) */
	size_t row_bytes;
} m40_weight;

/* RoPE parameters for one model. */
typedef struct m40_rope {
	int n_dims;       /* rotated dims per head (<= head_dim) */
	int neox;         /* 1: pair i with i + n_dims/2; 0: pair 2i with 2i+1 */
	float freq_base;
	float freq_scale; /* 1/linear factor */
	/* Per dimension-pair divisors of theta for Llama 3.1 scaling
	 * (n_dims/2 values, backend memory) or NULL. */
	const float *freq_factors;
} m40_rope;

/* Layout of one layer's KV cache: F16, [n_seq][n_ctx][kv_dim] for K and V
 * alike, kv_dim = n_head_kv * head_dim. */
typedef struct m40_kv_layout {
	int n_seq;
	int n_ctx;
	int n_head;
	int n_head_kv;
	int head_dim;
} m40_kv_layout;

typedef struct m40_backend m40_backend;

typedef struct m40_backend_ops {
	const char *name;

	/* Discovery (no instance needed). */
	m40_status (*device_count)(int *count, m40_error *err);
	m40_status (*device_info)(int device, m40_device_info *info, m40_error *err);

	/* Instance lifetime: *out is an opaque backend object. */
	m40_status (*open)(int device, int n_threads, m40_backend **out, m40_error *err);
	void (*close)(m40_backend *be);

	/* Memory.  alloc returns M40_E_DEVICE_OOM with free/needed bytes in
	 * the message when the device is full. */
	m40_status (*alloc)(m40_backend *be, size_t bytes, void **ptr, m40_error *err);
	void (*free)(m40_backend *be, void *ptr);
	m40_status (*upload)(m40_backend *be, void *dst, const void *src, size_t bytes, m40_error *err);
	/* download is ordered after all queued work and waits for it: it
	 * reports a failure since the last sync as sync does. */
	m40_status (*download)(m40_backend *be, void *dst, const void *src, size_t bytes, m40_error *err);
	/* Wait for all queued work; reports the first failure since the last sync. */
	m40_status (*sync)(m40_backend *be, m40_error *err);
	/* Run step(ctx), which issues the ops of one batch of n tokens
	 * (the CUDA backend captures it once per n and replays the graph). */
	m40_status (*run_step)(m40_backend *be, int n, m40_status (*step)(void *ctx), void *ctx,
		m40_error *err);

	/* Compute.  x and y are FP32 row-major [n][...].  Errors from the
	 * device are sticky and reported by sync. */

	/* out[i][:] = row ids[i] of w, dequantized (embedding lookup). */
	m40_status (*get_rows)(m40_backend *be, const m40_weight *w, const int32_t *ids, int n,
		float *out);
	/* y[i][r] = sum_c w[r][c] * x[i][c] for i < n. */
	m40_status (*matmul)(m40_backend *be, const m40_weight *w, const float *x, float *y, int n);
	/* y[i] = x[i] / rms(x[i]) * g (g has dim floats) for n rows of dim;
	 * y may be x (the engine normalizes qwen3's Q and K heads in place). */
	m40_status (*rmsnorm)(m40_backend *be, const float *x, const float *g, float *y, int n,
		int dim, float eps);
	/* y[i] += x[i] for n floats. */
	m40_status (*add)(m40_backend *be, float *y, const float *x, size_t n);
	/* y[i][:] += bias[:] for n rows of dim. */
	m40_status (*add_bias)(m40_backend *be, float *y, const float *bias, int n, int dim);
	/* out = silu(gate) * up for n floats; out may be gate. */
	m40_status (*swiglu)(m40_backend *be, const float *gate, const float *up, float *out, size_t n);
	/* Rotate n rows of n_head heads of head_dim in place, row i at pos[i]. */
	m40_status (*rope)(m40_backend *be, float *x, const int32_t *pos, int n, int n_head,
		int head_dim, const m40_rope *rope);
	/* Store k and v ([n][kv_dim] FP32) into one layer's cache at (seq[i], pos[i]). */
	m40_status (*kv_store)(m40_backend *be, const m40_kv_layout *kv, void *k_cache, void *v_cache,
		const float *k, const float *v, const int32_t *seq, const int32_t *pos, int n);
	/* out[i] = softmax(q[i] . K[seq[i]][0..pos[i]] * scale) V for every head
	 * (GQA: head h reads KV head h / (n_head / n_head_kv)); q and out are
	 * [n][n_head * head_dim]. */
	m40_status (*attention)(m40_backend *be, const m40_kv_layout *kv, const void *k_cache,
		const void *v_cache, const float *q, const int32_t *seq, const int32_t *pos, int n,
		float scale, float *out);
	/* y[j][:] = x[rows[j]][:] for j < n_out (pick the rows that want logits).
	 * The engine passes n_out = min(n, n_batch, n_seq), a function of n (the
	 * graph rule), padding rows[] by repeating its last wanted row. */
	m40_status (*gather_rows)(m40_backend *be, const float *x, const int32_t *rows, int n_out,
		int dim, float *y);

	/* Optional fused ops: a backend may leave them NULL, and the engine
	 * then issues the separate ops above (same results up to rounding). */
	/* y += w x; tmp ([n][w->rows]) is scratch the op may use. */
	m40_status (*matmul_add)(m40_backend *be, const m40_weight *w, const float *x, float *y, float *tmp,
		int n);
	/* With xn = rmsnorm(x, g, eps) ([n][cols]; scratch the op may fill or
	 * leave alone): q = wq xn, k = wk xn, v = wv xn.  The norm comes with
	 * the products so that a backend can fold it into them. */
	m40_status (*matmul_qkv)(m40_backend *be, const float *x, const float *g, float eps, float *xn,
		const m40_weight *wq, const m40_weight *wk, const m40_weight *wv, float *q, float *k, float *v,
		int n);
	/* With xn as above: gate = silu(w_gate xn) * (w_up xn); up
	 * ([n][w_up->rows]) is scratch. */
	m40_status (*matmul_swiglu)(m40_backend *be, const float *x, const float *g, float eps, float *xn,
		const m40_weight *w_gate, const m40_weight *w_up, float *gate, float *up, int n);
	/* rope on q (kv->n_head heads) and k (kv->n_head_kv), then kv_store of
	 * the rotated k and v; k itself may be left unrotated. */
	m40_status (*rope_kv_store)(m40_backend *be, const m40_kv_layout *kv, const m40_rope *rope, float *q,
		const float *k, const float *v, void *k_cache, void *v_cache, const int32_t *seq,
		const int32_t *pos, int n);
	/* matmul_qkv, then rope_kv_store of its q, k and v: q ends rotated in
	 * place, k and v (scratch here) end in the caches.  The engine uses it
	 * where nothing comes between the two (no biases, no Q/K norms). */
	m40_status (*matmul_qkv_rope)(m40_backend *be, const float *x, const float *g, float eps, float *xn,
		const m40_weight *wq, const m40_weight *wk, const m40_weight *wv, float *q, float *k, float *v,
		const m40_kv_layout *kv, const m40_rope *rope, void *k_cache, void *v_cache, const int32_t *seq,
		const int32_t *pos, int n);
} m40_backend_ops;

/* The backends compiled in (backend.c); NULL if absent. */
const m40_backend_ops *m40i_backend_cpu(void);
const m40_backend_ops *m40i_backend_cuda(void);
const m40_backend_ops *m40i_backend_find(const char *name);

#ifdef __cplusplus
}
#endif
#endif
