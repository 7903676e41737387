## tests/gguf.mk
