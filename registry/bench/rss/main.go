//go:build !js

// Command rss generates large images and reports the peak resident memory
// of verifying them straight from a registry. rss.sh drives it.
//
//	rss gen DIR MIB LAYERS   write an OCI layout of about MIB MiB of random data
//	rss verify REF           verify REF from its registry, print verdict and peak RSS
package main

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/klauspost/compress/gzip"

	"github.com/imgproof/imgproof/registry"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: rss gen DIR MIB LAYERS | rss verify REF")
		os.Exit(64)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		mib, _ := strconv.Atoi(os.Args[3])
		layers, _ := strconv.Atoi(os.Args[4])
		err = gen(os.Args[2], int64(mib)<<20, layers)
	case "verify":
		err = verifyRef(os.Args[2])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rss:", err)
		os.Exit(1)
	}
}

func verifyRef(ref string) error {
	start := time.Now()
	res, err := registry.Verify(context.Background(), ref, nil, &registry.Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	var total int64
	for _, im := range res.Report.Images {
		for _, l := range im.Layers {
			total += l.Size
		}
	}
	fmt.Printf("verdict=%s layers_bytes=%d peak_rss_kib=%d seconds=%.1f\n", res.Report.Verdict, total, ru.Maxrss, time.Since(start).Seconds())
	if res.Report.Verdict != "VERIFIED" {
		for _, f := range res.Report.Findings {
			fmt.Println(" ", f.Error())
		}
		return fmt.Errorf("not verified")
	}
	return nil
}

type countingHash struct {
	hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) { c.n += int64(len(p)); return c.Hash.Write(p) }

type desc struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// gen writes a layout whose layers are gzipped tars of random bytes.
func gen(dir string, total int64, layers int) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	var layerDescs []desc
	var diffIDs []string
	for i := range layers {
		tmp, err := os.CreateTemp(blobs, "layer-")
		if err != nil {
			return err
		}
		blobH := &countingHash{Hash: sha256.New()}
		gz, _ := gzip.NewWriterLevel(io.MultiWriter(tmp, blobH), gzip.BestSpeed)
		diffH := sha256.New()
		tw := tar.NewWriter(io.MultiWriter(gz, diffH))
		size := total / int64(layers)
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("data-%d.bin", i), Mode: 0o644, Size: size, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		if _, err := io.CopyN(tw, rng, size); err != nil {
			return err
		}
		if err := tw.Close(); err != nil {
			return err
		}
		if err := gz.Close(); err != nil {
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		d := hex.EncodeToString(blobH.Sum(nil))
		if err := os.Rename(tmp.Name(), filepath.Join(blobs, d)); err != nil {
			return err
		}
		layerDescs = append(layerDescs, desc{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: "sha256:" + d, Size: blobH.n})
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(diffH.Sum(nil)))
	}
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
		"config": map[string]any{}, "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	cd, err := put(blobs, cfg)
	if err != nil {
		return err
	}
	man, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": desc{MediaType: "application/vnd.oci.image.config.v1+json", Digest: cd, Size: int64(len(cfg))},
		"layers": layerDescs,
	})
	md, err := put(blobs, man)
	if err != nil {
		return err
	}
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []desc{{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: md, Size: int64(len(man)),
			Annotations: map[string]string{"org.opencontainers.image.ref.name": "latest"}}}})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

func put(dir string, b []byte) (string, error) {
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	return "sha256:" + h, os.WriteFile(filepath.Join(dir, h), b, 0o644)
}
