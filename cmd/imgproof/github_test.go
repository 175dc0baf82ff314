//go:build !js

package main

import (
	"bufio"
	"bytes"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/sigstore"
	"github.com/imgproof/imgproof/attest/sigstore/sigstoretest"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

const zoo = "../../fixtures/thirdparty/zoo/"

// ghCase is one imgproof run: its arguments, exit code, and strings the
// JSON report must and must not hold.
type ghCase struct {
	name    string
	args    []string
	code    int
	want    []string
	notWant []string
}

func runGHCases(t *testing.T, prefix []string, cases []ghCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(append([]string{}, prefix...), c.args...)
			out, code := runImgproof(t, args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", code, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("want %q in:\n%s", w, out)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(out, w) {
					t.Errorf("do not want %q in:\n%s", w, out)
				}
			}
		})
	}
}

// TestVerifyBlobGitHubCLI runs verify-blob with gh attestation verify's
// options on gh's own published test bundles.
func TestVerifyBlobGitHubCLI(t *testing.T) {
	pg := zoo + "sigstore-go/trusted-root-public-good.json"
	reusable := []string{"--bundle", zoo + "gh/reusable-workflow-attestation.sigstore.json", "--trusted-root", pg}
	reusableArt := zoo + "gh/reusable-workflow-artifact"
	js := []string{"--bundle", zoo + "gh/sigstore-js-2.1.0-bundle.json", "--trusted-root", pg}
	jsArt := zoo + "gh/sigstore-js-2.1.0.tgz"
	jsonl := "../../fixtures/thirdparty/ghjsonl/sigstore-js-2.1.0_with_2_bundles.jsonl"
	const signerRepo = "github/artifact-attestations-workflows"

	// The API's form: each line wraps the bundle in {"bundle": ...}.
	dir := t.TempDir()
	wrapped := filepath.Join(dir, "wrapped.jsonl")
	var buf bytes.Buffer
	f, err := os.Open(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	lines := 0
	for sc.Scan() {
		buf.WriteString(`{"bundle":` + sc.Text() + `,"repository_id":495574555}` + "\n")
		lines++
	}
	f.Close()
	if lines != 2 {
		t.Fatalf("%s: %d lines", jsonl, lines)
	}
	if err := os.WriteFile(wrapped, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// A JSON Lines file whose second bundle was altered after signing.
	tampered := filepath.Join(dir, "tampered.jsonl")
	data, err := os.ReadFile(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	first, second, _ := bytes.Cut(data, []byte("\n"))
	second = bytes.Replace(second, []byte(`"payloadType":"application/vnd.in-toto+json"`), []byte(`"payloadType":"application/vnd.in-toto+jsoN"`), 1)
	if err := os.WriteFile(tampered, append(append(first, '\n'), second...), 0o644); err != nil {
		t.Fatal(err)
	}

	with := func(base []string, more ...string) []string { return append(append([]string{}, base...), more...) }
	runGHCases(t, []string{"verify-blob", "--output", "json"}, []ghCase{
		{name: "reusable workflow: repository and signer repository",
			args: with(reusable, "--repo", "malancas/attest-demo", "--signer-repo", signerRepo, reusableArt), code: 0,
			want: []string{`"VERIFIED"`, `"repository": "https://github.com/malancas/attest-demo"`,
				`"commit": "95baf27389e83e6a5c48f42e190d48d7abcea19e"`,
				`"workflow": "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d"`}},
		{name: "reusable workflow: owner and signer workflow",
			args: with(reusable, "--owner", "malancas", "--signer-workflow", signerRepo+"/.github/workflows/attest.yml", reusableArt), code: 0,
			want: []string{`"VERIFIED"`}},
		{name: "reusable workflow: owner and exact SAN",
			args: with(reusable, "--owner", "malancas", "--certificate-identity",
				"https://github.com/"+signerRepo+"/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d", reusableArt), code: 0,
			want: []string{`"VERIFIED"`}},
		{name: "reusable workflow: the SAN is not under the owner", args: with(reusable, "--owner", "malancas", reusableArt), code: 1,
			want: []string{"E_IDENTITY_MISMATCH", `(?i)^https://github\\.com/malancas/`}},
		{name: "reusable workflow: wrong owner", args: with(reusable, "--owner", "mallory", "--signer-repo", signerRepo, reusableArt), code: 1,
			want: []string{"E_IDENTITY_MISMATCH", "source repository owner URI"}},
		{name: "reusable workflow: wrong repository", args: with(reusable, "--repo", "malancas/other", "--signer-repo", signerRepo, reusableArt), code: 1,
			want: []string{"E_IDENTITY_MISMATCH", "source repository URI"}},
		{name: "reusable workflow: the signer's repository is not the source",
			args: with(reusable, "--repo", signerRepo, reusableArt), code: 1, want: []string{"E_IDENTITY_MISMATCH"}},
		{name: "reusable workflow: wrong issuer",
			args: with(reusable, "--owner", "malancas", "--signer-repo", signerRepo, "--cert-oidc-issuer", "https://token.actions.githubusercontent.com/hammer-time", reusableArt), code: 1,
			want: []string{"E_IDENTITY_MISMATCH", "OIDC issuer"}},
		{name: "reusable workflow: another artifact",
			args: with(reusable, "--owner", "malancas", "--signer-repo", signerRepo, jsArt), code: 1, want: []string{"E_SUBJECT_MISMATCH"}},
		{name: "sigstore-js: repository, GitHub-hosted runners only",
			args: with(js, "--repo", "sigstore/sigstore-js", "--deny-self-hosted-runners", jsArt), code: 0,
			want: []string{`"VERIFIED"`, `"runner": "github-hosted"`}},
		{name: "sigstore-js: owner in capitals", args: with(js, "--owner", "SIGSTORE", jsArt), code: 0, want: []string{`"VERIFIED"`}},
		{name: "sigstore-js: wrong owner", args: with(js, "--owner", "sigstor", jsArt), code: 1, want: []string{"E_IDENTITY_MISMATCH"}},
		{name: "sigstore-js: wrong repository", args: with(js, "--repo", "sigstore/cosign", jsArt), code: 1, want: []string{"E_IDENTITY_MISMATCH"}},
		{name: "sigstore-js: another predicate type", args: with(js, "--owner", "sigstore", "--predicate-type", "https://spdx.dev/Document", jsArt), code: 1,
			want: []string{"E_PREDICATE_NOT_ALLOWED"}},
		{name: "custom issuer: given", args: []string{"--bundle", zoo + "gh/custom-issuer.sigstore.json", "--trusted-root", zoo + "gh/trusted_root.json",
			"--owner", "too-legit", "--cert-oidc-issuer", "https://token.actions.githubusercontent.com/hammer-time", zoo + "gh/custom-issuer-artifact"}, code: 0,
			want: []string{`"VERIFIED"`}},
		{name: "custom issuer: the default issuer", args: []string{"--bundle", zoo + "gh/custom-issuer.sigstore.json", "--trusted-root", zoo + "gh/trusted_root.json",
			"--owner", "too-legit", zoo + "gh/custom-issuer-artifact"}, code: 1, want: []string{"E_IDENTITY_MISMATCH"}},
		{name: "JSON Lines of gh attestation download", args: []string{"--bundle", jsonl, "--trusted-root", pg, "--owner", "sigstore", jsArt}, code: 0,
			want: []string{`"VERIFIED"`, `"origin": "bundle#1"`, `"origin": "bundle#2"`}},
		{name: "JSON Lines wrapped as the attestations API returns them", args: []string{"--bundle", wrapped, "--trusted-root", pg, "--repo", "sigstore/sigstore-js", jsArt}, code: 0,
			want: []string{`"VERIFIED"`, `"origin": "bundle#2"`}},
		{name: "JSON Lines, wrong owner", args: []string{"--bundle", jsonl, "--trusted-root", pg, "--owner", "mallory", jsArt}, code: 1,
			want: []string{"E_IDENTITY_MISMATCH", `"path": "bundle#1"`, `"path": "bundle#2"`}},
		{name: "JSON Lines, another predicate type", args: []string{"--bundle", jsonl, "--trusted-root", pg, "--owner", "sigstore", "--predicate-type", "https://spdx.dev/Document", jsArt}, code: 1,
			want: []string{"E_PREDICATE_NOT_ALLOWED", "none of the 2 bundles has the required predicate type"}},
		{name: "JSON Lines, one bundle tampered: the other suffices, as in gh", args: []string{"--bundle", tampered, "--trusted-root", pg, "--owner", "sigstore", jsArt}, code: 0,
			want: []string{`"VERIFIED"`, `"severity": "info"`, "skipped: "}},
		{name: "two trusted roots, the second is the bundle's",
			args: []string{"--bundle", zoo + "gh/sigstore-js-2.1.0-bundle.json", "--trusted-root", zoo + "gh/trusted_root.json", "--trusted-root", pg, "--owner", "sigstore", jsArt}, code: 0,
			want: []string{`"VERIFIED"`}},
		{name: "GitHub's instance needs GitHub's trusted root",
			args: []string{"--bundle", zoo + "gh/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl", "--trusted-root", pg,
				"--repo", "actions/attest-demo", zoo + "gh/github_provenance_demo-0.0.12-py3-none-any.whl"}, code: 1,
			want: []string{"E_TLOG_INVALID"}, notWant: []string{`"VERIFIED"`}},
		{name: "signer repository without owner", args: with(js, "--signer-repo", signerRepo, jsArt), code: 64},
		{name: "owner and repository", args: with(js, "--owner", "sigstore", "--repo", "sigstore/sigstore-js", jsArt), code: 64},
		{name: "repository without owner part", args: with(js, "--repo", "sigstore-js", jsArt), code: 64},
		{name: "signer repository and workflow", args: with(js, "--owner", "sigstore", "--signer-repo", "a/b", "--signer-workflow", "a/b/c.yml", jsArt), code: 64},
		{name: "cosign's issuer flag with --owner", args: with(js, "--owner", "sigstore", "--certificate-oidc-issuer", sigstore.GitHubIssuer, jsArt), code: 64},
	})
}

// ghLeaf issues a certificate that carries a GitHub Actions build: a
// reusable workflow of acme-org/workflows run for acme/app.
func ghLeaf(t *testing.T, ca *sigstoretest.Authority, runner string) *sigstoretest.Leaf {
	const workflow = "https://github.com/acme-org/workflows/.github/workflows/provenance.yml@refs/tags/v2"
	return ca.MustLeaf(t, sigstoretest.LeafOptions{Identity: workflow, Issuer: sigstore.GitHubIssuer,
		Extensions: []pkix.Extension{
			sigstoretest.Extension(9, workflow),
			sigstoretest.Extension(10, strings.Repeat("b", 40)),
			sigstoretest.Extension(11, runner),
			sigstoretest.Extension(12, "https://github.com/acme/app"),
			sigstoretest.Extension(13, strings.Repeat("c", 40)),
			sigstoretest.Extension(14, "refs/heads/main"),
			sigstoretest.Extension(16, "https://github.com/acme"),
		}})
}

// TestVerifyGitHubImageCLI: `imgproof verify` with the GitHub options on
// layouts whose image carries a keyless SLSA provenance of a GitHub
// Actions build, as a sigstore bundle referrer and as a cosign .att layer.
func TestVerifyGitHubImageCLI(t *testing.T) {
	ca, root := sigstoretest.ForTest(t)
	dir := t.TempDir()
	rootPath := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(rootPath, root, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := fixtures.MustBuild(fixtures.Default()).Expected.Images[0].ManifestDigest
	_, hexDigest, _ := strings.Cut(manifest, ":")
	statement, err := json.Marshal(map[string]any{"_type": "https://in-toto.io/Statement/v1",
		"subject":       []map[string]any{{"name": "registry.example/app", "digest": map[string]string{"sha256": hexDigest}}},
		"predicateType": sigstore.SLSAProvenanceV1,
		"predicate":     map[string]any{"buildDefinition": map[string]any{"buildType": "https://actions.github.io/buildtypes/workflow/v1"}}})
	if err != nil {
		t.Fatal(err)
	}

	layout := func(name, runner string, asBundle bool) string {
		env, ann, err := ca.Attest(ghLeaf(t, ca, runner), "application/vnd.in-toto+json", statement, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		spec := fixtures.Default()
		if asBundle {
			b, err := sigstore.BundleFromCosignLayer(sigstore.CosignLayer{MediaType: attest.MediaTypeDSSE, Data: env,
				Certificate: ann[sigstoretest.AnnotationCertificate], Chain: ann[sigstoretest.AnnotationChain], Bundle: ann[sigstoretest.AnnotationBundle]})
			if err != nil {
				t.Fatal(err)
			}
			spec.Referrers = []fixtures.Referrer{{Subject: 0, ArtifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
				MediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1", Payload: b}}
		} else {
			ann["predicateType"] = sigstore.SLSAProvenanceV1
			spec.Referrers = []fixtures.Referrer{{Subject: 0, MediaType: attest.MediaTypeDSSE, Payload: env,
				LayerAnnotations: ann, RefName: "{subject}.att"}}
		}
		p := filepath.Join(dir, name)
		if err := fixtures.MustBuild(spec).WriteLayoutDir(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	referrer := layout("referrer", "github-hosted", true)
	att := layout("att", "github-hosted", false)
	selfHosted := layout("self-hosted", "self-hosted", true)
	pg := zoo + "sigstore-go/trusted-root-public-good.json"

	gh := func(l string, more ...string) []string {
		return append(append([]string{"--trusted-root", rootPath}, more...), l)
	}
	runGHCases(t, []string{"verify", "--output", "json"}, []ghCase{
		{name: "referrer: repository and signer repository", args: gh(referrer, "--repo", "acme/app", "--signer-repo", "acme-org/workflows"), code: 0,
			want: []string{`"VERIFIED"`, `"repository": "https://github.com/acme/app"`, `"commit": "` + strings.Repeat("c", 40) + `"`,
				`"workflow": "https://github.com/acme-org/workflows/.github/workflows/provenance.yml@refs/tags/v2"`}},
		{name: "referrer: owner and signer workflow", args: gh(referrer, "--owner", "acme", "--signer-workflow", `acme-org/workflows/\.github/workflows/provenance\.yml@refs/tags/v.*`), code: 0,
			want: []string{`"VERIFIED"`}},
		{name: "referrer: the SAN is not under the owner", args: gh(referrer, "--owner", "acme"), code: 1, want: []string{"E_IDENTITY_MISMATCH"}},
		{name: "referrer: wrong owner", args: gh(referrer, "--owner", "acme-org", "--signer-repo", "acme-org/workflows"), code: 1,
			want: []string{"E_IDENTITY_MISMATCH", "source repository owner URI"}},
		{name: "referrer: wrong repository", args: gh(referrer, "--repo", "acme/lib", "--signer-repo", "acme-org/workflows"), code: 1,
			want: []string{"E_IDENTITY_MISMATCH", "source repository URI"}},
		{name: "referrer: wrong issuer", args: gh(referrer, "--repo", "acme/app", "--signer-repo", "acme-org/workflows", "--cert-oidc-issuer", "https://token.actions.acme.ghe.com"), code: 1,
			want: []string{"E_IDENTITY_MISMATCH", "OIDC issuer"}},
		{name: "referrer: another predicate type required", args: gh(referrer, "--repo", "acme/app", "--signer-repo", "acme-org/workflows", "--predicate-type", "https://spdx.dev/Document"),
			code: 1, want: []string{"E_NO_MATCHING_ATTESTATION"}, notWant: []string{`"verdict": "VERIFIED"`}},
		{name: "referrer: source ref", args: gh(referrer, "--repo", "acme/app", "--signer-repo", "acme-org/workflows", "--source-ref", "refs/heads/release"), code: 1,
			want: []string{"source repository ref"}},
		{name: "referrer: two trusted roots", args: append([]string{"--trusted-root", pg}, gh(referrer, "--repo", "acme/app", "--signer-repo", "acme-org/workflows")...), code: 0,
			want: []string{`"VERIFIED"`}},
		{name: "referrer: only another trusted root", args: []string{"--trusted-root", pg, "--repo", "acme/app", "--signer-repo", "acme-org/workflows", referrer}, code: 1,
			want: []string{"E_TLOG_INVALID"}},
		{name: "self-hosted runner allowed by default", args: gh(selfHosted, "--repo", "acme/app", "--signer-repo", "acme-org/workflows"), code: 0,
			want: []string{`"runner": "self-hosted"`}},
		{name: "self-hosted runner denied", args: gh(selfHosted, "--repo", "acme/app", "--signer-repo", "acme-org/workflows", "--deny-self-hosted-runners"), code: 1,
			want: []string{"E_IDENTITY_MISMATCH", "RunnerEnvironment"}},
		{name: "cosign .att layer", args: gh(att, "--owner", "acme", "--signer-repo", "acme-org/workflows"), code: 0,
			want: []string{`"VERIFIED"`, `"repository": "https://github.com/acme/app"`}},
		{name: "cosign .att layer, wrong owner", args: gh(att, "--owner", "evil", "--signer-repo", "acme-org/workflows"), code: 1,
			want: []string{"E_IDENTITY_MISMATCH"}},
		{name: "GitHub options without owner", args: gh(referrer, "--signer-repo", "acme-org/workflows"), code: 64},
		{name: "GitHub options with a key", args: gh(referrer, "--repo", "acme/app", "--key", rootPath), code: 64},
		{name: "owner and repository", args: gh(referrer, "--owner", "acme", "--repo", "acme/app"), code: 64},
	})
	// The report entry names the build in the attestation, not elsewhere.
	out, _ := runImgproof(t, append([]string{"verify", "--output", "json"}, gh(referrer, "--repo", "acme/app", "--signer-repo", "acme-org/workflows")...)...)
	var rep attest.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range rep.Attestations {
		if a.Status == "verified" && a.Build != nil && a.Build.Repository == "https://github.com/acme/app" && a.Build.Ref == "refs/heads/main" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no verified attestation names the build:\n%s", out)
	}
}

// TestSplitBundles: a bundle file is one document or JSON Lines of them,
// wrapped or not; anything else is handed on whole, and the number of
// documents is bounded.
func TestSplitBundles(t *testing.T) {
	one := `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`
	for _, c := range []struct {
		name string
		data string
		want []string
	}{
		{"one bundle", one, []string{one}},
		{"two lines", one + "\n" + one + "\n", []string{one, one}},
		{"wrapped", `{"bundle":` + one + `,"repository_id":1}`, []string{one}},
		{"a bundle field beside a media type stays", `{"mediaType":"x","bundle":{}}`, []string{`{"mediaType":"x","bundle":{}}`}},
		{"garbage after a bundle", one + "\n{", []string{one + "\n{"}},
		{"empty", "", []string{""}},
	} {
		got, err := splitBundles([]byte(c.data))
		if err != nil || len(got) != len(c.want) {
			t.Fatalf("%s: %d documents, want %d", c.name, len(got), len(c.want))
		}
		for i := range got {
			if string(got[i]) != c.want[i] {
				t.Errorf("%s: document %d is %q, want %q", c.name, i, got[i], c.want[i])
			}
		}
	}
	many := strings.Repeat(one+"\n", limits.Default().Attestations+1)
	if _, err := splitBundles([]byte(many)); !errors.Is(err, limits.ErrLimit) {
		t.Fatalf("%d documents: want a limit error, got %v", limits.Default().Attestations+1, err)
	}
	path := filepath.Join(t.TempDir(), "many.jsonl")
	if err := os.WriteFile(path, []byte(many), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runImgproof(t, "verify-blob", "-o", "json", "--bundle", path, "--owner", "acme",
		"--trusted-root", zoo+"sigstore-go/trusted-root-public-good.json", "sha256:"+strings.Repeat("a", 64))
	if code != 2 || !strings.Contains(out, string(verify.CodeLimitExceeded)) {
		t.Fatalf("exit %d, want 2 and %s:\n%s", code, verify.CodeLimitExceeded, out)
	}
}
