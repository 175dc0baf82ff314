#!/usr/bin/env bash
# Go linters used by `make lint`, pinned so that every run lints with the same rules.
set -euo pipefail
staticcheck_version=v0.8.2 # staticcheck 2026.2.2
gobin="$(go env GOPATH)/bin"
if ! "$gobin/staticcheck" -version 2>/dev/null | grep -q "(${staticcheck_version#v})"; then
  go install "honnef.co/go/tools/cmd/staticcheck@${staticcheck_version}"
fi
# actionlint lints action.yml's example workflow (make action-lint).
actionlint_version=v1.7.12
if ! "$gobin/actionlint" -version 2>/dev/null | grep -qx "${actionlint_version}"; then
  go install "github.com/rhysd/actionlint/cmd/actionlint@${actionlint_version}"
fi
