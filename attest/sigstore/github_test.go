//go:build !js

package sigstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

const ghZoo = "../../fixtures/thirdparty/zoo/"

func readZoo(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ghZoo, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGitHubCriteria verifies gh's published attestation bundles with
// `gh attestation verify`'s criteria: the reusable workflow, whose SAN
// names github/artifact-attestations-workflows while the source
// repository is malancas/attest-demo, and the sigstore-js release.
func TestGitHubCriteria(t *testing.T) {
	root := readZoo(t, "sigstore-go/trusted-root-public-good.json")
	reusable := readZoo(t, "gh/reusable-workflow-attestation.sigstore.json")
	reusableArt := readZoo(t, "gh/reusable-workflow-artifact")
	js := readZoo(t, "gh/sigstore-js-2.1.0-bundle.json")
	jsArt := readZoo(t, "gh/sigstore-js-2.1.0.tgz")
	custom := readZoo(t, "gh/custom-issuer.sigstore.json")
	customArt := readZoo(t, "gh/custom-issuer-artifact")
	const signerRepo = "github/artifact-attestations-workflows"
	const hammer = "https://token.actions.githubusercontent.com/hammer-time"

	for _, c := range []struct {
		name     string
		bundle   []byte
		artifact []byte
		gh       GitHub
		identity string
		want     string // "" verifies; else the failed check
		msg      string
	}{
		{name: "reusable: owner and signer repository", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Owner: "malancas", SignerRepo: signerRepo}},
		{name: "reusable: repository and signer repository", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Repo: "malancas/attest-demo", SignerRepo: signerRepo}},
		{name: "reusable: owner in other case", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Owner: "MALANCAS", SignerRepo: "GitHub/Artifact-Attestations-Workflows"}},
		{name: "reusable: signer workflow", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Repo: "malancas/attest-demo", SignerWorkflow: signerRepo + "/.github/workflows/attest.yml"}},
		{name: "reusable: signer workflow with host", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Owner: "malancas", SignerWorkflow: "github.com/" + signerRepo + "/.github/workflows/attest.yml@09b495c"}},
		{name: "reusable: exact SAN", bundle: reusable, artifact: reusableArt, gh: GitHub{Owner: "malancas"},
			identity: "https://github.com/" + signerRepo + "/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d"},
		{name: "reusable: owner alone, the SAN names another repository", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Owner: "malancas"}, want: CheckIdentity, msg: "SAN"},
		{name: "reusable: repository alone, the SAN names another repository", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Repo: "malancas/attest-demo"}, want: CheckIdentity, msg: "SAN"},
		{name: "reusable: the signer repository as the source", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Repo: signerRepo}, want: CheckIdentity, msg: "source repository owner URI"},
		{name: "reusable: wrong owner", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Owner: "mallory", SignerRepo: signerRepo}, want: CheckIdentity, msg: "source repository owner URI"},
		{name: "reusable: wrong repository of the right owner", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Repo: "malancas/other", SignerRepo: signerRepo}, want: CheckIdentity, msg: "source repository URI"},
		{name: "reusable: wrong signer workflow", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Owner: "malancas", SignerWorkflow: signerRepo + "/.github/workflows/other.yml"}, want: CheckIdentity, msg: "SAN"},
		{name: "reusable: wrong issuer", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Owner: "malancas", SignerRepo: signerRepo, Issuer: hammer}, want: CheckIdentity, msg: "OIDC issuer"},
		{name: "reusable: source ref and commit", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Owner: "malancas", SignerRepo: signerRepo, SourceRef: "refs/heads/main", SourceDigest: "95baf27389e83e6a5c48f42e190d48d7abcea19e"}},
		{name: "reusable: wrong source ref", bundle: reusable, artifact: reusableArt,
			gh: GitHub{Owner: "malancas", SignerRepo: signerRepo, SourceRef: "refs/heads/release"}, want: CheckIdentity, msg: "source repository ref"},
		{name: "reusable: another artifact", bundle: reusable, artifact: customArt,
			gh: GitHub{Owner: "malancas", SignerRepo: signerRepo}, want: CheckSubject},
		{name: "sigstore-js: owner", bundle: js, artifact: jsArt, gh: GitHub{Owner: "sigstore"}},
		{name: "sigstore-js: repository, GitHub-hosted runners only", bundle: js, artifact: jsArt,
			gh: GitHub{Repo: "sigstore/sigstore-js", DenySelfHostedRunners: true}},
		{name: "sigstore-js: wrong owner", bundle: js, artifact: jsArt, gh: GitHub{Owner: "sigstore-evil"}, want: CheckIdentity, msg: "SAN"},
		{name: "sigstore-js: wrong repository", bundle: js, artifact: jsArt, gh: GitHub{Repo: "sigstore/cosign"}, want: CheckIdentity, msg: "SAN"},
		{name: "sigstore-js: wrong repository, right signer", bundle: js, artifact: jsArt,
			gh: GitHub{Repo: "sigstore/cosign", SignerRepo: "sigstore/sigstore-js"}, want: CheckIdentity, msg: "source repository URI"},
		{name: "custom issuer: default issuer refused", bundle: custom, artifact: customArt,
			gh: GitHub{Owner: "too-legit"}, want: CheckIdentity, msg: "OIDC issuer"},
		{name: "custom issuer: given", bundle: custom, artifact: customArt, gh: GitHub{Owner: "too-legit", Issuer: hammer}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := c.gh
			p := Policy{TrustedRoot: root, GitHub: &g, Identity: c.identity, PredicateType: SLSAProvenanceV1}
			res, err := Verify(context.Background(), c.bundle, Artifact{Reader: strings.NewReader(string(c.artifact))}, p)
			if c.want == "" {
				if err != nil || !res.Verified {
					t.Fatalf("want verified, got %v", err)
				}
				if res.Build == nil || res.Build.Repository == "" || res.Build.Workflow == "" || len(res.Build.Commit) != 40 {
					t.Fatalf("the build the certificate names is incomplete: %+v", res.Build)
				}
				a := res.Attestation("sigstore-bundle-attestation", "bundle")
				if a.Build != res.Build {
					t.Fatal("the report entry does not name the build")
				}
				return
			}
			var se *Error
			if !errors.As(err, &se) || se.Check != c.want || res.Verified {
				t.Fatalf("want a failed %s check, got %v", c.want, err)
			}
			if !strings.Contains(se.Error(), c.msg) {
				t.Fatalf("want %q in %v", c.msg, se)
			}
			if res.Attestation("x", "y").Build != nil {
				t.Fatal("a failed signature names a build")
			}
		})
	}
}

// TestGitHubReusableBuild: the report names the repository that built the
// artifact and the reusable workflow that signed it, apart.
func TestGitHubReusableBuild(t *testing.T) {
	p := Policy{TrustedRoot: readZoo(t, "sigstore-go/trusted-root-public-good.json"),
		GitHub: &GitHub{Repo: "malancas/attest-demo", SignerRepo: "github/artifact-attestations-workflows"}}
	res, err := Verify(context.Background(), readZoo(t, "gh/reusable-workflow-attestation.sigstore.json"),
		Artifact{Reader: strings.NewReader(string(readZoo(t, "gh/reusable-workflow-artifact")))}, p)
	if err != nil {
		t.Fatal(err)
	}
	b := res.Build
	if b.Repository != "https://github.com/malancas/attest-demo" || b.Commit != "95baf27389e83e6a5c48f42e190d48d7abcea19e" ||
		b.Workflow != "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d" ||
		b.Ref != "refs/heads/main" || b.Runner != GitHubHostedRunner || b.Issuer != GitHubIssuer {
		t.Fatalf("build %+v", b)
	}
}

// TestGitHubRunner: --deny-self-hosted-runners refuses a certificate of a
// self-hosted runner, and one that names no runner; gh's test data has no
// self-hosted bundle, so the summary is built here.
func TestGitHubRunner(t *testing.T) {
	sum := certificate.Summary{Extensions: certificate.Extensions{Issuer: GitHubIssuer,
		SourceRepositoryOwnerURI: "https://github.com/acme", SourceRepositoryURI: "https://github.com/acme/app"}}
	g := GitHub{Repo: "acme/app", DenySelfHostedRunners: true}
	for runner, ok := range map[string]bool{"github-hosted": true, "self-hosted": false, "": false} {
		sum.RunnerEnvironment = runner
		if err := g.check(&sum); (err == nil) != ok {
			t.Errorf("runner %q: %v", runner, err)
		}
	}
	g.DenySelfHostedRunners = false
	sum.RunnerEnvironment = "self-hosted"
	if err := g.check(&sum); err != nil {
		t.Errorf("self-hosted allowed by default: %v", err)
	}
	id, err := githubIdentity(&Policy{GitHub: &GitHub{Owner: "acme", DenySelfHostedRunners: true}})
	if err != nil {
		t.Fatal(err)
	}
	sum.SubjectAlternativeName = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
	if err := id.Verify(sum); err == nil {
		t.Error("sigstore-go's identity admits a self-hosted runner")
	}
}

func TestGitHubValidate(t *testing.T) {
	root := []byte("{}")
	for name, p := range map[string]Policy{
		"no owner":               {TrustedRoot: root, GitHub: &GitHub{}},
		"owner and repository":   {TrustedRoot: root, GitHub: &GitHub{Owner: "a", Repo: "a/b"}},
		"repository without /":   {TrustedRoot: root, GitHub: &GitHub{Repo: "ab"}},
		"repository with two /":  {TrustedRoot: root, GitHub: &GitHub{Repo: "a/b/c"}},
		"signer repo and flow":   {TrustedRoot: root, GitHub: &GitHub{Owner: "a", SignerRepo: "a/b", SignerWorkflow: "a/b/x.yml"}},
		"issuer given twice":     {TrustedRoot: root, GitHub: &GitHub{Owner: "a"}, Issuer: GitHubIssuer},
		"identity and signer":    {TrustedRoot: root, GitHub: &GitHub{Owner: "a", SignerRepo: "a/b"}, Identity: "x"},
		"bad workflow regexp":    {TrustedRoot: root, GitHub: &GitHub{Owner: "a", SignerWorkflow: "a/b/(.yml"}},
		"owner with a slash":     {TrustedRoot: root, GitHub: &GitHub{Owner: "a/b"}},
		"no trusted root":        {GitHub: &GitHub{Owner: "a"}},
		"a key and GitHub rules": {Key: []byte("k"), GitHub: &GitHub{Owner: "a"}},
	} {
		if err := p.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestGitHubSANRegexp pins gh's signer checks.
func TestGitHubSANRegexp(t *testing.T) {
	for _, c := range []struct {
		g    GitHub
		want string
	}{
		{GitHub{Owner: "acme"}, `(?i)^https://github\.com/acme/`},
		{GitHub{Repo: "acme/app"}, `(?i)^https://github\.com/acme/app/`},
		{GitHub{Repo: "acme/app", SignerRepo: "org/wf"}, `(?i)^https://github\.com/org/wf/`},
		{GitHub{Owner: "acme", SignerWorkflow: "org/wf/.github/workflows/a.yml"}, `^https://github\.com/org/wf/.github/workflows/a.yml`},
		{GitHub{Owner: "acme", SignerWorkflow: "ghe.example/org/wf/.github/workflows/a.yml"}, `^https://ghe.example/org/wf/.github/workflows/a.yml`},
	} {
		got, err := c.g.sanRegexp()
		if err != nil || got != c.want {
			t.Errorf("%+v: %q, %v; want %q", c.g, got, err, c.want)
		}
	}
}
