//go:build !js

package cosignpolicy_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/cosign/v2/cmd/cosign/cli/options"

	"github.com/imgproof/imgproof/attest/cosignpolicy"
	"github.com/imgproof/imgproof/attest/policy"
)

const statement = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"` +
	`0000000000000000000000000000000000000000000000000000000000000001"}}],"predicateType":"https://slsa.dev/provenance/v1",` +
	`"predicate":{"buildDefinition":{"buildType":"https://example.com/build/v1","externalParameters":{"ref":"refs/heads/main"}},` +
	`"runDetails":{"builder":{"id":"https://github.com/org/builder@v1"}}}}`

// The short names in the wasm-safe policy package are cosign's own.
func TestPredicateTypeNames(t *testing.T) {
	if d := cmp.Diff(options.PredicateTypeMap, policy.PredicateTypeNames); d != "" {
		t.Fatalf("policy.PredicateTypeNames differs from cosign's (-cosign +imgproof):\n%s", d)
	}
}

func TestPayloadJSON(t *testing.T) {
	ctx := context.Background()
	for _, as := range []string{"", "slsaprovenance1", "https://slsa.dev/provenance/v1"} {
		got, err := cosignpolicy.PayloadJSON(ctx, as, []byte(statement))
		if err != nil {
			t.Fatalf("%q: %v", as, err)
		}
		var v struct {
			Type          string `json:"_type"`
			PredicateType string
			Predicate     map[string]any
			Subject       []map[string]any
		}
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatal(err)
		}
		if v.Type != "https://in-toto.io/Statement/v1" || v.PredicateType != "https://slsa.dev/provenance/v1" || len(v.Subject) != 1 || v.Predicate["runDetails"] == nil {
			t.Fatalf("%q: payload %s", as, got)
		}
	}
	// cosign selects by predicate type: a v1 statement is not slsaprovenance (v0.2).
	if _, err := cosignpolicy.PayloadJSON(ctx, "slsaprovenance", []byte(statement)); err == nil || !strings.Contains(err.Error(), "is not https://slsa.dev/provenance/v0.2") {
		t.Fatalf("v1 statement as slsaprovenance: %v", err)
	}
	if _, err := cosignpolicy.PayloadJSON(ctx, "", []byte(`{"payload":`)); err == nil {
		t.Fatal("truncated statement accepted")
	}
}

func TestEvaluate(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const (
		regoFileOK  = "package signature\n\ndefault allow = false\n\nallow {\n  input.predicate.runDetails.builder.id == \"https://github.com/org/builder@v1\"\n}\n"
		cueFileOK   = "predicateType: \"https://slsa.dev/provenance/v1\"\npredicate: runDetails: builder: id: \"https://github.com/org/builder@v1\"\n"
		regoInline  = "package sigstore\n\ndefault isCompliant = false\n\nisCompliant {\n  input.predicate.buildDefinition.externalParameters.ref == \"%s\"\n}\n"
		cueInlineOK = "predicate: buildDefinition: externalParameters: ref: \"refs/heads/main\"\n"
	)
	tests := []struct {
		name string
		p    policy.Embedded
		want string // "" for a pass, else in the error
	}{
		{"rego file satisfied", policy.Embedded{Type: "rego", File: file("ok.rego", regoFileOK), As: "slsaprovenance1"}, ""},
		{"rego file violated", policy.Embedded{Type: "rego", File: file("bad.rego", strings.Replace(regoFileOK, "builder@v1", "builder@v2", 1)), As: "slsaprovenance1"}, "is not true"},
		{"rego file of the other package is undefined", policy.Embedded{Type: "rego", File: file("pkg.rego", strings.Replace(regoFileOK, "package signature", "package sigstore", 1))}, "undefined"},
		{"cue file satisfied", policy.Embedded{Type: "cue", File: file("ok.cue", cueFileOK)}, ""},
		{"cue file violated", policy.Embedded{Type: "cue", File: file("bad.cue", strings.Replace(cueFileOK, "builder@v1", "builder@v2", 1))}, "conflicting values"},
		{"inline rego satisfied", policy.Embedded{Type: "rego", Data: strings.Replace(regoInline, "%s", "refs/heads/main", 1), As: "https://slsa.dev/provenance/v1"}, ""},
		{"inline rego violated", policy.Embedded{Type: "rego", Data: strings.Replace(regoInline, "%s", "refs/tags/v1", 1), As: "https://slsa.dev/provenance/v1"}, "not compliant"},
		{"inline rego that does not compile", policy.Embedded{Type: "rego", Data: "package sigstore\nisCompliant {", As: "slsaprovenance1"}, "rego"},
		{"inline cue satisfied", policy.Embedded{Type: "cue", Data: cueInlineOK, As: "slsaprovenance1"}, ""},
		{"inline cue violated", policy.Embedded{Type: "cue", Data: strings.Replace(cueInlineOK, "main", "dev", 1), As: "slsaprovenance1"}, "failed evaluating cue policy"},
		{"inline cue closed struct rejects extra fields", policy.Embedded{Type: "cue", Data: "close({predicateType: string})", As: "slsaprovenance1"}, "not allowed"},
		{"wrong predicate type", policy.Embedded{Type: "cue", Data: cueInlineOK, As: "spdx"}, "is not https://spdx.dev/Document"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cosignpolicy.Evaluate(context.Background(), &tc.p, []byte(statement))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want a pass: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
