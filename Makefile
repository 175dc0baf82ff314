# imgproof build and test entry points. Area-specific targets live in mk/*.mk.
GO        ?= go
BIN       ?= bin/imgproof
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck
# TAGS selects optional fast paths: isal (cgo, Intel ISA-L inflate) when
# libisal-dev is installed. go install without tags stays pure Go.
TAGS      ?= $(shell test -f /usr/include/isa-l/igzip_lib.h && echo isal)
# Packages that must build for GOOS=js GOARCH=wasm (the core and the wasm-safe attest code).
WASM_SAFE ?= ./verify/... ./internal/... ./fixtures/... ./compare/... ./conformance/... ./attest/...

.PHONY: all build cli test unit-test wasm wasm-test lint bench check ci example setup

all: build

# build builds the CLI with the verifier page embedded: mk/wasm.mk makes it
# depend on wasm-web, which runs before this recipe. cli builds the CLI
# alone, with whatever page files are already built (serve says so when
# there are none).
GO_BUILD_CLI = $(GO) build -tags "$(TAGS)" -o $(BIN) ./cmd/imgproof

build:
	$(GO_BUILD_CLI)

cli:
	$(GO_BUILD_CLI)

test: build
	$(GO) test ./...
ifneq ($(TAGS),)
	$(GO) test -tags "$(TAGS)" ./verify/...
endif

# wasm proves the core builds and vets for the browser.
wasm:
	GOOS=js GOARCH=wasm $(GO) build $(WASM_SAFE)
	GOOS=js GOARCH=wasm $(GO) vet $(WASM_SAFE)

# wasm-test runs the core's Go tests under Node with GOOS=js.
wasm-test:
	PATH="$$PATH:$$($(GO) env GOROOT)/lib/wasm" GOOS=js GOARCH=wasm $(GO) test ./verify/... ./internal/...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1)
	$(GO) vet ./...
	$(STATICCHECK) ./...

# example verifies the bundled example image. It needs only the CLI, not
# the WebAssembly modules that build embeds for serve.
example: cli
	./$(BIN) verify examples/hello.oci.tar

check: lint wasm test wasm-test

# setup installs every tool the tests use (Debian packages, Go tools, npm
# packages); each script skips what is already installed.
setup:
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then apt-get update -qq; fi
	@set -e; for f in .ci/install.d/*.sh; do echo "== setup: $$f"; bash "$$f"; done

# Packages whose area target (in mk/*.mk) tests them in ci, with the tools
# and servers they need; ci's unit-test leaves them to it rather than
# running them twice.
AREA_PKGS_RE := /fixtures/thirdparty|/fixtures/hostile|/conformance|/registry|/compare|/imagecopy|/attest/e2e|/attest/sigstore|/attest/intotolayout

unit-test: build
	$(GO) test $$($(GO) list ./... | grep -v -E '$(AREA_PKGS_RE)')
ifneq ($(TAGS),)
	$(GO) test -tags "$(TAGS)" ./verify/...
endif

# ci sets up a fresh machine and runs every check and test; .ci/run calls
# it. Together with the area targets below it covers what check covers.
ci: setup lint wasm unit-test wasm-test

-include mk/*.mk
