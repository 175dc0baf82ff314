package sigstore

import "errors"

// Error categories. Every error returned by this package is an *Error whose
// Kind is one of these, so callers map them with errors.Is.
var (
	// ErrPolicy: the policy itself is unusable (no identity, a bad regular
	// expression, an unparsable key). Nothing was verified.
	ErrPolicy = errors.New("invalid verification policy")
	// ErrTrustedRoot: the trusted root could not be parsed.
	ErrTrustedRoot = errors.New("invalid trusted root")
	// ErrMalformed: the bundle, signature or envelope could not be parsed.
	ErrMalformed = errors.New("malformed signature material")
	// ErrVerify: a check ran and failed.
	ErrVerify = errors.New("verification failed")
)

// Error is a failed check, with the name of the check.
type Error struct {
	// Check names the check that failed, one of the Check* constants.
	Check string
	// Kind is one of ErrPolicy, ErrTrustedRoot, ErrMalformed or ErrVerify.
	Kind error
	Err  error
}

func (e *Error) Error() string {
	return e.Check + ": " + e.Kind.Error() + ": " + e.Err.Error()
}

// Unwrap returns the category and the cause.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// The names of the checks, as they appear in Result.Checks.
const (
	CheckPolicy          = "policy"
	CheckTrustedRoot     = "trusted-root"
	CheckBundle          = "bundle-parse"
	CheckTransparencyLog = "transparency-log"
	CheckTimestamps      = "timestamps"
	CheckCertificate     = "certificate-chain"
	CheckSCT             = "certificate-sct"
	CheckIdentity        = "certificate-identity"
	CheckKey             = "public-key"
	CheckSignature       = "signature"
	CheckSubject         = "statement-subject"
	CheckPayload         = "payload"
)
