//go:build !js

// Package notarytest makes Notary Project signatures for tests: a test
// certificate authority, trust stores in notation's layout, and
// signatures written into an OCI layout by notation-go, the code that
// `notation sign --oci-layout` runs.
package notarytest

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
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notaryproject/notation-go"
	notationreg "github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/signer"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ArtifactType is the Notary Project signature's artifact type.
const ArtifactType = "application/vnd.cncf.notary.signature"

// CA is a test certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

var serial atomic.Int64

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func issue(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(serial.Add(1))
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

// NewCA makes a self-signed root valid for a day.
func NewCA(t testing.TB, cn string) *CA {
	k := newKey(t)
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"imgproof test"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	return &CA{Cert: issue(t, tmpl, tmpl, &k.PublicKey, k), Key: k}
}

// Subject is the trust policy identity of a leaf named cn:
// "x509.subject: " + Subject(cn).
func Subject(cn string) string { return "C=US, ST=WA, O=imgproof test, CN=" + cn }

// Leaf issues a code signing certificate for cn valid until notAfter,
// naming the OCSP servers given, and returns its key and chain.
func (c *CA) Leaf(t testing.TB, cn string, notAfter time.Time, ocsp ...string) (crypto.Signer, []*x509.Certificate) {
	k := newKey(t)
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"imgproof test"}, Country: []string{"US"}, Province: []string{"WA"}},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: notAfter, OCSPServer: ocsp,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	return k, []*x509.Certificate{issue(t, tmpl, c.Cert, &k.PublicKey, c.Key), c.Cert}
}

// Store writes a trust store directory holding the CAs' certificates
// under x509/ca/NAME and returns it.
func Store(t testing.TB, name string, cas ...*CA) string {
	return StoreOf(t, "ca", name, cas...)
}

// StoreOf writes a trust store of the given type (ca, signingAuthority,
// tsa) holding the CAs' certificates under x509/TYPE/NAME.
func StoreOf(t testing.TB, storeType, name string, cas ...*CA) string {
	dir := t.TempDir()
	p := filepath.Join(dir, "x509", storeType, name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, c := range cas {
		b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
		if err := os.WriteFile(filepath.Join(p, fmt.Sprintf("ca%d.pem", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Policy is a one-statement trust policy for every scope.
func Policy(t testing.TB, level string, stores, identities []string) []byte {
	b, err := json.Marshal(map[string]any{"version": "1.0", "trustPolicies": []any{map[string]any{
		"name": "test", "registryScopes": []string{"*"}, "signatureVerification": map[string]string{"level": level},
		"trustStores": stores, "trustedIdentities": identities}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Sign signs ref (a digest or tag) in the OCI layout dir with notation-go
// and returns the index.json entry of the signature manifest it added.
func Sign(t testing.TB, dir, ref, mediaType string, key crypto.Signer, chain []*x509.Certificate) ocispec.Descriptor {
	t.Helper()
	s, err := signer.NewGenericSigner(key, chain)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := notationreg.NewOCIRepository(dir, notationreg.RepositoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := IndexEntries(t, dir)
	if _, err := notation.Sign(context.Background(), s, repo, notation.SignOptions{ArtifactReference: ref,
		SignerSignOptions: notation.SignerSignOptions{SignatureMediaType: mediaType}}); err != nil {
		t.Fatalf("notation sign %s: %v", ref, err)
	}
	for _, e := range IndexEntries(t, dir) {
		if slices.ContainsFunc(before, func(b ocispec.Descriptor) bool { return b.Digest == e.Digest }) {
			continue
		}
		var m ocispec.Manifest
		ReadJSON(t, filepath.Join(dir, "blobs", "sha256", e.Digest.Encoded()), &m)
		// notation-go writes the image-spec 1.0 form: the artifact type
		// as the config media type.
		if m.ArtifactType == ArtifactType || m.Config.MediaType == ArtifactType {
			return e
		}
	}
	t.Fatal("notation sign added no signature manifest to index.json")
	return ocispec.Descriptor{}
}

// IndexEntries lists the layout's index.json manifests.
func IndexEntries(t testing.TB, dir string) []ocispec.Descriptor {
	var ix ocispec.Index
	ReadJSON(t, filepath.Join(dir, "index.json"), &ix)
	return ix.Manifests
}

// ReadJSON decodes a JSON file.
func ReadJSON(t testing.TB, p string, v any) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// FlipFirstLayer inverts one byte of the first layer blob of the manifest
// (a digest) in the OCI layout at dir, leaving every manifest, and so any
// signature over one, as it was.
func FlipFirstLayer(t testing.TB, dir, manifest string) {
	t.Helper()
	var m ocispec.Manifest
	ReadJSON(t, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(manifest, "sha256:")), &m)
	if len(m.Layers) == 0 {
		t.Fatalf("manifest %s has no layer", manifest)
	}
	p := filepath.Join(dir, "blobs", "sha256", m.Layers[0].Digest.Encoded())
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
