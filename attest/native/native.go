//go:build !js

// Package native completes the options of a run with the hooks only the
// native build has: sigstore bundles and keyless cosign signatures
// (attest/sigstore), CUE and Rego policies (attest/cosignpolicy) and
// Notary Project signatures (attest/notary). attest.Trust builds the rest
// the same way for both faces; the WebAssembly module leaves these hooks
// nil, and what they would check is then UNVERIFIABLE, never a pass.
package native

import (
	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/cosignpolicy"
	"github.com/imgproof/imgproof/attest/notary"
	"github.com/imgproof/imgproof/attest/sigstore"
)

// Trust is what only a native build can check against.
type Trust struct {
	// Keyless is the sigstore trust: trusted roots and GitHub's criteria.
	Keyless sigstore.Keyless
	// Notary, if set, verifies Notary Project signatures.
	Notary *notary.Trust
}

// Complete sets the native hooks of opts, which attest.Trust.Options
// built: cosign's policy evaluation when there is a policy, the sigstore
// verifiers, and the Notary Project verifier.
func Complete(opts *attest.Options, t Trust) error {
	if opts.Policy != nil {
		opts.Policies = cosignpolicy.Evaluate
	}
	if err := sigstore.Complete(opts, t.Keyless); err != nil {
		return err
	}
	if t.Notary != nil {
		opts.Notary = t.Notary.Verifier()
	}
	return nil
}
