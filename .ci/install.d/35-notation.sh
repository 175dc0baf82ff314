#!/usr/bin/env bash
# notation for the Notary Project agreement test (cmd/imgproof TestNotationCLIAgreement).
# The module proxy refuses `go install github.com/notaryproject/notation/cmd/notation@v1.3.2`
# (it does not list the cmd/notation path as a module); a throwaway module that requires
# notation v1.3.2 builds it.
set -euo pipefail
version=v1.3.2
bin="$(go env GOPATH)/bin"
if "$bin/notation" version 2>/dev/null | grep -q "${version#v}"; then
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
printf 'module tools\n\ngo 1.26\n' > go.mod
printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/notaryproject/notation/cmd/notation"\n' > tools.go
go get "github.com/notaryproject/notation@${version}"
go mod tidy
go install github.com/notaryproject/notation/cmd/notation
