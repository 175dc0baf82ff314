# Registry source, compare and copy: unit tests plus end-to-end tests
# against a distribution registry on 127.0.0.1 (see .ci/install.d/50-registry.sh).
.PHONY: registry-test registry-bench compare-wasm

registry-test:
	IMGPROOF_REQUIRE_REGISTRY=1 $(GO) test -count=1 ./registry/... ./compare/... ./imagecopy/...

# registry-bench measures peak RSS while verifying large images from a
# local registry (not part of ci).
registry-bench: build
	bash registry/bench/rss.sh

# compare is wasm-safe: the browser module may use it.
compare-wasm:
	GOOS=js GOARCH=wasm $(GO) build ./compare/...
	GOOS=js GOARCH=wasm $(GO) vet ./compare/...

ci: registry-test compare-wasm
