//go:build !js

package sigstore

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/internal/limits"
)

// The hooks Complete sets check every bundle under the limits of the run,
// as --limit sets them, not the defaults.
func TestCompleteUsesTheRunsLimits(t *testing.T) {
	dir := conformanceDir(t)
	root, err := os.ReadFile(filepath.Join(dir, "trusted_root.production.json"))
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := os.ReadFile(filepath.Join(dir, "bundle-verify", "happy-path-v0.3", "bundle.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	art, err := os.ReadFile(filepath.Join(dir, "a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	digest := fmt.Sprintf("sha256:%x", sha256.Sum256(art))
	check := func(lim *limits.Limits) attest.BundleResult {
		opts := &attest.Options{Limits: lim, Identities: []policy.Identity{{Subject: defaultIdentity, Issuer: defaultIssuer}}}
		if err := Complete(opts, Keyless{Roots: [][]byte{root}}); err != nil {
			t.Fatal(err)
		}
		return opts.Bundles(context.Background(), bundle, digest)
	}
	if res := check(nil); !res.Verified {
		t.Fatalf("default limits: %+v", res.Finding)
	}
	for _, c := range []struct {
		kind  limits.Kind
		value int64
	}{
		{limits.TrustedRoot, int64(len(root)) - 1},
		{limits.AttestationDocument, int64(len(bundle)) - 1},
	} {
		lim := limits.Default()
		if err := lim.Set(c.kind, c.value); err != nil {
			t.Fatal(err)
		}
		res := check(&lim)
		if res.Verified || res.Finding == nil || !strings.Contains(res.Finding.Message, string(c.kind)+" limit of") {
			t.Errorf("%s=%d: verified %v, finding %+v; want the limit named", c.kind, c.value, res.Verified, res.Finding)
		}
	}
}
