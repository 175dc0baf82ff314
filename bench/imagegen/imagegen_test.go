package imagegen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

const testSize = 3 << 20

// TestGenerateValid checks every variant with go-containerregistry's
// validate package, an independent implementation: digests, sizes,
// diff_ids, config and manifest must all agree.
func TestGenerateValid(t *testing.T) {
	dir := t.TempDir()
	images, err := Generate(context.Background(), dir, Options{Size: testSize, Seed: 7, Variants: []Compression{Gzip, Zstd, None}})
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 3 {
		t.Fatalf("got %d images, want 3", len(images))
	}
	for _, img := range images {
		t.Run(string(img.Compression), func(t *testing.T) {
			p, err := layout.FromPath(img.Dir)
			if err != nil {
				t.Fatal(err)
			}
			idx, err := p.ImageIndex()
			if err != nil {
				t.Fatal(err)
			}
			m, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Manifests) != 1 || m.Manifests[0].Digest.String() != img.ManifestDigest {
				t.Fatalf("index.json lists %v, want one manifest %s", m.Manifests, img.ManifestDigest)
			}
			vimg, err := idx.Image(m.Manifests[0].Digest)
			if err != nil {
				t.Fatal(err)
			}
			// validate.Image gunzips unconditionally, so its diff_id check
			// only applies to gzip; the other variants are checked below
			// through layer.Uncompressed, which detects the compression.
			if img.Compression == Gzip {
				if err := validate.Image(vimg); err != nil {
					t.Fatalf("validate.Image: %v", err)
				}
			}
			id, err := vimg.ConfigName()
			if err != nil || id.String() != img.ConfigDigest {
				t.Fatalf("config digest %v (%v), want %s", id, err, img.ConfigDigest)
			}
			cf, err := vimg.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			layers, err := vimg.Layers()
			if err != nil {
				t.Fatal(err)
			}
			if len(layers) != len(recipe) || len(cf.RootFS.DiffIDs) != len(layers) {
				t.Fatalf("%d layers, %d diff_ids, want %d", len(layers), len(cf.RootFS.DiffIDs), len(recipe))
			}
			for i, l := range layers {
				rc, err := l.Uncompressed()
				if err != nil {
					t.Fatal(err)
				}
				h := sha256.New()
				n, err := io.Copy(h, rc)
				rc.Close()
				if err != nil {
					t.Fatalf("layer %d: %v", i, err)
				}
				got := "sha256:" + hex.EncodeToString(h.Sum(nil))
				if got != cf.RootFS.DiffIDs[i].String() || got != img.Layers[i].DiffID {
					t.Errorf("layer %d: sha256(uncompressed) = %s, config says %s, generator says %s", i, got, cf.RootFS.DiffIDs[i], img.Layers[i].DiffID)
				}
				if n != img.Layers[i].UncompressedSize {
					t.Errorf("layer %d: %d uncompressed bytes, generator says %d", i, n, img.Layers[i].UncompressedSize)
				}
				mt, _ := l.MediaType()
				if string(mt) != img.Compression.MediaType() {
					t.Errorf("layer %d: media type %s", i, mt)
				}
			}
		})
	}
	// Every variant holds the same config, so the same image ID.
	if images[0].ConfigDigest != images[1].ConfigDigest || images[0].ConfigDigest != images[2].ConfigDigest {
		t.Errorf("variants differ in image ID: %s %s %s", images[0].ConfigDigest, images[1].ConfigDigest, images[2].ConfigDigest)
	}
	if images[0].BlobBytes >= images[2].BlobBytes {
		t.Errorf("gzip variant (%d bytes) is not smaller than the uncompressed one (%d)", images[0].BlobBytes, images[2].BlobBytes)
	}
}

// TestDeterministic checks that the same seed gives the same image and a
// different seed a different one.
func TestDeterministic(t *testing.T) {
	gen := func(seed uint64) Image {
		imgs, err := Generate(context.Background(), t.TempDir(), Options{Size: 1 << 20, Seed: seed, Variants: []Compression{Zstd}, Parallelism: int(seed%2) + 1})
		if err != nil {
			t.Fatal(err)
		}
		return imgs[0]
	}
	a, b, c := gen(3), gen(3), gen(4)
	if a.ManifestDigest != b.ManifestDigest {
		t.Errorf("same seed, different manifests: %s %s", a.ManifestDigest, b.ManifestDigest)
	}
	if a.ManifestDigest == c.ManifestDigest {
		t.Errorf("different seeds, same manifest %s", a.ManifestDigest)
	}
}

// TestOCIArchive checks the archive writer against GNU tar's listing and
// go-containerregistry's reading of the extracted layout.
func TestOCIArchive(t *testing.T) {
	dir := t.TempDir()
	imgs, err := Generate(context.Background(), dir, Options{Size: 1 << 20, Seed: 1, Variants: []Compression{Gzip}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "img.oci.tar")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteOCIArchive(imgs[0].Dir, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("tar not installed")
	}
	out := filepath.Join(dir, "x")
	os.Mkdir(out, 0o755)
	if b, err := exec.Command("tar", "-xf", file, "-C", out).CombinedOutput(); err != nil {
		t.Fatalf("tar -x: %v\n%s", err, b)
	}
	p, err := layout.FromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Fatalf("validate.Index on the extracted archive: %v", err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(imgs[0].Dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if d.Hex != hex.EncodeToString(sum[:]) {
		t.Errorf("extracted index.json digest %s differs from the layout's", d)
	}
}
