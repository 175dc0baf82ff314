package sigstore

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Values that GitHub artifact attestations carry.
const (
	// GitHubIssuer is the OIDC issuer of GitHub Actions tokens.
	GitHubIssuer = "https://token.actions.githubusercontent.com"
	// GitHubHostedRunner is the runner environment extension of a build
	// on a GitHub-hosted runner.
	GitHubHostedRunner = "github-hosted"
	// SLSAProvenanceV1 is the predicate type actions/attest-build-provenance
	// writes, and the default of `gh attestation verify --predicate-type`.
	SLSAProvenanceV1 = "https://slsa.dev/provenance/v1"
)

// GitHub selects GitHub Actions signers by the Fulcio certificate's
// extensions, with the semantics of `gh attestation verify`:
//
//   - the source repository owner URI (1.3.6.1.4.1.57264.1.16) must be
//     https://HOST/OWNER, OWNER being Owner or the first part of Repo;
//   - with Repo, the source repository URI (.12) must be https://HOST/Repo;
//   - the issuer (.8) must be Issuer (GitHubIssuer when empty);
//   - these comparisons ignore case, as GitHub names do;
//   - the SAN, which names the workflow that signed (for a reusable
//     workflow, in another repository), must match ^https://HOST/X/ where X
//     is SignerRepo, else Repo, else Owner (case-insensitive); or, with
//     SignerWorkflow, ^https://[HOST/]SignerWorkflow, a regular expression
//     anchored at the start only;
//   - with DenySelfHostedRunners, the runner environment (.11) must be
//     github-hosted;
//   - SourceRef, SourceDigest and SignerDigest, when set, must equal the
//     source repository ref (.14), digest (.13) and build signer digest (.10).
//
// Owner and repository names are matched literally, not as regular
// expressions.
type GitHub struct {
	Owner          string
	Repo           string
	SignerRepo     string
	SignerWorkflow string
	Issuer         string
	// Hostname is the GitHub host; empty means github.com.
	Hostname              string
	DenySelfHostedRunners bool
	SourceRef             string
	SourceDigest          string
	SignerDigest          string
}

var (
	ghName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	// ghHost is gh's test for a signer workflow that names its host.
	ghHost = regexp.MustCompile(`^[a-zA-Z0-9-]+\.[a-zA-Z0-9-]+.*$`)
)

func (g *GitHub) host() string {
	if g.Hostname == "" {
		return "github.com"
	}
	return g.Hostname
}

func (g *GitHub) issuer() string {
	if g.Issuer == "" {
		return GitHubIssuer
	}
	return g.Issuer
}

// owner is Owner, or the owner part of Repo.
func (g *GitHub) owner() string {
	if g.Repo != "" {
		o, _, _ := strings.Cut(g.Repo, "/")
		return o
	}
	return g.Owner
}

func validRepo(what, repo string) error {
	o, n, ok := strings.Cut(repo, "/")
	if !ok || !ghName.MatchString(o) || !ghName.MatchString(n) {
		return fmt.Errorf("%s %q: want OWNER/NAME", what, repo)
	}
	return nil
}

// Validate checks that exactly one of Owner and Repo is given, and that
// names are well formed.
func (g *GitHub) Validate() error {
	switch {
	case g.Owner == "" && g.Repo == "":
		return errors.New("GitHub attestations need an owner or a repository")
	case g.Owner != "" && g.Repo != "":
		return errors.New("give the GitHub owner or the repository, not both")
	case g.SignerRepo != "" && g.SignerWorkflow != "":
		return errors.New("give the signer repository or the signer workflow, not both")
	}
	if g.Owner != "" && !ghName.MatchString(g.Owner) {
		return fmt.Errorf("GitHub owner %q: not a valid name", g.Owner)
	}
	if g.Repo != "" {
		if err := validRepo("GitHub repository", g.Repo); err != nil {
			return err
		}
	}
	if g.SignerRepo != "" {
		if err := validRepo("signer repository", g.SignerRepo); err != nil {
			return err
		}
	}
	if g.Hostname != "" && !ghHost.MatchString(g.Hostname) {
		return fmt.Errorf("GitHub host %q: not a host name", g.Hostname)
	}
	if _, err := g.sanRegexp(); err != nil {
		return err
	}
	return nil
}

// sanRegexp is gh's default signer check: the regular expression the SAN
// must match. It is anchored at the start only.
func (g *GitHub) sanRegexp() (string, error) {
	var re string
	switch {
	case g.SignerRepo != "":
		re = "(?i)^https://" + regexp.QuoteMeta(g.host()+"/"+g.SignerRepo) + "/"
	case g.SignerWorkflow != "":
		if ghHost.MatchString(g.SignerWorkflow) {
			re = "^https://" + g.SignerWorkflow
		} else {
			re = "^https://" + regexp.QuoteMeta(g.host()) + "/" + g.SignerWorkflow
		}
	case g.Repo != "":
		re = "(?i)^https://" + regexp.QuoteMeta(g.host()+"/"+g.Repo) + "/"
	default:
		re = "(?i)^https://" + regexp.QuoteMeta(g.host()+"/"+g.Owner) + "/"
	}
	if _, err := regexp.Compile(re); err != nil {
		return "", fmt.Errorf("signer workflow %q: %w", g.SignerWorkflow, err)
	}
	return re, nil
}

// String describes the criteria for reports.
func (g *GitHub) String() string {
	var b strings.Builder
	if g.Repo != "" {
		fmt.Fprintf(&b, "repository %s", g.Repo)
	} else {
		fmt.Fprintf(&b, "owner %s", g.Owner)
	}
	switch {
	case g.SignerRepo != "":
		fmt.Fprintf(&b, ", signer repository %s", g.SignerRepo)
	case g.SignerWorkflow != "":
		fmt.Fprintf(&b, ", signer workflow %s", g.SignerWorkflow)
	}
	fmt.Fprintf(&b, ", issuer %s", g.issuer())
	if g.DenySelfHostedRunners {
		b.WriteString(", GitHub-hosted runner")
	}
	return b.String()
}
