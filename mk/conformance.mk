# Conformance rules, the vector corpus and the comparison with other tools.
.PHONY: conformance-test conformance-corpus conformance-compare conformance-coverage conformance-vectors

# conformance-test: unit tests, the corpus runner, and the wasm build.
conformance-test:
	$(GO) test ./conformance/...
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
