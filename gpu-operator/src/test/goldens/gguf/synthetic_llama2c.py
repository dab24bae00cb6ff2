#!/usr/bin/env python3
"""Writes a deterministic random-weight llama2.c checkpoint whose rows are multiples of 256 elements, so that
llama-quantize can give it K-quant types (Q4_K, Q6_K). Shape: dim 256, hidden 256, 1 layer, 4 heads, vocab
512 (tok512's), seq_len 128, a separate classifier (negative vocab_size in the header).

usage: synthetic_llama2c.py OUT.bin
"""
import struct
import sys

import numpy as np

DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ = 256, 256, 1, 4, 4, 512, 128
SEED = 1


def main(out):
    rng = np.random.default_rng(SEED)

    def normal(*shape, scale):
        return (rng.standard_normal(shape) * scale).astype("<f4")

    head = DIM // HEADS
    sections = [
        normal(VOCAB, DIM, scale=1.0),                 # token embedding
        1 + normal(LAYERS, DIM, scale=0.1),            # rms_att
        normal(LAYERS, DIM, DIM, scale=0.1),           # wq
        normal(LAYERS, KV_HEADS * head, DIM, scale=0.1),  # wk
        normal(LAYERS, KV_HEADS * head, DIM, scale=0.1),  # wv
        normal(LAYERS, DIM, DIM, scale=0.1),           # wo
        1 + normal(LAYERS, DIM, scale=0.1),            # rms_ffn
        normal(LAYERS, HIDDEN, DIM, scale=0.1),        # w1
        normal(LAYERS, DIM, HIDDEN, scale=0.1),        # w2
        normal(LAYERS, HIDDEN, DIM, scale=0.1),        # w3
        1 + normal(DIM, scale=0.1),                    # rms_final
        np.zeros((SEQ, head), "<f4"),                  # legacy freq_cis (unused)
        normal(VOCAB, DIM, scale=0.1),                 # classifier
    ]
    with open(out, "wb") as f:
        f.write(struct.pack("<7i", DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, -VOCAB, SEQ))
        for s in sections:
            f.write(s.tobytes())


if __name__ == "__main__":
    main(sys.argv[1])
