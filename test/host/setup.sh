#!/usr/bin/env bash
# Installs the pinned OpenClaw host (and its Node 24 binary package) into test/host/node_modules, on demand:
# nothing happens when the installed versions already match package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
want_oc=$(node -p "require('./package.json').dependencies.openclaw")
have_oc=$(node -p "try{require('./node_modules/openclaw/package.json').version}catch{''}" 2>/dev/null || true)
if [ "$have_oc" = "$want_oc" ] && [ -x node_modules/.bin/node ]; then
  echo "host: openclaw $have_oc already installed"
  exit 0
fi
echo "host: installing openclaw $want_oc (about 650 MB)…"
start=$(date +%s)
npm ci --no-audit --no-fund --loglevel=error
echo "host: installed in $(( $(date +%s) - start ))s ($(node_modules/.bin/node --version), openclaw $(node -p "require('./node_modules/openclaw/package.json').version"))"
