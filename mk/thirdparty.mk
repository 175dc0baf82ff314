# Interoperability tests: images built by umoci, skopeo and crane must get the
# same digests, diff_ids and image IDs from imgproof as from those tools, and
# tampered twins must be FAILED. Tools: .ci/install.d/20-thirdparty.sh. The
# committed third-party zoo (fixtures/thirdparty/zoo) is checked by the same
# run and needs no tool: `go test -run TestZoo ./fixtures/thirdparty/`.
.PHONY: interop interop-fixtures

interop:
	$(GO) test -count=1 ./fixtures/thirdparty/

# interop-fixtures writes the tool-made images to INTEROP_OUT for inspection.
INTEROP_OUT ?= /tmp/imgproof-interop-fixtures
interop-fixtures:
	rm -rf $(INTEROP_OUT)
	bash fixtures/thirdparty/build.sh $(INTEROP_OUT)

ci: interop
