#!/bin/sh
# gpu.sh: the CUDA backend's speed table of issue 5, on the GPU machine.
#
#   sh bench/gpu.sh BUILDDIR [OUTDIR]
#
# Writes the synthetic models with $M40_SHARED/bench/mksynth.py (in
# parallel, under ${TMPDIR:-/tmp}/m40-bench, kept for reruns): Llama-2-7B
# shape in Q4_0, Q8_0, Q4_K_M and F16, Mistral-7B and TinyLlama shapes in
# Q4_K_M.  Measures the card's read bandwidth (a sum over 4 GiB) and FP32
# SGEMM rate (8192^3, TF32 off) with PyTorch, then for each model tg128,
# tg128 after a 4096-token prompt (tg@d4096: the KV cache then adds 12-55%
# to the bytes a token reads) and pp512 with bench/m40-bench, and batched
# generation at 1/4/16/64
# sequences on the 7B Q4_K_M file.  Prints the table with the card named:
#   roofline = tg t/s * file bytes / bandwidth
#   SGEMM fraction = pp t/s * FLOPs per token / SGEMM rate
# Logs go to OUTDIR (default: the model folder).
set -u
build=${1:?usage: gpu.sh BUILDDIR [OUTDIR]}
shared=${M40_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
work=${TMPDIR:-/tmp}/m40-bench
out=${2:-$work}
mkdir -p "$work" "$out"
bench=$build/bench/m40-bench
test -x "$bench" || { echo "gpu.sh: no $bench (make bench/m40-bench)" >&2; exit 1; }

models="llama2-7b:q4_0 llama2-7b:q8_0 llama2-7b:q4_k_m llama2-7b:f16 mistral-7b:q4_k_m tinyllama-1.1b:q4_k_m"
t0=$(date +%s)
for m in $models; do
	f=$work/$(echo "$m" | tr : -).gguf
	test -s "$f" || python3 "$shared/bench/mksynth.py" "${m%%:*}" "${m##*:}" "$f" \
		--donor "$shared/models/llama-2-tiny-random.gguf" >"$f.log" 2>&1 &
done
wait
echo "models written in $(( $(date +%s) - t0 )) s"

python3 - >"$out/card.txt" <<'EOF'
import torch, time
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.cuda.get_device_name(0)
x = torch.empty(1 << 30, dtype=torch.float32, device="cuda").uniform_()
for _ in range(3): x.sum()
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(20): x.sum()
torch.cuda.synchronize(); bw = 20 * x.numel() * 4 / (time.perf_counter() - t)
a = torch.randn(8192, 8192, device="cuda"); b = torch.randn(8192, 8192, device="cuda")
for _ in range(2): a @ b
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(10): a @ b
torch.cuda.synchronize(); fl = 10 * 2 * 8192 ** 3 / (time.perf_counter() - t)
print("card", dev.replace(" ", "_"))
print("bw", bw)
print("sgemm", fl)
EOF
card=$(sed -n 's/^card //p' "$out/card.txt")
bw=$(sed -n 's/^bw //p' "$out/card.txt")
sgemm=$(sed -n 's/^sgemm //p' "$out/card.txt")
echo "card $card: read bandwidth $(echo "$bw" | awk '{printf "%.0f", $1/1e9}') GB/s, FP32 SGEMM $(echo "$sgemm" | awk '{printf "%.1f", $1/1e12}') TFLOP/s"

for m in $models; do
	f=$work/$(echo "$m" | tr : -).gguf
	log=$out/$(echo "$m" | tr : -).bench
	if [ "$m" = llama2-7b:q4_k_m ]; then
		"$bench" "$f" cuda tg 128 pp 512 batched 1,4,16,64 >"$log" 2>&1
	else
		"$bench" "$f" cuda tg 128 pp 512 >"$log" 2>&1
	fi
	"$bench" "$f" cuda depth 4096 tg 128 2>&1 | grep '^tg128@' >>"$log"
	cat "$log"
done

echo
echo "m40-llm CUDA backend on $card (bandwidth $(echo "$bw" | awk '{printf "%.0f", $1/1e9}') GB/s, SGEMM $(echo "$sgemm" | awk '{printf "%.1f", $1/1e12}') TFLOP/s)"
printf '%-24s %9s %9s %9s %9s %9s %9s\n' model GB tg128 roofline "tg@d4096" pp512 "SGEMM-fr"
for m in $models; do
	log=$out/$(echo "$m" | tr : -).bench
	awk -v name="$m" -v bw="$bw" -v sg="$sgemm" '
		/^model / { gb = $3; gf = $6 }
		/^tg128 / { tg = $2 }
		/^tg128@d4096 / { td = $2 }
		/^pp512 / { pp = $2 }
		END {
			if (gb == "") { printf "%-24s failed\n", name; exit }
			printf "%-24s %9.2f %9.1f %8.1f%% %9.1f %9.1f %8.1f%%\n", name, gb, tg, 100 * tg * gb * 1e9 / bw,
				td, pp, 100 * pp * gf * 1e9 / sg
		}' "$log"
done
echo
# a step reads every weight once for all its sequences and does their
# FLOPs: few sequences are bound by the bandwidth, many by FP32
echo "batched generation, llama2-7b:q4_k_m (128-token prompts, 128 generated)"
printf '%-10s %11s %12s %12s\n' sequences "t/s in all" "bandwidth" "FP32"
awk -v bw="$bw" -v sg="$sgemm" '
	/^model / { gb = $3; gf = $6 }
	/^batched / { printf "%-10d %11.1f %11.1f%% %11.1f%%\n", $2, $3, 100 * $3 / $2 * gb * 1e9 / bw,
		100 * $3 * gf * 1e9 / sg }' "$out/llama2-7b-q4_k_m.bench"
