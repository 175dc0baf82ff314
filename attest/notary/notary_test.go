//go:build !js

package notary_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/notaryproject/notation-go"
	notationreg "github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/signer"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/notary"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// ca is a test certificate authority.
type ca struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var serial int64

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func issue(t *testing.T, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newCA(t *testing.T, cn string) *ca {
	k := newKey(t)
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"imgproof test"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	return &ca{cert: issue(t, tmpl, tmpl, &k.PublicKey, k), key: k}
}

// leaf issues a code signing certificate valid until notAfter.
func (c *ca) leaf(t *testing.T, cn string, notAfter time.Time) (crypto.Signer, []*x509.Certificate) {
	k := newKey(t)
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"imgproof test"}, Country: []string{"US"}, Province: []string{"WA"}},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	return k, []*x509.Certificate{issue(t, tmpl, c.cert, &k.PublicKey, c.key), c.cert}
}

// store writes a trust store holding the CAs under x509/ca/NAME.
func store(t *testing.T, name string, cas ...*ca) string {
	dir := t.TempDir()
	p := filepath.Join(dir, "x509", "ca", name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, c := range cas {
		b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw})
		if err := os.WriteFile(filepath.Join(p, strings.Repeat("c", i+1)+".pem"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func policy(t *testing.T, level string, stores []string, identities []string) []byte {
	b, err := json.Marshal(map[string]any{"version": "1.0", "trustPolicies": []any{map[string]any{
		"name": "test", "registryScopes": []string{"*"}, "signatureVerification": map[string]string{"level": level},
		"trustStores": stores, "trustedIdentities": identities}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func trust(t *testing.T, policyJSON []byte, storeDir string) *notary.Trust {
	t.Helper()
	p, err := notary.LoadPolicy(policyJSON)
	if err != nil {
		t.Fatal(err)
	}
	s, err := notary.OpenStore(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	return &notary.Trust{Policy: p, Store: s, Scope: "local/app"}
}

// writeLayout writes a fixture OCI layout and returns its directory and
// the manifest digests of its images.
func writeLayout(t *testing.T, spec fixtures.Spec) (string, []string) {
	t.Helper()
	b, err := fixtures.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range b.LayoutFiles() {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var ds []string
	for _, im := range b.Expected.Images {
		ds = append(ds, im.ManifestDigest)
	}
	return dir, ds
}

// sign signs ref in the layout with notation-go, the code `notation sign
// --oci-layout` runs, and returns the signature manifest's descriptor.
func sign(t *testing.T, dir, ref, mediaType string, key crypto.Signer, chain []*x509.Certificate) ocispec.Descriptor {
	t.Helper()
	s, err := signer.NewGenericSigner(key, chain)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := notationreg.NewOCIRepository(dir, notationreg.RepositoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := notation.Sign(context.Background(), s, repo, notation.SignOptions{ArtifactReference: ref,
		SignerSignOptions: notation.SignerSignOptions{SignatureMediaType: mediaType}})
	if err != nil {
		t.Fatalf("notation sign %s: %v", ref, err)
	}
	return d
}

func run(t *testing.T, dir string, tr *notary.Trust) *verify.Report {
	t.Helper()
	ctx := context.Background()
	res := verify.Dir(ctx, os.DirFS(dir), dir, nil)
	opts := &attest.Options{}
	if tr != nil {
		opts.Notary = tr.Verifier()
	}
	attest.VerifyResult(ctx, res, opts)
	return res.Report
}

func notarySigs(r *verify.Report) []verify.Attestation {
	var out []verify.Attestation
	for _, a := range r.Attestations {
		if a.Kind == attest.KindNotary {
			out = append(out, a)
		}
	}
	return out
}

func has(r *verify.Report, code verify.Code) bool {
	return slices.ContainsFunc(r.Findings, func(f verify.Finding) bool { return f.Code == code })
}

func dump(t *testing.T, r *verify.Report) string {
	b, _ := json.MarshalIndent(struct {
		V verify.Verdict
		F []verify.Finding
		A []verify.Attestation
	}{r.Verdict, r.Findings, r.Attestations}, "", " ")
	return string(b)
}

func TestValidSignatures(t *testing.T) {
	root := newCA(t, "imgproof test root")
	key, chain := root.leaf(t, "signer.example", time.Now().Add(time.Hour))
	st := store(t, "test", root)
	for _, mt := range []string{jws.MediaTypeEnvelope, cose.MediaTypeEnvelope} {
		t.Run(mt, func(t *testing.T) {
			dir, ds := writeLayout(t, fixtures.Default())
			sign(t, dir, ds[0], mt, key, chain)
			rep := run(t, dir, trust(t, policy(t, "strict", []string{"ca:test"}, []string{"x509.subject: C=US, ST=WA, O=imgproof test, CN=signer.example"}), st))
			sigs := notarySigs(rep)
			if rep.Verdict != verify.Verified || len(sigs) != 1 || sigs[0].Status != attest.StatusVerified {
				t.Fatalf("want VERIFIED with one verified Notary signature:\n%s", dump(t, rep))
			}
			s := sigs[0]
			if s.Signature == nil || s.Signature.Envelope != mt || s.Signature.SigningScheme != "notary.x509" || len(s.Signature.Chain) != 2 ||
				s.Signature.SigningTime == "" || !strings.Contains(s.Signature.SigningAgent, "notation-go") {
				t.Fatalf("signature info: %+v", s.Signature)
			}
			if len(s.Signers) != 1 || !strings.Contains(s.Signers[0], "CN=signer.example") || len(s.Binds) != 1 || s.Binds[0].Digest != ds[0] {
				t.Fatalf("signers %v binds %v", s.Signers, s.Binds)
			}
			if !strings.Contains(s.Signature.Revocation, "no certificate names an OCSP or CRL endpoint") {
				t.Fatalf("revocation: %q", s.Signature.Revocation)
			}
		})
	}
}
