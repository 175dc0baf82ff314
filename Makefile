# imgproof build and test entry points. Area-specific targets live in mk/*.mk.
GO        ?= go
BIN       ?= bin/imgproof
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck
# Packages that must build for GOOS=js GOARCH=wasm (the core and the wasm-safe attest code).
WASM_SAFE ?= ./verify/... ./internal/... ./fixtures/...

.PHONY: all build test wasm wasm-test lint bench check ci example

all: build

build:
	$(GO) build -o $(BIN) ./cmd/imgproof

test: build
	$(GO) test ./...

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

# example verifies the bundled example image.
example: build
	./$(BIN) verify examples/hello.oci.tar

check: lint wasm test wasm-test

# ci is what .ci/run calls after installing tools.
ci: check

-include mk/*.mk
