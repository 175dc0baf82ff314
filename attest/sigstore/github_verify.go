//go:build !js

package sigstore

import (
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/imgproof/imgproof/attest"
)

// githubIdentity is sigstore-go's identity for GitHub criteria, as gh
// builds it: the signer check on the SAN and the runner environment.
// The issuer matches anything here; checkGitHub compares it, without
// regard to case, with the other extensions.
func githubIdentity(p *Policy) (sgverify.CertificateIdentity, error) {
	san, err := sgverify.NewSANMatcher(p.Identity, anchor(p.IdentityRegexp))
	if p.Identity == "" && p.IdentityRegexp == "" {
		re, rerr := p.GitHub.sanRegexp()
		if rerr != nil {
			return sgverify.CertificateIdentity{}, rerr
		}
		san, err = sgverify.NewSANMatcher("", re)
	}
	if err != nil {
		return sgverify.CertificateIdentity{}, err
	}
	iss, err := sgverify.NewIssuerMatcher("", ".*")
	if err != nil {
		return sgverify.CertificateIdentity{}, err
	}
	var ext certificate.Extensions
	if p.GitHub.DenySelfHostedRunners {
		ext.RunnerEnvironment = GitHubHostedRunner
	}
	return sgverify.NewCertificateIdentity(san, iss, ext)
}

// checkGitHub compares the certificate's extensions with the criteria,
// in gh's order and without regard to case.
func (g *GitHub) check(sum *certificate.Summary) error {
	base := "https://" + g.host() + "/"
	for _, c := range []struct{ name, want, got string }{
		{"source repository owner URI", base + g.owner(), sum.SourceRepositoryOwnerURI},
		{"source repository URI", optional(g.Repo, base+g.Repo), sum.SourceRepositoryURI},
		{"OIDC issuer", g.issuer(), sum.Issuer},
		{"build signer digest", g.SignerDigest, sum.BuildSignerDigest},
		{"source repository digest", g.SourceDigest, sum.SourceRepositoryDigest},
		{"source repository ref", g.SourceRef, sum.SourceRepositoryRef},
	} {
		if c.want != "" && !strings.EqualFold(c.want, c.got) {
			return fmt.Errorf("GitHub %s: want %q, the certificate has %q", c.name, c.want, c.got)
		}
	}
	if g.DenySelfHostedRunners && sum.RunnerEnvironment != GitHubHostedRunner {
		return fmt.Errorf("GitHub runner environment: want %q, the certificate has %q", GitHubHostedRunner, sum.RunnerEnvironment)
	}
	return nil
}

func optional(cond, v string) string {
	if cond == "" {
		return ""
	}
	return v
}

// buildOf is the build a certificate names, or nil when it names none.
func buildOf(sum *certificate.Summary) *attest.Build {
	b := attest.Build{Repository: sum.SourceRepositoryURI, Ref: sum.SourceRepositoryRef, Commit: sum.SourceRepositoryDigest,
		Workflow: sum.BuildSignerURI, WorkflowDigest: sum.BuildSignerDigest, Runner: sum.RunnerEnvironment,
		Issuer: sum.Issuer, Invocation: sum.RunInvocationURI}
	if b == (attest.Build{Issuer: sum.Issuer}) {
		return nil
	}
	return &b
}
