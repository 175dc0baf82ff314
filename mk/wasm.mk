# The verifier in the browser: the WebAssembly module, its page, the npm
# package and the tests that drive them in Node.js and headless Chromium.

WASM_WEB   := wasm/web
WASM_NPM   := wasm/npm
WASM_EXEC  := $(shell $(GO) env GOROOT)/lib/wasm/wasm_exec.js
WASM_LDFLAGS ?= -s -w -X main.version=$(shell git describe --always --dirty 2>/dev/null || echo dev)
NODE       ?= node

WASM_SAFE += ./wasm/...

.PHONY: wasm-web wasm-adapter-test browser-test browser-deps bench-wasm wasm-size wasm-core

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

# wasm-core builds a module that links only the core (package verify,
# through wasm/internal/coresize), with the page's flags, to tell how much
# of the page's module the core is.
WASM_CORE ?= $(or $(TMPDIR),/tmp)/imgproof-core.wasm

wasm-core:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags '$(WASM_LDFLAGS)' -o $(WASM_CORE) ./wasm/internal/coresize

# wasm-size prints the size, raw and gzipped (gzip -9), of the core-only
# module, the page's and the npm package's. Not part of CI.
wasm-size: wasm-web wasm-core
	@for m in core:$(WASM_CORE) page:$(WASM_WEB)/imgproof.wasm npm:$(WASM_NPM)/imgproof.wasm; do \
		f=$${m#*:}; printf '%-5s %10d bytes raw %10d gzipped  %s\n' $${m%%:*} $$(wc -c <$$f) $$(gzip -9 -c $$f | wc -c) $$f; \
	done

# bench-wasm measures the modules' sizes and the page's throughput in
# Chromium against the native CLI on the same large image. Not part of CI.
bench-wasm: build browser-deps wasm-core
	cd wasm/test && IMGPROOF_BIN=$(CURDIR)/$(BIN) $(NODE) ../bench/bench.mjs --core $(WASM_CORE) $(BENCH_WASM_ARGS)
