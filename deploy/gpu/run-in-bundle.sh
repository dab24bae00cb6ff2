#!/usr/bin/env bash
# Inside an unpacked bundle: finds the CUDA libraries, runs the CUDA and comm tests (JUnit console launcher) and
# CudaBenchmark. Results go to the directory given as $1.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${1:?usage: run.sh OUT_DIR}"
mkdir -p "$OUT"

# cuBLAS, NVRTC, NCCL and cudart come from the Python wheels (site-packages/nvidia/*/lib) when present;
# libcuda.so.1 comes from the driver (already on the loader path).
LIBDIRS=""
for sp in $(python3 -c 'import site, sys; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null) \
          /usr/local/lib/python3*/dist-packages /usr/lib/python3/dist-packages; do
  [ -d "$sp/nvidia" ] || continue
  for d in $(find "$sp/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null); do
    LIBDIRS="$LIBDIRS:$d"
  done
done
[ -d /usr/local/cuda/lib64 ] && LIBDIRS="$LIBDIRS:/usr/local/cuda/lib64"
export LD_LIBRARY_PATH="${LIBDIRS#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" | tee "$OUT/environment.txt"
nvidia-smi >> "$OUT/environment.txt" 2>&1 || echo "nvidia-smi not found" >> "$OUT/environment.txt"

JAVA="$HERE/jre/bin/java"
CP="$(ls "$HERE"/lib/*.jar | grep -v junit-platform-console-standalone | tr '\n' ':')"
JVM=(--add-modules jdk.incubator.vector -Xmx24g
     -Dorg.bytedeco.javacpp.cachedir="$OUT/../javacpp-cache"
     -Dstreaminfer.shared.models="$HERE/models"
     -Djava.io.tmpdir="${TMPDIR:-/tmp}"
     -Dorg.slf4j.simpleLogger.defaultLogLevel=info)

# Fails the run (but still runs the rest) when the CUDA stack is not usable: the GPU tests would only skip.
"$JAVA" "${JVM[@]}" -cp "$CP" io.streaminfer.cuda.CudaSupportMain 2>&1 | tee "$OUT/cuda-support.txt"
SUPPORT=${PIPESTATUS[0]}

"$JAVA" "${JVM[@]}" -jar "$HERE"/lib/junit-platform-console-standalone-*.jar execute \
    --class-path "$CP" --select-package io.streaminfer.cuda --select-package io.streaminfer.comm --details=tree --disable-ansi-colors \
    --reports-dir "$OUT/junit" 2>&1 | tee "$OUT/tests.txt"
TESTS=${PIPESTATUS[0]}

"$JAVA" "${JVM[@]}" -cp "$CP" io.streaminfer.cuda.CudaBenchmark --out "$OUT/benchmark.txt" 2>&1 \
    | tee "$OUT/benchmark-log.txt"
BENCH=${PIPESTATUS[0]}
echo "cuda support exit $SUPPORT, tests exit $TESTS, benchmark exit $BENCH" | tee "$OUT/summary.txt"
grep -E "tests (successful|failed|aborted)" "$OUT/tests.txt" | tee -a "$OUT/summary.txt"
[ "$SUPPORT" -eq 0 ] && [ "$TESTS" -eq 0 ] && [ "$BENCH" -eq 0 ]
