//go:build !js

package imagecopy

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// withReferrers is a multi-platform image with BuildKit attestation
// manifests and two OCI 1.1 referrers, one on an image and one on the
// index.
func withReferrers() fixtures.Spec {
	s := withAttestations()
	s.Referrers = []fixtures.Referrer{
		{Subject: 0, ArtifactType: "application/vnd.example.sbom", MediaType: "application/vnd.example.sbom+json", Payload: []byte(`{"sbom":0}`)},
		{Subject: -1, ArtifactType: "application/vnd.example.note", MediaType: "text/plain", Payload: []byte("index note\n")},
	}
	return s
}

// graphBlobs lists the blob names of the nodes of a source's graph, read
// by the graph itself, below the node at under ("" for all of it).
func graphBlobs(t *testing.T, res *verify.Result, under string) []string {
	t.Helper()
	seen := map[string]bool{}
	res.Graph(nil).Walk(func(n *verify.Node) bool {
		switch {
		case n.Parent() == nil, strings.HasPrefix(under, n.Path()+"/"):
			return true // above the node at under
		case under == "", n.Path() == under, strings.HasPrefix(n.Path(), under+"/"):
			seen[n.Name()] = true
			return true
		}
		return false
	})
	return sorted(seen)
}

func sorted(set map[string]bool) []string {
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// destFiles lists the files of a copy, a directory or an archive.
func destFiles(t *testing.T, path string) []string {
	t.Helper()
	set := map[string]bool{}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(path, p)
				set[filepath.ToSlash(rel)] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return sorted(set)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	l, err := verify.ListArchive(f, st.Size(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l.Entries() {
		if e.Type != tar.TypeDir {
			set[e.Name] = true
		}
	}
	return sorted(set)
}

func verifyLayout(t *testing.T, dir string, o *verify.Options) *verify.Result {
	t.Helper()
	res := verify.Dir(context.Background(), os.DirFS(dir), dir, o)
	if res.Report.Verdict != verify.Verified {
		t.Fatalf("%s: %s %v", dir, res.Report.Verdict, res.Report.Err())
	}
	return res
}

// A copy holds exactly the blobs of the verified graph: every manifest,
// attestation manifest and referrer with what they name, and nothing else
// but index.json and oci-layout.
func TestCopyHoldsTheGraphsBlobs(t *testing.T) {
	src := writeLayout(t, fixtures.MustBuild(withReferrers()))
	res := verifyLayout(t, src, nil)
	want := graphBlobs(t, res, "")
	attestations, artifacts := 0, 0
	for _, im := range res.Report.Images {
		switch im.Kind {
		case "attestation":
			attestations++
		case "artifact":
			artifacts++
		}
	}
	// The image index; 2 × (manifest, config, 3 layers), the last layer
	// shared; 2 × (attestation manifest, 2 statements) and their one
	// config; 2 × (referrer, payload) and the empty config they share.
	if len(want) != 1+2*5-1+2*3+1+2*2+1 || attestations != 2 || artifacts != 2 {
		t.Fatalf("the graph lists %d blobs, %d attestations, %d artifacts: %v", len(want), attestations, artifacts, want)
	}
	want = append(want, "index.json", "oci-layout")
	sort.Strings(want)
	for _, f := range []Format{Layout, OCIArchive} {
		t.Run(string(f), func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "dst")
			mustCopy(t, src, dst, &Options{Format: f})
			if got := destFiles(t, dst); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("the copy holds\n%s\nthe graph lists\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// A copy of one platform holds that image's nodes, and a new index.json:
// not the other platform's, not the attestations, not the referrers.
func TestPickedCopyHoldsOnlyThatPlatformsNodes(t *testing.T) {
	src := writeLayout(t, fixtures.MustBuild(withReferrers()))
	arm := &verify.Platform{OS: "linux", Architecture: "arm64"}
	res := verifyLayout(t, src, &verify.Options{Platform: arm})
	var path string
	for _, im := range res.Report.Images {
		if im.Kind == "image" {
			path = im.Path
		}
	}
	want := graphBlobs(t, res, path)
	if len(want) != 5 {
		t.Fatalf("the arm64 image at %q has %d nodes: %v", path, len(want), want)
	}
	want = append(want, "index.json", "oci-layout")
	sort.Strings(want)
	dst := filepath.Join(t.TempDir(), "dst")
	mustCopy(t, src, dst, &Options{Format: Layout, Verify: &verify.Options{Platform: arm}})
	if got := destFiles(t, dst); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the copy holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The copy follows only what verification walked: a node it did not walk
// (the other platform's config) and an index.json that is not the one
// verified stop the copy.
func TestCopyRefusesWhatWasNotVerified(t *testing.T) {
	b := fixtures.MustBuild(fixtures.MultiPlatform())
	src := writeLayout(t, b)
	newCopier := func(res *verify.Result) *copier {
		s, err := newDirSink(filepath.Join(t.TempDir(), "dst"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.abort)
		return &copier{ctx: context.Background(), src: os.DirFS(src), dst: s, lim: limits.Default(),
			verified: res, rep: res.Report, written: map[string]bool{}}
	}
	arm := verifyLayout(t, src, &verify.Options{Platform: &verify.Platform{OS: "linux", Architecture: "arm64"}})
	err := newCopier(arm).toLayout()
	if err == nil || !strings.Contains(err.Error(), "was not verified") {
		t.Fatalf("copying all of a source verified for one platform: %v", err)
	}

	all := verifyLayout(t, src, nil)
	idx, err := os.ReadFile(filepath.Join(src, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newCopier(all).roots(idx); err != nil {
		t.Fatalf("the verified index.json: %v", err)
	}
	root := all.Roots()[0].Descriptor.Digest.String()
	for name, other := range map[string]string{
		"another digest": strings.Replace(string(idx), root, "sha256:"+strings.Repeat("0", 64), 1),
		"another image":  string(fixtures.MustBuild(fixtures.Default()).LayoutFiles()["index.json"]),
		"no entry":       `{"schemaVersion":2,"manifests":[]}`,
	} {
		if _, err := newCopier(all).roots([]byte(other)); !errors.Is(err, ErrBlobMismatch) {
			t.Errorf("%s in index.json: err %v, want ErrBlobMismatch", name, err)
		}
	}
}

// A classic docker save is copied through the report: each layer file is
// checked, as it streams, against the digest verification computed, so a
// file that changed since is refused, not hashed afresh and written.
func TestClassicCopyChecksLayersAgainstTheReport(t *testing.T) {
	da, err := fixtures.MustBuild(fixtures.Default()).Docker(fixtures.DockerOptions{Format: fixtures.Classic})
	if err != nil {
		t.Fatal(err)
	}
	files := fixtures.MapFS{}
	for _, e := range da.Entries {
		if e.Typeflag == 0 || e.Typeflag == tar.TypeReg {
			files[e.Name] = e.Body
		}
	}
	res := verify.Dir(context.Background(), files, "classic", nil)
	if res.Report.Verdict != verify.Verified || len(res.Report.Images) != 1 {
		t.Fatalf("classic source: %s %v", res.Report.Verdict, res.Report.Err())
	}
	copyWith := func(src fs.FS) error {
		s, err := newDirSink(filepath.Join(t.TempDir(), "dst"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.abort()
		c := &copier{ctx: context.Background(), src: src, dst: s, lim: limits.Default(), verified: res, rep: res.Report, written: map[string]bool{}}
		return c.toLayout()
	}
	if err := copyWith(files); err != nil {
		t.Fatalf("the verified files: %v", err)
	}
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json: %v", err)
	}
	changed := fixtures.MapFS{}
	for name, body := range files {
		changed[name] = body
	}
	layer := manifest[0].Layers[1]
	body := append([]byte(nil), files[layer]...)
	body[len(body)/2] ^= 1
	changed[layer] = body
	if err := copyWith(changed); !errors.Is(err, ErrBlobMismatch) {
		t.Fatalf("a layer changed since verification: err %v, want ErrBlobMismatch", err)
	}
}
