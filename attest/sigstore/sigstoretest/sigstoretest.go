//go:build !js

// Package sigstoretest makes keyless signing material offline, for tests:
// a Fulcio-like certificate authority (root and intermediate), a CT log and
// a Rekor log with keys of their own, the trusted_root.json that names
// them, leaf certificates with an OIDC issuer and an embedded SCT, Rekor
// entry bodies with signed entry timestamps, and the annotations cosign
// writes on keyless .sig and .att layers.
package sigstoretest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	ctx509util "github.com/google/certificate-transparency-go/x509util"
	"github.com/sigstore/rekor/pkg/types"
	_ "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1" // registers hashedrekord 0.0.1
	_ "github.com/sigstore/rekor/pkg/types/intoto/v0.0.2"       // registers intoto 0.0.2

	"github.com/imgproof/imgproof/attest/dsse"
)

// Annotations of keyless cosign layers.
const (
	AnnotationSignature   = "dev.cosignproject.cosign/signature"
	AnnotationCertificate = "dev.sigstore.cosign/certificate"
	AnnotationChain       = "dev.sigstore.cosign/chain"
	AnnotationBundle      = "dev.sigstore.cosign/bundle"
)

// Authority is a complete offline sigstore: CA, CT log and Rekor.
type Authority struct {
	Root, Intermediate       *x509.Certificate
	rootKey, intermediateKey *ecdsa.PrivateKey
	rekorKey, ctKey          *ecdsa.PrivateKey
	// Start and End bound the validity of every authority.
	Start, End time.Time
}

// New makes an authority valid from a day ago to a day from now.
func New() (*Authority, error) {
	now := time.Now().UTC().Truncate(time.Second)
	a := &Authority{Start: now.Add(-24 * time.Hour), End: now.Add(24 * time.Hour)}
	var err error
	for _, k := range []**ecdsa.PrivateKey{&a.rootKey, &a.intermediateKey, &a.rekorKey, &a.ctKey} {
		if *k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, err
		}
	}
	ca := func(cn string, serial int64, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) (*x509.Certificate, error) {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"imgproof.test"}},
			NotBefore: a.Start, NotAfter: a.End, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		}
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			return nil, err
		}
		return x509.ParseCertificate(der)
	}
	if a.Root, err = ca("test-fulcio-root", 1, nil, a.rootKey, nil); err != nil {
		return nil, err
	}
	if a.Intermediate, err = ca("test-fulcio-intermediate", 2, a.Root, a.intermediateKey, a.rootKey); err != nil {
		return nil, err
	}
	return a, nil
}

// ForTest makes an authority and its trusted_root.json, failing tb on
// error.
func ForTest(tb testing.TB) (*Authority, []byte) {
	tb.Helper()
	a, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	root, err := a.TrustedRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return a, root
}

// MustLeaf is Leaf, failing tb on error.
func (a *Authority) MustLeaf(tb testing.TB, o LeafOptions) *Leaf {
	tb.Helper()
	l, err := a.Leaf(o)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// TrustedRoot returns the trusted_root.json naming the CA, Rekor and the
// CT log.
func (a *Authority) TrustedRoot() ([]byte, error) {
	rekor, err := logJSON("https://rekor.imgproof.test", a.rekorKey, a.Start)
	if err != nil {
		return nil, err
	}
	ctlog, err := logJSON("https://ctfe.imgproof.test", a.ctKey, a.Start)
	if err != nil {
		return nil, err
	}
	raw := func(c *x509.Certificate) map[string]string {
		return map[string]string{"rawBytes": base64.StdEncoding.EncodeToString(c.Raw)}
	}
	return json.MarshalIndent(map[string]any{
		"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
		"tlogs":     []any{rekor},
		"ctlogs":    []any{ctlog},
		"certificateAuthorities": []any{map[string]any{
			"subject":   map[string]string{"organization": "imgproof.test", "commonName": "test-fulcio-root"},
			"uri":       "https://fulcio.imgproof.test",
			"certChain": map[string]any{"certificates": []any{raw(a.Intermediate), raw(a.Root)}},
			"validFor":  map[string]string{"start": a.Start.Format(time.RFC3339)},
		}},
		"timestampAuthorities": []any{},
	}, "", "  ")
}

func logJSON(url string, key *ecdsa.PrivateKey, start time.Time) (map[string]any, error) {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	id := sha256.Sum256(der)
	return map[string]any{
		"baseUrl": url, "hashAlgorithm": "SHA2_256",
		"publicKey": map[string]any{"rawBytes": base64.StdEncoding.EncodeToString(der), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
			"validFor": map[string]string{"start": start.Format(time.RFC3339)}},
		"logId": map[string]string{"keyId": base64.StdEncoding.EncodeToString(id[:])},
	}, nil
}

// LogID is the Rekor log's ID, hex.
func (a *Authority) LogID() string {
	der, _ := x509.MarshalPKIXPublicKey(&a.rekorKey.PublicKey)
	id := sha256.Sum256(der)
	return hex.EncodeToString(id[:])
}

// Chain is the dev.sigstore.cosign/chain annotation: intermediate, root.
func (a *Authority) Chain() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.Intermediate.Raw})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.Root.Raw}))
}

// LeafOptions describe a Fulcio-like signing certificate.
type LeafOptions struct {
	// Identity becomes the SAN: a URI when it holds "://", else an email.
	Identity string
	// Issuer is the OIDC issuer, written in both Fulcio extensions
	// (1.3.6.1.4.1.57264.1.1 and .1.8).
	Issuer string
	// NotBefore and NotAfter default to a minute ago and ten minutes on.
	NotBefore, NotAfter time.Time
	// Extensions are added to the certificate, for example Fulcio's
	// build extensions made with Extension.
	Extensions []pkix.Extension
}

// Extension is a Fulcio certificate extension (1.3.6.1.4.1.57264.1.n,
// n from 8 on) holding value as a DER UTF8String. It panics on a value
// that is not UTF-8.
func Extension(n int, value string) pkix.Extension {
	der, err := asn1.MarshalWithParams(value, "utf8")
	if err != nil {
		panic(err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, n}, Value: der}
}

// Leaf is a signing certificate and its key.
type Leaf struct {
	Cert *x509.Certificate
	PEM  string
	Key  *ecdsa.PrivateKey
}

var (
	oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
	oidSCTList  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}
)

// Leaf issues a certificate from the intermediate, with an SCT from the
// CT log embedded as Fulcio does.
func (a *Authority) Leaf(o LeafOptions) (*Leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Minute)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = o.NotBefore.Add(11 * time.Minute)
	}
	issuerV2, err := asn1.MarshalWithParams(o.Issuer, "utf8")
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, NotBefore: o.NotBefore, NotAfter: o.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: append([]pkix.Extension{{Id: oidIssuerV1, Value: []byte(o.Issuer)}, {Id: oidIssuerV2, Value: issuerV2}}, o.Extensions...),
	}
	if strings.Contains(o.Identity, "://") {
		u, err := url.Parse(o.Identity)
		if err != nil {
			return nil, err
		}
		tmpl.URIs = []*url.URL{u}
	} else {
		tmpl.EmailAddresses = []string{o.Identity}
	}
	// The SCT signs the certificate without its SCT list. Issue it with a
	// placeholder list first (the CT library removes the list to rebuild
	// what was signed), then the same certificate with the real list.
	placeholder, err := encodeSCTList(ct.SignedCertificateTimestamp{SCTVersion: ct.V1, Signature: ct.DigitallySigned{
		Algorithm: cttls.SignatureAndHashAlgorithm{Hash: cttls.SHA256, Signature: cttls.ECDSA}, Signature: []byte{0}}})
	if err != nil {
		return nil, err
	}
	tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidSCTList, Value: placeholder})
	pre, err := x509.CreateCertificate(rand.Reader, tmpl, a.Intermediate, &key.PublicKey, a.intermediateKey)
	if err != nil {
		return nil, err
	}
	ext, err := a.sctList(pre, o.NotBefore)
	if err != nil {
		return nil, err
	}
	tmpl.ExtraExtensions[len(tmpl.ExtraExtensions)-1].Value = ext
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Intermediate, &key.PublicKey, a.intermediateKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Leaf{Cert: cert, Key: key, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}, nil
}

// sctList returns the SCT list extension's value for a certificate.
func (a *Authority) sctList(certDER []byte, at time.Time) ([]byte, error) {
	leaf, err := ctx509.ParseCertificate(certDER)
	if err != nil {
		return nil, err
	}
	issuer, err := ctx509.ParseCertificate(a.Intermediate.Raw)
	if err != nil {
		return nil, err
	}
	ts := uint64(at.UnixMilli())
	entry, err := ct.MerkleTreeLeafForEmbeddedSCT([]*ctx509.Certificate{leaf, issuer}, ts)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&a.ctKey.PublicKey)
	if err != nil {
		return nil, err
	}
	sct := ct.SignedCertificateTimestamp{SCTVersion: ct.V1, LogID: ct.LogID{KeyID: sha256.Sum256(der)}, Timestamp: ts}
	input, err := ct.SerializeSCTSignatureInput(sct, ct.LogEntry{Leaf: *entry})
	if err != nil {
		return nil, err
	}
	sig, err := sign(a.ctKey, input)
	if err != nil {
		return nil, err
	}
	sct.Signature = ct.DigitallySigned{Algorithm: cttls.SignatureAndHashAlgorithm{Hash: cttls.SHA256, Signature: cttls.ECDSA}, Signature: sig}
	return encodeSCTList(sct)
}

// encodeSCTList is the value of the SCT list extension holding sct.
func encodeSCTList(sct ct.SignedCertificateTimestamp) ([]byte, error) {
	list, err := ctx509util.MarshalSCTsIntoSCTList([]*ct.SignedCertificateTimestamp{&sct})
	if err != nil {
		return nil, err
	}
	raw, err := cttls.Marshal(*list)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(raw)
}

func sign(k *ecdsa.PrivateKey, msg []byte) ([]byte, error) {
	h := sha256.Sum256(msg)
	return k.Sign(rand.Reader, h[:], crypto.SHA256)
}

// SignPayload signs msg with the leaf's key (ECDSA P-256, SHA-256).
func (l *Leaf) SignPayload(msg []byte) ([]byte, error) { return sign(l.Key, msg) }

// HashedRekordBody is the canonical Rekor hashedrekord body for a
// signature over a payload.
func HashedRekordBody(certPEM string, sig, payload []byte) ([]byte, error) {
	sum := sha256.Sum256(payload)
	return rekordBody("hashedrekord", "0.0.1", types.ArtifactProperties{
		ArtifactHash: "sha256:" + hex.EncodeToString(sum[:]), SignatureBytes: sig,
		PublicKeyBytes: [][]byte{[]byte(certPEM)}, PKIFormat: "x509"})
}

// IntotoBody is the canonical Rekor intoto v0.0.2 body for a DSSE envelope.
func IntotoBody(certPEM string, envelope []byte) ([]byte, error) {
	return rekordBody("intoto", "0.0.2", types.ArtifactProperties{
		ArtifactBytes: envelope, PublicKeyBytes: [][]byte{[]byte(certPEM)}, PKIFormat: "x509"})
}

func rekordBody(kind, version string, props types.ArtifactProperties) ([]byte, error) {
	ctx := context.Background()
	pe, err := types.NewProposedEntry(ctx, kind, version, props)
	if err != nil {
		return nil, err
	}
	e, err := types.CreateVersionedEntry(pe)
	if err != nil {
		return nil, err
	}
	return types.CanonicalizeEntry(ctx, e)
}

// RekorBundle is the dev.sigstore.cosign/bundle annotation for a body
// logged at integrated time at: the payload and the log's signed entry
// timestamp over its canonical JSON.
func (a *Authority) RekorBundle(body []byte, at time.Time, logIndex int64) (string, error) {
	payload := struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogID          string `json:"logID"`
		LogIndex       int64  `json:"logIndex"`
	}{base64.StdEncoding.EncodeToString(body), at.Unix(), a.LogID(), logIndex}
	// Fields in sorted order and no HTML escaping in base64 or hex: this
	// is the canonical JSON Rekor signs.
	canonical, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	set, err := sign(a.rekorKey, canonical)
	if err != nil {
		return "", err
	}
	out, err := json.Marshal(map[string]any{"SignedEntryTimestamp": base64.StdEncoding.EncodeToString(set), "Payload": payload})
	return string(out), err
}

// Sign returns the annotations of a keyless simple-signing layer over
// payload, logged as a hashedrekord entry at time at.
func (a *Authority) Sign(l *Leaf, payload []byte, at time.Time) (map[string]string, error) {
	sig, err := l.SignPayload(payload)
	if err != nil {
		return nil, err
	}
	body, err := HashedRekordBody(l.PEM, sig, payload)
	if err != nil {
		return nil, err
	}
	rb, err := a.RekorBundle(body, at, 1)
	if err != nil {
		return nil, err
	}
	return map[string]string{AnnotationSignature: base64.StdEncoding.EncodeToString(sig),
		AnnotationCertificate: l.PEM, AnnotationChain: a.Chain(), AnnotationBundle: rb}, nil
}

// Attest returns a keyless DSSE layer over payload, logged as an intoto
// entry at time at: the envelope and the layer's annotations.
func (a *Authority) Attest(l *Leaf, payloadType string, payload []byte, at time.Time) ([]byte, map[string]string, error) {
	sig, err := l.SignPayload(dsse.PAE(payloadType, payload))
	if err != nil {
		return nil, nil, err
	}
	env, err := json.Marshal(dsse.Envelope{PayloadType: payloadType, Payload: base64.StdEncoding.EncodeToString(payload),
		Signatures: []dsse.Signature{{Sig: base64.StdEncoding.EncodeToString(sig)}}})
	if err != nil {
		return nil, nil, err
	}
	body, err := IntotoBody(l.PEM, env)
	if err != nil {
		return nil, nil, fmt.Errorf("intoto body: %w", err)
	}
	rb, err := a.RekorBundle(body, at, 2)
	if err != nil {
		return nil, nil, err
	}
	return env, map[string]string{AnnotationSignature: "", AnnotationCertificate: l.PEM, AnnotationChain: a.Chain(), AnnotationBundle: rb}, nil
}

// RekorPublicKey and CTPublicKey are the logs' public keys, PEM (as
// cosign's SIGSTORE_REKOR_PUBLIC_KEY and SIGSTORE_CT_LOG_PUBLIC_KEY_FILE
// take them).
func (a *Authority) RekorPublicKey() ([]byte, error) { return publicPEM(&a.rekorKey.PublicKey) }

// CTPublicKey: see RekorPublicKey.
func (a *Authority) CTPublicKey() ([]byte, error) { return publicPEM(&a.ctKey.PublicKey) }

func publicPEM(k *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
