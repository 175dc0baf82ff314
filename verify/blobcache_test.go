package verify_test

import (
	"context"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// mapCache is the simplest BlobCache: a map, no eviction.
type mapCache struct {
	mu       sync.Mutex
	m        map[string]*verify.BlobEvidence
	computed int
	hits     int
}

func (c *mapCache) Do(key string, compute func() (*verify.BlobEvidence, bool)) *verify.BlobEvidence {
	c.mu.Lock()
	if r, ok := c.m[key]; ok {
		c.hits++
		c.mu.Unlock()
		return r
	}
	c.mu.Unlock()
	r, keep := compute()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.computed++
	if keep {
		if c.m == nil {
			c.m = map[string]*verify.BlobEvidence{}
		}
		c.m[key] = r
	}
	return r
}

// countFS counts opens of blobs.
type countFS struct {
	fs.FS
	mu    sync.Mutex
	opens map[string]int
}

func (c *countFS) Open(name string) (fs.File, error) {
	c.mu.Lock()
	if c.opens == nil {
		c.opens = map[string]int{}
	}
	c.opens[name]++
	c.mu.Unlock()
	return c.FS.Open(name)
}

// twoImages builds two images that share their first two layers.
func twoImages(t *testing.T) (a, b *fixtures.Built) {
	t.Helper()
	base := fixtures.DefaultLayers("amd64", fixtures.Gzip)
	a = fixtures.MustBuild(fixtures.Spec{Images: []fixtures.ImageSpec{{Layers: base}}})
	extra := fixtures.Layer{Compression: fixtures.Gzip, Entries: []fixtures.Entry{fixtures.File("b.txt", "b\n")}}
	b = fixtures.MustBuild(fixtures.Spec{Images: []fixtures.ImageSpec{{Layers: append(base[:2:2], extra)}}})
	if a.Expected.Images[0].Layers[0].Digest != b.Expected.Images[0].Layers[0].Digest {
		t.Fatal("the fixtures do not share their first layer")
	}
	return a, b
}

func TestBlobCacheSharesEvidence(t *testing.T) {
	a, b := twoImages(t)
	cache := &mapCache{}
	opts := &verify.Options{BlobCache: cache}
	ra := verify.Dir(context.Background(), a.LayoutFS(), "a", opts)
	fb := &countFS{FS: b.LayoutFS()}
	rb := verify.Dir(context.Background(), fb, "b", opts)
	fresh := verify.Dir(context.Background(), b.LayoutFS(), "b", nil)
	if ra.Report.Verdict != verify.Verified || rb.Report.Verdict != verify.Verified {
		t.Fatalf("verdicts %s and %s, want VERIFIED: %v %v", ra.Report.Verdict, rb.Report.Verdict, ra.Report.Err(), rb.Report.Err())
	}
	shared := "blobs/" + strings.Replace(a.Expected.Images[0].Layers[0].Digest, ":", "/", 1)
	if fb.opens[shared] != 0 {
		t.Errorf("the shared layer %s was read %d times by the second run, want 0", shared, fb.opens[shared])
	}
	if cache.hits != 2 {
		t.Errorf("cache hits %d, want 2 (the two shared layers)", cache.hits)
	}
	// A hit gives the report a fresh read gives, check for check.
	if rb.Report.Checks != fresh.Report.Checks || len(rb.Report.Images[0].Layers) != 3 {
		t.Fatalf("checks %d with the cache, %d fresh", rb.Report.Checks, fresh.Report.Checks)
	}
	for i, l := range rb.Report.Images[0].Layers {
		if f := fresh.Report.Images[0].Layers[i]; l != f {
			t.Errorf("layer %d: %+v with the cache, %+v fresh", i, l, f)
		}
	}
}

func TestBlobCacheSharesFailure(t *testing.T) {
	a, b := twoImages(t)
	shared := "blobs/" + strings.Replace(a.Expected.Images[0].Layers[1].Digest, ":", "/", 1)
	files := a.LayoutFiles()
	bad := files[shared]
	bad[len(bad)/2] ^= 0xff
	cache := &mapCache{}
	opts := &verify.Options{BlobCache: cache}
	ra := verify.Dir(context.Background(), fixtures.MapFS(files), "a", opts)
	rb := verify.Dir(context.Background(), b.LayoutFS(), "b", opts)
	for _, r := range []*verify.Report{ra.Report, rb.Report} {
		if r.Verdict != verify.Failed || !hasCode(r, verify.CodeDigestMismatch) {
			t.Errorf("%s: verdict %s, want FAILED with %s: %v", r.Source.Path, r.Verdict, verify.CodeDigestMismatch, r.Err())
		}
	}
}

func TestBlobCacheNotUsed(t *testing.T) {
	a, _ := twoImages(t)
	t.Run("layer content visitor", func(t *testing.T) {
		cache := &mapCache{}
		opts := &verify.Options{BlobCache: cache, LayerContent: func(string, io.Reader) error { return nil }}
		r := verify.Dir(context.Background(), a.LayoutFS(), "a", opts)
		if r.Report.Verdict != verify.Verified {
			t.Fatalf("verdict %s: %v", r.Report.Verdict, r.Report.Err())
		}
		if cache.computed+cache.hits != 0 { // the visitor must see every layer's bytes
			t.Errorf("the cache was asked %d times, want 0", cache.computed+cache.hits)
		}
	})
	t.Run("missing blob", func(t *testing.T) {
		files := a.LayoutFiles()
		delete(files, "blobs/"+strings.Replace(a.Expected.Images[0].Layers[0].Digest, ":", "/", 1))
		cache := &mapCache{}
		r := verify.Dir(context.Background(), fixtures.MapFS(files), "a", &verify.Options{BlobCache: cache})
		if r.Report.Verdict != verify.Unverifiable {
			t.Fatalf("verdict %s, want UNVERIFIABLE: %v", r.Report.Verdict, r.Report.Err())
		}
		if len(cache.m) != 2 {
			t.Errorf("cache holds %d entries, want 2 (not the missing layer)", len(cache.m))
		}
	})
}

// TestBlobCacheEachImageChecksItsOwnClaims shares one layer between an
// image that claims it correctly and twins that claim another diff_id,
// media type or size. In either order, every run through the cache gives
// the verdict and finding codes of a fresh run without it.
func TestBlobCacheEachImageChecksItsOwnClaims(t *testing.T) {
	a, _ := twoImages(t)
	l0 := a.Expected.Images[0].Layers[0]
	twins := map[string]*fixtures.Built{
		"another diff_id":      a.WithDiffID(0, 0, "sha256:"+strings.Repeat("1", 64)),
		"zstd media type":      a.WithLayerMediaType(0, 0, "application/vnd.oci.image.layer.v1.tar+zstd"),
		"uncompressed type":    a.WithLayerMediaType(0, 0, "application/vnd.oci.image.layer.v1.tar"),
		"a smaller size":       a.WithDescriptorSize(l0.Digest, l0.Size-1),
		"a larger size":        a.WithDescriptorSize(l0.Digest, l0.Size+1),
		"the same claims also": a,
	}
	fresh := func(b *fixtures.Built) *verify.Report {
		return verify.Dir(context.Background(), b.LayoutFS(), "x", nil).Report
	}
	for name, twin := range twins {
		for k, order := range [][]*fixtures.Built{{a, twin}, {twin, a}} {
			cache := &mapCache{}
			for _, b := range order {
				got := verify.Dir(context.Background(), b.LayoutFS(), "x", &verify.Options{BlobCache: cache}).Report
				want := fresh(b)
				if got.Verdict != want.Verdict || got.Checks != want.Checks || !sameCodes(got, want) {
					t.Errorf("%s: with the cache %s (%d checks) %v, fresh %s (%d checks) %v", name,
						got.Verdict, got.Checks, got.Err(), want.Verdict, want.Checks, want.Err())
				}
			}
			if k == 0 && cache.hits != 3 {
				t.Errorf("%s: %d cache hits for the twin after the original, want 3 (its layers)", name, cache.hits)
			}
		}
		if name != "the same claims also" && fresh(twin).Verdict != verify.Failed {
			t.Errorf("%s: the twin verifies fresh: %v", name, fresh(twin).Err())
		}
	}
}

func sameCodes(a, b *verify.Report) bool {
	if len(a.Findings) != len(b.Findings) {
		return false
	}
	for i := range a.Findings {
		if a.Findings[i].Code != b.Findings[i].Code || a.Findings[i].Path != b.Findings[i].Path {
			return false
		}
	}
	return true
}
