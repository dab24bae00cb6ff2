#!/usr/bin/env bash
# Builds the cluster job jar (Flink provided) of the previous release and prints its path on stdout.
# The smoke run starts that jar, takes a savepoint with requests in flight, and resumes it with this
# tree's jar: the upgrade a user makes between releases.
#
# The previous release is git tag $PREVIOUS_RELEASE (default v0.1.0); until that tag exists in the
# clone, the commit it names (FALLBACK_COMMIT: the last commit of the first wave). The source comes from
# `git archive` (nothing is checked out in this repository), is built with `mvn package -DskipTests` in
# a scratch directory (~15 s warm, offline) and the jar is kept in $OUT_DIR/releases/<commit>/: reruns
# reuse it. PREVIOUS_RELEASE_JAR=path skips all of this and uses that jar.
set -euo pipefail
DEPLOY_LOCAL="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEPLOY_LOCAL/../.." && pwd)"
OUT_DIR="${OUT_DIR:-$DEPLOY_LOCAL/out}"
PREVIOUS_RELEASE="${PREVIOUS_RELEASE:-v0.1.0}"
# 0.1.0: the first wave's last commit (2026-11-26), before the second wave's model seams (fd613ab).
FALLBACK_COMMIT=ce8e9546c8619a3c423a8e393dcaba0b09d66b97

say() { echo "previous-release: $*" >&2; }

if [ -n "${PREVIOUS_RELEASE_JAR:-}" ]; then
  [ -f "$PREVIOUS_RELEASE_JAR" ] || { say "PREVIOUS_RELEASE_JAR=$PREVIOUS_RELEASE_JAR is not a file"; exit 1; }
  echo "$PREVIOUS_RELEASE_JAR"
  exit 0
fi

if commit="$(git -C "$REPO_ROOT" rev-parse -q --verify "$PREVIOUS_RELEASE^{commit}" 2>/dev/null)"; then
  what="$PREVIOUS_RELEASE"
elif [ "$PREVIOUS_RELEASE" = v0.1.0 ] && git -C "$REPO_ROOT" cat-file -e "$FALLBACK_COMMIT^{commit}" 2>/dev/null; then
  commit="$FALLBACK_COMMIT"
  what="commit ${FALLBACK_COMMIT:0:7} (no tag v0.1.0 yet)"
else
  say "neither $PREVIOUS_RELEASE nor commit ${FALLBACK_COMMIT:0:7} is in the clone at $REPO_ROOT"
  say "(a shallow clone? git fetch --unshallow --tags; or set PREVIOUS_RELEASE_JAR to the previous release's jar)"
  exit 1
fi

dir="$OUT_DIR/releases/$commit"
jar="$dir/streaminfer.jar"
if [ -f "$jar" ]; then
  say "$what: $jar (built before)"
  echo "$jar"
  exit 0
fi

src="$dir/src"
rm -rf "$src"
mkdir -p "$src"
t0=$(date +%s)
git -C "$REPO_ROOT" archive "$commit" | tar -x -C "$src"
# Its own reactor, built in place: never `install`, so nothing of it reaches ~/.m2.
if ! mvn -B -ntp -q ${MVN_OFFLINE:-} -f "$src/pom.xml" package -DskipTests >"$dir/build.log" 2>&1; then
  tail -40 "$dir/build.log" >&2
  say "building $what failed; log: $dir/build.log"
  exit 1
fi
cp "$src/flink-job/target/streaminfer.jar" "$jar"
rm -rf "$src"
say "$what: built $jar in $(( $(date +%s) - t0 )) s"
echo "$jar"
