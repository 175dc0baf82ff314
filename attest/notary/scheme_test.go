//go:build !js

package notary_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/notary/notarytest"
)

// TestSigningAuthorityScheme signs with notation-core-go under the
// notary.x509.signingAuthority scheme (as signing services do) and checks
// that it verifies against a signingAuthority trust store only, its
// signing time being authentic.
func TestSigningAuthorityScheme(t *testing.T) {
	root := notarytest.NewCA(t, "signing authority root")
	key, chain := root.Leaf(t, "service.example", time.Now().Add(time.Hour))
	target := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("manifest"), Size: 8}
	payload, err := json.Marshal(map[string]any{"targetArtifact": target})
	if err != nil {
		t.Fatal(err)
	}
	s, err := signature.NewLocalSigner(chain, key)
	if err != nil {
		t.Fatal(err)
	}
	sa := notarytest.StoreOf(t, "signingAuthority", "sa", root)
	for _, mt := range []string{jws.MediaTypeEnvelope, cose.MediaTypeEnvelope} {
		env, err := signature.NewEnvelope(mt)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := env.Sign(&signature.SignRequest{
			Payload:       signature.Payload{ContentType: "application/vnd.cncf.notary.payload.v1+json", Content: payload},
			Signer:        s,
			SigningTime:   time.Now().Add(-time.Second),
			SigningScheme: signature.SigningSchemeX509SigningAuthority,
			SigningAgent:  "imgproof-test/1",
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			store, policyStore string
			verified           bool
		}{
			{sa, "signingAuthority:sa", true},
			// The same certificates as a ca store do not vouch for a
			// signing authority's signature.
			{notarytest.Store(t, "sa", root), "ca:sa", false},
		} {
			t.Run(mt+"/"+c.policyStore, func(t *testing.T) {
				tr := trust(t, notarytest.Policy(t, "strict", []string{c.policyStore}, []string{"*"}), c.store)
				res := tr.Verifier()(context.Background(), attest.NotarySignature{MediaType: mt, Envelope: sig, Target: target})
				b, _ := json.MarshalIndent(res, "", " ")
				if res.Verified != c.verified || res.Signature == nil || res.Signature.SigningScheme != "notary.x509.signingAuthority" ||
					res.Signature.SigningAgent != "imgproof-test/1" {
					t.Fatalf("want verified=%v for a signingAuthority signature:\n%s", c.verified, b)
				}
				if c.verified {
					if res.Target == nil || res.Target.Digest != target.Digest || !strings.Contains(string(b), "signing authority's signing time") {
						t.Fatalf("signed target or authentic time missing:\n%s", b)
					}
				} else if res.Finding == nil || res.Finding.Code != attest.CodeSignerUntrusted {
					t.Fatalf("want %s:\n%s", attest.CodeSignerUntrusted, b)
				}
			})
		}
	}
}
