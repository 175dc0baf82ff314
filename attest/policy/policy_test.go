package policy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest/policy"
)

const full = `apiVersion: imgproof.dev/policy/v1
keys:
  - path: cosign.pub
threshold: 1
allowedPredicateTypes: [https://slsa.dev/provenance/v1, https://spdx.dev/Document]
attestations:
  - name: provenance
    predicateType: https://slsa.dev/provenance/v1
    slsa:
      builderIDs: [https://github.com/org/builder@v1]
    rules:
      - name: pushed
        expr: predicate.buildDefinition.internalParameters.github.event_name == "push"
      - name: one subject
        expr: size(subject) == 1
`

func TestParse(t *testing.T) {
	p, err := policy.Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Attestations) != 1 || p.Attestations[0].SLSA == nil || len(p.Keys) != 1 || p.EffectiveThreshold() != 1 {
		t.Fatalf("%+v", p)
	}
	if !p.PredicateAllowed("https://spdx.dev/Document") || p.PredicateAllowed("https://example.com/other") {
		t.Fatal("allowedPredicateTypes not applied")
	}
	js := `{"apiVersion":"imgproof.dev/policy/v1","requireSignature":true,"keys":[{"pem":"x"}]}`
	if _, err := policy.Parse([]byte(js)); err != nil {
		t.Fatalf("JSON policy: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"requires nothing":        "apiVersion: imgproof.dev/policy/v1\nkeys: [{path: a.pub}]\n",
		"empty attestations":      "apiVersion: imgproof.dev/policy/v1\nattestations: []\n",
		"wrong apiVersion":        "apiVersion: v1\nrequireSignature: true\n",
		"unknown field (typo)":    "apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\nbuilderIds: [x]\n",
		"case alias":              "apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\nRequireSignature: false\n",
		"duplicate key":           "apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\nrequireSignature: false\n",
		"missing predicateType":   "apiVersion: imgproof.dev/policy/v1\nattestations: [{name: x}]\n",
		"slsa on non-provenance":  "apiVersion: imgproof.dev/policy/v1\nattestations: [{predicateType: https://spdx.dev/Document, slsa: {builderIDs: [x]}}]\n",
		"empty slsa":              "apiVersion: imgproof.dev/policy/v1\nattestations: [{predicateType: https://slsa.dev/provenance/v1, slsa: {}}]\n",
		"CEL syntax":              "apiVersion: imgproof.dev/policy/v1\nattestations: [{predicateType: p, rules: [{expr: 'predicate.'}]}]\n",
		"CEL not bool":            "apiVersion: imgproof.dev/policy/v1\nattestations: [{predicateType: p, rules: [{expr: '1 + 2'}]}]\n",
		"required type forbidden": "apiVersion: imgproof.dev/policy/v1\nallowedPredicateTypes: [a]\nattestations: [{predicateType: b}]\n",
		"identity without issuer": "apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\nidentities: [{subject: me}]\n",
		"key with path and pem":   "apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\nkeys: [{path: a, pem: b}]\n",
		"negative threshold":      "apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\nthreshold: -1\n",
	} {
		if _, err := policy.Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name == "requires nothing" && !errors.Is(err, policy.ErrNothingRequired) {
			t.Errorf("requires nothing: %v", err)
		}
	}
}

func TestRequirementCheck(t *testing.T) {
	p, err := policy.Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	req := &p.Attestations[0]
	pred := `{"buildDefinition":{"buildType":"t","externalParameters":{},"internalParameters":{"github":{"event_name":"push"}}},"runDetails":{"builder":{"id":"https://github.com/org/builder@v1"}}}`
	st := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"00"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":` + pred + `}`
	res, ok := req.Check(context.Background(), []byte(st), []byte(pred), 100)
	if !ok || len(res) != 3 {
		t.Fatalf("ok=%v %+v", ok, res)
	}
	bad := strings.Replace(st, `"push"`, `"pull_request_target"`, 1)
	res, ok = req.Check(context.Background(), []byte(bad), []byte(strings.Replace(pred, `"push"`, `"pull_request_target"`, 1)), 100)
	if ok {
		t.Fatalf("CEL rule passed on pull_request_target: %+v", res)
	}
	// A rule on a missing field fails rather than passing.
	missing := strings.Replace(st, `"internalParameters":{"github":{"event_name":"push"}}`, `"internalParameters":{}`, 1)
	if _, ok := req.Check(context.Background(), []byte(missing), []byte(pred), 100); ok {
		t.Fatal("rule on a missing field passed")
	}
}

func TestCELIntegers(t *testing.T) {
	r, err := policy.CompileRule("n", "statement.n == 9007199254740993 || statement.n > 1.5")
	if err != nil {
		t.Fatal(err)
	}
	// 2^53+1 is not routed through float64 into a false equality with 2^53.
	ok, err := r.Eval(context.Background(), []byte(`{"n":9007199254740992}`))
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	r2, _ := policy.CompileRule("eq", "statement.n == 9007199254740993")
	if ok, _ := r2.Eval(context.Background(), []byte(`{"n":9007199254740992}`)); ok {
		t.Fatal("2^53 equals 2^53+1")
	}
	// Cost is bounded.
	r3, err := policy.CompileRule("cost", "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a+b+c+d+e+f > 0))))))")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r3.Eval(context.Background(), []byte(`{}`)); err == nil {
		t.Fatal("a million-step rule ran to completion")
	}
}
