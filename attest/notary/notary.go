//go:build !js

// Package notary verifies Notary Project signatures (notation sign) with
// the Notary Project's own libraries, offline, against a trust policy and
// trust store in notation's formats.
//
// attest finds the signature manifests (OCI 1.1 referrers, the referrers
// fallback tag, registry referrers) and hands each envelope here with the
// descriptor of the manifest imgproof recomputed; notation-go's verifier
// checks the envelope (JWS or COSE, critical headers), the chain against
// the trust store, the trusted identities, expiry, the authentic signing
// time (RFC 3161 countersignature against a tsa store, or the signing
// authority's time) and that the payload's targetArtifact is that
// descriptor. Revocation (OCSP, CRL) needs the network: it never runs
// here, the report says so, and a trust policy that enforces it gets
// UNVERIFIABLE rather than a silent pass. notation itself verifies only
// the manifest; imgproof verified every blob under it before.
//
// The package is native only: notation-go's verifier reads the trust
// store from the file system and can start plugins.
package notary

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/internal/limits"
)

// Trust is what a Notary Project signature is verified against.
type Trust struct {
	Policy *trustpolicy.Document
	Store  truststore.X509TrustStore
	// CRLs are local CRL files consulted for certificates that name a CRL
	// distribution point; nothing is fetched.
	CRLs []*x509.RevocationList
	// Scope is the repository the image is verified as, for example
	// registry.example/team/app: the trust policy statement whose
	// registryScopes holds it (or "*") applies. Empty means the scope
	// attest gives each signature (attest.DefaultScope).
	Scope string
}

// LoadPolicy parses a trustpolicy.json or trustpolicy.oci.json (version
// 1.0) document and validates it as notation does. Unknown fields are an
// error: a misspelt field would otherwise weaken the policy silently.
func LoadPolicy(data []byte) (*trustpolicy.Document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc trustpolicy.Document
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("trust policy: %w", err)
	}
	if dec.More() {
		return nil, errors.New("trust policy: data after the document")
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("trust policy: %w", err)
	}
	return &doc, nil
}

// OpenStore opens a trust store directory in notation's layout:
// x509/{ca,signingAuthority,tsa}/NAME/*.{crt,pem}, the directory itself
// or a notation configuration directory that holds truststore/x509.
// A certificate file over the default limits.CertificateFile is a
// *limits.Error; OpenStoreLimited takes the limit from lim.
func OpenStore(root string) (truststore.X509TrustStore, error) {
	return OpenStoreLimited(root, limits.Default())
}

// OpenStoreLimited is OpenStore with each file of the store bounded by
// lim.CertificateFile. notation-go reads the files whole when a signature
// is verified; they are measured here first, so that an oversized one is
// refused as the store is opened rather than read. The store is the
// verifier's own directory: the bound stops a mistaken or hostile giant
// file, not a race with the operator.
func OpenStoreLimited(root string, lim limits.Limits) (truststore.X509TrustStore, error) {
	for _, base := range []string{root, filepath.Join(root, dir.TrustStoreDir)} {
		x509Dir := filepath.Join(base, "x509")
		if fi, err := os.Stat(x509Dir); err == nil && fi.IsDir() {
			if err := checkStoreFiles(x509Dir, lim.CertificateFile); err != nil {
				return nil, fmt.Errorf("trust store %s: %w", root, err)
			}
			return truststore.NewX509TrustStore(storeFS{FS: os.DirFS(base), root: base}), nil
		}
	}
	return nil, fmt.Errorf("trust store %s: no x509 directory (want x509/{ca,signingAuthority,tsa}/NAME/)", root)
}

// checkStoreFiles refuses a regular file under dir larger than max.
// Symbolic links are not followed; notation-go refuses them itself.
func checkStoreFiles(dir string, max int64) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Size() > max {
			return limits.Exceeded(limits.CertificateFile, max, path)
		}
		return nil
	})
}

// storeFS maps notation's truststore/x509/... paths into a trust store
// directory given directly.
type storeFS struct {
	fs.FS
	root string
}

func (s storeFS) SysPath(items ...string) (string, error) {
	p := filepath.Join(items...)
	p = strings.TrimPrefix(filepath.ToSlash(p), dir.TrustStoreDir+"/")
	return filepath.Join(s.root, filepath.FromSlash(p)), nil
}

// Verifier returns the hook attest calls for each Notary signature.
func (t *Trust) Verifier() attest.NotaryVerifier {
	return func(ctx context.Context, sig attest.NotarySignature) attest.NotaryResult {
		return t.verify(ctx, sig)
	}
}

func (t *Trust) verify(ctx context.Context, sig attest.NotarySignature) attest.NotaryResult {
	rec := newRecorders(t.CRLs)
	v, err := verifier.NewWithOptions(t.Policy, t.Store, nil, verifier.VerifierOptions{
		RevocationCodeSigningValidator:  rec.codeSigning,
		RevocationTimestampingValidator: rec.timestamping,
	})
	if err != nil {
		return unverifiable(attest.CodeNoTrustPolicy, "notation verifier: "+err.Error())
	}
	scope := t.Scope
	if scope == "" {
		scope = sig.Scope
	}
	ref := scope + "@" + sig.Target.Digest.String()
	outcome, err := v.Verify(ctx, sig.Target, sig.Envelope, notation.VerifierVerifyOptions{
		ArtifactReference: ref, SignatureMediaType: sig.MediaType})
	return translate(sig, ref, outcome, err, rec)
}
