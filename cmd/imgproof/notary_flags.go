//go:build !js

package main

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/imgproof/imgproof/attest/notary"
	"github.com/imgproof/imgproof/internal/limits"
)

// notaryFlags configure Notary Project signature verification, in
// notation's own formats.
var notaryFlags struct {
	policy string
	store  string
	scope  string
	crls   []string
}

func init() {
	verifyExtensions = append(verifyExtensions, verifyExtension{flags: addNotaryFlags})
}

func addNotaryFlags(f *pflag.FlagSet) {
	f.StringVar(&notaryFlags.policy, "trust-policy", "", "Notary Project trust policy `file` (notation's trustpolicy.json or trustpolicy.oci.json, version 1.0)")
	f.StringVar(&notaryFlags.store, "trust-store", "", "Notary Project trust store `dir`: x509/{ca,signingAuthority,tsa}/NAME/*.{crt,pem}")
	f.StringArrayVar(&notaryFlags.crls, "crl", nil, "local CRL `file` (DER or PEM, repeatable) for Notary Project revocation checks, which never fetch")
	f.StringVar(&notaryFlags.scope, "notary-scope", "", "repository the trust policy's registryScopes are matched against (default: the registry reference's repository, or local/NAME for a file)")
}

// notaryTrust reads the Notary Project trust the flags name; nil when
// neither flag was given. Both are needed together. The trust policy is
// read within lim.PolicyFile, each CRL and trust store certificate file
// within lim.CertificateFile.
func notaryTrust(lim *limits.Limits) (*notary.Trust, error) {
	f := &notaryFlags
	if f.policy == "" && f.store == "" && len(f.crls) == 0 {
		return nil, nil
	}
	if f.policy == "" || f.store == "" {
		return nil, errors.New("--trust-policy and --trust-store go together: Notary Project verification needs both")
	}
	data, err := readSmall(f.policy, limits.PolicyFile, lim.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("--trust-policy: %w", err)
	}
	p, err := notary.LoadPolicy(data)
	if err != nil {
		return nil, fmt.Errorf("--trust-policy %s: %w", f.policy, err)
	}
	s, err := notary.OpenStoreLimited(f.store, *lim)
	if err != nil {
		return nil, fmt.Errorf("--trust-store: %w", err)
	}
	// Without --notary-scope, attest gives each signature the source's
	// own scope (attest.DefaultScope).
	tr := &notary.Trust{Policy: p, Store: s, Scope: f.scope}
	for _, path := range f.crls {
		data, err := readSmall(path, limits.CertificateFile, lim.CertificateFile)
		if err != nil {
			return nil, fmt.Errorf("--crl: %w", err)
		}
		l, err := notary.ParseCRLLimited(data, *lim)
		if err != nil {
			return nil, fmt.Errorf("--crl %s: %w", path, err)
		}
		tr.CRLs = append(tr.CRLs, l)
	}
	return tr, nil
}
