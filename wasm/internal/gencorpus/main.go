//go:build !js

// Command gencorpus writes images with signatures and attestations, made by
// package fixtures, for the browser and Node.js tests: the third-party
// corpus has none, and their claims must be reported as the CLI reports
// them.
//
//	go run ./wasm/internal/gencorpus OUT
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/imgproof/imgproof/fixtures"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gencorpus OUT")
		os.Exit(64)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	buildkit := fixtures.MultiPlatform()
	buildkit.BuildKitAttestations = true
	if err := fixtures.MustBuild(buildkit).WriteOCIArchiveFile(filepath.Join(out, "fixtures-buildkit-attestations.oci.tar"), false); err != nil {
		return err
	}
	referrers := fixtures.Default()
	referrers.Referrers = []fixtures.Referrer{{
		Subject:      0,
		ArtifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		MediaType:    "application/vnd.dev.sigstore.bundle.v0.3+json",
		Payload:      []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`),
	}, {
		Subject:      0,
		ArtifactType: "application/vnd.example.sbom",
		MediaType:    "application/spdx+json",
		Payload:      []byte(`{"spdxVersion":"SPDX-2.3"}`),
		RefName:      "{subject}.att",
	}}
	return fixtures.MustBuild(referrers).WriteLayoutDir(filepath.Join(out, "fixtures-referrers"))
}
