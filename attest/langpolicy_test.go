package attest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// TestLanguagePolicies checks how CUE and Rego requirements meet the
// evaluator hook: without one (the WebAssembly build) they are never a
// pass, and the evaluator's answer decides otherwise.
func TestLanguagePolicies(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	inline := func(lang, predicateType string) string {
		return "apiVersion: imgproof.dev/policy/v1\nattestations:\n  - predicateType: " + predicateType +
			"\n    policy:\n      type: " + lang + "\n      data: |\n        predicateType: \"https://slsa.dev/provenance/v1\"\n"
	}
	build := func(l *layout) {
		l.cosignAtt(alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String())))
	}
	var seen []byte
	var seenPolicy *policy.Embedded
	accept := func(_ context.Context, p *policy.Embedded, st []byte) (string, error) {
		seen, seenPolicy = st, p
		return "", nil
	}
	reject := func(context.Context, *policy.Embedded, []byte) (string, error) {
		return "", errors.New("conflicting values")
	}
	fileCUE, err := policy.ForFile(policy.LangCUE, "p.cue", "predicate: {}", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pol     *policy.Policy
		eval    attest.PolicyEvaluator
		verdict verify.Verdict
		code    verify.Code
		want    string // in the finding's message
	}{
		{"cue without evaluator", mustPolicy(t, inline("cue", slsaV1)), nil, verify.Unverifiable, attest.CodePolicyUnavailable, "CUE policy"},
		{"rego without evaluator", mustPolicy(t, inline("rego", slsaV1)), nil, verify.Unverifiable, attest.CodePolicyUnavailable, "Rego policy"},
		{"cue file without evaluator", fileCUE, nil, verify.Unverifiable, attest.CodePolicyUnavailable, "CUE"},
		{"short name, satisfied", mustPolicy(t, inline("cue", "slsaprovenance1")), accept, verify.Verified, "", ""},
		{"violated", mustPolicy(t, inline("rego", slsaV1)), reject, verify.Failed, attest.CodePolicyViolation, "Rego: conflicting values"},
		{"no attestation of the type", mustPolicy(t, inline("cue", "spdx")), accept, verify.Failed, attest.CodeNoMatchingAttestation, "spdx (https://spdx.dev/Document)"},
		{"file on every predicate type, violated", fileCUE, reject, verify.Failed, attest.CodePolicyViolation, "CUE: conflicting values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen, seenPolicy = nil, nil
			l := newLayout(t, fixtures.Default())
			build(l)
			rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}, Policy: tc.pol, Policies: tc.eval})
			if rep.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s; findings:\n%s", rep.Verdict, tc.verdict, strings.Join(codes(rep), "\n"))
			}
			if tc.code == "" {
				if !strings.Contains(string(seen), `"predicateType":"`+slsaV1+`"`) || seenPolicy == nil || seenPolicy.As != "slsaprovenance1" {
					t.Fatalf("evaluator saw statement %q as %+v", seen, seenPolicy)
				}
				return
			}
			found := false
			for _, f := range rep.Findings {
				if f.Code == tc.code && strings.Contains(f.Message, tc.want) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %s finding naming %q:\n%s", tc.code, tc.want, strings.Join(codes(rep), "\n"))
			}
		})
	}
}

func TestForFile(t *testing.T) {
	for _, tc := range []struct{ lang, body, typ, err string }{
		{"rego", "package signature\nallow { true }", "slsaprovenance1", ""},
		{"cue", "", "", "is empty"},
		{"yaml", "x", "", "want cue or rego"},
	} {
		p, err := policy.ForFile(tc.lang, "p."+tc.lang, tc.body, tc.typ)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("%s: error %v, want %q", tc.lang, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		r := &p.Attestations[0]
		if !r.Matches(slsaV1) || r.Matches("https://slsa.dev/provenance/v0.2") || r.Policy.File != "p.rego" || r.Policy.As != "slsaprovenance1" {
			t.Fatalf("requirement %+v", r)
		}
	}
}
