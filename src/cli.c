/* cli.c: messages, --version and model selection shared by the m40-* programs. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *program_name = "m40";
/* The demo model's bytes, alive as long as a GGUF opened on them. */
static void *demo_buf;

static void
close_stdout(void)
{
	/* Like gnulib's closeout: a lost write (disk full, closed pipe reader
	 * aside) must not exit 0. */
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (errno == EPIPE)
			return;
		fprintf(stderr, _("%s: write error: %s\n"), program_name, strerror(errno));
		_exit(M40_EXIT_FAILURE);
	}
}

void
cli_init(const char *program)
{
	const char *slash = strrchr(program, '/');

	program_name = slash ? slash + 1 : program;
	/* libtool wrappers run the real binary as lt-NAME. */
	if (strncmp(program_name, "lt-", 3) == 0)
		program_name += 3;
	setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
	{
		/* M40_LOCALEDIR lets the tests use catalogs from the build tree. */
		const char *dir = getenv("M40_LOCALEDIR");
		bindtextdomain(PACKAGE, dir && *dir ? dir : LOCALEDIR);
		textdomain(PACKAGE);
	}
#endif
	atexit(close_stdout);
}

const char *
cli_program(void)
{
	return program_name;
}

/* "PROGRAM: message\n" written in one piece, so that the messages of the
 * programs of one pipeline do not interleave on a shared stderr. */
static void
vmessage(const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof line, "%s: ", program_name);

	if (n >= 0 && (size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	fflush(stdout);
	fprintf(stderr, "%s\n", line);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

noreturn void
cli_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	exit(status);
}

noreturn void
cli_usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_die(M40_EXIT_FAILURE, _("%s (try '%s --help')"), msg, program_name);
}

noreturn void
cli_bad_option(int c, char **argv)
{
	if (c == ':') {
		if (optopt != 0)
			cli_usage_error(_("option requires an argument -- '%c'"), optopt);
		cli_usage_error(_("option '%s' requires an argument"), argv[optind - 1]);
	}
	if (optopt != 0)
		cli_usage_error(_("invalid option -- '%c'"), optopt);
	cli_usage_error(_("unrecognized option '%s'"), argv[optind - 1]);
}

long
cli_parse_long(const char *arg, const char *opt, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > max)
		cli_usage_error(_("invalid value '%s' for %s (an integer from %ld to %ld)"), arg, opt,
			min, max);
	return v;
}

double
cli_parse_double(const char *arg, const char *opt, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v >= min && v <= max))
		cli_usage_error(_("invalid value '%s' for %s (a number from %g to %g)"), arg, opt, min, max);
	return v;
}

void
cli_version(void)
{
	printf("%s (%s) %s\n", program_name, PACKAGE_NAME, PACKAGE_VERSION);
	printf("Copyright (C) 2026 the m40-llm developers.\n");
	fputs(_("License MIT: <https://opensource.org/licenses/MIT>.\n"
		"This is free software: you are free to change and redistribute it.\n"
		"There is NO WARRANTY, to the extent permitted by law.\n"), stdout);
}

void
cli_help_footer(void)
{
	printf(_("\nReport bugs to: <%s>\n"), PACKAGE_BUGREPORT);
	printf(_("Full documentation: man %s, man m40llm\n"), program_name);
}

int
cli_exit_code(m40_status s)
{
	switch (s) {
	case M40_OK:
		return M40_EXIT_OK;
	case M40_E_NODEVICE:
	case M40_E_DEVICE:
	case M40_E_DEVICE_OOM:
		return M40_EXIT_DEVICE;
	default:
		return M40_EXIT_FAILURE;
	}
}

m40_gguf *
cli_open_gguf(const char *arg)
{
	m40_error err;
	m40_gguf *g = NULL;
	size_t size;

	m40_error_clear(&err);
	if (arg == NULL || *arg == '\0')
		arg = getenv("M40_MODEL");
	if (arg != NULL && *arg != '\0') {
		if (m40_gguf_open(arg, &g, &err) != M40_OK)
			cli_die(M40_EXIT_MODEL, "%s", err.msg);
		return g;
	}
	if (m40_model_demo(&demo_buf, &size, &err) != M40_OK)
		cli_die(M40_EXIT_MODEL, "%s", err.msg);
	cli_warn(_("no model given (-m or M40_MODEL): using the built-in demo model, "
		"random weights that print gibberish; see 'man m40llm' for real models"));
	if (m40_gguf_open_memory(demo_buf, size, &g, &err) != M40_OK)
		cli_die(M40_EXIT_MODEL, "%s", err.msg);
	return g;
}

void
cli_close_gguf(m40_gguf *g)
{
	m40_gguf_close(g);
	free(demo_buf);
	demo_buf = NULL;
}

m40_model *
cli_open_model(const char *arg)
{
	m40_error err;
	m40_model *m = NULL;
	m40_gguf *g = cli_open_gguf(arg);

	m40_error_clear(&err);
	/* The model keeps g for the life of the program. */
	if (m40_model_from_gguf(g, &m, &err) != M40_OK)
		cli_die(cli_exit_code(err.code), "%s", err.msg);
	return m;
}
