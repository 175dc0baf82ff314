//go:build !js

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/notary/notarytest"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// TestVerifyNotaryCLI: `imgproof verify --trust-policy --trust-store` on
// a layout signed by notation-go, the way `notation sign --oci-layout`
// signs it.
func TestVerifyNotaryCLI(t *testing.T) {
	root := notarytest.NewCA(t, "imgproof test root")
	key, chain := root.Leaf(t, "signer.example", time.Now().Add(time.Hour))
	dir := t.TempDir()
	b := fixtures.MustBuild(fixtures.Default())
	manifest := b.Expected.Images[0].ManifestDigest
	layout := filepath.Join(dir, "app")
	if err := b.WriteLayoutDir(layout); err != nil {
		t.Fatal(err)
	}
	notarytest.Sign(t, layout, manifest, attest.MediaTypeCOSE, key, chain)
	policy := func(name string, identity string) string {
		p := filepath.Join(dir, name)
		data := notarytest.Policy(t, "strict", []string{"ca:test"}, []string{identity})
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := policy("trustpolicy.json", "x509.subject: "+notarytest.Subject("signer.example"))
	wrong := policy("wrong.json", "x509.subject: "+notarytest.Subject("mallory.example"))
	store := notarytest.Store(t, "test", root)
	otherStore := notarytest.Store(t, "test", notarytest.NewCA(t, "another root"))

	// tampered is the same layout with one byte of a layer changed.
	tampered := filepath.Join(dir, "tampered")
	if err := os.CopyFS(tampered, os.DirFS(layout)); err != nil {
		t.Fatal(err)
	}
	layer := filepath.Join(tampered, "blobs", "sha256", strings.TrimPrefix(b.Expected.Images[0].Layers[0].Digest, "sha256:"))
	data, err := os.ReadFile(layer)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := os.WriteFile(layer, data, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"verified", []string{"--trust-policy", good, "--trust-store", store, layout}, 0,
			[]string{string(verify.Verified), `"kind": "notary-signature"`, `"signingScheme": "notary.x509"`, "CN=signer.example"}},
		{"no trust material", []string{layout}, 0, []string{string(verify.Verified), string(attest.CodeNotChecked)}},
		{"wrong identity", []string{"--trust-policy", wrong, "--trust-store", store, layout}, 2,
			[]string{string(attest.CodeSignerUntrusted), string(attest.CodeUnsigned)}},
		{"wrong trust store", []string{"--trust-policy", good, "--trust-store", otherStore, layout}, 2,
			[]string{string(attest.CodeSignerUntrusted)}},
		{"changed layer", []string{"--trust-policy", good, "--trust-store", store, tampered}, 1,
			[]string{string(verify.CodeDigestMismatch), `"status": "verified"`}},
		{"policy without store", []string{"--trust-policy", good, layout}, 64, nil},
		{"not a CRL", []string{"--trust-policy", good, "--trust-store", store, "--crl", good, layout}, 64, nil},
		{"missing store", []string{"--trust-policy", good, "--trust-store", filepath.Join(dir, "none"), layout}, 64, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, code := runImgproof(t, append([]string{"verify", "--output", "json"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", code, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in:\n%s", w, out)
				}
			}
		})
	}
}

// TestNotaryTrustLimits: the trust policy is read within policy-file-bytes,
// each trust store certificate and CRL within certificate-file-bytes, and
// an oversized one is a usage error that names the file and the kind.
func TestNotaryTrustLimits(t *testing.T) {
	dir := t.TempDir()
	layout := filepath.Join(dir, "app")
	if err := fixtures.MustBuild(fixtures.Default()).WriteLayoutDir(layout); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "trustpolicy.json")
	if err := os.WriteFile(policy, notarytest.Policy(t, "strict", []string{"ca:test"}, []string{"*"}), 0o644); err != nil {
		t.Fatal(err)
	}
	store := notarytest.Store(t, "test", notarytest.NewCA(t, "imgproof test root"))
	// A CRL larger than any certificate of the store, so that one limit
	// can admit the store and refuse the CRL; it is refused before it is
	// parsed, so it need not be one.
	bigCRL := filepath.Join(dir, "big.crl")
	if err := os.WriteFile(bigCRL, make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		args  []string
		code  int
		want  string
		wantN bool // want is absent
	}{
		{"under the defaults", []string{"--crl", bigCRL}, 64, "limit of", true},
		{"trust policy", []string{"--limit", "policy-file-bytes=10"}, 64,
			"--trust-policy: " + policy + ": policy-file-bytes limit of 10 exceeded", false},
		{"trust store certificate", []string{"--limit", "certificate-file-bytes=10"}, 64,
			filepath.Join(store, "x509", "ca", "test", "ca0.pem") + ": certificate-file-bytes limit of 10 exceeded", false},
		{"CRL", []string{"--crl", bigCRL, "--limit", "certificate-file-bytes=8KiB"}, 64,
			"--crl: " + bigCRL + ": certificate-file-bytes limit of 8192 exceeded", false},
		{"within the limits", []string{"--limit", "certificate-file-bytes=8KiB"}, 2, "limit of", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"verify", "--trust-policy", policy, "--trust-store", store}, c.args...)
			_, stderr, code := runImgproofStderr(t, append(args, layout)...)
			if code != c.code || strings.Contains(stderr, c.want) == c.wantN {
				t.Fatalf("exit %d, want %d; stderr (want %q absent=%v):\n%s", code, c.code, c.want, c.wantN, stderr)
			}
		})
	}
}
