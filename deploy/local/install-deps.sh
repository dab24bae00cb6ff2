#!/usr/bin/env bash
# Installs what the local smoke run needs beyond Java and Maven: headless Chromium, Node.js and
# playwright-core (for the web UI check, webui-check.sh), curl and jq (REST calls).
# Idempotent: does nothing when they are already there.
# playwright-core drives Debian's chromium only: no browser is ever downloaded.
set -euo pipefail
DEPLOY_LOCAL="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PLAYWRIGHT_CORE_VERSION=1.65.1
WEBUI_NODE_DIR="${WEBUI_NODE_DIR:-$DEPLOY_LOCAL/out/webui-node}"

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: chromium, curl, jq, node and npm are present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  command -v chromium >/dev/null && chromium --version
fi

# playwright-core 1.65 needs Node.js 20 or later (Debian 12's own nodejs is 18: use NodeSource's 20+).
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || { echo "install-deps: node $(node --version) is too old for playwright-core $PLAYWRIGHT_CORE_VERSION (needs 20+)" >&2; exit 1; }
installed="$(node -p "require('$WEBUI_NODE_DIR/node_modules/playwright-core/package.json').version" 2>/dev/null || true)"
if [ "$installed" = "$PLAYWRIGHT_CORE_VERSION" ]; then
  echo "install-deps: playwright-core $installed is present in $WEBUI_NODE_DIR"
else
  echo "install-deps: installing playwright-core $PLAYWRIGHT_CORE_VERSION into $WEBUI_NODE_DIR"
  mkdir -p "$WEBUI_NODE_DIR"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$WEBUI_NODE_DIR" --no-save --no-audit --no-fund \
      --loglevel=error "playwright-core@$PLAYWRIGHT_CORE_VERSION"
fi
