# Signatures and attestations (docs/attest.md).
.PHONY: attest-test attest-wasm attest-wasm-test attest-e2e

# The wasm-safe attest packages (attest/sigstore, attest/intotolayout and
# attest/e2e are native only).
ATTEST_WASM ?= ./attest ./attest/dsse ./attest/keys ./attest/intoto ./attest/slsa ./attest/policy

attest-test:
	$(GO) test $(ATTEST_WASM)

# attest-wasm builds and vets the wasm-safe packages for the browser.
attest-wasm:
	GOOS=js GOARCH=wasm $(GO) build $(ATTEST_WASM)
	GOOS=js GOARCH=wasm $(GO) vet $(ATTEST_WASM)

# attest-wasm-test runs statement, SLSA, policy and CEL tests under Node, so
# policies evaluate the same in the browser as natively, and CUE and Rego
# policies, which the browser cannot evaluate, are never passed there.
attest-wasm-test:
	PATH="$$PATH:$$($(GO) env GOROOT)/lib/wasm" GOOS=js GOARCH=wasm $(GO) test ./attest/intoto ./attest/slsa ./attest/policy
	PATH="$$PATH:$$($(GO) env GOROOT)/lib/wasm" GOOS=js GOARCH=wasm $(GO) test -run 'TestLanguagePolicies|TestForFile' ./attest

# attest-e2e signs, attests and saves images with the real cosign CLI
# against a local registry (crane registry serve), then verifies them. The
# tests find cosign and crane on PATH or in GOPATH/bin. `make test` runs
# them too; the result is cached, so CI runs them once.
attest-e2e:
	$(GO) test ./attest/e2e/

ci: attest-wasm attest-wasm-test attest-e2e
