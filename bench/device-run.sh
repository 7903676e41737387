#!/bin/sh
# device-run.sh: one whole GPU-machine session in one command: build the
# dist tarball for the card, run the CUDA tests, count the kernels'
# instructions with ncu, run the benchmark.  Logs go to $OUT (at most 8
# files come back from the device tool).
#
#   sh bench/device-run.sh [PHASES]     PHASES: build,test,ptx,ncu,mv,engine,models,long,bench,sanitize
#                                       (default all), and on request: prof (ncu: one 7B Q4_K_M
#                                       decode step by kernel; all sections of the Q4_K, Q4_0 and
#                                       F16 kernels for one sequence, their warp stalls),
#                                       batch (7B Q4_K_M batched generation at 1-64 sequences
#                                       for several matrix-vector/batch-matmul crossovers)
#
# Prepared here by dev/cuda/device-prep.sh in .carry/ (ignored by git):
#   m40-llm.tar.xz   `make dist` of a configured tree
#   shared/          the shared models, references and mksynth.py
#   deps/            jansson headers and static library (the device image lacks them)
#   cuda-ops-ptx52   tests/cuda-ptx.sh's compute_52 PTX build of tests/cuda-ops
# Each phase has its own time limit so that the whole run ends in time.
set -u
phases=${1:-build,test,ptx,ncu,mv,engine,models,long,bench,sanitize}
here=$(pwd)
carry=$here/.carry
OUT=${OUT:-/tmp/m40-out}
mkdir -p "$OUT"
export M40_SHARED="$carry/shared"
log=$OUT/tests.log
has() { case ",$phases," in *",$1,"*) return 0;; esac; return 1; }
say() { echo "== $* ($(date +%T))" | tee -a "$log"; }
run() { # LIMIT NAME CMD...: run with a time limit, log, report the status
	lim=$1; name=$2; shift 2
	say "$name"
	timeout "$lim" "$@" >>"$log" 2>&1
	rc=$?
	echo "== $name: exit $rc" | tee -a "$log"
	return 0
}

nvidia-smi -L | tee -a "$log"
nproc | sed 's/^/cores: /' | tee -a "$log"
src=/tmp/m40-src
if has build; then
	say build
	rm -rf "$src" && mkdir -p "$src" && tar -C "$src" -xJf "$carry/m40-llm.tar.xz" || exit 1
	cd "$src"/m40-llm-* || exit 1
	./configure --with-cuda-arch=90 --disable-nls \
		ZLIB_CFLAGS=" " ZLIB_LIBS=" " LIBARCHIVE_CFLAGS=" " LIBARCHIVE_LIBS=" " \
		JANSSON_CFLAGS="-I$carry/deps/include" JANSSON_LIBS="$carry/deps/lib/libjansson.a" \
		>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
	grep "CUDA backend" "$OUT/build.log" | tee -a "$log"
	timeout 400 make -j"$(nproc)" src/m40-inspect src/m40-tokenize src/m40-generate tests/cuda-ops \
		tests/cuda-models tests/engine-stories tests/engine-models bench/m40-bench >>"$OUT/build.log" 2>&1 \
		|| { grep -E "error|Error" "$OUT/build.log" | head -30; tail -20 "$OUT/build.log"; exit 1; }
	grep -E "warning" "$OUT/build.log" | grep -E "\.cu" | head -20 | tee -a "$log"
	say "build done"
fi
cd "$src"/m40-llm-* || exit 1
b=$(pwd)
export top_srcdir="$b" top_builddir="$b" PATH="$b/src:$b/tests:$PATH"
unset M40_MODEL M40_BACKEND
src/m40-inspect --devices 2>&1 | tee -a "$log"

has test && run 240 "tests/cuda-ops (sm_90 build)" tests/cuda-ops
# the other of 4 and 8 rows a thread block for one sequence, every type
swap=f16=8,bf16=8,q8_0=4,q4_0=4,q4_1=4,q5_0=4,q5_1=4,iq4_nl=4,q2_K=4,q3_K=4,q4_K=4,q5_K=4,q6_K=4
has test && run 240 "tests/cuda-ops, M40_CUDA_MV_ROWS=$swap" env M40_CUDA_MV_ROWS=$swap tests/cuda-ops
# every batch through batch-matmul.cu (no matrix-vector kernels)
has test && run 240 "tests/cuda-ops, M40_CUDA_MV_BATCH=0" env M40_CUDA_MV_BATCH=0 tests/cuda-ops
# every batch through the matrix-vector kernels (passes of up to 8)
has test && run 240 "tests/cuda-ops, M40_CUDA_MV_BATCH=64" env M40_CUDA_MV_BATCH=64 tests/cuda-ops
has ptx && run 240 "cuda-ops-ptx52 (compute_52 PTX, JIT by the driver)" "$carry/cuda-ops-ptx52"
has ptx && run 240 "cuda-ops-ptx52, M40_CUDA_MV_BATCH=0" env M40_CUDA_MV_BATCH=0 "$carry/cuda-ops-ptx52"
if has ncu; then
	say "ncu: executed instructions per weight byte, n = 1, 7B shapes"
	timeout 200 ncu --metrics smsp__thread_inst_executed.sum,dram__bytes_read.sum -k regex:"mvq?_kernel" \
		--csv --log-file "$OUT/ncu.csv" tests/cuda-ops once >"$OUT/once.txt" 2>&1
	python3 - "$OUT/ncu.csv" "$OUT/once.txt" <<'EOF' | tee -a "$log"
import csv, sys
rows = [r for r in csv.reader(l for l in open(sys.argv[1]) if l.startswith('"'))]
head, rows = rows[0], rows[1:]
ki, mi, vi, ni = head.index("ID"), head.index("Metric Name"), head.index("Metric Value"), head.index("Kernel Name")
per = {}
names = {}
for r in rows:
    k = int(r[ki]); per.setdefault(k, {})[r[mi]] = float(r[vi].replace(",", "")); names[k] = r[ni]
ids = sorted(per)
fmts = [l.split() for l in open(sys.argv[2]) if l.startswith("once ")]
print("%-8s %12s %14s %10s %10s" % ("type", "MB", "lane-instr", "instr/B", "DRAM/B"))
for i, (_, t, b) in enumerate(fmts):
    ks = ids[4 * i: 4 * i + 4]
    inst = sum(per[k].get("smsp__thread_inst_executed.sum", 0) for k in ks)
    dram = sum(per[k].get("dram__bytes_read.sum", 0) for k in ks)
    print("%-8s %12.1f %14.0f %10.2f %10.2f" % (t, int(b) / 1e6, inst, inst / int(b), dram / int(b)))
EOF
fi
has mv && run 200 "matrix products, 7B shapes" tests/cuda-ops bench
has mv && run 200 "matrix products, 7B shapes, M40_CUDA_MV_BATCH=0" env M40_CUDA_MV_BATCH=0 tests/cuda-ops bench
if has batch; then
	f=${TMPDIR:-/tmp}/m40-bench/llama2-7b-q4_k_m.gguf
	mkdir -p "$(dirname "$f")"
	test -s "$f" || python3 "$carry/shared/bench/mksynth.py" llama2-7b q4_k_m "$f" \
		--donor "$carry/shared/models/llama-2-tiny-random.gguf" >/dev/null 2>&1
	for mb in default 2 4 8; do
		say "batched generation, 7B Q4_K_M, M40_CUDA_MV_BATCH=$mb"
		if [ $mb = default ]; then e=; else e=M40_CUDA_MV_BATCH=$mb; fi
		timeout 150 env $e bench/m40-bench "$f" cuda batched 1,2,4,8,16,32,64 2>&1 | grep '^batched' |
			tr '\n' ' ' | tee -a "$log"
		echo | tee -a "$log"
	done
fi
has engine && run 240 "engine references on CUDA" sh "$b/tests/cuda-engine.sh"
has models && run 300 "cuda-models (CUDA vs CPU, every shared model)" tests/cuda-models --short
has long && run 300 "cuda-models, context 8192" tests/cuda-models --long
if has bench; then
	say "bench/gpu.sh"
	timeout 420 sh "$b/bench/gpu.sh" "$b" /tmp/m40-bench-out >"$OUT/bench.log" 2>&1
	echo "== bench: exit $?" >>"$OUT/bench.log"
	cat /tmp/m40-bench-out/*.bench /tmp/m40-bench-out/card.txt >>"$OUT/bench.log" 2>/dev/null
fi
if has prof; then
	f=${TMPDIR:-/tmp}/m40-bench/llama2-7b-q4_k_m.gguf
	mkdir -p "$(dirname "$f")"
	test -s "$f" || python3 "$carry/shared/bench/mksynth.py" llama2-7b q4_k_m "$f" \
		--donor "$carry/shared/models/llama-2-tiny-random.gguf" >/dev/null 2>&1
	say "ncu: one decode step by kernel (tg 2: 4 steps), 7B Q4_K_M"
	timeout 240 ncu --metrics gpu__time_duration.sum --csv --log-file "$OUT/step.csv" \
		bench/m40-bench "$f" cuda tg 2 >/dev/null 2>&1
	python3 "$here/dev/cuda/kernel-times.py" "$OUT/step.csv" | tee -a "$log"
	# every section of the n = 1 kernels of Q4_K, Q4_0 and F16 (type
	# numbers 12, 2, 1) on the 7B shapes; the raw stall metrics of the
	# 4096 x 4096 Q4_K and Q4_0 launches
	for t in 12 2 1; do
		say "ncu: matrix-vector kernel of type $t, n = 1, full set"
		timeout 150 ncu --set full --kernel-name-base demangled -c 4 \
			-k regex:"mvq_kernel<\(int\)$t, \(int\)1, " tests/cuda-ops once >"$OUT/ncu-t$t.txt" 2>&1
		grep -E "^  [a-z]|Duration|DRAM Throughput|Registers Per|Achieved Occupancy|Issue Slots Busy|No Eligible|Active Warps Per|Eligible Warps|Warp Cycles Per Issued|Waves Per SM" \
			"$OUT/ncu-t$t.txt" | tee -a "$log"
	done
	for t in 12 2; do
		timeout 100 ncu --section WarpStateStats --page raw --kernel-name-base demangled -c 1 \
			-k regex:"mvq_kernel<\(int\)$t, \(int\)1, " tests/cuda-ops once >"$OUT/raw-t$t.txt" 2>&1
		grep -E "issue_stalled.*per_issue_active|issue_active.avg|warps_active.avg" "$OUT/raw-t$t.txt" |
			awk '$NF + 0 >= 0.05' | tee -a "$log"
	done
fi
has sanitize && run 150 "compute-sanitizer memcheck, tests/cuda-ops" compute-sanitizer --tool memcheck \
	--print-limit 5 tests/cuda-ops
say "done"
grep -E "^(FAIL|SKIP)|^== |checks failed" "$log" | tail -40
test -f "$OUT/bench.log" && sed -n '/^m40-llm CUDA backend on/,$p' "$OUT/bench.log"
exit 0
