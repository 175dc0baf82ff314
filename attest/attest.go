// Package attest verifies the signatures and attestations of an image
// whose content package verify has already recomputed, and binds every
// claim to those recomputed digests.
//
// Claims come from the verified source (cosign's .sig/.att scheme as
// cosign save writes it, OCI 1.1 referrers and the referrers fallback tag,
// BuildKit attestation manifests) and from files given by the user (DSSE
// envelopes, JSON lines, sigstore bundles). Each becomes one
// Attestation in the run's Report, with every check that ran; what weighs
// on the verdict is a finding in the verifier's report.
//
// With trust configured (keys, or keyless identities through a
// BundleVerifier), the image gains the VERIFIED verdict only when at least
// one claim signed by a trusted signer binds to a recomputed digest, and
// no claim attached to the image fails. Unsigned claims are reported as
// unsigned and never count as verified.
//
// The package is wasm-safe: it reads files and keys only through its
// arguments.
package attest

import (
	"context"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// Blobs reads content-addressed blobs of the verified source; the bytes
// returned are checked against d. *verify.Result implements it.
type Blobs interface {
	ReadBlob(d digest.Digest, limit int64) ([]byte, error)
}

// Root is a top-level descriptor of the source (an index.json entry),
// with its annotations.
type Root struct {
	Descriptor ocispec.Descriptor
	// Path locates the entry, for example index.json/manifests[2].
	Path string
}

// Target is a verified image: its report, its roots and its blobs.
type Target struct {
	Report *verify.Report
	Roots  []Root
	Blobs  Blobs
}

// File is an attestation file given by the user.
type File struct {
	Name string
	Data []byte
}

// Options configure what is trusted and demanded. The zero value trusts
// nothing: signatures are found and reported, never counted as verified.
type Options struct {
	// Keys are the trusted public keys.
	Keys []*keys.Key
	// Threshold is the number of distinct trusted keys each DSSE envelope
	// needs; 0 means the policy's, or 1.
	Threshold int
	// Policy, if set, adds requirements on signatures and attestations.
	Policy *policy.Policy
	// Files are extra attestations (--attestation).
	Files []File
	// Bundles verifies sigstore bundles (and keyless trust); nil means
	// bundles are unverifiable in this build.
	Bundles BundleVerifier
	// Legacy verifies keyless cosign signatures attached without a sigstore
	// bundle: a certificate and a Rekor bundle in the annotations of a .sig
	// or .att layer. nil means this build cannot, and such layers are
	// UNVERIFIABLE (E_KEYLESS_UNAVAILABLE).
	Legacy LegacyVerifier
	// Policies evaluates the CUE and Rego policies of the policy's
	// requirements as cosign does (attest/cosignpolicy.Evaluate). nil
	// means this build cannot (the WebAssembly module): a requirement with
	// such a policy is then UNVERIFIABLE (E_POLICY_UNAVAILABLE), never met.
	Policies PolicyEvaluator
	// Keyless is true when keyless trust was asked for; without Bundles
	// that yields an UNVERIFIABLE finding.
	Keyless bool
	// Identities are the trusted keyless signers, and KeyDocuments the
	// documents Keys were read from: what the native hooks (Bundles,
	// Legacy) verify with, in their own formats (see Trust).
	Identities   []policy.Identity
	KeyDocuments [][]byte
	// Notary verifies Notary Project signatures against a trust policy
	// and trust store (attest/notary, native only). nil means no such
	// trust was given: the signatures are listed, present but unchecked.
	Notary NotaryVerifier
	// Limits bounds the work; nil means limits.Default().
	Limits *limits.Limits
}

// NotarySignature is a Notary Project signature found attached to a
// manifest: the envelope of the signature manifest's one layer, and the
// descriptor of the manifest it is attached to as imgproof recomputed it.
type NotarySignature struct {
	// MediaType is MediaTypeJWS or MediaTypeCOSE.
	MediaType string
	Envelope  []byte
	// Target is the signed manifest: its recomputed digest, the length of
	// its verified bytes and its media type.
	Target ocispec.Descriptor
	// Scope is the repository the source is verified as when the trust
	// names none (DefaultScope).
	Scope string
}

// NotaryResult is the outcome of a Notary Project verification.
type NotaryResult struct {
	BundleResult
	// Target is the descriptor the verified payload signs (set when the
	// envelope's integrity was established).
	Target *ocispec.Descriptor
	// Signature describes the envelope: scheme, signing time, chain.
	Signature *SignatureInfo
	// Warnings are checks the trust policy logs without enforcing.
	Warnings []verify.Finding
}

// NotaryVerifier verifies one Notary Project signature. It must fill
// every field of BundleResult; Finding carries the failure, whose severity
// is unverifiable when a required check could not run.
type NotaryVerifier func(ctx context.Context, sig NotarySignature) NotaryResult

// BundleVerifier verifies one sigstore bundle against the digest it must
// cover (algorithm:hex). It must fill every field of BundleResult.
type BundleVerifier func(ctx context.Context, bundle []byte, artifactDigest string) BundleResult

// LegacySignature is a keyless cosign signature as cosign attaches it to
// a .sig or .att image: one layer and its annotations.
type LegacySignature struct {
	// MediaType is MediaTypeSimpleSigning (Data is the signed payload) or
	// MediaTypeDSSE (Data is the DSSE envelope, signed over its PAE).
	MediaType string
	Data      []byte
	// Signature, Certificate, Chain and Bundle are the layer annotations
	// AnnotationCosignSignature, AnnotationCosignCertificate,
	// AnnotationCosignChain and AnnotationCosignBundle.
	Signature   string
	Certificate string
	Chain       string
	Bundle      string
}

// LegacyVerifier verifies a LegacySignature against the trusted
// identities. It must fill every field of BundleResult; for a DSSE layer,
// Statement holds the verified statement, whose subjects the caller binds.
type LegacyVerifier func(ctx context.Context, sig LegacySignature) BundleResult

// PolicyEvaluator evaluates a CUE or Rego policy on a verified in-toto
// statement. A nil error means the statement satisfies it, and note may
// carry the policy's warning; an error says why it does not.
type PolicyEvaluator func(ctx context.Context, p *policy.Embedded, statement []byte) (note string, err error)

// BundleResult is the outcome of a bundle verification.
type BundleResult struct {
	// Verified is true only when every check passed.
	Verified bool
	Signers  []string
	// PayloadType, PredicateType and Statement are set for DSSE bundles;
	// Statement holds the verified statement bytes.
	PayloadType   string
	PredicateType string
	Statement     []byte
	Checks        []Check
	// Build is the build a verified keyless signer's certificate names.
	Build *Build
	// Finding describes the failure when Verified is false.
	Finding *verify.Finding
}

func (o *Options) limits() limits.Limits {
	if o == nil || o.Limits == nil {
		return limits.Default()
	}
	return *o.Limits
}

func (o *Options) threshold() int {
	if o.Threshold > 0 {
		return o.Threshold
	}
	return o.Policy.EffectiveThreshold()
}

// trusted reports whether any trust was configured.
func (o *Options) trusted() bool { return len(o.Keys) > 0 || o.Keyless }

// check finds and checks every signature and attestation of t and returns
// one Attestation per claim. It records in t.Report what weighs on the
// verdict: findings for failures, passed checks counted. The verifier's
// run then finalizes the report (see Run).
func check(ctx context.Context, t Target, opts *Options) []Attestation {
	r := newRun(ctx, t, opts)
	r.discover()
	for _, f := range opts.Files {
		r.file(f)
	}
	return r.conclude()
}
