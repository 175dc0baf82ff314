package attest

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/internal/limits"
)

// Trust is what a face was told to trust, as it was given: key and policy
// documents with their names, a keyless identity and attestation files.
// cmd fills it from flags and the files they name, the WebAssembly module
// from its JavaScript options; Options turns it into the Options of a run
// by the same rules for both. A native build then adds the hooks only it
// has (sigstore, Notary Project, cosign policies); the browser leaves them
// nil, and what they would check is UNVERIFIABLE, never a pass.
type Trust struct {
	// Keys are trusted PEM public keys; each Name labels its keys.
	Keys []File
	// Policy is the imgproof policy (YAML or JSON), if any; Name names it
	// in errors, and its base name labels the keys it holds.
	Policy *File
	// Requirements are further attestation requirements (cosign's .rego
	// and .cue policies), added to Policy's, or to an empty policy.
	Requirements []policy.Requirement
	// PolicyKey reads a key file that the policy names (keys[i].path);
	// nil refuses such keys, as the browser, which has no files, must.
	PolicyKey func(i int, path string) (File, error)
	// Threshold is the number of distinct trusted keys each DSSE envelope
	// needs; 0 means the policy's, or 1.
	Threshold int
	// Identity is the keyless signer given besides the policy's; the zero
	// value is none.
	Identity policy.Identity
	// Keyless asks for keyless trust even without an identity (GitHub
	// artifact attestations select their signers by other means).
	Keyless bool
	// Attestations are attestation files to check with the image's own.
	Attestations []File
	// Limits bounds the work, and the key, policy and attestation
	// documents above as Options parses them; nil means limits.Default().
	Limits *limits.Limits
}

// Input names an input of Trust in a TrustError.
type Input string

// The inputs of Trust that can be unusable.
const (
	InputThreshold     Input = "threshold"
	InputKey           Input = "key"
	InputAttestation   Input = "attestation"
	InputIdentity      Input = "identity"
	InputPolicy        Input = "policy"
	InputPolicyKey     Input = "policy key"
	InputPolicyKeyFile Input = "policy key file"
)

// TrustError is an input of Trust that cannot be used. Each face words it
// in its own terms: the CLI names its flags, the module its options.
type TrustError struct {
	Input Input
	// Name is the policy's name, for the policy inputs.
	Name string
	Err  error
}

func (e *TrustError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("%s %s: %v", e.Input, e.Name, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Input, e.Err)
}

func (e *TrustError) Unwrap() error { return e.Err }

// Options checks the inputs and builds the Options of a run from them:
// keys parsed, the identity complete, the policy parsed with its keys, and
// Keyless set when any identity is trusted. The native hooks are left nil.
// Each document is bounded by the limit of its kind in t.Limits (key-file-
// bytes, policy-file-bytes, claim-file-bytes), whatever face read it.
func (t *Trust) Options() (*Options, error) {
	if t.Threshold < 0 {
		return nil, &TrustError{Input: InputThreshold, Err: errors.New("must be at least 1")}
	}
	lim := limits.Default()
	if t.Limits != nil {
		lim = *t.Limits
	}
	opts := &Options{Threshold: t.Threshold, Keyless: t.Keyless, Limits: t.Limits}
	for _, k := range t.Keys {
		ks, err := keys.ParsePEMLimited(k.Data, k.Name, lim)
		if err != nil {
			return nil, &TrustError{Input: InputKey, Err: err}
		}
		opts.Keys = append(opts.Keys, ks...)
		opts.KeyDocuments = append(opts.KeyDocuments, k.Data)
	}
	if id := t.Identity; id != (policy.Identity{}) {
		if (id.Subject == "") == (id.SubjectRegExp == "") || (id.Issuer == "") == (id.IssuerRegExp == "") {
			return nil, &TrustError{Input: InputIdentity, Err: errors.New("keyless verification needs a subject or subject regexp and an issuer or issuer regexp")}
		}
		opts.Identities = append(opts.Identities, id)
	}
	if err := t.policy(opts, lim); err != nil {
		return nil, err
	}
	for _, f := range t.Attestations {
		if int64(len(f.Data)) > lim.ClaimFile {
			return nil, &TrustError{Input: InputAttestation, Err: limits.Exceeded(limits.ClaimFile, lim.ClaimFile, f.Name)}
		}
	}
	opts.Files = append(opts.Files, t.Attestations...)
	if len(opts.Identities) > 0 {
		opts.Keyless = true
	}
	return opts, nil
}

// policy parses the policy, adds the requirements, and trusts the keys
// and identities it names.
func (t *Trust) policy(opts *Options, lim limits.Limits) error {
	var p *policy.Policy
	name := ""
	if t.Policy != nil {
		var err error
		name = t.Policy.Name
		if p, err = policy.ParseLimited(t.Policy.Data, lim); err != nil {
			return &TrustError{Input: InputPolicy, Name: name, Err: err}
		}
	}
	if len(t.Requirements) > 0 {
		if p == nil {
			p = &policy.Policy{APIVersion: policy.APIVersion}
		}
		p.Attestations = append(p.Attestations, t.Requirements...)
	}
	if p == nil {
		return nil
	}
	opts.Policy = p
	for i, kr := range p.Keys {
		doc := File{Name: fmt.Sprintf("%s keys[%d]", filepath.Base(name), i), Data: []byte(kr.PEM)}
		if kr.Path != "" {
			if t.PolicyKey == nil {
				return &TrustError{Input: InputPolicyKeyFile, Name: name,
					Err: fmt.Errorf("keys[%d] names a file (%s), and this build reads none", i, kr.Path)}
			}
			var err error
			if doc, err = t.PolicyKey(i, kr.Path); err != nil {
				return &TrustError{Input: InputPolicyKeyFile, Name: name, Err: err}
			}
		}
		ks, err := keys.ParsePEMLimited(doc.Data, doc.Name, lim)
		if err != nil {
			return &TrustError{Input: InputPolicyKey, Err: err}
		}
		opts.Keys = append(opts.Keys, ks...)
		opts.KeyDocuments = append(opts.KeyDocuments, doc.Data)
	}
	opts.Identities = append(opts.Identities, p.Identities...)
	return nil
}
