//go:build !js

package imagecopy

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/compare"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

func writeLayout(t *testing.T, b *fixtures.Built) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	if err := b.WriteLayoutDir(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustCopy(t *testing.T, src, dst string, o *Options) *Result {
	t.Helper()
	res, err := Copy(context.Background(), src, dst, o)
	if err != nil {
		var reasons []string
		if res != nil && res.Dest != nil {
			for _, f := range res.Dest.Findings {
				reasons = append(reasons, f.Error())
			}
		}
		t.Fatalf("copy %s -> %s: %v\n%s", src, dst, err, strings.Join(reasons, "\n"))
	}
	if res.Dest == nil || res.Dest.Verdict != verify.Verified {
		t.Fatalf("destination not verified: %+v", res.Dest)
	}
	return res
}

func zstdSpec() fixtures.Spec {
	return fixtures.Spec{Images: []fixtures.ImageSpec{{
		Platform: fixtures.Platform{OS: "linux", Architecture: "amd64"},
		Layers:   fixtures.DefaultLayers("amd64", fixtures.Zstd),
	}}}
}

func withAttestations() fixtures.Spec {
	s := fixtures.MultiPlatform()
	s.BuildKitAttestations = true
	return s
}

// Layout and OCI archive keep every byte: every digest is the same.
func TestLayoutArchiveRoundTripIsByteExact(t *testing.T) {
	for name, spec := range map[string]fixtures.Spec{"single": fixtures.Default(), "multi+attestations": withAttestations(), "zstd": zstdSpec()} {
		t.Run(name, func(t *testing.T) {
			b := fixtures.MustBuild(spec)
			src := writeLayout(t, b)
			tmp := t.TempDir()
			arch := filepath.Join(tmp, "img.tar")
			res := mustCopy(t, src, arch, &Options{Format: OCIArchive})
			if !res.Compare.SameManifestDigest || !res.Compare.SameLayerBlobs || res.Dest.Source.Format != verify.FormatOCIArchive {
				t.Fatalf("layout -> archive changed digests: %+v", res.Compare)
			}
			gz := filepath.Join(tmp, "img.tar.gz")
			mustCopy(t, arch, gz, &Options{Format: OCIArchive, Gzip: true})
			back := filepath.Join(tmp, "back")
			res = mustCopy(t, gz, back, &Options{Format: Layout})
			for _, name := range append([]string{"index.json"}, blobNames(b)...) {
				want, err1 := os.ReadFile(filepath.Join(src, name))
				got, err2 := os.ReadFile(filepath.Join(back, name))
				if err1 != nil || err2 != nil || string(want) != string(got) {
					t.Fatalf("%s differs after layout -> archive -> gzip archive -> layout (%v %v)", name, err1, err2)
				}
			}
			if spec.Index && (res.Dest.IndexDigest == nil || *res.Dest.IndexDigest != b.Expected.IndexDigest) {
				t.Fatalf("index digest %v, want %s", res.Dest.IndexDigest, b.Expected.IndexDigest)
			}
		})
	}
}

func blobNames(b *fixtures.Built) []string {
	var out []string
	for d := range b.Blobs {
		out = append(out, fixtures.BlobPath(d))
	}
	return out
}

// To docker save: same image ID and diff_ids, different manifest digest.
func TestToDockerKeepsImageID(t *testing.T) {
	for name, spec := range map[string]fixtures.Spec{"gzip": fixtures.Default(), "zstd": zstdSpec()} {
		t.Run(name, func(t *testing.T) {
			b := fixtures.MustBuild(spec)
			exp := b.Expected.Images[0]
			src := writeLayout(t, b)
			dst := filepath.Join(t.TempDir(), "saved.tar")
			res := mustCopy(t, src, dst, &Options{Format: DockerArchive, Tags: []string{"example.test/app:v1"}})
			c := res.Compare
			if !c.SameImage || c.SameManifestDigest || c.SameLayerBlobs {
				t.Fatalf("want same image ID and content with a different manifest digest: %+v", c)
			}
			if !hasReason(c, "layers recompressed ("+name+" → uncompressed)") {
				t.Fatalf("reasons %q", c.Reasons)
			}
			if res.Dest.Source.Format != verify.FormatDockerArchive || len(res.Dest.Source.Views) != 2 {
				t.Fatalf("want a docker archive with both views, got %+v", res.Dest.Source)
			}
			im := res.Dest.Images[0]
			if im.ImageID != exp.ConfigDigest {
				t.Fatalf("image ID %s, want %s", im.ImageID, exp.ConfigDigest)
			}
			for i, l := range im.Layers {
				if l.Compression != "none" || l.DiffID != exp.DiffIDs[i] || l.Digest != exp.DiffIDs[i] {
					t.Fatalf("layer %d: %+v, want uncompressed with diff_id %s", i, l, exp.DiffIDs[i])
				}
			}
			// And back to a layout: the image ID still holds.
			back := filepath.Join(t.TempDir(), "back")
			res = mustCopy(t, dst, back, &Options{Format: Layout})
			if res.Dest.Images[0].ImageID != exp.ConfigDigest {
				t.Fatalf("docker -> layout changed the image ID to %s", res.Dest.Images[0].ImageID)
			}
		})
	}
}

func hasReason(c *compare.Result, s string) bool {
	for _, r := range c.Reasons {
		if strings.Contains(r, s) {
			return true
		}
	}
	return false
}

// A classic docker save keeps no manifest; copying it to a layout writes
// one around the exact config and layer bytes.
func TestClassicDockerToLayout(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	src := filepath.Join(t.TempDir(), "classic.tar")
	if err := b.WriteDockerArchiveFile(src, fixtures.Classic, false); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "layout")
	res := mustCopy(t, src, dst, &Options{Format: Layout})
	if res.Source.Images[0].ManifestDigest != nil {
		t.Fatal("a classic docker save should have no manifest digest")
	}
	if !res.Compare.SameImage || res.Dest.Images[0].ImageID != b.Expected.Images[0].ConfigDigest {
		t.Fatalf("%+v", res.Compare)
	}
	dst2 := filepath.Join(t.TempDir(), "saved.tar")
	res = mustCopy(t, src, dst2, &Options{Format: DockerArchive})
	if !res.Compare.SameImage || !res.Compare.SameLayerBlobs {
		t.Fatalf("classic -> docker: %+v", res.Compare)
	}
}

func TestCopyRefusesBadSourceAndExistingDest(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	bad := b.FlipByte(b.Expected.Images[0].Layers[1].Digest, 10)
	src := writeLayout(t, bad)
	dst := filepath.Join(t.TempDir(), "out.tar")
	res, err := Copy(context.Background(), src, dst, &Options{Format: OCIArchive})
	if !errors.Is(err, ErrSourceNotVerified) || res == nil || res.Source.Verdict != verify.Failed || res.Dest != nil {
		t.Fatalf("copy of a tampered source: err=%v res=%+v", err, res)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a destination was written for a tampered source: %v", err)
	}
	good := writeLayout(t, b)
	if err := os.WriteFile(dst, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(context.Background(), good, dst, &Options{Format: OCIArchive}); !errors.Is(err, ErrDestExists) {
		t.Fatalf("copy onto an existing destination: err=%v, want ErrDestExists", err)
	}
	if got, _ := os.ReadFile(dst); string(got) != "keep me" {
		t.Fatal("existing destination was changed")
	}
}

// A blob that changes after verification is caught while copying.
func TestCheckedReaderCatchesChangedBlob(t *testing.T) {
	data := []byte("hello world")
	d := digest.FromBytes(data)
	for name, body := range map[string]string{"changed": "hello_world", "short": "hello", "long": "hello world!"} {
		r := &checkedReader{ctx: context.Background(), r: strings.NewReader(body), h: d.Algorithm().Hash(), want: d, size: int64(len(data)), name: "x"}
		_, err := readAll(r)
		if !errors.Is(err, ErrBlobMismatch) {
			t.Errorf("%s: err %v, want ErrBlobMismatch", name, err)
		}
	}
}

func readAll(r *checkedReader) ([]byte, error) {
	buf := make([]byte, 0, 64)
	p := make([]byte, 4)
	for {
		n, err := r.Read(p)
		buf = append(buf, p[:n]...)
		if err != nil {
			if err.Error() == "EOF" {
				return buf, nil
			}
			return buf, err
		}
	}
}

// skopeo, which nobody here wrote, reads the docker-save archive and finds
// the same config (image ID).
func TestSkopeoReadsDockerDestination(t *testing.T) {
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		if os.Getenv("IMGPROOF_REQUIRE_REGISTRY") == "1" {
			t.Fatal("skopeo is not installed")
		}
		t.Skip("skopeo is not installed")
	}
	b := fixtures.MustBuild(fixtures.Default())
	dst := filepath.Join(t.TempDir(), "saved.tar")
	mustCopy(t, writeLayout(t, b), dst, &Options{Format: DockerArchive, Tags: []string{"example.test/app:v1"}})
	cfg, err := exec.Command(skopeo, "--insecure-policy", "inspect", "--config", "--raw", "docker-archive:"+dst).Output()
	if err != nil {
		t.Fatalf("skopeo inspect: %v", err)
	}
	if got := digest.FromBytes(cfg).String(); got != b.Expected.Images[0].ConfigDigest {
		t.Fatalf("skopeo sees config %s, want image ID %s", got, b.Expected.Images[0].ConfigDigest)
	}
	// skopeo copies it back out to a layout, which verifies as the same image.
	out := filepath.Join(t.TempDir(), "from-skopeo")
	if o, err := exec.Command(skopeo, "--insecure-policy", "copy", "docker-archive:"+dst, "oci:"+out+":v1").CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, o)
	}
	rep := verify.Dir(context.Background(), os.DirFS(out), out, nil).Report
	if rep.Verdict != verify.Verified || rep.Images[0].ImageID != b.Expected.Images[0].ConfigDigest {
		t.Fatalf("skopeo's copy: %s %+v", rep.Verdict, rep.Images)
	}
}

// --platform writes that platform's image alone, byte for byte, in an
// index.json of its own; the other platform's blobs are not written.
func TestPlatformCopiesOnlyThatImage(t *testing.T) {
	b := fixtures.MustBuild(fixtures.MultiPlatform())
	src := writeLayout(t, b)
	arm := &verify.Platform{OS: "linux", Architecture: "arm64"}
	for _, f := range []Format{Layout, OCIArchive, DockerArchive} {
		t.Run(string(f), func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "dst")
			res := mustCopy(t, src, dst, &Options{Format: f, Verify: &verify.Options{Platform: arm}})
			if !res.Picked {
				t.Fatal("Picked is false for one platform out of two")
			}
			rep := reverify(t, dst)
			var ids []string
			for _, im := range rep.Images {
				if im.Kind == "image" {
					ids = append(ids, im.ImageID)
				}
			}
			want := b.Expected.Images[1].ConfigDigest
			if len(ids) != 1 || ids[0] != want {
				t.Fatalf("destination holds images %v, want only %s", ids, want)
			}
			if f != DockerArchive && (len(rep.Images) != 1 || rep.Images[0].ManifestDigest == nil ||
				*rep.Images[0].ManifestDigest != b.Expected.Images[1].ManifestDigest) {
				t.Fatalf("the arm64 manifest was not copied byte for byte: %+v", rep.Images)
			}
		})
	}
	// A source of that platform alone picks nothing out.
	one := filepath.Join(t.TempDir(), "one")
	mustCopy(t, src, one, &Options{Format: Layout, Verify: &verify.Options{Platform: arm}})
	res := mustCopy(t, one, filepath.Join(t.TempDir(), "again"), &Options{Format: Layout, Verify: &verify.Options{Platform: arm}})
	if res.Picked {
		t.Fatal("Picked is true for a source of one image")
	}
}

// reverify verifies a copy without selecting a platform: it must hold no
// other image.
func reverify(t *testing.T, path string) *verify.Report {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep *verify.Report
	if st.IsDir() {
		rep = verify.Dir(context.Background(), os.DirFS(path), path, nil).Report
	} else {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rep = verify.Archive(context.Background(), f, st.Size(), path, nil).Report
	}
	if rep.Verdict != verify.Verified {
		t.Fatalf("%s: %s %v", path, rep.Verdict, rep.Err())
	}
	return rep
}
