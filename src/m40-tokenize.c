/* m40-tokenize.c: text to token ids and back, in the line protocol m40-generate reads. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_HELP = CHAR_MAX + 1,
	OPT_VERSION,
	OPT_NO_BOS,
	OPT_SPECIAL,
	OPT_PIECES,
	OPT_JSON
};

struct options {
	const char *model;
	const char *prompt;
	bool no_bos, special, pieces, json, lines, decode;
};

static void
usage(void)
{
	printf(_("Usage: %s [OPTION]...\n"), cli_program());
	/* TRANSLATORS: the purpose line of m40-tokenize --help. */
	fputs(_("Turn text on standard input into token ids, one sequence per line;\n"
		"with -d, turn lines of ids back into text.\n"), stdout);
	fputs(_("\n"
		"  -m, --model=NAME|PATH  the model or vocabulary-only GGUF (else $M40_MODEL)\n"
		"  -p, --prompt=TEXT      tokenize TEXT instead of standard input\n"
		"  -l, --lines            each input line is a sequence of its own\n"
		"  -d, --decode           read lines of ids, write the text of each line\n"
		"      --no-bos           do not add the beginning-of-sequence token\n"
		"      --special          match special tokens such as <|eot_id|> in the text;\n"
		"                         with -d, write the text of control tokens too\n"
		"      --pieces           write each id with its text, one per line\n"
		"      --json             write each sequence as a JSON object on one line\n"
		"      --help             display this help and exit\n"
		"      --version          output version information and exit\n"), stdout);
	fputs(_("\n"
		"Without -l the whole input is one sequence, less one final newline (the\n"
		"one echo adds).\n"
		"Output: decimal ids separated by single spaces, one sequence per line, the\n"
		"beginning-of-sequence token first when the vocabulary adds one; this is what\n"
		"m40-generate reads, and what 'm40-generate --tokens' writes for -d.\n"), stdout);
	fputs(_("\n"
		"Exit status: 0 on success, 1 for bad usage or bad input, 2 when the model\n"
		"cannot be opened or has no usable vocabulary.\n"), stdout);
	cli_help_footer();
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "prompt", required_argument, NULL, 'p' },
		{ "lines", no_argument, NULL, 'l' },
		{ "decode", no_argument, NULL, 'd' },
		{ "no-bos", no_argument, NULL, OPT_NO_BOS },
		{ "special", no_argument, NULL, OPT_SPECIAL },
		{ "pieces", no_argument, NULL, OPT_PIECES },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof *o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:p:ld", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 'p':
			o->prompt = optarg;
			break;
		case 'l':
			o->lines = true;
			break;
		case 'd':
			o->decode = true;
			break;
		case OPT_NO_BOS:
			o->no_bos = true;
			break;
		case OPT_SPECIAL:
			o->special = true;
			break;
		case OPT_PIECES:
			o->pieces = true;
			break;
		case OPT_JSON:
			o->json = true;
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
	if (optind < argc)
		cli_usage_error(_("extra operand '%s'"), argv[optind]);
	if (o->lines && o->prompt != NULL)
		cli_usage_error(_("-l reads standard input: it does not go with -p"));
	if (o->pieces && o->json)
		cli_usage_error(_("--pieces and --json are different outputs: choose one"));
	if (o->decode && (o->pieces || o->json || o->no_bos || o->lines || o->prompt != NULL))
		cli_usage_error(_("-d reads ids on standard input and takes only -m and --special"));
}

/* ---- output ------------------------------------------------------------- */

/* Bytes for people: printable ASCII and valid UTF-8 as they are, the rest escaped. */
static void
put_escaped(const char *s, size_t n, bool json)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = 1;

		if (c == '\\' || (json && c == '"') || (!json && c == '\'')) {
			printf("\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", stdout);
		} else if (c == '\t') {
			fputs("\\t", stdout);
		} else if (c == '\r') {
			fputs("\\r", stdout);
		} else if (c < 0x20 || c == 0x7f) {
			printf(json ? "\\u%04x" : "\\x%02x", c);
		} else if (c < 0x80) {
			putchar(c);
		} else {
			/* a whole valid character, or one byte that is not */
			if (c >= 0xc2 && c <= 0xdf)
				k = 2;
			else if (c >= 0xe0 && c <= 0xef)
				k = 3;
			else if (c >= 0xf0 && c <= 0xf4)
				k = 4;
			else
				k = 0;
			for (size_t j = 1; j < k; j++)
				if (i + j >= n || ((unsigned char)s[i + j] & 0xc0) != 0x80)
					k = 0;
			if (k == 3 && ((c == 0xe0 && (unsigned char)s[i + 1] < 0xa0) ||
			    (c == 0xed && (unsigned char)s[i + 1] > 0x9f)))
				k = 0;
			if (k == 4 && ((c == 0xf0 && (unsigned char)s[i + 1] < 0x90) ||
			    (c == 0xf4 && (unsigned char)s[i + 1] > 0x8f)))
				k = 0;
			if (k > 0) {
				fwrite(s + i, 1, k, stdout);
			} else {
				/* JSON strings hold characters, not bytes */
				if (json)
					fputs("\\ufffd", stdout);
				else
					printf("\\x%02x", c);
				k = 1;
			}
		}
		i += k;
	}
}

static void
write_ids(const m40_vocab *v, const int32_t *ids, size_t n, const struct options *o)
{
	if (o->json) {
		fputs("{\"ids\":[", stdout);
		for (size_t i = 0; i < n; i++)
			printf(i ? ",%ld" : "%ld", (long)ids[i]);
		fputs("],\"pieces\":[", stdout);
		for (size_t i = 0; i < n; i++) {
			const char *p = m40_vocab_piece(v, ids[i]);
			fputs(i ? ",\"" : "\"", stdout);
			put_escaped(p, strlen(p), true);
			putchar('"');
		}
		fputs("],\"text\":[", stdout);
		for (size_t i = 0; i < n; i++) {
			size_t tl;
			const char *t = m40_vocab_text(v, ids[i], &tl);
			fputs(i ? ",\"" : "\"", stdout);
			put_escaped(t, tl, true);
			putchar('"');
		}
		fputs("]}\n", stdout);
		return;
	}
	if (o->pieces) {
		for (size_t i = 0; i < n; i++) {
			size_t tl;
			const char *t = m40_vocab_text(v, ids[i], &tl);
			printf("%ld\t'", (long)ids[i]);
			put_escaped(t, tl, false);
			fputs("'\n", stdout);
		}
		return;
	}
	for (size_t i = 0; i < n; i++)
		printf(i ? " %ld" : "%ld", (long)ids[i]);
	putchar('\n');
}

static void
tokenize_one(const m40_vocab *v, const char *text, size_t len, const struct options *o)
{
	unsigned flags = M40_TOK_ADD_EOS;
	int32_t *ids;
	size_t n;
	m40_error err;

	if (!o->no_bos)
		flags |= M40_TOK_ADD_BOS;
	if (o->special)
		flags |= M40_TOK_PARSE_SPECIAL;
	m40_error_clear(&err);
	if (m40_tokenize(v, text, len, flags, &ids, &n, &err) != M40_OK)
		cli_die(cli_exit_code(err.code), "%s", err.msg);
	write_ids(v, ids, n, o);
	free(ids);
}

/* ---- input -------------------------------------------------------------- */

static char *
read_all(FILE *f, size_t *len)
{
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	do {
		if (cap - n < 65536) {
			char *b;
			cap = cap ? 2 * cap : 65536;
			if ((b = realloc(buf, cap)) == NULL)
				cli_die(M40_EXIT_FAILURE, _("out of memory reading standard input"));
			buf = b;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	if (ferror(f))
		cli_die(M40_EXIT_FAILURE, _("error reading standard input: %s"), strerror(errno));
	*len = n;
	return buf;
}

/* One line of ids -> text; a bad line is an error naming the line and value. */
static void
decode_line(const m40_vocab *v, char *line, size_t len, unsigned long lineno, bool special)
{
	int32_t *ids = NULL;
	size_t n = 0, cap = 0;
	char *p = line, *end, *text;
	size_t tl;
	m40_error err;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	for (;;) {
		long x;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		errno = 0;
		x = strtol(p, &end, 10);
		if (end == p || (*end != '\0' && *end != ' ' && *end != '\t')) {
			size_t w = strcspn(p, " \t");
			free(ids);
			cli_die(M40_EXIT_FAILURE, _("line %lu: '%.*s' is not a token id"), lineno,
				(int)(w > 40 ? 40 : w), p);
		}
		if (errno != 0 || x < 0 || x >= m40_vocab_size(v)) {
			free(ids);
			cli_die(M40_EXIT_FAILURE,
				_("line %lu: token id %.*s is out of range (the vocabulary has %ld tokens)"),
				lineno, (int)(end - p > 40 ? 40 : end - p), p, (long)m40_vocab_size(v));
		}
		if (n == cap) {
			int32_t *q;
			cap = cap ? 2 * cap : 64;
			if ((q = realloc(ids, cap * sizeof *q)) == NULL)
				cli_die(M40_EXIT_FAILURE, _("out of memory"));
			ids = q;
		}
		ids[n++] = (int32_t)x;
		p = end;
	}
	m40_error_clear(&err);
	if (m40_detokenize(v, ids, n, special, &text, &tl, &err) != M40_OK) {
		free(ids);
		cli_die(M40_EXIT_FAILURE, _("line %lu: %s"), lineno, err.msg);
	}
	fwrite(text, 1, tl, stdout);
	putchar('\n');
	free(text);
	free(ids);
}

int
main(int argc, char **argv)
{
	struct options o;
	m40_gguf *g;
	m40_vocab *v = NULL;
	m40_error err;
	char warn[M40_ERROR_MSG_SIZE];

	cli_init(argv[0]);
	parse_options(argc, argv, &o);
	g = cli_open_gguf(o.model);
	m40_error_clear(&err);
	if (m40_vocab_load(g, &v, warn, &err) != M40_OK)
		cli_die(M40_EXIT_MODEL, "%s", err.msg);
	if (warn[0] != '\0')
		cli_warn("%s", warn);
	cli_close_gguf(g);

	if (o.decode || o.lines) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		unsigned long lineno = 0;

		while ((n = getline(&line, &cap, stdin)) != -1) {
			lineno++;
			if (n > 0 && line[n - 1] == '\n')
				line[--n] = '\0';
			if (o.decode)
				decode_line(v, line, (size_t)n, lineno, o.special);
			else
				tokenize_one(v, line, (size_t)n, &o);
			if (fflush(stdout) != 0)
				break;
		}
		if (ferror(stdin))
			cli_die(M40_EXIT_FAILURE, _("error reading standard input: %s"), strerror(errno));
		free(line);
	} else if (o.prompt != NULL) {
		tokenize_one(v, o.prompt, strlen(o.prompt), &o);
	} else {
		size_t len;
		char *text = read_all(stdin, &len);
		/* echo 'Once upon a time' | m40-tokenize: the prompt is the
		 * text, not the newline echo adds (llama-tokenize -p, not --stdin) */
		if (len > 0 && text[len - 1] == '\n')
			len--;
		tokenize_one(v, text, len, &o);
		free(text);
	}
	m40_vocab_free(v);
	return M40_EXIT_OK;
}
