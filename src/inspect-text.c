/* inspect-text.c: m40-inspect's human output: the summary, the tensor table, --kv values. */
#include "inspect.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* n in steps of base with the given units ("1.5 KiB", "260 K"); below one
 * step, n itself followed by small. */
static const char *
fmt_scaled(uint64_t n, double base, const char *const *unit, int n_unit, const char *small, char *buf,
	size_t size)
{
	double x = (double)n;
	int u = -1;

	if (x < base) {
		snprintf(buf, size, "%" PRIu64 "%s", n, small);
		return buf;
	}
	while (x >= base && u < n_unit - 1) {
		x /= base;
		u++;
	}
	snprintf(buf, size, x < 10 ? "%.2f %s" : x < 100 ? "%.1f %s" : "%.0f %s", x, unit[u]);
	return buf;
}

/* Bytes with binary units: "512 B", "1.5 KiB", "3.82 GiB". */
const char *
fmt_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };

	return fmt_scaled(n, 1024.0, unit, 5, " B", buf, size);
}

/* A count with decimal units: "260 K", "1.10 B" (parameters). */
static const char *
fmt_count(uint64_t n, char *buf, size_t size)
{
	static const char *const unit[] = { "K", "M", "B", "T" };

	return fmt_scaled(n, 1000.0, unit, 4, "", buf, size);
}

/* The shortest decimal that reads back as the same float (or double). */
const char *
fmt_real(double x, bool single, char *buf, size_t size)
{
	if (x == (double)(int64_t)x && x > -1e15 && x < 1e15) {
		snprintf(buf, size, "%.0f", x); /* 10000, not 1e+04 */
		return buf;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, x);
		if (single ? (float)strtod(buf, NULL) == (float)x : strtod(buf, NULL) == x)
			break;
	}
	return buf;
}

/* "label:" padded to a column, counting characters rather than bytes so
 * that translated labels line up too. */
static void
label(const char *s)
{
	int width = 0;

	for (const char *p = s; *p; p++)
		if (((unsigned char)*p & 0xC0) != 0x80)
			width++;
	fputs(s, stdout);
	putchar(':');
	for (width++; width < 18; width++)
		putchar(' ');
}

static const char *
file_type_name(int64_t ft)
{
	/* llama.cpp's llama_ftype: what general.file_type says. */
	static const char *const name[] = {
		[0] = "F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1", [7] = "Q8_0", [8] = "Q5_0",
		[9] = "Q5_1", [10] = "Q2_K", [11] = "Q3_K_S", [12] = "Q3_K_M", [13] = "Q3_K_L",
		[14] = "Q4_K_S", [15] = "Q4_K_M", [16] = "Q5_K_S", [17] = "Q5_K_M", [18] = "Q6_K",
		[19] = "IQ2_XXS", [20] = "IQ2_XS", [21] = "Q2_K_S", [22] = "IQ3_XS", [23] = "IQ3_XXS",
		[24] = "IQ1_S", [25] = "IQ4_NL", [26] = "IQ3_S", [27] = "IQ3_M", [28] = "IQ2_S",
		[29] = "IQ2_M", [30] = "IQ4_XS", [31] = "IQ1_M", [32] = "BF16", [36] = "TQ1_0",
		[37] = "TQ2_0", [38] = "MXFP4",
	};
	if (ft < 0 || ft >= (int64_t)(sizeof name / sizeof name[0]))
		return NULL;
	return name[ft];
}

static uint64_t
tensor_elements(const m40_gguf_tensor *t)
{
	return (uint64_t)t->ne[0] * (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3];
}

uint64_t
count_params(const m40_gguf *g)
{
	uint64_t n = 0;

	for (size_t i = 0; i < m40_gguf_n_tensors(g); i++)
		n += tensor_elements(m40_gguf_tensor_at(g, i));
	return n;
}

void
type_mix(const m40_gguf *g, struct type_mix *mix)
{
	memset(mix, 0, sizeof *mix);
	for (size_t i = 0; i < m40_gguf_n_tensors(g); i++) {
		const m40_gguf_tensor *t = m40_gguf_tensor_at(g, i);
		int k = t->type >= 0 && t->type < M40_TYPE_COUNT ? t->type : M40_TYPE_COUNT;
		mix->count[k]++;
		mix->bytes[k] += t->size;
	}
}

const char *
type_label(int k)
{
	const char *n = k < M40_TYPE_COUNT ? m40_type_name(k) : NULL;
	return n ? n : "unknown";
}

/* ---- tokenizer facts, read from the metadata directly ------------------ */

const struct special_key special_keys[] = {
	{ "tokenizer.ggml.bos_token_id", "BOS" },
	{ "tokenizer.ggml.eos_token_id", "EOS" },
	{ "tokenizer.ggml.eot_token_id", "EOT" },
	{ "tokenizer.ggml.eom_token_id", "EOM" },
	{ "tokenizer.ggml.unknown_token_id", "UNK" },
	{ "tokenizer.ggml.seperator_token_id", "SEP" },
	{ "tokenizer.ggml.padding_token_id", "PAD" },
};
const size_t n_special_keys = ARRAY_SIZE(special_keys);

static const char *
tokenizer_kind(const char *model)
{
	if (model == NULL)
		return NULL;
	if (strcmp(model, "llama") == 0)
		return _("SentencePiece");
	if (strcmp(model, "gpt2") == 0)
		return _("byte-level BPE");
	if (strcmp(model, "bert") == 0)
		return _("WordPiece");
	if (strcmp(model, "t5") == 0)
		return _("Unigram");
	return _("unknown kind");
}

const m40_gguf_value *
token_list(const m40_gguf *g)
{
	const m40_gguf_value *v = m40_gguf_get(g, "tokenizer.ggml.tokens");

	return v != NULL && v->type == M40_GGUF_ARRAY && v->v.arr.type == M40_GGUF_STRING ? v : NULL;
}

/* A token's text for humans, quoted, with control characters escaped. */
static void
print_piece(const m40_gguf *g, int64_t id)
{
	const m40_gguf_value *tok = token_list(g);
	const char *s;
	uint64_t len;

	if (tok == NULL || id < 0 || (uint64_t)id >= tok->v.arr.n) {
		fputs(_(" (not in the vocabulary)"), stdout);
		return;
	}
	s = m40_gguf_arr_str(tok, (uint64_t)id, &len);
	fputs(" '", stdout);
	for (uint64_t i = 0; i < len && i < 64; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('\'');
}

/* ---- the human summary ------------------------------------------------- */

static void
print_hparams(const m40_hparams *hp, const m40_model *m)
{
	char buf[64];
	static const char *const scaling[] = { "none", "linear", "yarn", "llama3" };

	label(_("context length"));
	printf("%d\n", (int)hp->n_ctx_train);
	label(_("embedding"));
	printf("%d\n", (int)hp->n_embd);
	label(_("layers"));
	printf("%d\n", (int)hp->n_layer);
	label(_("attention heads"));
	printf(_("%d (KV heads %d, head dimension %d)\n"), (int)hp->n_head, (int)hp->n_head_kv,
		(int)hp->head_dim);
	label(_("feed-forward"));
	printf("%d\n", (int)hp->n_ff);
	label(_("vocabulary"));
	printf("%d\n", (int)hp->n_vocab);
	label(_("RMS norm epsilon"));
	printf("%s\n", fmt_real(hp->norm_eps, true, buf, sizeof buf));
	label(_("RoPE"));
	printf(_("base %s, %d dimensions, %s"), fmt_real(hp->rope_base, true, buf, sizeof buf),
		(int)hp->rope_dim, hp->rope_neox ? _("NeoX (halves)") : _("normal (pairs)"));
	if (hp->rope_scaling != M40_ROPE_SCALING_NONE) {
		printf(_(", scaling %s"), scaling[hp->rope_scaling]);
		if (hp->rope_scale != 1.0f)
			printf(" x%s", fmt_real(hp->rope_scale, true, buf, sizeof buf));
		printf(_(" (original context %d)"), (int)hp->rope_orig_ctx);
	}
	putchar('\n');
	label(_("output"));
	fputs(hp->tied_embeddings ? _("tied to the token embedding\n") : _("own matrix\n"), stdout);
	if (hp->qkv_bias || hp->qk_norm) {
		label(_("attention extras"));
		if (hp->qkv_bias && hp->qk_norm)
			fputs(_("Q, K, V biases; Q and K norms\n"), stdout);
		else
			fputs(hp->qkv_bias ? _("Q, K, V biases\n") : _("Q and K norms per head\n"), stdout);
	}
	label(_("weights"));
	printf("%s\n", fmt_bytes(m40_model_weight_bytes(m), buf, sizeof buf));
}

static void
print_tokenizer(const m40_gguf *g)
{
	const char *model = m40_gguf_get_str(g, "tokenizer.ggml.model");
	const char *pre = m40_gguf_get_str(g, "tokenizer.ggml.pre");
	const m40_gguf_value *tok = token_list(g);
	const char *tmpl = m40_gguf_get_str(g, "tokenizer.chat_template");
	bool any = false, flag;
	int64_t id;

	label(_("tokenizer"));
	if (model == NULL) {
		fputs(_("none\n"), stdout);
	} else {
		printf("%s (%s)", model, tokenizer_kind(model));
		if (pre != NULL && *pre != '\0')
			printf(_(", pre-tokenizer %s"), pre);
		if (tok != NULL)
			printf(ngettext(", %" PRIu64 " token", ", %" PRIu64 " tokens", tok->v.arr.n),
				tok->v.arr.n);
		putchar('\n');
	}
	for (size_t i = 0; i < n_special_keys; i++) {
		/* llama.cpp writes (uint32_t)-1 for "none". */
		if (!m40_gguf_get_int(g, special_keys[i].key, &id) || id < 0 || id == UINT32_MAX)
			continue;
		if (!any)
			label(_("special tokens"));
		else
			fputs("\n                  ", stdout);
		printf("%s %" PRId64, special_keys[i].what, id);
		print_piece(g, id);
		any = true;
	}
	if (any)
		putchar('\n');
	if (m40_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &flag)) {
		label(_("adds BOS"));
		fputs(flag ? _("yes\n") : _("no\n"), stdout);
	}
	label(_("chat template"));
	if (tmpl != NULL)
		printf(ngettext("yes (%zu byte)\n", "yes (%zu bytes)\n", strlen(tmpl)), strlen(tmpl));
	else
		fputs(_("no\n"), stdout);
}

void
print_summary(const char *path, const m40_gguf *g, const m40_model *m, const char *why)
{
	char buf[64], buf2[64];
	const char *arch = m40_gguf_get_str(g, "general.architecture");
	const char *name = m40_gguf_get_str(g, "general.name");
	size_t n_tensors = m40_gguf_n_tensors(g);
	struct type_mix mix;
	int64_t ft;

	label(_("file"));
	printf("%s\n", path ? path : _("(built-in demo model)"));
	label(_("file size"));
	printf(_("%s (GGUF version %u, %zu metadata keys)\n"),
		fmt_bytes(m40_gguf_file_size(g), buf, sizeof buf), (unsigned)m40_gguf_version(g),
		m40_gguf_n_kv(g));
	if (name != NULL) {
		label(_("name"));
		printf("%s\n", name);
	}
	label(_("architecture"));
	printf("%s\n", arch ? arch : _("(not given)"));
	label(_("runs here"));
	if (m != NULL)
		fputs(_("yes\n"), stdout);
	else
		printf(_("no: %s\n"), why);
	if (n_tensors == 0) {
		label(_("tensors"));
		fputs(_("none (a vocabulary-only file)\n"), stdout);
	} else {
		uint64_t p = count_params(g);
		label(_("parameters"));
		printf("%s (%" PRIu64 ")\n", fmt_count(p, buf, sizeof buf), p);
		label(_("tensors"));
		printf("%zu\n", n_tensors);
		if (m40_gguf_get_int(g, "general.file_type", &ft) && file_type_name(ft) != NULL) {
			label(_("file type"));
			printf("%s\n", file_type_name(ft));
		}
		type_mix(g, &mix);
		label(_("tensor types"));
		for (int k = 0, first = 1; k <= M40_TYPE_COUNT; k++) {
			if (mix.count[k] == 0)
				continue;
			if (!first)
				fputs("\n                  ", stdout);
			printf(ngettext("%-7s %4" PRIu64 " tensor,  %s", "%-7s %4" PRIu64 " tensors, %s",
				mix.count[k]), type_label(k), mix.count[k],
				fmt_bytes(mix.bytes[k], buf2, sizeof buf2));
			first = 0;
		}
		putchar('\n');
	}
	if (m != NULL)
		print_hparams(m40_model_hparams(m), m);
	print_tokenizer(g);
}

void
print_tensors(const m40_gguf *g)
{
	char buf[64], shape[96];

	putchar('\n');
	if (m40_gguf_n_tensors(g) == 0) {
		fputs(_("No tensors.\n"), stdout);
		return;
	}
	/* TRANSLATORS: the next five are column heads of the tensor table. */
	printf("%-5s %-36s %-8s %-24s %10s %14s\n", "#", _("name"), _("type"), _("shape"),
		_("size"), _("offset"));
	for (size_t i = 0; i < m40_gguf_n_tensors(g); i++) {
		const m40_gguf_tensor *t = m40_gguf_tensor_at(g, i);
		int n = snprintf(shape, sizeof shape, "[%" PRId64, t->ne[0]);
		for (uint32_t d = 1; d < t->n_dims && d < M40_GGUF_MAX_DIMS; d++)
			n += snprintf(shape + n, sizeof shape - (size_t)n, ", %" PRId64, t->ne[d]);
		snprintf(shape + n, sizeof shape - (size_t)n, "]");
		printf("%-5zu %-36s %-8s %-24s %10s %14" PRIu64 "\n", i, t->name, type_label(
			t->type >= 0 && t->type < M40_TYPE_COUNT ? t->type : M40_TYPE_COUNT), shape,
			fmt_bytes(t->size, buf, sizeof buf), m40_gguf_data_offset(g) + t->offset);
	}
}

/* ---- --kv -------------------------------------------------------------- */

static void
print_scalar(const m40_gguf_value *v)
{
	char buf[40];

	switch (v->type) {
	case M40_GGUF_UINT8: case M40_GGUF_UINT16: case M40_GGUF_UINT32: case M40_GGUF_UINT64:
		printf("%" PRIu64, v->v.u64);
		break;
	case M40_GGUF_INT8: case M40_GGUF_INT16: case M40_GGUF_INT32: case M40_GGUF_INT64:
		printf("%" PRId64, v->v.i64);
		break;
	case M40_GGUF_FLOAT32: case M40_GGUF_FLOAT64:
		fputs(fmt_real(v->v.f64, v->type == M40_GGUF_FLOAT32, buf, sizeof buf), stdout);
		break;
	case M40_GGUF_BOOL:
		fputs(v->v.u64 ? "true" : "false", stdout);
		break;
	case M40_GGUF_STRING:
		fwrite(v->v.str.ptr, 1, (size_t)v->v.str.len, stdout);
		break;
	default:
		break;
	}
}

/* Scalars as text; arrays one element a line (nested ones as JSON-ish
 * bracketed lists on their line). */
void
print_value(const m40_gguf_value *v)
{
	if (v->type != M40_GGUF_ARRAY) {
		print_scalar(v);
		putchar('\n');
		return;
	}
	for (uint64_t i = 0; i < v->v.arr.n; i++) {
		m40_gguf_value e;
		const char *s;
		uint64_t len;

		memset(&e, 0, sizeof e);
		e.type = v->v.arr.type;
		switch (e.type) {
		case M40_GGUF_STRING:
			s = m40_gguf_arr_str(v, i, &len);
			fwrite(s, 1, (size_t)len, stdout);
			putchar('\n');
			continue;
		case M40_GGUF_ARRAY:
			print_value(&v->v.arr.items[i]);
			continue;
		case M40_GGUF_FLOAT32: case M40_GGUF_FLOAT64:
			e.v.f64 = m40_gguf_arr_float(v, i);
			break;
		case M40_GGUF_INT8: case M40_GGUF_INT16: case M40_GGUF_INT32: case M40_GGUF_INT64:
			e.v.i64 = m40_gguf_arr_int(v, i);
			break;
		default:
			e.v.u64 = (uint64_t)m40_gguf_arr_int(v, i);
			break;
		}
		print_scalar(&e);
		putchar('\n');
	}
}
