#!/usr/bin/env bash
# Headless Chromium and playwright-core for the browser tests (make browser-test).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium
fi
cd "$(dirname "$0")/../../wasm/test"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --ignore-scripts
fi
