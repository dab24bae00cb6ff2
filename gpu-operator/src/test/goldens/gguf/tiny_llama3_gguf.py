#!/usr/bin/env python3
"""Writes a tiny random-weight Llama-3.1-style GGUF (architecture llama, llama.cpp's key and tensor names), with
the SentencePiece vocabulary of another GGUF file (stories260K's tok512), so that llama.cpp can be the oracle
of Llama 3.1's RoPE frequency scaling as GGUF files carry it: a rope_freqs tensor of per-frequency divisors,
computed with llama.cpp's converter rule (conversion/llama.py, generate_extra_tensors). Also: grouped-query
attention (8 heads over 2 KV heads), untied embeddings (an output tensor), theta 500000, adjacent-pair RoPE
(GGUF llama files keep Meta's q/k row order). F16 matrices, F32 vectors and rope_freqs.

Scaling: factor 8, low_freq_factor 1, high_freq_factor 4, original_max_position_embeddings 64 (written as
llama.rope.scaling.original_context_length too). At head_dim 16 and theta 500000 the wavelengths
2 pi theta^(2i/16) are 6.3, 32.4, 167, 862, ...: pair 0 is below original / high = 16 and kept (divisor 1),
pair 1 lies in the transition band (divisor ~2.44), pairs 2..7 are above original / low = 64 and divided by 8.
The 125 positions of the greedy run reach past the original 64.

usage: tiny_llama3_gguf.py VOCAB.gguf OUT.gguf   (needs gguf-py on PYTHONPATH, numpy)
"""
import math
import sys

import numpy as np
import gguf

DIM, HIDDEN, LAYERS, HEADS, KV_HEADS = 128, 64, 1, 8, 2
HEAD_DIM = DIM // HEADS
THETA = 500000.0
FACTOR, LOW, HIGH, ORIGINAL = 8.0, 1.0, 4.0, 64
CONTEXT = 512
SEED = 11
SCALE = 0.3
EMBEDDING_SCALE = 0.6


def rope_factors():
    """llama.cpp's convert_hf_to_gguf rule for rope_type llama3, in float32 frequencies as it computes them."""
    freqs = 1.0 / (np.float32(THETA) ** (np.arange(0, HEAD_DIM, 2, dtype=np.float32) / np.float32(HEAD_DIM)))
    low_wavelen, high_wavelen = ORIGINAL / LOW, ORIGINAL / HIGH
    out = []
    for freq in freqs:
        wavelen = 2 * math.pi / float(freq)
        if wavelen < high_wavelen:
            out.append(1.0)
        elif wavelen > low_wavelen:
            out.append(FACTOR)
        else:
            smooth = (ORIGINAL / wavelen - LOW) / (HIGH - LOW)
            out.append(1 / ((1 - smooth) / FACTOR + smooth))
    return np.array(out, dtype=np.float32)


def main(vocab_file, out):
    rng = np.random.default_rng(SEED)
    src = gguf.GGUFReader(vocab_file)
    field = lambda name: src.fields[name]
    tokens = [field("tokenizer.ggml.tokens").contents(i) for i in range(len(field("tokenizer.ggml.tokens").data))]
    scores = field("tokenizer.ggml.scores").contents()
    types = field("tokenizer.ggml.token_type").contents()
    vocab = len(tokens)

    factors = rope_factors()
    print("rope_freqs", factors.tolist(), file=sys.stderr)
    assert factors[0] == 1 and factors[-1] == FACTOR and any(1 < f < FACTOR for f in factors), factors

    w = gguf.GGUFWriter(out, "llama")
    w.add_name("tiny-llama3")
    w.add_context_length(CONTEXT)
    w.add_embedding_length(DIM)
    w.add_feed_forward_length(HIDDEN)
    w.add_block_count(LAYERS)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(THETA)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_rope_scaling_orig_ctx_len(ORIGINAL)
    w.add_vocab_size(vocab)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)

    def matrix(rows, cols, scale):
        return (rng.standard_normal((rows, cols)) * scale).astype(np.float16)

    def vector(n, scale, offset=0.0):
        return (offset + rng.standard_normal(n) * scale).astype(np.float32)

    w.add_tensor("token_embd.weight", matrix(vocab, DIM, EMBEDDING_SCALE))
    w.add_tensor("rope_freqs.weight", factors)
    w.add_tensor("output_norm.weight", vector(DIM, 0.1, 1.0))
    w.add_tensor("output.weight", matrix(vocab, DIM, SCALE))
    for l in range(LAYERS):
        p = f"blk.{l}."
        w.add_tensor(p + "attn_norm.weight", vector(DIM, 0.1, 1.0))
        w.add_tensor(p + "attn_q.weight", matrix(HEADS * HEAD_DIM, DIM, SCALE))
        w.add_tensor(p + "attn_k.weight", matrix(KV_HEADS * HEAD_DIM, DIM, SCALE))
        w.add_tensor(p + "attn_v.weight", matrix(KV_HEADS * HEAD_DIM, DIM, SCALE))
        w.add_tensor(p + "attn_output.weight", matrix(DIM, HEADS * HEAD_DIM, SCALE))
        w.add_tensor(p + "ffn_norm.weight", vector(DIM, 0.1, 1.0))
        w.add_tensor(p + "ffn_gate.weight", matrix(HIDDEN, DIM, SCALE))
        w.add_tensor(p + "ffn_up.weight", matrix(HIDDEN, DIM, SCALE))
        w.add_tensor(p + "ffn_down.weight", matrix(DIM, HIDDEN, SCALE))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
