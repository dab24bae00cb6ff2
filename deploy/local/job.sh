# Functions for driving the streaminfer job on the local cluster of lib.sh: submit it, feed it batches,
# watch its committed output, inject faults and time the recovery. Sourced by smoke.sh and soak.sh after
# lib.sh; they set DP, TP, PP, MODEL, TOKENIZER, PHASE_TIMEOUT_S and MAX_TOKENS_IN_FLIGHT first.

# The job's arguments. Usage: job_args MAX_BATCH [previous]
# "previous": only flags the previous release knows (it predates pipeline parallelism).
job_args() {
  local a=(run --bootstrap-servers "$BOOTSTRAP" --input-topic prompts --output-topic completions
           --dead-letter-topic dead-letters --model "$MODEL" --tokenizer "$TOKENIZER"
           --tp "$TP" --parallelism "$DP" --checkpoint-interval "${CHECKPOINT_INTERVAL:-2s}" --max-batch "$1")
  # Pipeline parallelism: PP=2 runs every phase but the previous release's at DP x PP x TP.
  if [ "${2:-}" != previous ] && [ "${PP:-1}" != 1 ]; then a+=(--pp "$PP"); fi
  echo "${a[@]}"
}

# Submits the job detached and prints its id. Usage: submit [--jar JAR] [--previous] [-s SAVEPOINT] MAX_BATCH
submit() {
  local jar="$JOB_JAR" flavour="" from=() out
  while [ $# -gt 1 ]; do
    case "$1" in
      --jar) jar="$2"; shift 2 ;;
      --previous) flavour=previous; shift ;;
      -s) from=(-s "$2"); shift 2 ;;
      *) die "submit: unknown option $1" ;;
    esac
  done
  # shellcheck disable=SC2046
  out="$(flink_cli run -d -p "$DP" "${from[@]}" "$jar" $(job_args "$1" $flavour) 2>&1)" \
    || { echo "$out" >&2; die "flink run failed ($jar)"; }
  grep -o 'JobID [0-9a-f]\{32\}' <<<"$out" | awk '{print $2}' | tail -1
}

# The vertex of the keyed inference operator (and what is chained to it).
inference_vertex() { rest "/jobs/$1" | jq -r '[.vertices[] | select(.name | startswith("inference"))][0].id'; }

# Records taken in by the inference vertex, all subtasks.
records_in() {
  rest "/jobs/$1/vertices/$(inference_vertex "$1")/subtasks/metrics?get=numRecordsIn&agg=sum" | jq -r '.[0].sum // 0 | floor'
}

# One inference gauge over the vertex's subtasks (e.g. runningRequests), as "MIN..MAX" per replica (or one
# value when they agree); "?" when the metric is not there. Usage: inference_gauge JOB NAME
inference_gauge() {
  local v id
  v="$(inference_vertex "$1")"
  id="$(rest "/jobs/$1/vertices/$v/subtasks/metrics" | jq -r --arg n "$2" '[.[].id | select(endswith("." + $n))][0] // empty')"
  [ -n "$id" ] || { echo "?"; return 0; }
  rest "/jobs/$1/vertices/$v/subtasks/metrics?get=$id&agg=min,max" \
    | jq -r '.[0] | [.min, .max] | map(if . == (. | floor) then tostring else (. * 100 | round / 100 | tostring) end)
             | if .[0] == .[1] then .[0] else "\(.[0])..\(.[1])" end'
}

# Requests the inference operators resumed from a checkpoint or savepoint, per their log lines since $1.
resumed_since() {
  cat "$LOG_DIR"/tm*.log | awk -v since="$1" 'substr($0, 1, 19) >= since && /resumes [0-9]+ requests from the checkpoint/ {
    for (i = 1; i < NF; i++) if ($i == "resumes") n += $(i + 1) } END { print n + 0 }'
}

# Job restarts so far (entries of its exception history).
restarts() { rest "/jobs/$1/exceptions" | jq '.exceptionHistory.entries | length'; }

# Records that fill every replica's batch (capped at the batch size): from then on requests are in flight.
full_replicas() { local n=$((DP * MAX_BATCH_BEFORE)); [ "$n" -lt "$1" ] && echo "$n" || echo "$1"; }

# Produces batch PREFIX (COUNT prompts asking for long completions) and returns once the inference vertex of
# JOB_ID has taken in enough of it to fill every replica (task metric numRecordsIn; the operator takes a record
# only when its replica has room): from then on prompts are in flight, whether or not a checkpoint has
# committed any of them yet. Sets T_PRODUCED to when the batch was produced. PRODUCE_ARGS go to SmokeClient
# produce (e.g. --as-release 1). Usage: produce_until_in_flight PREFIX COUNT WHAT [PRODUCE_ARGS...]
produce_until_in_flight() {
  local before t0
  before="$(records_in "$JOB_ID")"
  T_PRODUCED=$(now_ms)
  smoke_client produce --topic prompts --schemas "$SCHEMA_DIR" --prefix "$1" --count "$2" --max-tokens "$MAX_TOKENS_IN_FLIGHT" "${@:4}" >/dev/null
  t0=$(now_ms)
  until [ "$(( $(records_in "$JOB_ID") - before ))" -ge "$(full_replicas "$2")" ]; do
    [ $(( $(now_ms) - t0 )) -lt $((PHASE_TIMEOUT_S * 1000)) ] || die "$3 did not reach the inference operator"
    sleep 0.5
  done
}

expect_args() { local a=() p; for p in "$@"; do a+=(--expect "$p"); done; echo "${a[@]}"; }
field() { grep -o "$1=[0-9.]*" <<<"$2" | cut -d= -f2; }
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", (b - a) / 1000}'; }

# --- watching committed output ------------------------------------------------------------------
# A watcher is a read_committed consumer of some batches, running in the background (recorded like every
# process of the run) and appending "EPOCH_MS PRESENT" to $RUN_DIR/NAME.progress each time more of their ids
# are committed. Usage: start_watch NAME PREFIX:COUNT...
start_watch() {
  local name="$1" t0; shift
  : >"$RUN_DIR/$name.progress"
  # shellcheck disable=SC2046
  spawn "watch-$name" "$LOG_DIR/watch-$name.log" java -cp "$TOOLS_CP" \
      -Dlog4j2.configurationFile="$DEPLOY_LOCAL/conf/log4j-tools.properties" io.streaminfer.deploy.SmokeClient consume \
      --bootstrap "$BOOTSTRAP" --topic completions --schemas "$SCHEMA_DIR" $(expect_args "$@") \
      --timeout-s "${WATCH_TIMEOUT_S:-1800}" --progress "$RUN_DIR/$name.progress"
  t0=$(now_ms)
  until [ -s "$RUN_DIR/$name.progress" ]; do  # its first line: it has read the topic once
    [ $(( $(now_ms) - t0 )) -lt 60000 ] || { tail -20 "$LOG_DIR/watch-$name.log" >&2; die "watcher $name did not start"; }
    sleep 0.2
  done
}

# Ids of the watched batches committed so far (as of the watcher's last poll).
committed() { tail -1 "$RUN_DIR/$1.progress" | awk '{print $2 + 0}'; }

# Waits until at least N ids of watcher NAME are committed. Usage: wait_committed NAME N WHAT
wait_committed() {
  local t0; t0=$(now_ms)
  until [ "$(committed "$1")" -ge "$2" ]; do
    [ $(( $(now_ms) - t0 )) -lt $((PHASE_TIMEOUT_S * 1000)) ] || die "$3: only $(committed "$1") of $2 committed after ${PHASE_TIMEOUT_S} s"
    replace_dead_taskmanagers
    sleep 0.2
  done
}

# Waits for the first commit that watcher NAME sees after epoch ms T and prints its time (epoch ms).
# Usage: first_commit_after NAME T WHAT
first_commit_after() {
  local t0 at; t0=$(now_ms)
  while :; do
    at="$(awk -v t="$2" '$1 > t {print $1; exit}' "$RUN_DIR/$1.progress")"
    [ -n "$at" ] && { echo "$at"; return 0; }
    [ $(( $(now_ms) - t0 )) -lt $((PHASE_TIMEOUT_S * 1000)) ] || die "$3: no completion committed within ${PHASE_TIMEOUT_S} s"
    replace_dead_taskmanagers
    sleep 0.2
  done
}

# --- faults -------------------------------------------------------------------------------------
# Waits until the job has noticed a fault: it left RUNNING, or fewer tasks run than it has. Usage: wait_disturbed JOB WHAT
wait_disturbed() {
  local t0; t0=$(now_ms)
  until [ "$(rest "/jobs/$1" | jq '.state != "RUNNING" or ([.vertices[].tasks.RUNNING] | add) < ([.vertices[].parallelism] | add)')" = true ]; do
    [ $(( $(now_ms) - t0 )) -lt 60000 ] || die "the job did not notice $2 within 60 s"
    sleep 0.2
  done
}

# --- a stream of prompts ------------------------------------------------------------------------
# Batch PREFIX produced as a stream in the background, RATE prompts a second (at most MAX), until stop_stream:
# however fast or slow the job recovers, prompts keep arriving, so every fault finds some in flight.
# Usage: start_stream PREFIX RATE MAX
start_stream() {
  rm -f "$RUN_DIR/stream-$1.stop"
  spawn "stream-$1" "$LOG_DIR/stream-$1.log" java -cp "$TOOLS_CP" \
      -Dlog4j2.configurationFile="$DEPLOY_LOCAL/conf/log4j-tools.properties" io.streaminfer.deploy.SmokeClient produce \
      --bootstrap "$BOOTSTRAP" --topic prompts --schemas "$SCHEMA_DIR" --prefix "$1" --count "$3" \
      --max-tokens "$MAX_TOKENS_IN_FLIGHT" --rate "$2" --stop-file "$RUN_DIR/stream-$1.stop"
}

# Stops the stream PREFIX and sets STREAM_COUNT to how many prompts it produced. Usage: stop_stream PREFIX
stop_stream() {
  local pid t0; pid="$(pid_of "stream-$1")"
  touch "$RUN_DIR/stream-$1.stop"
  t0=$(now_ms)
  while kill -0 "$pid" 2>/dev/null; do
    [ $(( $(now_ms) - t0 )) -lt 60000 ] || die "the producer of stream $1 did not stop within 60 s"
    sleep 0.2
  done
  STREAM_COUNT="$(grep -o 'produced=[0-9]*' "$LOG_DIR/stream-$1.log" | cut -d= -f2)"
  [ -n "$STREAM_COUNT" ] || { tail -20 "$LOG_DIR/stream-$1.log" >&2; die "the producer of stream $1 failed"; }
  log "stream $1: $STREAM_COUNT prompts produced"
}

# --- TaskManager faults ---------------------------------------------------------------------------
# SIGKILLs a TaskManager, starts its replacement at once and waits until the job has noticed the loss.
# Sets T_KILL and T_NOTICED. Usage: kill_taskmanager VICTIM REPLACEMENT
kill_taskmanager() {
  T_KILL=$(now_ms)
  kill_recorded "$1"
  start_taskmanager "$2"
  wait_disturbed "$JOB_ID" "the loss of $1"
  T_NOTICED=$(now_ms)
}

# Waits until the job is restoring: RUNNING again (restarted) with some tasks still waiting for a slot, being
# deployed or initializing from the checkpoint. Prints "restoring" then, or "already running again" if every
# task was RUNNING before that could be seen. Usage: wait_restoring JOB
wait_restoring() {
  local t0 d; t0=$(now_ms)
  while :; do
    d="$(rest "/jobs/$1" 2>/dev/null || true)"
    if [ -n "$d" ] && [ "$(jq -r .state <<<"$d")" = RUNNING ]; then
      [ "$(jq '[.vertices[].tasks | (.CREATED + .SCHEDULED + .DEPLOYING + .INITIALIZING)] | add' <<<"$d")" -gt 0 ] && { echo restoring; return 0; }
      [ "$(jq '[.vertices[].tasks.RUNNING] | add' <<<"$d")" = "$(jq '[.vertices[].parallelism] | add' <<<"$d")" ] && { echo "already running again"; return 0; }
    fi
    [ $(( $(now_ms) - t0 )) -lt 180000 ] || die "job $1 did not restore within 180 s"
    sleep 0.1
  done
}

# Recovery from the last kill_taskmanager, for watcher NAME: from the kill to the first completion committed
# once the job had noticed the loss (only a restored job can commit then: output flows again), and to every
# task RUNNING again as the REST API shows it (it may come later: a restored operator computes while the
# last tasks still report INITIALIZING, and no checkpoint can commit before they run). Waits for both;
# appends WHAT and the times to FAULT_LINES. Usage: await_recovery NAME WHAT
await_recovery() {
  local t_run t_flow
  wait_job_running "$JOB_ID" 180000
  t_run=$(now_ms)
  t_flow="$(first_commit_after "$1" "$T_NOTICED" "after $2")"
  FAULT_LINES+=("$2: noticed after $(seconds_between "$T_KILL" "$T_NOTICED") s, committing again after $(seconds_between "$T_KILL" "$t_flow") s, every task RUNNING after $(seconds_between "$T_KILL" "$t_run") s")
  log "${FAULT_LINES[-1]}"
}

# The broker SIGKILLed while watcher NAME's batch of TOTAL is in flight, down for BROKER_DOWN_S (3) seconds, then started
# again on the same data and ports. Recovery is timed from the kill to the first completion committed after
# the restart, and to the broker serving again. Appends a line to FAULT_LINES. Usage: restart_broker NAME TOTAL
restart_broker() {
  local name="$1" total="$2" done t_kill t_start t_back t_flow before
  done="$(committed "$name")"
  [ "$done" -lt "$total" ] || die "batch $name was complete before the broker restart: raise its size"
  before="$(restarts "$JOB_ID")"
  t_kill=$(now_ms)
  kill_recorded kafka
  sleep "${BROKER_DOWN_S:-3}"
  t_start=$(now_ms)
  restart_kafka
  wait_kafka --topic "prompts:$((DP * 2))" --topic "completions:$DP" --topic dead-letters:1
  t_back=$(now_ms)
  # Nothing commits while the broker is down: the first commit after its restart is the job's output again.
  t_flow="$(first_commit_after "$name" "$t_start" "after the broker restart")"
  wait_job_running "$JOB_ID" 180000
  FAULT_LINES+=("broker SIGKILL + restart ($done/$total committed): restarted after $(seconds_between "$t_kill" "$t_start") s, serving after $(seconds_between "$t_kill" "$t_back") s, committing again after $(seconds_between "$t_kill" "$t_flow") s; job restarts: $(( $(restarts "$JOB_ID") - before ))")
  log "${FAULT_LINES[-1]}"
}
