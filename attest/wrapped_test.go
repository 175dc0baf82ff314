package attest_test

import (
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// TestWrappedBundleFiles: a line of the form GitHub's attestations API
// returns, {"bundle": {...}, "repository_id": ...}, is read as the bundle
// it wraps; a wrapper that holds no bundle is refused.
func TestWrappedBundleFiles(t *testing.T) {
	alice := newSigner(t, "alice.pub")
	l := newLayout(t, fixtures.Default())
	good := alice.envelope(t, "application/vnd.in-toto+json", statement(slsaV1, provenance, l.manifest.String()))
	for _, tc := range []struct {
		name    string
		data    string
		verdict verify.Verdict
		code    verify.Code
	}{
		{"wrapped bundle, no bundle support", `{"bundle":{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"},"repository_id":1}`,
			verify.Unverifiable, attest.CodeUnsupportedAttachment},
		{"wrapped envelope", `{"bundle":` + string(good) + `}`, verify.Failed, attest.CodeEnvelopeInvalid},
		{"wrapped non-object", `{"bundle":"x"}`, verify.Failed, attest.CodeEnvelopeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := l.run(&attest.Options{Keys: []*keys.Key{alice.key}, Files: []attest.File{{Name: "att.jsonl", Data: []byte(tc.data)}}})
			if rep.Verdict != tc.verdict || !rep.Has(tc.code) {
				t.Fatalf("verdict %s (want %s, %s); findings:\n%s", rep.Verdict, tc.verdict, tc.code, strings.Join(codes(rep), "\n"))
			}
		})
	}
}
