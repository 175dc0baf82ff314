package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// Genuine outputs of real producers that a strict reader must accept, each
// beside the twin that must stay rejected. docs/interop.md §Producer quirks
// gives the rule for each.

// codesOf returns the codes of a report's findings.
func codesOf(r *verify.Report) []verify.Code {
	var out []verify.Code
	for _, f := range r.Findings {
		out = append(out, f.Code)
	}
	return out
}

// findingOf returns the first finding with code, failing the test if none.
func findingOf(t *testing.T, r *verify.Report, code verify.Code) verify.Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Code == code {
			return f
		}
	}
	t.Fatalf("no %s finding; findings: %v", code, r.Findings)
	return verify.Finding{}
}

func hasCode(r *verify.Report, code verify.Code) bool {
	for _, f := range r.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

func wantVerdict(t *testing.T, r *verify.Report, want verify.Verdict, code verify.Code) {
	t.Helper()
	if r.Verdict != want {
		t.Fatalf("verdict %s, want %s; findings: %v", r.Verdict, want, r.Findings)
	}
	if code != "" && !hasCode(r, code) {
		t.Fatalf("no %s finding; findings: %v", code, r.Findings)
	}
}

func verifyEntries(t *testing.T, entries []fixtures.Entry, opts *verify.Options) *verify.Report {
	t.Helper()
	var buf bytes.Buffer
	if err := fixtures.WriteArchive(&buf, entries, false, fixtures.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	r := verify.Archive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "image.tar", opts).Report
	s := verify.Stream(context.Background(), bytes.NewReader(buf.Bytes()), "image.tar", opts).Report
	if r.Verdict != s.Verdict || fmt.Sprint(codesOf(r)) != fmt.Sprint(codesOf(s)) {
		t.Fatalf("Archive and Stream disagree: %s %v, %s %v", r.Verdict, codesOf(r), s.Verdict, codesOf(s))
	}
	return r
}

// untaggedV25 is docker save (25+) of an image saved by its ID: no tags,
// and index.json's manifests as given.
func untaggedV25(t *testing.T, manifests string) (*fixtures.DockerArchive, []fixtures.Entry) {
	t.Helper()
	spec := fixtures.Default()
	spec.Images[0].RepoTags = []string{}
	a, err := fixtures.MustBuild(spec).Docker(fixtures.DockerOptions{Format: fixtures.V25})
	if err != nil {
		t.Fatal(err)
	}
	idx := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":` + manifests + `}`
	return a, fixtures.SetEntry(append([]fixtures.Entry(nil), a.Entries...), fixtures.File("index.json", idx))
}

func TestDocker25UntaggedEmptyIndexView(t *testing.T) {
	for _, manifests := range []string{"null", "[]"} {
		t.Run(manifests, func(t *testing.T) {
			a, entries := untaggedV25(t, manifests)
			r := verifyEntries(t, entries, nil)
			wantVerdict(t, r, verify.Verified, verify.CodeArchiveViewEmpty)
			if f := findingOf(t, r, verify.CodeArchiveViewEmpty); f.Severity != verify.SeverityWarning || f.Path != "index.json/manifests" {
				t.Errorf("empty view finding %+v, want a warning at index.json/manifests", f)
			}
			if hasCode(r, verify.CodeArchiveViewMismatch) {
				t.Errorf("an empty view was reported as a mismatch: %v", r.Findings)
			}
			if len(r.Images) != 1 || r.Images[0].ImageID != a.Images[0].ConfigDigest || r.Images[0].Path != "manifest.json[0]" {
				t.Fatalf("images %+v, want the manifest.json image %s", r.Images, a.Images[0].ConfigDigest)
			}
			for i, l := range r.Images[0].Layers {
				if l.DiffID != a.Images[0].DiffIDs[i] {
					t.Errorf("layer %d diff_id %s, want %s", i, l.DiffID, a.Images[0].DiffIDs[i])
				}
			}
		})
	}
}

// With an empty index.json view, manifest.json alone decides: a broken
// image there still fails.
func TestDocker25EmptyIndexViewStillChecksManifestJSON(t *testing.T) {
	a, entries := untaggedV25(t, "null")
	layer := a.Images[0].Layers[1].Digest
	e, _ := fixtures.FindEntry(entries, fixtures.BlobPath(layer))
	body := append([]byte(nil), e.Body...)
	body[len(body)/2] ^= 1
	entries = fixtures.SetEntry(entries, fixtures.Entry{Name: e.Name, Body: body})
	r := verifyEntries(t, entries, nil)
	wantVerdict(t, r, verify.Failed, verify.CodeDigestMismatch)
}

// A view that names a different image stays FAILED, empty view or not.
func TestDocker25ViewNamingAnotherImageFails(t *testing.T) {
	a, err := fixtures.MustBuild(fixtures.Default()).Docker(fixtures.DockerOptions{Format: fixtures.V25, ViewMismatch: true})
	if err != nil {
		t.Fatal(err)
	}
	r := verifyEntries(t, a.Entries, nil)
	wantVerdict(t, r, verify.Failed, verify.CodeArchiveViewMismatch)
	if hasCode(r, verify.CodeArchiveViewEmpty) {
		t.Errorf("two naming views reported as empty: %v", r.Findings)
	}
}

// An empty manifest.json beside an index.json that names the image: the
// index view decides. Both empty: nothing names an image, which fails.
func TestDocker25EmptyManifestJSONView(t *testing.T) {
	a, err := fixtures.MustBuild(fixtures.Default()).Docker(fixtures.DockerOptions{Format: fixtures.V25})
	if err != nil {
		t.Fatal(err)
	}
	entries := fixtures.SetEntry(append([]fixtures.Entry(nil), a.Entries...), fixtures.File("manifest.json", "[]"))
	entries = fixtures.RemoveEntry(entries, "repositories")
	r := verifyEntries(t, entries, nil)
	wantVerdict(t, r, verify.Verified, verify.CodeArchiveViewEmpty)
	if f := findingOf(t, r, verify.CodeArchiveViewEmpty); f.Path != "manifest.json" {
		t.Errorf("empty view finding at %s, want manifest.json", f.Path)
	}
	if len(r.Images) != 1 || r.Images[0].ManifestDigest == nil || *r.Images[0].ManifestDigest != a.Images[0].ManifestDigest {
		t.Fatalf("images %+v, want the index.json image %s", r.Images, a.Images[0].ManifestDigest)
	}

	_, both := untaggedV25(t, "[]")
	both = fixtures.SetEntry(both, fixtures.File("manifest.json", "[]"))
	wantVerdict(t, verifyEntries(t, both, nil), verify.Failed, verify.CodeArchiveInvalid)
}

// jibTar is a tarball as jib-core's buildTar writes it (the format Jib
// documents for docker load): manifest.json with lower-case keys, the
// config as config.json, gzip layers named <digest>.tar.gz.
func jibTar(t *testing.T, manifestJSON func(cfg string, tags, layers []string) string) ([]fixtures.Entry, fixtures.ExpectedImage) {
	t.Helper()
	b := fixtures.MustBuild(fixtures.Default())
	img := b.Expected.Images[0]
	entries := []fixtures.Entry{{Name: "config.json", Body: b.Blobs[img.ConfigDigest]}}
	var layers []string
	for _, l := range img.Layers {
		name := strings.TrimPrefix(l.Digest, "sha256:") + ".tar.gz"
		layers = append(layers, name)
		entries = append(entries, fixtures.Entry{Name: name, Body: b.Blobs[l.Digest]})
	}
	entries = append(entries, fixtures.File("manifest.json", manifestJSON("config.json", []string{"example.com/jib:1"}, layers)))
	return entries, img
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestJibLowerCaseManifestKeys(t *testing.T) {
	entries, img := jibTar(t, func(cfg string, tags, layers []string) string {
		return `[{"config":` + jsonOf(cfg) + `,"repoTags":` + jsonOf(tags) + `,"layers":` + jsonOf(layers) + `}]`
	})
	r := verifyEntries(t, entries, nil)
	wantVerdict(t, r, verify.Verified, verify.CodeJSONKeyCase)
	var keys []string
	for _, f := range r.Findings {
		if f.Code == verify.CodeJSONKeyCase {
			if f.Severity != verify.SeverityWarning {
				t.Errorf("%s is %s, want a warning", f.Code, f.Severity)
			}
			keys = append(keys, f.Path+"="+f.Expected)
		}
	}
	want := "[manifest.json[0]/config=Config manifest.json[0]/repoTags=RepoTags manifest.json[0]/layers=Layers]"
	if fmt.Sprint(keys) != want {
		t.Errorf("key findings %v, want %s", keys, want)
	}
	if len(r.Images) != 1 || r.Images[0].ImageID != img.ConfigDigest || len(r.Images[0].Layers) != 3 {
		t.Fatalf("images %+v, want %s with 3 layers", r.Images, img.ConfigDigest)
	}
	for i, l := range r.Images[0].Layers {
		if l.DiffID != img.DiffIDs[i] || l.Digest != img.Layers[i].Digest {
			t.Errorf("layer %d: %s/%s, want %s/%s", i, l.Digest, l.DiffID, img.Layers[i].Digest, img.DiffIDs[i])
		}
	}
}

// Aliases stay an attack where two spellings meet, where only Unicode
// folding makes the match, or where a layer under the alias is wrong.
func TestJibAliasTwinsFail(t *testing.T) {
	tests := []struct {
		name string
		doc  func(cfg string, tags, layers []string) string
		code verify.Code
	}{
		{"two spellings of Layers", func(cfg string, tags, layers []string) string {
			return `[{"config":` + jsonOf(cfg) + `,"Layers":` + jsonOf(layers[:1]) + `,"layers":` + jsonOf(layers) + `}]`
		}, verify.CodeJSONKeyAlias},
		{"exact then alias", func(cfg string, tags, layers []string) string {
			return `[{"Config":` + jsonOf(cfg) + `,"config":` + jsonOf(cfg) + `,"Layers":` + jsonOf(layers) + `}]`
		}, verify.CodeJSONKeyAlias},
		{"unicode fold alias", func(cfg string, tags, layers []string) string {
			return `[{"Config":` + jsonOf(cfg) + `,"Layerſ":` + jsonOf(layers) + `}]`
		}, verify.CodeJSONKeyAlias},
		{"layers out of order under the alias", func(cfg string, tags, layers []string) string {
			return `[{"config":` + jsonOf(cfg) + `,"layers":` + jsonOf([]string{layers[1], layers[0], layers[2]}) + `}]`
		}, verify.CodeDiffIDMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, _ := jibTar(t, tt.doc)
			wantVerdict(t, verifyEntries(t, entries, nil), verify.Failed, tt.code)
		})
	}
}

// OCI documents keep the strict profile: a lower-case alias in an image
// config inside a docker-save archive still fails.
func TestCaseAliasInConfigStaysFailed(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default()).WithConfigBytes(0, func(c []byte) []byte {
		return bytes.Replace(c, []byte(`"rootfs"`), []byte(`"RootFS"`), 1)
	})
	a, err := b.Docker(fixtures.DockerOptions{Format: fixtures.Classic})
	if err != nil {
		t.Fatal(err)
	}
	wantVerdict(t, verifyEntries(t, a.Entries, nil), verify.Failed, verify.CodeJSONKeyAlias)
	wantVerdict(t, verify.Dir(context.Background(), b.LayoutFS(), "layout", nil).Report, verify.Failed, verify.CodeJSONKeyAlias)
}

var amd64 = &verify.Platform{OS: "linux", Architecture: "amd64"}

// singlePlatformExport is what ctr export --platform linux/amd64 and
// skopeo copy of one platform leave of a multi-platform image: the whole
// index, but only the amd64 image's blobs.
func singlePlatformExport(t *testing.T, spec fixtures.Spec) (*fixtures.Built, []fixtures.ExpectedImage) {
	t.Helper()
	b := fixtures.MustBuild(spec)
	kept := map[string]bool{}
	for _, img := range b.Expected.Images {
		if img.Kind == "image" && img.Platform.Architecture == "amd64" {
			kept[img.ConfigDigest] = true
			for _, l := range img.Layers {
				kept[l.Digest] = true // layers the platforms share stay
			}
		}
	}
	var dropped []fixtures.ExpectedImage
	for _, img := range b.Expected.Images {
		if img.Kind == "image" && img.Platform.Architecture == "amd64" {
			continue
		}
		dropped = append(dropped, img)
		b = b.WithoutBlob(img.ManifestDigest)
		for _, d := range append([]string{img.ConfigDigest}, layerDigests(img)...) {
			if !kept[d] {
				kept[d] = true
				b = b.WithoutBlob(d)
			}
		}
	}
	return b, dropped
}

func layerDigests(img fixtures.ExpectedImage) []string {
	var out []string
	for _, l := range img.Layers {
		out = append(out, l.Digest)
	}
	return out
}

func TestSinglePlatformExportWithPlatform(t *testing.T) {
	attested := fixtures.MultiPlatform()
	attested.BuildKitAttestations = true
	for name, spec := range map[string]fixtures.Spec{"multi-platform": fixtures.MultiPlatform(), "with attestations": attested} {
		t.Run(name, func(t *testing.T) {
			b, dropped := singlePlatformExport(t, spec)
			opts := &verify.Options{Platform: amd64}
			dotSlash := []fixtures.Entry{{Name: "./", Typeflag: '5'}}
			for _, e := range b.OCIArchiveEntries() {
				e.Name = "./" + e.Name
				dotSlash = append(dotSlash, e)
			}
			for src, r := range map[string]*verify.Report{
				"layout":           verify.Dir(context.Background(), b.LayoutFS(), "layout", opts).Report,
				"./-named archive": verifyEntries(t, dotSlash, opts),
			} {
				wantVerdict(t, r, verify.Verified, verify.CodeAbsentPlatforms)
				f := findingOf(t, r, verify.CodeAbsentPlatforms)
				if f.Severity != verify.SeverityInfo {
					t.Errorf("%s: %s is %s, want info", src, f.Code, f.Severity)
				}
				for _, d := range dropped {
					if !strings.Contains(f.Message, d.ManifestDigest) || !strings.Contains(f.Message, d.Platform.String()) {
						t.Errorf("%s: %q does not name %s %s", src, f.Message, d.Platform, d.ManifestDigest)
					}
				}
				if len(r.Images) != 1 || r.Images[0].Platform == nil || r.Images[0].Platform.Architecture != "amd64" ||
					*r.Images[0].ManifestDigest != b.Expected.Images[0].ManifestDigest {
					t.Fatalf("%s: images %+v, want the amd64 image", src, r.Images)
				}
			}
		})
	}
}

func TestSinglePlatformExportWithoutPlatform(t *testing.T) {
	b, dropped := singlePlatformExport(t, fixtures.MultiPlatform())
	r := verify.Dir(context.Background(), b.LayoutFS(), "layout", nil).Report
	wantVerdict(t, r, verify.Unverifiable, verify.CodeBlobMissing)
	missing := findingOf(t, r, verify.CodeBlobMissing)
	if !strings.Contains(missing.Message, "platform "+dropped[0].Platform.String()) {
		t.Errorf("missing finding %+v does not name the platform", missing)
	}
	note := findingOf(t, r, verify.CodeAbsentPlatforms)
	if !strings.Contains(note.Message, "--platform linux/amd64") || !strings.Contains(note.Message, dropped[0].ManifestDigest) {
		t.Errorf("note %q does not name the absent manifest and suggest --platform linux/amd64", note.Message)
	}
}

// The twins: a present manifest of another platform that fails its digest
// is tampering in the file; the selected platform's own absent blob is
// missing evidence.
func TestSinglePlatformExportTwins(t *testing.T) {
	b, _ := singlePlatformExport(t, fixtures.MultiPlatform())
	full := fixtures.MustBuild(fixtures.MultiPlatform())
	arm := full.Expected.Images[1]
	corrupt := append([]byte(nil), full.Blobs[arm.ManifestDigest]...)
	corrupt[len(corrupt)/2] ^= 1
	opts := &verify.Options{Platform: amd64}

	r := verify.Dir(context.Background(), b.WithBlob(arm.ManifestDigest, corrupt).LayoutFS(), "layout", opts).Report
	wantVerdict(t, r, verify.Failed, verify.CodeDigestMismatch)
	if f := findingOf(t, r, verify.CodeDigestMismatch); !strings.HasSuffix(f.Path, "manifests[1]") {
		t.Errorf("digest mismatch at %s, want the arm64 entry", f.Path)
	}

	// The arm64 manifest present, its layers not: checked by digest only.
	partial := b.WithBlob(arm.ManifestDigest, full.Blobs[arm.ManifestDigest])
	r = verify.Dir(context.Background(), partial.LayoutFS(), "layout", opts).Report
	wantVerdict(t, r, verify.Verified, verify.CodeUnselectedPlatform)
	if hasCode(r, verify.CodeAbsentPlatforms) {
		t.Errorf("a present manifest was reported absent: %v", r.Findings)
	}

	amdLayer := b.Expected.Images[0].Layers[0].Digest
	r = verify.Dir(context.Background(), b.WithoutBlob(amdLayer).LayoutFS(), "layout", opts).Report
	wantVerdict(t, r, verify.Unverifiable, verify.CodeBlobMissing)

	// The selected platform's own manifest absent (skopeo copy
	// --multi-arch index-only): missing evidence at its index entry, not an
	// absent other platform, and the index does name the platform.
	amdManifest := b.Expected.Images[0].ManifestDigest
	r = verify.Dir(context.Background(), b.WithoutBlob(amdManifest).LayoutFS(), "layout", opts).Report
	wantVerdict(t, r, verify.Unverifiable, verify.CodeBlobMissing)
	if f := findingOf(t, r, verify.CodeBlobMissing); !strings.Contains(f.Message, "linux/amd64") {
		t.Errorf("missing finding %q does not name the selected platform", f.Message)
	}
	if hasCode(r, verify.CodeNoMatchingPlatform) {
		t.Errorf("E_NO_MATCHING_PLATFORM for a platform the index names: %v", r.Findings)
	}
	if f := findingOf(t, r, verify.CodeAbsentPlatforms); strings.Contains(f.Message, amdManifest) {
		t.Errorf("the selected platform's manifest is listed among other platforms' absent ones: %q", f.Message)
	}
}

// orasLayout is an OCI layout holding one artifact as oras push writes it:
// each file a ...layer.v1.tar blob (ORAS's default media type) titled by
// an annotation, under the given config.
func orasLayout(t *testing.T, artifactType, configMT string, config []byte, files ...[]byte) (fixtures.MapFS, string) {
	t.Helper()
	blobs := fixtures.MapFS{"oci-layout": fixtures.OCILayoutBytes}
	put := func(b []byte) string {
		d := fixtures.Digest("sha256", b)
		blobs[fixtures.BlobPath(d)] = b
		return d
	}
	man := map[string]any{"schemaVersion": 2, "mediaType": verify.MediaTypeOCIManifest,
		"config": map[string]any{"mediaType": configMT, "digest": put(config), "size": len(config)}}
	if artifactType != "" {
		man["artifactType"] = artifactType
	}
	var layers []any
	for i, f := range files {
		layers = append(layers, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": put(f), "size": len(f),
			"annotations": map[string]string{"org.opencontainers.image.title": fmt.Sprintf("file%d.txt", i)}})
	}
	man["layers"] = layers
	mb, _ := json.Marshal(man)
	md := put(mb)
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": verify.MediaTypeOCIIndex,
		"manifests": []any{map[string]any{"mediaType": verify.MediaTypeOCIManifest, "digest": md, "size": len(mb)}}})
	blobs["index.json"] = idx
	return blobs, md
}

func TestORASArtifactsVerifyByDigest(t *testing.T) {
	files := [][]byte{[]byte("hello world\n"), []byte(`{"not":"a tar"}`)}
	for name, fsys := range map[string]fixtures.MapFS{
		"empty config with artifactType": first(orasLayout(t, "application/vnd.example.readme", verify.MediaTypeOCIEmpty, []byte("{}"), files...)),
		"custom config":                  first(orasLayout(t, "", "application/vnd.unknown.config.v1+json", []byte(`{"created":"x"}`), files...)),
	} {
		t.Run(name, func(t *testing.T) {
			r := verify.Dir(context.Background(), fsys, "layout", nil).Report
			wantVerdict(t, r, verify.Verified, "")
			if hasCode(r, verify.CodeLayerNotTar) {
				t.Fatalf("artifact blobs checked as tar layers: %v", r.Findings)
			}
			if len(r.Images) != 1 || r.Images[0].Kind != "artifact" || len(r.Images[0].Layers) != 2 {
				t.Fatalf("images %+v, want one artifact with two blobs", r.Images)
			}
			for i, l := range r.Images[0].Layers {
				if l.Digest != fixtures.Digest("sha256", files[i]) || l.Size != int64(len(files[i])) || l.DiffID != "" {
					t.Errorf("blob %d: %+v", i, l)
				}
			}
		})
	}
}

func first[A, B any](a A, _ B) A { return a }

// A manifest under the image config media type whose blobs are none of
// them layers (regctl's builder attachments: a {} config, one
// application/vnd.example.build-type+json blob) is an artifact: nothing
// unpacks it, so the config need not describe a rootfs. With one tar layer
// it is an image again, and its config must.
func TestImageConfigWithoutLayersIsArtifact(t *testing.T) {
	fsys, _ := orasLayout(t, "", verify.MediaTypeOCIConfig, []byte("{}"))
	blob := []byte(`{"type":"build"}`)
	d := fixtures.Digest("sha256", blob)
	fsys[fixtures.BlobPath(d)] = blob
	relabel := func(layerMT string) fixtures.MapFS {
		out := fixtures.MapFS{}
		for k, v := range fsys {
			out[k] = v
		}
		cfg := []byte("{}")
		man, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": verify.MediaTypeOCIManifest,
			"config": map[string]any{"mediaType": verify.MediaTypeOCIConfig, "digest": fixtures.Digest("sha256", cfg), "size": 2},
			"layers": []any{map[string]any{"mediaType": layerMT, "digest": d, "size": len(blob)}}})
		md := fixtures.Digest("sha256", man)
		out[fixtures.BlobPath(md)] = man
		out["index.json"], _ = json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": verify.MediaTypeOCIIndex,
			"manifests": []any{map[string]any{"mediaType": verify.MediaTypeOCIManifest, "digest": md, "size": len(man)}}})
		return out
	}
	r := verify.Dir(context.Background(), relabel("application/vnd.example.build-type+json"), "layout", nil).Report
	wantVerdict(t, r, verify.Verified, "")
	if len(r.Images) != 1 || r.Images[0].Kind != "artifact" {
		t.Fatalf("images %+v, want one artifact", r.Images)
	}
	r = verify.Dir(context.Background(), relabel("application/vnd.oci.image.layer.v1.tar"), "layout", nil).Report
	wantVerdict(t, r, verify.Failed, verify.CodeInvalidDocument)
}

// Artifact blobs are still content-addressed, and an image's layers are
// still tars.
func TestORASArtifactTwinsFail(t *testing.T) {
	fsys, _ := orasLayout(t, "application/vnd.example.readme", verify.MediaTypeOCIEmpty, []byte("{}"), []byte("hello world\n"))
	d := fixtures.Digest("sha256", []byte("hello world\n"))
	fsys[fixtures.BlobPath(d)] = []byte("hello w0rld\n")
	wantVerdict(t, verify.Dir(context.Background(), fsys, "layout", nil).Report, verify.Failed, verify.CodeDigestMismatch)

	// The same blob under an image config is a layer, and not a tar.
	spec := fixtures.Default()
	spec.Images[0].Layers = []fixtures.Layer{{Raw: []byte("hello world\n"), Compression: fixtures.None}}
	r := verify.Dir(context.Background(), fixtures.MustBuild(spec).LayoutFS(), "layout", nil).Report
	wantVerdict(t, r, verify.Failed, verify.CodeLayerNotTar)
}

// docker save with the containerd image store, of a multi-platform image
// pulled for one platform: index.json names the whole image index, only
// the amd64 blobs are present, and manifest.json names the amd64 image.
func TestContainerdStoreDockerSaveOnePlatform(t *testing.T) {
	b, _ := singlePlatformExport(t, fixtures.MultiPlatform())
	amd := b.Expected.Images[0]
	var layers []string
	for _, l := range amd.Layers {
		layers = append(layers, fixtures.BlobPath(l.Digest))
	}
	mj := `[{"Config":` + jsonOf(fixtures.BlobPath(amd.ConfigDigest)) + `,"RepoTags":["example.com/app:1"],"Layers":` + jsonOf(layers) + `}]`
	entries := append(b.OCIArchiveEntries(), fixtures.File("manifest.json", mj))

	r := verifyEntries(t, entries, &verify.Options{Platform: amd64})
	wantVerdict(t, r, verify.Verified, verify.CodeAbsentPlatforms)
	if len(r.Images) != 1 || r.Images[0].ManifestDigest == nil || *r.Images[0].ManifestDigest != amd.ManifestDigest {
		t.Fatalf("images %+v, want the amd64 manifest %s", r.Images, amd.ManifestDigest)
	}
	r = verifyEntries(t, entries, nil)
	wantVerdict(t, r, verify.Unverifiable, verify.CodeBlobMissing)
	if hasCode(r, verify.CodeArchiveViewMismatch) {
		t.Fatalf("views reported as disagreeing: %v", r.Findings)
	}
}
