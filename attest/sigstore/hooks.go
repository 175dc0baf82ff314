//go:build !js

package sigstore

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/internal/limits"
)

// Keyless is the sigstore trust of a native run besides its keys and
// identities (attest.Options.KeyDocuments and Identities).
type Keyless struct {
	// Roots are trusted_root.json documents: a signature must verify
	// against one.
	Roots [][]byte
	// GitHub, if set, trusts GitHub artifact attestations that meet it, as
	// gh attestation verify does; Identity and IdentityRegexp then narrow
	// the signer, and an attestation of PredicateType (SLSAProvenanceV1
	// when empty) becomes a requirement of the policy.
	GitHub                   *GitHub
	Identity, IdentityRegexp string
	PredicateType            string
}

// Complete sets the hooks of opts that sigstore-go provides: Bundles,
// which checks sigstore bundles against each trusted key and then each
// trusted identity, and Legacy, which checks keyless cosign .sig and .att
// layers against each identity. The first policy that verifies wins.
// Every policy is bounded by opts.Limits, the limits of the run.
func Complete(opts *attest.Options, k Keyless) error {
	if k.GitHub != nil {
		pt := k.PredicateType
		if pt == "" {
			pt = SLSAProvenanceV1
		}
		if err := requirePredicate(opts, pt); err != nil {
			return err
		}
	}
	ids := identityPolicies(opts.Identities, k.Roots, opts.Limits)
	if k.GitHub != nil {
		for _, r := range k.Roots {
			ids = append(ids, Policy{TrustedRoot: r, GitHub: k.GitHub, Identity: k.Identity, IdentityRegexp: k.IdentityRegexp, Limits: opts.Limits})
		}
	}
	opts.Bundles = bundleVerifier(opts.KeyDocuments, ids, k.Roots, opts.Limits)
	if len(ids) > 0 {
		opts.Legacy = legacyVerifier(ids)
	}
	return nil
}

// bundleVerifier checks sigstore bundles against each trusted key, then
// each trusted identity.
func bundleVerifier(keyPEMs [][]byte, ids []Policy, roots [][]byte, lim *limits.Limits) attest.BundleVerifier {
	var policies []Policy
	for _, k := range keyPEMs {
		if len(roots) == 0 {
			policies = append(policies, Policy{Key: k, Limits: lim})
		}
		for _, r := range roots {
			policies = append(policies, Policy{Key: k, TrustedRoot: r, Limits: lim})
		}
	}
	policies = append(policies, ids...)
	return func(ctx context.Context, bundle []byte, artifactDigest string) attest.BundleResult {
		return firstVerified(policies, func(p Policy) (*Result, error) {
			return Verify(ctx, bundle, Artifact{Digest: artifactDigest}, p)
		})
	}
}

// legacyVerifier checks keyless cosign .sig and .att layers (certificate
// and Rekor bundle in annotations) against each trusted identity.
func legacyVerifier(policies []Policy) attest.LegacyVerifier {
	return func(ctx context.Context, sig attest.LegacySignature) attest.BundleResult {
		return firstVerified(policies, func(p Policy) (*Result, error) {
			return VerifyCosignLayer(ctx, sig, p)
		})
	}
}

// identityPolicies is one policy per identity and trusted root.
func identityPolicies(ids []policy.Identity, roots [][]byte, lim *limits.Limits) []Policy {
	var policies []Policy
	for _, id := range ids {
		for _, r := range roots {
			policies = append(policies, Policy{TrustedRoot: r, Identity: id.Subject, IdentityRegexp: id.SubjectRegExp,
				Issuer: id.Issuer, IssuerRegexp: id.IssuerRegExp, Limits: lim})
		}
	}
	return policies
}

// requirePredicate makes an attestation of predicate type pt, signed by a
// trusted signer and bound to the image, a requirement of the policy, as
// gh attestation verify requires one of --predicate-type.
func requirePredicate(opts *attest.Options, pt string) error {
	if opts.Policy == nil {
		doc, err := json.Marshal(map[string]any{"apiVersion": policy.APIVersion,
			"attestations": []map[string]string{{"name": "GitHub attestation", "predicateType": pt}}})
		if err != nil {
			return err
		}
		opts.Policy, err = policy.Parse(doc)
		return err
	}
	opts.Policy.Attestations = append(opts.Policy.Attestations, policy.Requirement{Name: "GitHub attestation", PredicateType: pt})
	return nil
}

// firstVerified runs check under each policy (identity and trusted root)
// until one verifies; otherwise it reports the failure that got furthest,
// the later of equals.
func firstVerified(policies []Policy, check func(Policy) (*Result, error)) attest.BundleResult {
	var out attest.BundleResult
	most := -1
	for _, p := range policies {
		res, err := check(p)
		if err == nil && res.Verified {
			out = attest.BundleResult{Checks: res.Checks, PayloadType: res.PayloadType, PredicateType: res.PredicateType,
				Verified: true, Statement: res.Payload, Build: res.Build}
			if s := res.SignerName(); s != "" {
				out.Signers = []string{s}
			}
			return out
		}
		if n := res.Passed(); n >= most {
			most = n
			out = attest.BundleResult{Checks: res.Checks, PayloadType: res.PayloadType, PredicateType: res.PredicateType}
			var se *Error
			if errors.As(err, &se) {
				f := se.Finding("")
				out.Finding = &f
			}
		}
	}
	return out
}
