#!/usr/bin/env bash
# Builds target/gpu-bundle/streaminfer-gpu.tgz: everything the GPU machine needs to run the CUDA and comm
# tests and CudaBenchmark, with no Java and no Maven there. Must stay under the 64 MiB a device call carries.
#
#   jre/       jlink runtime from this machine's JDK 17 (java.base + the few modules used; jdk.zipfs lets JUnit scan jars)
#   lib/       project jars + runtime dependencies (no Flink, no Kafka: the engine does not need them)
#   models/    stories260K.bin and tok512.bin for the golden GPU tests
#   run.sh     copied from deploy/gpu/run-in-bundle.sh
#
# Dropped on purpose: the OpenBLAS natives (19.7 MB; the GPU tests compare against the "vector" CPU
# backend, which is pure Java) and every JavaCPP CUDA JNI library except cudart, cublas, nvrtc and nccl.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT_DIR="$ROOT/target/gpu-bundle"
STAGE="$OUT_DIR/streaminfer-gpu"
M2="${MAVEN_REPO:-$HOME/.m2/repository}"
JAVACPP=1.5.13
CUDA=13.1-9.19-1.5.13
OPENBLAS=0.3.31-1.5.13
JUNIT_CONSOLE=1.11.4
MAVEN_OFFLINE="${MAVEN_OFFLINE:--o}"

cd "$ROOT"
# 1. project jars (and test classes). package, never install: ~/.m2 is shared.
mvn -B -q $MAVEN_OFFLINE -pl gpu-operator -am package -DskipTests
# the JUnit console launcher and the CUDA natives are not module dependencies: fetch them if missing
for coords in "org.bytedeco:cuda:$CUDA:jar:linux-x86_64" \
              "org.junit.platform:junit-platform-console-standalone:$JUNIT_CONSOLE"; do
  mvn -B -q $MAVEN_OFFLINE dependency:get -Dartifact="$coords" -Dtransitive=false
done

rm -rf "$OUT_DIR"
mkdir -p "$STAGE/lib" "$STAGE/models"
cp comm/target/streaminfer-comm-*.jar gpu-operator/target/streaminfer-gpu-operator-*.jar "$STAGE/lib/"
rm -f "$STAGE"/lib/*-sources.jar "$STAGE"/lib/*-tests.jar
(cd gpu-operator/target/test-classes && jar cf "$STAGE/lib/streaminfer-gpu-operator-tests.jar" io)
# comm's contract tests too: their NCCL cases (stage links among them) run where there are GPUs
(cd comm/target/test-classes && jar cf "$STAGE/lib/streaminfer-comm-tests.jar" io)

# 2. runtime dependencies of the engine
cp "$M2/org/bytedeco/javacpp/$JAVACPP/javacpp-$JAVACPP.jar" \
   "$M2/org/bytedeco/javacpp/$JAVACPP/javacpp-$JAVACPP-linux-x86_64.jar" \
   "$M2/org/bytedeco/cuda/$CUDA/cuda-$CUDA.jar" \
   "$M2/org/bytedeco/openblas/$OPENBLAS/openblas-$OPENBLAS.jar" \
   "$M2/org/slf4j/slf4j-api/1.7.36/slf4j-api-1.7.36.jar" \
   "$M2/org/slf4j/slf4j-simple/1.7.36/slf4j-simple-1.7.36.jar" \
   "$M2/org/junit/platform/junit-platform-console-standalone/$JUNIT_CONSOLE/junit-platform-console-standalone-$JUNIT_CONSOLE.jar" \
   "$STAGE/lib/"

# 3. the CUDA natives jar, keeping only the JNI wrappers we load (5 MB -> about 2 MB)
NATIVES="$OUT_DIR/natives"
mkdir -p "$NATIVES"
(cd "$NATIVES" && unzip -q "$M2/org/bytedeco/cuda/$CUDA/cuda-$CUDA-linux-x86_64.jar" \
   'META-INF/MANIFEST.MF' \
   'org/bytedeco/cuda/linux-x86_64/libjnicudart.so' 'org/bytedeco/cuda/linux-x86_64/libjnicublas.so' \
   'org/bytedeco/cuda/linux-x86_64/libjninvrtc.so' 'org/bytedeco/cuda/linux-x86_64/libjninccl.so' \
   'META-INF/native-image/linux-x86_64/jnicudart/*' 'META-INF/native-image/linux-x86_64/jnicublas/*' \
   'META-INF/native-image/linux-x86_64/jninvrtc/*' 'META-INF/native-image/linux-x86_64/jninccl/*' \
 && jar cfm "$STAGE/lib/cuda-$CUDA-linux-x86_64-trimmed.jar" META-INF/MANIFEST.MF org META-INF/native-image)
rm -rf "$NATIVES"

# 4. models for the golden tests
SHARED="$ROOT/../shared/models"
for f in stories260K.bin tok512.bin; do
  if [ -f "$SHARED/$f" ]; then cp "$SHARED/$f" "$STAGE/models/"; else echo "note: $SHARED/$f missing; its tests will skip" >&2; fi
done

# 5. a trimmed Java runtime
jlink --add-modules java.base,java.logging,java.management,java.xml,jdk.unsupported,jdk.zipfs,jdk.incubator.vector \
      --strip-debug --no-header-files --no-man-pages --compress=2 --output "$STAGE/jre"

cp "$ROOT/deploy/gpu/run-in-bundle.sh" "$STAGE/run.sh"
chmod +x "$STAGE/run.sh"
tar -C "$OUT_DIR" -czf "$OUT_DIR/streaminfer-gpu.tgz" streaminfer-gpu
rm -rf "$STAGE"
SIZE=$(stat -c %s "$OUT_DIR/streaminfer-gpu.tgz")
echo "bundle: $OUT_DIR/streaminfer-gpu.tgz ($((SIZE / 1024 / 1024)) MiB, $SIZE bytes)"
if [ "$SIZE" -gt $((64 * 1024 * 1024)) ]; then
  echo "bundle exceeds the 64 MiB a device call can carry" >&2
  exit 1
fi
