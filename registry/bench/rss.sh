#!/usr/bin/env bash
# Peak resident memory of verifying an image straight from a registry, at
# two image sizes. Memory must stay flat: blobs stream, nothing is buffered
# whole. Needs docker-registry (or registry) and skopeo.
#
#   bash registry/bench/rss.sh [SMALL_MIB] [LARGE_MIB]
set -euo pipefail
small=${1:-256}
large=${2:-2048}
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
reg_pid=""
cleanup() {
  if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

bin="$(command -v docker-registry || command -v registry)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/config.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: 127.0.0.1:$port
YAML
"$bin" serve "$work/config.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done

(cd "$root" && go build -o "$work/rss" ./registry/bench/rss)
for mib in "$small" "$large"; do
  "$work/rss" gen "$work/img-$mib" "$mib" 4
  skopeo --insecure-policy copy --dest-tls-verify=false "oci:$work/img-$mib:latest" "docker://127.0.0.1:$port/bench/img:$mib" >/dev/null
  rm -rf "$work/img-$mib"
  printf '%5d MiB image: ' "$mib"
  "$work/rss" verify "127.0.0.1:$port/bench/img:$mib"
done
