//go:build !js

package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
)

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// cli builds the command once per test run.
func cli(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "imgproof-cli-")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "imgproof")
		out, err := exec.Command("go", "build", "-o", cliPath, ".").CombinedOutput()
		if err != nil {
			cliErr = errors.New(string(out))
		}
	})
	if cliErr != nil {
		t.Fatalf("building imgproof: %v", cliErr)
	}
	return cliPath
}

func runImgproof(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, _, code := runImgproofStderr(t, args...)
	return out, code
}

// runImgproofStderr is runImgproof that also returns what went to stderr.
func runImgproofStderr(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(cli(t), args...)
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), errBuf.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), errBuf.String(), 0
}

func TestCompareAndCopyCLI(t *testing.T) {
	dir := t.TempDir()
	base := fixtures.MustBuild(fixtures.Default())
	layout := filepath.Join(dir, "layout")
	if err := base.WriteLayoutDir(layout); err != nil {
		t.Fatal(err)
	}
	zstd := fixtures.MustBuild(fixtures.Spec{Images: []fixtures.ImageSpec{{
		Platform: fixtures.Platform{OS: "linux", Architecture: "amd64"},
		Layers:   fixtures.DefaultLayers("amd64", fixtures.Zstd),
	}}})
	zdir := filepath.Join(dir, "zstd")
	if err := zstd.WriteLayoutDir(zdir); err != nil {
		t.Fatal(err)
	}
	other := fixtures.MustBuild(fixtures.Spec{Images: []fixtures.ImageSpec{{
		Platform: fixtures.Platform{OS: "linux", Architecture: "amd64"},
		Layers:   fixtures.DefaultLayers("arm64", fixtures.Gzip),
	}}})
	odir := filepath.Join(dir, "other")
	if err := other.WriteLayoutDir(odir); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := base.FlipByte(base.Expected.Images[0].Layers[0].Digest, 30).WriteLayoutDir(bad); err != nil {
		t.Fatal(err)
	}

	// copy to docker save: exit 0, same image ID.
	saved := filepath.Join(dir, "saved.tar")
	if out, code := runImgproof(t, "copy", layout, "docker-archive:"+saved); code != 0 {
		t.Fatalf("copy exit %d:\n%s", code, out)
	}
	if out, code := runImgproof(t, "copy", bad, filepath.Join(dir, "never.tar")); code != 1 || !strings.Contains(out, "E_DIGEST_MISMATCH") {
		t.Fatalf("copy of a tampered layout: exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "never.tar")); !os.IsNotExist(err) {
		t.Fatal("copy wrote a destination for a tampered source")
	}
	if _, code := runImgproof(t, "copy", "--format", "zip", layout, filepath.Join(dir, "x")); code != 64 {
		t.Fatalf("bad --format: exit %d, want 64", code)
	}

	type result struct {
		SameImageID        bool     `json:"sameImageID"`
		SameContent        bool     `json:"sameContent"`
		SameManifestDigest bool     `json:"sameManifestDigest"`
		Reasons            []string `json:"reasons"`
	}
	for _, c := range []struct {
		name                        string
		a, b                        string
		code                        int
		sameID, sameContent, sameMD bool
		reason                      string
	}{
		{"docker save", layout, saved, 0, true, true, false, "layers recompressed (gzip → uncompressed)"},
		{"zstd", layout, zdir, 0, true, true, false, "layers recompressed (gzip → zstd)"},
		{"itself", layout, layout, 0, true, true, true, "same image: same manifest digest"},
		{"different", layout, odir, 1, false, false, false, "different images"},
		{"unverified side", layout, bad, 2, true, false, true, "A is VERIFIED and B is FAILED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, code := runImgproof(t, "compare", "--output", "json", c.a, c.b)
			var r result
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("exit %d, output not JSON: %v\n%s", code, err, out)
			}
			if code != c.code || r.SameImageID != c.sameID || r.SameContent != c.sameContent || r.SameManifestDigest != c.sameMD {
				t.Fatalf("exit %d %+v; want exit %d sameImageID=%v sameContent=%v sameManifestDigest=%v", code, r, c.code, c.sameID, c.sameContent, c.sameMD)
			}
			if !strings.Contains(strings.Join(r.Reasons, "\n"), c.reason) {
				t.Fatalf("reasons %q lack %q", r.Reasons, c.reason)
			}
		})
	}
	if _, code := runImgproof(t, "compare", layout); code != 64 {
		t.Fatalf("compare with one argument: exit %d, want 64", code)
	}
}
