package attest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// cosign v3 signs an image as a statement of predicate type
// https://sigstore.dev/cosign/sign/v1: it is the image's signature for
// requireSignature, and a provenance attestation is not.
func TestCosignSignStatementIsASignature(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	pol := mustPolicy(t, "apiVersion: imgproof.dev/policy/v1\nrequireSignature: true\n")
	for _, tc := range []struct {
		predicateType, predicate string
		verdict                  verify.Verdict
	}{
		{attest.PredicateCosignSign, "{}", verify.Verified},
		{slsaV1, provenance, verify.Unverifiable},
	} {
		l := newLayout(t, fixtures.Default())
		l.cosignAtt(alice.envelope(t, "application/vnd.in-toto+json", statement(tc.predicateType, tc.predicate, l.manifest.String())))
		rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}, Policy: pol})
		if rep.Verdict != tc.verdict || (tc.verdict == verify.Unverifiable) != rep.Has(attest.CodeUnsigned) {
			t.Fatalf("%s: verdict %s, want %s; findings:\n%s", tc.predicateType, rep.Verdict, tc.verdict, strings.Join(codes(rep), "\n"))
		}
	}
}

// cosign v3's save leaves referrers as blobs that index.json does not
// list; a referrer whose subject is a recomputed digest is found there,
// and one about another digest is none of the image's business.
func TestUnlistedReferrers(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	other := digest.FromString("another image")
	for _, tc := range []struct {
		name    string
		names   func(l *layout) string // the digest the statement names
		subject func(l *layout) ocispec.Descriptor
		verdict verify.Verdict
		code    verify.Code
	}{
		{"signature of the image", func(l *layout) string { return l.manifest.String() },
			func(l *layout) ocispec.Descriptor {
				return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: l.manifest, Size: 1}
			},
			verify.Verified, ""},
		{"attached to the image, naming another", func(*layout) string { return other.String() },
			func(l *layout) ocispec.Descriptor {
				return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: l.manifest, Size: 1}
			},
			verify.Failed, attest.CodeSubjectMismatch},
		{"referrer of another digest", func(*layout) string { return other.String() },
			func(*layout) ocispec.Descriptor {
				return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: other, Size: 1}
			},
			verify.Unverifiable, attest.CodeUnsigned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLayout(t, fixtures.Default())
			subject := tc.subject(l)
			env := alice.envelope(t, "application/vnd.in-toto+json", statement(attest.PredicateCosignSign, "{}", tc.names(l)))
			l.addManifest([]layer{{attest.MediaTypeDSSE, env, nil}}, nil, &subject)
			l.index.Manifests = l.index.Manifests[:len(l.index.Manifests)-1]
			rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}})
			if rep.Verdict != tc.verdict || (tc.code != "" && !rep.Has(tc.code)) {
				t.Fatalf("verdict %s, want %s %s; findings:\n%s", rep.Verdict, tc.verdict, tc.code, strings.Join(codes(rep), "\n"))
			}
			if tc.verdict == verify.Verified && (len(rep.Attestations) != 1 || !strings.HasPrefix(rep.Attestations[0].Origin, "referrer ")) {
				t.Fatalf("attestations %+v", rep.Attestations)
			}
		})
	}
}

// The scan of unlisted blobs is bounded, and says when it stopped.
func TestUnlistedReferrersBound(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	l := newLayout(t, fixtures.Default())
	subject := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: l.manifest, Size: 1}
	for i := 0; i < 3; i++ {
		env := alice.envelope(t, "application/vnd.in-toto+json", statement(attest.PredicateCosignSign, fmt.Sprintf(`{"n":%d}`, i), l.manifest.String()))
		l.addManifest([]layer{{attest.MediaTypeDSSE, env, nil}}, nil, &subject)
		l.index.Manifests = l.index.Manifests[:len(l.index.Manifests)-1]
	}
	lim := limits.Default()
	lim.Attestations = 2
	rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}, Limits: &lim})
	found := false
	for _, f := range rep.Findings {
		if f.Code == verify.CodeLimitExceeded && f.Severity == verify.SeverityInfo && strings.Contains(f.Message, "unlisted blobs") {
			found = true
		}
	}
	if !found || len(rep.Attestations) > 2 {
		t.Fatalf("bound not applied: %d claims; findings:\n%s", len(rep.Attestations), strings.Join(codes(rep), "\n"))
	}
}
