#!/usr/bin/env bash
# Soak benchmark (not a test): SOAK_PROMPTS prompts (default 100,000) with small outputs through Kafka into
# the job on the local multi-process cluster of lib.sh (broker, JobManager, DP TaskManagers), all produced at
# once so that every replica's batch (its KV budget) and waiting queue stay full and backpressure holds the
# rest in Kafka. While it runs, each TaskManager is sampled at 5%, 50% and 85% of the prompts committed:
# RSS (/proc), heap used, heap live after a full GC (jcmd GC.run, then GC.heap_info) and the inference
# operator's gauges (running, waiting, KV-cache use). Prints completions per second and the samples, and
# says whether memory plateaued (middle -> end: live heap within 10% + 16 MB, RSS within 10% + 32 MB).
# Every id must come back exactly once (read_committed). Exit 0 when both hold.
#
#   deploy/local/soak.sh                                    # 100,000 prompts, 8 tokens each, DP=2, TP=1, --max-batch 64
#   SOAK_PROMPTS=20000 SOAK_MAX_TOKENS=4 DP=1 deploy/local/soak.sh
#
# Needs what smoke.sh needs (without chromium): Java 17, Maven, curl, jq, python3, the job jar, ../shared/models.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/job.sh"

DP="${DP:-2}"
TP="${TP:-1}"
PP="${PP:-1}"
PROMPTS="${SOAK_PROMPTS:-100000}"
MAX_TOKENS_IN_FLIGHT="${SOAK_MAX_TOKENS:-8}"
MAX_BATCH_BEFORE="${SOAK_MAX_BATCH:-64}"
CHECKPOINT_INTERVAL="${SOAK_CHECKPOINT_INTERVAL:-2s}"
PHASE_TIMEOUT_S="${SOAK_TIMEOUT_S:-1800}"
MODEL="${MODEL:-$MODELS_DIR/stories260K.bin}"
TOKENIZER="${TOKENIZER:-$MODELS_DIR/tok512.bin}"
TM_PROCESS_SIZE="${TM_PROCESS_SIZE:-1600m}"

[ -f "$JOB_JAR" ] || die "no job jar at $JOB_JAR (build it: mvn -B -q package -DskipTests)"
[ -f "$MODEL" ] && [ -f "$TOKENIZER" ] || die "model files missing: $MODEL, $TOKENIZER"
for tool in curl jq python3 jcmd; do command -v "$tool" >/dev/null || die "$tool is missing"; done
[ "$PROMPTS" -ge 1000 ] || die "SOAK_PROMPTS must be at least 1000, got $PROMPTS"

on_exit() {
  local rc=$?
  if [ "$rc" != 0 ] && [ -d "$LOG_DIR" ]; then
    log "soak failed (exit $rc); what the cluster said:"
    diagnose "${JOB_ID:-}"
  fi
  stop_all
  exit "$rc"
}

build_tools
prepare_run
trap on_exit EXIT
trap 'exit 143' TERM INT

start_kafka
start_jobmanager
TMS=()
for i in $(seq 1 "$DP"); do start_taskmanager "tm$i"; TMS+=("tm$i"); done
wait_kafka --topic "prompts:$((DP * 2))" --topic "completions:$DP" --topic dead-letters:1
wait_taskmanagers "$DP"

JOB_ID="$(submit "$MAX_BATCH_BEFORE")"
[ -n "$JOB_ID" ] || die "no job id in the output of flink run"
wait_job_running "$JOB_ID"
log "job $JOB_ID running: DP=$DP, PP=$PP, TP=$TP, --max-batch $MAX_BATCH_BEFORE, checkpoints every $CHECKPOINT_INTERVAL"

# Heap used of a JVM, in MB, from jcmd GC.heap_info ("... total 123456K, used 65432K ...").
heap_mb() { jcmd "$1" GC.heap_info 2>/dev/null | grep -o 'used [0-9]*K' | head -1 | awk '{printf "%d", $2 / 1024}'; }
rss_mb() { awk '/^VmRSS:/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }

SAMPLES=()
# One sample per TaskManager: WHEN PRESENT ELAPSED_S RSS_MB HEAP_MB LIVE_MB, plus the operator's gauges.
sample() {
  local when="$1" present t name pid rss heap live gauges
  present="$(committed soak)"
  t="$(seconds_between "$T_PRODUCED" "$(now_ms)")"
  # The waiting queue's bound is the job's: twice --max-batch (flink-job's EngineSettings).
  gauges="running $(inference_gauge "$JOB_ID" runningRequests) (--max-batch $MAX_BATCH_BEFORE), waiting $(inference_gauge "$JOB_ID" waitingRequests) (queue $((2 * MAX_BATCH_BEFORE))), KV cache in use $(inference_gauge "$JOB_ID" kvCacheUsage), in flight $(inference_gauge "$JOB_ID" inFlightRequests)"
  for name in "${TMS[@]}"; do
    pid="$(pid_of "$name")"
    rss="$(rss_mb "$pid")"
    heap="$(heap_mb "$pid")"
    jcmd "$pid" GC.run >/dev/null 2>&1 || die "jcmd GC.run failed on $name (pid $pid)"
    live="$(heap_mb "$pid")"
    SAMPLES+=("$when $name $present $t $rss $heap $live")
    log "sample $when: $name at $present/$PROMPTS committed, ${t} s: RSS $rss MB, heap $heap MB, live $live MB"
  done
  log "sample $when: per replica: $gauges"
  GAUGES+=("$when: $gauges")
}
GAUGES=()

start_watch soak "soak:$PROMPTS"
T_PRODUCED=$(now_ms)
smoke_client produce --topic prompts --schemas "$SCHEMA_DIR" --prefix soak --count "$PROMPTS" --max-tokens "$MAX_TOKENS_IN_FLIGHT" >/dev/null
log "produced $PROMPTS prompts in $(seconds_between "$T_PRODUCED" "$(now_ms)") s"

wait_committed soak $((PROMPTS / 20)) "the soak's first 5%"
T_START=$(now_ms); N_START="$(committed soak)"
sample start
wait_committed soak $((PROMPTS / 2)) "the soak's first half"
sample middle
# 85%, not later: a commit every 2 s carries ~5% of the prompts on this box and sampling takes seconds, so at
# 95% the replicas had already drained, while the point is memory with every budget full.
wait_committed soak $((PROMPTS * 85 / 100)) "85% of the soak"
T_END=$(now_ms); N_END="$(committed soak)"
sample end

# shellcheck disable=SC2046
R="$(smoke_client consume --topic completions --schemas "$SCHEMA_DIR" --expect "soak:$PROMPTS" \
     --timeout-s "$PHASE_TIMEOUT_S" --since-ms "$T_PRODUCED")" || die "soak: $R"
log "all committed: $R"

STEADY="$(awk -v n="$((N_END - N_START))" -v a="$T_START" -v b="$T_END" 'BEGIN {printf "%.0f", n * 1000 / (b - a)}')"
echo "SOAK RESULT"
echo "  $PROMPTS prompts x $MAX_TOKENS_IN_FLIGHT tokens, DP=$DP, PP=$PP, TP=$TP, --max-batch $MAX_BATCH_BEFORE, TaskManagers of $TM_PROCESS_SIZE, checkpoints every $CHECKPOINT_INTERVAL"
echo "  every id exactly once: $(field present "$R") present, $(field duplicates "$R") duplicated, $(field missing "$R") missing"
echo "  completions/s: $(field completions_per_s "$R") overall (from the produce), $STEADY steady (5% -> 85% committed)"
echo "  CPU: $(lscpu | sed -n 's/^Model name: *//p'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  samples (RSS, heap used, heap live after a full GC, in MB):"
for s in "${SAMPLES[@]}"; do
  # shellcheck disable=SC2086
  set -- $s
  printf '    %-6s %-4s %7d committed at %6.1f s   RSS %5d   heap %5d   live %5d\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7"
done
for g in "${GAUGES[@]}"; do echo "    $g"; done

# Plateau: for every TaskManager, the end sample against the middle one.
verdict=0
for name in "${TMS[@]}"; do
  mid="$(printf '%s\n' "${SAMPLES[@]}" | awk -v n="$name" '$1 == "middle" && $2 == n {print $5, $7}')"
  end="$(printf '%s\n' "${SAMPLES[@]}" | awk -v n="$name" '$1 == "end" && $2 == n {print $5, $7}')"
  read -r mid_rss mid_live <<<"$mid"
  read -r end_rss end_live <<<"$end"
  if [ "$end_live" -le $(( mid_live * 11 / 10 + 16 )) ] && [ "$end_rss" -le $(( mid_rss * 11 / 10 + 32 )) ]; then
    echo "  $name: memory plateaus (middle -> end: RSS $mid_rss -> $end_rss MB, live heap $mid_live -> $end_live MB)"
  else
    echo "  $name: MEMORY GROWS (middle -> end: RSS $mid_rss -> $end_rss MB, live heap $mid_live -> $end_live MB)"
    verdict=1
  fi
done
exit "$verdict"
