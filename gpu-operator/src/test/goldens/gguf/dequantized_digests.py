#!/usr/bin/env python3
"""Digests of the dequantized tensors of quantized GGUF files, as an oracle for our dequantization.

For each pair QUANT.gguf=DEQUANT.gguf (DEQUANT written by `llama-quantize --allow-requantize QUANT DEQUANT F32`,
i.e. ggml's C dequantize_row_*), checks that gguf-py's numpy dequantization of QUANT gives bitwise the same
floats, then records per tensor: its GGUF type, shape (ne) and the SHA-256 of its dequantized float32
little-endian bytes, row-major (ne[0] fastest), plus its first 8 values.

usage: dequantized_digests.py OUT.json NAME=QUANT.gguf=DEQUANT.gguf ...   (needs gguf-py on PYTHONPATH, numpy)
"""
import hashlib
import json
import sys

import numpy as np
import gguf


def digest(quantized, dequantized):
    q = gguf.GGUFReader(quantized)
    d = {t.name: t for t in gguf.GGUFReader(dequantized).tensors}
    out = {}
    for t in q.tensors:
        c_floats = np.ascontiguousarray(np.asarray(d[t.name].data, dtype="<f4")).reshape(-1)
        py_floats = np.ascontiguousarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype="<f4").reshape(-1)
        if not np.array_equal(c_floats.view("<u4"), py_floats.view("<u4")):
            sys.exit(f"{quantized}: {t.name}: ggml and gguf-py dequantize differently")
        out[t.name] = {
            "type": t.tensor_type.name,
            "ne": [int(n) for n in t.shape],
            "sha256": hashlib.sha256(c_floats.tobytes()).hexdigest(),
            "first": [float(v) for v in c_floats[:8]],
        }
    return out


def main(out, pairs):
    result = {}
    for pair in pairs:
        name, quantized, dequantized = pair.split("=")
        result[name] = digest(quantized, dequantized)
    with open(out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
