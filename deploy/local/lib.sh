# Functions for a local multi-process cluster built from Maven jars: one KRaft Kafka broker, one Flink
# JobManager and N TaskManagers, each its own JVM. Sourced by cluster.sh and smoke.sh; not run alone.
#
# Every process started here is recorded (name and pid) in $RUN_DIR/pids; stop_all kills exactly
# those pids, TERM first, KILL after a grace period. Callers install `trap stop_all EXIT`.

DEPLOY_LOCAL="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEPLOY_LOCAL/../.." && pwd)"
OUT_DIR="${OUT_DIR:-$DEPLOY_LOCAL/out}"
RUN_DIR="${RUN_DIR:-$OUT_DIR/run}"
CONF_DIR="$RUN_DIR/conf"
LOG_DIR="$RUN_DIR/log"
# The job jar: the shaded streaminfer.jar built without -Plocal (Flink provided by the cluster).
JOB_JAR="${JOB_JAR:-$REPO_ROOT/flink-job/target/streaminfer.jar}"
SCHEMA_DIR="${SCHEMA_DIR:-$REPO_ROOT/schemas/src/main/avro}"
MODELS_DIR="${MODELS_DIR:-$REPO_ROOT/../shared/models}"

# Flink's usual opens on Java 17 (the same list as the root pom's test.jvm.flags).
FLINK_JVM_OPENS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.math=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.sql/java.sql=ALL-UNNAMED --add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED -Xss4m"
# The inference kernels use the Vector API: the TaskManagers must load the incubator module. So must
# the CLI client (and, in application mode, the JobManager): the job's main() runs there to build the
# graph, and without the module it would try to re-execute its JVM, which cannot work inside Flink.
VECTOR_JAVA_OPTS="--add-modules jdk.incubator.vector"
TM_EXTRA_JAVA_OPTS="${TM_EXTRA_JAVA_OPTS:-$VECTOR_JAVA_OPTS}"
TM_PROCESS_SIZE="${TM_PROCESS_SIZE:-1600m}"
JM_PROCESS_SIZE="${JM_PROCESS_SIZE:-1024m}"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now_ms() { date +%s%3N; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Resolves the Flink and Kafka classpaths from Maven and compiles SmokeClient (seconds when warm).
build_tools() {
  mkdir -p "$OUT_DIR"
  local mvn_flags="-B -q ${MVN_OFFLINE:-}"
  mvn $mvn_flags -f "$DEPLOY_LOCAL/flink-runtime/pom.xml" dependency:build-classpath \
      -Dmdep.outputFile="$OUT_DIR/flink.classpath" >/dev/null || die "resolving the Flink runtime jars"
  mvn $mvn_flags -f "$DEPLOY_LOCAL/kafka-tools/pom.xml" package dependency:build-classpath \
      -Dmdep.outputFile="$OUT_DIR/kafka.classpath" >/dev/null || die "building kafka-tools"
  FLINK_CP="$(cat "$OUT_DIR/flink.classpath")"
  KAFKA_CP="$(cat "$OUT_DIR/kafka.classpath")"
  TOOLS_CP="$DEPLOY_LOCAL/kafka-tools/target/kafka-tools.jar:$KAFKA_CP"
}

load_classpaths() {
  [ -f "$OUT_DIR/flink.classpath" ] && [ -f "$OUT_DIR/kafka.classpath" ] || die "run build_tools first"
  FLINK_CP="$(cat "$OUT_DIR/flink.classpath")"
  KAFKA_CP="$(cat "$OUT_DIR/kafka.classpath")"
  TOOLS_CP="$DEPLOY_LOCAL/kafka-tools/target/kafka-tools.jar:$KAFKA_CP"
}

# Starts a background process and records it. Usage: spawn NAME LOGFILE cmd...
spawn() {
  local name="$1" logfile="$2"; shift 2
  "$@" >"$logfile" 2>&1 &
  local pid=$!
  disown "$pid"  # no job-control noise when a test kills it on purpose
  echo "$name $pid" >>"$RUN_DIR/pids"
  log "started $name (pid $pid), log $logfile"
}

pid_of() { awk -v n="$1" '$1==n {p=$2} END {print p}' "$RUN_DIR/pids"; }

# SIGKILLs a recorded process (a fault on purpose), waits until it is gone and drops it from $RUN_DIR/pids,
# so that stop_all never signals a pid the system may have reused. Usage: kill_recorded NAME
kill_recorded() {
  local name="$1" pid
  pid="$(pid_of "$name")"
  [ -n "$pid" ] || die "no process named $name in $RUN_DIR/pids"
  kill -KILL "$pid" 2>/dev/null || die "$name (pid $pid) had already exited"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && die "$name (pid $pid) survived SIGKILL for 10 s"
  awk -v n="$name" -v p="$pid" '!($1 == n && $2 == p)' "$RUN_DIR/pids" >"$RUN_DIR/pids.tmp" && mv "$RUN_DIR/pids.tmp" "$RUN_DIR/pids"
  echo "$name $pid" >>"$RUN_DIR/pids.killed"
  log "SIGKILLed $name (pid $pid)"
}

# Stops every process this run started, newest first: TERM, then KILL after 15 s.
stop_all() {
  [ -f "$RUN_DIR/pids" ] || return 0
  local name pid
  tac "$RUN_DIR/pids" | while read -r name pid; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for _ in $(seq 1 30); do
    local alive=0
    while read -r name pid; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$RUN_DIR/pids"
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  while read -r name pid; do
    if kill -0 "$pid" 2>/dev/null; then log "killing $name (pid $pid)"; kill -KILL "$pid" 2>/dev/null || true; fi
  done <"$RUN_DIR/pids"
  mv "$RUN_DIR/pids" "$RUN_DIR/pids.stopped"
  log "stopped every process of this run"
}

# Fresh run directory, free ports and the generated configuration of broker and Flink.
prepare_run() {
  if [ -f "$RUN_DIR/pids" ]; then die "$RUN_DIR/pids exists: a cluster may still run (deploy/local/cluster.sh stop)"; fi
  rm -rf "$RUN_DIR"
  mkdir -p "$CONF_DIR" "$LOG_DIR" "$RUN_DIR/kafka-data" "$RUN_DIR/checkpoints" "$RUN_DIR/savepoints"
  : >"$RUN_DIR/pids"
  KAFKA_PORT="$(free_port)"; KAFKA_CONTROLLER_PORT="$(free_port)"
  JM_RPC_PORT="$(free_port)"; REST_PORT="${REST_PORT:-$(free_port)}"
  BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
  cat >"$RUN_DIR/env" <<EOF
BOOTSTRAP=$BOOTSTRAP
REST_URL=http://127.0.0.1:$REST_PORT
FLINK_CONF_DIR=$CONF_DIR
EOF
  write_kafka_config
  write_flink_config
  cp "$DEPLOY_LOCAL/conf/log4j.properties" "$CONF_DIR/log4j.properties"
  cp "$DEPLOY_LOCAL/conf/log4j-cli.properties" "$CONF_DIR/log4j-cli.properties"
}

write_kafka_config() {
  cat >"$CONF_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$RUN_DIR/kafka-data
# One node: every internal topic has a single replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
default.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# Flink's Kafka sink asks for transaction.timeout.ms up to this bound.
transaction.max.timeout.ms=900000
EOF
}

write_flink_config() {
  # Flink 2.x reads config.yaml (standard YAML; flat keys are valid).
  cat >"$CONF_DIR/config.yaml" <<EOF
jobmanager.rpc.address: localhost
jobmanager.rpc.port: $JM_RPC_PORT
jobmanager.bind-host: localhost
jobmanager.memory.process.size: $JM_PROCESS_SIZE
taskmanager.bind-host: localhost
taskmanager.host: localhost
# One slot per TaskManager: one DP replica (a TP group of rank threads) per JVM.
taskmanager.numberOfTaskSlots: 1
taskmanager.memory.process.size: $TM_PROCESS_SIZE
# The hashmap state backend uses no managed memory; leave the heap to the engine.
taskmanager.memory.managed.fraction: 0.05
parallelism.default: 1

rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: $REST_PORT
web.submit.enable: false
web.cancel.enable: true

state.backend.type: hashmap
execution.checkpointing.dir: file://$RUN_DIR/checkpoints
execution.checkpointing.savepoint-dir: file://$RUN_DIR/savepoints
execution.checkpointing.num-retained: 2
execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION

# Backing off, not a fixed number of quick retries: while a lost TaskManager's replacement starts (20-30 s on
# a loaded 2-core box, longer after two losses in a row) every attempt fails at once for want of slots, and
# 20 attempts 2 s apart ran out before the slots came (the smoke's repeated-fault phase). 1 s doubling to
# 10 s, 30 attempts (reset after a minute without failures): about 4 minutes before the job gives up.
restart-strategy.type: exponential-delay
restart-strategy.exponential-delay.initial-backoff: 1 s
restart-strategy.exponential-delay.max-backoff: 10 s
restart-strategy.exponential-delay.backoff-multiplier: 2.0
restart-strategy.exponential-delay.reset-backoff-threshold: 1 min
restart-strategy.exponential-delay.jitter-factor: 0.1
restart-strategy.exponential-delay.attempts-before-reset-backoff: 30

# A SIGKILLed TaskManager is noticed in seconds, not the default 50 s.
heartbeat.interval: 2000
heartbeat.timeout: 10000
heartbeat.rpc-failure-threshold: 1
# Keep slots of a lost TaskManager's replacement usable at once.
slot.request.timeout: 120000

# The REST API (and the smoke's progress checks) see metrics within a second.
metrics.fetcher.update-interval: 1000
metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory
metrics.reporter.prom.port: 9250-9290

# Read by Flink's own launch scripts; lib.sh applies the same flags to the JVMs it starts.
env.java.opts.all: "$FLINK_JVM_OPENS"
env.java.opts.taskmanager: "$TM_EXTRA_JAVA_OPTS"
env.java.opts.client: "$VECTOR_JAVA_OPTS"
EOF
}

start_kafka() {
  java -cp "$KAFKA_CP" -Dlog4j2.configurationFile="$DEPLOY_LOCAL/conf/log4j-tools.properties" kafka.tools.StorageTool format \
      --config "$CONF_DIR/server.properties" --cluster-id "$(java -cp "$KAFKA_CP" kafka.tools.StorageTool random-uuid 2>/dev/null)" \
      >"$LOG_DIR/kafka-format.log" 2>&1 \
    || { cat "$LOG_DIR/kafka-format.log" >&2; die "formatting the Kafka log dir"; }
  spawn_kafka "$LOG_DIR/kafka.log"
}

# Starts the broker again on its formatted log dir and ports (after kill_recorded kafka): same node, same data.
restart_kafka() {
  spawn_kafka "$LOG_DIR/kafka.log.restarted"
}

# The broker process on this run's server.properties, logging to $1.
spawn_kafka() {
  spawn kafka "$1" java -Xmx512m -cp "$KAFKA_CP" \
      -Dlog4j2.configurationFile="$DEPLOY_LOCAL/conf/log4j-tools.properties" kafka.Kafka "$CONF_DIR/server.properties"
}

# Runs SmokeClient (produce / consume / create-topics) against this run's broker; never longer than
# CLIENT_TIMEOUT_S (its own --timeout-s bounds a consume; this bounds a produce or a hung JVM).
smoke_client() {
  timeout "${CLIENT_TIMEOUT_S:-900}" java -cp "$TOOLS_CP" -Dlog4j2.configurationFile="$DEPLOY_LOCAL/conf/log4j-tools.properties" \
      io.streaminfer.deploy.SmokeClient "$1" --bootstrap "$BOOTSTRAP" "${@:2}"
}

wait_kafka() {
  local t0; t0=$(now_ms)
  until smoke_client create-topics "$@" >"$LOG_DIR/topics.log" 2>&1; do
    [ $(( $(now_ms) - t0 )) -lt 60000 ] || { cat "$LOG_DIR/topics.log" >&2; die "the broker did not accept topics within 60 s"; }
    kill -0 "$(pid_of kafka)" 2>/dev/null || die "the broker exited; see $LOG_DIR/kafka.log"
    sleep 1
  done
  log "broker at $BOOTSTRAP: $(tail -1 "$LOG_DIR/topics.log")"
}

# Memory flags as Flink's own scripts compute them. Usage: resource_params GET_TM_RESOURCE_PARAMS
resource_params() {
  java -cp "$FLINK_CP" -Dlog4j2.configurationFile="$DEPLOY_LOCAL/conf/log4j-tools.properties" \
      org.apache.flink.runtime.util.bash.BashJavaUtils "$1" --configDir "$CONF_DIR" 2>/dev/null \
    | grep '^BASH_JAVA_UTILS_EXEC_RESULT:' | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://'
}

start_jobmanager() {
  local params jvm dyn
  params="$(resource_params GET_JM_RESOURCE_PARAMS)"
  jvm="$(sed -n 1p <<<"$params")"; dyn="$(sed -n 2p <<<"$params")"
  [ -n "$jvm" ] || die "BashJavaUtils gave no JobManager memory flags"
  # shellcheck disable=SC2086
  spawn jobmanager "$LOG_DIR/jobmanager.out" java $jvm $FLINK_JVM_OPENS -cp "$FLINK_CP" \
      -Dlog.file="$LOG_DIR/jobmanager.log" -Dlog4j.configurationFile="file:$CONF_DIR/log4j.properties" \
      org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint --configDir "$CONF_DIR" $dyn
}

# Usage: start_taskmanager NAME
start_taskmanager() {
  local name="$1" params jvm dyn
  params="$(resource_params GET_TM_RESOURCE_PARAMS)"
  jvm="$(sed -n 1p <<<"$params")"; dyn="$(sed -n 2p <<<"$params")"
  [ -n "$jvm" ] || die "BashJavaUtils gave no TaskManager memory flags"
  # shellcheck disable=SC2086
  spawn "$name" "$LOG_DIR/$name.out" java $jvm $FLINK_JVM_OPENS $TM_EXTRA_JAVA_OPTS -cp "$FLINK_CP" \
      -Dlog.file="$LOG_DIR/$name.log" -Dlog4j.configurationFile="file:$CONF_DIR/log4j.properties" \
      org.apache.flink.runtime.taskexecutor.TaskManagerRunner --configDir "$CONF_DIR" $dyn
}

rest() { curl -sf --max-time 10 "http://127.0.0.1:$REST_PORT$1"; }

# Replaces every recorded TaskManager that exited on its own, as a cluster manager (Kubernetes) restarts a
# pod: Flink may shut a TaskManager down after a fatal error in its own clean-up when a peer it reads from is
# SIGKILLed ("exception in exception handler"). Each such exit is logged with its fatal line and listed in
# $RUN_DIR/pids.died; the replacement is named after it (tm3 -> tm3r). Usage: replace_dead_taskmanagers
replace_dead_taskmanagers() {
  local name pid why
  while read -r name pid; do
    case "$name" in tm[0-9]*) ;; *) continue ;; esac
    kill -0 "$pid" 2>/dev/null && continue
    why="$(grep -m1 -E 'FATAL|Fatal error' "$LOG_DIR/$name.log" 2>/dev/null | cut -c1-240)"
    awk -v n="$name" -v p="$pid" '!($1 == n && $2 == p)' "$RUN_DIR/pids" >"$RUN_DIR/pids.tmp" && mv "$RUN_DIR/pids.tmp" "$RUN_DIR/pids"
    echo "$name $pid" >>"$RUN_DIR/pids.died"
    log "$name (pid $pid) exited on its own (${why:-no fatal line in its log}); starting ${name}r in its place"
    start_taskmanager "${name}r"
  done < <(cat "$RUN_DIR/pids")
}

# Waits until the JobManager lists exactly N TaskManagers (a killed one drops out after heartbeat.timeout).
wait_taskmanagers() {
  local want="$1" timeout_ms="${2:-90000}" t0 n
  t0=$(now_ms)
  while :; do
    n="$(rest /taskmanagers 2>/dev/null | jq '.taskmanagers | length' 2>/dev/null || echo -1)"
    [ "$n" = "$want" ] && break
    [ $(( $(now_ms) - t0 )) -lt "$timeout_ms" ] || die "expected $want TaskManagers, the JobManager lists $n"
    kill -0 "$(pid_of jobmanager)" 2>/dev/null || die "the JobManager exited; see $LOG_DIR/jobmanager.log"
    sleep 1
  done
  log "JobManager at http://127.0.0.1:$REST_PORT lists $want TaskManagers"
}

# Flink's CLI client (CliFrontend) against this cluster, for at most CLI_TIMEOUT_S. Usage: flink_cli run -d ...
flink_cli() {
  # shellcheck disable=SC2086
  FLINK_CONF_DIR="$CONF_DIR" timeout "${CLI_TIMEOUT_S:-300}" java $FLINK_JVM_OPENS $VECTOR_JAVA_OPTS -cp "$FLINK_CP" \
      -Dlog.file="$LOG_DIR/client.log" -Dlog4j.configurationFile="file:$CONF_DIR/log4j-cli.properties" \
      org.apache.flink.client.cli.CliFrontend "$@"
}

job_state() { rest "/jobs/$1" | jq -r .state; }

# Waits until the job is RUNNING with every subtask RUNNING. Usage: wait_job_running JOB_ID [TIMEOUT_MS]
wait_job_running() {
  local job="$1" timeout_ms="${2:-120000}" t0 detail
  t0=$(now_ms)
  while :; do
    detail="$(rest "/jobs/$job" 2>/dev/null || true)"
    if [ -n "$detail" ] && [ "$(jq -r .state <<<"$detail")" = RUNNING ] \
       && [ "$(jq '[.vertices[] | .tasks | to_entries[] | select(.key != "RUNNING" and .key != "FINISHED") | .value] | add // 0' <<<"$detail")" = 0 ]; then
      return 0
    fi
    [ $(( $(now_ms) - t0 )) -lt "$timeout_ms" ] || die "job $job not running after $((timeout_ms/1000)) s: $(jq -c '{state, tasks: [.vertices[]?.tasks]}' <<<"$detail" 2>/dev/null)"
    replace_dead_taskmanagers
    sleep 0.5
  done
}

# What a failed run needs to be diagnosed, on stderr: the job's latest exceptions (REST), the errors and last
# lines of every process log, the watchers' last progress. Usage: diagnose [JOB_ID...]
diagnose() {
  local job f
  for job in "$@"; do
    [ -n "$job" ] || continue
    echo "--- job $job: $(rest "/jobs/$job" 2>/dev/null | jq -c '{state, tasks: [.vertices[]?.tasks | with_entries(select(.value > 0))]}' 2>/dev/null)" >&2
    rest "/jobs/$job/exceptions" 2>/dev/null \
      | jq -r '.exceptionHistory.entries[0:3][]? | "\(.timestamp) \(.taskName // "-") @ \(.taskManagerId // "-"): \(.exceptionName // "")\n\(.stacktrace // "" | split("\n")[0:6] | join("\n"))"' >&2 || true
  done
  for f in "$LOG_DIR"/jobmanager.log "$LOG_DIR"/tm*.log "$LOG_DIR"/kafka.log* "$LOG_DIR"/client.log; do
    [ -f "$f" ] || continue
    echo "--- $f: errors" >&2
    grep -E 'ERROR|Exception' "$f" | grep -v '^\s*at ' | tail -8 >&2 || true
    echo "--- $f: last lines" >&2
    grep -v 'Name collision' "$f" | tail -5 >&2
  done
  for f in "$RUN_DIR"/*.progress; do
    [ -f "$f" ] && echo "--- $f: $(wc -l <"$f") lines, last: $(tail -1 "$f")" >&2
  done
  for f in "$LOG_DIR"/watch-*.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }
  done
  return 0
}
