/* m40-generate.c: token ids (or text) in, generated text (or ids) out. */
#include "cli.h"
#include "generate.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdnoreturn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	OPT_HELP = CHAR_MAX + 1,
	OPT_VERSION,
	OPT_TEXT,
	OPT_TOKENS,
	OPT_JSON,
	OPT_PARALLEL,
	OPT_TEMP,
	OPT_GREEDY,
	OPT_TOP_K,
	OPT_TOP_P,
	OPT_MIN_P,
	OPT_REPEAT_PENALTY,
	OPT_REPEAT_LAST_N,
	OPT_FREQ_PENALTY,
	OPT_PRESENCE_PENALTY,
	OPT_STOP,
	OPT_IGNORE_EOS,
	OPT_BACKEND,
	OPT_GPU,
	OPT_DUMP_LOGITS
};

static const struct option longopts[] = {
	{ "model", required_argument, NULL, 'm' },
	{ "prompt", required_argument, NULL, 'p' },
	{ "text", no_argument, NULL, OPT_TEXT },
	{ "n-predict", required_argument, NULL, 'n' },
	{ "ctx-size", required_argument, NULL, 'c' },
	{ "batch-size", required_argument, NULL, 'b' },
	{ "threads", required_argument, NULL, 't' },
	{ "parallel", required_argument, NULL, OPT_PARALLEL },
	{ "greedy", no_argument, NULL, OPT_GREEDY },
	{ "temp", required_argument, NULL, OPT_TEMP },
	{ "top-k", required_argument, NULL, OPT_TOP_K },
	{ "top-p", required_argument, NULL, OPT_TOP_P },
	{ "min-p", required_argument, NULL, OPT_MIN_P },
	{ "repeat-penalty", required_argument, NULL, OPT_REPEAT_PENALTY },
	{ "repeat-last-n", required_argument, NULL, OPT_REPEAT_LAST_N },
	{ "frequency-penalty", required_argument, NULL, OPT_FREQ_PENALTY },
	{ "presence-penalty", required_argument, NULL, OPT_PRESENCE_PENALTY },
	{ "seed", required_argument, NULL, 's' },
	{ "stop", required_argument, NULL, OPT_STOP },
	{ "ignore-eos", no_argument, NULL, OPT_IGNORE_EOS },
	{ "tokens", no_argument, NULL, OPT_TOKENS },
	{ "null", no_argument, NULL, '0' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "gpu", required_argument, NULL, OPT_GPU },
	{ "verbose", no_argument, NULL, 'v' },
	{ "dump-logits", required_argument, NULL, OPT_DUMP_LOGITS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

/* Everything the command line says. */
typedef struct options {
	const char *model;
	const char **texts;     /* -p, in order */
	size_t n_texts;
	bool text;              /* --text: stdin is text */
	int n_ctx, n_batch, n_threads, parallel, gpu;
	const char *backend;
	bool seed_given;
	gen_opts gen;
} options;

static void
usage(void)
{
	printf(_("Usage: %s [OPTION]...\n"), cli_program());
	/* TRANSLATORS: the purpose line of m40-generate --help. */
	fputs(_("Generate text with a language model from prompts given as token ids on\n"
		"standard input (one prompt a line, as m40-tokenize writes them), or as text.\n"
		"Several prompts are decoded together and printed in input order.\n"), stdout);
	fputs(_("\nModel and input:\n"
		"  -m, --model=NAME|PATH    the GGUF model (default: $M40_MODEL, else the\n"
		"                             built-in demo model)\n"
		"  -p, --prompt=TEXT        a prompt as text (repeatable; standard input is\n"
		"                             not read)\n"
		"      --text               standard input is text, one prompt a line\n"), stdout);
	fputs(_("\nGeneration:\n"
		"  -n, --n-predict=N        tokens to generate per prompt (default 128;\n"
		"                             -1 = until end of text or of the context)\n"
		"      --stop=STRING        stop when the text contains STRING, which is not\n"
		"                             printed (repeatable)\n"
		"      --ignore-eos         never stop at end-of-text tokens\n"
		"  -c, --ctx-size=N         positions per sequence (default: the model's,\n"
		"                             at most 4096)\n"
		"  -b, --batch-size=N       most tokens per engine step (default 512)\n"
		"      --parallel=N         most prompts decoded at once (default: all, at\n"
		"                             most 32)\n"
		"  -t, --threads=N          CPU threads (default: the number of cores)\n"
		"      --backend=NAME       cpu, cuda or auto (default: $M40_BACKEND, else auto)\n"
		"      --gpu=N              the CUDA device to use (default 0)\n"), stdout);
	fputs(_("\nSampling (default: greedy, the most likely token each step):\n"
		"      --greedy             always the most likely token (= --temp 0)\n"
		"      --temp=T             sample at temperature T (0 = greedy)\n"
		"      --top-k=K            sample among the K most likely (default 40; 0 = all)\n"
		"      --top-p=P            ... the most likely with total probability P\n"
		"                             (default 0.95; 1 = off)\n"
		"      --min-p=P            ... those at least P times the most likely\n"
		"                             (default 0.05; 0 = off)\n"
		"      --repeat-penalty=F   divide the positive logits of recent tokens by F,\n"
		"                             multiply the negative ones (default 1 = off)\n"
		"      --repeat-last-n=N    recent tokens for the penalties (default 64;\n"
		"                             -1 = all, 0 = off)\n"
		"      --frequency-penalty=F  subtract F times each recent token's count\n"
		"      --presence-penalty=F   subtract F from each recent token's logit\n"
		"  -s, --seed=N             random seed (default: from the clock)\n"), stdout);
	fputs(_("\nOutput:\n"
		"      --tokens             print token ids instead of text (for\n"
		"                             m40-tokenize -d)\n"
		"  -0, --null               end each result with NUL instead of newline\n"
		"      --json               one JSON object a result: text, tokens,\n"
		"                             finish_reason, prompt_tokens, timings\n"
		"      --dump-logits=FILE   write the logits at the first prompt's last\n"
		"                             position to FILE, one a line\n"
		"  -v, --verbose            print speeds and settings on standard error\n"
		"      --help               display this help and exit\n"
		"      --version            output version information and exit\n"), stdout);
	cli_help_footer();
}

static const char *
check_backend(const char *name, const char *where)
{
	if (strcmp(name, "cpu") != 0 && strcmp(name, "cuda") != 0 && strcmp(name, "auto") != 0) {
		cli_usage_error(_("invalid backend '%s' in %s (cpu, cuda or auto)"), name, where);
	}
	return name;
}

static void
parse_options(int argc, char **argv, options *o)
{
	const char **stops = NULL;
	size_t n_stops = 0;
	int c;

	memset(o, 0, sizeof(*o));
	o->gen.n_predict = 128;
	o->gen.format = GEN_PLAIN;
	m40_sampler_params_default(&o->gen.sampling);
	o->gen.sampling.temperature = 0.0f; /* greedy unless --temp */
	o->texts = calloc((size_t)argc, sizeof(*o->texts));
	stops = calloc((size_t)argc, sizeof(*stops));
	if (o->texts == NULL || stops == NULL)
		cli_die(M40_EXIT_FAILURE, _("out of memory"));

	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":m:p:n:c:b:t:s:0v", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 'p':
			o->texts[o->n_texts++] = optarg;
			break;
		case OPT_TEXT:
			o->text = true;
			break;
		case 'n':
			o->gen.n_predict = (int)cli_parse_long(optarg, "-n", -1, INT_MAX);
			break;
		case 'c':
			o->n_ctx = (int)cli_parse_long(optarg, "-c", 1, INT_MAX);
			break;
		case 'b':
			o->n_batch = (int)cli_parse_long(optarg, "-b", 1, INT_MAX);
			break;
		case 't':
			o->n_threads = (int)cli_parse_long(optarg, "-t", 0, 4096);
			break;
		case OPT_PARALLEL:
			o->parallel = (int)cli_parse_long(optarg, "--parallel", 1, 4096);
			break;
		case OPT_GREEDY:
			o->gen.sampling.temperature = 0.0f;
			break;
		case OPT_TEMP:
			o->gen.sampling.temperature = (float)cli_parse_double(optarg, "--temp", 0, 1e6);
			break;
		case OPT_TOP_K:
			o->gen.sampling.top_k = (int)cli_parse_long(optarg, "--top-k", 0, INT_MAX);
			break;
		case OPT_TOP_P:
			o->gen.sampling.top_p = (float)cli_parse_double(optarg, "--top-p", 0, 1);
			break;
		case OPT_MIN_P:
			o->gen.sampling.min_p = (float)cli_parse_double(optarg, "--min-p", 0, 1);
			break;
		case OPT_REPEAT_PENALTY:
			o->gen.sampling.repeat_penalty = (float)cli_parse_double(optarg, "--repeat-penalty", 1e-6, 1e6);
			break;
		case OPT_REPEAT_LAST_N:
			o->gen.sampling.penalty_last_n = (int)cli_parse_long(optarg, "--repeat-last-n", -1, INT_MAX);
			break;
		case OPT_FREQ_PENALTY:
			o->gen.sampling.freq_penalty = (float)cli_parse_double(optarg, "--frequency-penalty", -1e6, 1e6);
			break;
		case OPT_PRESENCE_PENALTY:
			o->gen.sampling.presence_penalty = (float)cli_parse_double(optarg, "--presence-penalty", -1e6, 1e6);
			break;
		case 's': {
			char *end;

			errno = 0;
			o->gen.sampling.seed = strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || *optarg == '-') {
				cli_usage_error(_("invalid value '%s' for %s (an integer from 0 to %llu)"), optarg,
					"--seed", (unsigned long long)UINT64_MAX);
			}
			o->seed_given = true;
			break;
		}
		case OPT_STOP:
			if (*optarg == '\0') {
				cli_usage_error(_("--stop needs a non-empty string"));
			}
			stops[n_stops++] = optarg;
			break;
		case OPT_IGNORE_EOS:
			o->gen.ignore_eos = true;
			break;
		case OPT_TOKENS:
			o->gen.tokens = true;
			break;
		case '0':
			o->gen.format = GEN_NUL;
			break;
		case OPT_JSON:
			o->gen.format = GEN_JSON;
			break;
		case OPT_BACKEND:
			o->backend = check_backend(optarg, "--backend");
			break;
		case OPT_GPU:
			o->gpu = (int)cli_parse_long(optarg, "--gpu", 0, 1024);
			break;
		case 'v':
			o->gen.verbose = true;
			break;
		case OPT_DUMP_LOGITS:
			o->gen.dump_logits = optarg;
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
		cli_usage_error(_("extra operand '%s' (prompts come on standard input or with -p)"),
			argv[optind]);
	}
	if (o->backend == NULL) {
		const char *env = getenv("M40_BACKEND");

		o->backend = env != NULL && *env != '\0' ? check_backend(env, "M40_BACKEND") : "auto";
	}
	if (!o->seed_given)
		o->gen.sampling.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	o->gen.stops = stops;
	o->gen.n_stops = n_stops;
}

/* Tokenize a text prompt with the model's vocabulary (BOS as it says). */
static void
add_text_prompt(gen_prompts *ps, const m40_vocab *vocab, const char *text, size_t len, const char *label)
{
	m40_error err;
	int32_t *ids = NULL;
	size_t n = 0;

	m40_error_clear(&err);
	if (m40_tokenize(vocab, text, len, M40_TOK_ADD_BOS, &ids, &n, &err) != M40_OK)
		cli_die(cli_exit_code(err.code), "%s: %s", label, err.msg);
	if (n == 0) {
		free(ids);
		cli_die(M40_EXIT_FAILURE, _("%s: empty prompt"), label);
	}
	gen_prompts_add(ps, ids, n, label);
}

/* Standard input, one prompt a line: token ids, or text with --text. */
static void
read_stdin(gen_prompts *ps, const m40_vocab *vocab, int32_t n_vocab, bool text)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;

	while ((len = getline(&line, &cap, stdin)) != -1) {
		char label[48], msg[256];

		lineno++;
		snprintf(label, sizeof(label), _("line %ld"), lineno);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (text) {
			add_text_prompt(ps, vocab, line, (size_t)len, label);
		} else {
			int32_t *ids;
			size_t n;

			if (memchr(line, '\0', (size_t)len) != NULL) {
				free(line);
				cli_die(M40_EXIT_FAILURE, _("%s: a NUL byte is not a token id (for text, use --text)"),
					label);
			}
			if (!gen_parse_ids(line, n_vocab, &ids, &n, msg, sizeof(msg))) {
				free(line);
				cli_die(M40_EXIT_FAILURE, "%s: %s", label, msg);
			}
			gen_prompts_add(ps, ids, n, label);
		}
	}
	if (ferror(stdin)) {
		free(line);
		cli_die(M40_EXIT_FAILURE, _("error reading standard input: %s"), strerror(errno));
	}
	free(line);
	if (ps->n == 0)
		cli_die(M40_EXIT_FAILURE, _("no prompt on standard input (give token ids, or text with "
			"--text or -p)"));
}

/* Weights upload progress for large models, on a terminal only. */
typedef struct progress {
	int last;
} progress;

static void
show_progress(void *user, uint64_t done, uint64_t total)
{
	progress *p = user;
	int pct;

	if (total < (1ull << 30) || !isatty(STDERR_FILENO))
		return;
	pct = (int)(done * 100 / total);
	if (pct == p->last)
		return;
	p->last = pct;
	fprintf(stderr, _("\r%s: loading weights %3d%% of %.1f GiB"), cli_program(), pct,
		(double)total / (1u << 30));
	if (done >= total)
		fputc('\n', stderr);
}

/* Refuse prompts that do not fit the context, naming both lengths. */
static void
check_lengths(const gen_prompts *ps, int n_ctx)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (ps->v[i].n > (size_t)n_ctx)
			cli_die(M40_EXIT_FAILURE, _("%s: the prompt has %zu tokens, more than the context "
				"of %d (-c)"), ps->v[i].label, ps->v[i].n, n_ctx);
}

int
main(int argc, char **argv)
{
	options o;
	gen_prompts ps = { 0 };
	m40_engine_params ep;
	m40_engine *e = NULL;
	m40_model *m;
	m40_gguf *g;
	const m40_hparams *hp;
	const m40_vocab *vocab;
	progress prog = { -1 };
	m40_error err;
	size_t i;

	cli_init(argv[0]);
	parse_options(argc, argv, &o);

	m = cli_open_model(o.model);
	g = (m40_gguf *)m40_model_gguf(m);
	hp = m40_model_hparams(m);
	m40_error_clear(&err);
	vocab = m40_model_vocab(m, &err);
	if (vocab == NULL)
		cli_die(cli_exit_code(err.code), "%s", err.msg);

	if (o.n_texts > 0) {
		for (i = 0; i < o.n_texts; i++) {
			char label[48];

			snprintf(label, sizeof(label), _("prompt %zu"), i + 1);
			add_text_prompt(&ps, vocab, o.texts[i], strlen(o.texts[i]), label);
		}
	} else {
		read_stdin(&ps, vocab, hp->n_vocab, o.text);
	}
	/* The engine's default context, to refuse before loading weights. */
	check_lengths(&ps, o.n_ctx > 0 ? o.n_ctx :
		hp->n_ctx_train > 0 && hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096);

	memset(&ep, 0, sizeof(ep));
	ep.backend = o.backend;
	ep.device = o.gpu;
	ep.n_threads = o.n_threads;
	ep.n_ctx = o.n_ctx;
	ep.n_batch = o.n_batch;
	ep.n_seq = o.parallel > 0 ? o.parallel : 32;
	if ((size_t)ep.n_seq > ps.n)
		ep.n_seq = (int)ps.n;
	ep.progress = show_progress;
	ep.progress_user = &prog;
	m40_error_clear(&err);
	if (m40_engine_new(m, &ep, &e, &err) != M40_OK)
		cli_die(cli_exit_code(err.code), "%s", err.msg);
	check_lengths(&ps, m40_engine_n_ctx(e));
	if (o.gen.verbose && o.gen.sampling.temperature > 0.0f)
		cli_warn(_("sampling with seed %llu"), (unsigned long long)o.gen.sampling.seed);

	gen_run(e, vocab, hp->n_vocab, &ps, &o.gen);

	m40_engine_free(e);
	gen_prompts_free(&ps);
	m40_model_close(m);
	cli_close_gguf(g);
	free(o.texts);
	free((void *)o.gen.stops);
	return M40_EXIT_OK;
}
