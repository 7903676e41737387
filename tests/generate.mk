## tests/generate.mk
