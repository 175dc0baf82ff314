#!/usr/bin/env bash
# Build dependencies: ISA-L for the optional cgo inflate fast path (-tags isal).
set -euo pipefail
if [ ! -f /usr/include/isa-l/igzip_lib.h ]; then
  apt-get install -y -qq libisal-dev
fi
