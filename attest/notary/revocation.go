//go:build !js

package notary

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/notaryproject/notation-core-go/revocation"
	"github.com/notaryproject/notation-core-go/revocation/crl"
	"github.com/notaryproject/notation-core-go/revocation/purpose"
	"github.com/notaryproject/notation-core-go/revocation/result"
)

// errOffline is what every OCSP or CRL request gets: verification here
// never reaches the network.
var errOffline = errors.New("offline: OCSP and CRL servers are not contacted")

type offlineTransport struct{}

func (offlineTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, errOffline }

type offlineFetcher struct{}

func (offlineFetcher) Fetch(context.Context, string) (*crl.Bundle, error) { return nil, errOffline }

// recorder wraps a notation-core-go revocation validator that cannot
// reach the network and keeps its results, so the report can tell "no
// certificate names an OCSP or CRL endpoint" from "the check could not
// run offline".
type recorder struct {
	v       revocation.Validator
	mu      sync.Mutex
	ran     bool
	results []*result.CertRevocationResult
}

func (r *recorder) ValidateContext(ctx context.Context, opts revocation.ValidateContextOptions) ([]*result.CertRevocationResult, error) {
	res, err := r.v.ValidateContext(ctx, opts)
	r.mu.Lock()
	r.ran = true
	r.results = append(r.results, res...)
	r.mu.Unlock()
	return res, err
}

type recorders struct{ codeSigning, timestamping *recorder }

func newRecorders() recorders {
	mk := func(p purpose.Purpose) *recorder {
		v, err := revocation.NewWithOptions(revocation.Options{
			OCSPHTTPClient: &http.Client{Transport: offlineTransport{}}, CRLFetcher: offlineFetcher{}, CertChainPurpose: p})
		if err != nil {
			panic(err) // only for an unknown purpose
		}
		return &recorder{v: v}
	}
	return recorders{codeSigning: mk(purpose.CodeSigning), timestamping: mk(purpose.Timestamping)}
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
		return fmt.Sprintf("%s chain: %d certificate(s) not revoked", chain, ok)
	default:
		return fmt.Sprintf("%s chain: nothing to check, no certificate names an OCSP or CRL endpoint", chain)
	}
}
