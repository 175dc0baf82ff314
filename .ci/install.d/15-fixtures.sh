#!/usr/bin/env bash
# Tools the fixture tests use as independent oracles: tar, gzip, zstd.
set -euo pipefail
need=()
for p in tar gzip zstd; do
  command -v "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}"
fi
