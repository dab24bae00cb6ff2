#!/usr/bin/env bash
# Smoke run of streaminfer on a real local cluster, every part its own process:
#   a KRaft Kafka broker, a Flink JobManager and two TaskManagers (one slot each), built from Maven jars.
# The job runs DP=$DP replicas (one per TaskManager), each a TP=$TP group, and is submitted with
# Flink's own CLI (CliFrontend). Phases, each checked with a read_committed consumer:
#   0. upgrade across releases: the previous release's jar (previous-release.sh) runs batch 0; `flink stop`
#      takes a savepoint with it in flight; this tree's jar resumes from it; batch 0 gives each id once.
#   1. batch 1: N prompts in give exactly N completions; throughput is printed.
#   2. the web UI of the running job, opened in headless Chromium (webui-check.sh): screenshot + checks.
#   3. repeated faults: three TaskManager SIGKILLs while batch 2 streams in (early, during the restore from
#      the first, just after the second recovery; each on a different TaskManager, a replacement started each
#      time), the job recovering from its last checkpoint each time; then the broker SIGKILLed and restarted while batch 3 is in flight. Each id exactly once;
#      the time to recover from each fault is printed.
#   4. upgrade by savepoint: batch 4 in flight, `flink stop` takes a savepoint, the job is resumed from it
#      with a changed --max-batch; batches 0-4 still give each id exactly once.
# Exits 0 only when every check holds; stops every process it started, whatever happens; on a failure it
# prints the job's exceptions and the logs' errors and last lines.
#
# Needs: Java 17, Maven, git (the previous release is built from its commit), curl, jq, python3, chromium
# (deploy/local/install-deps.sh), the job jar (mvn -B -q package -DskipTests -> flink-job/target/streaminfer.jar)
# and ../shared/models.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/job.sh"

DP="${DP:-2}"
TP="${TP:-2}"
PP="${PP:-1}"
BATCH0="${SMOKE_BATCH0:-480}"
BATCH1="${SMOKE_BATCH1:-60}"
# Batch 2 is a stream: SMOKE_STREAM_RATE prompts a second until the kills are over (at most SMOKE_STREAM_MAX).
STREAM_RATE="${SMOKE_STREAM_RATE:-10}"
STREAM_MAX="${SMOKE_STREAM_MAX:-5000}"
BATCH3="${SMOKE_BATCH3:-400}"
BATCH4="${SMOKE_BATCH4:-720}"
MAX_TOKENS="${SMOKE_MAX_TOKENS:-48}"
# Batches 0, 2, 3 and 4 ask for long completions (320 decode steps each, in waves of 32 concurrent
# requests), so that a stop or a fault finds them in flight. A stop comes ~9 s after its batch is produced
# (two client JVMs and the savepoint); on this 2-core box 240 x 320 tokens were 60% committed by then and
# 480 x 320 half: 720 leaves a margin of ~3x.
MAX_TOKENS_IN_FLIGHT="${SMOKE_MAX_TOKENS_IN_FLIGHT:-320}"
MAX_BATCH_BEFORE="${SMOKE_MAX_BATCH_BEFORE:-16}"
MAX_BATCH_AFTER="${SMOKE_MAX_BATCH_AFTER:-8}"
PHASE_TIMEOUT_S="${SMOKE_PHASE_TIMEOUT_S:-150}"
MODEL="${MODEL:-$MODELS_DIR/stories260K.bin}"
TOKENIZER="${TOKENIZER:-$MODELS_DIR/tok512.bin}"
FAULT_LINES=()

T_START=$(now_ms)
[ -f "$JOB_JAR" ] || die "no job jar at $JOB_JAR (build it: mvn -B -q package -DskipTests)"
[ -f "$MODEL" ] && [ -f "$TOKENIZER" ] || die "model files missing: $MODEL, $TOKENIZER"
[ -f "$SCHEMA_DIR/PromptRecord.avsc" ] || die "no Avro schemas in $SCHEMA_DIR"
for tool in curl jq python3 git; do command -v "$tool" >/dev/null || die "$tool is missing (deploy/local/install-deps.sh)"; done

on_exit() {
  local rc=$?
  if [ "$rc" != 0 ] && [ -d "$LOG_DIR" ]; then
    log "smoke failed (exit $rc); what the cluster said:"
    diagnose "${JOB0_ID:-}" "${JOB_ID:-}" "${JOB2_ID:-}"
  fi
  stop_all
  exit "$rc"
}

T_PREVIOUS=$(now_ms)
PREVIOUS_JAR="$("$DEPLOY_LOCAL/previous-release.sh")" || die "no jar of the previous release"
PREVIOUS_S=$(( ($(now_ms) - T_PREVIOUS) / 1000 ))
build_tools
prepare_run
trap on_exit EXIT
trap 'exit 143' TERM INT

# --- cluster -----------------------------------------------------------------------------------
T_CLUSTER=$(now_ms)
start_kafka
start_jobmanager
start_taskmanager tm1
start_taskmanager tm2
wait_kafka --topic "prompts:$((DP * 2))" --topic "completions:$DP" --topic dead-letters:1
wait_taskmanagers 2
CLUSTER_S=$(( ($(now_ms) - T_CLUSTER) / 1000 ))
log "cluster up in ${CLUSTER_S} s (broker, JobManager, 2 TaskManagers)"

# Stops a job with a savepoint; sets SAVEPOINT and AT_STOP (the batch's ids committed once the job finished).
# Usage: stop_with_savepoint JOB PREFIX COUNT
stop_with_savepoint() {
  local out
  out="$(flink_cli stop --savepointPath "file://$RUN_DIR/savepoints" "$1" 2>&1)" || { echo "$out" >&2; die "flink stop failed"; }
  SAVEPOINT="$(grep -o 'file:[^ ]*savepoint-[^ ]*' <<<"$out" | tail -1)"
  [ -n "$SAVEPOINT" ] || { echo "$out" >&2; die "no savepoint path in the output of flink stop"; }
  [ "$(job_state "$1")" = FINISHED ] || die "job $1 is $(job_state "$1") after stop-with-savepoint"
  # Counted once the job has finished, so the figure cannot move: what the batch had not committed by then is
  # in the savepoint (operator state, in-flight buffers or source offsets), which is what the phase tests.
  # shellcheck disable=SC2046
  AT_STOP="$(field present "$(smoke_client consume --topic completions --schemas "$SCHEMA_DIR" $(expect_args "$2:$3") --at-least 0 --timeout-s 30)")"
  log "stopped $1 with savepoint $SAVEPOINT ($AT_STOP of $3 committed)"
  [ "$AT_STOP" -lt "$3" ] || die "batch $2 was complete when the savepoint was taken: raise its size or SMOKE_MAX_TOKENS_IN_FLIGHT"
}

# Waits until the operators of a job resumed at $1 (date '+%F %T') log that they took over requests from the
# savepoint: the proof that requests were in flight inside the operator (not only unread in Kafka) when it was
# taken. Sets RESUMED.
wait_resumed() {
  local t0; t0=$(now_ms)
  until RESUMED="$(resumed_since "$1")" && [ "$RESUMED" -gt 0 ]; do
    [ $(( $(now_ms) - t0 )) -lt 30000 ] || die "the resumed job took over no in-flight request from the savepoint"
    sleep 0.5
  done
  log "the resumed job took over $RESUMED in-flight requests from the savepoint"
}

# --- 0. upgrade across releases: the previous release's savepoint, resumed by this jar ---------------
JOB0_ID="$(submit --jar "$PREVIOUS_JAR" --previous "$MAX_BATCH_BEFORE")"
[ -n "$JOB0_ID" ] || die "no job id in the output of flink run (previous release)"
log "submitted the previous release's job $JOB0_ID ($PREVIOUS_JAR)"
wait_job_running "$JOB0_ID"
JOB_ID="$JOB0_ID"
start_watch b0 "b0:$BATCH0"
# Prompts as the previous release's producers wrote them (its schema, headerless binary): what such a job
# reads, and what this release still reads from the topic after the upgrade.
produce_until_in_flight b0 "$BATCH0" "batch 0" --as-release 1
T0=$T_PRODUCED
# Some of batch 0 committed by the previous release, the rest in flight or unread: both sides of the upgrade
# write part of the batch, and no id may be lost or written twice between them.
wait_committed b0 $((BATCH0 / 8)) "batch 0 on the previous release"
stop_with_savepoint "$JOB0_ID" b0 "$BATCH0"
DONE_AT_STOP0=$AT_STOP
RESUME_FROM="$(date '+%Y-%m-%d %H:%M:%S')"
JOB_ID="$(submit -s "$SAVEPOINT" "$MAX_BATCH_BEFORE")"
[ -n "$JOB_ID" ] || die "no job id when resuming the previous release's savepoint"
log "resumed the previous release's savepoint with this jar as $JOB_ID (DP=$DP, TP=$TP, PP=$PP, --max-batch $MAX_BATCH_BEFORE)"
wait_job_running "$JOB_ID"
wait_resumed "$RESUME_FROM"
RESUMED0=$RESUMED
# shellcheck disable=SC2046
R0="$(smoke_client consume --topic completions --schemas "$SCHEMA_DIR" $(expect_args "b0:$BATCH0") \
      --timeout-s "$PHASE_TIMEOUT_S" --since-ms "$T0")" || die "after the upgrade from the previous release: $R0"
log "batch 0 after the upgrade across releases: $R0"

# --- 1. batch 1 --------------------------------------------------------------------------------
T1=$(now_ms)
smoke_client produce --topic prompts --schemas "$SCHEMA_DIR" --prefix b1 --count "$BATCH1" --max-tokens "$MAX_TOKENS" >/dev/null
# shellcheck disable=SC2046
R1="$(smoke_client consume --topic completions --schemas "$SCHEMA_DIR" --earlier "b0:$BATCH0" --expect "b1:$BATCH1" \
      --timeout-s "$PHASE_TIMEOUT_S" --since-ms "$T1")" || die "batch 1: $R1"
log "batch 1: $R1"

# Replicas on distinct TaskManagers: one slot each, so DP=2 must use both.
TM_USED="$(rest "/jobs/$JOB_ID/vertices/$(inference_vertex "$JOB_ID")/taskmanagers" | jq '[.taskmanagers[] | select(.["status-counts"].RUNNING > 0)] | length')"
[ "$TM_USED" = "$DP" ] || die "the job's subtasks run on $TM_USED TaskManagers, expected $DP"

# --- 2. web UI ---------------------------------------------------------------------------------
REST_PORT="$REST_PORT" RUN_DIR="$RUN_DIR" "$DEPLOY_LOCAL/webui-check.sh" "$JOB_ID"

# --- 3. repeated faults: three TaskManager kills in batch 2, then a broker restart in batch 3 ---------
# Batch 2 is a stream (SMOKE_STREAM_RATE prompts a second) for as long as the kills last, so each finds
# prompts in flight however fast the job recovers (a restored job computes while its last tasks initialize:
# a burst of 1,000 was done within one recovery). Each kill hits a different TaskManager, the third the
# first replacement: early (the replicas busy, little or nothing of the batch committed); while the job
# restores from the first (restarted, tasks not all running yet: the same checkpoint restored twice); just after the
# second recovery (as soon as the restored job has committed).
start_watch b2 "b2:$STREAM_MAX"
B2_BEFORE="$(records_in "$JOB_ID")"
start_stream b2 "$STREAM_RATE" "$STREAM_MAX"
t0=$(now_ms)
until [ "$(( $(records_in "$JOB_ID") - B2_BEFORE ))" -ge $((DP * 4)) ]; do
  [ $(( $(now_ms) - t0 )) -lt $((PHASE_TIMEOUT_S * 1000)) ] || die "batch 2 did not reach the inference operator"
  sleep 0.5
done
kill_taskmanager tm1 tm3
MOMENT="$(wait_restoring "$JOB_ID")"
FAULT_LINES+=("kill tm1 (early, $(committed b2) of batch 2 committed): noticed after $(seconds_between "$T_KILL" "$T_NOTICED") s; the next kill came $(seconds_between "$T_KILL" "$(now_ms)") s after it, the job $MOMENT")
log "${FAULT_LINES[-1]}"
kill_taskmanager tm2 tm4
await_recovery b2 "kill tm2 (the job $MOMENT after the first kill)"
kill_taskmanager tm3 tm5
await_recovery b2 "kill tm3 (just after the second recovery, $(committed b2) of batch 2 committed)"
stop_stream b2
BATCH2=$STREAM_COUNT
T2=$T_KILL
# shellcheck disable=SC2046
R2="$(smoke_client consume --topic completions --schemas "$SCHEMA_DIR" $(expect_args "b0:$BATCH0" "b1:$BATCH1" "b2:$BATCH2") \
      --timeout-s "$PHASE_TIMEOUT_S" --since-ms "$T2")" || die "after three TaskManager kills: $R2"
log "batches 0-2 after three TaskManager kills: $R2"

start_watch b3 "b3:$BATCH3"
produce_until_in_flight b3 "$BATCH3" "batch 3"
T3=$T_PRODUCED
restart_broker b3 "$BATCH3"
# shellcheck disable=SC2046
R3="$(smoke_client consume --topic completions --schemas "$SCHEMA_DIR" \
      $(expect_args "b0:$BATCH0" "b1:$BATCH1" "b2:$BATCH2" "b3:$BATCH3") \
      --timeout-s "$PHASE_TIMEOUT_S" --since-ms "$T3")" || die "after the broker restart: $R3"
log "batches 0-3 after the broker restart: $R3"

# --- 4. upgrade by savepoint ----------------------------------------------------------------------
produce_until_in_flight b4 "$BATCH4" "batch 4"
T4=$T_PRODUCED
stop_with_savepoint "$JOB_ID" b4 "$BATCH4"
DONE_AT_STOP4=$AT_STOP
RESUME_FROM="$(date '+%Y-%m-%d %H:%M:%S')"
JOB2_ID="$(submit -s "$SAVEPOINT" "$MAX_BATCH_AFTER")"
[ -n "$JOB2_ID" ] || die "no job id when resuming from the savepoint"
log "resumed as $JOB2_ID from the savepoint with --max-batch $MAX_BATCH_AFTER"
wait_job_running "$JOB2_ID"
wait_resumed "$RESUME_FROM"
# shellcheck disable=SC2046
R4="$(smoke_client consume --topic completions --schemas "$SCHEMA_DIR" \
      $(expect_args "b0:$BATCH0" "b1:$BATCH1" "b2:$BATCH2" "b3:$BATCH3" "b4:$BATCH4") \
      --timeout-s "$PHASE_TIMEOUT_S" --since-ms "$T4")" || die "after the savepoint upgrade: $R4"
log "batches 0-4 after the upgrade: $R4"

# --- figures -------------------------------------------------------------------------------------
TOTAL_S=$(( ($(now_ms) - T_START) / 1000 ))
echo "SMOKE OK"
echo "  previous release:       $PREVIOUS_JAR (ready in ${PREVIOUS_S} s)"
echo "  cluster start:          ${CLUSTER_S} s (broker + JobManager + 2 TaskManagers, from Maven jars)"
echo "  upgrade from previous:  $DONE_AT_STOP0/$BATCH0 committed at the stop, $RESUMED0 in flight taken over by this jar; $(field present "$R0") ids, 0 lost, 0 duplicated"
echo "  batch 1 throughput:     $(field completions_per_s "$R1") completions/s, $(field tokens_per_s "$R1") tokens/s ($BATCH1 prompts, DP=$DP, TP=$TP, PP=$PP, commit every 2 s)"
echo "  repeated faults:        $(field present "$R3") ids of batches 0-3, 0 lost, 0 duplicated; recovery (from the fault):"
for line in "${FAULT_LINES[@]}"; do echo "    $line"; done
echo "  savepoint upgrade:      $DONE_AT_STOP4/$BATCH4 committed at the stop, $RESUMED in flight taken over; --max-batch $MAX_BATCH_BEFORE -> $MAX_BATCH_AFTER; $(field present "$R4") ids, 0 lost, 0 duplicated"
echo "  web UI screenshot:      $OUT_DIR/webui.png"
if [ -s "$RUN_DIR/pids.died" ]; then
  echo "  TaskManagers that exited on their own and were replaced: $(awk '{print $1}' "$RUN_DIR/pids.died" | paste -sd, -)"
fi
echo "  smoke total:            ${TOTAL_S} s"
