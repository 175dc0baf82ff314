//go:build !js

// Command gencorpus writes images with signatures and attestations, made by
// package fixtures, for the browser and Node.js tests: the third-party
// corpus has none, and their claims must be reported as the CLI reports
// them. With -gzip, it writes instead the hostile corpus's gzip cases
// (multi-member streams, trailing bytes, bad trailers, bombs), on which
// the browser's gzip engine and the Go code must give the same report.
//
//	go run ./wasm/internal/gencorpus OUT
//	go run ./wasm/internal/gencorpus -gzip OUT
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/fixtures/hostile"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 2:
		err = run(os.Args[1])
	case len(os.Args) == 3 && os.Args[1] == "-gzip":
		err = gzipCases(os.Args[2])
	default:
		fmt.Fprintln(os.Stderr, "usage: gencorpus [-gzip] OUT")
		os.Exit(64)
	}
	if err != nil {
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

// gzipCases writes every layout and archive case of the hostile corpus that
// involves gzip and needs no limit flags: layouts as folders, archives as
// files (.tar.gz when gzipped).
func gzipCases(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, c := range hostile.Cases() {
		if c.Pending != "" || len(c.Limits) > 0 || c.Platform != "" || !strings.Contains(strings.ToLower(c.ID+" "+c.Title), "gzip") {
			continue
		}
		in, err := c.Input()
		if err != nil {
			return err
		}
		switch c.Kind {
		case hostile.KindLayout:
			if err := fixtures.WriteFiles(filepath.Join(out, c.ID), in.Files); err != nil {
				return err
			}
		case hostile.KindArchive:
			name := c.ID + ".tar"
			if bytes.HasPrefix(in.Archive, []byte{0x1f, 0x8b}) {
				name += ".gz"
			}
			if err := os.WriteFile(filepath.Join(out, name), in.Archive, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
