## src/core/local.mk: libm40core, the library every program shares.
lib_LTLIBRARIES += src/core/libm40core.la
m40includedir = $(includedir)/m40
m40include_HEADERS = \
	include/m40/m40.h \
	include/m40/error.h \
	include/m40/types.h \
	include/m40/gguf.h \
	include/m40/tokenizer.h \
	include/m40/model.h \
	include/m40/backend.h \
	include/m40/engine.h \
	include/m40/sampler.h

# Grouped by area; a newcomer finds each piece by its file name.
src_core_libm40core_la_SOURCES = \
	src/core/m40-int.h \
	src/core/error.c \
	src/core/types.c \
	src/core/gguf-int.h \
	src/core/gguf-read.c \
	src/core/gguf-write.c \
	src/core/quant.h \
	src/core/quant-float.c \
	src/core/quant-legacy.c \
	src/core/quant-k.c \
	src/core/quant-iq.c \
	src/core/quant-row.c \
	src/core/vocab-int.h \
	src/core/vocab.c \
	src/core/unicode.h \
	src/core/unicode.c \
	src/core/unicode-data.c \
	src/core/tokenize.c \
	src/core/tokenize-pre.c \
	src/core/bigram-queue.h \
	src/core/bigram-queue.c \
	src/core/tokenize-spm.c \
	src/core/tokenize-bpe.c \
	src/core/detokenize.c \
	src/core/model-int.h \
	src/core/model.c \
	src/core/demo-model.c \
	src/core/sampler.c \
	src/core/backend-ops.h \
	src/core/gpu-buffers.h \
	src/core/backend.c \
	src/core/backend-cpu.c \
	src/core/threadpool.h \
	src/core/threadpool.c \
	src/core/engine.c
src_core_libm40core_la_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS)
src_core_libm40core_la_LIBADD = $(PTHREAD_LIBS)
src_core_libm40core_la_LDFLAGS = -version-info $(M40CORE_VERSION_INFO) \
	-export-symbols-regex '^m40_'
if HAVE_CUDA
src_core_libm40core_la_LIBADD += cuda/libm40cuda.la $(CUDA_LIBS)
endif
