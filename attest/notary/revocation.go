//go:build !js

package notary

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/notaryproject/notation-core-go/revocation"
	"github.com/notaryproject/notation-core-go/revocation/crl"
	"github.com/notaryproject/notation-core-go/revocation/purpose"
	"github.com/notaryproject/notation-core-go/revocation/result"

	"github.com/imgproof/imgproof/internal/limits"
)

// errOffline is what every OCSP or CRL request gets: verification here
// never reaches the network.
var errOffline = errors.New("offline: OCSP and CRL servers are not contacted")

type offlineTransport struct{}

func (offlineTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, errOffline }

// localFetcher answers CRL requests from CRL files given locally: for
// the certificate of the chain that names the URL, the CRL its issuer
// signed (notation-core-go then checks that CRL's signature, validity and
// entries). Every other request fails as offline.
type localFetcher struct {
	chain []*x509.Certificate
	crls  []*x509.RevocationList
}

func (f localFetcher) Fetch(_ context.Context, url string) (*crl.Bundle, error) {
	for _, c := range f.chain {
		if !slices.Contains(c.CRLDistributionPoints, url) {
			continue
		}
		for _, l := range f.crls {
			if bytes.Equal(l.RawIssuer, c.RawIssuer) {
				return &crl.Bundle{BaseCRL: l}, nil
			}
		}
	}
	return nil, errOffline
}

// ParseCRL parses a CRL file, DER or PEM ("X509 CRL"). A file over the
// default limits.CertificateFile is a *limits.Error; ParseCRLLimited
// takes the limit from lim.
func ParseCRL(data []byte) (*x509.RevocationList, error) {
	return ParseCRLLimited(data, limits.Default())
}

// ParseCRLLimited is ParseCRL with the file bounded by lim.CertificateFile.
func ParseCRLLimited(data []byte, lim limits.Limits) (*x509.RevocationList, error) {
	if int64(len(data)) > lim.CertificateFile {
		return nil, limits.Exceeded(limits.CertificateFile, lim.CertificateFile, "CRL")
	}
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "X509 CRL" {
			return nil, fmt.Errorf("PEM block %q, want X509 CRL", b.Type)
		}
		data = b.Bytes
	}
	return x509.ParseRevocationList(data)
}

// recorder wraps a notation-core-go revocation validator that cannot
// reach the network and keeps its results, so the report can tell "no
// certificate names an OCSP or CRL endpoint" from "the check could not
// run offline".
type recorder struct {
	purpose purpose.Purpose
	crls    []*x509.RevocationList
	mu      sync.Mutex
	ran     bool
	results []*result.CertRevocationResult
}

func (r *recorder) ValidateContext(ctx context.Context, opts revocation.ValidateContextOptions) ([]*result.CertRevocationResult, error) {
	v, err := revocation.NewWithOptions(revocation.Options{OCSPHTTPClient: &http.Client{Transport: offlineTransport{}},
		CRLFetcher: localFetcher{chain: opts.CertChain, crls: r.crls}, CertChainPurpose: r.purpose})
	if err != nil {
		return nil, err
	}
	res, err := v.ValidateContext(ctx, opts)
	r.mu.Lock()
	r.ran = true
	r.results = append(r.results, res...)
	r.mu.Unlock()
	return res, err
}

type recorders struct{ codeSigning, timestamping *recorder }

func newRecorders(crls []*x509.RevocationList) recorders {
	return recorders{codeSigning: &recorder{purpose: purpose.CodeSigning, crls: crls},
		timestamping: &recorder{purpose: purpose.Timestamping, crls: crls}}
}

// revoked counts the certificates found revoked.
func (r *recorder) revoked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.results {
		if c != nil && c.Result == result.ResultRevoked {
			n++
		}
	}
	return n
}

// unknown counts the certificates whose status could not be established.
func (r *recorder) unknown() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.results {
		if c != nil && c.Result == result.ResultUnknown {
			n++
		}
	}
	return n
}

// summary says whether revocation checks ran and how they ended.
func (r *recorder) summary(chain string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ran {
		return "not run for the " + chain + " chain"
	}
	var none, unknown, revoked, ok int
	for _, c := range r.results {
		switch {
		case c == nil:
		case c.Result == result.ResultNonRevokable:
			none++
		case c.Result == result.ResultUnknown:
			unknown++
		case c.Result == result.ResultRevoked:
			revoked++
		case c.Result == result.ResultOK:
			ok++
		}
	}
	switch {
	case revoked > 0:
		return fmt.Sprintf("%s chain: %d certificate(s) revoked", chain, revoked)
	case unknown > 0:
		return fmt.Sprintf("%s chain: OCSP/CRL did not run (offline) for %d certificate(s) that name an endpoint; %d name none", chain, unknown, none)
	case ok > 0:
		return fmt.Sprintf("%s chain: %d certificate(s) not revoked (local CRL files); %d name no endpoint", chain, ok, none)
	default:
		return fmt.Sprintf("%s chain: nothing to check, no certificate names an OCSP or CRL endpoint", chain)
	}
}
