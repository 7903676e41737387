/* inspect-model.c: the model description on GGUFs made by the writer: hparams, tensors, errors, memory.
 *
 * Usage: inspect-model            run the checks (exit 0 pass, 1 fail)
 *        inspect-model --write DIR  write the sample files tests/inspect-cli.sh reads
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <m40/m40.h>
#include "model-int.h"

#include "check.h"

/* What a test model looks like; zeros mean the usual. */
struct spec {
	const char *arch;
	int n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab;
	int key_length;       /* written as ARCH.attention.key_length when non-zero */
	int wtype;            /* type of the matrices (F32 default) */
	bool tied;            /* no output.weight */
	bool bias, qk_norm;   /* qwen2 / qwen3 extras */
	bool rope_freqs;      /* Llama 3.1 rope_freqs.weight */
	bool tokenizer;       /* tokenizer.* keys */
	bool no_tensors;      /* vocabulary only */
	const char *skip;     /* a tensor left out */
	const char *misshape; /* a tensor written one row short */
	const char *extra;    /* an unknown tensor added */
	const char *skip_key; /* a metadata key (suffix after ARCH.) left out */
};

static void
add(m40_gguf_writer *w, const struct spec *s, const char *name, int type, int64_t ne0, int64_t ne1)
{
	int64_t ne[2] = { ne0, ne1 };
	size_t size;
	void *data;

	if (s->skip && strcmp(s->skip, name) == 0)
		return;
	if (s->misshape && strcmp(s->misshape, name) == 0) {
		if (ne1 > 1)
			ne[1]--;
		else
			ne[0] += 1;
	}
	size = m40_type_row_bytes(type, ne[0]) * (size_t)ne[1];
	data = calloc(1, size ? size : 1);
	/* Small distinct values, so nothing is all zeros by accident. */
	if (type == M40_TYPE_F32)
		for (size_t i = 0; i < size / 4; i++)
			((float *)data)[i] = (float)(i % 7) * 0.125f;
	if (m40_gguf_add_tensor(w, name, type, ne1 > 1 || ne[1] > 1 ? 2 : 1, ne, data, size) != M40_OK) {
		printf("FAIL: writer refused tensor %s\n", name);
		failures++;
	}
	free(data);
}

static void
set_u32(m40_gguf_writer *w, const struct spec *s, const char *suffix, uint32_t v)
{
	char key[128];

	if (s->skip_key && strcmp(s->skip_key, suffix) == 0)
		return;
	snprintf(key, sizeof key, "%s.%s", s->arch, suffix);
	m40_gguf_set_u32(w, key, v);
}

/* Build the GGUF in a writer (the caller adds keys and saves). */
static m40_gguf_writer *
build(const struct spec *s0)
{
	struct spec s = *s0;
	m40_gguf_writer *w = m40_gguf_writer_new();
	char key[128], name[96];
	int wt;

	if (!s.arch)
		s.arch = "llama";
	if (!s.n_embd)
		s.n_embd = 64;
	if (!s.n_layer)
		s.n_layer = 2;
	if (!s.n_head)
		s.n_head = 4;
	if (!s.n_head_kv)
		s.n_head_kv = 2;
	if (!s.n_ff)
		s.n_ff = 96;
	if (!s.n_vocab)
		s.n_vocab = s.tokenizer ? 100 : 40;
	wt = s.wtype ? s.wtype : M40_TYPE_F32;
	int D = s.key_length ? s.key_length : s.n_embd / s.n_head;
	int Q = s.n_head * D, KV = s.n_head_kv * D;

	m40_gguf_set_str(w, "general.architecture", s.arch);
	m40_gguf_set_str(w, "general.name", "inspect-model test");
	set_u32(w, &s, "context_length", 256);
	set_u32(w, &s, "embedding_length", (uint32_t)s.n_embd);
	set_u32(w, &s, "block_count", (uint32_t)s.n_layer);
	set_u32(w, &s, "feed_forward_length", (uint32_t)s.n_ff);
	set_u32(w, &s, "attention.head_count", (uint32_t)s.n_head);
	set_u32(w, &s, "attention.head_count_kv", (uint32_t)s.n_head_kv);
	if (s.key_length) {
		set_u32(w, &s, "attention.key_length", (uint32_t)s.key_length);
		set_u32(w, &s, "attention.value_length", (uint32_t)s.key_length);
	}
	snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", s.arch);
	m40_gguf_set_f32(w, key, 1e-5f);
	if (s.tokenizer) {
		/* 100 tokens: more than m40-inspect --json shows without --full. */
		const char *tok[100];
		char buf[100][8];
		for (int i = 0; i < 100; i++) {
			snprintf(buf[i], sizeof buf[i], "t%d", i);
			tok[i] = buf[i];
		}
		tok[0] = "<unk>";
		tok[1] = "<s>";
		tok[2] = "</s>";
		m40_gguf_set_str(w, "tokenizer.ggml.model", "llama");
		m40_gguf_set_arr_str(w, "tokenizer.ggml.tokens", tok, 100);
		m40_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
		m40_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
		m40_gguf_set_u32(w, "tokenizer.ggml.padding_token_id", UINT32_MAX);
		m40_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", true);
		m40_gguf_set_str(w, "tokenizer.chat_template", "{{ messages }}");
	} else {
		set_u32(w, &s, "vocab_size", (uint32_t)s.n_vocab);
	}
	if (s.no_tensors)
		return w;

	add(w, &s, "token_embd.weight", wt, s.n_embd, s.n_vocab);
	add(w, &s, "output_norm.weight", M40_TYPE_F32, s.n_embd, 1);
	if (!s.tied)
		add(w, &s, "output.weight", wt, s.n_embd, s.n_vocab);
	if (s.rope_freqs)
		add(w, &s, "rope_freqs.weight", M40_TYPE_F32, D / 2, 1);
	for (int il = 0; il < s.n_layer; il++) {
#define T(suffix, type, a, b) do { \
		snprintf(name, sizeof name, "blk.%d.%s", il, suffix); \
		add(w, &s, name, type, a, b); \
	} while (0)
		T("attn_norm.weight", M40_TYPE_F32, s.n_embd, 1);
		T("attn_q.weight", wt, s.n_embd, Q);
		T("attn_k.weight", wt, s.n_embd, KV);
		T("attn_v.weight", wt, s.n_embd, KV);
		T("attn_output.weight", wt, Q, s.n_embd);
		if (s.bias) {
			T("attn_q.bias", M40_TYPE_F32, Q, 1);
			T("attn_k.bias", M40_TYPE_F32, KV, 1);
			T("attn_v.bias", M40_TYPE_F32, KV, 1);
		}
		if (s.qk_norm) {
			T("attn_q_norm.weight", M40_TYPE_F32, D, 1);
			T("attn_k_norm.weight", M40_TYPE_F32, D, 1);
		}
		T("ffn_norm.weight", M40_TYPE_F32, s.n_embd, 1);
		T("ffn_gate.weight", wt, s.n_embd, s.n_ff);
		T("ffn_up.weight", wt, s.n_embd, s.n_ff);
		T("ffn_down.weight", wt, s.n_ff, s.n_embd);
#undef T
	}
	if (s.extra)
		add(w, &s, s.extra, M40_TYPE_F32, 4, 1);
	return w;
}

/* Write, reopen from memory, describe.  Returns the status; *g and *m
 * stay open for the caller (close with done()). */
struct opened {
	void *buf;
	m40_gguf *g;
	m40_model *m;
	m40_error err;
};

static m40_status
open_writer(m40_gguf_writer *w, struct opened *o)
{
	size_t size;
	m40_status s;

	memset(o, 0, sizeof *o);
	m40_error_clear(&o->err);
	s = m40_gguf_writer_to_memory(w, 3, &o->buf, &size, &o->err);
	m40_gguf_writer_free(w);
	if (s != M40_OK) {
		printf("FAIL: writer: %s\n", o->err.msg);
		failures++;
		return s;
	}
	if ((s = m40_gguf_open_memory(o->buf, size, &o->g, &o->err)) != M40_OK) {
		printf("FAIL: reader: %s\n", o->err.msg);
		failures++;
		return s;
	}
	return m40_model_from_gguf(o->g, &o->m, &o->err);
}

static m40_status
open_spec(const struct spec *s, struct opened *o)
{
	return open_writer(build(s), o);
}

static void
done(struct opened *o)
{
	m40_model_close(o->m);
	m40_gguf_close(o->g);
	free(o->buf);
}

/* The spec must be refused with code and a message containing want. */
static void
expect_error(const char *what, const struct spec *s, m40_status code, const char *want)
{
	struct opened o;
	m40_status st = open_spec(s, &o);

	printf("refuse %-34s -> %s\n", what, st == M40_OK ? "(accepted)" : o.err.msg);
	CHECK(st == code, "%s: status %d, want %d", what, (int)st, (int)code);
	CHECK(st == M40_OK || strstr(o.err.msg, want) != NULL, "%s: message '%s' lacks '%s'", what,
		o.err.msg, want);
	CHECK(st != M40_OK || o.m != NULL, "%s", what);
	done(&o);
}

static uint64_t
sum_sizes(const m40_gguf *g, uint64_t *params)
{
	uint64_t bytes = 0;

	*params = 0;
	for (size_t i = 0; i < m40_gguf_n_tensors(g); i++) {
		const m40_gguf_tensor *t = m40_gguf_tensor_at(g, i);
		bytes += t->size;
		*params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
	}
	return bytes;
}

static void
test_llama(void)
{
	struct spec s = { .arch = "llama" };
	struct opened o;
	const m40_hparams *hp;
	uint64_t params, bytes;

	CHECK(open_spec(&s, &o) == M40_OK, "%s", o.err.msg);
	if (o.m == NULL)
		{ done(&o); return; }
	hp = m40_model_hparams(o.m);
	printf("llama: vocab %d ctx %d embd %d layers %d heads %d/%d dim %d ff %d eps %g base %g\n",
		hp->n_vocab, hp->n_ctx_train, hp->n_embd, hp->n_layer, hp->n_head, hp->n_head_kv,
		hp->head_dim, hp->n_ff, hp->norm_eps, hp->rope_base);
	CHECK(hp->arch == M40_ARCH_LLAMA && strcmp(hp->arch_name, "llama") == 0, "arch");
	CHECK(hp->n_vocab == 40 && hp->n_ctx_train == 256 && hp->n_embd == 64 && hp->n_layer == 2,
		"sizes");
	CHECK(hp->n_head == 4 && hp->n_head_kv == 2 && hp->head_dim == 16 && hp->n_ff == 96, "heads");
	CHECK(hp->rope_dim == 16 && hp->rope_base == 10000.0f && !hp->rope_neox, "rope defaults");
	CHECK(hp->rope_scaling == M40_ROPE_SCALING_NONE && hp->rope_scale == 1.0f, "no scaling");
	CHECK(hp->norm_eps == 1e-5f, "eps %g", hp->norm_eps);
	CHECK(!hp->tied_embeddings && !hp->qkv_bias && !hp->qk_norm, "flags");
	bytes = sum_sizes(o.g, &params);
	CHECK(m40_model_weight_bytes(o.m) == bytes, "weight bytes %llu, want %llu",
		(unsigned long long)m40_model_weight_bytes(o.m), (unsigned long long)bytes);
	/* 40*64*2 + 64 + 2 * (64 + 64*64 + 2*64*32 + 64*64 + 64 + 3*64*96) */
	CHECK(params == 5120 + 64 + 2 * (64 + 4096 + 4096 + 4096 + 64 + 18432), "params %llu",
		(unsigned long long)params);
	CHECK(hp->n_params == params, "n_params %llu", (unsigned long long)hp->n_params);
	CHECK(m40_model_gguf(o.m) == o.g, "gguf");
	CHECK(o.m->output != o.m->tok_embd && o.m->rope_freqs == NULL, "output");
	CHECK(strcmp(o.m->layers[1].w_down->name, "blk.1.ffn_down.weight") == 0, "layer 1 ffn_down");
	CHECK(o.m->layers[0].wk->ne[1] == 32 && o.m->layers[0].bq == NULL
		&& o.m->layers[0].q_norm == NULL, "layer 0");
	done(&o);

	/* The estimate, by the formula in model.c, worked out by hand:
	 * kv = 2 * 2 layers * 32 ctx * 3 seq * 32 kv_dim * 2 = 24576;
	 * scratch = 4 * (8 * (2*64 + 2*64 + 2*32 + 2*96) + min(8, 3) * 40) = 16864;
	 * gpu_buffers = 4 * 64 * max(40, 96) (tile) + 32 MiB (cuBLAS) = 33579008,
	 * and from 257 positions on the attention partials: at 1000, 4 splits,
	 * 4 * (64 * 256 counters + 8 tokens * 4 heads * 4 * (16 + 2)) = 74752. */
	{
		m40_mem_estimate e;
		CHECK(open_spec(&s, &o) == M40_OK, "%s", o.err.msg);
		m40_model_estimate_memory(o.m, 32, 3, 8, &e);
		printf("estimate ctx 32 seq 3 batch 8: weights %llu kv %llu scratch %llu total %llu\n",
			(unsigned long long)e.weights, (unsigned long long)e.kv_cache,
			(unsigned long long)e.scratch, (unsigned long long)e.total);
		CHECK(e.weights == bytes && e.kv_cache == 24576 && e.scratch == 16864, "estimate");
		CHECK(e.gpu_buffers == 33579008, "gpu buffers: %llu", (unsigned long long)e.gpu_buffers);
		CHECK(e.total == bytes + 24576 + 16864 + 33579008, "total");
		m40_model_estimate_memory(o.m, 1000, 3, 8, &e);
		CHECK(e.gpu_buffers == 33579008 + 74752, "gpu buffers at 1000: %llu",
			(unsigned long long)e.gpu_buffers);
		m40_model_estimate_memory(o.m, 32, 1, 1, &e);
		CHECK(e.kv_cache == 8192 && e.scratch == 4 * (512 + 40), "estimate, one sequence");
		done(&o);
	}
}

static void
test_variants(void)
{
	struct opened o;
	const m40_hparams *hp;

	{
		struct spec s = { .tied = true, .wtype = M40_TYPE_Q8_0 };
		CHECK(open_spec(&s, &o) == M40_OK, "tied q8_0: %s", o.err.msg);
		if (o.m) {
			hp = m40_model_hparams(o.m);
			printf("tied q8_0: tied %d output is embedding %d\n", hp->tied_embeddings,
				o.m->output == o.m->tok_embd);
			CHECK(hp->tied_embeddings && o.m->output == o.m->tok_embd, "tied");
			CHECK(o.m->layers[0].wq->type == M40_TYPE_Q8_0, "q8_0");
		}
		done(&o);
	}
	{
		struct spec s = { .arch = "qwen2", .bias = true };
		CHECK(open_spec(&s, &o) == M40_OK, "qwen2: %s", o.err.msg);
		if (o.m) {
			hp = m40_model_hparams(o.m);
			printf("qwen2: bias %d neox %d\n", hp->qkv_bias, hp->rope_neox);
			CHECK(hp->arch == M40_ARCH_QWEN2 && hp->qkv_bias && hp->rope_neox && !hp->qk_norm,
				"qwen2 flags");
			CHECK(o.m->layers[1].bv != NULL && o.m->layers[1].bv->ne[0] == 32, "qwen2 bv");
		}
		done(&o);
	}
	{
		/* Heads of 32 though 64 / 4 = 16: q_dim 128 differs from n_embd. */
		struct spec s = { .arch = "qwen3", .qk_norm = true, .key_length = 32 };
		CHECK(open_spec(&s, &o) == M40_OK, "qwen3: %s", o.err.msg);
		if (o.m) {
			hp = m40_model_hparams(o.m);
			printf("qwen3: qk_norm %d neox %d head_dim %d rope_dim %d\n", hp->qk_norm,
				hp->rope_neox, hp->head_dim, hp->rope_dim);
			CHECK(hp->arch == M40_ARCH_QWEN3 && hp->qk_norm && hp->rope_neox && !hp->qkv_bias,
				"qwen3 flags");
			CHECK(hp->head_dim == 32 && hp->rope_dim == 32, "qwen3 head_dim");
			CHECK(o.m->layers[0].wq->ne[1] == 128 && o.m->layers[0].wo->ne[0] == 128
				&& o.m->layers[0].k_norm->ne[0] == 32, "qwen3 shapes");
		}
		done(&o);
	}
	{
		/* Llama 3.1: the factors come as a tensor. */
		struct spec s = { .rope_freqs = true };
		CHECK(open_spec(&s, &o) == M40_OK, "rope_freqs: %s", o.err.msg);
		if (o.m) {
			hp = m40_model_hparams(o.m);
			printf("rope_freqs: scaling %d low %g high %g\n", hp->rope_scaling,
				hp->rope_llama3_low, hp->rope_llama3_high);
			CHECK(hp->rope_scaling == M40_ROPE_SCALING_LLAMA3 && o.m->rope_freqs != NULL
				&& o.m->rope_freqs->ne[0] == 8, "llama3");
			CHECK(hp->rope_llama3_low == 1.0f && hp->rope_llama3_high == 4.0f, "llama3 defaults");
		}
		done(&o);
	}
	{
		struct spec s = { 0 };
		m40_gguf_writer *w = build(&s);
		m40_gguf_set_str(w, "llama.rope.scaling.type", "linear");
		m40_gguf_set_f32(w, "llama.rope.scaling.factor", 4.0f);
		m40_gguf_set_u32(w, "llama.rope.scaling.original_context_length", 64);
		m40_gguf_set_f32(w, "llama.rope.freq_base", 500000.0f);
		m40_gguf_set_u32(w, "llama.rope.dimension_count", 8);
		CHECK(open_writer(w, &o) == M40_OK, "linear: %s", o.err.msg);
		if (o.m) {
			hp = m40_model_hparams(o.m);
			printf("linear: scaling %d factor %g orig %d base %g rope_dim %d\n", hp->rope_scaling,
				hp->rope_scale, hp->rope_orig_ctx, hp->rope_base, hp->rope_dim);
			CHECK(hp->rope_scaling == M40_ROPE_SCALING_LINEAR && hp->rope_scale == 4.0f
				&& hp->rope_orig_ctx == 64, "linear");
			CHECK(hp->rope_base == 500000.0f && hp->rope_dim == 8, "base, dims");
		}
		done(&o);
	}
	{
		/* Per-layer arrays that agree are accepted. */
		struct spec s = { .skip_key = "feed_forward_length" };
		m40_gguf_writer *w = build(&s);
		uint32_t ff[2] = { 96, 96 };
		m40_gguf_set_arr(w, "llama.feed_forward_length", M40_GGUF_UINT32, ff, 2);
		CHECK(open_writer(w, &o) == M40_OK, "ff array: %s", o.err.msg);
		CHECK(o.m == NULL || m40_model_hparams(o.m)->n_ff == 96, "ff array");
		done(&o);
	}
	{
		/* The vocabulary size from the token list. */
		struct spec s = { .tokenizer = true };
		CHECK(open_spec(&s, &o) == M40_OK, "token list: %s", o.err.msg);
		CHECK(o.m == NULL || m40_model_hparams(o.m)->n_vocab == 100, "vocab from tokens");
		done(&o);
	}
}

static void
test_errors(void)
{
	{
		struct spec s = { .arch = "gpt2" };
		expect_error("unknown architecture", &s, M40_E_UNSUPPORTED, "'gpt2'");
	}
	{
		struct spec s = { .skip = "blk.1.ffn_up.weight" };
		expect_error("missing tensor", &s, M40_E_FORMAT, "'blk.1.ffn_up.weight'");
	}
	{
		struct spec s = { .tied = true, .skip = "token_embd.weight" };
		expect_error("no embedding", &s, M40_E_FORMAT, "'token_embd.weight'");
	}
	{
		struct spec s = { .misshape = "blk.0.attn_k.weight" };
		expect_error("mis-shaped matrix", &s, M40_E_FORMAT, "'blk.0.attn_k.weight' has shape [64, 31");
	}
	{
		struct spec s = { .misshape = "output_norm.weight" };
		expect_error("mis-shaped vector", &s, M40_E_FORMAT, "expected [64]");
	}
	{
		struct spec s = { .extra = "blk.0.attn_rot_embd" };
		expect_error("unknown tensor", &s, M40_E_UNSUPPORTED, "'blk.0.attn_rot_embd'");
	}
	{
		struct spec s = { .extra = "blk.7.attn_q.bias" };
		expect_error("tensor of a layer too many", &s, M40_E_UNSUPPORTED, "'blk.7.attn_q.bias'");
	}
	{
		struct spec s = { .arch = "qwen2", .bias = true, .skip = "blk.1.attn_v.bias" };
		expect_error("qwen2 without a bias", &s, M40_E_FORMAT, "'blk.1.attn_v.bias'");
	}
	{
		struct spec s = { .arch = "qwen3" };
		expect_error("qwen3 without norms", &s, M40_E_FORMAT, "'blk.0.attn_q_norm.weight'");
	}
	{
		struct spec s = { .qk_norm = true };
		expect_error("llama with q_norm", &s, M40_E_UNSUPPORTED, "attn_q_norm");
	}
	{
		struct spec s = { .wtype = M40_TYPE_I32 };
		expect_error("non-computable type", &s, M40_E_UNSUPPORTED, "i32");
	}
	{
		struct spec s = { .skip_key = "block_count" };
		expect_error("missing key", &s, M40_E_FORMAT, "'llama.block_count'");
	}
	{
		struct spec s = { .n_head = 4, .n_head_kv = 3 };
		expect_error("heads not shared evenly", &s, M40_E_FORMAT, "KV heads");
	}
	{
		struct spec s = { .no_tensors = true, .tokenizer = true };
		expect_error("vocabulary only", &s, M40_E_FORMAT, "no tensors");
	}
	{
		struct spec s = { 0 };
		m40_gguf_writer *w = build(&s);
		struct opened o;
		m40_gguf_set_str(w, "llama.rope.scaling.type", "longrope");
		CHECK(open_writer(w, &o) == M40_E_UNSUPPORTED && strstr(o.err.msg, "'longrope'"),
			"longrope: %s", o.err.msg);
		printf("refuse %-34s -> %s\n", "unknown RoPE scaling", o.err.msg);
		done(&o);
	}
	{
		struct spec s = { .skip_key = "feed_forward_length" };
		m40_gguf_writer *w = build(&s);
		struct opened o;
		uint32_t ff[2] = { 96, 128 };
		m40_gguf_set_arr(w, "llama.feed_forward_length", M40_GGUF_UINT32, ff, 2);
		CHECK(open_writer(w, &o) == M40_E_UNSUPPORTED && strstr(o.err.msg, "feed_forward_length"),
			"ff varies: %s", o.err.msg);
		printf("refuse %-34s -> %s\n", "FFN size varying by layer", o.err.msg);
		done(&o);
	}
	{
		struct spec s = { 0 };
		m40_gguf_writer *w = build(&s);
		struct opened o;
		m40_gguf_set_str(w, "llama.embedding_length", "sixty-four");
		CHECK(open_writer(w, &o) == M40_E_FORMAT && strstr(o.err.msg, "llama.embedding_length"),
			"string dims: %s", o.err.msg);
		printf("refuse %-34s -> %s\n", "a dimension given as a string", o.err.msg);
		done(&o);
	}
}

/* m40_model_open on a file names the file in its errors and owns the GGUF. */
static void
test_open(const char *dir)
{
	char path[4096];
	struct spec good = { 0 }, bad = { .arch = "mamba" };
	m40_gguf_writer *w;
	m40_model *m = NULL;
	m40_error err;

	snprintf(path, sizeof path, "%s/inspect-model-good-%ld.gguf", dir, (long)getpid());
	w = build(&good);
	CHECK(m40_gguf_writer_save(w, path, 3, &err) == M40_OK, "save: %s", err.msg);
	m40_gguf_writer_free(w);
	CHECK(m40_model_open(path, &m, &err) == M40_OK, "open: %s", err.msg);
	CHECK(m != NULL && m40_model_hparams(m)->n_layer == 2, "open");
	m40_model_close(m);
	remove(path);

	snprintf(path, sizeof path, "%s/inspect-model-bad-%ld.gguf", dir, (long)getpid());
	w = build(&bad);
	CHECK(m40_gguf_writer_save(w, path, 3, &err) == M40_OK, "save: %s", err.msg);
	m40_gguf_writer_free(w);
	m = (m40_model *)&err; /* must be reset to NULL */
	CHECK(m40_model_open(path, &m, &err) == M40_E_UNSUPPORTED, "open bad");
	printf("open %s -> %s\n", path, err.msg);
	CHECK(m == NULL && strstr(err.msg, path) != NULL && strstr(err.msg, "'mamba'") != NULL,
		"message: %s", err.msg);
	remove(path);
	m40_model_close(NULL);
}

/* Sample files for tests/inspect-cli.sh. */
static int
write_samples(const char *dir)
{
	static const struct {
		const char *file;
		struct spec s;
	} sample[] = {
		{ "llama.gguf", { .tokenizer = true } },
		{ "qwen3.gguf", { .arch = "qwen3", .qk_norm = true, .key_length = 32, .wtype = M40_TYPE_Q8_0 } },
		{ "vocab.gguf", { .tokenizer = true, .no_tensors = true } },
		{ "mamba.gguf", { .arch = "mamba" } },
		/* 7B-shaped keys with 2 layers of tiny tensors would not pass the
		 * checks, so --vram is tried on real shapes elsewhere. */
	};
	char path[4096];
	m40_error err;

	for (size_t i = 0; i < sizeof sample / sizeof sample[0]; i++) {
		m40_gguf_writer *w = build(&sample[i].s);
		snprintf(path, sizeof path, "%s/%s", dir, sample[i].file);
		if (m40_gguf_writer_save(w, path, 3, &err) != M40_OK) {
			fprintf(stderr, "inspect-model: %s\n", err.msg);
			return 1;
		}
		m40_gguf_writer_free(w);
	}
	return failures ? 1 : 0;
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");

	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_samples(argv[2]);
	test_llama();
	test_variants();
	test_errors();
	test_open(tmp && *tmp ? tmp : "/tmp");
	printf("%s: %d failure(s)\n", argv[0], failures);
	return failures ? 1 : 0;
}
