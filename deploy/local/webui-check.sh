#!/usr/bin/env bash
# Opens the Flink web UI of a running job in headless Chromium and checks what a user would watch:
#   - the job page shows the job (its name and RUNNING) and the inference vertex;
#   - clicking that vertex, its "Metrics" tab and "Add Metric" shows an inference metric
#     (generatedTokensPerSecond, else runningRequests, ...) with a rendered value;
#   - a full-page screenshot of that view is kept at $OUT_DIR/webui.png (DOM at webui.html).
# The browser is driven by webui-metric.mjs (playwright-core from install-deps.sh, Debian's chromium).
# The REST API only tells which vertex and metric id to look for; the checks are on the page.
# Usage: webui-check.sh JOB_ID   (REST_PORT and RUN_DIR from the environment or $RUN_DIR/env)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
JOB_ID="${1:?usage: webui-check.sh JOB_ID}"
if [ -z "${REST_PORT:-}" ]; then REST_PORT="$(grep ^REST_URL= "$RUN_DIR/env" | sed 's/.*://')"; fi
WEBUI_NODE_DIR="${WEBUI_NODE_DIR:-$DEPLOY_LOCAL/out/webui-node}"
WEBUI_TIMEOUT_S="${WEBUI_TIMEOUT_S:-60}"
command -v chromium >/dev/null || die "chromium is missing (deploy/local/install-deps.sh)"
command -v node >/dev/null || die "node is missing (deploy/local/install-deps.sh)"
[ -f "$WEBUI_NODE_DIR/node_modules/playwright-core/package.json" ] \
  || die "playwright-core is missing in $WEBUI_NODE_DIR (deploy/local/install-deps.sh)"
# Most telling first: the UI is asked for the first of these the operator reports.
INFERENCE_METRICS=(generatedTokensPerSecond runningRequests promptTokensPerSecond waitingRequests inFlightRequests kvCacheUsage requestsCompleted)

# Which vertex reports inference metrics, and under which ids (e.g. 0.inference.inference.runningRequests).
JOB_JSON="$(rest "/jobs/$JOB_ID")" || die "no job $JOB_ID at the REST API"
JOB_NAME="$(jq -r .name <<<"$JOB_JSON")"
metric=""
for _ in $(seq 1 20); do
  for vid in $(jq -r '.vertices[].id' <<<"$JOB_JSON"); do
    ids="$(rest "/jobs/$JOB_ID/vertices/$vid/metrics" | jq -r '.[].id')" || continue
    for name in "${INFERENCE_METRICS[@]}"; do
      # Subtask 0 when it reports one: every replica does.
      metric="$(grep -E "\.$name$" <<<"$ids" | sort | head -1 || true)"
      [ -n "$metric" ] && break 3
    done
  done
  sleep 1
done
[ -n "$metric" ] || die "no inference metric (${INFERENCE_METRICS[*]}) on any vertex of job $JOB_ID"
VERTEX="$(jq -r --arg v "$vid" '.vertices[] | select(.id == $v) | .name' <<<"$JOB_JSON")"
log "web UI: vertex '$VERTEX' reports $metric; asking the UI for it"

# Headless Chromium now and then hangs or dies at start-up: such attempts are retried within the
# budget; a page that does not show something (exit 3) fails at once with what was missing.
rm -f "$OUT_DIR/webui.png" "$OUT_DIR/webui-failed.png"
t_end=$(( $(now_ms) + WEBUI_TIMEOUT_S * 1000 ))
attempt=0
while :; do
  attempt=$((attempt + 1))
  left_s=$(( (t_end - $(now_ms)) / 1000 ))
  [ "$left_s" -ge 10 ] || die "headless Chromium did not complete the web UI check within ${WEBUI_TIMEOUT_S} s ($((attempt - 1)) attempts; see $LOG_DIR/chromium.log)"
  rc=0
  shown="$(WEBUI_URL="http://127.0.0.1:$REST_PORT/#/job/running/$JOB_ID/overview" WEBUI_JOB_NAME="$JOB_NAME" \
      WEBUI_VERTEX_ID="$vid" WEBUI_VERTEX_NAME="$VERTEX" WEBUI_METRIC_ID="$metric" \
      WEBUI_PNG="$OUT_DIR/webui.png" WEBUI_HTML="$OUT_DIR/webui.html" WEBUI_NODE_DIR="$WEBUI_NODE_DIR" \
      WEBUI_TIMEOUT_S="$left_s" timeout --kill-after=5 "$((left_s + 10))" node "$DEPLOY_LOCAL/webui-metric.mjs" \
      2> >(tee -a "$LOG_DIR/chromium.log" >&2))" || rc=$?
  [ "$rc" = 0 ] && break
  [ "$rc" = 3 ] && die "job $JOB_ID: see above; what the page showed: $OUT_DIR/webui-failed.png, DOM $OUT_DIR/webui.html"
  log "web UI attempt $attempt: headless Chromium did not finish (exit $rc); retrying"
done
[ -s "$OUT_DIR/webui.png" ] || die "no screenshot at $OUT_DIR/webui.png"
log "web UI: job page shows '$JOB_NAME' RUNNING; vertex '$VERTEX' drawer shows $shown; screenshot $OUT_DIR/webui.png ($(stat -c %s "$OUT_DIR/webui.png") bytes, attempt $attempt)"
