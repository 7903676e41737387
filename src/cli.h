/* cli.h: what every m40-* program shares: messages, --version, model selection. */
#ifndef M40_CLI_H
#define M40_CLI_H

#include <config.h>

#include <stdio.h>
#include <stdnoreturn.h>

#include <m40/m40.h>

#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s) gettext(s)
#else
#define _(s) (s)
#endif
#define N_(s) (s)

/* Exit codes shared by the programs. */
enum {
	M40_EXIT_OK = 0,
	M40_EXIT_FAILURE = 1, /* bad usage or bad input */
	M40_EXIT_MODEL = 2,   /* the model could not be found or opened */
	M40_EXIT_DEVICE = 3   /* the GPU failed or is missing */
};

/* Set the locale and message catalog, record the program name, and make
 * a failed write of standard output an error at exit. */
void cli_init(const char *program);
const char *cli_program(void);

/* "PROGRAM: message" on stderr; cli_die exits with status. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void cli_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bad usage on one line: "PROGRAM: message (try 'PROGRAM --help')", exit 1. */
noreturn void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* getopt_long (optstring starting with ':') returned c, ':' or '?': say why, exit 1. */
noreturn void cli_bad_option(int c, char **argv);
/* The whole of arg as a number in [min, max], else a usage error naming opt. */
long cli_parse_long(const char *arg, const char *opt, long min, long max);
double cli_parse_double(const char *arg, const char *opt, double min, double max);
/* --version text: "PROGRAM (m40-llm) VERSION", copyright and licence. */
void cli_version(void);
/* The closing lines of --help: where to report bugs and the home page. */
void cli_help_footer(void);
/* Exit code for a library status. */
int cli_exit_code(m40_status s);

/*
 * The model a program runs on: -m NAME|PATH if given, else $M40_MODEL, else
 * the built-in demo model (with a note on stderr saying what it is).
 * On failure prints the reason and exits.  The returned GGUF is closed with
 * cli_close_gguf.
 */
m40_gguf *cli_open_gguf(const char *arg);
void cli_close_gguf(m40_gguf *g);
/* Same, described as a model (architecture and weights checked). */
m40_model *cli_open_model(const char *arg);

#endif
