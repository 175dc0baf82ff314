//go:build !js

package notary_test

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notaryproject/notation-core-go/signature/jws"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/notary"
	"github.com/imgproof/imgproof/attest/notary/notarytest"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

var crlDir = filepath.Join("testdata", "notation-e2e", "crl")

func readCRLData(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(crlDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// crlSigner is notation's CRL test chain (leaf, intermediate, root), each
// certificate naming a CRL distribution point.
func crlSigner(t *testing.T) (crypto.Signer, []*x509.Certificate) {
	b, _ := pem.Decode(readCRLData(t, "leaf.key"))
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var chain []*x509.Certificate
	for rest := readCRLData(t, "certchain_with_crl.pem"); ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
	}
	return k.(crypto.Signer), chain
}

// TestLocalCRLs: revocation by CRL runs offline only against CRL files
// given locally; without them a strict policy cannot be met.
func TestLocalCRLs(t *testing.T) {
	key, chain := crlSigner(t)
	dir, ds := writeLayout(t, fixtures.Default())
	notarytest.Sign(t, dir, ds[0], jws.MediaTypeEnvelope, key, chain)
	storeDir := t.TempDir()
	p := filepath.Join(storeDir, "x509", "ca", "crl")
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "root.crt"), readCRLData(t, "root.crt"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		crls    []string
		verdict verify.Verdict
		want    verify.Code
		summary string
	}{
		{"no CRL files", nil, verify.Unverifiable, attest.CodeRevocationUnavailable, "did not run (offline) for 2 certificate(s)"},
		{"leaf CRL only", []string{"leaf.crl"}, verify.Unverifiable, attest.CodeRevocationUnavailable, "did not run (offline) for 1 certificate(s)"},
		{"CRLs listing nothing", []string{"leaf.crl", "intermediate.crl"}, verify.Verified, "", "2 certificate(s) not revoked"},
		{"leaf revoked", []string{"leaf_revoked.crl", "intermediate.crl"}, verify.Failed, attest.CodeCertificateRevoked, "1 certificate(s) revoked"},
		{"leaf revoked, intermediate unknown", []string{"leaf_revoked.crl"}, verify.Failed, attest.CodeCertificateRevoked, "revoked"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := trust(t, notarytest.Policy(t, "strict", []string{"ca:crl"}, []string{"*"}), storeDir)
			for _, n := range c.crls {
				l, err := notary.ParseCRL(readCRLData(t, n))
				if err != nil {
					t.Fatal(err)
				}
				tr.CRLs = append(tr.CRLs, l)
			}
			rep := run(t, dir, tr)
			sigs := notarySigs(rep)
			if rep.Verdict != c.verdict || len(sigs) != 1 || sigs[0].Signature == nil || !strings.Contains(sigs[0].Signature.Revocation, c.summary) {
				t.Fatalf("want %s and revocation %q:\n%s", c.verdict, c.summary, dump(t, rep))
			}
			if c.want != "" && !has(rep, c.want) {
				t.Fatalf("no %s: %v", c.want, findingCodes(rep))
			}
		})
	}
}
