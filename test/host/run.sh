#!/usr/bin/env bash
# The host suite: install the pinned host on demand, build the plugin, check it against the host's shipped types,
# then run the e2e tests (real `openclaw` CLI and gateway on loopback, throwaway state dirs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bash "$here/setup.sh"
(cd "$repo" && npm run build --silent)
# Copy installs make the host run `npm install` for the plugin's dependencies; the suite runs it offline (no test
# needs the internet), so this install step puts exactly those packages' metadata and tarballs in the npm cache.
echo "host: priming the npm cache with the plugin's runtime dependencies"
prime="$(mktemp -d)"
(cd "$repo" && npm pack --silent --ignore-scripts --pack-destination "$prime" >/dev/null)
(cd "$prime" && npm init -y >/dev/null && npm install --omit=dev --omit=peer --ignore-scripts --no-audit --no-fund --loglevel=error ./openclaw-workspace-sync-*.tgz >/dev/null)
rm -rf "$prime"
echo "host: contract check against openclaw's shipped plugin SDK declarations"
(cd "$here" && ../../node_modules/.bin/tsc -p contract/tsconfig.json)
echo "host: register() timing"
(cd "$here" && node_modules/.bin/node ./bench-register.mjs)
cd "$repo"
start=$(date +%s)
npx vitest run --config test/host/vitest.config.ts
echo "host: suite finished in $(( $(date +%s) - start ))s"
