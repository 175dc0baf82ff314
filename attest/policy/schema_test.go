package policy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/imgproof/imgproof/attest/policy"
)

// TestSchemaAgreesWithParse validates policies against schema.json with an
// independent JSON Schema implementation, and checks that Parse accepts
// exactly the policies the schema accepts (for the cases the schema can
// express).
func TestSchemaAgreesWithParse(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(policy.Schema))
	if err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("policy.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("policy.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	example, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		doc string
		ok  bool
	}{
		"docs example":           {string(example), true},
		"signature only":         {"apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\nkeys: [{pem: x}]\n", true},
		"requires nothing":       {"apiVersion: imgproof.dev/policy/v1\nkeys: [{path: a.pub}]\n", false},
		"requireSignature false": {"apiVersion: imgproof.dev/policy/v1\nrequireSignature: false\n", false},
		"empty attestations":     {"apiVersion: imgproof.dev/policy/v1\nattestations: []\n", false},
		"wrong apiVersion":       {"apiVersion: v2\nrequireSignature: true\n", false},
		"unknown field":          {"apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\nbuilderIds: [x]\n", false},
		"unknown slsa field":     {"apiVersion: imgproof.dev/policy/v1\nattestations: [{predicateType: https://slsa.dev/provenance/v1, slsa: {builderId: x}}]\n", false},
		"no predicateType":       {"apiVersion: imgproof.dev/policy/v1\nattestations: [{name: x}]\n", false},
		"key path and pem":       {"apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\nkeys: [{path: a, pem: b}]\n", false},
		"identity sans issuer":   {"apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\nidentities: [{subject: me}]\n", false},
		"threshold zero":         {"apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\nthreshold: 0\n", false},
		"rule without expr":      {"apiVersion: imgproof.dev/policy/v1\nattestations: [{predicateType: p, rules: [{name: r}]}]\n", false},
	}
	for name, tc := range cases {
		js, err := yaml.YAMLToJSON([]byte(tc.doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(js)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		schemaOK := sch.Validate(inst) == nil
		_, perr := policy.Parse([]byte(tc.doc))
		parseOK := perr == nil
		if schemaOK != tc.ok || parseOK != tc.ok {
			t.Errorf("%s: schema ok=%v, Parse ok=%v (%v), want %v", name, schemaOK, parseOK, perr, tc.ok)
		}
	}
	var v any
	if err := json.Unmarshal(policy.Schema, &v); err != nil {
		t.Fatal(err)
	}
}
