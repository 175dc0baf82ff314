#!/usr/bin/env bash
# cosign and crane for the attestation end-to-end tests (attest/e2e).
set -euo pipefail
bin="$(go env GOPATH)/bin"
if ! "$bin/cosign" version 2>/dev/null | grep -q 'v2.6.5'; then
  go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5
fi
if ! "$bin/crane" version 2>/dev/null | grep -q '0.22.1'; then
  go install github.com/google/go-containerregistry/cmd/crane@v0.22.1
fi
