//go:build !js

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/sigstore/sigstoretest"
	"github.com/imgproof/imgproof/fixtures"
)

func cosignPayload(manifestDigest string) []byte {
	return []byte(`{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":"` +
		manifestDigest + `"},"type":"cosign container image signature"},"optional":null}`)
}

// TestVerifyKeylessLegacyCLI: `imgproof verify` with the keyless flags on
// a layout whose image carries a keyless cosign signature under the
// sha256-<hex>.sig tag, offline against a generated trusted root.
func TestVerifyKeylessLegacyCLI(t *testing.T) {
	const identity, issuer = "release@example.com", "https://accounts.example.com"
	ca, root := sigstoretest.ForTest(t)
	dir := t.TempDir()
	rootPath := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(rootPath, root, 0o644); err != nil {
		t.Fatal(err)
	}
	leaf := ca.MustLeaf(t, sigstoretest.LeafOptions{Identity: identity, Issuer: issuer})
	manifest := fixtures.MustBuild(fixtures.Default()).Expected.Images[0].ManifestDigest

	// layout writes the default image with a keyless signature over payload.
	layout := func(name string, payload []byte) string {
		ann, err := ca.Sign(leaf, payload, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		spec := fixtures.Default()
		spec.Referrers = []fixtures.Referrer{{Subject: 0, MediaType: attest.MediaTypeSimpleSigning, Payload: payload,
			LayerAnnotations: ann, RefName: "{subject}.sig"}}
		p := filepath.Join(dir, name)
		if err := fixtures.MustBuild(spec).WriteLayoutDir(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := layout("good", cosignPayload(manifest))
	moved := layout("moved", cosignPayload("sha256:"+strings.Repeat("0", 64)))

	keyless := func(id, iss string) []string {
		return []string{"--certificate-identity", id, "--certificate-oidc-issuer", iss, "--trusted-root", rootPath}
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"verified", append(keyless(identity, issuer), good), 0, "VERIFIED"},
		{"identity regexp", []string{"--certificate-identity-regexp", `.*@example\.com`, "--certificate-oidc-issuer", issuer, "--trusted-root", rootPath, good}, 0, "VERIFIED"},
		{"wrong identity", append(keyless("mallory@example.com", issuer), good), 1, "E_IDENTITY_MISMATCH"},
		{"wrong issuer", append(keyless(identity, "https://issuer.example.org"), good), 1, "E_IDENTITY_MISMATCH"},
		{"signature for another manifest", append(keyless(identity, issuer), moved), 1, "E_SUBJECT_MISMATCH"},
		{"no trust flags", []string{good}, 0, "I_SIGNATURE_NOT_CHECKED"},
		{"no trusted root", []string{"--certificate-identity", identity, "--certificate-oidc-issuer", issuer, good}, 64, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"verify", "--output", "json"}, c.args...)
			out, code := runImgproof(t, args...)
			if code != c.code || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d (want %d), want %q in:\n%s", code, c.code, c.want, out)
			}
		})
	}
}
