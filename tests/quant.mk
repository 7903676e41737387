## tests/quant.mk
