#!/usr/bin/env bash
# streaminfer and llama.cpp side by side on the same GGUF files, alternating, ROUNDS rounds, and a table of
# the medians with their ratios: every speed claim in the README comes from this, run in the same minutes.
#   deploy/bench/vs-llamacpp.sh [KINDS=f32,q8_0,q4_0] [BATCHES=1,8,32,64] [ROUNDS=3] [THREADS=2]
# JAVAS="java /path/to/jdk-25/bin/java" measures streaminfer under each JVM in turn (the product kernels are
# 512 bits wide only under JDK 25+ on AVX-512 machines, see compute/VectorShapes).
# The files are stories15M-shaped (the synthetic checkpoint streaminfer makes, converted and quantized by
# ../shared/peers/llamacpp/bench-vs.sh's tools); prompt 128, generate 128. llama.cpp runs with flash attention
# off and on (at batch 1) and the faster of the two counts. Needs the jar (mvn -Plocal package).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KINDS=${1:-f32,q8_0,q4_0}; NPL=${2:-1,8,32,64}; ROUNDS=${3:-3}; T=${4:-2}
JAR=${JAR:-$ROOT/flink-job/target/streaminfer.jar}
JAVAS=${JAVAS:-java}
PEER="$ROOT/../shared/peers/llamacpp"
BIN=$("$PEER/build.sh" | tail -1)
MODELS="${LLAMACPP_DIR:-$HOME/.cache/streaminfer-peers/llamacpp}/models"; mkdir -p "$MODELS"
CKPT=${CKPT:-/tmp/streaminfer-synthetic/synthetic-d288-h768-l6-q6-kv6-v32000-s256-shared-seed0.bin}
if [ ! -f "$CKPT" ]; then  # streaminfer writes its synthetic checkpoints there on first use
  ${JAVAS%% *} -jar "$JAR" generate --model synthetic:stories15M --prompt x --max-tokens 1 >/dev/null 2>&1 || true
fi
for q in ${KINDS//,/ }; do
  if [ ! -f "$MODELS/s15.$q.gguf" ]; then
    [ -f "$MODELS/s15.f32.gguf" ] || "$BIN/llama-convert-llama2c-to-ggml" --copy-vocab-from-model \
        "$ROOT/../shared/models/llama2-tokenizer.bin" --llama2c-model "$CKPT" --llama2c-output-model "$MODELS/s15.f32.gguf" >/dev/null 2>&1
    [ "$q" = f32 ] || "$BIN/llama-quantize" "$MODELS/s15.f32.gguf" "$MODELS/s15.$q.gguf" "${q^^}" >/dev/null 2>&1
  fi
done
max=$(echo "$NPL" | tr ',' '\n' | sort -n | tail -1)
RAW=$(mktemp); trap 'rm -f "$RAW"' EXIT
echo "# $(date -u '+%F %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $T threads; load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  for q in ${KINDS//,/ }; do
    for fa in off on; do
      npl=$NPL; [ "$fa" = on ] && npl=1
      "$BIN/llama-batched-bench" -m "$MODELS/s15.$q.gguf" -npp 128 -ntg 128 -npl "$npl" -t "$T" -c $(( max * 256 )) \
          -fa "$fa" 2>/dev/null | awk -v q="$q" -v r="$round" -F'|' '$2 ~ /^ *128 *$/ {gsub(/ /,""); print "llama", r, q, $4, $7, $9}' >> "$RAW"
    done
    for j in $JAVAS; do
      jdk=$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
      "$j" -jar "$JAR" bench --model "$MODELS/s15.$q.gguf" --batch-sizes "$NPL" --prompt-tokens 128 --tokens 128 \
          --threads "$T" --kernels vector --json 2>/dev/null | tail -1 | python3 -c '
import json, sys
for r in json.loads(sys.stdin.read())["rows"]:
    print("jdk" + sys.argv[3], sys.argv[1], sys.argv[2], r["batch"], r["prefill_tokens_per_s"], r["decode_tokens_per_s"], r["weights"])
' "$round" "$q" "$jdk" >> "$RAW"
    done
  done
  echo "round $round done at $(date -u +%H:%M:%S)" >&2
done
python3 - "$RAW" <<'PY'
import collections, statistics, sys
best = collections.defaultdict(dict)   # (who, kind, batch) -> round -> (prefill, decode)
label = {}
for line in open(sys.argv[1]):
    f = line.split()
    who, rnd, kind, batch, pre, dec = f[0], f[1], f[2], int(f[3]), float(f[4]), float(f[5])
    if who != "llama":
        label[kind] = f[6]
    old = best[(who, kind, batch)].get(rnd)
    if old is None or dec > old[1]:  # llama.cpp: the faster flash-attention setting of the round
        best[(who, kind, batch)][rnd] = (pre, dec)
med = lambda d, i: statistics.median(v[i] for v in d.values()) if d else float("nan")
print("| weights (as stored) | batch | JVM | decode tok/s ours | llama.cpp | ratio | prefill tok/s ours | llama.cpp | ratio |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
for (who, kind, batch) in sorted((k for k in best if k[0] != "llama"), key=lambda k: (k[1], k[2], k[0])):
    o, l = best[(who, kind, batch)], best.get(("llama", kind, batch), {})
    od, ld, op, lp = med(o, 1), med(l, 1), med(o, 0), med(l, 0)
    print(f"| {kind} ({label.get(kind, '?')}) | {batch} | {who} | {od:,.0f} | {ld:,.0f} | {od / ld:.2f}x | {op:,.0f} | {lp:,.0f} | {op / lp:.2f}x |")
PY
