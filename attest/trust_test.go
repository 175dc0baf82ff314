package attest_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/internal/limits"
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

// Options parses each document under the limit of its kind in Trust.Limits,
// lowered or raised, whichever face read it.
func TestTrustLimits(t *testing.T) {
	key := newSigner(t, "k").pem(t)
	keyed := "apiVersion: " + policy.APIVersion + "\nrequireSignature: true\nkeys:\n  - path: k.pub\n"
	policyKey := func(int, string) (attest.File, error) { return attest.File{Name: "k.pub", Data: key}, nil }
	for _, c := range []struct {
		name  string
		trust attest.Trust
		kind  limits.Kind
		value int64
		input attest.Input
	}{
		{"key", attest.Trust{Keys: []attest.File{{Name: "k.pub", Data: key}}}, limits.KeyFile, 64, attest.InputKey},
		{"policy", attest.Trust{Policy: &attest.File{Name: "p.yaml", Data: []byte(keyed)}, PolicyKey: policyKey},
			limits.PolicyFile, 16, attest.InputPolicy},
		{"policy's key", attest.Trust{Policy: &attest.File{Name: "p.yaml", Data: []byte(keyed)}, PolicyKey: policyKey},
			limits.KeyFile, 64, attest.InputPolicyKey},
		{"attestation", attest.Trust{Attestations: []attest.File{{Name: "a.jsonl", Data: []byte(`{"payload":""}`)}}},
			limits.ClaimFile, 8, attest.InputAttestation},
		{"policy depth", attest.Trust{Policy: &attest.File{Name: "p.json",
			Data: []byte(`{"apiVersion":"` + policy.APIVersion + `","requireSignature":true,"keys":[{"path":"k.pub"}]}`)}, PolicyKey: policyKey},
			limits.JSONDepth, 2, attest.InputPolicy},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.trust.Options(); err != nil {
				t.Fatalf("default limits: %v", err)
			}
			lim := limits.Default()
			if err := lim.Set(c.kind, c.value); err != nil {
				t.Fatal(err)
			}
			c.trust.Limits = &lim
			_, err := c.trust.Options()
			var te *attest.TrustError
			var le *limits.Error
			if !errors.As(err, &te) || te.Input != c.input || (c.kind != limits.JSONDepth && (!errors.As(err, &le) || le.Kind != c.kind)) {
				t.Fatalf("%s=%d: %v; want a TrustError on %s with the limit of its kind", c.kind, c.value, err, c.input)
			}
		})
	}
	// A raised limit admits a document the default refuses.
	big := attest.Trust{Policy: &attest.File{Name: "p.yaml", Data: []byte(keyed + "#" + strings.Repeat(" ", 1<<20) + "\n")}, PolicyKey: policyKey}
	var le *limits.Error
	if _, err := big.Options(); !errors.As(err, &le) || le.Kind != limits.PolicyFile {
		t.Fatalf("a policy over 1 MiB under the defaults: %v", err)
	}
	lim := limits.Default()
	lim.PolicyFile = 2 << 20
	big.Limits = &lim
	if opts, err := big.Options(); err != nil || len(opts.Keys) != 1 {
		t.Fatalf("policy-file-bytes=2MiB: %v", err)
	}
}
