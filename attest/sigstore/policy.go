package sigstore

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/imgproof/imgproof/internal/limits"
)

// Policy says who must have signed. Its zero value admits nothing.
//
// Keyless verification needs TrustedRoot and both an identity and an
// issuer, each given exactly or as a regular expression (never both). A
// regular expression must match the whole value: it is anchored as
// ^(?:expr)$ before use.
//
// Key verification needs Key. TrustedRoot is then optional: with it, the
// bundle's transparency log entries must verify too; without it they are
// reported as skipped, and the key alone is the trust anchor.
type Policy struct {
	// TrustedRoot is the content of a trusted_root.json file.
	TrustedRoot []byte
	// Key is a PEM public key (ECDSA, Ed25519 or RSA).
	Key []byte

	Identity       string
	IdentityRegexp string
	Issuer         string
	IssuerRegexp   string

	// PredicateType, when set, requires a DSSE in-toto statement with
	// exactly this predicate type.
	PredicateType string

	// GitHub, when set, selects GitHub Actions signers by the
	// certificate's extensions, as `gh attestation verify` does. It takes
	// the place of Issuer and IssuerRegexp; Identity or IdentityRegexp,
	// when given, replace its signer check on the SAN.
	GitHub *GitHub

	// Limits bounds the bundle, its statement and the key; nil means
	// limits.Default().
	Limits *limits.Limits
}

// limits returns the limits of the policy.
func (p *Policy) limits() limits.Limits {
	if p.Limits == nil {
		return limits.Default()
	}
	return *p.Limits
}

// keyless reports whether the policy selects certificate identities.
func (p *Policy) keyless() bool { return len(p.Key) == 0 }

// validate checks that the policy asks for something and is unambiguous.
func (p *Policy) validate() error {
	if !p.keyless() {
		if p.Identity != "" || p.IdentityRegexp != "" || p.Issuer != "" || p.IssuerRegexp != "" || p.GitHub != nil {
			return errors.New("a key and a certificate identity are mutually exclusive")
		}
		return nil
	}
	if len(p.TrustedRoot) == 0 {
		return errors.New("keyless verification needs a trusted root")
	}
	if p.GitHub != nil {
		return p.validateGitHub()
	}
	if err := exactlyOne("certificate identity", p.Identity, p.IdentityRegexp); err != nil {
		return err
	}
	if err := exactlyOne("certificate OIDC issuer", p.Issuer, p.IssuerRegexp); err != nil {
		return err
	}
	for _, re := range []string{p.IdentityRegexp, p.IssuerRegexp} {
		if re == "" {
			continue
		}
		if _, err := regexp.Compile(anchor(re)); err != nil {
			return fmt.Errorf("regular expression %q: %w", re, err)
		}
	}
	return nil
}

// validateGitHub checks a policy of GitHub criteria.
func (p *Policy) validateGitHub() error {
	if p.Issuer != "" || p.IssuerRegexp != "" {
		return errors.New("GitHub criteria name the OIDC issuer themselves")
	}
	if p.Identity != "" && p.IdentityRegexp != "" {
		return errors.New("give the certificate identity exactly or as a regular expression, not both")
	}
	if (p.Identity != "" || p.IdentityRegexp != "") && (p.GitHub.SignerRepo != "" || p.GitHub.SignerWorkflow != "") {
		return errors.New("a certificate identity and a signer repository or workflow are mutually exclusive")
	}
	if p.IdentityRegexp != "" {
		if _, err := regexp.Compile(anchor(p.IdentityRegexp)); err != nil {
			return fmt.Errorf("regular expression %q: %w", p.IdentityRegexp, err)
		}
	}
	return p.GitHub.Validate()
}

func exactlyOne(what, exact, re string) error {
	switch {
	case exact == "" && re == "":
		return fmt.Errorf("a %s is required (exact or regular expression)", what)
	case exact != "" && re != "":
		return fmt.Errorf("give the %s exactly or as a regular expression, not both", what)
	}
	return nil
}

// anchor makes a regular expression match only whole values.
func anchor(re string) string {
	if re == "" {
		return ""
	}
	return "^(?:" + re + ")$"
}
