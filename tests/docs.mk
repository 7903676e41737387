## tests/docs.mk
