//go:build !js

package main

import (
	"errors"
	"os"

	"github.com/spf13/pflag"

	"github.com/imgproof/imgproof/attest/sigstore"
	"github.com/imgproof/imgproof/internal/limits"
)

// githubFlags are the options of `gh attestation verify` that select
// GitHub Actions signers by their Fulcio certificate's extensions.
type githubFlags struct {
	owner, repo                       string
	signerRepo, signerWorkflow        string
	issuer, hostname                  string
	predicateType                     string
	sourceRef, sourceDigest, signerDg string
	denySelfHosted                    bool
}

func addGitHubFlags(f *pflag.FlagSet, g *githubFlags) {
	f.StringVar(&g.owner, "owner", "", "GitHub: the `ORG` whose repository built the artifact (source repository owner)")
	f.StringVar(&g.repo, "repo", "", "GitHub: the `ORG/NAME` repository that built the artifact (source repository)")
	f.StringVar(&g.signerRepo, "signer-repo", "", "GitHub: the `ORG/NAME` repository of the workflow that signed, for a reusable workflow")
	f.StringVar(&g.signerWorkflow, "signer-workflow", "", "GitHub: the workflow that signed, `[HOST/]ORG/NAME/PATH`, a regular expression matched from the start of the SAN")
	f.StringVar(&g.issuer, "cert-oidc-issuer", "", "GitHub: the certificate's OIDC `issuer` (default "+sigstore.GitHubIssuer+")")
	f.StringVar(&g.hostname, "hostname", "", "GitHub: the `host` of --owner, --repo and --signer-workflow (default github.com)")
	f.StringVar(&g.predicateType, "predicate-type", "", "GitHub: the predicate type `URI` an attestation must have (default "+sigstore.SLSAProvenanceV1+")")
	f.StringVar(&g.sourceRef, "source-ref", "", "GitHub: the git `ref` the source repository was built at")
	f.StringVar(&g.sourceDigest, "source-digest", "", "GitHub: the `commit` the source repository was built at")
	f.StringVar(&g.signerDg, "signer-digest", "", "GitHub: the `commit` of the workflow that signed")
	f.BoolVar(&g.denySelfHosted, "deny-self-hosted-runners", false, "GitHub: refuse attestations built on self-hosted runners")
}

// criteria returns the GitHub criteria, nil when no GitHub option was
// given, or an error when options other than --owner and --repo come
// without either.
func (g *githubFlags) criteria() (*sigstore.GitHub, error) {
	if g.owner == "" && g.repo == "" {
		if g.signerRepo != "" || g.signerWorkflow != "" || g.issuer != "" || g.hostname != "" || g.predicateType != "" ||
			g.sourceRef != "" || g.sourceDigest != "" || g.signerDg != "" || g.denySelfHosted {
			return nil, errors.New("the GitHub options need --owner or --repo")
		}
		return nil, nil
	}
	c := &sigstore.GitHub{Owner: g.owner, Repo: g.repo, SignerRepo: g.signerRepo, SignerWorkflow: g.signerWorkflow,
		Issuer: g.issuer, Hostname: g.hostname, DenySelfHostedRunners: g.denySelfHosted,
		SourceRef: g.sourceRef, SourceDigest: g.sourceDigest, SignerDigest: g.signerDg}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// predicate is the predicate type GitHub attestations must have.
func (g *githubFlags) predicate() string {
	if g.predicateType != "" {
		return g.predicateType
	}
	return sigstore.SLSAProvenanceV1
}

// readRoots reads each trusted root given, or the one named by
// $IMGPROOF_TRUSTED_ROOT when none is, each within lim.TrustedRoot.
func readRoots(paths []string, lim *limits.Limits) ([][]byte, error) {
	if len(paths) == 0 {
		if env := os.Getenv(trustedRootEnv); env != "" {
			paths = []string{env}
		}
	}
	var roots [][]byte
	for _, p := range paths {
		b, err := readSmall(p, limits.TrustedRoot, lim.TrustedRoot)
		if err != nil {
			return nil, err
		}
		roots = append(roots, b)
	}
	return roots, nil
}
