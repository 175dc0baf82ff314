// Command gen writes synthetic container images for the benchmarks.
//
//	go run ./bench/gen -size 1GiB -out DIR [-seed N] [-variants gzip,zstd] [-oci-archive]
//
// It writes one OCI image layout per variant (DIR/gzip, DIR/zstd, DIR/none),
// DIR/info.json describing them (digests, diff_ids, sizes, blob paths),
// DIR/<variant>.layers for shell scripts (one layer a line: blob path
// relative to the layout, digest hex, diff_id hex, size, uncompressed size)
// and, with -oci-archive, DIR/<variant>.oci.tar. Memory use does not depend on
// -size. The same -seed and -size always give the same bytes.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/imgproof/imgproof/bench/imagegen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	size := flag.String("size", "64MiB", "total file content across all layers (KiB, MiB, GiB suffixes)")
	out := flag.String("out", "", "output directory (required)")
	seed := flag.Uint64("seed", 1, "content seed; a different seed gives a different image")
	variants := flag.String("variants", "gzip,zstd", "comma-separated layer encodings: gzip, zstd, none")
	archive := flag.Bool("oci-archive", false, "also write DIR/<variant>.oci.tar")
	par := flag.Int("parallel", 0, "layers generated at once (0: GOMAXPROCS)")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(64)
	}
	n, err := imagegen.ParseSize(*size)
	if err != nil {
		return err
	}
	var vs []imagegen.Compression
	for _, v := range strings.Split(*variants, ",") {
		vs = append(vs, imagegen.Compression(strings.TrimSpace(v)))
	}
	start := time.Now()
	images, err := imagegen.Generate(context.Background(), *out, imagegen.Options{Size: n, Seed: *seed, Variants: vs, Parallelism: *par})
	if err != nil {
		return err
	}
	if *archive {
		for _, img := range images {
			if err := writeArchive(img.Dir, img.Dir+".oci.tar"); err != nil {
				return err
			}
		}
	}
	info, err := json.MarshalIndent(map[string]any{"size": n, "seed": *seed, "images": images}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "info.json"), append(info, '\n'), 0o644); err != nil {
		return err
	}
	for _, img := range images {
		if err := writeList(img); err != nil {
			return err
		}
	}
	for _, img := range images {
		var tarBytes int64
		for _, l := range img.Layers {
			tarBytes += l.UncompressedSize
		}
		fmt.Printf("%s: %d layers, %d blob bytes, %d tar bytes, manifest %s, image ID %s\n",
			img.Dir, len(img.Layers), img.BlobBytes, tarBytes, img.ManifestDigest, img.ConfigDigest)
	}
	fmt.Printf("generated in %.1fs\n", time.Since(start).Seconds())
	return nil
}

func writeArchive(dir, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := imagegen.WriteOCIArchive(dir, f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", file, err)
	}
	return f.Close()
}

func writeList(img imagegen.Image) error {
	var b strings.Builder
	for _, l := range img.Layers {
		fmt.Fprintf(&b, "%s %s %s %d %d\n", l.Path, strings.TrimPrefix(l.Digest, "sha256:"),
			strings.TrimPrefix(l.DiffID, "sha256:"), l.Size, l.UncompressedSize)
	}
	return os.WriteFile(img.Dir+".layers", []byte(b.String()), 0o644)
}
