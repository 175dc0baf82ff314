package attest_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// addORAS adds an artifact as oras push writes it: the empty config, an
// artifactType, and each file a ...layer.v1.tar blob (ORAS's default
// media type) that is not a tar. subject, if set, attaches it (oras attach).
func (l *layout) addORAS(subject *ocispec.Descriptor, files ...string) ocispec.Descriptor {
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.example.sbom",
		Config: l.blob("application/vnd.oci.empty.v1+json", []byte("{}"), nil), Subject: subject}
	m.SchemaVersion = 2
	for _, f := range files {
		m.Layers = append(m.Layers, l.blob("application/vnd.oci.image.layer.v1.tar", []byte(f),
			map[string]string{ocispec.AnnotationTitle: "sbom.json"}))
	}
	raw, err := json.Marshal(m)
	if err != nil {
		l.t.Fatal(err)
	}
	d := l.blob(ocispec.MediaTypeImageManifest, raw, nil)
	l.index.Manifests = append(l.index.Manifests, d)
	return d
}

// orasOnly is a layout that holds one ORAS artifact and nothing else.
func orasOnly(t *testing.T) (*layout, ocispec.Descriptor) {
	l := &layout{t: t, files: map[string][]byte{"oci-layout": fixtures.OCILayoutBytes}}
	l.index.SchemaVersion = 2
	l.index.MediaType = ocispec.MediaTypeImageIndex
	return l, l.addORAS(nil, `{"spdxVersion":"SPDX-2.3"}`)
}

// A signed ORAS artifact alone: the artifact is what the signature binds.
func TestSignedArtifactOnly(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	mallory := newSigner(t, "mallory.pub")
	for _, tc := range []struct {
		name    string
		signer  *signer
		names   func(a ocispec.Descriptor) string
		verdict verify.Verdict
		code    verify.Code
	}{
		{"signed by a trusted key", alice, func(a ocispec.Descriptor) string { return a.Digest.String() }, verify.Verified, ""},
		{"signed by another key", mallory, func(a ocispec.Descriptor) string { return a.Digest.String() }, verify.Failed, attest.CodeSignatureInvalid},
		{"signature naming another digest", alice, func(ocispec.Descriptor) string { return digest.FromString("x").String() }, verify.Failed, attest.CodeSubjectMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, a := orasOnly(t)
			l.cosignSig(tc.signer, simplePayload(tc.names(a)))
			rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}})
			if rep.Verdict != tc.verdict || (tc.code != "" && !rep.Has(tc.code)) {
				t.Fatalf("verdict %s, want %s with %s; findings:\n%s", rep.Verdict, tc.verdict, tc.code, strings.Join(codes(rep), "\n"))
			}
			if rep.Has(verify.CodeLayerNotTar) {
				t.Fatalf("artifact blobs checked as tars:\n%s", strings.Join(codes(rep), "\n"))
			}
		})
	}
	// Unsigned, with a key given: honestly unverifiable.
	l, _ := orasOnly(t)
	if rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}}); rep.Verdict != verify.Unverifiable || !rep.Has(attest.CodeUnsigned) {
		t.Fatalf("verdict %s; findings:\n%s", rep.Verdict, strings.Join(codes(rep), "\n"))
	}
}

// An image with an SBOM attached with ORAS, and a signature on the SBOM:
// the signature is genuine and says nothing about the image. It neither
// fails the image nor counts as its signature.
func TestSignatureOnAnAttachedArtifact(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	build := func(t *testing.T, signImage bool) *attest.Report {
		l := newLayout(t, fixtures.Default())
		img := l.index.Manifests[0]
		sbom := l.addORAS(&img, `{"spdxVersion":"SPDX-2.3"}`)
		payload := simplePayload(sbom.Digest.String())
		l.addManifest([]layer{{attest.MediaTypeSimpleSigning, payload,
			map[string]string{attest.AnnotationCosignSignature: sigB64(t, alice, payload)}}},
			map[string]string{ocispec.AnnotationRefName: strings.Replace(sbom.Digest.String(), ":", "-", 1) + ".sig"}, nil)
		if signImage {
			l.cosignSig(alice, simplePayload(l.manifest.String()))
		}
		return l.run(&attest.Options{Keys: []*keys.Key{alice.key}})
	}
	rep := build(t, true)
	if rep.Verdict != verify.Verified || !rep.Has(attest.CodeClaimOnArtifact) {
		t.Fatalf("signed image: verdict %s; findings:\n%s", rep.Verdict, strings.Join(codes(rep), "\n"))
	}
	rep = build(t, false)
	if rep.Verdict != verify.Unverifiable || !rep.Has(attest.CodeUnsigned) || !rep.Has(attest.CodeClaimOnArtifact) || rep.Has(attest.CodeSubjectMismatch) {
		t.Fatalf("unsigned image: verdict %s; findings:\n%s", rep.Verdict, strings.Join(codes(rep), "\n"))
	}
	for _, a := range rep.Attestations {
		if len(a.Binds) != 0 || a.Status == attest.StatusVerified {
			t.Fatalf("a claim on the SBOM was counted for the image: %+v", a)
		}
	}
}

// A claim attached to the image that names the SBOM instead is a
// mismatch between where it hangs and what it says: it still fails.
func TestClaimAttachedToTheImageNamingAnArtifactFails(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	l := newLayout(t, fixtures.Default())
	img := l.index.Manifests[0]
	sbom := l.addORAS(&img, `{"spdxVersion":"SPDX-2.3"}`)
	l.addManifest([]layer{{attest.MediaTypeDSSE, alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, sbom.Digest.String())), nil}},
		nil, &img)
	rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}})
	if rep.Verdict != verify.Failed || !rep.Has(attest.CodeSubjectMismatch) {
		t.Fatalf("verdict %s; findings:\n%s", rep.Verdict, strings.Join(codes(rep), "\n"))
	}
}

func sigB64(t *testing.T, s *signer, payload []byte) string {
	return base64.StdEncoding.EncodeToString(s.sign(t, payload))
}

// ctr export --platform of a buildx image keeps the index but drops the
// other platform and every attestation manifest (platform unknown/unknown).
// The selected image verifies, and with a key its signature decides.
func TestSinglePlatformExportWithoutAttestations(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	spec := fixtures.MultiPlatform()
	spec.BuildKitAttestations = true
	amd64 := &verify.Platform{OS: "linux", Architecture: "amd64"}
	for _, signed := range []bool{false, true} {
		l := newLayout(t, spec)
		kept := map[string]bool{}
		for _, img := range l.built.Expected.Images {
			if img.Kind == "image" && img.Platform.Architecture == "amd64" {
				kept[img.ManifestDigest], kept[img.ConfigDigest] = true, true
				for _, ly := range img.Layers {
					kept[ly.Digest] = true
				}
			}
		}
		for _, img := range l.built.Expected.Images {
			for _, d := range append([]string{img.ManifestDigest, img.ConfigDigest}, layerDigestsOf(img)...) {
				if !kept[d] {
					delete(l.files, fixtures.BlobPath(d))
				}
			}
		}
		amd := digest.Digest(l.built.Expected.Images[0].ManifestDigest)
		opts := &attest.Options{}
		if signed {
			payload := simplePayload(amd.String())
			l.addManifest([]layer{{attest.MediaTypeSimpleSigning, payload,
				map[string]string{attest.AnnotationCosignSignature: sigB64(t, alice, payload)}}},
				map[string]string{ocispec.AnnotationRefName: strings.Replace(amd.String(), ":", "-", 1) + ".sig"}, nil)
			opts.Keys = []*keys.Key{alice.key}
		}
		rep := l.runWith(&verify.Options{Platform: amd64}, opts)
		if rep.Verdict != verify.Verified || !rep.Has(verify.CodeAbsentPlatforms) || rep.Has(verify.CodeBlobMissing) {
			t.Fatalf("signed=%v: verdict %s; findings:\n%s", signed, rep.Verdict, strings.Join(codes(rep), "\n"))
		}
	}
}

func layerDigestsOf(img fixtures.ExpectedImage) []string {
	var out []string
	for _, l := range img.Layers {
		out = append(out, l.Digest)
	}
	return out
}
