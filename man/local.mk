## man/local.mk: manual pages (mdoc).
dist_man_MANS += man/m40llm.7 man/m40-inspect.1 man/m40-tokenize.1 man/m40-generate.1
