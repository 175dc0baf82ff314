package sigstore

import (
	"errors"
	"fmt"
	"regexp"
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
}

// keyless reports whether the policy selects certificate identities.
func (p *Policy) keyless() bool { return len(p.Key) == 0 }

// validate checks that the policy asks for something and is unambiguous.
func (p *Policy) validate() error {
	if !p.keyless() {
		if p.Identity != "" || p.IdentityRegexp != "" || p.Issuer != "" || p.IssuerRegexp != "" {
			return errors.New("a key and a certificate identity are mutually exclusive")
		}
		return nil
	}
	if len(p.TrustedRoot) == 0 {
		return errors.New("keyless verification needs a trusted root")
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
