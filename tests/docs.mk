## tests/docs.mk: manual pages, --help/--version of every program, German messages.
DOCS_TESTS = tests/docs-man.sh tests/docs-options.sh tests/docs-i18n.sh
TESTS += $(DOCS_TESTS)
EXTRA_DIST += $(DOCS_TESTS)

# The German catalog in the build tree, where $M40_LOCALEDIR points the tests.
check_DATA = tests/locale/de/LC_MESSAGES/m40-llm.mo
tests/locale/de/LC_MESSAGES/m40-llm.mo: $(top_srcdir)/po/de.po
	$(AM_V_GEN)$(MKDIR_P) tests/locale/de/LC_MESSAGES && \
	$(MSGFMT) -c -o $@-t $(top_srcdir)/po/de.po && mv -f $@-t $@
CLEANFILES += tests/locale/de/LC_MESSAGES/m40-llm.mo
