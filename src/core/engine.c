/*
 * engine.c: a model on a backend: weights, KV cache, and the transformer
 * step that turns a batch of tokens into logits.
 *
 * The engine owns the model's arithmetic order; the backend (backend-ops.h)
 * owns the arithmetic.  Per decode, everything that varies (tokens,
 * positions, sequences, the rows that want logits) is uploaded into backend
 * buffers first, then run_step issues the same ops for the same n, so the
 * CUDA backend can capture the step once per n and replay it.
 *
 * Logits: the step normalizes and projects only n_out = min(n, n_out_max)
 * gathered rows, n_out_max = min(n_batch, n_seq), a function of n alone
 * (the graph rule); a batch that asks for more logits than that is split
 * into steps of n_out_max tokens.
 */
#include "m40-int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend-ops.h"
#include "model-int.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

/* One layer's weights in backend memory. */
struct layer {
	m40_weight wq, wk, wv, wo, w_gate, w_up, w_down;
	const float *attn_norm, *ffn_norm;
	const float *bq, *bk, *bv;       /* qwen2, else NULL */
	const float *q_norm, *k_norm;    /* qwen3, else NULL */
	void *k_cache, *v_cache;         /* F16 [n_seq][n_ctx][kv_dim] */
};

/* Activations for n_batch tokens, and the step's inputs (backend memory). */
struct scratch {
	float *x, *xb;          /* [n_batch][n_embd] residual stream, normed/projected */
	float *q, *att;         /* [n_batch][q_dim] queries, attention output */
	float *k, *v;           /* [n_batch][kv_dim] */
	float *gate, *up;       /* [n_batch][n_ff] */
	float *logits;          /* [n_out_max][n_vocab] */
	int32_t *tokens, *pos, *seq, *rows; /* [n_batch] */
};

struct m40_engine {
	m40_model *model;
	const m40_hparams *hp;
	const m40_backend_ops *ops;
	m40_backend *be;
	bool host_weights;      /* the backend computes in host memory: use the mapping */

	int n_ctx, n_seq, n_batch, n_out_max;
	int q_dim, kv_dim;
	m40_kv_layout kv;
	m40_rope rope;
	float attn_scale;

	m40_weight tok_embd, output;
	const float *output_norm;
	struct layer *layers;
	struct scratch s;

	void **allocs;          /* every backend allocation, for free */
	size_t n_allocs, cap_allocs;

	int *seq_len;           /* positions filled per sequence */
	int *seq_len_saved;     /* seq_len before the decode in progress */
	int32_t *host_rows;     /* [n_batch] staging for rows */

	/* The step being run. */
	int step_n, step_n_out;

	float *logits;          /* [n_logits][n_vocab] of the last decode */
	size_t logits_cap;      /* rows */
	int n_logits;
};

/* ---- backend memory ------------------------------------------------------- */

static m40_status
balloc(m40_engine *e, size_t bytes, void **ptr, m40_error *err)
{
	m40_status s;

	if (e->n_allocs == e->cap_allocs) {
		size_t cap = e->cap_allocs ? 2 * e->cap_allocs : 64;
		void **a = realloc(e->allocs, cap * sizeof *a);
		if (a == NULL)
			return m40_error_set(err, M40_E_NOMEM, _("out of memory"));
		e->allocs = a;
		e->cap_allocs = cap;
	}
	if ((s = e->ops->alloc(e->be, bytes, ptr, err)) != M40_OK)
		return s;
	e->allocs[e->n_allocs++] = *ptr;
	return M40_OK;
}

struct upload_progress {
	m40_engine *e;
	const m40_engine_params *p;
	uint64_t done, total;
};

/* Put a tensor's bytes where the backend computes: the mapping itself for
 * a host backend, else a copy in backend memory. */
static m40_status
place(struct upload_progress *up, const m40_gguf_tensor *t, const void **where, m40_error *err)
{
	m40_engine *e = up->e;
	void *dst;
	m40_status s;

	if (e->host_weights) {
		*where = t->data;
	} else {
		if ((s = balloc(e, t->size, &dst, err)) != M40_OK)
			return s;
		if ((s = e->ops->upload(e->be, dst, t->data, t->size, err)) != M40_OK)
			return s;
		*where = dst;
	}
	up->done += t->size;
	if (up->p != NULL && up->p->progress != NULL)
		up->p->progress(up->p->progress_user, up->done, up->total);
	return M40_OK;
}

static m40_status
place_weight(struct upload_progress *up, const m40_gguf_tensor *t, m40_weight *w, m40_error *err)
{
	w->type = t->type;
	w->cols = t->ne[0];
	w->rows = t->ne[1];
	w->row_bytes = m40_type_row_bytes(t->type, t->ne[0]);
	return place(up, t, &w->data, err);
}

/* A 1-D F32 tensor (norm, bias, frequency factors), or NULL if absent. */
static m40_status
place_vector(struct upload_progress *up, const m40_gguf_tensor *t, const float **v, m40_error *err)
{
	const void *where = NULL;
	m40_status s;

	*v = NULL;
	if (t == NULL)
		return M40_OK;
	if (t->type != M40_TYPE_F32)
		return m40_error_set(err, M40_E_UNSUPPORTED, _("tensor '%s' is %s, expected f32"), t->name,
			m40_type_name(t->type));
	if ((s = place(up, t, &where, err)) != M40_OK)
		return s;
	*v = where;
	return M40_OK;
}

static uint64_t
tensor_bytes(const m40_gguf_tensor *t)
{
	return t != NULL ? t->size : 0;
}

/* ---- set-up ------------------------------------------------------------------ */

/*
 * Llama 3.1 frequency factors when the file gives the scaling keys but no
 * rope_freqs tensor (Meta's apply_scaling): high frequencies unchanged, low
 * ones divided by the factor, a smooth blend between.
 */
static void
llama3_factors(const m40_hparams *hp, float *f)
{
	const double pi = 3.14159265358979323846;
	double low_wavelen = hp->rope_orig_ctx / hp->rope_llama3_low;
	double high_wavelen = hp->rope_orig_ctx / hp->rope_llama3_high;
	int i;

	for (i = 0; i < hp->rope_dim / 2; i++) {
		double freq = pow(hp->rope_base, -2.0 * i / hp->rope_dim);
		double wavelen = 2 * pi / freq;
		if (wavelen < high_wavelen) {
			f[i] = 1.0f;
		} else if (wavelen > low_wavelen) {
			f[i] = hp->rope_scale;
		} else {
			double smooth = (hp->rope_orig_ctx / wavelen - hp->rope_llama3_low) /
				(hp->rope_llama3_high - hp->rope_llama3_low);
			double scaled = (1 - smooth) * freq / hp->rope_scale + smooth * freq;
			f[i] = (float)(freq / scaled);
		}
	}
}

static m40_status
setup_rope(m40_engine *e, struct upload_progress *up, m40_error *err)
{
	const m40_hparams *hp = e->hp;
	m40_rope *r = &e->rope;
	m40_status s;

	r->n_dims = hp->rope_dim;
	r->neox = hp->rope_neox;
	r->freq_base = hp->rope_base;
	r->freq_scale = 1.0f;
	r->freq_factors = NULL;
	switch (hp->rope_scaling) {
	case M40_ROPE_SCALING_NONE:
		break;
	case M40_ROPE_SCALING_LINEAR:
		r->freq_scale = 1.0f / hp->rope_scale;
		break;
	case M40_ROPE_SCALING_LLAMA3:
		break;
	case M40_ROPE_SCALING_YARN:
	default:
		return m40_error_set(err, M40_E_UNSUPPORTED,
			_("RoPE scaling 'yarn' is not supported (architecture '%s')"), hp->arch_name);
	}
	if (e->model->rope_freqs != NULL)
		return place_vector(up, e->model->rope_freqs, &r->freq_factors, err);
	if (hp->rope_scaling == M40_ROPE_SCALING_LLAMA3 && hp->rope_orig_ctx > 0) {
		size_t bytes = (size_t)(hp->rope_dim / 2) * sizeof(float);
		float *f = malloc(bytes);
		void *dst;
		if (f == NULL)
			return m40_error_set(err, M40_E_NOMEM, _("out of memory"));
		llama3_factors(hp, f);
		s = balloc(e, bytes, &dst, err);
		if (s == M40_OK)
			s = e->ops->upload(e->be, dst, f, bytes, err);
		free(f);
		if (s != M40_OK)
			return s;
		r->freq_factors = dst;
	}
	return M40_OK;
}

static m40_status
upload_weights(m40_engine *e, const m40_engine_params *p, m40_error *err)
{
	const m40_model *m = e->model;
	struct upload_progress up = { e, p, 0, 0 };
	m40_status s;
	int il;

	up.total = tensor_bytes(m->tok_embd) + tensor_bytes(m->output_norm) +
		tensor_bytes(m->rope_freqs);
	if (m->output != m->tok_embd)
		up.total += tensor_bytes(m->output);
	for (il = 0; il < e->hp->n_layer; il++) {
		const struct m40i_layer *l = &m->layers[il];
		const m40_gguf_tensor *all[] = { l->attn_norm, l->wq, l->wk, l->wv, l->wo, l->bq, l->bk,
			l->bv, l->q_norm, l->k_norm, l->ffn_norm, l->w_gate, l->w_up, l->w_down };
		for (size_t i = 0; i < M40_ARRAY_SIZE(all); i++)
			up.total += tensor_bytes(all[i]);
	}

	if ((s = place_weight(&up, m->tok_embd, &e->tok_embd, err)) != M40_OK)
		return s;
	if (m->output == m->tok_embd)
		e->output = e->tok_embd;
	else if ((s = place_weight(&up, m->output, &e->output, err)) != M40_OK)
		return s;
	if ((s = place_vector(&up, m->output_norm, &e->output_norm, err)) != M40_OK)
		return s;
	if ((s = setup_rope(e, &up, err)) != M40_OK)
		return s;
	for (il = 0; il < e->hp->n_layer; il++) {
		const struct m40i_layer *l = &m->layers[il];
		struct layer *L = &e->layers[il];
		if ((s = place_vector(&up, l->attn_norm, &L->attn_norm, err)) != M40_OK
			|| (s = place_weight(&up, l->wq, &L->wq, err)) != M40_OK
			|| (s = place_weight(&up, l->wk, &L->wk, err)) != M40_OK
			|| (s = place_weight(&up, l->wv, &L->wv, err)) != M40_OK
			|| (s = place_weight(&up, l->wo, &L->wo, err)) != M40_OK
			|| (s = place_vector(&up, l->bq, &L->bq, err)) != M40_OK
			|| (s = place_vector(&up, l->bk, &L->bk, err)) != M40_OK
			|| (s = place_vector(&up, l->bv, &L->bv, err)) != M40_OK
			|| (s = place_vector(&up, l->q_norm, &L->q_norm, err)) != M40_OK
			|| (s = place_vector(&up, l->k_norm, &L->k_norm, err)) != M40_OK
			|| (s = place_vector(&up, l->ffn_norm, &L->ffn_norm, err)) != M40_OK
			|| (s = place_weight(&up, l->w_gate, &L->w_gate, err)) != M40_OK
			|| (s = place_weight(&up, l->w_up, &L->w_up, err)) != M40_OK
			|| (s = place_weight(&up, l->w_down, &L->w_down, err)) != M40_OK)
			return s;
	}
	return M40_OK;
}

static m40_status
alloc_buffers(m40_engine *e, m40_error *err)
{
	const m40_hparams *hp = e->hp;
	const size_t nb = (size_t)e->n_batch, f = sizeof(float), i32 = sizeof(int32_t);
	const size_t cache = (size_t)e->n_seq * e->n_ctx * e->kv_dim * sizeof(uint16_t);
	struct scratch *s = &e->s;
	const struct {
		void **ptr;
		size_t bytes;
	} want[] = {
		{ (void **)&s->x, nb * hp->n_embd * f },
		{ (void **)&s->xb, nb * hp->n_embd * f },
		{ (void **)&s->q, nb * e->q_dim * f },
		{ (void **)&s->att, nb * e->q_dim * f },
		{ (void **)&s->k, nb * e->kv_dim * f },
		{ (void **)&s->v, nb * e->kv_dim * f },
		{ (void **)&s->gate, nb * hp->n_ff * f },
		{ (void **)&s->up, nb * hp->n_ff * f },
		{ (void **)&s->logits, (size_t)e->n_out_max * hp->n_vocab * f },
		{ (void **)&s->tokens, nb * i32 },
		{ (void **)&s->pos, nb * i32 },
		{ (void **)&s->seq, nb * i32 },
		{ (void **)&s->rows, nb * i32 },
	};
	m40_status st;
	int il;

	for (size_t i = 0; i < M40_ARRAY_SIZE(want); i++)
		if ((st = balloc(e, want[i].bytes, want[i].ptr, err)) != M40_OK)
			return st;
	for (il = 0; il < hp->n_layer; il++)
		if ((st = balloc(e, cache, &e->layers[il].k_cache, err)) != M40_OK
			|| (st = balloc(e, cache, &e->layers[il].v_cache, err)) != M40_OK)
			return st;
	return M40_OK;
}

/* Refuse, before anything is loaded, a run the device cannot hold. */
static m40_status
check_memory(m40_engine *e, int device, m40_error *err)
{
	m40_mem_estimate est;
	m40_device_info info;
	uint64_t need;
	m40_status s;

	m40_model_estimate_memory(e->model, e->n_ctx, e->n_seq, e->n_batch, &est);
	if ((s = e->ops->device_info(device, &info, err)) != M40_OK)
		return s;
	/* A host backend computes on the mapped file: only cache and scratch are new. */
	need = e->host_weights ? est.kv_cache + est.scratch : est.total;
	if (info.free_mem > 0 && need > info.free_mem)
		return m40_error_set(err, M40_E_DEVICE_OOM,
			_("the run needs %.2f GiB on %s, %.2f GiB free; reduce context (-c) or batch"),
			need / GIB, info.name, info.free_mem / GIB);
	return M40_OK;
}

m40_status
m40_engine_new(m40_model *m, const m40_engine_params *p, m40_engine **out, m40_error *err)
{
	static const m40_engine_params defaults = { 0 };
	const m40_hparams *hp = m40_model_hparams(m);
	m40_engine *e;
	m40_status s;

	*out = NULL;
	if (p == NULL)
		p = &defaults;
	if (hp->rope_scaling == M40_ROPE_SCALING_YARN)
		return m40_error_set(err, M40_E_UNSUPPORTED,
			_("RoPE scaling 'yarn' is not supported (architecture '%s')"), hp->arch_name);
	e = calloc(1, sizeof *e);
	if (e == NULL)
		return m40_error_set(err, M40_E_NOMEM, _("out of memory"));
	e->model = m;
	e->hp = hp;
	e->ops = m40i_backend_find(p->backend);
	if (e->ops == NULL) {
		free(e);
		if (p->backend != NULL && strcmp(p->backend, "cuda") == 0)
			return m40_error_set(err, M40_E_NODEVICE,
				_("the CUDA backend is not built into this library (configure --with-cuda)"));
		return m40_error_set(err, M40_E_INVALID, _("unknown backend '%s' (cpu, cuda or auto)"),
			p->backend);
	}
	e->host_weights = strcmp(e->ops->name, "cpu") == 0;

	e->n_ctx = p->n_ctx > 0 ? p->n_ctx : (hp->n_ctx_train > 0 && hp->n_ctx_train < 4096 ?
		hp->n_ctx_train : 4096);
	e->n_seq = p->n_seq > 0 ? p->n_seq : 1;
	e->n_batch = p->n_batch > 0 ? p->n_batch : 512;
	e->n_out_max = e->n_batch < e->n_seq ? e->n_batch : e->n_seq;
	e->q_dim = hp->n_head * hp->head_dim;
	e->kv_dim = hp->n_head_kv * hp->head_dim;
	e->kv = (m40_kv_layout){ e->n_seq, e->n_ctx, hp->n_head, hp->n_head_kv, hp->head_dim };
	e->attn_scale = (float)(1.0 / sqrt((double)hp->head_dim));
	if (p->n_ctx < 0 || p->n_seq < 0 || p->n_batch < 0) {
		free(e);
		return m40_error_set(err, M40_E_INVALID,
			_("context, sequences and batch must not be negative (%d, %d, %d)"), p->n_ctx,
			p->n_seq, p->n_batch);
	}

	e->layers = calloc((size_t)hp->n_layer, sizeof *e->layers);
	e->seq_len = calloc((size_t)e->n_seq, sizeof *e->seq_len);
	e->seq_len_saved = calloc((size_t)e->n_seq, sizeof *e->seq_len_saved);
	e->host_rows = calloc((size_t)e->n_batch, sizeof *e->host_rows);
	if (e->layers == NULL || e->seq_len == NULL || e->seq_len_saved == NULL || e->host_rows == NULL) {
		m40_engine_free(e);
		return m40_error_set(err, M40_E_NOMEM, _("out of memory"));
	}
	if ((s = check_memory(e, p->device, err)) != M40_OK
		|| (s = e->ops->open(p->device, p->n_threads, &e->be, err)) != M40_OK) {
		m40_engine_free(e);
		return s;
	}
	if ((s = upload_weights(e, p, err)) != M40_OK
		|| (s = alloc_buffers(e, err)) != M40_OK
		|| (s = e->ops->sync(e->be, err)) != M40_OK) {
		m40_engine_free(e);
		return s;
	}
	*out = e;
	return M40_OK;
}

void
m40_engine_free(m40_engine *e)
{
	if (e == NULL)
		return;
	if (e->be != NULL) {
		for (size_t i = 0; i < e->n_allocs; i++)
			e->ops->free(e->be, e->allocs[i]);
		e->ops->close(e->be);
	}
	free(e->allocs);
	free(e->layers);
	free(e->seq_len);
	free(e->seq_len_saved);
	free(e->host_rows);
	free(e->logits);
	free(e);
}

const char *
m40_engine_backend_name(const m40_engine *e)
{
	return e->ops->name;
}

int
m40_engine_n_ctx(const m40_engine *e)
{
	return e->n_ctx;
}

int
m40_engine_n_seq(const m40_engine *e)
{
	return e->n_seq;
}

int
m40_engine_n_batch(const m40_engine *e)
{
	return e->n_batch;
}

/* ---- the step ------------------------------------------------------------------ */

#define TRY(call) do { m40_status st_ = (call); if (st_ != M40_OK) return st_; } while (0)

/* Q, K and V of the normalized x: q rotated in s->q, the rotated k and v
 * stored in the layer's cache. */
static m40_status
qkv_step(m40_engine *e, const struct layer *L, int n)
{
	const m40_backend_ops *o = e->ops;
	m40_backend *be = e->be;
	const m40_hparams *hp = e->hp;
	struct scratch *s = &e->s;

	if (o->matmul_qkv_rope != NULL && L->bq == NULL && L->q_norm == NULL)
		return o->matmul_qkv_rope(be, s->x, L->attn_norm, hp->norm_eps, s->xb, &L->wq, &L->wk, &L->wv,
			s->q, s->k, s->v, &e->kv, &e->rope, L->k_cache, L->v_cache, s->seq, s->pos, n);
	if (o->matmul_qkv != NULL) {
		TRY(o->matmul_qkv(be, s->x, L->attn_norm, hp->norm_eps, s->xb, &L->wq, &L->wk, &L->wv, s->q,
			s->k, s->v, n));
	} else {
		TRY(o->rmsnorm(be, s->x, L->attn_norm, s->xb, n, hp->n_embd, hp->norm_eps));
		TRY(o->matmul(be, &L->wq, s->xb, s->q, n));
		TRY(o->matmul(be, &L->wk, s->xb, s->k, n));
		TRY(o->matmul(be, &L->wv, s->xb, s->v, n));
	}
	if (L->bq != NULL) {
		TRY(o->add_bias(be, s->q, L->bq, n, e->q_dim));
		TRY(o->add_bias(be, s->k, L->bk, n, e->kv_dim));
		TRY(o->add_bias(be, s->v, L->bv, n, e->kv_dim));
	}
	if (L->q_norm != NULL) {
		/* qwen3: every head normalized on its own, in place. */
		TRY(o->rmsnorm(be, s->q, L->q_norm, s->q, n * hp->n_head, hp->head_dim, hp->norm_eps));
		TRY(o->rmsnorm(be, s->k, L->k_norm, s->k, n * hp->n_head_kv, hp->head_dim,
			hp->norm_eps));
	}
	if (o->rope_kv_store != NULL)
		return o->rope_kv_store(be, &e->kv, &e->rope, s->q, s->k, s->v, L->k_cache, L->v_cache, s->seq,
			s->pos, n);
	TRY(o->rope(be, s->q, s->pos, n, hp->n_head, hp->head_dim, &e->rope));
	TRY(o->rope(be, s->k, s->pos, n, hp->n_head_kv, hp->head_dim, &e->rope));
	return o->kv_store(be, &e->kv, L->k_cache, L->v_cache, s->k, s->v, s->seq, s->pos, n);
}

/* One transformer block over the n tokens in x (pre-norm, residual adds). */
static m40_status
layer_step(m40_engine *e, const struct layer *L, int n)
{
	const m40_backend_ops *o = e->ops;
	m40_backend *be = e->be;
	const m40_hparams *hp = e->hp;
	struct scratch *s = &e->s;
	const size_t n_embd = (size_t)n * hp->n_embd, n_ff = (size_t)n * hp->n_ff;

	/* Attention. */
	TRY(qkv_step(e, L, n));
	TRY(o->attention(be, &e->kv, L->k_cache, L->v_cache, s->q, s->seq, s->pos, n, e->attn_scale,
		s->att));
	if (o->matmul_add != NULL) {
		TRY(o->matmul_add(be, &L->wo, s->att, s->x, s->xb, n));
	} else {
		TRY(o->matmul(be, &L->wo, s->att, s->xb, n));
		TRY(o->add(be, s->x, s->xb, n_embd));
	}

	/* Feed-forward (SwiGLU). */
	if (o->matmul_swiglu != NULL) {
		TRY(o->matmul_swiglu(be, s->x, L->ffn_norm, hp->norm_eps, s->xb, &L->w_gate, &L->w_up, s->gate,
			s->up, n));
	} else {
		TRY(o->rmsnorm(be, s->x, L->ffn_norm, s->xb, n, hp->n_embd, hp->norm_eps));
		TRY(o->matmul(be, &L->w_gate, s->xb, s->gate, n));
		TRY(o->matmul(be, &L->w_up, s->xb, s->up, n));
		TRY(o->swiglu(be, s->gate, s->up, s->gate, n_ff));
	}
	if (o->matmul_add != NULL) {
		TRY(o->matmul_add(be, &L->w_down, s->gate, s->x, s->xb, n));
	} else {
		TRY(o->matmul(be, &L->w_down, s->gate, s->xb, n));
		TRY(o->add(be, s->x, s->xb, n_embd));
	}
	return M40_OK;
}

/* The whole step; its ops depend only on step_n (step_n_out follows from it). */
static m40_status
step(void *ctx)
{
	m40_engine *e = ctx;
	const m40_backend_ops *o = e->ops;
	m40_backend *be = e->be;
	const m40_hparams *hp = e->hp;
	struct scratch *s = &e->s;
	int n = e->step_n, n_out = e->step_n_out, il;

	TRY(o->get_rows(be, &e->tok_embd, s->tokens, n, s->x));
	for (il = 0; il < hp->n_layer; il++)
		TRY(layer_step(e, &e->layers[il], n));
	/* Only the rows that want logits go through the head. */
	TRY(o->gather_rows(be, s->x, s->rows, n_out, hp->n_embd, s->xb));
	TRY(o->rmsnorm(be, s->xb, e->output_norm, s->x, n_out, hp->n_embd, hp->norm_eps));
	TRY(o->matmul(be, &e->output, s->x, s->logits, n_out));
	return M40_OK;
}

#undef TRY

/* Tokens [first, first + n) of b as one step; their logits land at
 * e->logits row *n_logits onwards. */
static m40_status
decode_part(m40_engine *e, const m40_batch *b, int first, int n, m40_error *err)
{
	const size_t i32 = sizeof(int32_t);
	const int n_vocab = e->hp->n_vocab;
	int n_out = n < e->n_out_max ? n : e->n_out_max, want = 0, i;
	m40_status s;

	for (i = 0; i < n; i++)
		if (b->logits != NULL && b->logits[first + i])
			e->host_rows[want++] = i;
	/* Pad to n_out rows with the last wanted row (or row 0). */
	for (i = want; i < n_out; i++)
		e->host_rows[i] = want > 0 ? e->host_rows[want - 1] : 0;

	if ((s = e->ops->upload(e->be, e->s.tokens, b->tokens + first, (size_t)n * i32, err)) != M40_OK
		|| (s = e->ops->upload(e->be, e->s.pos, b->pos + first, (size_t)n * i32, err)) != M40_OK
		|| (s = e->ops->upload(e->be, e->s.seq, b->seq + first, (size_t)n * i32, err)) != M40_OK
		|| (s = e->ops->upload(e->be, e->s.rows, e->host_rows, (size_t)n_out * i32, err))
		!= M40_OK)
		return s;
	e->step_n = n;
	e->step_n_out = n_out;
	if ((s = e->ops->run_step(e->be, n, step, e, err)) != M40_OK)
		return s;
	/* download waits for the step and reports its failures, as sync does */
	if (want == 0)
		return e->ops->sync(e->be, err);
	s = e->ops->download(e->be, e->logits + (size_t)e->n_logits * n_vocab, e->s.logits,
		(size_t)want * n_vocab * sizeof(float), err);
	if (s != M40_OK)
		return s;
	e->n_logits += want;
	return M40_OK;
}

/* A failed decode leaves the sequences as they were. */
static void
restore_lengths(m40_engine *e)
{
	memcpy(e->seq_len, e->seq_len_saved, (size_t)e->n_seq * sizeof *e->seq_len);
}

/* Every token, sequence and position in range, and no sequence left with
 * a hole before a position (so attention reads only what was stored).
 * Advances e->seq_len as it goes; the caller restores it on failure. */
static m40_status
check_batch(m40_engine *e, const m40_batch *b, int *n_want, m40_error *err)
{
	int *len = e->seq_len, i;
	m40_status s = M40_OK;

	*n_want = 0;
	for (i = 0; i < b->n && s == M40_OK; i++) {
		int32_t t = b->tokens[i], p = b->pos[i], q = b->seq[i];
		if (t < 0 || t >= e->hp->n_vocab)
			s = m40_error_set(err, M40_E_INVALID,
				_("token %d (batch entry %d) is not in the vocabulary of %d tokens"), (int)t, i,
				(int)e->hp->n_vocab);
		else if (q < 0 || q >= e->n_seq)
			s = m40_error_set(err, M40_E_INVALID,
				_("sequence %d (batch entry %d) is not one of the engine's %d sequences"), (int)q,
				i, e->n_seq);
		else if (p < 0)
			s = m40_error_set(err, M40_E_INVALID, _("negative position %d (batch entry %d)"),
				(int)p, i);
		else if (p >= e->n_ctx)
			s = m40_error_set(err, M40_E_RANGE,
				_("%d tokens do not fit in the context of %d positions (sequence %d)"),
				(int)p + 1, e->n_ctx, (int)q);
		else if (p > len[q])
			s = m40_error_set(err, M40_E_INVALID,
				_("position %d of sequence %d leaves a gap (the sequence holds %d tokens)"),
				(int)p, (int)q, len[q]);
		else {
			if (p + 1 > len[q])
				len[q] = p + 1;
			if (b->logits != NULL && b->logits[i])
				(*n_want)++;
		}
	}
	return s;
}

m40_status
m40_engine_decode(m40_engine *e, const m40_batch *b, m40_error *err)
{
	const int n_vocab = e->hp->n_vocab;
	int n_want = 0, first, n, want, i;
	m40_status s;

	e->n_logits = 0;
	if (b->n <= 0)
		return m40_error_set(err, M40_E_INVALID, _("empty batch"));
	memcpy(e->seq_len_saved, e->seq_len, (size_t)e->n_seq * sizeof *e->seq_len);
	if ((s = check_batch(e, b, &n_want, err)) != M40_OK) {
		restore_lengths(e);
		return s;
	}
	if ((size_t)n_want > e->logits_cap) {
		float *l = realloc(e->logits, (size_t)n_want * n_vocab * sizeof *l);
		if (l == NULL) {
			restore_lengths(e);
			return m40_error_set(err, M40_E_NOMEM, _("out of memory for %d rows of logits"),
				n_want);
		}
		e->logits = l;
		e->logits_cap = (size_t)n_want;
	}
	/* Steps of at most n_batch tokens, and of at most n_out_max tokens
	 * where more than that many want logits. */
	for (first = 0; first < b->n; first += n) {
		n = b->n - first < e->n_batch ? b->n - first : e->n_batch;
		for (want = 0, i = 0; i < n; i++)
			want += b->logits != NULL && b->logits[first + i];
		if (want > (n < e->n_out_max ? n : e->n_out_max))
			n = e->n_out_max;
		if ((s = decode_part(e, b, first, n, err)) != M40_OK) {
			restore_lengths(e);
			e->n_logits = 0;
			return s;
		}
	}
	return M40_OK;
}

const float *
m40_engine_logits(const m40_engine *e, int j)
{
	if (j < 0 || j >= e->n_logits)
		return NULL;
	return e->logits + (size_t)j * e->hp->n_vocab;
}

void
m40_engine_seq_clear(m40_engine *e, int seq)
{
	if (seq >= 0 && seq < e->n_seq)
		e->seq_len[seq] = 0;
}
