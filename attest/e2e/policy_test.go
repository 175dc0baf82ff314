//go:build !js

package e2e

import (
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/verify"
)

// cosignPolicies checks CUE and Rego policies against the cosign CLI on
// the cosign-saved layout "app" (a SLSA v1 attestation by cosign.key):
// what cosign verify-attestation --policy accepts, imgproof accepts, and
// what cosign rejects, imgproof fails.
func cosignPolicies(t *testing.T, e *env) {
	const builder = "https://github.com/imgproof/builder@v1"
	regoOK := "package signature\n\ndefault allow = false\n\nallow {\n  input.predicateType == \"https://slsa.dev/provenance/v1\"\n  input.predicate.runDetails.builder.id == \"" + builder + "\"\n}\n"
	cueOK := "predicateType: \"https://slsa.dev/provenance/v1\"\npredicate: {\n  runDetails: builder: id: \"" + builder + "\"\n  buildDefinition: externalParameters: workflow: ref: =~\"^refs/heads/\"\n}\n"
	violate := func(s string) string { return strings.Replace(s, "builder@v1", "builder@v2", 1) }
	cases := []struct {
		file, body string
		ok         bool
	}{
		{"ok.rego", regoOK, true},
		{"violated.rego", violate(regoOK), false},
		{"ok.cue", cueOK, true},
		{"violated.cue", violate(cueOK), false},
		{"refs.cue", strings.Replace(cueOK, "refs/heads/", "refs/tags/", 1), false},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			p := e.write(c.file, c.body)
			cosignWant, verdict, code := 0, verify.Verified, verify.Code("")
			if !c.ok {
				cosignWant, verdict, code = 1, verify.Failed, "E_POLICY_VIOLATION"
			}
			e.run(cosignWant, e.cosign, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog",
				"--type", "slsaprovenance1", "--policy", p, "--local-image", "app")
			for _, args := range [][]string{{"--type", "slsaprovenance1"}, {"--type", "https://slsa.dev/provenance/v1"}, nil} {
				r := e.verify(verdictExit(verdict), append([]string{"--key", "cosign.pub", "--policy", p}, append(args, "app")...)...)
				if r.Verdict != verdict || (code != "" && !r.Has(code)) {
					t.Fatalf("%v: verdict %s, want %s %s:\n%s", args, r.Verdict, verdict, code, findings(r))
				}
				if c.ok && !hasCheck(r, "policy."+strings.TrimPrefix(c.file[strings.LastIndex(c.file, "."):], "."), "pass") {
					t.Fatalf("%v: no passed policy check: %+v", args, r.Attestations)
				}
			}
		})
	}

	t.Run("type selects no attestation", func(t *testing.T) {
		p := e.write("any.cue", "predicateType: string\n")
		e.run(1, e.cosign, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog",
			"--type", "spdx", "--policy", p, "--local-image", "app")
		requireCode(t, e.verify(1, "--key", "cosign.pub", "--policy", p, "--type", "spdx", "app"), verify.Failed, "E_NO_MATCHING_ATTESTATION")
		// cosign's default type, custom, is not what cosign attest --type slsaprovenance1 wrote.
		e.run(1, e.cosign, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--policy", p, "--local-image", "app")
		requireCode(t, e.verify(1, "--key", "cosign.pub", "--policy", p, "--type", "custom", "app"), verify.Failed, "E_NO_MATCHING_ATTESTATION")
	})

	t.Run("usage", func(t *testing.T) {
		p := e.write("t.rego", regoOK)
		e.run(64, e.imgproof, "verify", "--key", "cosign.pub", "--policy", p, "--type", "not a type", "app")
		e.run(64, e.imgproof, "verify", "--key", "cosign.pub", "--type", "slsaprovenance1", "app")
		e.run(64, e.imgproof, "verify", "--key", "cosign.pub", "--policy", e.write("empty.cue", "\n"), "app")
	})

	t.Run("policy-controller shaped rules in a policy file", func(t *testing.T) {
		file := func(name, lang, body string) string {
			var b strings.Builder
			b.WriteString("apiVersion: imgproof.dev/policy/v1\nkeys: [{path: cosign.pub}]\nattestations:\n  - name: provenance\n    predicateType: slsaprovenance1\n    policy:\n      type: " + lang + "\n      data: |\n")
			for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
				b.WriteString("        " + l + "\n")
			}
			return e.write(name, b.String())
		}
		regoInline := "package sigstore\n\ndefault isCompliant = false\n\nisCompliant {\n  input.predicate.runDetails.builder.id == \"" + builder + "\"\n}\n"
		e.verify(0, "--policy", file("rego.yaml", "rego", regoInline), "app")
		e.verify(0, "--policy", file("cue.yaml", "cue", cueOK), "app")
		requireCode(t, e.verify(1, "--policy", file("rego-bad.yaml", "rego", violate(regoInline)), "app"), verify.Failed, "E_POLICY_VIOLATION")
		requireCode(t, e.verify(1, "--policy", file("cue-bad.yaml", "cue", violate(cueOK)), "app"), verify.Failed, "E_POLICY_VIOLATION")
	})
}

func verdictExit(v verify.Verdict) int {
	switch v {
	case verify.Verified:
		return 0
	case verify.Failed:
		return 1
	}
	return 2
}

func hasCheck(r *attest.Report, name, status string) bool {
	for _, a := range r.Attestations {
		for _, c := range a.Checks {
			if c.Name == name && c.Status == status {
				return true
			}
		}
	}
	return false
}
