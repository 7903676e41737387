## bench/local.mk: benchmarks are scripts run by hand (see bench/README); they ship in the tarball.
EXTRA_DIST += bench/README
# bench/tokenize.sh: tokenizer MB/s on war-and-peace.txt (load time excluded).
noinst_PROGRAMS += bench/tokenize-bench
bench_tokenize_bench_SOURCES = bench/tokenize-bench.c
bench_tokenize_bench_LDADD = src/core/libm40core.la
EXTRA_DIST += bench/tokenize.sh
# bench/cpu.sh: CPU backend pp64/tg32 on a TinyLlama-shaped Q4_K_M (engine-bench drives the engine).
noinst_PROGRAMS += bench/engine-bench
bench_engine_bench_SOURCES = bench/engine-bench.c
bench_engine_bench_LDADD = src/core/libm40core.la
EXTRA_DIST += bench/cpu.sh
# bench/quant-dot: CPU dot-product speed per tensor format (internal m40i_
# kernels, hence linked statically); run by hand: bench/quant-dot [MB [NX]].
noinst_PROGRAMS += bench/quant-dot
bench_quant_dot_LDADD = src/core/libm40core.la
bench_quant_dot_LDFLAGS = -static
# m40-bench: token rates of the engine on one model (bench/gpu.sh runs it).
noinst_PROGRAMS += bench/m40-bench
bench_m40_bench_SOURCES = bench/m40-bench.c
bench_m40_bench_LDADD = src/core/libm40core.la
EXTRA_DIST += bench/gpu.sh bench/device-run.sh
