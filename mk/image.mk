# The imgproof image: a static pure-Go binary on an empty base with CA
# certificates and user 65532, built offline without a Docker daemon by
# deploy/image (go-containerregistry's mutate) as an OCI layout. Every
# timestamp is the commit time, so building twice gives the same digest.
IMAGE_DIR   ?= bin/imgproof.oci
IMAGE_BIN   ?= bin/image/imgproof
IMAGE_ARCH  ?= $(shell $(GO) env GOARCH)
IMAGE_CA    ?= /etc/ssl/certs/ca-certificates.crt
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct)

.PHONY: image image-check

image:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o $(IMAGE_BIN) ./cmd/imgproof
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./deploy/image -binary $(IMAGE_BIN) -ca $(IMAGE_CA) -arch $(IMAGE_ARCH) -out $(IMAGE_DIR)

# image-check builds the binary and the image twice and requires the same
# bytes and digest, then
# deploy/image/check.sh signs it and attaches SLSA v1 provenance naming the
# commit (cosign, a loopback crane registry, no transparency log) and has
# imgproof verify signature, provenance and content with --key and a CEL
# --policy; a policy for another commit must FAIL.
image-check: image cli
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./deploy/image -binary $(IMAGE_BIN) -ca $(IMAGE_CA) -arch $(IMAGE_ARCH) -out $(IMAGE_DIR).again
	cmp $(IMAGE_DIR)/index.json $(IMAGE_DIR).again/index.json
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o $(IMAGE_BIN).again ./cmd/imgproof
	cmp $(IMAGE_BIN) $(IMAGE_BIN).again
	rm -f $(IMAGE_BIN).again
	rm -rf $(IMAGE_DIR).again
	./$(BIN) verify $(IMAGE_DIR)
	bash deploy/image/check.sh $(IMAGE_DIR) ./$(BIN)

ci: image-check
