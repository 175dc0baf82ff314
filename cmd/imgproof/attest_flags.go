//go:build !js

package main

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/native"
	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/attest/sigstore"
	"github.com/imgproof/imgproof/internal/limits"
)

// attestFlags are the flags `verify` gains for signatures and attestations.
var attestFlags struct {
	keys           []string
	attestations   []string
	policies       []string
	predicateType  string
	threshold      int
	identity       string
	identityRegexp string
	issuer         string
	issuerRegexp   string
	trustedRoots   []string
	github         githubFlags
}

func init() {
	verifyExtensions = append(verifyExtensions, verifyExtension{flags: addAttestFlags})
	trustOptions = attestOptions
}

func addAttestFlags(f *pflag.FlagSet) {
	f.StringArrayVar(&attestFlags.keys, "key", nil, "trusted PEM public key `file` (repeatable); the image must carry a signature or attestation by it")
	f.StringArrayVar(&attestFlags.attestations, "attestation", nil, "attestation `file`: DSSE envelope, JSON lines, or sigstore bundle (repeatable)")
	f.StringArrayVar(&attestFlags.policies, "policy", nil, "policy `file`: YAML or JSON with required attestations and trusted signers (at most one), or a cosign policy FILE.rego or FILE.cue that every signed attestation of --type must satisfy, evaluated as cosign verify-attestation --policy evaluates it (repeatable)")
	f.StringVar(&attestFlags.predicateType, "type", "", "predicate type the .rego/.cue policies apply to: a URI or cosign's short name (slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, cyclonedx, link, vuln, openvex, custom); default every predicate type")
	f.IntVar(&attestFlags.threshold, "threshold", 0, "distinct trusted keys that must sign each DSSE envelope (default: the policy's, or 1)")
	f.StringVar(&attestFlags.identity, "certificate-identity", "", "keyless: the signer's certificate identity, exact")
	f.StringVar(&attestFlags.identityRegexp, "certificate-identity-regexp", "", "keyless: the signer's certificate identity, an anchored regular expression")
	f.StringVar(&attestFlags.issuer, "certificate-oidc-issuer", "", "keyless: the certificate's OIDC issuer, exact")
	f.StringVar(&attestFlags.issuerRegexp, "certificate-oidc-issuer-regexp", "", "keyless: the certificate's OIDC issuer, an anchored regular expression")
	f.StringArrayVar(&attestFlags.trustedRoots, "trusted-root", nil, "keyless: sigstore trusted_root.json `file`, repeatable: a signature must verify against one (default $"+trustedRootEnv+")")
	addGitHubFlags(f, &attestFlags.github)
}

// attestOptions builds the trust the claims of an image are checked with:
// the flags and the files they name fill an attest.Trust, which gives the
// options both faces build the same way, and the native hooks complete
// them. Unreadable flags and files are errors; everything about the image
// is a finding of attest.Run. Every file is read, and parsed, under the
// limit of its kind that --limit sets.
func attestOptions() (*attest.Options, error) {
	a := &attestFlags
	lim, err := verifyFlags.limits.apply()
	if err != nil {
		return nil, err
	}
	t := &attest.Trust{Threshold: a.threshold, Limits: lim,
		Identity: policy.Identity{Subject: a.identity, SubjectRegExp: a.identityRegexp, Issuer: a.issuer, IssuerRegExp: a.issuerRegexp}}
	for _, path := range a.keys {
		data, err := readSmall(path, limits.KeyFile, lim.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("--key: %w", err)
		}
		t.Keys = append(t.Keys, attest.File{Name: filepath.Base(path), Data: data})
	}
	gh, err := a.github.criteria()
	if err != nil {
		return nil, err
	}
	if gh != nil && len(a.keys) > 0 {
		// The attestation --predicate-type requires must be GitHub's, not one a key signed.
		return nil, errors.New("--owner and --repo select keyless GitHub signers, not with --key")
	}
	if gh != nil && (a.issuer != "" || a.issuerRegexp != "") {
		return nil, errors.New("with --owner or --repo, give the issuer with --cert-oidc-issuer")
	}
	if gh != nil && a.identity != "" && a.identityRegexp != "" {
		return nil, errors.New("give --certificate-identity or --certificate-identity-regexp, not both")
	}
	if gh != nil {
		// The identity flags narrow GitHub's signers instead.
		t.Identity, t.Keyless = policy.Identity{}, true
	}
	if err := readPolicies(t, a.policies, a.predicateType, lim); err != nil {
		return nil, err
	}
	for _, path := range a.attestations {
		data, err := readSmall(path, limits.ClaimFile, lim.ClaimFile)
		if err != nil {
			return nil, fmt.Errorf("--attestation: %w", err)
		}
		t.Attestations = append(t.Attestations, attest.File{Name: path, Data: data})
	}
	opts, err := t.Options()
	if err != nil {
		return nil, flagError(err)
	}
	n := native.Trust{Keyless: sigstore.Keyless{GitHub: gh}}
	if gh != nil {
		n.Keyless.Identity, n.Keyless.IdentityRegexp, n.Keyless.PredicateType = a.identity, a.identityRegexp, a.github.predicateType
	}
	if opts.Keyless {
		if n.Keyless.Roots, err = readRoots(a.trustedRoots, lim); err != nil {
			return nil, fmt.Errorf("--trusted-root: %w", err)
		}
		if len(n.Keyless.Roots) == 0 {
			return nil, errors.New("keyless verification needs --trusted-root (or $" + trustedRootEnv + ")")
		}
	}
	if n.Notary, err = notaryTrust(lim); err != nil {
		return nil, err
	}
	if err := native.Complete(opts, n); err != nil {
		return nil, err
	}
	return opts, nil
}

// flagError words an unusable input of attest.Trust in terms of the flags.
func flagError(err error) error {
	var te *attest.TrustError
	if !errors.As(err, &te) {
		return err
	}
	switch te.Input {
	case attest.InputThreshold:
		return errors.New("--threshold must be at least 1")
	case attest.InputIdentity:
		return errors.New("keyless verification needs one of --certificate-identity[-regexp] and one of --certificate-oidc-issuer[-regexp]")
	case attest.InputKey:
		return fmt.Errorf("--key: %w", te.Err)
	case attest.InputAttestation:
		return fmt.Errorf("--attestation: %w", te.Err)
	case attest.InputPolicy:
		return fmt.Errorf("--policy %s: %w", te.Name, te.Err)
	default:
		return fmt.Errorf("--policy: %w", te.Err)
	}
}

// readPolicies reads the --policy files into t: at most one imgproof
// policy (YAML or JSON), whose relative key paths are read from its
// directory, and any number of cosign policies (.rego, .cue), chosen by
// extension as cosign chooses, each a requirement on every signed
// attestation of predicateType. Policies and the key files they name are
// read within lim.
func readPolicies(t *attest.Trust, paths []string, predicateType string, lim *limits.Limits) error {
	if predicateType != "" {
		if _, ok := policy.PredicateTypeNames[predicateType]; !ok {
			if _, err := url.ParseRequestURI(predicateType); err != nil {
				return fmt.Errorf("--type %q: neither a URI nor one of cosign's predicate type names", predicateType)
			}
		}
	}
	for _, path := range paths {
		data, err := readSmall(path, limits.PolicyFile, lim.PolicyFile)
		if err != nil {
			return fmt.Errorf("--policy: %w", err)
		}
		switch ext := filepath.Ext(path); ext {
		case ".rego", ".cue":
			fp, err := policy.ForFileLimited(ext[1:], path, string(data), predicateType, *lim)
			if err != nil {
				return fmt.Errorf("--policy %s: %w", path, err)
			}
			t.Requirements = append(t.Requirements, fp.Attestations...)
		default:
			if t.Policy != nil {
				return fmt.Errorf("--policy %s: only one YAML or JSON policy may be given (%s is the other)", path, t.Policy.Name)
			}
			t.Policy = &attest.File{Name: path, Data: data}
			t.PolicyKey = func(_ int, keyPath string) (attest.File, error) {
				if !filepath.IsAbs(keyPath) {
					keyPath = filepath.Join(filepath.Dir(path), keyPath)
				}
				data, err := readSmall(keyPath, limits.KeyFile, lim.KeyFile)
				return attest.File{Name: filepath.Base(keyPath), Data: data}, err
			}
		}
	}
	if predicateType != "" && len(t.Requirements) == 0 {
		return errors.New("--type selects the attestations of a .rego or .cue --policy; give one")
	}
	return nil
}
