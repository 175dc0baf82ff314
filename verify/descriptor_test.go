package verify_test

import (
	"context"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// TestDefectsBesideEachOther: a descriptor without a size, and a config
// whose digest cannot be followed, are each reported, and so is every
// other defect that can still be established; nothing follows from them
// that the bytes do not show.
func TestDefectsBesideEachOther(t *testing.T) {
	base := fixtures.MustBuild(fixtures.Default())
	const man = "index.json/manifests[0]"
	layer0 := func(m map[string]any) map[string]any { return m["layers"].([]any)[0].(map[string]any) }
	layerDigest := base.Expected.Images[0].Layers[0].Digest
	cases := []struct {
		name    string
		b       *fixtures.Built
		want    []string // "CODE path", sorted
		verdict verify.Verdict
	}{
		{"layer without size, blob present", base.WithManifest(0, func(m map[string]any) { delete(layer0(m), "size") }),
			[]string{"E_INVALID_DESCRIPTOR " + man + "/layers[0]"}, verify.Failed},
		{"layer with size null", base.WithManifest(0, func(m map[string]any) { layer0(m)["size"] = nil }),
			[]string{"E_INVALID_DESCRIPTOR " + man + "/layers[0]"}, verify.Failed},
		// The digest is still checked on a blob without a size.
		{"layer without size, blob changed", base.WithManifest(0, func(m map[string]any) { delete(layer0(m), "size") }).FlipByte(layerDigest, 40),
			[]string{"E_DIGEST_MISMATCH " + man + "/layers[0]", "E_INVALID_DESCRIPTOR " + man + "/layers[0]"}, verify.Failed},
		{"config without size", base.WithManifest(0, func(m map[string]any) { delete(m["config"].(map[string]any), "size") }),
			[]string{"E_INVALID_DESCRIPTOR " + man + "/config"}, verify.Failed},
		{"index.json entry without size", base.WithIndexJSON(func(i map[string]any) {
			delete(i["manifests"].([]any)[0].(map[string]any), "size")
		}), []string{"E_INVALID_DESCRIPTOR " + man}, verify.Failed},
		{"unsupported config algorithm alone", base.WithManifest(0, func(m map[string]any) {
			m["config"].(map[string]any)["digest"] = "sha384:" + strings.Repeat("ab", 48)
		}), []string{"E_UNSUPPORTED_ALGORITHM " + man + "/config"}, verify.Unverifiable},
		{"unsupported config algorithm beside a malformed layer digest", base.WithManifest(0, func(m map[string]any) {
			m["config"].(map[string]any)["digest"] = "sha384:" + strings.Repeat("ab", 48)
			layer0(m)["digest"] = "sha256+foo+-b"
		}), []string{"E_INVALID_DIGEST " + man + "/layers[0]", "E_UNSUPPORTED_ALGORITHM " + man + "/config"}, verify.Failed},
		{"unsupported config algorithm beside a changed layer", base.WithManifest(0, func(m map[string]any) {
			m["config"].(map[string]any)["digest"] = "sha384:" + strings.Repeat("ab", 48)
		}).FlipByte(layerDigest, 40), []string{"E_DIGEST_MISMATCH " + man + "/layers[0]", "E_UNSUPPORTED_ALGORITHM " + man + "/config"}, verify.Failed},
	}
	for _, tc := range cases {
		for _, src := range sources() {
			if src.isDock {
				continue // docker save keeps no OCI manifest to edit
			}
			t.Run(tc.name+"/"+src.name, func(t *testing.T) {
				rep := src.run(t, tc.b).Report
				var got []string
				for _, f := range rep.Findings {
					if f.Severity != verify.SeverityInfo {
						got = append(got, string(f.Code)+" "+f.Path)
					}
					if f.Code == verify.CodeInvalidDescriptor && f.Message != "descriptor has no size" && strings.Contains(tc.name, "size") {
						t.Errorf("message %q", f.Message)
					}
				}
				if tc.name == "layer without size, blob present" {
					if l := rep.Images[0].Layers[0]; l.Size != base.Expected.Images[0].Layers[0].Size {
						t.Errorf("layer size %d, want the %d bytes read", l.Size, base.Expected.Images[0].Layers[0].Size)
					}
				}
				sort.Strings(got)
				if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
					t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
				}
				if rep.Verdict != tc.verdict {
					t.Errorf("verdict %s, want %s", rep.Verdict, tc.verdict)
				}
			})
		}
	}
}

// TestSizelessBlobIsBounded: a blob whose descriptor has no size is read
// no further than layer-decompressed-bytes; past it the report names the
// limit, never a digest of the prefix that was read.
func TestSizelessBlobIsBounded(t *testing.T) {
	// One uncompressed layer of 1 MiB: larger than any read-ahead buffer,
	// so the bytes read from the file show where reading stopped.
	base := fixtures.MustBuild(fixtures.Spec{Images: []fixtures.ImageSpec{{
		Platform: fixtures.Platform{OS: "linux", Architecture: "amd64"},
		Layers: []fixtures.Layer{{Compression: fixtures.None, Entries: []fixtures.Entry{
			fixtures.File("big", strings.Repeat("x", 1<<20)),
		}}},
	}}})
	b := base.WithManifest(0, func(m map[string]any) {
		delete(m["layers"].([]any)[0].(map[string]any), "size")
	})
	lim := limits.Default()
	lim.LayerDecompressed = base.Expected.Images[0].Layers[0].Size / 2
	fsys := &countingFS{FS: b.LayoutFS()}
	rep := verify.Dir(context.Background(), fsys, "layout", &verify.Options{Limits: &lim}).Report
	layerFile := "blobs/sha256/" + strings.TrimPrefix(base.Expected.Images[0].Layers[0].Digest, "sha256:")
	if n := fsys.read[layerFile]; n > lim.LayerDecompressed+1 {
		t.Errorf("read %d bytes of the size-less layer, want at most %d", n, lim.LayerDecompressed+1)
	}
	if rep.Verdict != verify.Failed {
		t.Fatalf("verdict %s, want FAILED", rep.Verdict)
	}
	var limitHit bool
	for _, f := range rep.Findings {
		if f.Path != "index.json/manifests[0]/layers[0]" {
			continue
		}
		switch f.Code {
		case verify.CodeDigestMismatch:
			t.Errorf("a digest of a prefix was reported: %s", f.Message)
		case verify.CodeLimitExceeded:
			limitHit = limitHit || strings.Contains(f.Message, string(limits.LayerDecompressed)) && strings.Contains(f.Message, "has no size")
		}
	}
	if !limitHit {
		t.Errorf("no layer-decompressed-bytes finding on the size-less layer: %v", rep.Findings)
	}
}

// countingFS counts the bytes read from each file.
type countingFS struct {
	fs.FS
	mu   sync.Mutex
	read map[string]int64
}

func (c *countingFS) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if _, dir := f.(fs.ReadDirFile); dir {
		return f, nil
	}
	return &countingFile{File: f, fs: c, name: name}, nil
}

type countingFile struct {
	fs.File
	fs   *countingFS
	name string
}

func (f *countingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.fs.mu.Lock()
	if f.fs.read == nil {
		f.fs.read = map[string]int64{}
	}
	f.fs.read[f.name] += int64(n)
	f.fs.mu.Unlock()
	return n, err
}
