#!/usr/bin/env bash
# Go linters used by `make lint`, pinned so that every run lints with the same rules.
set -euo pipefail
staticcheck_version=v0.8.2 # staticcheck 2026.2.2
gobin="$(go env GOPATH)/bin"
if ! "$gobin/staticcheck" -version 2>/dev/null | grep -q "(${staticcheck_version#v})"; then
  go install "honnef.co/go/tools/cmd/staticcheck@${staticcheck_version}"
fi
