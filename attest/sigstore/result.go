package sigstore

import (
	"time"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/intoto"
)

// Result is what a verification established, and every check that ran.
type Result struct {
	// Verified is true only when every check passed.
	Verified bool `json:"verified"`
	// MediaType and Version are the bundle's, for example
	// application/vnd.dev.sigstore.bundle.v0.3+json and v0.3.
	MediaType string `json:"mediaType,omitempty"`
	Version   string `json:"version,omitempty"`
	// Signer is the certificate's subject alternative name, or the key's
	// description for key signatures.
	Signer string `json:"signer,omitempty"`
	// Issuer is the certificate's OIDC issuer.
	Issuer string `json:"issuer,omitempty"`
	// Certificate summarises the Fulcio certificate's extensions.
	Certificate any `json:"certificate,omitempty"`
	// Build is the build the certificate names (repository, workflow,
	// commit), when its extensions name one.
	Build *attest.Build `json:"build,omitempty"`
	// ArtifactDigest is the digest the signature was checked against.
	ArtifactDigest string `json:"artifactDigest,omitempty"`
	// TlogEntries are the transparency log entries the bundle carries.
	TlogEntries []TlogEntry `json:"tlogEntries,omitempty"`
	// Timestamps are the verified times used to check the certificate.
	Timestamps []Timestamp `json:"timestamps,omitempty"`
	// PayloadType, Payload, Statement and PredicateType are set for DSSE
	// bundles and envelopes. Payload is the verified statement's bytes.
	PayloadType   string            `json:"payloadType,omitempty"`
	Payload       []byte            `json:"-"`
	Statement     *intoto.Statement `json:"-"`
	PredicateType string            `json:"predicateType,omitempty"`
	// Checks lists each check in the order it ran.
	Checks []attest.Check `json:"checks"`
}

// TlogEntry is one transparency log entry of a bundle.
type TlogEntry struct {
	LogIndex         int64      `json:"logIndex"`
	LogID            string     `json:"logID"`
	Kind             string     `json:"kind,omitempty"`
	IntegratedTime   *time.Time `json:"integratedTime,omitempty"`
	InclusionProof   bool       `json:"inclusionProof"`
	InclusionPromise bool       `json:"inclusionPromise"`
}

// Timestamp is one verified observer timestamp.
type Timestamp struct {
	// Kind is Tlog (a log's integrated time) or TimestampAuthority (RFC 3161).
	Kind string    `json:"kind"`
	URI  string    `json:"uri,omitempty"`
	Time time.Time `json:"time"`
}

// IntegratedTime returns the earliest verified log time, or the zero time.
func (r *Result) IntegratedTime() time.Time {
	var t time.Time
	for _, ts := range r.Timestamps {
		if ts.Kind == "Tlog" && (t.IsZero() || ts.Time.Before(t)) {
			t = ts.Time
		}
	}
	return t
}

// Attestation converts the result into a report entry. kind is for example
// sigstore-bundle; origin says where the material came from.
func (r *Result) Attestation(kind, origin string) attest.Attestation {
	a := attest.Attestation{Kind: kind, Origin: origin, PayloadType: r.PayloadType,
		PredicateType: r.PredicateType, Signers: []string{}, Binds: []attest.Binding{}, Checks: r.Checks, Status: attest.StatusFailed}
	if a.Checks == nil {
		a.Checks = []attest.Check{}
	}
	if r.Verified {
		a.Status = attest.StatusVerified
		if s := r.SignerName(); s != "" {
			a.Signers = append(a.Signers, s)
		}
		a.Build = r.Build
	}
	return a
}

// SignerName is the signer as a report names it: the certificate's SAN
// and OIDC issuer, or the key's description.
func (r *Result) SignerName() string {
	if r.Signer != "" && r.Issuer != "" {
		return r.Signer + " (issuer " + r.Issuer + ")"
	}
	return r.Signer
}

func (r *Result) pass(name, msg string) {
	r.Checks = append(r.Checks, attest.Check{Name: name, Status: attest.CheckPass, Message: msg})
}

func (r *Result) skip(name, msg string) {
	r.Checks = append(r.Checks, attest.Check{Name: name, Status: attest.CheckSkip, Message: msg})
}

// fail records a failed check and returns it as an *Error.
func (r *Result) fail(name string, kind, err error) error {
	r.Verified = false
	r.Checks = append(r.Checks, attest.Check{Name: name, Status: attest.CheckFail, Message: err.Error()})
	return &Error{Check: name, Kind: kind, Err: err}
}

// Passed counts the checks that passed: how far a verification got.
func (r *Result) Passed() int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == attest.CheckPass {
			n++
		}
	}
	return n
}
