/* m40-inspect.c: describe a GGUF model file, estimate its GPU memory, list devices. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- small helpers ----------------------------------------------------- */

static void
usage(void)
{
	printf(_("Usage: %s [OPTION]... [MODEL]\n"), cli_program());
	/* TRANSLATORS: the purpose line of m40-inspect --help. */
	fputs(_("Describe a GGUF model file: architecture, sizes, tokenizer, tensors,\n"
		"and the GPU memory a run needs.\n"), stdout);
	fputs(_("\n"
		"  -m, --model=PATH       the model file (also the MODEL operand or $M40_MODEL)\n"
		"  -t, --tensors          add the table of tensors\n"
		"  -j, --json             print everything as one JSON document\n"
		"      --full             with --json, include long arrays (the vocabulary) whole\n"
		"  -k, --kv=KEY           print the value of one metadata key\n"
		"      --vram             estimate the GPU memory a run needs\n"
		"  -c, --ctx-size=N       with --vram, context length (default: the model's, at most 4096)\n"
		"  -b, --batch-size=N     with --vram, tokens per batch (default 512)\n"
		"  -s, --sequences=N      with --vram, sequences decoded together (default 1)\n"
		"      --devices          list the compute backends and devices, no MODEL needed\n"
		"      --help             display this help and exit\n"
		"      --version          output version information and exit\n"), stdout);
	fputs(_("\n"
		"Exit status: 0 on success, 1 for bad usage or a key not found, 2 when the\n"
		"model cannot be opened or read.\n"), stdout);
	cli_help_footer();
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "tensors", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "full", no_argument, NULL, OPT_FULL },
		{ "kv", required_argument, NULL, 'k' },
		{ "vram", no_argument, NULL, OPT_VRAM },
		{ "ctx-size", required_argument, NULL, 'c' },
		{ "batch-size", required_argument, NULL, 'b' },
		{ "sequences", required_argument, NULL, 's' },
		{ "devices", no_argument, NULL, OPT_DEVICES },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof *o);
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":m:tjk:c:b:s:", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 't':
			o->tensors = true;
			break;
		case 'j':
			o->json = true;
			break;
		case OPT_FULL:
			o->full = true;
			break;
		case 'k':
			o->kv = optarg;
			break;
		case OPT_VRAM:
			o->vram = true;
			break;
		case 'c':
			o->n_ctx = (int)cli_parse_long(optarg, "-c", 1, 1 << 24);
			break;
		case 'b':
			o->n_batch = (int)cli_parse_long(optarg, "-b", 1, 1 << 20);
			break;
		case 's':
			o->n_seq = (int)cli_parse_long(optarg, "-s", 1, 1 << 16);
			break;
		case OPT_DEVICES:
			o->devices = true;
			break;
		case OPT_HELP:
			usage();
			exit(M40_EXIT_OK);
		case OPT_VERSION:
			cli_version();
			exit(M40_EXIT_OK);
		default:
			cli_bad_option(c, argv);
		}
	}
	if (optind < argc) {
		if (o->model != NULL)
			cli_usage_error(_("give the model either as MODEL or with -m, not both"));
		o->model = argv[optind++];
	}
	if (optind < argc)
		cli_usage_error(_("extra operand '%s'"), argv[optind]);
	if (o->kv != NULL && (o->json || o->tensors || o->vram))
		cli_usage_error(_("--kv prints one value and takes no other output option"));
	if (o->full && !o->json)
		cli_usage_error(_("--full goes with --json"));
	if ((o->n_ctx || o->n_batch || o->n_seq) && !o->vram)
		cli_usage_error(_("-c, -b and -s go with --vram"));
	if (o->devices && (o->model || o->kv || o->tensors || o->vram))
		cli_usage_error(_("--devices takes no model and no other option but --json"));
}

/* Bytes with binary units: "512 B", "1.5 KiB", "3.82 GiB". */
static const char *
fmt_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double x = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", n);
		return buf;
	}
	while (x >= 1024.0 && u < 4) {
		x /= 1024.0;
		u++;
	}
	snprintf(buf, size, x < 10 ? "%.2f %s" : x < 100 ? "%.1f %s" : "%.0f %s", x, unit[u]);
	return buf;
}

/* A count with decimal units: "260 K", "1.10 B" (parameters). */
static const char *
fmt_count(uint64_t n, char *buf, size_t size)
{
	static const char *const unit[] = { "K", "M", "B", "T" };
	double x = (double)n;
	int u = -1;

	if (n < 1000) {
		snprintf(buf, size, "%" PRIu64, n);
		return buf;
	}
	while (x >= 1000.0 && u < 3) {
		x /= 1000.0;
		u++;
	}
	snprintf(buf, size, x < 10 ? "%.2f %s" : x < 100 ? "%.1f %s" : "%.0f %s", x, unit[u]);
	return buf;
}

/* The shortest decimal that reads back as the same float (or double). */
static const char *
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

static uint64_t
count_params(const m40_gguf *g)
{
	uint64_t n = 0;

	for (size_t i = 0; i < m40_gguf_n_tensors(g); i++)
		n += tensor_elements(m40_gguf_tensor_at(g, i));
	return n;
}

/* Tensors per type, in type order. */
struct type_mix {
	uint64_t count[M40_TYPE_COUNT + 1]; /* the last slot: unknown ids */
	uint64_t bytes[M40_TYPE_COUNT + 1];
};

static void
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

static const char *
type_label(int k)
{
	const char *n = k < M40_TYPE_COUNT ? m40_type_name(k) : NULL;
	return n ? n : "unknown";
}

/* ---- tokenizer facts, read from the metadata directly ------------------ */

static const struct {
	const char *key;
	const char *what;
} special_keys[] = {
	{ "tokenizer.ggml.bos_token_id", "BOS" },
	{ "tokenizer.ggml.eos_token_id", "EOS" },
	{ "tokenizer.ggml.eot_token_id", "EOT" },
	{ "tokenizer.ggml.eom_token_id", "EOM" },
	{ "tokenizer.ggml.unknown_token_id", "UNK" },
	{ "tokenizer.ggml.seperator_token_id", "SEP" },
	{ "tokenizer.ggml.padding_token_id", "PAD" },
};

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

static const m40_gguf_value *
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
	for (size_t i = 0; i < ARRAY_SIZE(special_keys); i++) {
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

static void
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

static void
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

static void print_value(const m40_gguf_value *v);

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
static void
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

/* ---- JSON ---------------------------------------------------------------- */

static json_t *
jstr(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	char *fixed, *p;

	if (j != NULL)
		return j;
	/* Not UTF-8: replace each bad byte with U+FFFD so the document stays
	 * valid JSON. */
	fixed = malloc(len * 3 + 1);
	if (fixed == NULL)
		cli_die(M40_EXIT_FAILURE, "%s", m40_strerror(M40_E_NOMEM));
	p = fixed;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
			: (c & 0xF8) == 0xF0 ? 4 : 0;
		json_t *probe = n && c != 0 && i + n <= len ? json_stringn(s + i, n) : NULL;
		if (probe != NULL) {
			memcpy(p, s + i, n);
			p += n;
			i += n;
			json_decref(probe);
		} else {
			memcpy(p, "\xEF\xBF\xBD", 3);
			p += 3;
			i++;
		}
	}
	j = json_stringn(fixed, (size_t)(p - fixed));
	free(fixed);
	return j;
}

static json_t *
jreal(double x)
{
	json_t *j = json_real(x);

	return j ? j : json_null(); /* NaN and infinities have no JSON form */
}

/* A float32 as the shortest decimal that reads back as it (1e-05, not
 * 9.99999975e-06). */
static json_t *
jreal32(double x)
{
	char buf[40];

	return jreal(strtod(fmt_real(x, true, buf, sizeof buf), NULL));
}

static json_t *
jvalue(const m40_gguf_value *v, bool full)
{
	json_t *a;

	switch (v->type) {
	case M40_GGUF_UINT8: case M40_GGUF_UINT16: case M40_GGUF_UINT32: case M40_GGUF_UINT64:
		return v->v.u64 <= INT64_MAX ? json_integer((json_int_t)v->v.u64) : jreal((double)v->v.u64);
	case M40_GGUF_INT8: case M40_GGUF_INT16: case M40_GGUF_INT32: case M40_GGUF_INT64:
		return json_integer((json_int_t)v->v.i64);
	case M40_GGUF_FLOAT32:
		return jreal32(v->v.f64);
	case M40_GGUF_FLOAT64:
		return jreal(v->v.f64);
	case M40_GGUF_BOOL:
		return json_boolean(v->v.u64 != 0);
	case M40_GGUF_STRING:
		return jstr(v->v.str.ptr, (size_t)v->v.str.len);
	case M40_GGUF_ARRAY:
		break;
	default:
		return json_null();
	}
	if (!full && v->v.arr.n > JSON_ARRAY_MAX)
		return json_pack("{s:s, s:s, s:I}", "type", "array", "element_type",
			m40_gguf_type_name(v->v.arr.type), "length", (json_int_t)v->v.arr.n);
	a = json_array();
	for (uint64_t i = 0; i < v->v.arr.n; i++) {
		json_t *e;
		const char *s;
		uint64_t len;

		switch (v->v.arr.type) {
		case M40_GGUF_STRING:
			s = m40_gguf_arr_str(v, i, &len);
			e = jstr(s, (size_t)len);
			break;
		case M40_GGUF_ARRAY:
			e = jvalue(&v->v.arr.items[i], full);
			break;
		case M40_GGUF_FLOAT32:
			e = jreal32(m40_gguf_arr_float(v, i));
			break;
		case M40_GGUF_FLOAT64:
			e = jreal(m40_gguf_arr_float(v, i));
			break;
		case M40_GGUF_BOOL:
			e = json_boolean(m40_gguf_arr_int(v, i) != 0);
			break;
		default:
			e = json_integer((json_int_t)m40_gguf_arr_int(v, i));
			break;
		}
		json_array_append_new(a, e);
	}
	return a;
}

static json_t *
json_hparams(const m40_model *m)
{
	const m40_hparams *hp = m40_model_hparams(m);
	static const char *const scaling[] = { "none", "linear", "yarn", "llama3" };

	return json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:b, s:i, s:s, s:o,"
		" s:o, s:o, s:i, s:b, s:b, s:b, s:I, s:I}",
		"architecture", hp->arch_name,
		"n_vocab", (int)hp->n_vocab,
		"n_ctx_train", (int)hp->n_ctx_train,
		"n_embd", (int)hp->n_embd,
		"n_layer", (int)hp->n_layer,
		"n_head", (int)hp->n_head,
		"n_head_kv", (int)hp->n_head_kv,
		"head_dim", (int)hp->head_dim,
		"n_ff", (int)hp->n_ff,
		"norm_eps", jreal32(hp->norm_eps),
		"rope_base", jreal32(hp->rope_base),
		"rope_neox", hp->rope_neox,
		"rope_dim", (int)hp->rope_dim,
		"rope_scaling", scaling[hp->rope_scaling],
		"rope_scale", jreal32(hp->rope_scale),
		"rope_llama3_low", jreal32(hp->rope_llama3_low),
		"rope_llama3_high", jreal32(hp->rope_llama3_high),
		"rope_orig_ctx", (int)hp->rope_orig_ctx,
		"tied_embeddings", hp->tied_embeddings,
		"qkv_bias", hp->qkv_bias,
		"qk_norm", hp->qk_norm,
		"n_params", (json_int_t)hp->n_params,
		"weight_bytes", (json_int_t)m40_model_weight_bytes(m));
}

static json_t *
json_tokenizer(const m40_gguf *g)
{
	const char *model = m40_gguf_get_str(g, "tokenizer.ggml.model");
	const char *pre = m40_gguf_get_str(g, "tokenizer.ggml.pre");
	const char *tmpl = m40_gguf_get_str(g, "tokenizer.chat_template");
	const m40_gguf_value *tok = token_list(g);
	json_t *j = json_object(), *special = json_object();
	int64_t id;
	bool flag;

	json_object_set_new(j, "model", model ? json_string(model) : json_null());
	json_object_set_new(j, "pre", pre ? jstr(pre, strlen(pre)) : json_null());
	json_object_set_new(j, "n_tokens", json_integer(tok ? (json_int_t)tok->v.arr.n : 0));
	for (size_t i = 0; i < ARRAY_SIZE(special_keys); i++)
		if (m40_gguf_get_int(g, special_keys[i].key, &id) && id >= 0 && id != UINT32_MAX)
			json_object_set_new(special, special_keys[i].what, json_integer((json_int_t)id));
	json_object_set_new(j, "special", special);
	if (m40_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &flag))
		json_object_set_new(j, "add_bos", json_boolean(flag));
	json_object_set_new(j, "chat_template", json_boolean(tmpl != NULL));
	return j;
}

static json_t *
json_tensors(const m40_gguf *g)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m40_gguf_n_tensors(g); i++) {
		const m40_gguf_tensor *t = m40_gguf_tensor_at(g, i);
		json_t *shape = json_array();
		const char *tn = m40_type_name(t->type);
		for (uint32_t d = 0; d < t->n_dims && d < M40_GGUF_MAX_DIMS; d++)
			json_array_append_new(shape, json_integer((json_int_t)t->ne[d]));
		json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:I, s:I}",
			"name", jstr(t->name, strlen(t->name)),
			"type", tn ? json_string(tn) : json_integer(t->type), "shape", shape,
			"offset", (json_int_t)(m40_gguf_data_offset(g) + t->offset),
			"size", (json_int_t)t->size));
	}
	return a;
}

static void
json_print(json_t *root)
{
	/* 16 digits: floats read as their shortest decimal (see jreal32) print
	 * short, and doubles keep all but the last digit. */
	if (root == NULL || json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(16)) != 0)
		cli_die(M40_EXIT_FAILURE, _("cannot write the JSON document"));
	putchar('\n');
	json_decref(root);
}

/* ---- --vram ------------------------------------------------------------ */

struct vram {
	int n_ctx, n_batch, n_seq;
	m40_mem_estimate est;
	uint64_t budget;
	bool fits;
	int max_ctx; /* the longest context that fits, 0 if none */
};

static void
vram_estimate(const m40_model *m, const struct options *o, struct vram *r)
{
	const m40_hparams *hp = m40_model_hparams(m);
	m40_mem_estimate one;

	r->n_ctx = o->n_ctx ? o->n_ctx : hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096;
	r->n_batch = o->n_batch ? o->n_batch : 512;
	r->n_seq = o->n_seq ? o->n_seq : 1;
	r->budget = M40_CARD_BYTES - M40_CARD_RESERVED;
	m40_model_estimate_memory(m, r->n_ctx, r->n_seq, r->n_batch, &r->est);
	r->fits = r->est.total <= r->budget;
	/* The KV cache grows linearly with the context: solve for it. */
	m40_model_estimate_memory(m, 1, r->n_seq, r->n_batch, &one);
	if (one.total > r->budget || one.kv_cache == 0)
		r->max_ctx = 0;
	else {
		uint64_t c = (r->budget - (one.total - one.kv_cache)) / one.kv_cache;
		r->max_ctx = c > INT32_MAX ? INT32_MAX : (int)c;
	}
}

static void
print_vram(const struct vram *r)
{
	char b[64];

	putchar('\n');
	printf(ngettext("GPU memory for a context of %d, %d sequence, batches of %d tokens:\n",
		"GPU memory for a context of %d, %d sequences, batches of %d tokens:\n", r->n_seq),
		r->n_ctx, r->n_seq, r->n_batch);
	printf(_("  weights   %12s\n"), fmt_bytes(r->est.weights, b, sizeof b));
	printf(_("  KV cache  %12s  (FP16)\n"), fmt_bytes(r->est.kv_cache, b, sizeof b));
	printf(_("  scratch   %12s\n"), fmt_bytes(r->est.scratch, b, sizeof b));
	printf(_("  total     %12s\n"), fmt_bytes(r->est.total, b, sizeof b));
	if (r->fits) {
		printf(_("Fits a 24 GB Tesla M40 (%s usable).\n"), fmt_bytes(r->budget, b, sizeof b));
		return;
	}
	printf(_("Does not fit a 24 GB Tesla M40 (%s usable).  To fit:\n"),
		fmt_bytes(r->budget, b, sizeof b));
	if (r->max_ctx > 0)
		printf(_("  - reduce the context to %d or less (-c)\n"), r->max_ctx);
	if (r->n_seq > 1)
		printf(_("  - decode fewer sequences together (-s)\n"));
	if (r->n_batch > 64)
		printf(_("  - use smaller batches (-b)\n"));
	if (r->est.weights > r->budget / 2 || r->max_ctx == 0)
		printf(_("  - use a smaller quantization of the model (the weights alone take %s)\n"),
			fmt_bytes(r->est.weights, b, sizeof b));
}

static json_t *
json_vram(const struct vram *r)
{
	return json_pack("{s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:b, s:i}",
		"n_ctx", r->n_ctx, "n_seq", r->n_seq, "n_batch", r->n_batch,
		"weights", (json_int_t)r->est.weights, "kv_cache", (json_int_t)r->est.kv_cache,
		"scratch", (json_int_t)r->est.scratch, "total", (json_int_t)r->est.total,
		"m40_usable", (json_int_t)r->budget, "fits_m40", r->fits, "max_ctx", r->max_ctx);
}

/* ---- --devices ----------------------------------------------------------- */

static int
devices(bool as_json)
{
	static const char *const backends[] = { "cpu", "cuda" };
	json_t *root = json_object(), *jb = json_array(), *jd = json_array();
	char b1[64], b2[64];

	for (size_t k = 0; k < ARRAY_SIZE(backends); k++) {
		const char *be = backends[k];
		m40_error err;
		int count = 0;

		m40_error_clear(&err);
		if (!m40_backend_available(be)) {
			json_array_append_new(jb, json_pack("{s:s, s:b, s:s}", "name", be, "built_in", 0,
				"error", "not built in"));
			if (!as_json && strcmp(be, "cuda") == 0)
				printf(_("no CUDA device: %s\n"), _("m40-llm was built without CUDA"));
			continue;
		}
		if (m40_backend_device_count(be, &count, &err) != M40_OK) {
			json_array_append_new(jb, json_pack("{s:s, s:b, s:s}", "name", be, "built_in", 1,
				"error", err.msg));
			if (!as_json)
				printf(strcmp(be, "cuda") == 0 ? _("no CUDA device: %s\n") : _("no CPU device: %s\n"),
					err.msg);
			continue;
		}
		json_array_append_new(jb, json_pack("{s:s, s:b, s:i}", "name", be, "built_in", 1,
			"devices", count));
		if (!as_json && count == 0 && strcmp(be, "cuda") == 0)
			printf(_("no CUDA device: %s\n"), _("the driver sees no GPU"));
		for (int i = 0; i < count; i++) {
			m40_device_info info;

			memset(&info, 0, sizeof info);
			if (m40_backend_device_info(be, i, &info, &err) != M40_OK) {
				if (!as_json)
					printf(_("%s %d: %s\n"), be, i, err.msg);
				json_array_append_new(jd, json_pack("{s:s, s:i, s:s}", "backend", be,
					"index", i, "error", err.msg));
				continue;
			}
			snprintf(b1, sizeof b1, "%d.%d", info.cc_major, info.cc_minor);
			json_array_append_new(jd, json_pack("{s:s, s:i, s:o, s:o, s:I, s:I, s:i, s:i, s:i}",
				"backend", be, "index", i, "name", jstr(info.name, strnlen(info.name,
				sizeof info.name)), "compute_capability",
				strcmp(be, "cpu") == 0 ? json_null() : json_string(b1),
				"total_mem", (json_int_t)info.total_mem, "free_mem", (json_int_t)info.free_mem,
				"multiprocessors", info.multiprocessors, "driver_version", info.driver_version,
				"runtime_version", info.runtime_version));
			if (as_json)
				continue;
			if (strcmp(be, "cpu") == 0) {
				printf(_("cpu %d: %s, %d cores, %s memory, %s free\n"), i, info.name,
					info.multiprocessors, fmt_bytes(info.total_mem, b1, sizeof b1),
					fmt_bytes(info.free_mem, b2, sizeof b2));
				continue;
			}
			printf(_("cuda %d: %s, compute capability %d.%d, %s memory, %s free, %d SMs,"
				" driver %d.%d, runtime %d.%d\n"), i, info.name, info.cc_major, info.cc_minor,
				fmt_bytes(info.total_mem, b1, sizeof b1), fmt_bytes(info.free_mem, b2, sizeof b2),
				info.multiprocessors, info.driver_version / 1000, info.driver_version % 1000 / 10,
				info.runtime_version / 1000, info.runtime_version % 1000 / 10);
		}
	}
	json_object_set_new(root, "backends", jb);
	json_object_set_new(root, "devices", jd);
	if (as_json)
		json_print(root);
	else
		json_decref(root);
	return M40_EXIT_OK;
}

/* ---- main ---------------------------------------------------------------- */

static const char *
model_path(const struct options *o)
{
	const char *env = getenv("M40_MODEL");

	if (o->model != NULL && *o->model != '\0')
		return o->model;
	if (env != NULL && *env != '\0')
		return env;
	return NULL; /* the built-in demo model */
}

int
main(int argc, char **argv)
{
	struct options o;
	m40_gguf *g;
	m40_model *m = NULL;
	m40_error err;
	const char *path;
	struct vram vr;

	cli_init(argv[0]);
	/* Numbers read the same in every language: scripts parse --kv. */
	setlocale(LC_NUMERIC, "C");
	parse_options(argc, argv, &o);
	if (o.devices)
		return devices(o.json);

	path = model_path(&o);
	g = cli_open_gguf(o.model);
	m40_error_clear(&err);

	if (o.kv != NULL) {
		const m40_gguf_value *v = m40_gguf_get(g, o.kv);
		if (v == NULL) {
			cli_close_gguf(g);
			cli_die(M40_EXIT_FAILURE, _("key '%s' not found"), o.kv);
		}
		print_value(v);
		cli_close_gguf(g);
		return M40_EXIT_OK;
	}

	if (m40_model_from_gguf(g, &m, &err) != M40_OK) {
		m = NULL;
		if (o.vram) {
			int code = cli_exit_code(err.code);
			cli_close_gguf(g);
			cli_die(code, _("cannot estimate memory: %s"), err.msg);
		}
	}
	if (o.vram)
		vram_estimate(m, &o, &vr);

	if (o.json) {
		json_t *root = json_object(), *meta = json_object(), *mix = json_object();
		struct type_mix tm;

		/* null: the built-in demo model */
		json_object_set_new(root, "file", path ? jstr(path, strlen(path)) : json_null());
		json_object_set_new(root, "file_size", json_integer((json_int_t)m40_gguf_file_size(g)));
		json_object_set_new(root, "gguf_version", json_integer(m40_gguf_version(g)));
		json_object_set_new(root, "alignment", json_integer(m40_gguf_alignment(g)));
		json_object_set_new(root, "data_offset", json_integer((json_int_t)m40_gguf_data_offset(g)));
		json_object_set_new(root, "n_tensors", json_integer((json_int_t)m40_gguf_n_tensors(g)));
		json_object_set_new(root, "n_params", json_integer((json_int_t)count_params(g)));
		json_object_set_new(root, "supported", json_boolean(m != NULL));
		json_object_set_new(root, "error", m ? json_null() : jstr(err.msg, strlen(err.msg)));
		json_object_set_new(root, "model", m ? json_hparams(m) : json_null());
		json_object_set_new(root, "tokenizer", json_tokenizer(g));
		type_mix(g, &tm);
		for (int k = 0; k <= M40_TYPE_COUNT; k++)
			if (tm.count[k] != 0)
				json_object_set_new(mix, type_label(k), json_pack("{s:I, s:I}",
					"count", (json_int_t)tm.count[k], "bytes", (json_int_t)tm.bytes[k]));
		json_object_set_new(root, "tensor_types", mix);
		for (size_t i = 0; i < m40_gguf_n_kv(g); i++) {
			const m40_gguf_kv *kv = m40_gguf_kv_at(g, i);
			json_t *key = jstr(kv->key, strlen(kv->key));
			json_object_set_new(meta, json_string_value(key), jvalue(&kv->value, o.full));
			json_decref(key);
		}
		json_object_set_new(root, "metadata", meta);
		json_object_set_new(root, "tensors", json_tensors(g));
		if (o.vram)
			json_object_set_new(root, "vram", json_vram(&vr));
		json_print(root);
	} else {
		print_summary(path, g, m, err.msg);
		if (o.tensors)
			print_tensors(g);
		if (o.vram)
			print_vram(&vr);
	}
	m40_model_close(m);
	cli_close_gguf(g);
	return M40_EXIT_OK;
}
