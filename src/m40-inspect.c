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

#include "inspect.h"

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
