package attest_test

import (
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/fixtures"
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
