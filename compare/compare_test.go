package compare

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

func layoutReport(t *testing.T, b *fixtures.Built) *verify.Report {
	t.Helper()
	return verify.Dir(context.Background(), b.LayoutFS(), "layout", nil).Report
}

func dockerReport(t *testing.T, b *fixtures.Built, f fixtures.DockerFormat) *verify.Report {
	t.Helper()
	var buf bytes.Buffer
	if err := b.WriteDockerArchive(&buf, f, false); err != nil {
		t.Fatal(err)
	}
	return verify.Archive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "docker.tar", nil).Report
}

func single(c fixtures.Compression, docker bool) fixtures.Spec {
	return fixtures.Spec{Images: []fixtures.ImageSpec{{
		Platform:         fixtures.Platform{OS: "linux", Architecture: "amd64"},
		Layers:           fixtures.DefaultLayers("amd64", c),
		DockerMediaTypes: docker,
	}}}
}

func TestCompare(t *testing.T) {
	base := fixtures.MustBuild(single(fixtures.Gzip, false))
	multi := fixtures.MustBuild(fixtures.MultiPlatform())
	relabeled := base.WithConfig(0, func(cfg map[string]any) {
		cfg["config"] = map[string]any{"Labels": map[string]any{"x": "y"}}
	})
	otherLayers := fixtures.MustBuild(fixtures.Spec{Images: []fixtures.ImageSpec{{
		Platform: fixtures.Platform{OS: "linux", Architecture: "amd64"},
		Layers:   fixtures.DefaultLayers("arm64", fixtures.Gzip),
	}}})
	armOnly := fixtures.MustBuild(fixtures.Spec{Images: []fixtures.ImageSpec{fixtures.MultiPlatform().Images[1]}})
	tampered := base.FlipByte(base.Expected.Images[0].Layers[0].Digest, 20)

	cases := []struct {
		name                              string
		a, b                              *verify.Report
		same, sameID, sameContent, sameMD bool
		verified                          bool
		reasons                           []string
	}{
		{"itself", layoutReport(t, base), layoutReport(t, base), true, true, true, true, true,
			[]string{"same image: same manifest digest, image ID and content"}},
		{"recompressed to zstd", layoutReport(t, base), layoutReport(t, fixtures.MustBuild(single(fixtures.Zstd, false))), true, true, true, false, true,
			[]string{"same image ID and content, different manifest digest", "layers recompressed (gzip → zstd) for layer(s) 0, 1, 2"}},
		{"manifest converted to Docker media types", layoutReport(t, base), layoutReport(t, fixtures.MustBuild(single(fixtures.Gzip, true))), true, true, true, false, true,
			[]string{"the manifest media type was converted: A is application/vnd.oci.image.manifest.v1+json, B is application/vnd.docker.distribution.manifest.v2+json"}},
		{"classic docker save", layoutReport(t, base), dockerReport(t, base, fixtures.Classic), true, true, true, false, true,
			[]string{"B keeps no registry manifest (classic docker save)", "layers recompressed (gzip → uncompressed)"}},
		{"docker 25 save", layoutReport(t, base), dockerReport(t, base, fixtures.V25), true, true, true, false, true,
			[]string{"the manifest digests differ", "layers recompressed (gzip → uncompressed)"}},
		{"platform picked out of an index", layoutReport(t, multi), layoutReport(t, armOnly), true, true, true, true, true,
			[]string{"the platform linux/arm64/v8 was picked out of A's index of 2 images"}},
		{"config metadata changed", layoutReport(t, base), layoutReport(t, relabeled), false, false, true, false, true,
			[]string{"same content (diff_ids), different image ID", "only config metadata differs"}},
		{"different layers", layoutReport(t, base), layoutReport(t, otherLayers), false, false, false, false, true,
			[]string{"different images", "the content differs from layer 0 on"}},
		{"a side fails to verify", layoutReport(t, base), layoutReport(t, tampered), false, true, false, true, false,
			[]string{"A is VERIFIED and B is FAILED"}},
		{"a single unrelated image against an index", layoutReport(t, otherLayers), layoutReport(t, multi), false, false, false, false, true,
			[]string{"only B has a top index", "of 2 images); A is a single image that is not among them"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Reports(c.a, c.b, nil)
			got := []bool{r.SameImage, r.SameImageID, r.SameContent, r.SameManifestDigest, r.Verified}
			want := []bool{c.same, c.sameID, c.sameContent, c.sameMD, c.verified}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("[same sameID sameContent sameManifestDigest verified] = %v, want %v; reasons %q", got, want, r.Reasons)
				}
			}
			all := strings.Join(r.Reasons, "\n")
			for _, w := range c.reasons {
				if !strings.Contains(all, w) {
					t.Errorf("reasons lack %q:\n%s", w, all)
				}
			}
		})
	}
}

func TestComparePlatformOption(t *testing.T) {
	multi := fixtures.MustBuild(fixtures.MultiPlatform())
	a := layoutReport(t, multi)
	r := Reports(a, a, &Options{Platform: &verify.Platform{OS: "linux", Architecture: "arm64"}})
	if len(r.Images) != 1 || r.Images[0].Platform != "linux/arm64/v8" || !r.SameImage {
		t.Fatalf("%+v", r.Images)
	}
	// Two indexes with different platform sets are different images.
	one := fixtures.MustBuild(fixtures.Spec{Index: true, Images: []fixtures.ImageSpec{fixtures.MultiPlatform().Images[0]}})
	r = Reports(a, layoutReport(t, one), nil)
	if r.SameImage {
		t.Fatalf("an index of two platforms matched an index of one: %q", r.Reasons)
	}
}

// A single image that is not in the other side's index is not said to have
// been picked out of it.
func TestCompareUnrelatedSingleIsNotPicked(t *testing.T) {
	other := fixtures.MustBuild(fixtures.Spec{Images: []fixtures.ImageSpec{{
		Platform: fixtures.Platform{OS: "linux", Architecture: "amd64"},
		Layers:   fixtures.DefaultLayers("unrelated", fixtures.Gzip),
	}}})
	r := Reports(layoutReport(t, other), layoutReport(t, fixtures.MustBuild(fixtures.MultiPlatform())), nil)
	if all := strings.Join(r.Reasons, "\n"); strings.Contains(all, "picked") {
		t.Fatalf("an unrelated image is said to be picked out of the index:\n%s", all)
	}
}

// Counts of one take the singular, and what could not be compared is
// listed as unknown rather than different.
func TestCompareWording(t *testing.T) {
	base := fixtures.MustBuild(single(fixtures.Gzip, false))
	// A verified source with no runnable image (only an artifact).
	empty := &verify.Report{Verdict: verify.Verified, Images: []verify.Image{{Kind: "artifact", ImageID: "sha256:00"}}}
	r := Reports(layoutReport(t, base), empty, nil)
	all := strings.Join(r.Reasons, "\n")
	if !strings.Contains(all, "nothing to compare: A has 1 runnable image, B has 0") {
		t.Fatalf("reasons:\n%s", all)
	}
	if len(r.Unknown) != 4 || !r.IsUnknown(IdentityImageID) {
		t.Fatalf("nothing paired, yet unknown = %q", r.Unknown)
	}
	classic := dockerReport(t, base, fixtures.Classic)
	r = Reports(layoutReport(t, base), classic, nil)
	if len(r.Unknown) != 1 || !r.IsUnknown(IdentityManifestDigest) || r.IsUnknown(IdentityImageID) {
		t.Fatalf("classic docker save: unknown = %q, want only manifestDigest", r.Unknown)
	}
	if r = Reports(layoutReport(t, base), layoutReport(t, base), nil); len(r.Unknown) != 0 {
		t.Fatalf("an image against itself: unknown = %q", r.Unknown)
	}
}
