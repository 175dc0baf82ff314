package attest_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/policy"
)

func (s *signer) pem(t *testing.T) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&s.priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Both faces build their options from one Trust: keys and the policy's
// keys are parsed and labelled, identities make the trust keyless, and a
// policy's key file is read only through PolicyKey.
func TestTrustOptions(t *testing.T) {
	alice, bob := newSigner(t, "alice"), newSigner(t, "bob")
	id := policy.Identity{Subject: "dev@example.com", Issuer: "https://issuer.example"}
	doc := "apiVersion: " + policy.APIVersion + "\nrequireSignature: true\nkeys:\n  - path: bob.pub\nidentities:\n  - subject: ci@example.com\n    issuer: https://issuer.example\n"
	tr := &attest.Trust{
		Keys:   []attest.File{{Name: "alice.pub", Data: alice.pem(t)}},
		Policy: &attest.File{Name: "/etc/imgproof/policy.yaml", Data: []byte(doc)},
		PolicyKey: func(i int, path string) (attest.File, error) {
			if i != 0 || path != "bob.pub" {
				t.Errorf("PolicyKey(%d, %q)", i, path)
			}
			return attest.File{Name: "bob.pub", Data: bob.pem(t)}, nil
		},
		Requirements: []policy.Requirement{{Name: "sbom", PredicateType: "https://spdx.dev/Document"}},
		Identity:     id,
		Attestations: []attest.File{{Name: "a.jsonl", Data: []byte("{}")}},
	}
	opts, err := tr.Options()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range opts.Keys {
		names = append(names, k.Name)
	}
	if strings.Join(names, ",") != "alice.pub,bob.pub" || len(opts.KeyDocuments) != 2 {
		t.Errorf("keys %v, %d documents; want alice.pub,bob.pub from 2", names, len(opts.KeyDocuments))
	}
	if !opts.Keyless || len(opts.Identities) != 2 || opts.Identities[0] != id {
		t.Errorf("keyless %v, identities %+v; want the flag's and the policy's", opts.Keyless, opts.Identities)
	}
	if opts.Policy == nil || len(opts.Policy.Attestations) != 1 || opts.Policy.Attestations[0].Name != "sbom" {
		t.Errorf("policy %+v; want the requirement added", opts.Policy)
	}
	if len(opts.Files) != 1 || opts.Bundles != nil || opts.Legacy != nil || opts.Notary != nil || opts.Policies != nil {
		t.Errorf("files %d, hooks set: %+v; want one file and no native hook", len(opts.Files), opts)
	}
}

// Every unusable input is a TrustError naming it, so that each face can
// word it in its own terms.
func TestTrustErrors(t *testing.T) {
	key := newSigner(t, "k")
	for _, c := range []struct {
		name  string
		trust attest.Trust
		input attest.Input
	}{
		{"negative threshold", attest.Trust{Threshold: -1}, attest.InputThreshold},
		{"not a key", attest.Trust{Keys: []attest.File{{Name: "k.pub", Data: []byte("nope")}}}, attest.InputKey},
		{"subject without issuer", attest.Trust{Identity: policy.Identity{Subject: "a@example.com"}}, attest.InputIdentity},
		{"both subject forms", attest.Trust{Identity: policy.Identity{Subject: "a", SubjectRegExp: "a", Issuer: "i"}}, attest.InputIdentity},
		{"policy not YAML", attest.Trust{Policy: &attest.File{Name: "p.yaml", Data: []byte("[")}}, attest.InputPolicy},
		{"policy key file without a reader", attest.Trust{Policy: &attest.File{Name: "p.yaml",
			Data: []byte("apiVersion: " + policy.APIVersion + "\nrequireSignature: true\nkeys:\n  - path: k.pub\n")}}, attest.InputPolicyKeyFile},
		{"policy key not PEM", attest.Trust{Policy: &attest.File{Name: "p.yaml",
			Data: []byte("apiVersion: " + policy.APIVersion + "\nrequireSignature: true\nkeys:\n  - pem: nope\n")}}, attest.InputPolicyKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.trust.Keys = append(c.trust.Keys, attest.File{Name: "good.pub", Data: key.pem(t)})
			_, err := c.trust.Options()
			var te *attest.TrustError
			if !errors.As(err, &te) || te.Input != c.input {
				t.Fatalf("Options() = %v, want a TrustError on %s", err, c.input)
			}
		})
	}
}
