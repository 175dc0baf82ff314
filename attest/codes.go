package attest

import "github.com/imgproof/imgproof/verify"

// Finding codes for signatures and attestations. Codes whose default
// severity is not error set it explicitly where they are raised.
const (
	// CodeSignatureInvalid: no signature verified under a trusted key.
	CodeSignatureInvalid verify.Code = "E_SIGNATURE_INVALID"
	// CodeThresholdNotMet: fewer distinct trusted keys signed than required.
	CodeThresholdNotMet verify.Code = "E_THRESHOLD_NOT_MET"
	// CodeEnvelopeInvalid: a DSSE envelope or signature layer is malformed.
	CodeEnvelopeInvalid verify.Code = "E_SIGNATURE_MALFORMED"
	// CodePayloadTypeUnsupported: the payload type is not the one required.
	CodePayloadTypeUnsupported verify.Code = "E_PAYLOADTYPE_UNSUPPORTED"
	// CodeStatementInvalid: the signed payload is not a valid statement or
	// simple-signing document.
	CodeStatementInvalid verify.Code = "E_STATEMENT_INVALID"
	// CodeSubjectMismatch: the claim names no recomputed digest, or not the
	// one it is attached to.
	CodeSubjectMismatch verify.Code = "E_SUBJECT_MISMATCH"
	// CodePredicateNotAllowed: a signed attestation's predicate type is not
	// allowed by the policy.
	CodePredicateNotAllowed verify.Code = "E_PREDICATE_NOT_ALLOWED"
	// CodePolicyViolation: a required attestation is present and signed but
	// fails the policy's constraints.
	CodePolicyViolation verify.Code = "E_POLICY_VIOLATION"
	// CodeNoMatchingAttestation: the policy requires a predicate type that
	// no verified attestation carries.
	CodeNoMatchingAttestation verify.Code = "E_NO_MATCHING_ATTESTATION"
	// CodeUnsigned: trust was configured but nothing signed by it binds to
	// the image (UNVERIFIABLE).
	CodeUnsigned verify.Code = "E_UNSIGNED"
	// CodeKeylessUnavailable: keyless verification was asked for but this
	// build cannot do it (UNVERIFIABLE).
	CodeKeylessUnavailable verify.Code = "E_KEYLESS_UNAVAILABLE"
	// CodePolicyUnavailable: the policy has a CUE or Rego requirement and
	// this build cannot evaluate it (UNVERIFIABLE).
	CodePolicyUnavailable verify.Code = "E_POLICY_UNAVAILABLE"
	// CodeUnsupportedAttachment: a signature format that cannot be checked
	// with the configured trust (UNVERIFIABLE).
	CodeUnsupportedAttachment verify.Code = "E_UNSUPPORTED_ATTACHMENT"
	// CodeUnsignedClaim: a claim with no signature, such as a BuildKit
	// attestation (info; never counted as verified).
	CodeUnsignedClaim verify.Code = "I_UNSIGNED_CLAIM"
	// CodeClaimOnArtifact: a claim names an artifact of the source (an
	// SBOM or signature pushed with ORAS), not the image (info; never
	// counted as binding the image).
	CodeClaimOnArtifact verify.Code = "I_CLAIM_ON_ARTIFACT"
	// CodeSignerUntrusted: a Notary Project signature's chain does not lead
	// to the trust store, or its signer is not a trusted identity.
	CodeSignerUntrusted verify.Code = "E_SIGNER_UNTRUSTED"
	// CodeSignatureExpired: the signature's expiry time has passed.
	CodeSignatureExpired verify.Code = "E_SIGNATURE_EXPIRED"
	// CodeSigningTimeInvalid: no authentic signing time at which the
	// certificates were valid (an expired certificate without a trusted
	// timestamp, or an invalid timestamp).
	CodeSigningTimeInvalid verify.Code = "E_SIGNING_TIME_INVALID"
	// CodeCertificateRevoked: a certificate of the chain is revoked.
	CodeCertificateRevoked verify.Code = "E_CERTIFICATE_REVOKED"
	// CodeRevocationUnavailable: a revocation check the trust policy
	// enforces could not run offline (UNVERIFIABLE).
	CodeRevocationUnavailable verify.Code = "E_REVOCATION_UNAVAILABLE"
	// CodeNoTrustPolicy: no trust policy statement applies to the
	// signature's scope, or it needs a plugin (UNVERIFIABLE).
	CodeNoTrustPolicy verify.Code = "E_NO_TRUST_POLICY"
	// CodeNotChecked: a signature was found but no trust was configured.
	CodeNotChecked verify.Code = "I_SIGNATURE_NOT_CHECKED"
)

// PredicateCosignSign is the predicate type of the statement that cosign
// v3 signs in place of a simple-signing payload (sign with its default
// --new-bundle-format): a signature of the subject, with an empty
// predicate.
const PredicateCosignSign = "https://sigstore.dev/cosign/sign/v1"

// Attestation kinds, as reported in Attestation.Kind.
const (
	KindCosignSignature   = "cosign-signature"
	KindCosignAttestation = "cosign-attestation"
	KindReferrer          = "referrer"
	KindBuildKit          = "buildkit-attestation"
	KindDSSE              = "dsse"
	KindBundle            = "sigstore-bundle"
	KindNotary            = "notary-signature"
	// The kinds of imgproof verify-blob and imgproof in-toto verify: a
	// bare signature over a blob, a sigstore bundle that carries an
	// attestation, and a classic in-toto layout.
	KindSignature         = "signature"
	KindBundleAttestation = "sigstore-bundle-attestation"
	KindInTotoLayout      = "in-toto-layout"
)

// Attestation statuses, as reported in Attestation.Status.
const (
	StatusVerified     = "verified"
	StatusFailed       = "failed"
	StatusUnsigned     = "unsigned"
	StatusUnverifiable = "unverifiable"
)

// Check statuses, as reported in Check.Status.
const (
	CheckPass = "pass"
	CheckFail = "fail"
	CheckSkip = "skip"
)
