#!/usr/bin/env bash
# Remakes the GGUF test files and llama.cpp goldens in gpu-operator/src/test/resources/gguf/.
#
# Needs: ../shared/peers/llamacpp/build.sh (builds llama.cpp once, cached), python3 with numpy, and
# ../shared/models (stories260K.bin, tok512.bin). Nothing here is a dependency of the build or of CI.
#
#   gpu-operator/src/test/goldens/gguf/make-goldens.sh
#
# What it writes (see that directory's README.md):
#   stories260K.f32.gguf                 llama-convert-llama2c-to-ggml of stories260K.bin with tok512.bin
#   stories260K.q8_0.gguf, .q4_0.gguf    llama-quantize of the f32 file (ffn_down stays F16: 172 columns)
#   synthetic256.q4_k_m.gguf             a random-weight llama2.c model with 256-element rows, converted and
#                                        quantized to Q4_K_M (Q4_K and Q6_K tensors)
#   tiny-qwen2.f16.gguf, tiny-qwen3.f16.gguf  random-weight qwen2 / qwen3 files written with gguf-py
#                                        (tiny_arch_gguf.py), with stories260K's vocabulary
#   tiny-llama3.f16.gguf                 a random-weight Llama-3.1-style llama file written with gguf-py
#                                        (tiny_llama3_gguf.py): GQA, untied output, theta 5e5, rope_freqs of
#                                        the llama3 rule (factor 8, low 1, high 4, original context 64)
#   *.greedy.json                        llama-greedy-ids, 120 tokens after "Once upon a time", 1 thread, f32 KV,
#                                        no flash attention: on each file, and on each quantized file's
#                                        dequantized F32 copy (*.dequantized.greedy.json: the exact oracle of an
#                                        engine that dequantizes the weights and computes in fp32)
#   dequantized.sha256.json              per tensor of each quantized file: SHA-256 of ggml's dequantized floats
#   tokenize_stories260K.txt             llama-tokenize of the tokenizer golden strings
#   vocab-llama-bpe.gguf, vocab-qwen2.gguf  llama.cpp's own gpt2 (byte-level BPE) vocabulary files for Llama 3
#                                        (pre llama-bpe) and Qwen2 (pre qwen2), cut to their first 6000 ids plus
#                                        every control / user-defined token (tiny_bpe_vocab_gguf.py)
#   tokenize_vocab-*.txt                 llama-tokenize on them of the texts of the Hugging Face tokenizer
#                                        goldens (../../resources/tokenizer-goldens/{llama3-instruct,qwen3}.json)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../../.." && pwd)"
OUT="$ROOT/gpu-operator/src/test/resources/gguf"
MODELS="${MODELS:-$ROOT/../shared/models}"
LLAMACPP_DIR="${LLAMACPP_DIR:-$HOME/.cache/streaminfer-peers/llamacpp}"
BIN="$("$ROOT/../shared/peers/llamacpp/build.sh" | tail -1)"
export PYTHONPATH="$LLAMACPP_DIR/llama.cpp/gguf-py${PYTHONPATH:+:$PYTHONPATH}"
python3 -c 'import numpy, gguf' || { echo "needs python3 numpy (apt-get install -y python3-numpy) and gguf-py" >&2; exit 1; }
VERSION="llama.cpp $(git -C "$LLAMACPP_DIR/llama.cpp" rev-parse --short HEAD) (node-llama-cpp 3.22.1 bundle, v0.5.0)"
PROMPT="Once upon a time"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

convert() { # llama2c.bin out.gguf
  "$BIN/llama-convert-llama2c-to-ggml" --copy-vocab-from-model "$MODELS/tok512.bin" --llama2c-model "$1" \
      --llama2c-output-model "$2" >"$TMP/convert.log" 2>&1 || { cat "$TMP/convert.log" >&2; exit 1; }
}
quantize() { # in out type [--allow-requantize]
  "$BIN/llama-quantize" ${4:-} "$1" "$2" "$3" >"$TMP/quantize.log" 2>&1 || { cat "$TMP/quantize.log" >&2; exit 1; }
}
greedy() { # model.gguf name out.json
  "$BIN/llama-greedy-ids" -m "$1" --model-name "$2" --version "$VERSION" -n 120 -t 1 --kv f32 --fa off \
      -p "$PROMPT" >"$TMP/greedy.json" 2>"$TMP/greedy.log" || { cat "$TMP/greedy.log" >&2; exit 1; }
  # A random model's text may split UTF-8 sequences, which greedy-ids prints raw: make the JSON valid
  # (U+FFFD for malformed bytes in the text fields; the ids are untouched).
  python3 -c 'import json, sys; d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "replace"));
json.dump(d, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False); open(sys.argv[2], "a").write("\n")' \
      "$TMP/greedy.json" "$3"
}

convert "$MODELS/stories260K.bin" "$OUT/stories260K.f32.gguf"
quantize "$OUT/stories260K.f32.gguf" "$OUT/stories260K.q8_0.gguf" Q8_0
quantize "$OUT/stories260K.f32.gguf" "$OUT/stories260K.q4_0.gguf" Q4_0
python3 "$HERE/synthetic_llama2c.py" "$TMP/synthetic256.bin"
convert "$TMP/synthetic256.bin" "$TMP/synthetic256.f32.gguf"
quantize "$TMP/synthetic256.f32.gguf" "$OUT/synthetic256.q4_k_m.gguf" Q4_K_M

for arch in qwen2 qwen3; do
  python3 "$HERE/tiny_arch_gguf.py" "$arch" "$OUT/stories260K.f32.gguf" "$OUT/tiny-$arch.f16.gguf" >/dev/null 2>&1
done
python3 "$HERE/tiny_llama3_gguf.py" "$OUT/stories260K.f32.gguf" "$OUT/tiny-llama3.f16.gguf" >/dev/null 2>&1

greedy "$OUT/stories260K.f32.gguf" stories260K.f32.gguf "$OUT/stories260K.f32.greedy.json"
for arch in qwen2 qwen3 llama3; do greedy "$OUT/tiny-$arch.f16.gguf" "tiny-$arch.f16.gguf" "$OUT/tiny-$arch.f16.greedy.json"; done
digests=()
for name in stories260K.q8_0 stories260K.q4_0 synthetic256.q4_k_m; do
  quantize "$OUT/$name.gguf" "$TMP/$name.dequantized.gguf" F32 --allow-requantize
  greedy "$OUT/$name.gguf" "$name.gguf" "$OUT/$name.greedy.json"
  greedy "$TMP/$name.dequantized.gguf" "$name.dequantized.gguf" "$OUT/$name.dequantized.greedy.json"
  digests+=("$name=$OUT/$name.gguf=$TMP/$name.dequantized.gguf")
done
python3 "$HERE/dequantized_digests.py" "$OUT/dequantized.sha256.json" "${digests[@]}"
python3 "$HERE/tokenize_cases.py" "$BIN/llama-tokenize" "$OUT/stories260K.f32.gguf" \
    "$ROOT/gpu-operator/src/test/resources/golden/tokenizer_tok512_encode.txt" >"$OUT/tokenize_stories260K.txt"
for pair in llama-bpe=llama3-instruct qwen2=qwen3; do
  vocab="${pair%%=*}"
  python3 "$HERE/tiny_bpe_vocab_gguf.py" "$LLAMACPP_DIR/llama.cpp/models/ggml-vocab-$vocab.gguf" 6000 \
      "$OUT/vocab-$vocab.gguf"
  python3 "$HERE/tokenize_cases.py" "$BIN/llama-tokenize" "$OUT/vocab-$vocab.gguf" \
      "$ROOT/gpu-operator/src/test/resources/tokenizer-goldens/${pair#*=}.json" >"$OUT/tokenize_vocab-$vocab.txt"
done
ls -l "$OUT"
