//go:build !js

package sigstore_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imgproof/imgproof/attest/sigstore"
	"github.com/imgproof/imgproof/attest/sigstore/sigstoretest"
)

const (
	testIdentity = "https://github.com/org/app/.github/workflows/release.yml@refs/heads/main"
	testIssuer   = "https://token.actions.githubusercontent.com"
)

func newLeaf(t *testing.T, a *sigstoretest.Authority, o sigstoretest.LeafOptions) *sigstoretest.Leaf {
	t.Helper()
	if o.Identity == "" {
		o.Identity = testIdentity
	}
	if o.Issuer == "" {
		o.Issuer = testIssuer
	}
	return a.MustLeaf(t, o)
}

func layerOf(mediaType string, data []byte, ann map[string]string) sigstore.CosignLayer {
	return sigstore.CosignLayer{MediaType: mediaType, Data: data, Signature: ann[sigstoretest.AnnotationSignature],
		Certificate: ann[sigstoretest.AnnotationCertificate], Chain: ann[sigstoretest.AnnotationChain], Bundle: ann[sigstoretest.AnnotationBundle]}
}

// editBundle rewrites the Rekor bundle annotation.
func editBundle(t *testing.T, ann map[string]string, edit func(map[string]any)) {
	t.Helper()
	var rb map[string]any
	if err := json.Unmarshal([]byte(ann[sigstoretest.AnnotationBundle]), &rb); err != nil {
		t.Fatal(err)
	}
	edit(rb)
	b, err := json.Marshal(rb)
	if err != nil {
		t.Fatal(err)
	}
	ann[sigstoretest.AnnotationBundle] = string(b)
}

// TestVerifyCosignLayer: a keyless simple-signing layer verifies with the
// right identity and issuer, and every edit to what the CA, the log or the
// signer vouched for fails the check that covers it.
func TestVerifyCosignLayer(t *testing.T) {
	a, root := sigstoretest.ForTest(t)
	other, _ := sigstoretest.ForTest(t)
	payload := []byte(`{"critical":{"identity":{"docker-reference":"r/app"},"image":{"docker-manifest-digest":"sha256:` +
		strings.Repeat("ab", 32) + `"},"type":"cosign container image signature"},"optional":null}`)
	now := time.Now()
	good := newLeaf(t, a, sigstoretest.LeafOptions{})
	policy := sigstore.Policy{TrustedRoot: root, Identity: testIdentity, Issuer: testIssuer}

	tests := []struct {
		name   string
		leaf   *sigstoretest.Leaf
		at     time.Time
		edit   func(t *testing.T, ann map[string]string, data *[]byte)
		policy func(p *sigstore.Policy)
		check  string // the failed check; "" means verified
		kind   error
		// message, if set, must be part of the error.
		message string
	}{
		{name: "verified"},
		{name: "anchored regular expressions", policy: func(p *sigstore.Policy) {
			p.Identity, p.IdentityRegexp = "", `https://github\.com/org/app/.*`
			p.Issuer, p.IssuerRegexp = "", `https://token\.actions\..*`
		}},
		{name: "wrong identity", policy: func(p *sigstore.Policy) {
			p.Identity = "https://github.com/org/other/.github/workflows/x.yml@refs/heads/main"
		},
			check: sigstore.CheckIdentity, kind: sigstore.ErrVerify},
		{name: "unanchored identity regexp does not match a part", policy: func(p *sigstore.Policy) { p.Identity, p.IdentityRegexp = "", "org/app" },
			check: sigstore.CheckIdentity, kind: sigstore.ErrVerify},
		{name: "wrong issuer", policy: func(p *sigstore.Policy) { p.Issuer = "https://accounts.google.com" },
			check: sigstore.CheckIdentity, kind: sigstore.ErrVerify},
		{name: "payload changed after signing", edit: func(_ *testing.T, _ map[string]string, d *[]byte) {
			*d = []byte(strings.Replace(string(*d), "ab", "cd", 1))
		}, check: sigstore.CheckSignature, kind: sigstore.ErrVerify},
		{name: "tampered signed entry timestamp", edit: func(t *testing.T, ann map[string]string, _ *[]byte) {
			editBundle(t, ann, func(rb map[string]any) {
				set, _ := base64.StdEncoding.DecodeString(rb["SignedEntryTimestamp"].(string))
				set[len(set)-1] ^= 1
				rb["SignedEntryTimestamp"] = base64.StdEncoding.EncodeToString(set)
			})
		}, check: sigstore.CheckTransparencyLog, kind: sigstore.ErrVerify},
		{name: "integrated time changed", edit: func(t *testing.T, ann map[string]string, _ *[]byte) {
			editBundle(t, ann, func(rb map[string]any) {
				p := rb["Payload"].(map[string]any)
				p["integratedTime"] = p["integratedTime"].(float64) + 1
			})
		}, check: sigstore.CheckTransparencyLog, kind: sigstore.ErrVerify},
		{name: "log entry for another signature", edit: func(t *testing.T, ann map[string]string, d *[]byte) {
			sig, err := good.SignPayload([]byte("something else"))
			if err != nil {
				t.Fatal(err)
			}
			body, err := sigstoretest.HashedRekordBody(good.PEM, sig, []byte("something else"))
			if err != nil {
				t.Fatal(err)
			}
			if ann[sigstoretest.AnnotationBundle], err = a.RekorBundle(body, now, 1); err != nil {
				t.Fatal(err)
			}
		}, check: sigstore.CheckTransparencyLog, kind: sigstore.ErrVerify},
		{name: "log entry with this signature but another payload hash", edit: func(t *testing.T, ann map[string]string, d *[]byte) {
			// Rekor would refuse this entry; the log key signs it anyway.
			sig, _ := base64.StdEncoding.DecodeString(ann[sigstoretest.AnnotationSignature])
			body, err := sigstoretest.HashedRekordBody(good.PEM, sig, *d)
			if err != nil {
				t.Fatal(err)
			}
			var b map[string]any
			if err := json.Unmarshal(body, &b); err != nil {
				t.Fatal(err)
			}
			b["spec"].(map[string]any)["data"].(map[string]any)["hash"].(map[string]any)["value"] = strings.Repeat("0", 64)
			if body, err = json.Marshal(b); err != nil {
				t.Fatal(err)
			}
			if ann[sigstoretest.AnnotationBundle], err = a.RekorBundle(body, now, 1); err != nil {
				t.Fatal(err)
			}
		}, check: sigstore.CheckBundle, kind: sigstore.ErrMalformed, message: "invalid signature"},
		{name: "certificate expired at the integrated time", leaf: newLeaf(t, a, sigstoretest.LeafOptions{
			NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour)}),
			check: sigstore.CheckTransparencyLog, kind: sigstore.ErrVerify, message: "outside certificate validity"},
		{name: "signed before the certificate was valid", at: now.Add(-time.Hour),
			check: sigstore.CheckTransparencyLog, kind: sigstore.ErrVerify, message: "outside certificate validity"},
		{name: "chain to another CA", leaf: newLeaf(t, other, sigstoretest.LeafOptions{}),
			check: sigstore.CheckCertificate, kind: sigstore.ErrVerify},
		{name: "no Rekor bundle", edit: func(_ *testing.T, ann map[string]string, _ *[]byte) { delete(ann, sigstoretest.AnnotationBundle) },
			check: sigstore.CheckBundle, kind: sigstore.ErrMalformed},
		{name: "no certificate", edit: func(_ *testing.T, ann map[string]string, _ *[]byte) { delete(ann, sigstoretest.AnnotationCertificate) },
			check: sigstore.CheckBundle, kind: sigstore.ErrMalformed},
		{name: "chain is not PEM", edit: func(_ *testing.T, ann map[string]string, _ *[]byte) { ann[sigstoretest.AnnotationChain] = "junk" },
			check: sigstore.CheckBundle, kind: sigstore.ErrMalformed},
		{name: "Rekor bundle with a duplicate key", edit: func(_ *testing.T, ann map[string]string, _ *[]byte) {
			ann[sigstoretest.AnnotationBundle] = strings.Replace(ann[sigstoretest.AnnotationBundle], `{`, `{"SignedEntryTimestamp":"AA==",`, 1)
		}, check: sigstore.CheckBundle, kind: sigstore.ErrMalformed},
		{name: "signature not base64", edit: func(_ *testing.T, ann map[string]string, _ *[]byte) { ann[sigstoretest.AnnotationSignature] = "!" },
			check: sigstore.CheckBundle, kind: sigstore.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf := good
			if tc.leaf != nil {
				leaf = tc.leaf
			}
			at := now
			if !tc.at.IsZero() {
				at = tc.at
			}
			ann, err := a.Sign(leaf, payload, at)
			if err != nil {
				t.Fatal(err)
			}
			data := append([]byte(nil), payload...)
			if tc.edit != nil {
				tc.edit(t, ann, &data)
			}
			p := policy
			if tc.policy != nil {
				tc.policy(&p)
			}
			res, err := sigstore.VerifyCosignLayer(context.Background(), layerOf(sigstore.MediaTypeSimpleSigning, data, ann), p)
			if tc.check == "" {
				if err != nil || !res.Verified {
					t.Fatalf("want verified, got %v; checks %+v", err, res.Checks)
				}
				if res.Signer != testIdentity || res.Issuer != testIssuer {
					t.Fatalf("signer %q issuer %q", res.Signer, res.Issuer)
				}
				return
			}
			var e *sigstore.Error
			if !errors.As(err, &e) || res.Verified {
				t.Fatalf("want a failure of %s, got verified=%v err=%v", tc.check, res.Verified, err)
			}
			if e.Check != tc.check || !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("want %s (%v), got %v", tc.check, tc.kind, err)
			}
		})
	}
}

// TestVerifyCosignLayerDSSE: a keyless .att layer verifies over the DSSE
// PAE and hands back the statement; edits to the envelope or its log entry
// fail.
func TestVerifyCosignLayerDSSE(t *testing.T) {
	a, root := sigstoretest.ForTest(t)
	leaf := newLeaf(t, a, sigstoretest.LeafOptions{Identity: "release@example.com"})
	statement := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"` +
		strings.Repeat("ab", 32) + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`)
	policy := sigstore.Policy{TrustedRoot: root, Identity: "release@example.com", Issuer: testIssuer}
	env, ann, err := a.Attest(leaf, "application/vnd.in-toto+json", statement, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := sigstore.VerifyCosignLayer(context.Background(), layerOf(sigstore.MediaTypeDSSE, env, ann), policy)
	if err != nil || !res.Verified {
		t.Fatalf("want verified, got %v; checks %+v", err, res.Checks)
	}
	if string(res.Payload) != string(statement) || res.PredicateType != "https://slsa.dev/provenance/v1" || res.Signer != "release@example.com" {
		t.Fatalf("payload %q predicate %q signer %q", res.Payload, res.PredicateType, res.Signer)
	}

	// The payload swapped for another statement: the signature and the log
	// entry's payload hash no longer cover it.
	var e map[string]any
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	e["payload"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(statement), "ab", "cd", 1)))
	swapped, _ := json.Marshal(e)
	if res, err := sigstore.VerifyCosignLayer(context.Background(), layerOf(sigstore.MediaTypeDSSE, swapped, ann), policy); err == nil || res.Verified {
		t.Fatal("an envelope with a swapped payload verified")
	}

	// A log entry for another envelope by the same signer.
	other, _, err := a.Attest(leaf, "application/vnd.in-toto+json", []byte(`{"_type":"https://in-toto.io/Statement/v1"}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	body, err := sigstoretest.IntotoBody(leaf.PEM, other)
	if err != nil {
		t.Fatal(err)
	}
	moved := map[string]string{}
	for k, v := range ann {
		moved[k] = v
	}
	if moved[sigstoretest.AnnotationBundle], err = a.RekorBundle(body, time.Now(), 3); err != nil {
		t.Fatal(err)
	}
	res, err = sigstore.VerifyCosignLayer(context.Background(), layerOf(sigstore.MediaTypeDSSE, env, moved), policy)
	var se *sigstore.Error
	if !errors.As(err, &se) || se.Check != sigstore.CheckTransparencyLog || res.Verified {
		t.Fatalf("log entry for another envelope: want a transparency-log failure, got %v", err)
	}

	// The log entry of this envelope, with another payload hash.
	var b map[string]any
	body, err = sigstoretest.IntotoBody(leaf.PEM, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	b["spec"].(map[string]any)["content"].(map[string]any)["payloadHash"].(map[string]any)["value"] = strings.Repeat("0", 64)
	if body, err = json.Marshal(b); err != nil {
		t.Fatal(err)
	}
	if moved[sigstoretest.AnnotationBundle], err = a.RekorBundle(body, time.Now(), 3); err != nil {
		t.Fatal(err)
	}
	res, err = sigstore.VerifyCosignLayer(context.Background(), layerOf(sigstore.MediaTypeDSSE, env, moved), policy)
	if !errors.As(err, &se) || se.Check != sigstore.CheckTransparencyLog || res.Verified || !strings.Contains(err.Error(), "the Rekor entry is for sha256:0000") {
		t.Fatalf("log entry with another payload hash: want a transparency-log failure, got %v", err)
	}

	// A key policy is refused: a keyless layer needs an identity.
	if _, err := sigstore.VerifyCosignLayer(context.Background(), layerOf(sigstore.MediaTypeDSSE, env, ann),
		sigstore.Policy{Key: []byte(leaf.PEM)}); !errors.Is(err, sigstore.ErrPolicy) {
		t.Fatalf("key policy: %v", err)
	}
}
