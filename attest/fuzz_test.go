package attest_test

import (
	"context"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// FuzzAttestationFile feeds arbitrary attestation files to an image that
// carries no signature. Nobody holds the trusted key's private half, so no
// input may panic or yield VERIFIED.
func FuzzAttestationFile(f *testing.F) {
	alice := newSigner(f, "alice.pub")
	mallory := newSigner(f, "mallory.pub")
	l := newLayout(f, fixtures.Default())
	fsys := l.fs()
	m := l.manifest.String()
	f.Add(mallory.envelope(f, "application/vnd.in-toto+json", statement(slsaV1, provenance, m)))
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30","signatures":[{"sig":"MEUCIQ"}]}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{}}`))
	f.Add([]byte("{}\n{}\n[]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		res, err := attest.Run(ctx, func(o *verify.Options) (*verify.Result, error) {
			return verify.Dir(ctx, fsys, "layout", o), nil
		}, nil, &attest.Options{Keys: []*keys.Key{alice.key}, Files: []attest.File{{Name: "fuzz", Data: data}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict == verify.Verified {
			t.Fatalf("VERIFIED from an unsigned input: %+v", res.Attestations)
		}
		for _, a := range res.Attestations {
			if a.Status == attest.StatusVerified {
				t.Fatalf("verified claim from an unsigned input: %+v", a)
			}
		}
	})
}
