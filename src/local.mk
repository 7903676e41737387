## src/local.mk: the programs, one thin main each, and their shared cli.c.
noinst_LTLIBRARIES += src/libcli.la
src_libcli_la_SOURCES = src/cli.c src/cli.h
src_libcli_la_LIBADD = src/core/libm40core.la $(LTLIBINTL)

CLI_LDADD = src/libcli.la src/core/libm40core.la $(LTLIBINTL)

bin_PROGRAMS += src/m40-inspect src/m40-tokenize src/m40-generate
src_m40_inspect_SOURCES = src/m40-inspect.c src/inspect.h src/inspect-text.c \
	src/inspect-json.c src/inspect-vram.c
src_m40_inspect_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
src_m40_inspect_LDADD = $(CLI_LDADD) $(JANSSON_LIBS)
src_m40_tokenize_SOURCES = src/m40-tokenize.c
src_m40_tokenize_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
src_m40_tokenize_LDADD = $(CLI_LDADD) $(JANSSON_LIBS)
src_m40_generate_SOURCES = src/m40-generate.c src/generate.h src/generate-input.c src/generate-run.c
src_m40_generate_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
src_m40_generate_LDADD = $(CLI_LDADD) $(JANSSON_LIBS)
