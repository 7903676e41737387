/*
 * ref-forward.c: an independent, slow, double-precision forward pass, and
 * the engine checked against it.
 *
 * The reference reads the hyperparameters from the GGUF metadata itself
 * (not through model.c), dequantizes each weight with m40_dequantize_row
 * and does everything else in double: matrix products, RMSNorm, RoPE,
 * causal GQA attention, SwiGLU.  The one rounding it shares with the engine
 * is the F16 KV cache, part of the engine's definition: K and V are rounded
 * to F16 when stored.
 *
 * Part 1 (always): random models written with the GGUF writer (llama with
 * GQA, MHA, qwen2 with QKV bias, qwen3 with Q/K norm and a head size of its
 * own; F32, F16 and Q8_0; tied and untied; normal and NeoX RoPE; linear and
 * Llama 3.1 frequency scaling, from a rope_freqs tensor or from the keys
 * alone), prompts of 1, 7, 33 and 150 tokens, logits at every position:
 * the engine must agree within 1e-4 (relative L2; measured 2e-5 at most).
 * Checked to catch: NeoX/normal RoPE swapped gives 2e-2, Llama 3.1
 * factors left out fails by the 6th position.
 *
 * Part 2 (with $M40_SHARED): llama.cpp's logits explained.  stories260K
 * (F32) "Once upon a time": the reference with llama.cpp's flash-attention
 * rounding emulated (Q rounded to F16 before the dot with K, the weighted
 * sum of V accumulated in an F16 vector) reproduces llama.cpp's logits to
 * 1.4e-7 (limit 1e-5), and the plain reference the engine's within 1e-4
 * (3e-5: a K or V value on an F16 rounding boundary may round differently
 * from FP32 than from double): so the 2.4e-4 between the engine and
 * llama.cpp is that rounding and nothing else.  The synthetic models:
 * with, in addition, every activation rounded to the weight's
 * vec_dot_type before each product (Q8_0 blocks for Q8_0 weights and so
 * on), the reference reproduces llama.cpp's logits to 4e-7 or better on 15 of
 * the 18 models (limit 1e-5; see shared_models for the others), while the
 * engine stays within 1e-4 of the plain reference on all: the 1e-2 between
 * the engine and llama.cpp on quantized models is llama.cpp's activation
 * rounding.
 */
#include <config.h>

#include "engine-common.h"

struct ref_layer {
	double *attn_norm, *wq, *wk, *wv, *wo, *bq, *bk, *bv, *q_norm, *k_norm;
	double *ffn_norm, *w_gate, *w_up, *w_down;
	int tq, tk, tv, to, tg, tu, td;   /* the matrices' types */
};

struct ref_model {
	int n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, rope_dim;
	bool neox;
	double eps, rope_base, rope_scale;
	double *rope_factors;
	double *tok_embd, *output_norm, *output;
	struct ref_layer *layers;
	int t_output;
};

/* ---- reading a model, independently of model.c ---- */

static int64_t
get_int(const m40_gguf *g, const char *arch, const char *key, int64_t def)
{
	char k[128];
	int64_t v;

	snprintf(k, sizeof k, "%s.%s", arch, key);
	return m40_gguf_get_int(g, k, &v) ? v : def;
}

static double
get_float(const m40_gguf *g, const char *arch, const char *key, double def)
{
	char k[128];
	double v;

	snprintf(k, sizeof k, "%s.%s", arch, key);
	return m40_gguf_get_float(g, k, &v) ? v : def;
}

/* A whole tensor as doubles (NULL if absent). */
/* Per-block minimums of the Q4_1 and Q5_1 matrices loaded (their block
 * starts with F16 d then F16 m), for emulating llama.cpp's Q8_1 dot. */
static struct {
	const double *w;
	double *mins;
} mins_of[256];

static const double *
block_mins(const double *w)
{
	for (size_t i = 0; i < sizeof mins_of / sizeof mins_of[0]; i++)
		if (mins_of[i].w == w)
			return mins_of[i].mins;
	return NULL;
}

static void
free_mins(void)
{
	for (size_t i = 0; i < sizeof mins_of / sizeof mins_of[0]; i++) {
		free(mins_of[i].mins);
		mins_of[i].w = NULL;
		mins_of[i].mins = NULL;
	}
}

static double *
tensor(const m40_gguf *g, const char *name)
{
	const m40_gguf_tensor *t = m40_gguf_find_tensor(g, name);
	int64_t rows, r, n, i;
	double *d;
	float *row;
	size_t rb;

	if (t == NULL)
		return NULL;
	rows = t->ne[1] * t->ne[2] * t->ne[3];
	n = t->ne[0];
	rb = m40_type_row_bytes(t->type, n);
	d = malloc((size_t)(rows * n) * sizeof *d);
	row = malloc((size_t)n * sizeof *row);
	for (r = 0; r < rows; r++) {
		m40_dequantize_row(t->type, (const char *)t->data + (size_t)r * rb, row, n);
		for (i = 0; i < n; i++)
			d[r * n + i] = row[i];
	}
	free(row);
	if (t->type == M40_TYPE_Q4_1 || t->type == M40_TYPE_Q5_1) {
		size_t bb = m40_type_block_bytes(t->type), k;
		int64_t nb = n / 32;
		double *mins = malloc((size_t)(rows * nb) * sizeof *mins);
		for (r = 0; r < rows; r++)
			for (i = 0; i < nb; i++) {
				const unsigned char *blk = (const unsigned char *)t->data + (size_t)r * rb + i * bb;
				mins[r * nb + i] = m40_fp16_to_fp32((uint16_t)(blk[2] | blk[3] << 8));
			}
		for (k = 0; k < sizeof mins_of / sizeof mins_of[0] && mins_of[k].w != NULL; k++)
			;
		mins_of[k].w = d;
		mins_of[k].mins = mins;
	}
	return d;
}

static double *
layer_tensor(const m40_gguf *g, int il, const char *suffix)
{
	char name[128];

	snprintf(name, sizeof name, "blk.%d.%s", il, suffix);
	return tensor(g, name);
}

static int
type_of(const m40_gguf *g, const char *name)
{
	return m40_gguf_find_tensor(g, name)->type;
}

static int
layer_type(const m40_gguf *g, int il, const char *suffix)
{
	char name[128];

	snprintf(name, sizeof name, "blk.%d.%s", il, suffix);
	return type_of(g, name);
}

static void
ref_load(const m40_gguf *g, struct ref_model *m)
{
	const char *arch = m40_gguf_get_str(g, "general.architecture");
	const char *scaling;
	char key[128];
	int il;

	memset(m, 0, sizeof *m);
	m->n_embd = (int)get_int(g, arch, "embedding_length", 0);
	m->n_layer = (int)get_int(g, arch, "block_count", 0);
	m->n_head = (int)get_int(g, arch, "attention.head_count", 0);
	m->n_head_kv = (int)get_int(g, arch, "attention.head_count_kv", m->n_head);
	m->head_dim = (int)get_int(g, arch, "attention.key_length", m->n_embd / m->n_head);
	m->n_ff = (int)get_int(g, arch, "feed_forward_length", 0);
	m->rope_dim = (int)get_int(g, arch, "rope.dimension_count", m->head_dim);
	m->eps = get_float(g, arch, "attention.layer_norm_rms_epsilon", 1e-5);
	m->rope_base = get_float(g, arch, "rope.freq_base", 10000.0);
	m->neox = strcmp(arch, "llama") != 0;
	snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
	scaling = m40_gguf_get_str(g, key);
	m->rope_scale = scaling != NULL && strcmp(scaling, "linear") == 0 ?
		get_float(g, arch, "rope.scaling.factor", 1.0) : 1.0;
	m->tok_embd = tensor(g, "token_embd.weight");
	m->n_vocab = (int)m40_gguf_find_tensor(g, "token_embd.weight")->ne[1];
	m->output_norm = tensor(g, "output_norm.weight");
	m->output = tensor(g, "output.weight");
	if (m->output == NULL)
		m->output = m->tok_embd;
	m->t_output = type_of(g, m40_gguf_find_tensor(g, "output.weight") ? "output.weight" :
		"token_embd.weight");
	m->rope_factors = tensor(g, "rope_freqs.weight");
	if (m->rope_factors == NULL && scaling != NULL && strcmp(scaling, "llama3") == 0) {
		/* Meta's apply_scaling: keep short wavelengths, divide long ones
		 * by the factor, interpolate between. */
		double factor = get_float(g, arch, "rope.scaling.factor", 8);
		double lo = get_float(g, arch, "rope.scaling.low_freq_factor", 1);
		double hi = get_float(g, arch, "rope.scaling.high_freq_factor", 4);
		double orig = (double)get_int(g, arch, "rope.scaling.original_context_length", 8192);
		m->rope_factors = malloc((size_t)(m->rope_dim / 2) * sizeof *m->rope_factors);
		for (int i = 0; i < m->rope_dim / 2; i++) {
			double wavelen = 2 * M_PI * pow(m->rope_base, 2.0 * i / m->rope_dim);
			double smooth = (orig / wavelen - lo) / (hi - lo);
			m->rope_factors[i] = wavelen < orig / hi ? 1 : wavelen > orig / lo ? factor :
				1 / ((1 - smooth) / factor + smooth);
		}
	}
	m->layers = calloc((size_t)m->n_layer, sizeof *m->layers);
	for (il = 0; il < m->n_layer; il++) {
		struct ref_layer *l = &m->layers[il];
		l->attn_norm = layer_tensor(g, il, "attn_norm.weight");
		l->wq = layer_tensor(g, il, "attn_q.weight");
		l->wk = layer_tensor(g, il, "attn_k.weight");
		l->wv = layer_tensor(g, il, "attn_v.weight");
		l->wo = layer_tensor(g, il, "attn_output.weight");
		l->bq = layer_tensor(g, il, "attn_q.bias");
		l->bk = layer_tensor(g, il, "attn_k.bias");
		l->bv = layer_tensor(g, il, "attn_v.bias");
		l->q_norm = layer_tensor(g, il, "attn_q_norm.weight");
		l->k_norm = layer_tensor(g, il, "attn_k_norm.weight");
		l->ffn_norm = layer_tensor(g, il, "ffn_norm.weight");
		l->w_gate = layer_tensor(g, il, "ffn_gate.weight");
		l->w_up = layer_tensor(g, il, "ffn_up.weight");
		l->w_down = layer_tensor(g, il, "ffn_down.weight");
		l->tq = layer_type(g, il, "attn_q.weight");
		l->tk = layer_type(g, il, "attn_k.weight");
		l->tv = layer_type(g, il, "attn_v.weight");
		l->to = layer_type(g, il, "attn_output.weight");
		l->tg = layer_type(g, il, "ffn_gate.weight");
		l->tu = layer_type(g, il, "ffn_up.weight");
		l->td = layer_type(g, il, "ffn_down.weight");
	}
}

static void
ref_free(struct ref_model *m)
{
	int il;

	for (il = 0; il < m->n_layer; il++) {
		struct ref_layer *l = &m->layers[il];
		double *all[] = { l->attn_norm, l->wq, l->wk, l->wv, l->wo, l->bq, l->bk, l->bv, l->q_norm,
			l->k_norm, l->ffn_norm, l->w_gate, l->w_up, l->w_down };
		for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
			free(all[i]);
	}
	free(m->layers);
	if (m->output != m->tok_embd)
		free(m->output);
	free(m->tok_embd);
	free(m->output_norm);
	free(m->rope_factors);
	free_mins();
}

/* ---- the forward pass in double ---- */

/* y[rows] = W[rows][cols] x[cols] */
static void
matvec(const double *w, const double *x, double *y, int rows, int cols)
{
	for (int r = 0; r < rows; r++) {
		double s = 0;
		for (int c = 0; c < cols; c++)
			s += w[(size_t)r * cols + c] * x[c];
		y[r] = s;
	}
}

static void
rmsnorm(const double *x, const double *g, double *y, int n, double eps)
{
	double ss = 0;

	for (int i = 0; i < n; i++)
		ss += x[i] * x[i];
	ss = 1.0 / sqrt(ss / n + eps);
	for (int i = 0; i < n; i++)
		y[i] = x[i] * ss * g[i];
}

static void
rope(const struct ref_model *m, double *v, int pos)
{
	int half = m->rope_dim / 2;

	for (int p = 0; p < half; p++) {
		double theta = pos / m->rope_scale * pow(m->rope_base, -2.0 * p / m->rope_dim);
		if (m->rope_factors != NULL)
			theta /= m->rope_factors[p];
		int a = m->neox ? p : 2 * p, b = m->neox ? p + half : 2 * p + 1;
		double c = cos(theta), s = sin(theta), va = v[a], vb = v[b];
		v[a] = va * c - vb * s;
		v[b] = va * s + vb * c;
	}
}

static double
to_f16(double x)
{
	return m40_fp16_to_fp32(m40_fp32_to_fp16((float)x));
}

/* llama.cpp's rounding of an activation vector to Q8_0 (or Q8_1) blocks,
 * its vec_dot_type for the legacy formats and IQ4_NL: 32 values share
 * d = max|x| / 127 (kept as F16), each becomes round(x / d) * d. */
static void
round_q8_0(double *x, int n)
{
	for (int b = 0; b < n; b += 32) {
		float amax = 0, d, id;
		for (int i = b; i < b + 32; i++)
			if (fabsf((float)x[i]) > amax)
				amax = fabsf((float)x[i]);
		d = amax / 127.0f;
		id = amax != 0 ? 127.0f / amax : 0;
		d = (float)to_f16(d);
		for (int i = b; i < b + 32; i++)
			x[i] = nearbyintf((float)x[i] * id) * d;
	}
}

/* The same to Q8_K, the K-quants' vec_dot_type: 256 values, the scale
 * from the value of largest magnitude with its sign, kept as FP32. */
static void
round_q8_k(double *x, int n)
{
	for (int b = 0; b < n; b += 256) {
		float amax = 0, max = 0, iscale;
		for (int i = b; i < b + 256; i++)
			if (fabsf((float)x[i]) > amax) {
				amax = fabsf((float)x[i]);
				max = (float)x[i];
			}
		if (amax == 0)
			continue;
		iscale = -127.0f / max;
		for (int i = b; i < b + 256; i++) {
			float q = nearbyintf(iscale * (float)x[i]);
			x[i] = (q > 127 ? 127 : q) * (1 / iscale);
		}
	}
}

/* x as llama.cpp's CPU path rounds it before a product with a weight of
 * type t (the type's vec_dot_type). */
static void
round_activation(double *x, int n, int t)
{
	switch (t) {
	case M40_TYPE_F16:
		for (int i = 0; i < n; i++)
			x[i] = to_f16(x[i]);
		break;
	case M40_TYPE_BF16:
		for (int i = 0; i < n; i++)
			x[i] = m40_bf16_to_fp32(m40_fp32_to_bf16((float)x[i]));
		break;
	case M40_TYPE_Q4_0: case M40_TYPE_Q4_1: case M40_TYPE_Q5_0: case M40_TYPE_Q5_1:
	case M40_TYPE_Q8_0: case M40_TYPE_IQ4_NL:
		round_q8_0(x, n);
		break;
	case M40_TYPE_Q2_K: case M40_TYPE_Q3_K: case M40_TYPE_Q4_K: case M40_TYPE_Q5_K:
	case M40_TYPE_Q6_K:
		round_q8_k(x, n);
		break;
	default:
		break;
	}
}

/* llama.cpp's Q4_1/Q5_1 x Q8_1 dot: per block d_w d_x sum(q_w q_x) plus
 * m_w * F16(d_x * sum q_x), d_x unrounded in that product. */
static void
matvec_q8_1(const double *w, const double *mins, const double *x, double *y, int rows, int cols)
{
	int nb = cols / 32;
	double *xq = malloc((size_t)cols * sizeof *xq), *sb = malloc((size_t)nb * sizeof *sb);

	for (int b = 0; b < nb; b++) {
		float amax = 0, d, id, sum = 0;
		for (int i = b * 32; i < b * 32 + 32; i++)
			if (fabsf((float)x[i]) > amax)
				amax = fabsf((float)x[i]);
		d = amax / 127.0f;
		id = amax != 0 ? 127.0f / amax : 0;
		for (int i = b * 32; i < b * 32 + 32; i++) {
			float q = nearbyintf((float)x[i] * id);
			xq[i] = q * to_f16(d);
			sum += q;
		}
		sb[b] = to_f16(d * sum);
	}
	for (int r = 0; r < rows; r++) {
		double acc = 0;
		for (int b = 0; b < nb; b++) {
			double m = mins[(size_t)r * nb + b], part = 0;
			for (int i = b * 32; i < b * 32 + 32; i++)
				part += (w[(size_t)r * cols + i] - m) * xq[i];
			acc += part + m * sb[b];
		}
		y[r] = acc;
	}
	free(xq);
	free(sb);
}

/* y = W x, with x first rounded as llama.cpp would when emulating it. */
static void
matvec_as(const double *w, int type, const double *x, double *y, int rows, int cols, bool emulate)
{
	double *xr = (double *)x;

	if (emulate && (type == M40_TYPE_Q4_1 || type == M40_TYPE_Q5_1) && block_mins(w) != NULL) {
		matvec_q8_1(w, block_mins(w), x, y, rows, cols);
		return;
	}

	if (emulate) {
		xr = malloc((size_t)cols * sizeof *xr);
		memcpy(xr, x, (size_t)cols * sizeof *xr);
		round_activation(xr, cols, type);
	}
	matvec(w, xr, y, rows, cols);
	if (emulate)
		free(xr);
}

/* Logits [n][n_vocab] for tokens at positions 0..n-1.  llama_fa: emulate
 * llama.cpp's CPU flash attention (F16 Q, F16 V accumulator) and its
 * rounding of activations to each weight's vec_dot_type. */
static double *
ref_forward(const struct ref_model *m, const int32_t *tok, int n, bool llama_fa)
{
	const int E = m->n_embd, hd = m->head_dim, QD = m->n_head * hd, KVD = m->n_head_kv * hd;
	const int F = m->n_ff, group = m->n_head / m->n_head_kv;
	double *x = calloc((size_t)n * E, sizeof *x), *xb = malloc((size_t)E * sizeof *xb);
	double *q = malloc((size_t)n * QD * sizeof *q), *att = malloc((size_t)QD * sizeof *att);
	double *k = malloc((size_t)n * KVD * sizeof *k), *v = malloc((size_t)n * KVD * sizeof *v);
	double *g = malloc((size_t)F * sizeof *g), *u = malloc((size_t)F * sizeof *u);
	double *tmp = malloc((size_t)(E > QD ? E : QD) * sizeof *tmp);
	double *sc = malloc((size_t)n * sizeof *sc);
	double *logits = malloc((size_t)n * m->n_vocab * sizeof *logits);
	int t, s, h, d, il, i;
	const bool q8 = llama_fa;

	for (t = 0; t < n; t++)
		memcpy(x + (size_t)t * E, m->tok_embd + (size_t)tok[t] * E, (size_t)E * sizeof *x);
	for (il = 0; il < m->n_layer; il++) {
		const struct ref_layer *l = &m->layers[il];
		for (t = 0; t < n; t++) {
			double *qt = q + (size_t)t * QD, *kt = k + (size_t)t * KVD, *vt = v + (size_t)t * KVD;
			rmsnorm(x + (size_t)t * E, l->attn_norm, xb, E, m->eps);
			matvec_as(l->wq, l->tq, xb, qt, QD, E, q8);
			matvec_as(l->wk, l->tk, xb, kt, KVD, E, q8);
			matvec_as(l->wv, l->tv, xb, vt, KVD, E, q8);
			if (l->bq != NULL)
				for (i = 0; i < QD; i++)
					qt[i] += l->bq[i];
			if (l->bk != NULL)
				for (i = 0; i < KVD; i++) {
					kt[i] += l->bk[i];
					vt[i] += l->bv[i];
				}
			for (h = 0; h < m->n_head; h++) {
				if (l->q_norm != NULL)
					rmsnorm(qt + h * hd, l->q_norm, qt + h * hd, hd, m->eps);
				rope(m, qt + h * hd, t);
			}
			for (h = 0; h < m->n_head_kv; h++) {
				if (l->k_norm != NULL)
					rmsnorm(kt + h * hd, l->k_norm, kt + h * hd, hd, m->eps);
				rope(m, kt + h * hd, t);
			}
			/* The F16 cache. */
			for (i = 0; i < KVD; i++) {
				kt[i] = to_f16(kt[i]);
				vt[i] = to_f16(vt[i]);
			}
		}
		for (t = 0; t < n; t++) {
			for (h = 0; h < m->n_head; h++) {
				const double *qh = q + (size_t)t * QD + h * hd;
				int kvh = h / group;
				double mx = -INFINITY, sum = 0;
				if (llama_fa) {
					/* ggml_compute_forward_flash_attn_ext_f16 with F16 K and V. */
					double M = -INFINITY, S = 0, acc[1024];
					for (d = 0; d < hd; d++)
						acc[d] = 0;
					for (s = 0; s <= t; s++) {
						const double *ks = k + (size_t)s * KVD + kvh * hd;
						const double *vs_ = v + (size_t)s * KVD + kvh * hd;
						float dot = 0, ms = 1, vs = 1;
						for (d = 0; d < hd; d++)
							dot += (float)(to_f16(qh[d]) * ks[d]);
						dot *= (float)(1.0 / sqrt((double)hd));
						if (dot > M) {
							double Mold = M;
							M = dot;
							ms = expf((float)(Mold - M));
							for (d = 0; d < hd; d++)
								acc[d] = to_f16(acc[d] * ms);
						} else {
							vs = expf((float)(dot - M));
						}
						for (d = 0; d < hd; d++)
							acc[d] = to_f16(acc[d] + vs_[d] * vs);
						S = S * ms + vs;
					}
					for (d = 0; d < hd; d++)
						att[h * hd + d] = acc[d] / S;
					continue;
				}
				for (s = 0; s <= t; s++) {
					const double *ks = k + (size_t)s * KVD + kvh * hd;
					double dot = 0;
					for (d = 0; d < hd; d++)
						dot += qh[d] * ks[d];
					sc[s] = dot / sqrt((double)hd);
					if (sc[s] > mx)
						mx = sc[s];
				}
				for (s = 0; s <= t; s++) {
					sc[s] = exp(sc[s] - mx);
					sum += sc[s];
				}
				for (d = 0; d < hd; d++) {
					double o = 0;
					for (s = 0; s <= t; s++)
						o += sc[s] / sum * v[(size_t)s * KVD + kvh * hd + d];
					att[h * hd + d] = o;
				}
			}
			matvec_as(l->wo, l->to, att, tmp, E, QD, q8);
			for (i = 0; i < E; i++)
				x[(size_t)t * E + i] += tmp[i];
			rmsnorm(x + (size_t)t * E, l->ffn_norm, xb, E, m->eps);
			matvec_as(l->w_gate, l->tg, xb, g, F, E, q8);
			matvec_as(l->w_up, l->tu, xb, u, F, E, q8);
			for (i = 0; i < F; i++)
				g[i] = g[i] / (1 + exp(-g[i])) * u[i];
			matvec_as(l->w_down, l->td, g, tmp, E, F, q8);
			for (i = 0; i < E; i++)
				x[(size_t)t * E + i] += tmp[i];
		}
	}
	for (t = 0; t < n; t++) {
		rmsnorm(x + (size_t)t * E, m->output_norm, xb, E, m->eps);
		matvec_as(m->output, m->t_output, xb, logits + (size_t)t * m->n_vocab, m->n_vocab, E, q8);
	}
	free(x);
	free(xb);
	free(q);
	free(att);
	free(k);
	free(v);
	free(g);
	free(u);
	free(tmp);
	free(sc);
	return logits;
}

static double
rel_l2_d(const float *a, const double *b, int n)
{
	double num = 0, den = 0;

	for (int i = 0; i < n; i++) {
		num += (a[i] - b[i]) * (a[i] - b[i]);
		den += b[i] * b[i];
	}
	return sqrt(num / den);
}

/* ---- random models ---- */

struct config {
	const char *what;
	const char *arch;
	int type;           /* of the matrices */
	int n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab;
	bool tied;
	double rope_base;
	double linear;      /* rope.scaling.factor for "linear", 0 for none */
	bool rope_freqs;    /* a Llama 3.1 rope_freqs tensor */
	bool llama3_keys;   /* Llama 3.1 scaling from the keys alone (the engine computes the factors) */
};

static const struct config configs[] = {
	{ "llama F32, GQA 4/2, untied", "llama", M40_TYPE_F32, 64, 2, 4, 2, 16, 96, 300, false, 10000,
		0, false, false },
	{ "llama F16, MHA, tied", "llama", M40_TYPE_F16, 64, 2, 4, 4, 16, 128, 260, true, 10000, 0,
		false, false },
	{ "llama Q8_0, GQA 8/2, linear RoPE x4", "llama", M40_TYPE_Q8_0, 128, 2, 8, 2, 16, 160, 256,
		false, 500000, 4, false, false },
	{ "llama F32, rope_freqs (Llama 3.1)", "llama", M40_TYPE_F32, 64, 1, 2, 1, 32, 64, 200, true,
		500000, 0, true, false },
	{ "llama F32, Llama 3.1 scaling keys, no rope_freqs", "llama", M40_TYPE_F32, 64, 1, 2, 1, 32, 64,
		200, true, 500000, 0, false, true },
	{ "qwen2 F32, QKV bias, NeoX", "qwen2", M40_TYPE_F32, 64, 2, 4, 2, 16, 96, 300, false, 1e6, 0,
		false, false },
	{ "qwen2 Q8_0, QKV bias, tied", "qwen2", M40_TYPE_Q8_0, 64, 2, 4, 1, 16, 96, 300, true, 1e6, 0,
		false, false },
	{ "qwen3 F32, Q/K norm, head 32 (q_dim 128 > dim 64)", "qwen3", M40_TYPE_F32, 64, 2, 4, 2, 32,
		96, 300, false, 1e6, 0, false, false },
	{ "qwen3 F16, Q/K norm, tied", "qwen3", M40_TYPE_F16, 64, 2, 4, 2, 16, 96, 300, true, 1e6, 0,
		false, false },
};

static uint64_t rng_state;

static double
uniform(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0 * 2 - 1;
}

static void
add(m40_gguf_writer *w, const char *name, int type, int64_t cols, int64_t rows, double center,
	double spread)
{
	size_t rb = m40_type_row_bytes(type, cols);
	unsigned char *data = malloc(rb * (size_t)rows);
	float *x = malloc((size_t)cols * sizeof *x);
	int64_t ne[2] = { cols, rows };

	for (int64_t r = 0; r < rows; r++) {
		for (int64_t c = 0; c < cols; c++)
			x[c] = (float)(center + spread * uniform());
		m40_quantize_row(type, x, data + (size_t)r * rb, cols);
	}
	m40_gguf_add_tensor(w, name, type, rows > 1 ? 2 : 1, ne, data, rb * (size_t)rows);
	free(data);
	free(x);
}

/*
 * Weights uniform in +-1/sqrt(fan-in): with larger ones these random
 * networks amplify small differences, and one K or V value that rounds
 * to the other F16 neighbour in the engine than in the reference (their
 * FP32 and double sums differ in the last bits) moves the logits by up to
 * 8e-5; at this scale by 2e-5 at most, and a real error by 1e-2 or more.
 */
static m40_status
write_model(const struct config *c, void **buf, size_t *size, m40_error *err)
{
	m40_gguf_writer *w = m40_gguf_writer_new();
	const int QD = c->n_head * c->head_dim, KVD = c->n_head_kv * c->head_dim;
	const double in = 1.0 / sqrt(c->n_embd);
	char key[128];
	m40_status s;

#define KEY(k) (snprintf(key, sizeof key, "%s.%s", c->arch, k), key)
	m40_gguf_set_str(w, "general.architecture", c->arch);
	m40_gguf_set_u32(w, KEY("context_length"), 4096);
	m40_gguf_set_u32(w, KEY("embedding_length"), (uint32_t)c->n_embd);
	m40_gguf_set_u32(w, KEY("block_count"), (uint32_t)c->n_layer);
	m40_gguf_set_u32(w, KEY("feed_forward_length"), (uint32_t)c->n_ff);
	m40_gguf_set_u32(w, KEY("attention.head_count"), (uint32_t)c->n_head);
	m40_gguf_set_u32(w, KEY("attention.head_count_kv"), (uint32_t)c->n_head_kv);
	if (c->head_dim != c->n_embd / c->n_head) {
		m40_gguf_set_u32(w, KEY("attention.key_length"), (uint32_t)c->head_dim);
		m40_gguf_set_u32(w, KEY("attention.value_length"), (uint32_t)c->head_dim);
	}
	m40_gguf_set_f32(w, KEY("attention.layer_norm_rms_epsilon"), 1e-6f);
	m40_gguf_set_f32(w, KEY("rope.freq_base"), (float)c->rope_base);
	m40_gguf_set_u32(w, KEY("vocab_size"), (uint32_t)c->n_vocab);
	if (c->linear > 0) {
		m40_gguf_set_str(w, KEY("rope.scaling.type"), "linear");
		m40_gguf_set_f32(w, KEY("rope.scaling.factor"), (float)c->linear);
	}
	if (c->llama3_keys) {
		m40_gguf_set_str(w, KEY("rope.scaling.type"), "llama3");
		m40_gguf_set_f32(w, KEY("rope.scaling.factor"), 8.0f);
		m40_gguf_set_f32(w, KEY("rope.scaling.low_freq_factor"), 1.0f);
		m40_gguf_set_f32(w, KEY("rope.scaling.high_freq_factor"), 4.0f);
		m40_gguf_set_u32(w, KEY("rope.scaling.original_context_length"), 8192);
	}
#undef KEY
	add(w, "token_embd.weight", c->type, c->n_embd, c->n_vocab, 0, 1);
	add(w, "output_norm.weight", M40_TYPE_F32, c->n_embd, 1, 1, 0.2);
	if (!c->tied)
		add(w, "output.weight", c->type, c->n_embd, c->n_vocab, 0, in);
	if (c->rope_freqs) {
		/* Factors as Llama 3.1's converter writes them: 1 for high
		 * frequencies, 8 for low ones, a blend between. */
		int half = c->head_dim / 2;
		float *f = malloc((size_t)half * sizeof *f);
		int64_t ne = half;
		for (int i = 0; i < half; i++)
			f[i] = i < half / 3 ? 1.0f : i > 2 * half / 3 ? 8.0f : 1.0f + 7.0f * (float)(i - half / 3) / (half / 3);
		m40_gguf_add_tensor(w, "rope_freqs.weight", M40_TYPE_F32, 1, &ne, f, (size_t)half * sizeof *f);
		free(f);
	}
	for (int il = 0; il < c->n_layer; il++) {
		char name[128];
#define T(suffix) (snprintf(name, sizeof name, "blk.%d.%s", il, suffix), name)
		add(w, T("attn_norm.weight"), M40_TYPE_F32, c->n_embd, 1, 1, 0.2);
		add(w, T("attn_q.weight"), c->type, c->n_embd, QD, 0, in);
		add(w, T("attn_k.weight"), c->type, c->n_embd, KVD, 0, in);
		add(w, T("attn_v.weight"), c->type, c->n_embd, KVD, 0, in);
		add(w, T("attn_output.weight"), c->type, QD, c->n_embd, 0, 1.0 / sqrt(QD));
		if (strcmp(c->arch, "qwen2") == 0) {
			add(w, T("attn_q.bias"), M40_TYPE_F32, QD, 1, 0, 0.5);
			add(w, T("attn_k.bias"), M40_TYPE_F32, KVD, 1, 0, 0.5);
			add(w, T("attn_v.bias"), M40_TYPE_F32, KVD, 1, 0, 0.5);
		}
		if (strcmp(c->arch, "qwen3") == 0) {
			add(w, T("attn_q_norm.weight"), M40_TYPE_F32, c->head_dim, 1, 1, 0.2);
			add(w, T("attn_k_norm.weight"), M40_TYPE_F32, c->head_dim, 1, 1, 0.2);
		}
		add(w, T("ffn_norm.weight"), M40_TYPE_F32, c->n_embd, 1, 1, 0.2);
		add(w, T("ffn_gate.weight"), c->type, c->n_embd, c->n_ff, 0, in);
		add(w, T("ffn_up.weight"), c->type, c->n_embd, c->n_ff, 0, in);
		add(w, T("ffn_down.weight"), c->type, c->n_ff, c->n_embd, 0, 1.0 / sqrt(c->n_ff));
#undef T
	}
	s = m40_gguf_writer_to_memory(w, 3, buf, size, err);
	m40_gguf_writer_free(w);
	return s;
}

/* The engine's logits for every position of a prompt (one batch), one
 * model and config; compared with the reference.  Returns 1 on failure. */
static int
check_config(const struct config *c)
{
	static const int lengths[] = { 1, 7, 33, 150 };
	void *buf = NULL;
	size_t size;
	m40_gguf *g = NULL;
	m40_model *m = NULL;
	m40_engine *e = NULL;
	struct ref_model ref;
	m40_error err;
	int bad = 0, n_vocab = c->n_vocab;
	double worst = 0;

	m40_error_clear(&err);
	if (write_model(c, &buf, &size, &err) != M40_OK || m40_gguf_open_memory(buf, size, &g, &err) != M40_OK
		|| m40_model_from_gguf(g, &m, &err) != M40_OK) {
		printf("FAIL: %s: %s\n", c->what, err.msg);
		m40_gguf_close(g);
		free(buf);
		return 1;
	}
	ref_load(g, &ref);
	/* n_seq 64: up to 64 positions' logits come back from one step (150
	 * take three). */
	m40_engine_params ep = { .backend = "cpu", .n_threads = 2, .n_ctx = 160, .n_seq = 64 };
	if (m40_engine_new(m, &ep, &e, &err) != M40_OK) {
		printf("FAIL: %s: %s\n", c->what, err.msg);
		bad = 1;
		goto out;
	}
	for (size_t li = 0; li < sizeof lengths / sizeof lengths[0] && !bad; li++) {
		int n = lengths[li], t;
		int32_t tok[160], pos[160], seq[160];
		bool want[160];
		double *want_logits;
		for (t = 0; t < n; t++) {
			tok[t] = (int32_t)((uniform() + 1) / 2 * (n_vocab - 1));
			pos[t] = t;
			seq[t] = 0;
			want[t] = true;
		}
		m40_batch b = { n, tok, pos, seq, want };
		m40_engine_seq_clear(e, 0);
		if (m40_engine_decode(e, &b, &err) != M40_OK) {
			printf("FAIL: %s: %s\n", c->what, err.msg);
			bad = 1;
			break;
		}
		want_logits = ref_forward(&ref, tok, n, false);
		for (t = 0; t < n; t++) {
			double d = rel_l2_d(m40_engine_logits(e, t), want_logits + (size_t)t * n_vocab, n_vocab);
			if (d > worst)
				worst = d;
			if (!(d <= 1e-4)) {
				printf("FAIL: %s: prompt of %d, position %d: logits %.3g from the reference\n",
					c->what, n, t, d);
				bad = 1;
				break;
			}
		}
		free(want_logits);
	}
	if (!bad)
		printf("ok: %-50s logits at every position of prompts of 1, 7, 33, 150 tokens within "
			"%.2e of the double reference (limit 1e-4)\n", c->what, worst);
out:
	ref_free(&ref);
	m40_engine_free(e);
	m40_model_close(m);
	m40_gguf_close(g);
	free(buf);
	return bad;
}

/* Part 2: a shared model against llama.cpp through the reference: the
 * reference with llama.cpp's roundings within fa_tol of llama.cpp, the
 * plain reference within 1e-4 of the engine. */
static int
check_llama_cpp(const char *model, const char *refname, const char *what, double fa_tol)
{
	char rel[256];
	const char *p;
	m40_gguf *g = NULL;
	m40_model *m = NULL;
	m40_engine *e = NULL;
	struct greedy_ref gr;
	struct ref_model ref;
	float *llama = NULL;
	double *plain = NULL, *fa = NULL, d_fa, d_engine, d_llama;
	m40_error err;
	int bad = 0, n_vocab;
	float *row;

	snprintf(rel, sizeof rel, "reference/generate/%s.greedy", refname);
	if ((p = shared_path(rel)) == NULL || read_greedy(p, &gr) != 0) {
		printf("skip: %s references absent\n", model);
		return 0;
	}
	snprintf(rel, sizeof rel, "reference/generate/%s.logits", refname);
	if ((p = shared_path(rel)) == NULL || (n_vocab = read_floats(p, &llama)) <= 0) {
		free(llama);
		printf("skip: %s references absent\n", model);
		return 0;
	}
	m40_error_clear(&err);
	snprintf(rel, sizeof rel, "models/%s", model);
	if ((p = shared_path(rel)) == NULL || m40_gguf_open(p, &g, &err) != M40_OK
		|| m40_model_from_gguf(g, &m, &err) != M40_OK) {
		printf("FAIL: %s: %s\n", model, err.msg);
		m40_gguf_close(g);
		free(llama);
		return 1;
	}
	ref_load(g, &ref);
	plain = ref_forward(&ref, gr.prompt, gr.n_prompt, false);
	fa = ref_forward(&ref, gr.prompt, gr.n_prompt, true);
	row = malloc((size_t)n_vocab * sizeof *row);
	for (int i = 0; i < n_vocab; i++)
		row[i] = (float)fa[(size_t)(gr.n_prompt - 1) * n_vocab + i];
	d_fa = rel_l2(row, llama, n_vocab);
	m40_engine_params ep = { .backend = "cpu", .n_threads = 2, .n_ctx = 64 };
	if (m40_engine_new(m, &ep, &e, &err) != M40_OK || prefill(e, 0, 0, gr.prompt, gr.n_prompt, &err) != M40_OK) {
		printf("FAIL: %s on the engine: %s\n", model, err.msg);
		bad = 1;
	} else {
		d_engine = rel_l2_d(m40_engine_logits(e, 0), plain + (size_t)(gr.n_prompt - 1) * n_vocab, n_vocab);
		d_llama = rel_l2(m40_engine_logits(e, 0), llama, n_vocab);
		if (fa_tol > 0)
			printf("%s: %s: reference with %s vs llama.cpp %.2e (limit %.0e)\n",
				d_fa <= fa_tol ? "ok" : "FAIL", model, what, d_fa, fa_tol);
		else
			printf("info: %s: reference with %s vs llama.cpp %.2e (not reproduced: "
				"llama.cpp rounds more than the emulation knows)\n", model, what, d_fa);
		printf("%s: %s: engine vs reference %.2e (limit 1e-4); engine vs llama.cpp %.2e\n",
			d_engine <= 1e-4 ? "ok" : "FAIL", model, d_engine, d_llama);
		bad = (fa_tol > 0 && !(d_fa <= fa_tol)) || !(d_engine <= 1e-4);
	}
	free(row);
	free(plain);
	free(fa);
	free(llama);
	ref_free(&ref);
	m40_engine_free(e);
	m40_model_close(m);
	m40_gguf_close(g);
	return bad;
}

/*
 * The synthetic models, and how close the reference with llama.cpp's
 * roundings (activations to each weight's vec_dot_type: Q8_0 for the
 * legacy formats and IQ4_NL, Q8_K for the K-quants, F16, BF16; attention
 * as above; Q4_1 and Q5_1 meet Q8_1 blocks, whose per-block sum enters
 * as min * F16(d * sum q)) must come to llama.cpp's logits.  Measured 6e-8
 * to 4e-7 for every model but three, where the emulation leaves a
 * remainder it does not explain (tol 0: reported, not checked): F16
 * 2.5e-4, Q5_1 1.0e-2 (Q4_1, the same dot but for the fifth bit, is
 * reproduced), Q3_K_M 1.0e-2 (its Q3_K tensors in attn_q/k and
 * ffn_gate/up; the Q3_K tensors of st-llama-q2_k are reproduced).  The
 * engine is within 1e-4 of the plain reference on all of them.
 */
static const struct {
	const char *name;
	double tol;
} shared_models[] = {
	{ "llama-f16", 0 }, { "llama-bf16", 1e-5 }, { "llama-q8_0", 1e-5 }, { "llama-q4_0", 1e-5 },
	{ "llama-q4_1", 1e-5 }, { "llama-q5_0", 1e-5 }, { "llama-q5_1", 0 }, { "llama-q2_k", 1e-5 },
	{ "llama-q3_k_m", 0 }, { "llama-q4_k_m", 1e-5 }, { "llama-q5_k_m", 1e-5 },
	{ "llama-q6_k", 1e-5 }, { "llama-iq4_nl", 1e-5 }, { "qwen2-q8_0", 1e-5 },
	{ "qwen2-q4_k_m", 1e-5 }, { "qwen3-q8_0", 1e-5 }, { "qwen3-q4_k_m", 1e-5 },
};

int
main(void)
{
	int bad = 0;

	rng_state = 20261127;
	for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++)
		bad |= check_config(&configs[i]);
	bad |= check_llama_cpp("stories260K.gguf", "stories260K.once",
		"llama.cpp's F16 flash attention", 1e-5);
	for (size_t i = 0; i < sizeof shared_models / sizeof shared_models[0]; i++) {
		char model[128], refname[128];
		snprintf(model, sizeof model, "synthetic/st-%s.gguf", shared_models[i].name);
		snprintf(refname, sizeof refname, "st-%s.once", shared_models[i].name);
		bad |= check_llama_cpp(model, refname, "llama.cpp's roundings", shared_models[i].tol);
	}
	bad |= check_llama_cpp("llama-2-tiny-random.gguf", "llama-2-tiny-random.hello",
		"llama.cpp's roundings", 1e-5);
	return bad;
}
