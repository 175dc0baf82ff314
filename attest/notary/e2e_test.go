//go:build !js

package notary_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/notary"
	"github.com/imgproof/imgproof/attest/notary/notarytest"
	"github.com/imgproof/imgproof/verify"
)

// e2eDir holds the notation CLI's own end-to-end layouts (SOURCE.md).
var e2eDir = filepath.Join("testdata", "notation-e2e")

// e2eStore makes a trust store whose ca:e2e holds one of notation's test
// certificates, as notation's end-to-end tests do.
func e2eStore(t *testing.T, cert string) string {
	data, err := os.ReadFile(filepath.Join(e2eDir, "localkeys", cert))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "x509", "ca", "e2e")
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, cert), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestNotationE2ELayouts verifies the layouts notation's end-to-end tests
// verify, with their trust stores, and expects what notation verify
// decides; and a changed layer, which notation verify does not see.
func TestNotationE2ELayouts(t *testing.T) {
	const e2eIdentity = "x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=e2e"
	tampered := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "tampered")
		if err := os.CopyFS(dir, os.DirFS(filepath.Join(e2eDir, "oci_layout", "e2e-valid-signature"))); err != nil {
			t.Fatal(err)
		}
		// The artifact's one layer, "awesome notation\n".
		p := filepath.Join(dir, "blobs", "sha256", "6de5fe1f75e4b1094c98086f403d5fd8117776ebe5aad1609281403d13dea070")
		if err := os.WriteFile(p, []byte("awesome notatioN\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	for _, c := range []struct {
		name, layout, cert, identity string
		dir                          func(*testing.T) string
		verdict                      verify.Verdict
		statuses                     []string
		want                         verify.Code
	}{
		{name: "valid", layout: "e2e-valid-signature", cert: "e2e.crt", verdict: verify.Verified, statuses: []string{attest.StatusVerified}},
		{name: "valid, trusted identity", layout: "e2e-valid-signature", cert: "e2e.crt", identity: e2eIdentity,
			verdict: verify.Verified, statuses: []string{attest.StatusVerified}},
		{name: "two signatures, one by another key", layout: "e2e-valid-multiple-signatures", cert: "e2e.crt",
			verdict: verify.Verified, statuses: []string{attest.StatusUnverifiable, attest.StatusVerified}, want: attest.CodeSignerUntrusted},
		{name: "not an envelope", layout: "e2e-invalid-signature", cert: "e2e.crt",
			verdict: verify.Failed, statuses: []string{attest.StatusFailed}, want: attest.CodeEnvelopeInvalid},
		{name: "expired signature", layout: "e2e-expired-signature", cert: "e2e.crt",
			verdict: verify.Failed, statuses: []string{attest.StatusFailed}, want: attest.CodeSignatureExpired},
		{name: "expired certificate", layout: "e2e-with-expired-cert", cert: "expired_e2e.crt",
			verdict: verify.Failed, statuses: []string{attest.StatusFailed}, want: attest.CodeSigningTimeInvalid},
		{name: "wrong trust store", layout: "e2e-valid-signature", cert: "new_e2e.crt",
			verdict: verify.Unverifiable, statuses: []string{attest.StatusUnverifiable}, want: attest.CodeSignerUntrusted},
		{name: "wrong identity", layout: "e2e-valid-signature", cert: "e2e.crt", identity: "x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=other",
			verdict: verify.Unverifiable, statuses: []string{attest.StatusUnverifiable}, want: attest.CodeSignerUntrusted},
		{name: "no trust material", layout: "e2e-valid-signature",
			verdict: verify.Verified, statuses: []string{attest.StatusUnverifiable}, want: attest.CodeNotChecked},
		{name: "changed layer", dir: tampered, cert: "e2e.crt",
			verdict: verify.Failed, statuses: []string{attest.StatusVerified}, want: verify.CodeDigestMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(e2eDir, "oci_layout", c.layout)
			if c.dir != nil {
				dir = c.dir(t)
			}
			var tr *notary.Trust
			if c.cert != "" {
				id := c.identity
				if id == "" {
					id = "*"
				}
				tr = trust(t, notarytest.Policy(t, "strict", []string{"ca:e2e"}, []string{id}), e2eStore(t, c.cert))
			}
			rep := run(t, dir, tr)
			var statuses []string
			for _, a := range notarySigs(rep) {
				statuses = append(statuses, a.Status)
			}
			slices.Sort(statuses)
			if rep.Verdict != c.verdict || !slices.Equal(statuses, c.statuses) {
				t.Fatalf("want %s with signatures %v, got %s %v:\n%s", c.verdict, c.statuses, rep.Verdict, statuses, dump(t, rep))
			}
			if c.want != "" && !has(rep, c.want) {
				t.Fatalf("no %s finding: %v", c.want, findingCodes(rep))
			}
		})
	}
}
