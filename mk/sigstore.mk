# Sigstore bundles, blob signatures and in-toto layouts (docs/sigstore.md).
.PHONY: sigstore-conformance sigstore-test

# sigstore-conformance drives every sigstore-conformance verification case
# (../shared/testdata/sigstore-conformance) through `imgproof verify-bundle`,
# offline; CI fails when the data is missing.
sigstore-conformance:
	$(GO) test -count=1 -parallel 8 ./conformance/sigstore/

# sigstore-test runs the library tests of the area.
sigstore-test:
	$(GO) test -count=1 ./attest/sigstore/... ./attest/intotolayout/...

ci: sigstore-conformance sigstore-test
