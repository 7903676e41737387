/*
 * demo-model.c: the built-in demo model, a tiny llama with random weights
 * written in memory by the GGUF writer, so every program runs with no
 * model configured.
 *
 * Shape: 2 layers, dim 64, 4 heads sharing 2 KV heads (head dim 16), FFN
 * 192, context 512, Q8_0 matrices and F32 norms; an output matrix of its own
 * (tied embeddings make random weights repeat the last token forever).  Weights
 * come from a fixed-seed generator, so the file is the same bytes on every
 * run and machine.  The vocabulary is SentencePiece-style ("llama"):
 * <unk> <s> </s>, the 256 byte tokens <0x00>..<0xFF>, the printable ASCII
 * characters, and common English words with every prefix of each (so the
 * greedy bigram merge can reach whole words).
 */
#include "m40-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_EMBD 64
#define DEMO_LAYERS 2
#define DEMO_HEADS 4
#define DEMO_HEADS_KV 2
#define DEMO_FF 192
#define DEMO_CTX 512
#define DEMO_SEED 0x6d34306c6c6d2121ULL /* "m40llm!!" */

/* The SentencePiece word boundary, U+2581. */
#define SP "\xe2\x96\x81"

static const char demo_words[] =
	"the of and to a in is it you that he was for on are with as I his they be at one have "
	"this from or had by hot word but what some we can out other were all there when up use "
	"your how said an each she which do their time if will way about many then them write "
	"would like so these her long make thing see him two has look more day could go come did "
	"number sound no most people my over know water than call first who may down side been "
	"now find any new work part take get place made live where after back little only round "
	"man year came show every good me give our under name very through just form sentence "
	"great think say help low line differ turn cause much mean before move right boy old too "
	"same tell does set three want air well also play small end put home read hand port large "
	"spell add even land here must big high such follow act why ask men change went light "
	"kind off need house picture try us again animal point mother world near build self earth "
	"father head stand own page should country found answer school grow study still learn "
	"plant cover food sun four between state keep eye never last let thought city tree cross "
	"farm hard start might story saw far sea draw left late run while press close night real "
	"life few north open seem together next white children begin got walk example ease paper "
	"group always music those both mark often letter until mile river car feet care second "
	"book carry took science eat room friend began idea fish mountain stop once base hear "
	"horse cut sure watch color face wood main enough plain girl usual young ready above ever "
	"red list though feel talk bird soon body dog family direct pose leave song measure door "
	"product black short numeral class wind question happen complete ship area half rock order "
	"fire south problem piece told knew pass since top whole king space heard best hour better "
	"true during hundred five remember step early hold west ground interest reach fast verb "
	"sing listen six table travel less morning ten simple several vowel toward war lay against "
	"pattern slow center love person money serve appear road map rain rule govern pull cold "
	"notice voice unit power town fine certain fly fall lead cry dark machine note wait plan "
	"figure star box noun field rest correct able pound done beauty drive stood contain front "
	"teach week final gave green oh quick develop ocean warm free minute strong special mind "
	"behind clear tail produce fact street inch multiply nothing course stay wheel full force "
	"blue object decide surface deep moon island foot system busy test record boat common "
	"gold possible plane stead dry wonder laugh thousand ago ran check game shape equate miss "
	"brought heat snow tire bring yes distant fill east paint language among Once upon There "
	"The He She It They One Lily Tom happy sad ball park";

/* A fixed-seed generator (splitmix64): the same weights everywhere. */
static uint64_t
next_u64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [-a, a). */
static float
next_uniform(uint64_t *state, float a)
{
	return a * (float)((double)(next_u64(state) >> 11) / 4503599627370496.0 - 1.0);
}

struct pieces {
	char **s;
	size_t n, cap;
};

static bool
pieces_has(const struct pieces *p, const char *s, size_t len)
{
	for (size_t i = 0; i < p->n; i++)
		if (strlen(p->s[i]) == len && memcmp(p->s[i], s, len) == 0)
			return true;
	return false;
}

static bool
pieces_add(struct pieces *p, const char *s, size_t len)
{
	char *copy;

	if (pieces_has(p, s, len))
		return true;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 1024;
		char **ns = realloc(p->s, cap * sizeof *ns);
		if (ns == NULL)
			return false;
		p->s = ns;
		p->cap = cap;
	}
	if ((copy = malloc(len + 1)) == NULL)
		return false;
	memcpy(copy, s, len);
	copy[len] = '\0';
	p->s[p->n++] = copy;
	return true;
}

static void
pieces_free(struct pieces *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->s[i]);
	free(p->s);
}

/* The token list: specials, bytes, characters, then "▁word" and its prefixes. */
static bool
build_pieces(struct pieces *p)
{
	static const char *const special[] = { "<unk>", "<s>", "</s>" };
	char buf[64];
	const char *w, *end;
	size_t i, len;
	int c;

	for (i = 0; i < 3; i++)
		if (!pieces_add(p, special[i], strlen(special[i])))
			return false;
	for (c = 0; c < 256; c++) {
		snprintf(buf, sizeof buf, "<0x%02X>", c);
		if (!pieces_add(p, buf, strlen(buf)))
			return false;
	}
	if (!pieces_add(p, SP, strlen(SP)))
		return false;
	for (c = 0x21; c < 0x7f; c++) {
		buf[0] = (char)c;
		if (!pieces_add(p, buf, 1))
			return false;
	}
	for (w = demo_words; *w != '\0'; w = end) {
		while (*w == ' ')
			w++;
		end = w + strcspn(w, " ");
		if (end == w)
			break;
		memcpy(buf, SP, strlen(SP));
		for (len = 1; len <= (size_t)(end - w) && len + strlen(SP) < sizeof buf; len++) {
			memcpy(buf + strlen(SP), w, len);
			if (!pieces_add(p, buf, strlen(SP) + len))
				return false;
		}
	}
	return true;
}

static m40_status
add_vocab(m40_gguf_writer *w, const struct pieces *p, m40_error *err)
{
	float *scores = malloc(p->n * sizeof *scores);
	int32_t *types = malloc(p->n * sizeof *types);
	m40_status s = M40_E_NOMEM;

	if (scores != NULL && types != NULL) {
		for (size_t i = 0; i < p->n; i++) {
			/* Longer pieces first when merges compete; specials and bytes score 0. */
			scores[i] = i < 259 ? 0.0f : -(float)(p->n - i) / (float)p->n;
			types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
		}
		if ((s = m40_gguf_set_str(w, "tokenizer.ggml.model", "llama")) == M40_OK
			&& (s = m40_gguf_set_arr_str(w, "tokenizer.ggml.tokens",
			(const char *const *)p->s, p->n)) == M40_OK
			&& (s = m40_gguf_set_arr(w, "tokenizer.ggml.scores", M40_GGUF_FLOAT32, scores,
			p->n)) == M40_OK
			&& (s = m40_gguf_set_arr(w, "tokenizer.ggml.token_type", M40_GGUF_INT32, types,
			p->n)) == M40_OK
			&& (s = m40_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", 0)) == M40_OK
			&& (s = m40_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1)) == M40_OK
			&& (s = m40_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2)) == M40_OK
			&& (s = m40_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", true)) == M40_OK)
			s = m40_gguf_set_bool(w, "tokenizer.ggml.add_eos_token", false);
	}
	free(scores);
	free(types);
	if (s != M40_OK)
		return m40_error_set(err, s, _("cannot build the demo model's vocabulary: %s"),
			m40_strerror(s));
	return M40_OK;
}

/* A random matrix of rows x cols in Q8_0 (or F32 for a vector of norms);
 * its first zero_rows rows are zero. */
static m40_status
add_tensor_z(m40_gguf_writer *w, uint64_t *rng, const char *name, int type, int64_t cols,
	int64_t rows, float center, float spread, int64_t zero_rows)
{
	size_t row_bytes = m40_type_row_bytes(type, cols);
	float *x = malloc((size_t)cols * sizeof *x);
	unsigned char *data = malloc(row_bytes * (size_t)rows);
	int64_t ne[2] = { cols, rows };
	m40_status s = M40_E_NOMEM;

	if (x != NULL && data != NULL) {
		s = M40_OK;
		for (int64_t r = 0; r < rows && s == M40_OK; r++) {
			for (int64_t c = 0; c < cols; c++)
				x[c] = r < zero_rows ? 0.0f : center + next_uniform(rng, spread);
			s = m40_quantize_row(type, x, data + (size_t)r * row_bytes, cols);
		}
		if (s == M40_OK)
			s = m40_gguf_add_tensor(w, name, type, rows > 1 ? 2 : 1, ne, data,
				row_bytes * (size_t)rows);
	}
	free(x);
	free(data);
	return s;
}

static m40_status
add_tensor(m40_gguf_writer *w, uint64_t *rng, const char *name, int type, int64_t cols,
	int64_t rows, float center, float spread)
{
	return add_tensor_z(w, rng, name, type, cols, rows, center, spread, 0);
}

static m40_status
add_weights(m40_gguf_writer *w, int64_t n_vocab, m40_error *err)
{
	const int64_t E = DEMO_EMBD, F = DEMO_FF, hd = DEMO_EMBD / DEMO_HEADS, KV = DEMO_HEADS_KV * hd;
	const float in = 1.0f / sqrtf((float)E) * 1.7f, ff = 1.0f / sqrtf((float)F) * 1.7f;
	uint64_t rng = DEMO_SEED;
	char name[64];
	m40_status s;
	int il;

	if ((s = add_tensor(w, &rng, "token_embd.weight", M40_TYPE_Q8_0, E, n_vocab, 0, 1.0f))
		!= M40_OK
		|| (s = add_tensor(w, &rng, "output_norm.weight", M40_TYPE_F32, E, 1, 1.0f, 0.1f))
		!= M40_OK
		/* Zero logits for the specials and bytes: the text comes out in words. */
		|| (s = add_tensor_z(w, &rng, "output.weight", M40_TYPE_Q8_0, E, n_vocab, 0, 1.0f, 259))
		!= M40_OK)
		goto fail;
	for (il = 0; il < DEMO_LAYERS; il++) {
		const struct {
			const char *suffix;
			int type;
			int64_t cols, rows;
			float center, spread;
		} t[] = {
			{ "attn_norm.weight", M40_TYPE_F32, E, 1, 1.0f, 0.1f },
			{ "attn_q.weight", M40_TYPE_Q8_0, E, E, 0, in },
			{ "attn_k.weight", M40_TYPE_Q8_0, E, KV, 0, in },
			{ "attn_v.weight", M40_TYPE_Q8_0, E, KV, 0, in },
			{ "attn_output.weight", M40_TYPE_Q8_0, E, E, 0, in },
			{ "ffn_norm.weight", M40_TYPE_F32, E, 1, 1.0f, 0.1f },
			{ "ffn_gate.weight", M40_TYPE_Q8_0, E, F, 0, in },
			{ "ffn_up.weight", M40_TYPE_Q8_0, E, F, 0, in },
			{ "ffn_down.weight", M40_TYPE_Q8_0, F, E, 0, ff },
		};
		for (size_t i = 0; i < M40_ARRAY_SIZE(t); i++) {
			snprintf(name, sizeof name, "blk.%d.%s", il, t[i].suffix);
			if ((s = add_tensor(w, &rng, name, t[i].type, t[i].cols, t[i].rows, t[i].center,
				t[i].spread)) != M40_OK)
				goto fail;
		}
	}
	return M40_OK;
fail:
	return m40_error_set(err, s, _("cannot build the demo model's weights: %s"), m40_strerror(s));
}

static m40_status
add_hparams(m40_gguf_writer *w, uint32_t n_vocab)
{
	m40_status s;

	if ((s = m40_gguf_set_str(w, "general.architecture", "llama")) != M40_OK
		|| (s = m40_gguf_set_str(w, "general.name", "m40-llm demo (random weights)")) != M40_OK
		|| (s = m40_gguf_set_u32(w, "llama.context_length", DEMO_CTX)) != M40_OK
		|| (s = m40_gguf_set_u32(w, "llama.embedding_length", DEMO_EMBD)) != M40_OK
		|| (s = m40_gguf_set_u32(w, "llama.block_count", DEMO_LAYERS)) != M40_OK
		|| (s = m40_gguf_set_u32(w, "llama.feed_forward_length", DEMO_FF)) != M40_OK
		|| (s = m40_gguf_set_u32(w, "llama.attention.head_count", DEMO_HEADS)) != M40_OK
		|| (s = m40_gguf_set_u32(w, "llama.attention.head_count_kv", DEMO_HEADS_KV)) != M40_OK
		|| (s = m40_gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f)) != M40_OK
		|| (s = m40_gguf_set_u32(w, "llama.rope.dimension_count", DEMO_EMBD / DEMO_HEADS))
		!= M40_OK
		|| (s = m40_gguf_set_f32(w, "llama.rope.freq_base", 10000.0f)) != M40_OK
		|| (s = m40_gguf_set_u32(w, "llama.vocab_size", n_vocab)) != M40_OK)
		return s;
	return M40_OK;
}

m40_status
m40_model_demo(void **buf, size_t *size, m40_error *err)
{
	struct pieces p = { 0 };
	m40_gguf_writer *w = NULL;
	m40_status s;

	*buf = NULL;
	*size = 0;
	if (!build_pieces(&p) || (w = m40_gguf_writer_new()) == NULL) {
		s = m40_error_set(err, M40_E_NOMEM, _("out of memory building the demo model"));
		goto out;
	}
	if ((s = add_hparams(w, (uint32_t)p.n)) != M40_OK) {
		m40_error_set(err, s, _("cannot build the demo model's metadata: %s"), m40_strerror(s));
		goto out;
	}
	if ((s = add_vocab(w, &p, err)) != M40_OK || (s = add_weights(w, (int64_t)p.n, err)) != M40_OK)
		goto out;
	s = m40_gguf_writer_to_memory(w, 3, buf, size, err);
out:
	m40_gguf_writer_free(w);
	pieces_free(&p);
	return s;
}
