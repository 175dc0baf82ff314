package verify_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// hostileCase is an input that must never verify, with the verdict and the
// finding code it must produce.
type hostileCase struct {
	name    string
	run     func(t *testing.T) *verify.Report
	verdict verify.Verdict
	code    verify.Code
}

func layout(b *fixtures.Built) func(t *testing.T) *verify.Report {
	return func(t *testing.T) *verify.Report {
		return verify.Dir(context.Background(), b.LayoutFS(), "layout", nil).Report
	}
}

func archive(entries []fixtures.Entry, opts fixtures.TarOptions) func(t *testing.T) *verify.Report {
	return func(t *testing.T) *verify.Report {
		var buf bytes.Buffer
		if err := fixtures.WriteArchive(&buf, entries, false, opts); err != nil {
			t.Fatal(err)
		}
		return verify.Archive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "hostile.tar", nil).Report
	}
}

// rawManifest replaces image 0's manifest bytes and re-addresses it.
func rawManifest(b *fixtures.Built, edit func(string) string) *fixtures.Built {
	return b.WithManifestBytes(0, func(m []byte) []byte { return []byte(edit(string(m))) })
}

func TestHostileInputs(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	img := b.Expected.Images[0]
	layer := img.Layers[0]
	entries := b.OCIArchiveEntries()
	withEntry := func(extra ...fixtures.Entry) []fixtures.Entry {
		return append(append([]fixtures.Entry(nil), entries...), extra...)
	}
	indexJSON := entries[0]
	for _, e := range entries {
		if e.Name == "index.json" {
			indexJSON = e
		}
	}
	var gzTrailing bytes.Buffer
	zw := gzip.NewWriter(&gzTrailing)
	zw.Write([]byte("x"))
	zw.Close()
	gzTrailing.WriteString("garbage!")
	cases := []hostileCase{
		{"duplicate index.json", archive(withEntry(fixtures.Entry{Name: "./index.json", Body: indexJSON.Body}), fixtures.TarOptions{}), verify.Failed, verify.CodeArchiveDuplicateEntry},
		{"absolute entry", archive(withEntry(fixtures.Entry{Name: "/etc/passwd", Body: []byte("x")}), fixtures.TarOptions{}), verify.Failed, verify.CodeArchiveUnsafePath},
		{"dotdot entry", archive(withEntry(fixtures.Entry{Name: "blobs/../../x", Body: []byte("x")}), fixtures.TarOptions{}), verify.Failed, verify.CodeArchiveUnsafePath},
		{"truncated archive", archive(withEntry(fixtures.Entry{Name: "big", Body: []byte("x"), Size: 1 << 20}), fixtures.TarOptions{NoEOF: true}), verify.Failed, verify.CodeArchiveTruncated},
		{"symlink leaving the archive", archive(replaceEntry(entries, "index.json", fixtures.Entry{Name: "index.json", Typeflag: '2', Linkname: "../../etc/passwd"}), fixtures.TarOptions{}), verify.Failed, verify.CodeArchiveLink},
		{"symlink cycle", archive(replaceEntry(withEntry(fixtures.Entry{Name: "b", Typeflag: '2', Linkname: "index.json"}), "index.json", fixtures.Entry{Name: "index.json", Typeflag: '2', Linkname: "b"}), fixtures.TarOptions{}), verify.Failed, verify.CodeArchiveLink},
		{"not an image", archive([]fixtures.Entry{{Name: "hello.txt", Body: []byte("hi")}}, fixtures.TarOptions{}), verify.Failed, verify.CodeUnknownFormat},
		{"ambiguous manifest and index", layout(rawManifest(b, func(m string) string {
			return strings.Replace(m, `"layers":`, `"manifests":[],"layers":`, 1)
		})), verify.Failed, verify.CodeAmbiguousDocument},
		{"duplicate layers member", layout(rawManifest(b, func(m string) string {
			return strings.Replace(m, `"layers":`, `"layers":[],"layers":`, 1)
		})), verify.Failed, verify.CodeJSONDuplicateKey},
		{"fold alias of layers", layout(rawManifest(b, func(m string) string {
			return strings.Replace(m, `"layers":`, `"layerſ":[],"layers":`, 1)
		})), verify.Failed, verify.CodeJSONKeyAlias},
		{"invalid utf-8", layout(rawManifest(b, func(m string) string {
			return strings.Replace(m, `{`, "{\"annotations\":{\"a\":\"\xff\"},", 1)
		})), verify.Failed, verify.CodeJSONInvalidUTF8},
		{"trailing document", layout(rawManifest(b, func(m string) string { return m + " {}" })), verify.Failed, verify.CodeJSONSyntax},
		{"float size", layout(rawManifest(b, func(m string) string {
			return strings.Replace(m, fmt.Sprintf(`"size":%d`, layer.Size), fmt.Sprintf(`"size":%d.0`, layer.Size), 1)
		})), verify.Failed, verify.CodeJSONNumber},
		{"schema 1", layout(b.WithManifest(0, func(m map[string]any) { m["fsLayers"] = []any{} })), verify.Failed, verify.CodeUnsupportedMediaType},
		{"path traversal digest", layout(b.WithIndexJSON(func(idx map[string]any) {
			idx["manifests"].([]any)[0].(map[string]any)["digest"] = "sha256:../../../../etc/passwd"
		})), verify.Failed, verify.CodeInvalidDigest},
		{"uppercase digest", layout(b.WithIndexJSON(func(idx map[string]any) {
			d := idx["manifests"].([]any)[0].(map[string]any)
			d["digest"] = strings.ToUpper(d["digest"].(string))
		})), verify.Failed, verify.CodeInvalidDigest},
		{"unsupported algorithm", layout(b.WithIndexJSON(func(idx map[string]any) {
			idx["manifests"].([]any)[0].(map[string]any)["digest"] = "md5:d41d8cd98f00b204e9800998ecf8427e"
		})), verify.Unverifiable, verify.CodeUnsupportedAlgorithm},
		{"size 2^62", layout(b.WithDescriptorSize(layer.Digest, 1<<62)), verify.Failed, verify.CodeJSONNumber},
		{"size 2^53-1", layout(b.WithDescriptorSize(layer.Digest, 1<<53-1)), verify.Failed, verify.CodeSizeMismatch},
		{"negative size", layout(b.WithDescriptorSize(layer.Digest, -1)), verify.Failed, verify.CodeInvalidDescriptor},
		{"huge manifest size", layout(b.WithDescriptorSize(img.ManifestDigest, 200<<20)), verify.Unverifiable, verify.CodeLimitExceeded},
		{"data field mismatch", layout(b.WithIndexJSON(func(idx map[string]any) {
			idx["manifests"].([]any)[0].(map[string]any)["data"] = "e30="
		})), verify.Failed, verify.CodeDataMismatch},
		{"gzip trailing garbage", layout(b.WithBlob(layer.Digest, gzTrailing.Bytes()).WithDescriptorSize(layer.Digest, int64(gzTrailing.Len()))), verify.Failed, verify.CodeDigestMismatch},
		{"index.json is a manifest", layout(b.Mutate(func(f map[string][]byte) { f["index.json"] = b.Blobs[img.ManifestDigest] })), verify.Failed, verify.CodeLayoutInvalid},
		{"missing oci-layout", layout(b.Mutate(func(f map[string][]byte) { delete(f, "oci-layout") })), verify.Failed, verify.CodeLayoutInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.run(t)
			if r.Verdict == verify.Verified {
				t.Fatal("hostile input was VERIFIED")
			}
			if r.Verdict != tc.verdict || !r.Has(tc.code) {
				t.Fatalf("verdict %s, want %s with %s; findings: %+v", r.Verdict, tc.verdict, tc.code, r.Findings)
			}
		})
	}
}

func replaceEntry(entries []fixtures.Entry, name string, with fixtures.Entry) []fixtures.Entry {
	out := append([]fixtures.Entry(nil), entries...)
	for i := range out {
		if out[i].Name == name {
			out[i] = with
		}
	}
	return out
}

// A gzip bomb stops at the ratio limit, with bounded work.
func TestGzipBombStopsAtTheRatioLimit(t *testing.T) {
	// A correctly addressed layer of 64 MiB of zeros: only a limit stops it.
	spec := fixtures.Default()
	spec.Images[0].Layers = []fixtures.Layer{{Compression: fixtures.Gzip, Raw: make([]byte, 64<<20)}}
	b := fixtures.MustBuild(spec)
	lim := limits.Default()
	lim.RatioFloor = 1 << 20
	lim.CompressionRatio = 100
	r := verify.Dir(context.Background(), b.LayoutFS(), "bomb", &verify.Options{Limits: &lim}).Report
	if r.Verdict != verify.Unverifiable || !r.Has(verify.CodeLimitExceeded) {
		t.Fatalf("verdict %s, want UNVERIFIABLE with a limit finding: %+v", r.Verdict, r.Findings)
	}
	// With default limits the same layer verifies: 64 MiB is not a bomb.
	if r := verify.Dir(context.Background(), b.LayoutFS(), "zeros", nil).Report; r.Verdict != verify.Verified {
		t.Fatalf("default limits: %s: %v", r.Verdict, r.Err())
	}
}

// A diamond index graph (each level lists the level below twice) is
// verified once per digest, not 2^depth times.
func TestDiamondIndexVisitsEachDigestOnce(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	img := b.Expected.Images[0]
	files := b.LayoutFiles()
	child := map[string]any{"mediaType": img.ManifestMediaType, "digest": img.ManifestDigest, "size": img.ManifestSize}
	for level := 0; level < 7; level++ {
		idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
			"manifests": []any{child, child}})
		d := fixtures.Digest("sha256", idx)
		files[fixtures.BlobPath(d)] = idx
		child = map[string]any{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d, "size": len(idx)}
	}
	top, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{child}})
	files["index.json"] = top
	r := verify.Dir(context.Background(), fixtures.MapFS(files), "diamond", nil).Report
	if r.Verdict != verify.Verified {
		t.Fatalf("verdict %s: %v", r.Verdict, r.Err())
	}
	if len(r.Images) != 1 || len(r.Indexes) != 7 {
		t.Fatalf("%d images and %d indexes, want 1 and 7", len(r.Images), len(r.Indexes))
	}
	// Deeper than the index-depth limit is unverifiable, not a crash.
	lim := limits.Default()
	lim.IndexDepth = 3
	r = verify.Dir(context.Background(), fixtures.MapFS(files), "diamond", &verify.Options{Limits: &lim}).Report
	if r.Verdict != verify.Unverifiable || !r.Has(verify.CodeLimitExceeded) {
		t.Fatalf("verdict %s, want UNVERIFIABLE with a limit: %+v", r.Verdict, r.Findings)
	}
}

// Two descriptors of one document must agree on its size and kind, even
// though the document is read once.
func TestRepeatedDescriptorsMustAgree(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	img := b.Expected.Images[0]
	dup := func(edit func(d map[string]any)) *fixtures.Built {
		return b.WithIndexJSON(func(idx map[string]any) {
			ms := idx["manifests"].([]any)
			c := map[string]any{}
			for k, v := range ms[0].(map[string]any) {
				c[k] = v
			}
			edit(c)
			idx["manifests"] = append(ms, c)
		})
	}
	for name, tc := range map[string]struct {
		b    *fixtures.Built
		code verify.Code
	}{
		"size":      {dup(func(d map[string]any) { d["size"] = img.ManifestSize + 1 }), verify.CodeSizeMismatch},
		"mediaType": {dup(func(d map[string]any) { d["mediaType"] = "application/vnd.oci.image.index.v1+json" }), verify.CodeMediaTypeMismatch},
	} {
		t.Run(name, func(t *testing.T) {
			r := verify.Dir(context.Background(), tc.b.LayoutFS(), "layout", nil).Report
			if r.Verdict != verify.Failed || !r.Has(tc.code) {
				t.Fatalf("verdict %s, want FAILED with %s: %+v", r.Verdict, tc.code, r.Findings)
			}
		})
	}
	same := dup(func(map[string]any) {})
	if r := verify.Dir(context.Background(), same.LayoutFS(), "layout", nil).Report; r.Verdict != verify.Verified {
		t.Fatalf("two identical descriptors: %s: %v", r.Verdict, r.Err())
	}
}

// Names written by tar -C dir . ("./", "./index.json") are the same files.
func TestDotSlashArchiveVerifies(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	entries := []fixtures.Entry{{Name: "./", Typeflag: '5'}}
	for _, e := range b.OCIArchiveEntries() {
		e.Name = "./" + e.Name
		entries = append(entries, e)
	}
	if r := archive(entries, fixtures.TarOptions{})(t); r.Verdict != verify.Verified {
		t.Fatalf("verdict %s: %v", r.Verdict, r.Err())
	}
}

// A zstd stream may open with a skippable frame; the layer still verifies
// as zstd, with the frame covered by the layer digest but not the diff_id.
func TestZstdLeadingSkippableFrame(t *testing.T) {
	spec := fixtures.Default()
	for i := range spec.Images[0].Layers {
		spec.Images[0].Layers[i].Compression = fixtures.Zstd
	}
	spec.Images[0].Layers[0].EditBlob = func(blob []byte) []byte {
		frame := []byte{0x5e, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 'm', 'e', 't', 'a'}
		return append(frame, blob...)
	}
	b := fixtures.MustBuild(spec)
	r := verify.Dir(context.Background(), b.LayoutFS(), "layout", nil).Report
	if r.Verdict != verify.Verified {
		t.Fatalf("verdict %s: %v", r.Verdict, r.Err())
	}
	if got := r.Images[0].Layers[0].Compression; got != "zstd" {
		t.Fatalf("compression %s, want zstd", got)
	}
}

// The tar-header-bytes limit bounds PAX records, in plain and gzipped
// archives alike.
func TestTarHeaderLimit(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	long := fixtures.Entry{Name: strings.Repeat("d/", 3000) + "x", Body: []byte("x")} // a PAX path record
	var plain, gzipped bytes.Buffer
	entries := append(b.OCIArchiveEntries(), long)
	if err := fixtures.WriteArchive(&plain, entries, false, fixtures.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := fixtures.WriteArchive(&gzipped, entries, true, fixtures.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	lim := limits.Default()
	lim.TarHeader = 4096
	for name, data := range map[string][]byte{"tar": plain.Bytes(), "tar.gz": gzipped.Bytes()} {
		r := verify.Archive(context.Background(), bytes.NewReader(data), int64(len(data)), name, &verify.Options{Limits: &lim}).Report
		if r.Verdict != verify.Unverifiable || !r.Has(verify.CodeLimitExceeded) {
			t.Errorf("%s: verdict %s, want UNVERIFIABLE with a limit: %+v", name, r.Verdict, r.Findings)
		}
		if r := verify.Archive(context.Background(), bytes.NewReader(data), int64(len(data)), name, nil).Report; r.Verdict != verify.Verified {
			t.Errorf("%s with default limits: %s: %v", name, r.Verdict, r.Err())
		}
	}
}
