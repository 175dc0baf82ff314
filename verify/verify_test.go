package verify_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// source is one way of handing a built image to the verifier.
type source struct {
	name string
	run  func(t *testing.T, b *fixtures.Built) *verify.Result
	// docker sources have no manifest digests in the classic format.
	docker  fixtures.DockerFormat
	isDock  bool
	format  verify.Format
	gzipped bool
}

func archiveBytes(t *testing.T, write func(*bytes.Buffer) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sources() []source {
	ctx := context.Background()
	oci := func(gz bool) func(t *testing.T, b *fixtures.Built) []byte {
		return func(t *testing.T, b *fixtures.Built) []byte {
			return archiveBytes(t, func(w *bytes.Buffer) error { return b.WriteOCIArchive(w, gz) })
		}
	}
	dock := func(f fixtures.DockerFormat, gz bool) func(t *testing.T, b *fixtures.Built) []byte {
		return func(t *testing.T, b *fixtures.Built) []byte {
			return archiveBytes(t, func(w *bytes.Buffer) error { return b.WriteDockerArchive(w, f, gz) })
		}
	}
	viaArchive := func(mk func(*testing.T, *fixtures.Built) []byte) func(*testing.T, *fixtures.Built) *verify.Result {
		return func(t *testing.T, b *fixtures.Built) *verify.Result {
			data := mk(t, b)
			return verify.Archive(ctx, bytes.NewReader(data), int64(len(data)), "image.tar", nil)
		}
	}
	viaStream := func(mk func(*testing.T, *fixtures.Built) []byte) func(*testing.T, *fixtures.Built) *verify.Result {
		return func(t *testing.T, b *fixtures.Built) *verify.Result {
			return verify.Stream(ctx, bytes.NewReader(mk(t, b)), "image.tar", nil)
		}
	}
	return []source{
		{name: "layout", format: verify.FormatOCILayout, run: func(t *testing.T, b *fixtures.Built) *verify.Result {
			return verify.Dir(ctx, b.LayoutFS(), "layout", nil)
		}},
		{name: "oci-archive", format: verify.FormatOCIArchive, run: viaArchive(oci(false))},
		{name: "oci-archive.gz", format: verify.FormatOCIArchive, gzipped: true, run: viaArchive(oci(true))},
		{name: "oci-archive-stream", format: verify.FormatOCIArchive, run: viaStream(oci(false))},
		{name: "docker-classic", format: verify.FormatDockerArchive, isDock: true, docker: fixtures.Classic, run: viaArchive(dock(fixtures.Classic, false))},
		{name: "docker-classic.gz", format: verify.FormatDockerArchive, isDock: true, docker: fixtures.Classic, gzipped: true, run: viaArchive(dock(fixtures.Classic, true))},
		{name: "docker-v25", format: verify.FormatDockerArchive, isDock: true, docker: fixtures.V25, run: viaArchive(dock(fixtures.V25, false))},
		{name: "docker-v25.gz", format: verify.FormatDockerArchive, isDock: true, docker: fixtures.V25, gzipped: true, run: viaArchive(dock(fixtures.V25, true))},
	}
}

func specs() map[string]fixtures.Spec {
	one := func(c fixtures.Compression) fixtures.Spec {
		return fixtures.Spec{Images: []fixtures.ImageSpec{{
			Platform: fixtures.Platform{OS: "linux", Architecture: "amd64"},
			Layers:   fixtures.DefaultLayers("amd64", c)}}}
	}
	docker := fixtures.Default()
	docker.Images[0].DockerMediaTypes = true
	noMT := fixtures.Default()
	noMT.Images[0].OmitManifestMediaType = true
	sha512 := fixtures.Default()
	sha512.Images[0].DigestAlgorithm = "sha512"
	trailing := fixtures.Default()
	trailing.Images[0].Layers[0].Trailing = []byte("data after the tar end marker")
	att := fixtures.MultiPlatform()
	att.BuildKitAttestations = true
	return map[string]fixtures.Spec{
		"gzip":           one(fixtures.Gzip),
		"zstd":           one(fixtures.Zstd),
		"uncompressed":   one(fixtures.None),
		"multi-member":   one(fixtures.GzipMultiMember),
		"index":          fixtures.MultiPlatform(),
		"docker-types":   docker,
		"no-mediatype":   noMT,
		"sha512":         sha512,
		"layer-trailing": trailing,
		"attestations":   att,
	}
}

// TestRecomputesEveryIdentity checks every recomputed value against the
// generator's own computation, for every spec in every source format.
func TestRecomputesEveryIdentity(t *testing.T) {
	for sname, spec := range specs() {
		b, err := fixtures.Build(spec)
		if err != nil {
			t.Fatalf("%s: %v", sname, err)
		}
		for _, src := range sources() {
			if src.isDock && (spec.Images[0].DigestAlgorithm == "sha512") {
				continue // docker save is sha256 only
			}
			t.Run(sname+"/"+src.name, func(t *testing.T) {
				res := src.run(t, b)
				r := res.Report
				if r.Verdict != verify.Verified {
					t.Fatalf("verdict %s: %v", r.Verdict, r.Err())
				}
				if r.Source.Format != src.format {
					t.Errorf("format %s, want %s", r.Source.Format, src.format)
				}
				if r.Source.Compressed != src.gzipped {
					t.Errorf("compressed %v, want %v", r.Source.Compressed, src.gzipped)
				}
				if src.isDock {
					checkDockerImages(t, b, r, src.docker)
					return
				}
				if want := b.Expected.IndexDigest; want != "" {
					if r.IndexDigest == nil || *r.IndexDigest != want {
						t.Errorf("index digest %v, want %s", r.IndexDigest, want)
					}
				}
				if len(r.Images) != len(b.Expected.Images) {
					t.Fatalf("%d images, want %d", len(r.Images), len(b.Expected.Images))
				}
				for _, want := range b.Expected.Images {
					got := findImage(t, r, want.ManifestDigest)
					checkImage(t, got, want, false)
				}
			})
		}
	}
}

func findImage(t *testing.T, r *verify.Report, manifestDigest string) verify.Image {
	t.Helper()
	for _, img := range r.Images {
		if img.ManifestDigest != nil && *img.ManifestDigest == manifestDigest {
			return img
		}
	}
	t.Fatalf("no image with manifest digest %s", manifestDigest)
	return verify.Image{}
}

func checkImage(t *testing.T, got verify.Image, want fixtures.ExpectedImage, docker bool) {
	t.Helper()
	if got.ImageID != want.ConfigDigest {
		t.Errorf("image ID %s, want %s", got.ImageID, want.ConfigDigest)
	}
	if got.Kind != want.Kind {
		t.Errorf("kind %s, want %s", got.Kind, want.Kind)
	}
	if want.Kind == "image" {
		if got.Platform == nil || got.Platform.String() != want.Platform.String() {
			t.Errorf("platform %v, want %s", got.Platform, want.Platform)
		}
		if strings.Join(got.ChainIDs, ",") != strings.Join(want.ChainIDs, ",") {
			t.Errorf("chain IDs %v, want %v", got.ChainIDs, want.ChainIDs)
		}
	}
	if want.Kind == "attestation" && got.AttestsTo != want.AttestsTo {
		t.Errorf("attests to %s, want %s", got.AttestsTo, want.AttestsTo)
	}
	if len(got.Layers) != len(want.Layers) {
		t.Fatalf("%d layers, want %d", len(got.Layers), len(want.Layers))
	}
	for i, wl := range want.Layers {
		gl := got.Layers[i]
		if docker {
			// docker save stores layers uncompressed: digest = diff_id.
			if gl.Digest != wl.DiffID || gl.DiffID != wl.DiffID || gl.Compression != "none" || gl.Size != wl.UncompressedSize {
				t.Errorf("layer %d: got %+v, want uncompressed %s (%d bytes)", i, gl, wl.DiffID, wl.UncompressedSize)
			}
			continue
		}
		if gl.Digest != wl.Digest || gl.Size != wl.Size || gl.MediaType != wl.MediaType {
			t.Errorf("layer %d: got %s/%d/%s, want %s/%d/%s", i, gl.Digest, gl.Size, gl.MediaType, wl.Digest, wl.Size, wl.MediaType)
		}
		if want.Kind == "image" && (gl.DiffID != wl.DiffID || gl.Compression != wl.Compression || gl.UncompressedSize != wl.UncompressedSize) {
			t.Errorf("layer %d: diff_id %s (%s, %d), want %s (%s, %d)", i, gl.DiffID, gl.Compression, gl.UncompressedSize, wl.DiffID, wl.Compression, wl.UncompressedSize)
		}
	}
}

func checkDockerImages(t *testing.T, b *fixtures.Built, r *verify.Report, f fixtures.DockerFormat) {
	t.Helper()
	var images []verify.Image
	for _, img := range r.Images {
		if img.Kind == "image" {
			images = append(images, img)
		}
	}
	var wants []fixtures.ExpectedImage
	for _, w := range b.Expected.Images {
		if w.Kind == "image" {
			wants = append(wants, w)
		}
	}
	if len(images) != len(wants) {
		t.Fatalf("%d images, want %d", len(images), len(wants))
	}
	for _, want := range wants {
		var got *verify.Image
		for i := range images {
			if images[i].ImageID == want.ConfigDigest {
				got = &images[i]
			}
		}
		if got == nil {
			t.Fatalf("no image with ID %s", want.ConfigDigest)
		}
		if f == fixtures.Classic {
			if got.ManifestDigest != nil {
				t.Errorf("classic docker save: manifest digest %s should be null", *got.ManifestDigest)
			}
			if !r.Has(verify.CodeManifestDigestUnrecoverable) {
				t.Error("classic docker save must say the manifest digest is unrecoverable")
			}
		} else if got.ManifestDigest == nil {
			t.Error("docker 25+ save: manifest digest missing")
		}
		checkImage(t, *got, want, true)
	}
	if f == fixtures.V25 && len(r.Source.Views) != 2 {
		t.Errorf("views %v, want both", r.Source.Views)
	}
}

// TestTamperedTwins breaks exactly one link and expects the finding on the
// right node.
func TestTamperedTwins(t *testing.T) {
	idx := fixtures.MustBuild(fixtures.MultiPlatform())
	img0 := idx.Expected.Images[0]
	lay := img0.Layers[1]
	tests := []struct {
		name    string
		built   *fixtures.Built
		verdict verify.Verdict
		code    verify.Code
		path    string
	}{
		{"flipped layer byte", idx.FlipByte(lay.Digest, 20), verify.Failed, verify.CodeDigestMismatch, "/manifests[0]/layers[1]"},
		{"flipped config byte", idx.FlipByte(img0.ConfigDigest, 5), verify.Failed, verify.CodeDigestMismatch, "/manifests[0]/config"},
		{"flipped manifest byte", idx.FlipByte(img0.ManifestDigest, 5), verify.Failed, verify.CodeDigestMismatch, "/manifests[0]"},
		{"edited diff_id", idx.WithDiffID(0, 1, "sha256:"+strings.Repeat("ab", 32)), verify.Failed, verify.CodeDiffIDMismatch, "rootfs/diff_ids[1]"},
		{"short diff_ids", idx.WithDiffIDs(0, []string{img0.DiffIDs[0]}), verify.Failed, verify.CodeLayerCountMismatch, "rootfs/diff_ids"},
		{"wrong size", idx.WithDescriptorSize(lay.Digest, lay.Size+1), verify.Failed, verify.CodeSizeMismatch, "/manifests[0]/layers[1]"},
		{"wrong platform", idx.WithIndexPlatform(1, fixtures.Platform{OS: "linux", Architecture: "s390x"}), verify.Failed, verify.CodePlatformMismatch, "/manifests[1]/platform"},
		{"compression vs media type", idx.WithLayerMediaType(0, 0, "application/vnd.oci.image.layer.v1.tar+zstd"), verify.Failed, verify.CodeMediaTypeMismatch, "/manifests[0]/layers[0]"},
		{"missing layer", idx.WithoutBlob(lay.Digest), verify.Unverifiable, verify.CodeBlobMissing, "/manifests[0]/layers[1]"},
	}
	for _, tt := range tests {
		for _, src := range sources()[:4] {
			t.Run(tt.name+"/"+src.name, func(t *testing.T) {
				r := src.run(t, tt.built).Report
				if r.Verdict != tt.verdict {
					t.Fatalf("verdict %s, want %s; findings: %v", r.Verdict, tt.verdict, r.Err())
				}
				for _, f := range r.Findings {
					if f.Code == tt.code && strings.Contains(f.Path, tt.path) {
						return
					}
				}
				t.Fatalf("no %s finding at *%s*; findings: %+v", tt.code, tt.path, r.Findings)
			})
		}
	}
}

func TestDockerTwins(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	tests := []struct {
		name string
		opts fixtures.DockerOptions
		code verify.Code
	}{
		{"view mismatch", fixtures.DockerOptions{Format: fixtures.V25, ViewMismatch: true}, verify.CodeArchiveViewMismatch},
		{"renamed config", fixtures.DockerOptions{Format: fixtures.Classic, RenameConfig: true}, verify.CodeConfigNameMismatch},
	}
	for _, tt := range tests {
		for _, gz := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gz=%v", tt.name, gz), func(t *testing.T) {
				a, err := b.Docker(tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := a.WriteTo(&buf, gz); err != nil {
					t.Fatal(err)
				}
				r := verify.Archive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "docker.tar", nil).Report
				if r.Verdict != verify.Failed || !r.Has(tt.code) {
					t.Fatalf("verdict %s, want FAILED with %s; findings %+v", r.Verdict, tt.code, r.Findings)
				}
			})
		}
	}
}

func TestPlatformSelection(t *testing.T) {
	b := fixtures.MustBuild(fixtures.MultiPlatform())
	for _, tt := range []struct {
		want    verify.Platform
		verdict verify.Verdict
		id      string
	}{
		{verify.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, verify.Verified, b.Expected.Images[1].ConfigDigest},
		{verify.Platform{OS: "linux", Architecture: "arm64"}, verify.Verified, b.Expected.Images[1].ConfigDigest},
		{verify.Platform{OS: "linux", Architecture: "amd64"}, verify.Verified, b.Expected.Images[0].ConfigDigest},
		{verify.Platform{OS: "windows", Architecture: "amd64"}, verify.Unverifiable, ""},
	} {
		t.Run(tt.want.String(), func(t *testing.T) {
			p := tt.want
			r := verify.Dir(context.Background(), b.LayoutFS(), "layout", &verify.Options{Platform: &p}).Report
			if r.Verdict != tt.verdict {
				t.Fatalf("verdict %s, want %s: %v", r.Verdict, tt.verdict, r.Err())
			}
			if tt.id != "" && (len(r.Images) != 1 || r.Images[0].ImageID != tt.id) {
				t.Fatalf("images %+v, want only %s", r.Images, tt.id)
			}
			if tt.id != "" && !r.Has(verify.CodeUnselectedPlatform) {
				t.Fatal("the other platform's manifest should be reported as checked by digest only")
			}
		})
	}
}

func TestNothingIsNeverVerified(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	empty := b.WithIndexJSON(func(idx map[string]any) { idx["manifests"] = []any{} })
	r := verify.Dir(context.Background(), empty.LayoutFS(), "layout", nil).Report
	if r.Verdict == verify.Verified {
		t.Fatal("an empty layout was VERIFIED")
	}
	if !r.Has(verify.CodeNothingVerified) {
		t.Fatalf("want %s, got %+v", verify.CodeNothingVerified, r.Findings)
	}
}

// A docker save archive's layers have no declared size, yet their progress
// events carry the size of their archive entry, which the last event
// reaches.
func TestDockerLayerProgressHasTotals(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	for _, f := range []fixtures.DockerFormat{fixtures.Classic, fixtures.V25} {
		var buf bytes.Buffer
		if err := b.WriteDockerArchive(&buf, f, false); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		last := map[string]verify.Progress{}
		opts := &verify.Options{Progress: func(p verify.Progress) {
			mu.Lock()
			defer mu.Unlock()
			last[p.Name] = p
		}}
		r := verify.Archive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "docker.tar", opts).Report
		if r.Verdict != verify.Verified {
			t.Fatalf("format %d: verdict %s: %v", f, r.Verdict, r.Err())
		}
		layers := 0
		for name, p := range last {
			if !strings.HasSuffix(name, "layer.tar") && !strings.HasPrefix(name, "blobs/") {
				continue
			}
			layers++
			if p.Total <= 0 || p.Done != p.Total {
				t.Errorf("format %d: %s: last event %d of %d", f, name, p.Done, p.Total)
			}
		}
		if layers < len(b.Expected.Images[0].Layers) {
			t.Fatalf("format %d: progress for %d blobs, want at least %d layers", f, layers, len(b.Expected.Images[0].Layers))
		}
	}
}
