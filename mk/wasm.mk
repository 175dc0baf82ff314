# The verifier in the browser: the WebAssembly module, its page, the npm
# package and the tests that drive them in Node.js and headless Chromium.

WASM_WEB   := wasm/web
WASM_NPM   := wasm/npm
WASM_EXEC  := $(shell $(GO) env GOROOT)/lib/wasm/wasm_exec.js
WASM_LDFLAGS ?= -s -w -X main.version=$(shell git describe --always --dirty 2>/dev/null || echo dev)
NODE       ?= node

WASM_SAFE += ./wasm/...

.PHONY: wasm-web wasm-adapter-test browser-test browser-deps bench-wasm

# wasm-web builds the modules and copies Go's loader beside the page and the
# npm package. The page, which takes no policy, gets the module without the
# CEL engine (-tags nocel: less than half the size); the npm package, whose
# policies may hold CEL rules, gets the full one. `make build` depends on
# it, so the binary embeds the page.
wasm-web:
	GOOS=js GOARCH=wasm $(GO) build -tags nocel -trimpath -ldflags '$(WASM_LDFLAGS)' -o $(WASM_WEB)/imgproof.wasm ./wasm
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags '$(WASM_LDFLAGS)' -o $(WASM_NPM)/imgproof.wasm ./wasm
	cp $(WASM_EXEC) $(WASM_WEB)/wasm_exec.js
	cp $(WASM_WEB)/wasm_exec.js $(WASM_WEB)/engines.js $(WASM_WEB)/vendor/hash-wasm* $(WASM_NPM)/

build: wasm-web

# wasm-adapter-test runs the adapter's Go tests under Node.js, and the
# platform-independent helpers natively.
wasm-adapter-test:
	PATH="$$PATH:$$($(GO) env GOROOT)/lib/wasm" GOOS=js GOARCH=wasm $(GO) test ./wasm
	$(GO) test ./wasm/...
	$(GO) test -tags nocel -run NoCEL ./attest/policy

wasm-test: wasm-adapter-test

browser-deps:
	cd wasm/test && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --ignore-scripts; }

# browser-test drives the page in headless Chromium and the npm CLI in
# Node.js, and compares both with the native CLI's JSON.
browser-test: build browser-deps
	cd wasm/test && IMGPROOF_BIN=$(CURDIR)/$(BIN) $(NODE) --test --test-concurrency=1 *.test.mjs

ci: browser-test

# bench-wasm measures the module's size and its throughput in Chromium
# against the native CLI on the same large image. Not part of CI.
bench-wasm: build browser-deps
	cd wasm/test && IMGPROOF_BIN=$(CURDIR)/$(BIN) $(NODE) ../bench/bench.mjs $(BENCH_WASM_ARGS)
