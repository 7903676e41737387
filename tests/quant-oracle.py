#!/usr/bin/env python3
"""Compare m40-llm's (de)quantization with the gguf Python package's.

usage: quant-oracle.py HELPER GGUF...

1. Every tensor of each GGUF file (blocks written by llama.cpp's own
   quantizer) is dequantized by m40_dequantize_row and by
   gguf.quants.dequantize; the floats must be bit for bit equal.
2. m40_quantize_row of random rows and of the F16 tensors' values must give
   the bytes gguf.quants.quantize gives (ggml's reference quantizers).
3. m40_quantize_row of the F16 model's tensors to Q4_K, Q5_K and Q6_K must
   give the very blocks llama-quantize wrote into the Q4_K_M, Q5_K_M, Q6_K models
   (made from the same F16 weights; the gguf package has no K quantizers).
Exit 0 when all agree, 1 on a difference.
"""
import subprocess
import sys

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType as T
from gguf.quants import dequantize, quantize


def run(helper, mode, records):
    data = b"".join(b"%d %d\n" % (t, n) + payload for t, n, payload in records)
    return subprocess.run([helper, mode], input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def same_floats(a, b):
    """Bit-equal, except that any NaN equals any NaN."""
    a, b = a.view(np.uint32), b.view(np.uint32)
    nan = np.isnan(a.view(np.float32)) & np.isnan(b.view(np.float32))
    return np.all((a == b) | nan)


def check_dequantize(helper, path):
    bad = 0
    tensors = GGUFReader(path).tensors
    records = [(int(t.tensor_type), int(t.n_elements), np.ascontiguousarray(t.data).tobytes())
               for t in tensors]
    out = np.frombuffer(run(helper, "dequantize", records), dtype=np.float32)
    pos = 0
    types = set()
    for t in tensors:
        n = int(t.n_elements)
        mine = out[pos:pos + n]
        pos += n
        ref = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32).ravel()
        types.add(t.tensor_type.name)
        if not same_floats(mine, ref):
            i = int(np.argmax(mine.view(np.uint32) != ref.view(np.uint32)))
            print(f"FAIL {path}: {t.name} ({t.tensor_type.name}): element {i} is {mine[i]!r}, gguf says {ref[i]!r}")
            bad += 1
    print(f"{path.rsplit('/', 1)[-1]}: {len(tensors)} tensors ({', '.join(sorted(types))}), "
          f"{pos} floats {'differ' if bad else 'bit-exact'}")
    return bad


QUANTIZABLE = [T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1]


def check_quantize(helper, rows, what):
    bad = 0
    for qt in QUANTIZABLE:
        records = [(int(qt), r.size, r.astype(np.float32).tobytes()) for r in rows]
        out = run(helper, "quantize", records)
        ref = b"".join(np.asarray(quantize(r.astype(np.float32), qt)).tobytes() for r in rows)
        if out != ref:
            i = next(i for i in range(min(len(out), len(ref))) if out[i] != ref[i]) if len(out) == len(ref) else -1
            print(f"FAIL quantize {qt.name} of {what}: bytes differ (first at byte {i})")
            bad += 1
    print(f"quantize {what}: {', '.join(q.name for q in QUANTIZABLE)} "
          f"{'differ' if bad else 'byte-exact'}")
    return bad


K_SIZES = {T.Q4_K: 144, T.Q5_K: 176, T.Q6_K: 210}


def check_kquants(helper, f16_path, paths):
    bad = 0
    blocks = 0
    src = {t.name: np.asarray(t.data, dtype=np.float32).ravel() for t in GGUFReader(f16_path).tensors}
    for path in paths:
        tensors = [t for t in GGUFReader(path).tensors if t.tensor_type in K_SIZES]
        records = [(int(t.tensor_type), src[t.name].size, src[t.name].tobytes()) for t in tensors]
        out = np.frombuffer(run(helper, "quantize", records), dtype=np.uint8)
        pos = 0
        for t in tensors:
            ref = np.frombuffer(np.ascontiguousarray(t.data).tobytes(), dtype=np.uint8)
            mine = out[pos:pos + ref.size]
            pos += ref.size
            blocks += ref.size // K_SIZES[t.tensor_type]
            if not np.array_equal(mine, ref):
                i = int(np.argmax(mine != ref))
                print(f"FAIL {path}: {t.name} ({t.tensor_type.name}): quantized F16 differs from llama.cpp's "
                      f"at byte {i} (block {i // K_SIZES[t.tensor_type]})")
                bad += 1
    print(f"quantize the F16 model to Q4_K/Q5_K/Q6_K: {blocks} blocks {'differ' if bad else 'byte-exact with llama.cpp'}")
    return bad


def main():
    helper, paths = sys.argv[1], sys.argv[2:]
    bad = 0
    f16_rows = []
    for path in paths:
        bad += check_dequantize(helper, path)
        if path.endswith("-f16.gguf"):
            for t in GGUFReader(path).tensors:
                if t.tensor_type == T.F16 and t.n_elements % 32 == 0:
                    f16_rows.append(np.asarray(t.data, dtype=np.float32).ravel())
    rng = np.random.default_rng(4)
    rows = [rng.standard_normal(32 * k).astype(np.float32) * s
            for k, s in ((1, 1.0), (8, 0.02), (64, 30.0))]
    rows.append(np.zeros(64, dtype=np.float32))
    rows.append(np.concatenate([np.full(32, 5.0), np.full(32, -3.0)]).astype(np.float32))
    bad += check_quantize(helper, rows, "random rows")
    if f16_rows:
        bad += check_quantize(helper, f16_rows, "the F16 model's tensors")
    f16 = [p for p in paths if p.endswith("st-llama-f16.gguf")]
    kq = [p for p in paths if p.endswith(("st-llama-q4_k_m.gguf", "st-llama-q5_k_m.gguf", "st-llama-q6_k.gguf"))]
    if f16 and kq:
        bad += check_kquants(helper, f16[0], kq)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
