//go:build !js

package attest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/attest/sigstore"
	"github.com/imgproof/imgproof/attest/sigstore/sigstoretest"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

const (
	keylessIdentity = "https://github.com/org/app/.github/workflows/release.yml@refs/heads/main"
	keylessIssuer   = "https://token.actions.githubusercontent.com"
)

// legacyHook is what the CLI wires: attest/sigstore against one identity.
func legacyHook(root []byte, id policy.Identity) attest.LegacyVerifier {
	p := sigstore.Policy{TrustedRoot: root, Identity: id.Subject, Issuer: id.Issuer}
	return func(ctx context.Context, sig attest.LegacySignature) attest.BundleResult {
		res, err := sigstore.VerifyCosignLayer(ctx, sigstore.CosignLayer(sig), p)
		out := attest.BundleResult{Verified: err == nil && res.Verified, Checks: res.Checks, Statement: res.Payload}
		if out.Verified {
			out.Signers = []string{res.SignerName()}
		} else if se, ok := err.(*sigstore.Error); ok {
			f := se.Finding("")
			out.Finding = &f
		}
		return out
	}
}

// keylessWorld is a test sigstore and a signer's certificate from it.
type keylessWorld struct {
	ca   *sigstoretest.Authority
	root []byte
	leaf *sigstoretest.Leaf
}

func newKeylessWorld(t *testing.T) *keylessWorld {
	t.Helper()
	ca, root := sigstoretest.ForTest(t)
	return &keylessWorld{ca: ca, root: root, leaf: keylessLeaf(t, ca, sigstoretest.LeafOptions{})}
}

func keylessLeaf(t *testing.T, ca *sigstoretest.Authority, o sigstoretest.LeafOptions) *sigstoretest.Leaf {
	t.Helper()
	o.Identity, o.Issuer = keylessIdentity, keylessIssuer
	return ca.MustLeaf(t, o)
}

// keylessSig adds a keyless .sig image tagged sha256-<hex>.sig for the
// layout's image, as cosign leaves it.
func (l *layout) keylessSig(payload []byte, ann map[string]string) {
	l.addManifest([]layer{{attest.MediaTypeSimpleSigning, payload, ann}},
		map[string]string{ocispec.AnnotationRefName: "sha256-" + l.manifest.Encoded() + ".sig"}, nil)
}

func (l *layout) keylessAtt(env []byte, ann map[string]string) {
	ann["predicateType"] = slsaV1
	l.addManifest([]layer{{attest.MediaTypeDSSE, env, ann}},
		map[string]string{ocispec.AnnotationRefName: "sha256-" + l.manifest.Encoded() + ".att"}, nil)
}

func TestKeylessLegacySignature(t *testing.T) {
	w := newKeylessWorld(t)
	other := newKeylessWorld(t)
	now := time.Now()
	id := policy.Identity{Subject: keylessIdentity, Issuer: keylessIssuer}
	sign := func(t *testing.T, leaf *sigstoretest.Leaf, payload []byte, at time.Time) map[string]string {
		t.Helper()
		ann, err := w.ca.Sign(leaf, payload, at)
		if err != nil {
			t.Fatal(err)
		}
		return ann
	}
	tests := []struct {
		name    string
		build   func(t *testing.T, l *layout)
		id      policy.Identity
		nilHook bool
		keys    []*keys.Key
		verdict verify.Verdict
		code    verify.Code
		message string // part of the finding's message
	}{
		{name: "verified", verdict: verify.Verified,
			build: func(t *testing.T, l *layout) {
				p := simplePayload(l.manifest.String())
				l.keylessSig(p, sign(t, w.leaf, p, now))
			}},
		{name: "wrong identity", id: policy.Identity{Subject: "https://github.com/org/other/.github/workflows/release.yml@refs/heads/main", Issuer: keylessIssuer},
			verdict: verify.Failed, code: sigstore.CodeIdentityMismatch,
			build: func(t *testing.T, l *layout) {
				p := simplePayload(l.manifest.String())
				l.keylessSig(p, sign(t, w.leaf, p, now))
			}},
		{name: "wrong issuer", id: policy.Identity{Subject: keylessIdentity, Issuer: "https://accounts.google.com"},
			verdict: verify.Failed, code: sigstore.CodeIdentityMismatch,
			build: func(t *testing.T, l *layout) {
				p := simplePayload(l.manifest.String())
				l.keylessSig(p, sign(t, w.leaf, p, now))
			}},
		{name: "payload names another manifest", verdict: verify.Failed, code: attest.CodeSubjectMismatch,
			build: func(t *testing.T, l *layout) {
				p := simplePayload(digest.FromString("another image").String())
				l.keylessSig(p, sign(t, w.leaf, p, now))
			}},
		{name: "tampered signed entry timestamp", verdict: verify.Failed, code: sigstore.CodeTlogInvalid,
			build: func(t *testing.T, l *layout) {
				p := simplePayload(l.manifest.String())
				ann := sign(t, w.leaf, p, now)
				var rb sigstore.RekorBundle
				mustJSON(t, []byte(ann[attest.AnnotationCosignBundle]), &rb)
				set, _ := base64.StdEncoding.DecodeString(rb.SignedEntryTimestamp)
				set[10] ^= 1
				rb.SignedEntryTimestamp = base64.StdEncoding.EncodeToString(set)
				ann[attest.AnnotationCosignBundle] = string(mustMarshal(t, rb))
				l.keylessSig(p, ann)
			}},
		{name: "Rekor entry for another signature", verdict: verify.Failed, code: sigstore.CodeTlogInvalid,
			build: func(t *testing.T, l *layout) {
				p := simplePayload(l.manifest.String())
				ann := sign(t, w.leaf, p, now)
				ann[attest.AnnotationCosignBundle] = sign(t, w.leaf, simplePayload(digest.FromString("x").String()), now)[attest.AnnotationCosignBundle]
				l.keylessSig(p, ann)
			}},
		{name: "certificate expired at the integrated time", verdict: verify.Failed, code: sigstore.CodeTlogInvalid,
			message: "outside certificate validity",
			build: func(t *testing.T, l *layout) {
				p := simplePayload(l.manifest.String())
				leaf := keylessLeaf(t, w.ca, sigstoretest.LeafOptions{NotBefore: now.Add(-3 * time.Hour), NotAfter: now.Add(-2 * time.Hour)})
				l.keylessSig(p, sign(t, leaf, p, now))
			}},
		{name: "chain not to the trusted root", verdict: verify.Failed, code: sigstore.CodeCertificateInvalid,
			build: func(t *testing.T, l *layout) {
				p := simplePayload(l.manifest.String())
				leaf := keylessLeaf(t, other.ca, sigstoretest.LeafOptions{})
				l.keylessSig(p, sign(t, leaf, p, now))
			}},
		{name: "missing Rekor bundle annotation", verdict: verify.Failed, code: attest.CodeEnvelopeInvalid,
			message: attest.AnnotationCosignBundle,
			build: func(t *testing.T, l *layout) {
				p := simplePayload(l.manifest.String())
				ann := sign(t, w.leaf, p, now)
				delete(ann, attest.AnnotationCosignBundle)
				l.keylessSig(p, ann)
			}},
		{name: "a key signature with keyless trust only", verdict: verify.Failed, code: attest.CodeEnvelopeInvalid,
			message: attest.AnnotationCosignCertificate,
			build: func(t *testing.T, l *layout) {
				l.cosignSig(newSigner(t, "alice.pub"), simplePayload(l.manifest.String()))
			}},
		{name: "keys and identities: the keyless signature is checked keyless", verdict: verify.Verified,
			keys: []*keys.Key{newSigner(t, "alice.pub").key},
			build: func(t *testing.T, l *layout) {
				p := simplePayload(l.manifest.String())
				l.keylessSig(p, sign(t, w.leaf, p, now))
			}},
		{name: "no keyless verifier in this build", nilHook: true, verdict: verify.Unverifiable, code: attest.CodeKeylessUnavailable,
			build: func(t *testing.T, l *layout) {
				p := simplePayload(l.manifest.String())
				l.keylessSig(p, sign(t, w.leaf, p, now))
			}},
		{name: "keyless attestation verified", verdict: verify.Verified,
			build: func(t *testing.T, l *layout) {
				env, ann, err := w.ca.Attest(w.leaf, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String()), now)
				if err != nil {
					t.Fatal(err)
				}
				l.keylessAtt(env, ann)
			}},
		{name: "keyless attestation for another image", verdict: verify.Failed, code: attest.CodeSubjectMismatch,
			build: func(t *testing.T, l *layout) {
				env, ann, err := w.ca.Attest(w.leaf, "application/vnd.in-toto+json", statement(slsaV1, provenance, digest.FromString("x").String()), now)
				if err != nil {
					t.Fatal(err)
				}
				l.keylessAtt(env, ann)
			}},
		{name: "keyless attestation with a swapped payload", verdict: verify.Failed, code: sigstore.CodeSignatureInvalid,
			build: func(t *testing.T, l *layout) {
				env, ann, err := w.ca.Attest(w.leaf, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String()), now)
				if err != nil {
					t.Fatal(err)
				}
				var e map[string]any
				mustJSON(t, env, &e)
				e["payload"] = base64.StdEncoding.EncodeToString(statement(slsaV1, `{"x":1}`, l.manifest.String()))
				l.keylessAtt(mustMarshal(t, e), ann)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLayout(t, fixtures.Default())
			tc.build(t, l)
			ident := id
			if tc.id.Subject != "" {
				ident = tc.id
			}
			opts := &attest.Options{Keyless: true, Keys: tc.keys}
			if !tc.nilHook {
				opts.Legacy = legacyHook(w.root, ident)
			}
			rep := l.run(opts)
			all := strings.Join(codes(rep), "\n")
			if rep.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s; findings:\n%s", rep.Verdict, tc.verdict, all)
			}
			if tc.code != "" && !rep.Has(tc.code) {
				t.Fatalf("no %s finding:\n%s", tc.code, all)
			}
			if tc.message != "" && !strings.Contains(all, tc.message) {
				t.Fatalf("no finding says %q:\n%s", tc.message, all)
			}
			if tc.verdict == verify.Verified {
				a := rep.Attestations[len(rep.Attestations)-1]
				want := keylessIdentity + " (issuer " + keylessIssuer + ")"
				if a.Status != attest.StatusVerified || len(a.Signers) != 1 || a.Signers[0] != want || len(a.Binds) != 1 ||
					a.Binds[0].Digest != l.manifest.String() {
					t.Fatalf("attestation %s", mustMarshal(t, a))
				}
			}
		})
	}
}

// TestKeylessLegacyReportJSON: the report of a keyless signature lists the
// log, certificate and identity checks that ran.
func TestKeylessLegacyReportJSON(t *testing.T) {
	w := newKeylessWorld(t)
	l := newLayout(t, fixtures.Default())
	p := simplePayload(l.manifest.String())
	ann, err := w.ca.Sign(w.leaf, p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l.keylessSig(p, ann)
	rep := l.run(&attest.Options{Keyless: true, Legacy: legacyHook(w.root, policy.Identity{Subject: keylessIdentity, Issuer: keylessIssuer})})
	raw, err := json.Marshal(rep.Attestations)
	if err != nil {
		t.Fatal(err)
	}
	for _, check := range []string{sigstore.CheckTransparencyLog, sigstore.CheckCertificate, sigstore.CheckSCT, sigstore.CheckIdentity, sigstore.CheckSignature, "payload", "subject"} {
		if !strings.Contains(string(raw), `"name":"`+check+`","status":"pass"`) {
			t.Errorf("no passed %s check in %s", check, raw)
		}
	}
}
