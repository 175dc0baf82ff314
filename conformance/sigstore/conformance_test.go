//go:build !js

package sigstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

const (
	defaultIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	defaultIssuer   = "https://token.actions.githubusercontent.com"
)

// repoRoot walks up from the working directory to the directory with go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// suiteDir is ../shared/testdata/sigstore-conformance from the repository
// root. Its absence skips the test, except in CI where it fails.
func suiteDir(t *testing.T, root string) string {
	t.Helper()
	dir := filepath.Join(root, "..", "shared", "testdata", "sigstore-conformance")
	if fi, err := os.Stat(filepath.Join(dir, "bundle-verify")); err != nil || !fi.IsDir() {
		if os.Getenv("CI") != "" {
			t.Fatalf("sigstore-conformance data missing at %s", dir)
		}
		t.Skipf("sigstore-conformance data missing at %s", dir)
	}
	return dir
}

func fileOr(t *testing.T, path, def string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return def
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// caseArgs builds the client protocol's command line for one case.
func caseArgs(t *testing.T, suite, dir, artifact string) []string {
	args := []string{"verify-bundle", "--bundle", filepath.Join(dir, "bundle.sigstore.json")}
	if exists(filepath.Join(dir, "key.pub")) {
		args = append(args, "--key", filepath.Join(dir, "key.pub"))
	} else {
		args = append(args,
			"--certificate-identity", fileOr(t, filepath.Join(dir, "identity"), defaultIdentity),
			"--certificate-oidc-issuer", fileOr(t, filepath.Join(dir, "issuer"), defaultIssuer))
	}
	root := filepath.Join(suite, "trusted_root.production.json")
	if exists(filepath.Join(dir, "trusted_root.json")) {
		root = filepath.Join(dir, "trusted_root.json")
	}
	return append(args, "--trusted-root", root, artifact)
}

// TestConformance runs every verification case through the CLI, once with
// the artifact file and once with its sha256 digest, as the suite does.
func TestConformance(t *testing.T) {
	root := repoRoot(t)
	suite := suiteDir(t, root)
	bin := cli(t)
	dirs, err := filepath.Glob(filepath.Join(suite, "bundle-verify", "*", "bundle.sigstore.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases found: %v", err)
	}
	var passed, failed atomic.Int64
	t.Cleanup(func() {
		t.Logf("sigstore-conformance: %d of %d runs gave the expected outcome (%d cases)", passed.Load(), passed.Load()+failed.Load(), len(dirs))
	})
	for _, b := range dirs {
		dir := filepath.Dir(b)
		name := filepath.Base(dir)
		wantFail := strings.HasSuffix(name, "_fail")
		artifact := filepath.Join(dir, "artifact")
		if !exists(artifact) {
			artifact = filepath.Join(suite, "a.txt")
		}
		data, err := os.ReadFile(artifact)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		for _, form := range []struct{ name, arg string }{
			{"file", artifact},
			{"digest", "sha256:" + hex.EncodeToString(sum[:])},
		} {
			t.Run(name+"/"+form.name, func(t *testing.T) {
				t.Parallel()
				cmd := exec.Command(bin, caseArgs(t, suite, dir, form.arg)...)
				cmd.Env = append(os.Environ(), "IMGPROOF_TRUSTED_ROOT=")
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				code := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				switch {
				case code == 64:
					t.Fatalf("usage error (the case must be judged, not rejected as a bad command line):\n%s%s", stdout.String(), stderr.String())
				case wantFail && code == 0:
					t.Errorf("exit 0, want failure\n%s", stdout.String())
				case !wantFail && code != 0:
					t.Errorf("exit %d, want 0\n%s%s", code, stdout.String(), stderr.String())
				case !wantFail && !strings.HasPrefix(stdout.String(), "VERIFIED"):
					t.Errorf("exit 0 without a VERIFIED report:\n%s", stdout.String())
				}
				if t.Failed() {
					failed.Add(1)
				} else {
					passed.Add(1)
				}
			})
		}
	}
}
