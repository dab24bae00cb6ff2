#!/usr/bin/env python3
"""Cuts a byte-level BPE (tokenizer.ggml.model = gpt2) vocabulary GGUF down to a small one llama.cpp still loads.

Keeps the first KEEP ids, every single-character token (so that every byte still has a token), and every CONTROL
(3) or USER_DEFINED (4) token, renumbered in their original order; keeps a merge only when both its parts and their
concatenation are kept (in its original rank order). Every other key (tokenizer.ggml.pre, the architecture's
hyperparameters) is copied; BOS/EOS/padding ids are renumbered. No tensors: llama-tokenize loads vocab only.
The result is not the model's tokenizer, but llama.cpp tokenizes with it by the same rules, so it is an exact
oracle for a reader of gpt2 vocabularies at a size fit to commit.

usage: tiny_bpe_vocab_gguf.py SRC.gguf KEEP OUT.gguf   (needs gguf-py on PYTHONPATH, numpy)
"""
import sys

import gguf

TOKENIZER_ARRAYS = {"tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"}
TOKEN_IDS = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id"}


def main(src_file, keep, out):
    keep = int(keep)
    src = gguf.GGUFReader(src_file)
    f = src.fields
    tokens = f["tokenizer.ggml.tokens"].contents()
    types = f["tokenizer.ggml.token_type"].contents()
    merges = f["tokenizer.ggml.merges"].contents()
    kept = [i for i in range(len(tokens)) if i < keep or len(tokens[i]) == 1 or types[i] in (3, 4)]
    new_id = {old: new for new, old in enumerate(kept)}
    strings = {tokens[i] for i in kept}
    kept_merges = []
    for m in merges:
        a, b = m.split(" ", 1)
        if a in strings and b in strings and a + b in strings:
            kept_merges.append(m)
    arch = f["general.architecture"].contents()
    w = gguf.GGUFWriter(out, arch)
    for key, field in f.items():
        if key.startswith("GGUF.") or key == "general.architecture" or key in TOKENIZER_ARRAYS:
            continue
        value = field.contents()
        if key in TOKEN_IDS:
            if value not in new_id:
                continue
            value = new_id[value]
        if key.endswith(".vocab_size"):
            value = len(kept)
        w.add_key_value(key, value, field.types[0], field.types[-1] if len(field.types) > 1 else None)
    w.add_token_list([tokens[i] for i in kept])
    w.add_token_types([int(types[i]) for i in kept])
    w.add_token_merges(kept_merges)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"{out}: {len(kept)} tokens, {len(kept_merges)} merges", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:])
