# Fixture generator: its portable tests under Node (GOOS=js), and
# regeneration of the bundled examples. The native tests run in `make test`.
.PHONY: fixtures-wasm-test examples-gen

fixtures-wasm-test:
	PATH="$$PATH:$$($(GO) env GOROOT)/lib/wasm" GOOS=js GOARCH=wasm $(GO) test ./fixtures/

# examples-gen rewrites examples/ from fixtures.Hello(); the genexamples test
# fails until the committed files match.
examples-gen:
	$(GO) run ./fixtures/cmd/genexamples -out examples

ci: fixtures-wasm-test
