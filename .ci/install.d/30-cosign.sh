#!/usr/bin/env bash
# cosign (v2 as cosign, v3 as cosign3) and crane for the attestation
# end-to-end tests (attest/e2e). Each is built once and skipped when the
# pinned version is present.
set -euo pipefail
bin="$(go env GOPATH)/bin"
if ! "$bin/cosign" version 2>/dev/null | grep -q 'v2.6.5'; then
  go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5
fi
cosign3=v3.1.3
if ! "$bin/cosign3" version 2>/dev/null | grep -q "$cosign3"; then
  tmp="$(mktemp -d)"
  GOBIN="$tmp" go install "github.com/sigstore/cosign/v3/cmd/cosign@$cosign3"
  mv "$tmp/cosign" "$bin/cosign3"
  rmdir "$tmp"
fi
if ! "$bin/crane" version 2>/dev/null | grep -q '0.22.1'; then
  go install github.com/google/go-containerregistry/cmd/crane@v0.22.1
fi
