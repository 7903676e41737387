/* model.c: a GGUF described as a model: hyperparameters, weights checked, memory needs. */
#include "model-int.h"
#include "gpu-buffers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest value accepted for any dimension or count read from the file. */
#define DIM_MAX (INT32_C(1) << 24)

static const struct {
	const char *name;
	enum m40_arch arch;
} arch_table[] = {
	{ "llama", M40_ARCH_LLAMA },
	{ "qwen2", M40_ARCH_QWEN2 },
	{ "qwen3", M40_ARCH_QWEN3 },
};

/*
 * An integer hyperparameter "ARCH.suffix".  M40_E_NOTFOUND (err untouched)
 * when absent.  A per-layer array is accepted when all its entries agree
 * (llama.cpp writes some keys that way).
 */
static m40_status
key_int(const m40_gguf *g, const char *arch, const char *suffix, int32_t *out, m40_error *err)
{
	char key[128];
	const m40_gguf_value *v;
	int64_t x;

	snprintf(key, sizeof key, "%s.%s", arch, suffix);
	v = m40_gguf_get(g, key);
	if (v == NULL)
		return M40_E_NOTFOUND;
	if (v->type == M40_GGUF_ARRAY) {
		enum m40_gguf_type t = v->v.arr.type;
		if (t == M40_GGUF_STRING || t == M40_GGUF_ARRAY || t == M40_GGUF_BOOL
			|| t == M40_GGUF_FLOAT32 || t == M40_GGUF_FLOAT64 || v->v.arr.n == 0)
			return m40_error_set(err, M40_E_FORMAT,
				_("key '%s' is an array of %s, expected integers"), key,
				m40_gguf_type_name(t));
		x = m40_gguf_arr_int(v, 0);
		for (uint64_t i = 1; i < v->v.arr.n; i++)
			if (m40_gguf_arr_int(v, i) != x)
				return m40_error_set(err, M40_E_UNSUPPORTED,
					_("key '%s' differs between layers, which is not supported"), key);
	} else if (!m40_gguf_get_int(g, key, &x)) {
		return m40_error_set(err, M40_E_FORMAT, _("key '%s' has type %s, expected an integer"),
			key, m40_gguf_type_name(v->type));
	}
	if (x <= 0 || x > DIM_MAX)
		return m40_error_set(err, M40_E_FORMAT, _("key '%s' = %lld is out of range (1 to %ld)"),
			key, (long long)x, (long)DIM_MAX);
	*out = (int32_t)x;
	return M40_OK;
}

static m40_status
need_int(const m40_gguf *g, const char *arch, const char *suffix, int32_t *out, m40_error *err)
{
	m40_status s = key_int(g, arch, suffix, out, err);

	if (s == M40_E_NOTFOUND)
		return m40_error_set(err, M40_E_FORMAT, _("missing key '%s.%s'"), arch, suffix);
	return s;
}

static m40_status
opt_int(const m40_gguf *g, const char *arch, const char *suffix, int32_t *out, int32_t def,
	m40_error *err)
{
	m40_status s = key_int(g, arch, suffix, out, err);

	if (s == M40_E_NOTFOUND) {
		*out = def;
		return M40_OK;
	}
	return s;
}

/* A float hyperparameter; M40_E_NOTFOUND when absent. */
static m40_status
key_float(const m40_gguf *g, const char *arch, const char *suffix, float *out, m40_error *err)
{
	char key[128];
	double x;

	snprintf(key, sizeof key, "%s.%s", arch, suffix);
	if (m40_gguf_get(g, key) == NULL)
		return M40_E_NOTFOUND;
	if (!m40_gguf_get_float(g, key, &x))
		return m40_error_set(err, M40_E_FORMAT, _("key '%s' has type %s, expected a number"),
			key, m40_gguf_type_name(m40_gguf_get(g, key)->type));
	if (!(x > 0.0 && x < 1e30))
		return m40_error_set(err, M40_E_FORMAT, _("key '%s' = %g is out of range"), key, x);
	*out = (float)x;
	return M40_OK;
}

static m40_status
opt_float(const m40_gguf *g, const char *arch, const char *suffix, float *out, float def,
	m40_error *err)
{
	m40_status s = key_float(g, arch, suffix, out, err);

	if (s == M40_E_NOTFOUND) {
		*out = def;
		return M40_OK;
	}
	return s;
}

static m40_status
read_rope_scaling(const m40_gguf *g, m40_hparams *hp, m40_error *err)
{
	const char *arch = hp->arch_name;
	char key[128];
	const char *type;
	m40_status s;

	hp->rope_scaling = M40_ROPE_SCALING_NONE;
	hp->rope_scale = 1.0f;
	snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
	type = m40_gguf_get_str(g, key);
	if (m40_gguf_get(g, key) != NULL && type == NULL)
		return m40_error_set(err, M40_E_FORMAT, _("key '%s' is not a string"), key);
	/* Files older than the scaling.* keys say only "rope.scale_linear". */
	if ((s = opt_float(g, arch, "rope.scale_linear", &hp->rope_scale, 1.0f, err)) != M40_OK)
		return s;
	if (type == NULL && hp->rope_scale != 1.0f)
		type = "linear";
	if ((s = opt_float(g, arch, "rope.scaling.factor", &hp->rope_scale, hp->rope_scale, err))
		!= M40_OK)
		return s;
	if ((s = opt_int(g, arch, "rope.scaling.original_context_length", &hp->rope_orig_ctx,
		hp->n_ctx_train, err)) != M40_OK)
		return s;
	/* Llama 3.1 scaling: the factors come as the rope_freqs tensor; these
	 * keys, where a converter writes them, default to Meta's values. */
	if ((s = opt_float(g, arch, "rope.scaling.low_freq_factor", &hp->rope_llama3_low, 1.0f, err))
		!= M40_OK)
		return s;
	if ((s = opt_float(g, arch, "rope.scaling.high_freq_factor", &hp->rope_llama3_high, 4.0f,
		err)) != M40_OK)
		return s;

	if (type == NULL || strcmp(type, "none") == 0)
		hp->rope_scaling = M40_ROPE_SCALING_NONE;
	else if (strcmp(type, "linear") == 0)
		hp->rope_scaling = M40_ROPE_SCALING_LINEAR;
	else if (strcmp(type, "yarn") == 0)
		hp->rope_scaling = M40_ROPE_SCALING_YARN;
	else if (strcmp(type, "llama3") == 0)
		hp->rope_scaling = M40_ROPE_SCALING_LLAMA3;
	else
		return m40_error_set(err, M40_E_UNSUPPORTED, _("unsupported RoPE scaling '%s' in key '%s'"),
			type, key);
	if (hp->rope_scaling == M40_ROPE_SCALING_NONE)
		hp->rope_scale = 1.0f;
	return M40_OK;
}

static m40_status
read_hparams(const m40_gguf *g, m40_hparams *hp, m40_error *err)
{
	const char *arch = m40_gguf_get_str(g, "general.architecture");
	const char *a;
	int32_t key_len, val_len;
	m40_status s;
	size_t i;

	memset(hp, 0, sizeof *hp);
	if (arch == NULL)
		return m40_error_set(err, M40_E_FORMAT,
			m40_gguf_get(g, "general.architecture") ? _("key 'general.architecture' is not a string")
			: _("missing key 'general.architecture'"));
	for (i = 0; i < M40_ARRAY_SIZE(arch_table); i++)
		if (strcmp(arch, arch_table[i].name) == 0)
			break;
	if (i == M40_ARRAY_SIZE(arch_table))
		return m40_error_set(err, M40_E_UNSUPPORTED,
			_("unsupported architecture '%.64s' (supported: llama, qwen2, qwen3)"), arch);
	hp->arch = arch_table[i].arch;
	snprintf(hp->arch_name, sizeof hp->arch_name, "%s", arch_table[i].name);
	a = hp->arch_name;

	if ((s = need_int(g, a, "context_length", &hp->n_ctx_train, err)) != M40_OK
		|| (s = need_int(g, a, "embedding_length", &hp->n_embd, err)) != M40_OK
		|| (s = need_int(g, a, "block_count", &hp->n_layer, err)) != M40_OK
		|| (s = need_int(g, a, "feed_forward_length", &hp->n_ff, err)) != M40_OK
		|| (s = need_int(g, a, "attention.head_count", &hp->n_head, err)) != M40_OK
		|| (s = opt_int(g, a, "attention.head_count_kv", &hp->n_head_kv, hp->n_head, err)) != M40_OK)
		return s;
	if (hp->n_layer > 4096)
		return m40_error_set(err, M40_E_FORMAT, _("key '%s.block_count' = %d is out of range"), a,
			(int)hp->n_layer);
	if (hp->n_head % hp->n_head_kv != 0)
		return m40_error_set(err, M40_E_FORMAT,
			_("%d attention heads cannot be shared by %d KV heads (keys '%s.attention.head_count', "
			"'%s.attention.head_count_kv')"), (int)hp->n_head, (int)hp->n_head_kv, a, a);
	/* Heads may be narrower or wider than n_embd / n_head (qwen3). */
	if (hp->n_embd % hp->n_head != 0) {
		char key[128];
		snprintf(key, sizeof key, "%s.attention.key_length", a);
		if (m40_gguf_get(g, key) == NULL)
			return m40_error_set(err, M40_E_FORMAT,
				_("embedding length %d is not a multiple of the %d heads and '%s' is missing"),
				(int)hp->n_embd, (int)hp->n_head, key);
	}
	if ((s = opt_int(g, a, "attention.key_length", &key_len, hp->n_embd / hp->n_head, err)) != M40_OK
		|| (s = opt_int(g, a, "attention.value_length", &val_len, key_len, err)) != M40_OK)
		return s;
	if (key_len != val_len)
		return m40_error_set(err, M40_E_UNSUPPORTED,
			_("key length %d differs from value length %d, which is not supported"),
			(int)key_len, (int)val_len);
	hp->head_dim = key_len;
	if ((int64_t)hp->n_head * hp->head_dim > DIM_MAX)
		return m40_error_set(err, M40_E_FORMAT, _("%d heads of %d dimensions are too many"),
			(int)hp->n_head, (int)hp->head_dim);
	if ((s = opt_int(g, a, "rope.dimension_count", &hp->rope_dim, hp->head_dim, err)) != M40_OK)
		return s;
	if (hp->rope_dim > hp->head_dim || hp->rope_dim % 2 != 0)
		return m40_error_set(err, M40_E_FORMAT,
			_("key '%s.rope.dimension_count' = %d does not fit heads of %d dimensions"), a,
			(int)hp->rope_dim, (int)hp->head_dim);
	{
		char key[128];
		snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", a);
		s = key_float(g, a, "attention.layer_norm_rms_epsilon", &hp->norm_eps, err);
		if (s == M40_E_NOTFOUND)
			return m40_error_set(err, M40_E_FORMAT, _("missing key '%s'"), key);
		if (s != M40_OK)
			return s;
	}
	if ((s = opt_float(g, a, "rope.freq_base", &hp->rope_base, 10000.0f, err)) != M40_OK)
		return s;
	hp->rope_neox = hp->arch == M40_ARCH_QWEN2 || hp->arch == M40_ARCH_QWEN3;
	if ((s = read_rope_scaling(g, hp, err)) != M40_OK)
		return s;

	/* The vocabulary size: the key, else the token list, else the
	 * embedding's rows (checked against the tensor later either way). */
	s = key_int(g, a, "vocab_size", &hp->n_vocab, err);
	if (s == M40_E_NOTFOUND) {
		const m40_gguf_value *tok = m40_gguf_get(g, "tokenizer.ggml.tokens");
		const m40_gguf_tensor *emb = m40_gguf_find_tensor(g, "token_embd.weight");
		if (tok != NULL && tok->type == M40_GGUF_ARRAY && tok->v.arr.n > 0
			&& tok->v.arr.n <= (uint64_t)DIM_MAX)
			hp->n_vocab = (int32_t)tok->v.arr.n;
		else if (emb != NULL && emb->ne[1] > 0 && emb->ne[1] <= DIM_MAX)
			hp->n_vocab = (int32_t)emb->ne[1];
		else
			return m40_error_set(err, M40_E_FORMAT,
				_("no vocabulary size (key '%s.vocab_size' or 'tokenizer.ggml.tokens')"), a);
	} else if (s != M40_OK) {
		return s;
	}
	return M40_OK;
}

/* ---- tensors --------------------------------------------------------- */

/* Find name (formatted with the layer) and check its shape and type;
 * NULL with err set when missing (and required) or wrong. */
static m40_status
get_tensor(const m40_gguf *g, const char *name, int64_t ne0, int64_t ne1, bool required,
	const m40_gguf_tensor **out, m40_error *err)
{
	const m40_gguf_tensor *t = m40_gguf_find_tensor(g, name);
	const char *tn;

	*out = NULL;
	if (t == NULL) {
		if (required)
			return m40_error_set(err, M40_E_FORMAT, _("missing tensor '%s'"), name);
		return M40_OK;
	}
	if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1) {
		if (ne1 == 1)
			return m40_error_set(err, M40_E_FORMAT,
				_("tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld]"), name,
				(long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
				(long long)t->ne[3], (long long)ne0);
		return m40_error_set(err, M40_E_FORMAT,
			_("tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld]"), name,
			(long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3],
			(long long)ne0, (long long)ne1);
	}
	tn = m40_type_name(t->type);
	if (!m40_type_is_computable(t->type)) {
		if (tn != NULL)
			return m40_error_set(err, M40_E_UNSUPPORTED,
				_("tensor '%s' has type %s, which m40-llm cannot compute with"), name, tn);
		return m40_error_set(err, M40_E_UNSUPPORTED, _("tensor '%s' has unknown type %d"), name,
			t->type);
	}
	if (m40_type_row_bytes(t->type, t->ne[0]) == 0)
		return m40_error_set(err, M40_E_FORMAT,
			_("tensor '%s': rows of %lld elements are not whole %s blocks"), name,
			(long long)t->ne[0], tn);
	*out = t;
	return M40_OK;
}

/* Vectors (norms, biases) are added in FP32 by every backend. */
static m40_status
need_f32(const m40_gguf_tensor *t, m40_error *err)
{
	if (t != NULL && t->type != M40_TYPE_F32)
		return m40_error_set(err, M40_E_UNSUPPORTED, _("tensor '%s' has type %s, expected f32"),
			t->name, m40_type_name(t->type));
	return M40_OK;
}

/* True for the names a model of this architecture may hold. */
static bool
known_tensor(const m40_model *m, const char *name)
{
	static const char *const global[] = {
		"token_embd.weight", "output_norm.weight", "output.weight", "rope_freqs.weight",
	};
	static const char *const block[] = {
		"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
		"attn_output.weight", "attn_q.bias", "attn_k.bias", "attn_v.bias",
		"attn_q_norm.weight", "attn_k_norm.weight", "ffn_norm.weight", "ffn_gate.weight",
		"ffn_up.weight", "ffn_down.weight",
	};
	char *end;
	long il;

	for (size_t i = 0; i < M40_ARRAY_SIZE(global); i++)
		if (strcmp(name, global[i]) == 0)
			return true;
	if (strncmp(name, "blk.", 4) != 0 || name[4] < '0' || name[4] > '9')
		return false;
	il = strtol(name + 4, &end, 10);
	if (*end != '.' || il >= m->hp.n_layer || (name[4] == '0' && end != name + 5))
		return false;
	for (size_t i = 0; i < M40_ARRAY_SIZE(block); i++)
		if (strcmp(end + 1, block[i]) == 0)
			return true;
	return false;
}

static m40_status
load_layer(const m40_gguf *g, const m40_hparams *hp, int il, struct m40i_layer *l, m40_error *err)
{
	const int64_t E = hp->n_embd, F = hp->n_ff, D = hp->head_dim;
	const int64_t Q = (int64_t)hp->n_head * D, KV = (int64_t)hp->n_head_kv * D;
	const bool qwen2 = hp->arch == M40_ARCH_QWEN2, qwen3 = hp->arch == M40_ARCH_QWEN3;
	const struct {
		const char *suffix;
		int64_t ne0, ne1;
		bool required;
		const m40_gguf_tensor **slot;
	} want[] = {
		{ "attn_norm.weight", E, 1, true, &l->attn_norm },
		{ "attn_q.weight", E, Q, true, &l->wq },
		{ "attn_k.weight", E, KV, true, &l->wk },
		{ "attn_v.weight", E, KV, true, &l->wv },
		{ "attn_output.weight", Q, E, true, &l->wo },
		/* llama.cpp allows the biases in llama files too. */
		{ "attn_q.bias", Q, 1, qwen2, &l->bq },
		{ "attn_k.bias", KV, 1, qwen2, &l->bk },
		{ "attn_v.bias", KV, 1, qwen2, &l->bv },
		{ "attn_q_norm.weight", D, 1, qwen3, &l->q_norm },
		{ "attn_k_norm.weight", D, 1, qwen3, &l->k_norm },
		{ "ffn_norm.weight", E, 1, true, &l->ffn_norm },
		{ "ffn_gate.weight", E, F, true, &l->w_gate },
		{ "ffn_up.weight", E, F, true, &l->w_up },
		{ "ffn_down.weight", F, E, true, &l->w_down },
	};
	m40_status s;
	char name[96];

	for (size_t i = 0; i < M40_ARRAY_SIZE(want); i++) {
		snprintf(name, sizeof name, "blk.%d.%s", il, want[i].suffix);
		if ((s = get_tensor(g, name, want[i].ne0, want[i].ne1, want[i].required, want[i].slot,
			err)) != M40_OK)
			return s;
		if (want[i].ne1 == 1 && (s = need_f32(*want[i].slot, err)) != M40_OK)
			return s;
	}
	if ((l->bq == NULL) != (l->bk == NULL) || (l->bq == NULL) != (l->bv == NULL))
		return m40_error_set(err, M40_E_FORMAT,
			_("layer %d has some but not all of the Q, K and V biases"), il);
	if ((l->q_norm == NULL) != (l->k_norm == NULL))
		return m40_error_set(err, M40_E_FORMAT, _("layer %d has only one of the Q and K norms"), il);
	if (!qwen3 && l->q_norm != NULL)
		return m40_error_set(err, M40_E_UNSUPPORTED,
			_("tensor 'blk.%d.attn_q_norm.weight' is not used by architecture '%s'"), il,
			hp->arch_name);
	return M40_OK;
}

static m40_status
load_tensors(m40_model *m, m40_error *err)
{
	const m40_gguf *g = m->gguf;
	m40_hparams *hp = &m->hp;
	m40_status s;

	for (size_t i = 0; i < m40_gguf_n_tensors(g); i++) {
		const char *name = m40_gguf_tensor_at(g, i)->name;
		if (!known_tensor(m, name))
			return m40_error_set(err, M40_E_UNSUPPORTED,
				_("unknown tensor '%.200s' for architecture '%s'"), name, hp->arch_name);
	}
	if ((s = get_tensor(g, "token_embd.weight", hp->n_embd, hp->n_vocab, true, &m->tok_embd, err))
		!= M40_OK
		|| (s = get_tensor(g, "output_norm.weight", hp->n_embd, 1, true, &m->output_norm, err))
		!= M40_OK
		|| (s = need_f32(m->output_norm, err)) != M40_OK
		|| (s = get_tensor(g, "output.weight", hp->n_embd, hp->n_vocab, false, &m->output, err))
		!= M40_OK
		|| (s = get_tensor(g, "rope_freqs.weight", hp->rope_dim / 2, 1, false, &m->rope_freqs, err))
		!= M40_OK
		|| (s = need_f32(m->rope_freqs, err)) != M40_OK)
		return s;
	hp->tied_embeddings = m->output == NULL;
	if (m->output == NULL)
		m->output = m->tok_embd;
	if (m->rope_freqs != NULL && hp->rope_scaling == M40_ROPE_SCALING_NONE)
		hp->rope_scaling = M40_ROPE_SCALING_LLAMA3;

	m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
	if (m->layers == NULL)
		return m40_error_set(err, M40_E_NOMEM, _("out of memory for %d layers"), (int)hp->n_layer);
	for (int il = 0; il < hp->n_layer; il++)
		if ((s = load_layer(g, hp, il, &m->layers[il], err)) != M40_OK)
			return s;
	hp->qkv_bias = m->layers[0].bq != NULL;
	hp->qk_norm = m->layers[0].q_norm != NULL;
	for (int il = 1; il < hp->n_layer; il++)
		if ((m->layers[il].bq != NULL) != hp->qkv_bias)
			return m40_error_set(err, M40_E_FORMAT,
				_("layer %d differs from layer 0 in having Q, K, V biases"), il);

	/* Every tensor is used (unknown ones were refused), so all are uploaded. */
	hp->n_params = 0;
	m->weight_bytes = 0;
	for (size_t i = 0; i < m40_gguf_n_tensors(g); i++) {
		const m40_gguf_tensor *t = m40_gguf_tensor_at(g, i);
		hp->n_params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
		m->weight_bytes += t->size;
	}
	return M40_OK;
}

/* ---- public ---------------------------------------------------------- */

m40_status
m40_model_from_gguf(const m40_gguf *g, m40_model **out, m40_error *err)
{
	m40_model *m;
	m40_status s;

	*out = NULL;
	m = calloc(1, sizeof *m);
	if (m == NULL)
		return m40_error_set(err, M40_E_NOMEM, _("out of memory"));
	m->gguf = g;
	if (m40_gguf_n_tensors(g) == 0) {
		m40_model_close(m);
		return m40_error_set(err, M40_E_FORMAT,
			_("the file has no tensors (a vocabulary-only file?)"));
	}
	if ((s = read_hparams(g, &m->hp, err)) != M40_OK || (s = load_tensors(m, err)) != M40_OK) {
		m40_model_close(m);
		return s;
	}
	*out = m;
	return M40_OK;
}

m40_status
m40_model_open(const char *path, m40_model **out, m40_error *err)
{
	m40_gguf *g;
	m40_status s;
	char msg[M40_ERROR_MSG_SIZE];

	*out = NULL;
	if ((s = m40_gguf_open(path, &g, err)) != M40_OK)
		return s;
	if ((s = m40_model_from_gguf(g, out, err)) != M40_OK) {
		m40_gguf_close(g);
		/* Name the file: the caller may open several. */
		if (err != NULL) {
			snprintf(msg, sizeof msg, "%s", err->msg);
			m40_error_set(err, s, "%s: %s", path, msg);
		}
		return s;
	}
	(*out)->owned = g;
	return M40_OK;
}

void
m40_model_close(m40_model *m)
{
	if (m == NULL)
		return;
	m40_vocab_free(m->vocab);
	free(m->layers);
	m40_gguf_close(m->owned);
	free(m);
}

const m40_hparams *
m40_model_hparams(const m40_model *m)
{
	return &m->hp;
}

const m40_gguf *
m40_model_gguf(const m40_model *m)
{
	return m->gguf;
}

const m40_vocab *
m40_model_vocab(m40_model *m, m40_error *err)
{
	if (m->vocab == NULL
		&& m40_vocab_load(m->gguf, &m->vocab, m->vocab_warn, err) != M40_OK) {
		m->vocab = NULL;
		return NULL;
	}
	return m->vocab;
}

const char *
m40i_model_vocab_warning(const m40_model *m)
{
	return m->vocab_warn;
}

uint64_t
m40_model_weight_bytes(const m40_model *m)
{
	return m->weight_bytes;
}

/*
 * What a run needs beside the weights (bytes):
 *   kv_cache = 2 (K and V) * n_layer * n_ctx * n_seq * kv_dim * 2 (FP16)
 *   scratch  = 4 (FP32) * ( n_batch * (2*n_embd            x, xb
 *                                     + 2*q_dim            q, attention out
 *                                     + 2*kv_dim           k, v
 *                                     + 2*n_ff)            gate and up
 *                         + min(n_batch, n_seq) * n_vocab) logits
 * with q_dim = n_head * head_dim, kv_dim = n_head_kv * head_dim.  Logits
 * are counted for one row per sequence, what generation asks for.
 *   gpu_buffers = min(tile, 4 * n_embd * max(n_vocab, n_ff))   largest weight tile
 *               + cuBLAS workspace
 *               + (n_ctx > split keys: 4 * (counters + t * n_head * splits
 *                  * (head_dim + 2)))                         attention partials
 * with t = min(max(n_batch, n_seq), split tokens), splits = ceil(n_ctx /
 * split keys); the sizes are those of gpu-buffers.h.  The tile also holds
 * the split sums of batched decode (cuda/batch-matmul.cu), at most half of
 * the largest tile: splits * n <= cols / 128 * 64.
 */
static uint64_t
gpu_buffers(const m40_hparams *hp, uint64_t ctx, uint64_t seq, uint64_t batch)
{
	uint64_t widest = hp->n_vocab > hp->n_ff ? (uint64_t)hp->n_vocab : (uint64_t)hp->n_ff;
	uint64_t tile = 4 * (uint64_t)hp->n_embd * widest;
	uint64_t t = batch > seq ? batch : seq, splits = (ctx + M40_GPU_SPLIT_KEYS - 1) / M40_GPU_SPLIT_KEYS;
	uint64_t bytes = (tile < M40_GPU_TILE_BYTES ? tile : M40_GPU_TILE_BYTES) + M40_GPU_BLAS_WORK_BYTES;

	if (t > M40_GPU_SPLIT_TOKENS)
		t = M40_GPU_SPLIT_TOKENS;
	if (ctx > M40_GPU_SPLIT_KEYS)
		bytes += 4 * (M40_GPU_SPLIT_COUNTERS + t * (uint64_t)hp->n_head * splits * ((uint64_t)hp->head_dim + 2));
	return bytes;
}

void
m40_model_estimate_memory(const m40_model *m, int n_ctx, int n_seq, int n_batch,
	m40_mem_estimate *est)
{
	const m40_hparams *hp = &m->hp;
	const uint64_t q_dim = (uint64_t)hp->n_head * (uint64_t)hp->head_dim;
	const uint64_t kv_dim = (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim;
	const uint64_t ctx = n_ctx > 0 ? (uint64_t)n_ctx : 1;
	const uint64_t seq = n_seq > 0 ? (uint64_t)n_seq : 1;
	const uint64_t batch = n_batch > 0 ? (uint64_t)n_batch : 1;
	const uint64_t logit_rows = batch < seq ? batch : seq;
	uint64_t per_token;

	est->weights = m->weight_bytes;
	est->kv_cache = 2 * (uint64_t)hp->n_layer * ctx * seq * kv_dim * 2;
	per_token = 2 * (uint64_t)hp->n_embd + 2 * q_dim + 2 * kv_dim + 2 * (uint64_t)hp->n_ff;
	est->scratch = 4 * (batch * per_token + logit_rows * (uint64_t)hp->n_vocab);
	est->gpu_buffers = gpu_buffers(hp, ctx, seq, batch);
	est->total = est->weights + est->kv_cache + est->scratch + est->gpu_buffers;
}
