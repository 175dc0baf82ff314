//go:build !js

package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/registry"
	"github.com/imgproof/imgproof/verify"
)

// fleet is a loopback registry holding images that share base layers.
type fleet struct {
	host string
	refs []string
	// layers maps each reference to its layer digests.
	layers map[string][]string
	// tamper, when set, is a blob digest served with one byte flipped.
	tamper atomic.Value
	// badHeader, when set, is a blob digest served with its own bytes
	// and a Docker-Content-Digest header naming another digest.
	badHeader atomic.Value
	// blobGets counts blob GETs.
	blobGets atomic.Int64
	blobs    map[string][]byte
}

// fleetRepos are the repositories of the test fleet: two "teams", each
// with its own shared layer over the common base.
var fleetRepos = []string{"base/alpine", "base/debian", "team/api", "team/web", "team/worker", "tools/ci"}

const fleetTags = 4

// newFleet pushes len(fleetRepos)*fleetTags images. Every image has the
// two base layers of fixtures.DefaultLayers, a layer shared by its
// repository's group (the part before the slash) and one of its own.
func newFleet(t testing.TB) *fleet { return newFleetWith(t, 0) }

// newFleetWith is newFleet with baseBytes of random data added to each
// base layer, stored uncompressed (compressing them for every image would
// make building the fleet the slowest part), so that hashing the layers
// dominates the work.
func newFleetWith(t testing.TB, baseBytes int) *fleet {
	t.Helper()
	f := &fleet{layers: map[string][]string{}, blobs: map[string][]byte{}}
	reg := ggcrregistry.New(ggcrregistry.Logger(nilLogger()))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			f.blobGets.Add(1)
			d := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
			if bad, _ := f.tamper.Load().(string); bad == d {
				b := bytes.Clone(f.blobs[d])
				b[len(b)/2] ^= 0x01
				w.Header().Set("Content-Length", fmt.Sprint(len(b)))
				_, _ = w.Write(b)
				return
			}
			if bad, _ := f.badHeader.Load().(string); bad == d {
				w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("0", 64))
				_, _ = w.Write(f.blobs[d])
				return
			}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.host = strings.TrimPrefix(srv.URL, "http://")
	base := fixtures.DefaultLayers("amd64", fixtures.Gzip)[:2]
	if baseBytes > 0 {
		rng := rand.New(rand.NewChaCha8([32]byte{1}))
		for i := range base {
			data := make([]byte, baseBytes)
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			base[i].Entries = append(base[i].Entries, fixtures.File(fmt.Sprintf("blob%d", i), string(data)))
			base[i].Compression = fixtures.None
		}
	}
	for _, repo := range fleetRepos {
		group, _, _ := strings.Cut(repo, "/")
		groupLayer := fixtures.Layer{Compression: fixtures.Gzip, Entries: []fixtures.Entry{fixtures.File("etc/group", group+"\n")}}
		for i := range fleetTags {
			own := fixtures.Layer{Compression: fixtures.Gzip, Entries: []fixtures.Entry{fixtures.File("app/id", fmt.Sprintf("%s %d\n", repo, i))}}
			b := fixtures.MustBuild(fixtures.Spec{Images: []fixtures.ImageSpec{{Layers: []fixtures.Layer{base[0], base[1], groupLayer, own}}}})
			ref := fmt.Sprintf("%s/%s:v%d", f.host, repo, i)
			f.push(t, b, ref)
			f.refs = append(f.refs, ref)
			for _, l := range b.Expected.Images[0].Layers {
				f.layers[ref] = append(f.layers[ref], l.Digest)
			}
			for d, data := range b.Blobs {
				f.blobs[d] = data
			}
		}
	}
	sort.Strings(f.refs)
	return f
}

// push writes a fixture's layout to disk and pushes its one image with
// go-containerregistry's remote.Write.
func (f *fleet) push(t testing.TB, b *fixtures.Built, ref string) {
	t.Helper()
	lp := f.writeLayout(t, b)
	h, err := v1.NewHash(b.Expected.Images[0].ManifestDigest)
	if err != nil {
		t.Fatal(err)
	}
	img, err := lp.Image(h)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

// writeLayout writes a fixture's OCI layout to a temporary directory.
func (f *fleet) writeLayout(t testing.TB, b *fixtures.Built) layout.Path {
	t.Helper()
	dir := t.TempDir()
	for p, data := range b.LayoutFiles() {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	return lp
}

// pushIndex pushes a fixture's image index with remote.WriteIndex.
func (f *fleet) pushIndex(t testing.TB, b *fixtures.Built, ref string) {
	t.Helper()
	lp := f.writeLayout(t, b)
	h, err := v1.NewHash(b.Expected.IndexDigest)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	inner, err := idx.ImageIndex(h)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, inner); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

// uniqueLayers counts the distinct layer digests of refs.
func (f *fleet) uniqueLayers(refs []string) int {
	u := map[string]bool{}
	for _, r := range refs {
		for _, d := range f.layers[r] {
			u[d] = true
		}
	}
	return len(u)
}

// uniqueRepoLayers counts the distinct layers of each repository, summed:
// what a sweep that shares evidence only within a repository reads.
func (f *fleet) uniqueRepoLayers(refs []string) int {
	u := map[string]bool{}
	for _, r := range refs {
		repo := r[:strings.LastIndex(r, ":")]
		for _, d := range f.layers[r] {
			u[repo+"@"+d] = true
		}
	}
	return len(u)
}

// singleVerdicts verifies each reference on its own, as `imgproof verify`
// does, without a cache.
func (f *fleet) singleVerdicts(t testing.TB) map[string]*verify.Report {
	t.Helper()
	out := map[string]*verify.Report{}
	for _, ref := range f.refs {
		res, err := registry.Verify(context.Background(), ref, &verify.Options{}, &registry.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out[ref] = res.Report
	}
	return out
}

// parsed is a sweep's output.
type parsed struct {
	reports map[string]*verify.Report
	skips   map[string]Skip
	summary *Summary
}

func parseOutput(t testing.TB, b []byte) parsed {
	t.Helper()
	p := parsed{reports: map[string]*verify.Report{}, skips: map[string]Skip{}}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, l := range lines {
		var head struct{ Schema, Kind string }
		if err := json.Unmarshal([]byte(l), &head); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		switch {
		case head.Schema == verify.SchemaVersion:
			var rep verify.Report
			if err := json.Unmarshal([]byte(l), &rep); err != nil {
				t.Fatal(err)
			}
			if _, dup := p.reports[rep.Source.Path]; dup {
				t.Errorf("%s reported twice", rep.Source.Path)
			}
			p.reports[rep.Source.Path] = &rep
		case head.Kind == "skip":
			var s Skip
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatal(err)
			}
			p.skips[s.Reference] = s
		case head.Kind == "summary":
			if i != len(lines)-1 {
				t.Errorf("the summary is line %d of %d, want the last", i+1, len(lines))
			}
			p.summary = &Summary{}
			if err := json.Unmarshal([]byte(l), p.summary); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("line %d: unknown %s/%s", i+1, head.Schema, head.Kind)
		}
	}
	if p.summary == nil {
		t.Fatal("no summary line")
	}
	return p
}

// findingCodes lists a report's finding codes, sorted.
func findingCodes(r *verify.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, string(f.Code))
	}
	sort.Strings(out)
	return out
}
