package attest_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

const slsaV1 = "https://slsa.dev/provenance/v1"

const provenance = `{"buildDefinition":{"buildType":"https://example.com/build/v1",
 "externalParameters":{"workflow":{"repository":"https://github.com/org/app","ref":"refs/heads/main","path":".github/workflows/release.yml"}},
 "resolvedDependencies":[{"uri":"git+https://github.com/org/app@refs/heads/main","digest":{"gitCommit":"0123456789abcdef0123456789abcdef01234567"}}]},
 "runDetails":{"builder":{"id":"https://github.com/org/builder@v1"}}}`

func mustPolicy(t *testing.T, y string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCosignLayout(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	mallory := newSigner(t, "mallory.pub")
	other := digest.FromString("another image")
	allowBuilder := `apiVersion: imgproof.dev/policy/v1
attestations:
  - predicateType: https://slsa.dev/provenance/v1
    slsa:
      builderIDs: ["https://github.com/org/builder@v1"]
      sourceRepos: ["https://github.com/org/app"]
      sourceRefs: ["refs/heads/main"]
    rules:
      - name: workflow
        expr: predicate.buildDefinition.externalParameters.workflow.path == ".github/workflows/release.yml"
`
	otherBuilder := strings.Replace(allowBuilder, "org/builder@v1", "org/other-builder@v1", 1)
	celFails := strings.Replace(allowBuilder, "release.yml", "nightly.yml", 1)
	onlySBOM := "apiVersion: imgproof.dev/policy/v1\nallowedPredicateTypes: [https://spdx.dev/Document]\nrequireSignature: true\n"

	tests := []struct {
		name    string
		build   func(l *layout)
		keys    []*keys.Key
		policy  string
		verdict verify.Verdict
		code    verify.Code // a finding that must be present
	}{
		{name: "signature and attestation verify",
			build: func(l *layout) {
				l.cosignSig(alice, simplePayload(l.manifest.String()))
				l.cosignAtt(alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String())))
			},
			keys: []*keys.Key{alice.key}, verdict: verify.Verified},
		{name: "policy allows builder, source and CEL rule",
			build: func(l *layout) {
				l.cosignAtt(alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String())))
			},
			keys: []*keys.Key{alice.key}, policy: allowBuilder, verdict: verify.Verified},
		{name: "attestation binding the config digest verifies",
			build: func(l *layout) {
				l.cosignAtt(alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.config.String(), l.manifest.String())))
			},
			keys: []*keys.Key{alice.key}, verdict: verify.Verified},
		{name: "wrong key",
			build: func(l *layout) { l.cosignSig(mallory, simplePayload(l.manifest.String())) },
			keys:  []*keys.Key{alice.key}, verdict: verify.Failed, code: attest.CodeSignatureInvalid},
		{name: "one good signature and one by an untrusted key fails",
			build: func(l *layout) {
				l.cosignSig(alice, simplePayload(l.manifest.String()))
				l.cosignAtt(mallory.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String())))
			},
			keys: []*keys.Key{alice.key}, verdict: verify.Failed, code: attest.CodeSignatureInvalid},
		{name: "signature for another image",
			build: func(l *layout) { l.cosignSig(alice, simplePayload(other.String())) },
			keys:  []*keys.Key{alice.key}, verdict: verify.Failed, code: attest.CodeSubjectMismatch},
		{name: "signature naming the config digest is not a manifest signature",
			build: func(l *layout) { l.cosignSig(alice, simplePayload(l.config.String())) },
			keys:  []*keys.Key{alice.key}, verdict: verify.Failed, code: attest.CodeSubjectMismatch},
		{name: "attestation for another image",
			build: func(l *layout) {
				l.cosignSig(alice, simplePayload(l.manifest.String()))
				l.cosignAtt(alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, other.String())))
			},
			keys: []*keys.Key{alice.key}, verdict: verify.Failed, code: attest.CodeSubjectMismatch},
		{name: "payload type swapped after signing",
			build: func(l *layout) {
				env := alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String()))
				l.cosignAtt([]byte(strings.Replace(string(env), "application/vnd.in-toto+json", "application/json", 1)))
			},
			keys: []*keys.Key{alice.key}, verdict: verify.Failed, code: attest.CodePayloadTypeUnsupported},
		{name: "payload type other than in-toto, validly signed",
			build: func(l *layout) {
				l.cosignAtt(alice.envelope(t, "application/vnd.in-toto+JSON", statement(slsaV1, provenance, l.manifest.String())))
			},
			keys: []*keys.Key{alice.key}, verdict: verify.Failed, code: attest.CodePayloadTypeUnsupported},
		{name: "key-name alias in simple signing payload",
			build: func(l *layout) {
				p := []byte(strings.Replace(string(simplePayload(l.manifest.String())), "docker-manifest-digest", "Docker-manifest-digest", 1))
				l.cosignSig(alice, p)
			},
			keys: []*keys.Key{alice.key}, verdict: verify.Failed, code: verify.CodeJSONKeyAlias},
		{name: "duplicate key in simple signing payload",
			build: func(l *layout) {
				p := strings.Replace(string(simplePayload(l.manifest.String())), `"type"`, `"image":{"docker-manifest-digest":"`+other.String()+`"},"type"`, 1)
				l.cosignSig(alice, []byte(p))
			},
			keys: []*keys.Key{alice.key}, verdict: verify.Failed, code: verify.CodeJSONDuplicateKey},
		{name: "no signatures with a key is unverifiable",
			build: func(l *layout) {}, keys: []*keys.Key{alice.key}, verdict: verify.Unverifiable, code: attest.CodeUnsigned},
		{name: "signature not checked without trust",
			build:   func(l *layout) { l.cosignSig(mallory, simplePayload(other.String())) },
			verdict: verify.Verified, code: attest.CodeNotChecked},
		{name: "policy builder mismatch",
			build: func(l *layout) {
				l.cosignAtt(alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String())))
			},
			keys: []*keys.Key{alice.key}, policy: otherBuilder, verdict: verify.Failed, code: attest.CodePolicyViolation},
		{name: "policy CEL rule false",
			build: func(l *layout) {
				l.cosignAtt(alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String())))
			},
			keys: []*keys.Key{alice.key}, policy: celFails, verdict: verify.Failed, code: attest.CodePolicyViolation},
		{name: "policy requires provenance, only a vuln scan present",
			build: func(l *layout) {
				l.cosignAtt(alice.envelope(t, "application/vnd.in-toto+json", statement("https://cosign.sigstore.dev/attestation/vuln/v1", "", l.manifest.String())))
			},
			keys: []*keys.Key{alice.key}, policy: allowBuilder, verdict: verify.Failed, code: attest.CodeNoMatchingAttestation},
		{name: "predicate type the policy does not allow",
			build: func(l *layout) {
				l.cosignSig(alice, simplePayload(l.manifest.String()))
				l.cosignAtt(alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String())))
			},
			keys: []*keys.Key{alice.key}, policy: onlySBOM, verdict: verify.Failed, code: attest.CodePredicateNotAllowed},
		{name: "policy requires a signature, only an attestation present",
			build: func(l *layout) {
				l.cosignAtt(alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String())))
			},
			keys: []*keys.Key{alice.key}, policy: "apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\n",
			verdict: verify.Unverifiable, code: attest.CodeUnsigned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLayout(t, fixtures.Default())
			tc.build(l)
			opts := &attest.Options{Keys: tc.keys}
			if tc.policy != "" {
				opts.Policy = mustPolicy(t, tc.policy)
			}
			rep := l.run(opts)
			if rep.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s; findings:\n%s", rep.Verdict, tc.verdict, strings.Join(codes(rep), "\n"))
			}
			if tc.code != "" && !rep.Has(tc.code) {
				t.Fatalf("no %s finding; findings:\n%s", tc.code, strings.Join(codes(rep), "\n"))
			}
			if tc.verdict == verify.Verified && len(tc.keys) > 0 {
				var verified int
				for _, a := range rep.Attestations {
					if a.Status == attest.StatusVerified {
						verified++
						if len(a.Signers) == 0 || len(a.Binds) == 0 {
							t.Fatalf("verified entry without signers or binds: %+v", a)
						}
					}
				}
				if verified == 0 {
					t.Fatalf("VERIFIED with no verified attestation entry: %+v", rep.Attestations)
				}
			}
		})
	}
}

func TestTamperedLayerFailsDespiteSignature(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	l := newLayout(t, fixtures.Default())
	l.cosignSig(alice, simplePayload(l.manifest.String()))
	// Flip a byte of the first layer blob.
	var m ocispec.Manifest
	mustJSON(t, l.files["blobs/sha256/"+l.manifest.Encoded()], &m)
	p := "blobs/sha256/" + m.Layers[0].Digest.Encoded()
	b := append([]byte(nil), l.files[p]...)
	b[len(b)/2] ^= 1
	l.files[p] = b
	rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}})
	if rep.Verdict != verify.Failed || !rep.Has(verify.CodeDigestMismatch) {
		t.Fatalf("verdict %s; findings:\n%s", rep.Verdict, strings.Join(codes(rep), "\n"))
	}
	// The signature itself still verified: the failure is the content's.
	if len(rep.Attestations) != 1 || rep.Attestations[0].Status != attest.StatusVerified {
		t.Fatalf("attestations: %+v", rep.Attestations)
	}
}

func TestBuildKitAttestations(t *testing.T) {
	spec := fixtures.Default()
	spec.Index = true
	spec.BuildKitAttestations = true
	l := newLayout(t, spec)
	rep := l.run(nil)
	if rep.Verdict != verify.Verified {
		t.Fatalf("verdict %s; findings:\n%s", rep.Verdict, strings.Join(codes(rep), "\n"))
	}
	n := 0
	for _, a := range rep.Attestations {
		if a.Kind != attest.KindBuildKit {
			continue
		}
		n++
		if a.Status != attest.StatusUnsigned || len(a.Signers) != 0 {
			t.Fatalf("BuildKit attestation not reported as unsigned: %+v", a)
		}
		if len(a.Binds) != 1 || a.Binds[0].Digest != l.manifest.String() || a.Binds[0].Node != "manifest" {
			t.Fatalf("binds %+v, want the image manifest %s", a.Binds, l.manifest)
		}
	}
	if n == 0 || !rep.Has(attest.CodeUnsignedClaim) {
		t.Fatalf("no BuildKit attestation found: %+v", rep.Attestations)
	}

	// With a key, unsigned claims are never enough.
	alice := newSigner(t, "alice.pub")
	rep = l.run(&attest.Options{Keys: []*keys.Key{alice.key}})
	if rep.Verdict != verify.Unverifiable || !rep.Has(attest.CodeUnsigned) {
		t.Fatalf("with a key: verdict %s; findings:\n%s", rep.Verdict, strings.Join(codes(rep), "\n"))
	}
	// A policy that requires provenance: present but unsigned.
	pol := mustPolicy(t, "apiVersion: imgproof.dev/policy/v1\nattestations: [{predicateType: \""+fixtures.PredicateSLSAProvenance02+"\"}]\n")
	rep = l.run(&attest.Options{Keys: []*keys.Key{alice.key}, Policy: pol})
	if rep.Verdict != verify.Unverifiable || rep.Has(attest.CodeNoMatchingAttestation) {
		t.Fatalf("policy: verdict %s; findings:\n%s", rep.Verdict, strings.Join(codes(rep), "\n"))
	}
}

func TestReferrersFallbackTag(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	l := newLayout(t, fixtures.Default())
	subject := l.index.Manifests[0]
	subject.Annotations = nil
	env := alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String()))
	ref := l.addManifest([]layer{{attest.MediaTypeDSSE, env, nil}}, nil, &subject)
	// The referrer is listed only in the fallback index, whose entry has
	// the empty artifactType (cosign#4641); remove its own index.json entry.
	l.index.Manifests = l.index.Manifests[:len(l.index.Manifests)-1]
	ref.ArtifactType = "application/vnd.oci.empty.v1+json"
	fallback := ocispec.Index{Manifests: []ocispec.Descriptor{ref}, MediaType: ocispec.MediaTypeImageIndex}
	fallback.SchemaVersion = 2
	raw := mustMarshal(t, fallback)
	d := l.blob(ocispec.MediaTypeImageIndex, raw, nil)
	d.Annotations = map[string]string{ocispec.AnnotationRefName: "sha256-" + l.manifest.Encoded()}
	l.index.Manifests = append(l.index.Manifests, d)

	rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}})
	if rep.Verdict != verify.Verified {
		t.Fatalf("verdict %s; findings:\n%s", rep.Verdict, strings.Join(codes(rep), "\n"))
	}
	if len(rep.Attestations) != 1 || rep.Attestations[0].Status != attest.StatusVerified {
		t.Fatalf("attestations %+v", rep.Attestations)
	}
}

func TestTagSchemeAttachment(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	l := newLayout(t, fixtures.Default())
	// A .sig tag for the image whose payload names another digest that is
	// also in the layout would still be a substitution: the tag decides
	// what the claim is attached to.
	other := digest.FromString("elsewhere")
	payload := simplePayload(l.manifest.String())
	l.addManifest([]layer{{attest.MediaTypeSimpleSigning, payload,
		map[string]string{attest.AnnotationCosignSignature: base64.RawURLEncoding.EncodeToString(alice.sign(t, payload))}}},
		map[string]string{ocispec.AnnotationRefName: "sha256-" + other.Encoded() + ".sig"}, nil)
	rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}})
	if rep.Verdict != verify.Failed || !rep.Has(attest.CodeSubjectMismatch) {
		t.Fatalf("verdict %s; findings:\n%s", rep.Verdict, strings.Join(codes(rep), "\n"))
	}
}

func TestAttestationFiles(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	l := newLayout(t, fixtures.Default())
	good := alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String()))
	bad := alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, digest.FromString("x").String()))
	for _, tc := range []struct {
		name    string
		data    string
		verdict verify.Verdict
		code    verify.Code
	}{
		{"one envelope", string(good), verify.Verified, ""},
		{"json lines", string(good) + "\n" + string(good) + "\n", verify.Verified, ""},
		{"a line for another image", string(good) + "\n" + string(bad) + "\n", verify.Failed, attest.CodeSubjectMismatch},
		{"garbage", "{not json", verify.Failed, verify.CodeJSONSyntax},
		{"sigstore bundle without support", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`, verify.Unverifiable, attest.CodeUnsupportedAttachment},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}, Files: []attest.File{{Name: "att.json", Data: []byte(tc.data)}}})
			if rep.Verdict != tc.verdict || (tc.code != "" && !rep.Has(tc.code)) {
				t.Fatalf("verdict %s (want %s, %s); findings:\n%s", rep.Verdict, tc.verdict, tc.code, strings.Join(codes(rep), "\n"))
			}
		})
	}
}

func TestBuildKitWithPlatformSelection(t *testing.T) {
	spec := fixtures.Spec{Index: true, BuildKitAttestations: true, Images: []fixtures.ImageSpec{
		{Platform: fixtures.Platform{OS: "linux", Architecture: "amd64"}, Layers: fixtures.DefaultLayers("amd64", fixtures.Gzip)},
		{Platform: fixtures.Platform{OS: "linux", Architecture: "arm64"}, Layers: fixtures.DefaultLayers("arm64", fixtures.Gzip)},
	}}
	l := newLayout(t, spec)
	rep := l.runWith(&verify.Options{Platform: &verify.Platform{OS: "linux", Architecture: "arm64"}}, &attest.Options{})
	if rep.Verdict != verify.Verified {
		t.Fatalf("verdict %s; findings:\n%s", rep.Verdict, strings.Join(codes(rep), "\n"))
	}
	var bound []string
	for _, a := range rep.Attestations {
		for _, b := range a.Binds {
			bound = append(bound, b.Digest)
		}
	}
	arm := l.built.Expected.Images[1].ManifestDigest
	if len(bound) == 0 {
		t.Fatal("no BuildKit attestation bound")
	}
	for _, b := range bound {
		if b != arm {
			t.Fatalf("bound %s, want only the arm64 manifest %s", b, arm)
		}
	}
}

func TestTopLevelReferrer(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	base := newLayout(t, fixtures.Default())
	env := alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, base.manifest.String()))
	for _, tc := range []struct {
		name         string
		artifactType string
		payload      []byte
		verdict      verify.Verdict
	}{
		{"DSSE referrer", "application/vnd.dsse.envelope.v1+json", env, verify.Verified},
		{"empty artifactType (cosign#4641)", "", env, verify.Verified},
		{"referrer for the image naming another", "application/vnd.dsse.envelope.v1+json",
			alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, digest.FromString("x").String())), verify.Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := fixtures.Default()
			spec.Referrers = []fixtures.Referrer{{Subject: 0, ArtifactType: tc.artifactType, MediaType: attest.MediaTypeDSSE, Payload: tc.payload}}
			l := newLayout(t, spec)
			if l.manifest != base.manifest {
				t.Fatalf("fixture image changed: %s", l.manifest)
			}
			rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}})
			if rep.Verdict != tc.verdict || len(rep.Attestations) != 1 {
				t.Fatalf("verdict %s, %d attestations; findings:\n%s", rep.Verdict, len(rep.Attestations), strings.Join(codes(rep), "\n"))
			}
			if tc.verdict == verify.Failed && !rep.Has(attest.CodeSubjectMismatch) {
				t.Fatalf("no subject mismatch; findings:\n%s", strings.Join(codes(rep), "\n"))
			}
		})
	}
}
