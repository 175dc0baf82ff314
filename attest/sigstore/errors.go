package sigstore

import (
	"errors"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// Error categories. Every error returned by this package is an *Error whose
// Kind is one of these, so callers map them with errors.Is.
var (
	// ErrPolicy: the policy itself is unusable (no identity, a bad regular
	// expression, an unparsable key). Nothing was verified.
	ErrPolicy = errors.New("invalid verification policy")
	// ErrTrustedRoot: a trust anchor (the trusted root or the key) could not
	// be parsed, so nothing could be checked against it.
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

// Finding codes for failed checks. They follow the core's naming: E_ codes
// with severity error make the verdict FAILED, those with severity
// unverifiable make it UNVERIFIABLE. A failure that package attest also
// reports for its own claims has attest's code.
const (
	CodeBundleMalformed                 = attest.CodeEnvelopeInvalid
	CodeTrustedRootInvalid  verify.Code = "E_TRUSTED_ROOT_INVALID"
	CodePolicyInvalid       verify.Code = "E_POLICY_INVALID"
	CodeTlogInvalid         verify.Code = "E_TLOG_INVALID"
	CodeTimestampInvalid    verify.Code = "E_TIMESTAMP_INVALID"
	CodeCertificateInvalid  verify.Code = "E_CERTIFICATE_INVALID"
	CodeSCTInvalid          verify.Code = "E_SCT_INVALID"
	CodeIdentityMismatch    verify.Code = "E_IDENTITY_MISMATCH"
	CodeKeyMismatch         verify.Code = "E_KEY_MISMATCH"
	CodeSignatureInvalid                = attest.CodeSignatureInvalid
	CodeSubjectMismatch                 = attest.CodeSubjectMismatch
	CodePredicateNotAllowed             = attest.CodePredicateNotAllowed
)

var checkCodes = map[string]verify.Code{
	CheckTransparencyLog: CodeTlogInvalid,
	CheckTimestamps:      CodeTimestampInvalid,
	CheckCertificate:     CodeCertificateInvalid,
	CheckSCT:             CodeSCTInvalid,
	CheckIdentity:        CodeIdentityMismatch,
	CheckKey:             CodeKeyMismatch,
	CheckSignature:       CodeSignatureInvalid,
	CheckSubject:         CodeSubjectMismatch,
	CheckPayload:         CodePredicateNotAllowed,
}

// Finding turns the error into a report finding located at path.
func (e *Error) Finding(path string) verify.Finding {
	f := verify.Finding{Path: path, Message: e.Check + ": " + e.Err.Error(), Severity: verify.SeverityError}
	switch {
	case errors.Is(e.Err, limits.ErrLimit):
		f.Code, f.Severity = verify.CodeLimitExceeded, verify.SeverityUnverifiable
	case e.Kind == ErrPolicy:
		f.Code, f.Severity = CodePolicyInvalid, verify.SeverityUnverifiable
	case e.Kind == ErrTrustedRoot:
		f.Code, f.Severity = CodeTrustedRootInvalid, verify.SeverityUnverifiable
	case e.Kind == ErrMalformed:
		f.Code = CodeBundleMalformed
	default:
		f.Code = checkCodes[e.Check]
		if f.Code == "" {
			f.Code = CodeSignatureInvalid
		}
	}
	return f
}
