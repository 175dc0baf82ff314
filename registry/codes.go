//go:build !js

package registry

import "github.com/imgproof/imgproof/verify"

// The registry's finding codes. Every finding the package makes with them
// sets its severity: E_FETCH and a refused request are UNVERIFIABLE,
// W_DISCOVERY is a warning, the others are notes.
const (
	// CodeFetch: a registry request failed, so a check could not run.
	CodeFetch verify.Code = "E_FETCH"
	// CodeCredentialPolicy: the credential or transport policy changed or
	// refused a request (plain HTTP, credentials on a redirect).
	CodeCredentialPolicy verify.Code = "E_CREDENTIAL_POLICY"
	// CodeFetchRetried notes a registry request that took more than one
	// attempt: its Actual says how many, and where a blob was resumed. It
	// is information only; the verdict rests on the bytes.
	CodeFetchRetried verify.Code = "I_FETCH_RETRIED"
	// CodeDiscovery: searching the registry for signatures and
	// attestations (referrers, cosign tags) failed or was cut short; a
	// warning, since discovery only nominates candidates.
	CodeDiscovery verify.Code = "W_DISCOVERY"
)
