package conformance

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

func checkEntries(t *testing.T, entries []fixtures.Entry, opts *Options) *Report {
	t.Helper()
	var buf bytes.Buffer
	if err := fixtures.WriteArchive(&buf, entries, false, fixtures.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	return CheckArchive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "image.tar", opts)
}

// failedAt returns the paths at which rule failed.
func failedAt(r *Report, rule string) []string {
	var out []string
	for _, res := range r.Results {
		if res.Rule == rule && res.Status == Fail {
			out = append(out, res.Path)
		}
	}
	return out
}

// Docker 25+ docker save of an untagged image writes "manifests": null:
// index.json breaks OCI-IDX-005 (manifests MUST be an array), and the
// views do not disagree (DOCKER-VIEW-001). "manifests": [] is conformant.
func TestDocker25UntaggedIndexManifests(t *testing.T) {
	spec := fixtures.Default()
	spec.Images[0].RepoTags = []string{}
	a, err := fixtures.MustBuild(spec).Docker(fixtures.DockerOptions{Format: fixtures.V25})
	if err != nil {
		t.Fatal(err)
	}
	for manifests, wantIDX := range map[string]bool{"null": true, "[]": false} {
		t.Run(manifests, func(t *testing.T) {
			idx := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":` + manifests + `}`
			r := checkEntries(t, fixtures.SetEntry(append([]fixtures.Entry(nil), a.Entries...), fixtures.File("index.json", idx)), nil)
			got := failedAt(r, "OCI-IDX-005")
			if wantIDX != (len(got) == 1 && got[0] == "index.json/manifests") {
				t.Errorf("OCI-IDX-005 failed at %v, want a failure at index.json/manifests: %v", got, wantIDX)
			}
			if f := failedAt(r, "DOCKER-VIEW-001"); len(f) > 0 {
				t.Errorf("an empty view failed DOCKER-VIEW-001 at %v", f)
			}
			if f := failedAt(r, "IMGPROOF-VERIFY-001"); len(f) > 0 {
				t.Errorf("the verifier's findings failed IMGPROOF-VERIFY-001 at %v", f)
			}
		})
	}
}

// A single-platform export lacks the other platforms' blobs: the layout
// spec allows that (OCI-LAYOUT-009 is a SHOULD), so no MUST rule fails
// when the present platform is selected.
func TestSinglePlatformExportConformance(t *testing.T) {
	b := fixtures.MustBuild(fixtures.MultiPlatform())
	amd := b.Expected.Images[0]
	shared := map[string]bool{amd.ConfigDigest: true}
	for _, l := range amd.Layers {
		shared[l.Digest] = true
	}
	arm := b.Expected.Images[1]
	b = b.WithoutBlob(arm.ManifestDigest).WithoutBlob(arm.ConfigDigest)
	for _, l := range arm.Layers {
		if !shared[l.Digest] {
			b = b.WithoutBlob(l.Digest)
		}
	}
	r := CheckFS(context.Background(), b.LayoutFS(), "layout", &Options{Verify: verify.Options{Platform: &verify.Platform{OS: "linux", Architecture: "amd64"}}})
	if r.Failed(Must) {
		t.Errorf("MUST rules failed: %v", r.FailedRules())
	}
	if f := failedAt(r, "OCI-LAYOUT-009"); len(f) != 1 {
		t.Errorf("OCI-LAYOUT-009 failed at %v, want once for the absent platform", f)
	}
}

// An ORAS artifact's blobs carry a tar media type but are no tars: the
// layer-content rules do not apply to them.
func TestORASArtifactConformance(t *testing.T) {
	files := fixtures.MapFS{"oci-layout": fixtures.OCILayoutBytes}
	put := func(b []byte) string {
		d := fixtures.Digest("sha256", b)
		files[fixtures.BlobPath(d)] = b
		return d
	}
	blob := []byte("hello world\n")
	man := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.readme",` +
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + put([]byte("{}")) + `","size":2},` +
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"` + put(blob) + `","size":12,"annotations":{"org.opencontainers.image.title":"hello.txt"}}]}`)
	md := put(man)
	files["index.json"] = []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + md + `","size":` + strconv.Itoa(len(man)) + `}]}`)
	r := CheckFS(context.Background(), files, "layout", nil)
	if r.Failed(Must) {
		t.Fatalf("MUST rules failed: %v %+v", r.FailedRules(), r.Results)
	}
}

// Jib writes manifest.json with lower-case keys; Docker reads them as the
// documented ones. No MUST rule fails; the SHOULD rule DOCKER-MAN-009 names
// each key.
func TestJibManifestKeysConformance(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	img := b.Expected.Images[0]
	entries := []fixtures.Entry{{Name: "config.json", Body: b.Blobs[img.ConfigDigest]}}
	layers := ""
	for i, l := range img.Layers {
		name := l.Digest[len("sha256:"):] + ".tar.gz"
		entries = append(entries, fixtures.Entry{Name: name, Body: b.Blobs[l.Digest]})
		if i > 0 {
			layers += ","
		}
		layers += `"` + name + `"`
	}
	mj := `[{"config":"config.json","repoTags":["example.com/jib:1"],"layers":[` + layers + `]}]`
	r := checkEntries(t, append(entries, fixtures.File("manifest.json", mj)), nil)
	if r.Failed(Must) {
		for _, res := range r.Results {
			if res.Status == Fail {
				t.Logf("%s %s %s: %s", res.Rule, res.Level, res.Path, res.Message)
			}
		}
		t.Fatalf("MUST rules failed: %v", r.FailedRules())
	}
	got := failedAt(r, "DOCKER-MAN-009")
	want := []string{"manifest.json[0]/config", "manifest.json[0]/layers", "manifest.json[0]/repoTags"}
	if len(got) != len(want) {
		t.Fatalf("DOCKER-MAN-009 failed at %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("DOCKER-MAN-009 failed at %v, want %v", got, want)
		}
	}

	// Two spellings of one key stay a MUST failure.
	twin := `[{"config":"config.json","Config":"config.json","layers":[` + layers + `]}]`
	r = checkEntries(t, append(entries, fixtures.File("manifest.json", twin)), nil)
	if len(failedAt(r, "IMGPROOF-JSON-001")) == 0 {
		t.Errorf("two spellings of Config did not fail IMGPROOF-JSON-001: %v", r.FailedRules())
	}
}
