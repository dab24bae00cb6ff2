#!/usr/bin/env python3
"""Writes a tiny random-weight GGUF of architecture qwen2 or qwen3 (llama.cpp's key and tensor names), with the
SentencePiece vocabulary of another GGUF file (stories260K's tok512), so that llama.cpp can be the oracle of
each architecture's flags: qwen2's q/k/v biases, qwen3's per-head q/k RMSNorm and head_dim wider than
dim / heads, rotate-half RoPE with theta 1e6, grouped-query attention, tied embeddings. F16 matrices.

usage: tiny_arch_gguf.py qwen2|qwen3 VOCAB.gguf OUT.gguf   (needs gguf-py on PYTHONPATH, numpy)
"""
import sys

import numpy as np
import gguf

DIM, HIDDEN, LAYERS, HEADS, KV_HEADS = 64, 128, 1, 4, 2
# Seeds and scales chosen so that llama.cpp's greedy run varies (93 and 42 distinct tokens in 120) and no
# step's top-two margin is below 0.02.
SEED = {"qwen2": 3, "qwen3": 4}
SCALE = {"qwen2": 0.5, "qwen3": 0.3}
EMBEDDING_SCALE = 0.6


def main(arch, vocab_file, out):
    head_dim = 32 if arch == "qwen3" else DIM // HEADS
    rng = np.random.default_rng(SEED[arch])
    src = gguf.GGUFReader(vocab_file)
    field = lambda name: src.fields[name]
    tokens = [field("tokenizer.ggml.tokens").contents(i) for i in range(len(field("tokenizer.ggml.tokens").data))]
    scores = field("tokenizer.ggml.scores").contents()
    types = field("tokenizer.ggml.token_type").contents()
    vocab = len(tokens)

    w = gguf.GGUFWriter(out, arch)
    w.add_name("tiny-" + arch)
    w.add_context_length(512)
    w.add_embedding_length(DIM)
    w.add_feed_forward_length(HIDDEN)
    w.add_block_count(LAYERS)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(1e6)
    if arch == "qwen3":
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
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
    w.add_tensor("output_norm.weight", vector(DIM, 0.1, 1.0))
    for l in range(LAYERS):
        p = f"blk.{l}."
        w.add_tensor(p + "attn_norm.weight", vector(DIM, 0.1, 1.0))
        w.add_tensor(p + "attn_q.weight", matrix(HEADS * head_dim, DIM, SCALE[arch]))
        w.add_tensor(p + "attn_k.weight", matrix(KV_HEADS * head_dim, DIM, SCALE[arch]))
        w.add_tensor(p + "attn_v.weight", matrix(KV_HEADS * head_dim, DIM, SCALE[arch]))
        if arch == "qwen2":
            w.add_tensor(p + "attn_q.bias", vector(HEADS * head_dim, 0.5))
            w.add_tensor(p + "attn_k.bias", vector(KV_HEADS * head_dim, 0.5))
            w.add_tensor(p + "attn_v.bias", vector(KV_HEADS * head_dim, 0.5))
        else:
            w.add_tensor(p + "attn_q_norm.weight", vector(head_dim, 0.2, 1.0))
            w.add_tensor(p + "attn_k_norm.weight", vector(head_dim, 0.2, 1.0))
        w.add_tensor(p + "attn_output.weight", matrix(DIM, HEADS * head_dim, SCALE[arch]))
        w.add_tensor(p + "ffn_norm.weight", vector(DIM, 0.1, 1.0))
        w.add_tensor(p + "ffn_gate.weight", matrix(HIDDEN, DIM, SCALE[arch]))
        w.add_tensor(p + "ffn_up.weight", matrix(HIDDEN, DIM, SCALE[arch]))
        w.add_tensor(p + "ffn_down.weight", matrix(DIM, HIDDEN, SCALE[arch]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
