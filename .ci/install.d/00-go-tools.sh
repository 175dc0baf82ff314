#!/usr/bin/env bash
# Go linters used by `make lint`.
set -euo pipefail
command -v staticcheck >/dev/null || go install honnef.co/go/tools/cmd/staticcheck@latest
