//go:build !js

package sigstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// conformanceDir locates the shared sigstore-conformance data, which lives
// outside the repository. In CI its absence is a failure.
func conformanceDir(t *testing.T) string {
	t.Helper()
	for _, rel := range []string{"../../../shared/testdata/sigstore-conformance", "../../shared/testdata/sigstore-conformance", "../shared/testdata/sigstore-conformance"} {
		if fi, err := os.Stat(filepath.Join(rel, "bundle-verify")); err == nil && fi.IsDir() {
			return rel
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("sigstore-conformance data not found under ../shared/testdata")
	}
	t.Skip("sigstore-conformance data not found under ../shared/testdata")
	return ""
}

const (
	defaultIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	defaultIssuer   = "https://token.actions.githubusercontent.com"
)

func readOr(t *testing.T, path string, def []byte) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return def
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConformanceLibrary drives every sigstore-conformance verification
// case through Verify and checks the declared outcome.
func TestConformanceLibrary(t *testing.T) {
	dir := conformanceDir(t)
	prodRoot, err := os.ReadFile(filepath.Join(dir, "trusted_root.production.json"))
	if err != nil {
		t.Fatal(err)
	}
	defaultArtifact := filepath.Join(dir, "a.txt")
	cases, err := filepath.Glob(filepath.Join(dir, "bundle-verify", "*", "bundle.sigstore.json"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, bpath := range cases {
		c := filepath.Dir(bpath)
		name := filepath.Base(c)
		t.Run(name, func(t *testing.T) {
			wantFail := strings.HasSuffix(name, "_fail")
			bundleJSON, err := os.ReadFile(bpath)
			if err != nil {
				t.Fatal(err)
			}
			p := Policy{TrustedRoot: readOr(t, filepath.Join(c, "trusted_root.json"), prodRoot)}
			if key := readOr(t, filepath.Join(c, "key.pub"), nil); key != nil {
				p.Key = key
			} else {
				p.Identity = strings.TrimSpace(string(readOr(t, filepath.Join(c, "identity"), []byte(defaultIdentity))))
				p.Issuer = strings.TrimSpace(string(readOr(t, filepath.Join(c, "issuer"), []byte(defaultIssuer))))
			}
			art := filepath.Join(c, "artifact")
			if _, err := os.Stat(art); err != nil {
				art = defaultArtifact
			}
			f, err := os.Open(art)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := Verify(context.Background(), bundleJSON, Artifact{Reader: f}, p)
			if res == nil {
				t.Fatal("nil result")
			}
			if res.Verified != (err == nil) {
				t.Fatalf("Verified=%v but err=%v", res.Verified, err)
			}
			switch {
			case wantFail && err == nil:
				t.Fatalf("verified, want failure; checks: %+v", res.Checks)
			case !wantFail && err != nil:
				t.Fatalf("failed, want success: %v", err)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %T is not *Error", err)
				}
				t.Logf("%s: %v", e.Check, err)
			}
		})
	}
}
