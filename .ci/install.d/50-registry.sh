#!/usr/bin/env bash
# A real registry and a pusher for the registry tests: Debian's
# docker-registry (the CNCF distribution registry) and skopeo.
set -euo pipefail
need=()
command -v docker-registry >/dev/null || command -v registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# The package starts nothing in a container, but stop a service if one runs:
# the tests start their own registry with a temporary configuration.
if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl stop docker-registry || true
fi
