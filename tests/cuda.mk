## tests/cuda.mk
