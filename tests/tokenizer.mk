## tests/tokenizer.mk
