# Conformance rules, the vector corpus and the comparison with other tools.
.PHONY: conformance-test conformance-corpus conformance-coverage conformance-vectors conformance-thirdparty conformance-wasm-test

# conformance-test: unit tests, the corpus runner, and the wasm build.
# conformance/sigstore has its own owner and target.
conformance-test:
	$(GO) test $$($(GO) list ./conformance/... | grep -v /conformance/sigstore)
	GOOS=js GOARCH=wasm $(GO) build ./conformance/ ./conformance/vectors/

# conformance-vectors regenerates the committed corpus (deterministic).
conformance-vectors:
	$(GO) run ./conformance/vectors/gen -out conformance/vectors/corpus

# conformance-corpus checks imgproof against every vector, then prints the
# markdown table of what imgproof, crane, skopeo and umoci catch (tools that
# are not installed show n/a).
conformance-corpus:
	$(GO) test -count=1 -run 'TestCorpus' ./conformance/vectors/
	$(GO) run ./conformance/vectors/compare -corpus conformance/vectors/corpus

# conformance-coverage prints rules over the MUSTs of the spec.
conformance-coverage:
	$(GO) run ./conformance/coverage -spec "$$($(GO) list -m -f '{{.Dir}}' github.com/opencontainers/image-spec)"

ci: conformance-test

# conformance-thirdparty builds images with umoci, skopeo and crane
# (fixtures/thirdparty/build.sh) and checks that none fails a MUST rule.
# It is skipped when the tools are missing.
conformance-thirdparty:
	@if command -v umoci >/dev/null && command -v skopeo >/dev/null && { command -v crane >/dev/null || test -x "$$($(GO) env GOPATH)/bin/crane"; }; then \
		d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && bash fixtures/thirdparty/build.sh "$$d/out" >/dev/null 2>&1 && \
		IMGPROOF_THIRDPARTY_DIR="$$d/out" $(GO) test -count=1 -run TestThirdPartyImages ./conformance/vectors/; \
	else echo "conformance-thirdparty: umoci, skopeo or crane missing; skipped"; fi

ci: conformance-thirdparty

# conformance-wasm-test runs the package's tests under Node with GOOS=js.
conformance-wasm-test:
	PATH="$$PATH:$$($(GO) env GOROOT)/lib/wasm" GOOS=js GOARCH=wasm $(GO) test ./conformance/

ci: conformance-wasm-test
