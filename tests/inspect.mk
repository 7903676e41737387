## tests/inspect.mk
