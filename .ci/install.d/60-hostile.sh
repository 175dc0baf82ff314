#!/usr/bin/env bash
# The hostile-input tests run the wasm module under Node and use zstd as an
# independent decoder for the window bomb.
set -euo pipefail
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v zstd >/dev/null 2>&1 || need+=(zstd)
if [ "${#need[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}"
fi
