## bench/local.mk: benchmarks are scripts run by hand (see bench/README); they ship in the tarball.
EXTRA_DIST += bench/README
# bench/tokenize.sh: tokenizer MB/s on war-and-peace.txt (load time excluded).
noinst_PROGRAMS += bench/tokenize-bench
bench_tokenize_bench_SOURCES = bench/tokenize-bench.c
bench_tokenize_bench_LDADD = src/core/libm40core.la
EXTRA_DIST += bench/tokenize.sh
