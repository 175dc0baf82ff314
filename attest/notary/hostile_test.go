//go:build !js

package notary_test

import (
	"context"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/notary/notarytest"
	"github.com/imgproof/imgproof/verify"
)

// TestMalformedEnvelopes: envelopes that are not signatures never verify
// and never panic; each is an integrity failure.
func TestMalformedEnvelopes(t *testing.T) {
	root := notarytest.NewCA(t, "imgproof test root")
	tr := trust(t, notarytest.Policy(t, "strict", []string{"ca:test"}, []string{"*"}), notarytest.Store(t, "test", root))
	target := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.Digest("sha256:" + strings.Repeat("a", 64)), Size: 2}
	for _, c := range []struct{ name, mediaType, env string }{
		{"empty JWS", attest.MediaTypeJWS, ""},
		{"empty object", attest.MediaTypeJWS, "{}"},
		{"JWS without signature", attest.MediaTypeJWS, `{"payload":"e30","protected":"e30","header":{"x5c":[]}}`},
		{"JWS with bad base64", attest.MediaTypeJWS, `{"payload":"!!","protected":"!!","signature":"!!","header":{"x5c":["!!"]}}`},
		{"deep JSON", attest.MediaTypeJWS, strings.Repeat("[", 100000)},
		{"empty COSE", attest.MediaTypeCOSE, ""},
		{"CBOR garbage", attest.MediaTypeCOSE, "\xd2\x84\x40\xa0\x40\x40"},
		{"CBOR deep", attest.MediaTypeCOSE, strings.Repeat("\x81", 100000)},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := tr.Verifier()(context.Background(), attest.NotarySignature{MediaType: c.mediaType, Envelope: []byte(c.env), Target: target})
			if res.Verified || res.Finding == nil || res.Finding.Code != attest.CodeSignatureInvalid || res.Finding.Severity == verify.SeverityWarning {
				t.Fatalf("want an integrity failure, got %+v %+v", res, res.Finding)
			}
		})
	}
}
