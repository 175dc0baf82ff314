#!/usr/bin/env bash
# Third-party image tools used by the interoperability tests (fixtures/thirdparty).
set -euo pipefail
need=()
for p in umoci skopeo zstd jq; do
  command -v "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}"
fi
gobin="$(go env GOPATH)/bin"
if ! "$gobin/crane" version 2>/dev/null | grep -qx 'v0.22.1'; then
  go install github.com/google/go-containerregistry/cmd/crane@v0.22.1
fi
