#!/usr/bin/env bash
# Smoke run of streaminfer on a real local cluster, every part its own process:
#   a KRaft Kafka broker, a Flink JobManager and two TaskManagers (one slot each), built from Maven jars.
# The job runs DP=$DP replicas (one per TaskManager), each a TP=$TP group, and is submitted with
# Flink's own CLI (CliFrontend). Phases, each checked with a read_committed consumer:
#   1. batch 1: N prompts in give exactly N completions; throughput is printed.
#   2. the web UI of the running job, opened in headless Chromium (webui-check.sh): screenshot + checks.
#   3. batch 2: one TaskManager is SIGKILLed while prompts are in flight, a replacement is started,
#      the job recovers from its last checkpoint; batches 1+2 still give each id exactly once.
#   4. upgrade by savepoint: batch 3 in flight, `flink stop` takes a savepoint, the job is resumed
#      from it with a changed --max-batch; batches 1+2+3 still give each id exactly once.
# Exits 0 only when every check holds; stops every process it started, whatever happens.
#
# Needs: Java 17, Maven, curl, jq, python3, chromium (deploy/local/install-deps.sh), the job jar
# (mvn -B -q package -DskipTests -> flink-job/target/streaminfer.jar) and ../shared/models.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DP="${DP:-2}"
TP="${TP:-2}"
BATCH1="${SMOKE_BATCH1:-60}"
BATCH2="${SMOKE_BATCH2:-200}"
BATCH3="${SMOKE_BATCH3:-720}"
MAX_TOKENS="${SMOKE_MAX_TOKENS:-48}"
# Batches 2 and 3 ask for long completions (320 decode steps each, in waves of 32 concurrent requests), and
# batch 3 is large: the stop comes ~9 s after batch 3 is produced (two client JVMs and the savepoint). On
# this 2-core box 240 x 320 tokens were 60% committed by then and 480 x 320 half; 720 leaves a margin of ~3x.
MAX_TOKENS_IN_FLIGHT="${SMOKE_MAX_TOKENS_IN_FLIGHT:-320}"
MAX_BATCH_BEFORE="${SMOKE_MAX_BATCH_BEFORE:-16}"
MAX_BATCH_AFTER="${SMOKE_MAX_BATCH_AFTER:-8}"
PHASE_TIMEOUT_S="${SMOKE_PHASE_TIMEOUT_S:-150}"
MODEL="${MODEL:-$MODELS_DIR/stories260K.bin}"
TOKENIZER="${TOKENIZER:-$MODELS_DIR/tok512.bin}"

T_START=$(now_ms)
[ -f "$JOB_JAR" ] || die "no job jar at $JOB_JAR (build it: mvn -B -q package -DskipTests)"
[ -f "$MODEL" ] && [ -f "$TOKENIZER" ] || die "model files missing: $MODEL, $TOKENIZER"
[ -f "$SCHEMA_DIR/PromptRecord.avsc" ] || die "no Avro schemas in $SCHEMA_DIR"
for tool in curl jq python3; do command -v "$tool" >/dev/null || die "$tool is missing (deploy/local/install-deps.sh)"; done

on_exit() {
  local rc=$?
  if [ "$rc" != 0 ] && [ -d "$LOG_DIR" ]; then
    log "smoke failed (exit $rc); last log lines:"
    for f in "$LOG_DIR"/jobmanager.log "$LOG_DIR"/tm*.log; do
      [ -f "$f" ] && { echo "--- $f" >&2; grep -E 'ERROR|Exception' "$f" | tail -5 >&2 || true; }
    done
  fi
  stop_all
  exit "$rc"
}

build_tools
prepare_run
trap on_exit EXIT

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

job_args() { # $1: --max-batch
  echo run --bootstrap-servers "$BOOTSTRAP" --input-topic prompts --output-topic completions \
       --dead-letter-topic dead-letters --model "$MODEL" --tokenizer "$TOKENIZER" \
       --tp "$TP" --parallelism "$DP" --checkpoint-interval 2s --max-batch "$1"
}

submit() { # submit [-s SAVEPOINT] MAX_BATCH -> prints the job id
  local from=()
  if [ "$1" = -s ]; then from=(-s "$2"); shift 2; fi
  local out
  # shellcheck disable=SC2046
  out="$(flink_cli run -d -p "$DP" "${from[@]}" "$JOB_JAR" $(job_args "$1") 2>&1)" \
    || { echo "$out" >&2; die "flink run failed"; }
  grep -o 'JobID [0-9a-f]\{32\}' <<<"$out" | awk '{print $2}' | tail -1
}

# The vertex of the keyed inference operator (and what is chained to it).
inference_vertex() { rest "/jobs/$1" | jq -r '[.vertices[] | select(.name | startswith("inference"))][0].id'; }

# Records taken in by the inference vertex, all subtasks.
records_in() {
  rest "/jobs/$1/vertices/$(inference_vertex "$1")/subtasks/metrics?get=numRecordsIn&agg=sum" | jq -r '.[0].sum // 0 | floor'
}

# Requests the inference operators resumed from a checkpoint or savepoint, per their log lines since $1.
resumed_since() {
  cat "$LOG_DIR"/tm*.log | awk -v since="$1" 'substr($0, 1, 19) >= since && /resumes [0-9]+ requests from the checkpoint/ {
    for (i = 1; i < NF; i++) if ($i == "resumes") n += $(i + 1) } END { print n + 0 }'
}

# Records that fill every replica's batch (capped at the batch size): from then on requests are in flight.
full_replicas() { local n=$((DP * MAX_BATCH_BEFORE)); [ "$n" -lt "$1" ] && echo "$n" || echo "$1"; }

# Produces batch PREFIX (COUNT prompts asking for long completions) and returns once the inference vertex has
# taken in enough of it to fill every replica (task metric numRecordsIn; the operator takes a record only when
# its replica has room): from then on prompts are in flight, whether or not a checkpoint has committed any of
# them yet. Sets T_PRODUCED to when the batch was produced. Usage: produce_until_in_flight PREFIX COUNT WHAT
produce_until_in_flight() {
  local before t0
  before="$(records_in "$JOB_ID")"
  T_PRODUCED=$(now_ms)
  smoke_client produce --topic prompts --schemas "$SCHEMA_DIR" --prefix "$1" --count "$2" --max-tokens "$MAX_TOKENS_IN_FLIGHT" >/dev/null
  t0=$(now_ms)
  until [ "$(( $(records_in "$JOB_ID") - before ))" -ge "$(full_replicas "$2")" ]; do
    [ $(( $(now_ms) - t0 )) -lt $((PHASE_TIMEOUT_S * 1000)) ] || die "$3 did not reach the inference operator"
    sleep 0.5
  done
}

expect_args() { local a=() p; for p in "$@"; do a+=(--expect "$p"); done; echo "${a[@]}"; }
field() { grep -o "$1=[0-9.]*" <<<"$2" | cut -d= -f2; }

# --- 1. batch 1 --------------------------------------------------------------------------------
JOB_ID="$(submit "$MAX_BATCH_BEFORE")"
[ -n "$JOB_ID" ] || die "no job id in the output of flink run"
log "submitted job $JOB_ID (DP=$DP, TP=$TP, --max-batch $MAX_BATCH_BEFORE)"
wait_job_running "$JOB_ID"
T1=$(now_ms)
smoke_client produce --topic prompts --schemas "$SCHEMA_DIR" --prefix b1 --count "$BATCH1" --max-tokens "$MAX_TOKENS" >/dev/null
R1="$(smoke_client consume --topic completions --schemas "$SCHEMA_DIR" $(expect_args "b1:$BATCH1") \
      --timeout-s "$PHASE_TIMEOUT_S" --since-ms "$T1")" || die "batch 1: $R1"
log "batch 1: $R1"

# Replicas on distinct TaskManagers: one slot each, so DP=2 must use both.
TM_USED="$(rest "/jobs/$JOB_ID/vertices/$(inference_vertex "$JOB_ID")/taskmanagers" | jq '[.taskmanagers[] | select(.["status-counts"].RUNNING > 0)] | length')"
[ "$TM_USED" = "$DP" ] || die "the job's subtasks run on $TM_USED TaskManagers, expected $DP"

# --- 2. web UI ---------------------------------------------------------------------------------
REST_PORT="$REST_PORT" RUN_DIR="$RUN_DIR" "$DEPLOY_LOCAL/webui-check.sh" "$JOB_ID"

# --- 3. kill a TaskManager in the middle of batch 2 -----------------------------------------------
# Kill once batch 2 is in flight.
produce_until_in_flight b2 "$BATCH2" "batch 2"
T2=$T_PRODUCED
T_KILL=$(now_ms)
kill -KILL "$(pid_of tm1)"
log "SIGKILLed tm1 (pid $(pid_of tm1))"
AT_KILL="$(smoke_client consume --topic completions --schemas "$SCHEMA_DIR" $(expect_args "b2:$BATCH2") --at-least 0 --timeout-s 1)"
DONE_AT_KILL="$(field present "$AT_KILL")"
[ "$DONE_AT_KILL" -lt "$BATCH2" ] || die "batch 2 was complete before the kill: raise SMOKE_BATCH2 or SMOKE_MAX_TOKENS_IN_FLIGHT"
log "batch 2: $DONE_AT_KILL of $BATCH2 committed when tm1 died"
start_taskmanager tm3
# The job first notices the loss (leaves RUNNING or restarts a task), then runs again on tm2 + tm3.
t0=$(now_ms)
until [ "$(rest "/jobs/$JOB_ID" | jq '.state != "RUNNING" or ([.vertices[].tasks.RUNNING] | add) < ([.vertices[].parallelism] | add)')" = true ]; do
  [ $(( $(now_ms) - t0 )) -lt 60000 ] || die "the job did not notice the lost TaskManager within 60 s"
  sleep 0.2
done
wait_job_running "$JOB_ID" 180000
RECOVERY_S="$(awk -v a="$T_KILL" -v b="$(now_ms)" 'BEGIN {printf "%.1f", (b-a)/1000}')"
log "job running again ${RECOVERY_S} s after the kill (restarts: $(rest "/jobs/$JOB_ID/exceptions" | jq '.exceptionHistory.entries | length'))"
R2="$(smoke_client consume --topic completions --schemas "$SCHEMA_DIR" $(expect_args "b1:$BATCH1" "b2:$BATCH2") \
      --timeout-s "$PHASE_TIMEOUT_S" --since-ms "$T2")" || die "after the TaskManager kill: $R2"
log "batches 1+2 after the kill: $R2"

# --- 4. upgrade by savepoint ----------------------------------------------------------------------
produce_until_in_flight b3 "$BATCH3" "batch 3"
T3=$T_PRODUCED
STOP_OUT="$(flink_cli stop --savepointPath "file://$RUN_DIR/savepoints" "$JOB_ID" 2>&1)" || { echo "$STOP_OUT" >&2; die "flink stop failed"; }
SAVEPOINT="$(grep -o 'file:[^ ]*savepoint-[^ ]*' <<<"$STOP_OUT" | tail -1)"
[ -n "$SAVEPOINT" ] || { echo "$STOP_OUT" >&2; die "no savepoint path in the output of flink stop"; }
[ "$(job_state "$JOB_ID")" = FINISHED ] || die "job $JOB_ID is $(job_state "$JOB_ID") after stop-with-savepoint"
# Counted once the job has finished, so the figure cannot move: what batch 3 had not committed by then is
# in the savepoint (operator state, in-flight buffers or source offsets), which is what this phase tests.
AT_STOP="$(smoke_client consume --topic completions --schemas "$SCHEMA_DIR" $(expect_args "b3:$BATCH3") --at-least 0 --timeout-s 1)"
DONE_AT_STOP="$(field present "$AT_STOP")"
log "stopped $JOB_ID with savepoint $SAVEPOINT ($DONE_AT_STOP of $BATCH3 committed)"
[ "$DONE_AT_STOP" -lt "$BATCH3" ] || die "batch 3 was complete when the savepoint was taken: raise SMOKE_BATCH3 or SMOKE_MAX_TOKENS_IN_FLIGHT"
RESUME_FROM="$(date '+%Y-%m-%d %H:%M:%S')"
JOB2_ID="$(submit -s "$SAVEPOINT" "$MAX_BATCH_AFTER")"
[ -n "$JOB2_ID" ] || die "no job id when resuming from the savepoint"
log "resumed as $JOB2_ID from the savepoint with --max-batch $MAX_BATCH_AFTER"
wait_job_running "$JOB2_ID"
# The operators of the resumed job log how many requests they took over from the savepoint: that is the
# proof that requests were in flight inside the operator (not only unread in Kafka) when it was taken.
t0=$(now_ms)
until RESUMED="$(resumed_since "$RESUME_FROM")" && [ "$RESUMED" -gt 0 ]; do
  [ $(( $(now_ms) - t0 )) -lt 30000 ] || die "the resumed job took over no in-flight request from the savepoint"
  sleep 0.5
done
log "the resumed job took over $RESUMED in-flight requests from the savepoint"
R3="$(smoke_client consume --topic completions --schemas "$SCHEMA_DIR" $(expect_args "b1:$BATCH1" "b2:$BATCH2" "b3:$BATCH3") \
      --timeout-s "$PHASE_TIMEOUT_S" --since-ms "$T3")" || die "after the savepoint upgrade: $R3"
log "batches 1+2+3 after the upgrade: $R3"

# --- figures -------------------------------------------------------------------------------------
TOTAL_S=$(( ($(now_ms) - T_START) / 1000 ))
cat <<EOF
SMOKE OK
  cluster start:          ${CLUSTER_S} s (broker + JobManager + 2 TaskManagers, from Maven jars)
  batch 1 throughput:     $(field completions_per_s "$R1") completions/s, $(field tokens_per_s "$R1") tokens/s ($BATCH1 prompts, DP=$DP, TP=$TP, commit every 2 s)
  TaskManager kill:       $DONE_AT_KILL/$BATCH2 committed at the kill; job running again after ${RECOVERY_S} s; $(field present "$R2") ids, 0 lost, 0 duplicated
  savepoint upgrade:      $DONE_AT_STOP/$BATCH3 committed at the stop, $RESUMED in flight taken over; --max-batch $MAX_BATCH_BEFORE -> $MAX_BATCH_AFTER; $(field present "$R3") ids, 0 lost, 0 duplicated
  web UI screenshot:      $OUT_DIR/webui.png
  smoke total:            ${TOTAL_S} s
EOF
