package attest

import "github.com/imgproof/imgproof/verify"

// Report is the report of one run: the verifier's report on the content,
// and every signature and attestation checked against it. It encodes as
// the verifier's report with one more member, attestations, last; the
// findings and the verdict are the verifier's, to which the claims have
// added their own.
type Report struct {
	*verify.Report
	// Attestations lists the claims found, in the order they were
	// checked; empty when Run was given no options, so no claim was
	// looked for.
	Attestations []Attestation `json:"attestations,omitempty"`
}

// Attestation is one signature or attestation found for the image, with
// every check that ran on it.
type Attestation struct {
	// Kind is one of the Kind constants: where the claim was found and
	// in what form.
	Kind string `json:"kind"`
	// Origin says where it came from: a file, a tag, a referrer digest.
	Origin        string `json:"origin"`
	PayloadType   string `json:"payloadType,omitempty"`
	PredicateType string `json:"predicateType,omitempty"`
	// Signers names the keys or identities whose signatures verified.
	Signers []string `json:"signers"`
	// Binds lists the recomputed nodes that the claim's subject names.
	Binds  []Binding `json:"binds"`
	Checks []Check   `json:"checks"`
	// Status is one of the Status constants: verified, failed, unsigned
	// or unverifiable.
	Status string `json:"status"`
	// Build is the build a verified keyless signer's certificate names.
	Build *Build `json:"build,omitempty"`
	// Signature describes an X.509 signature envelope (Notary Project).
	Signature *SignatureInfo `json:"signature,omitempty"`
}

// SignatureInfo describes an X.509 signature envelope as its verified
// bytes state it.
type SignatureInfo struct {
	// Envelope is the envelope media type (application/jose+json, application/cose).
	Envelope string `json:"envelope"`
	// SigningScheme is notary.x509 or notary.x509.signingAuthority.
	SigningScheme string `json:"signingScheme,omitempty"`
	// SigningTime is the signer's claimed time (RFC 3339).
	SigningTime string `json:"signingTime,omitempty"`
	// Timestamped: the envelope carries an RFC 3161 countersignature.
	Timestamped bool `json:"timestamped,omitempty"`
	// SigningAgent is the producer the envelope names.
	SigningAgent string `json:"signingAgent,omitempty"`
	// Chain lists the certificate subjects, signer first.
	Chain []string `json:"chain,omitempty"`
	// VerificationLevel is the trust policy level applied.
	VerificationLevel string `json:"verificationLevel,omitempty"`
	// Revocation says whether OCSP or CRL checks ran.
	Revocation string `json:"revocation,omitempty"`
}

// Binding ties a claim to a recomputed node of the graph.
type Binding struct {
	Digest string `json:"digest"`
	// Node is index, manifest, config or artifact.
	Node string `json:"node"`
	Path string `json:"path"`
}

// Check is one check run on an attestation.
type Check struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // CheckPass, CheckFail or CheckSkip
	Message string `json:"message,omitempty"`
}
