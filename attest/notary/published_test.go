//go:build !js

package notary_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/verify"
)

// The notation-go test data (testdata/notation-go, see SOURCE.md) holds
// envelopes timestamped by a GlobalSign TSA over a manifest that is not
// part of it; they are checked here against its descriptor.
var publishedTarget = ocispec.Descriptor{MediaType: "application/vnd.docker.distribution.manifest.v2+json",
	Digest: digest.Digest("sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda"), Size: 528}

func publishedPolicy(level, override string) []byte {
	return []byte(`{"version":"1.0","trustPolicies":[{"name":"ts","registryScopes":["*"],
		"signatureVerification":{"level":"` + level + `"` + override + `},
		"trustStores":["ca:valid-trust-store","tsa:test-timestamp"],"trustedIdentities":["*"]}]}`)
}

func TestPublishedTimestamped(t *testing.T) {
	store := filepath.Join("testdata", "notation-go", "truststore")
	cases := []struct {
		file, mediaType, level string
		verified               bool
		code                   verify.Code
		severity               verify.Severity
	}{
		{"jwsWithTimestamp.sig", attest.MediaTypeJWS, "strict", false, attest.CodeRevocationUnavailable, verify.SeverityUnverifiable},
		{"coseWithTimestamp.sig", attest.MediaTypeCOSE, "strict", false, attest.CodeRevocationUnavailable, verify.SeverityUnverifiable},
		{"jwsWithTimestamp.sig", attest.MediaTypeJWS, "permissive", true, attest.CodeRevocationUnavailable, verify.SeverityWarning},
		{"coseWithTimestamp.sig", attest.MediaTypeCOSE, "permissive", true, attest.CodeRevocationUnavailable, verify.SeverityWarning},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+c.level, func(t *testing.T) {
			env, err := os.ReadFile(filepath.Join("testdata", "notation-go", "sigEnv", c.file))
			if err != nil {
				t.Fatal(err)
			}
			tr := trust(t, publishedPolicy(c.level, ""), store)
			res := tr.Verifier()(context.Background(), attest.NotarySignature{MediaType: c.mediaType, Envelope: env, Target: publishedTarget})
			b, _ := json.MarshalIndent(res, "", " ")
			if res.Verified != c.verified || res.Signature == nil || !res.Signature.Timestamped || res.Signature.SigningScheme != "notary.x509" {
				t.Fatalf("want verified=%v, a timestamped notary.x509 signature:\n%s", c.verified, b)
			}
			var f *verify.Finding
			if c.verified {
				if len(res.Warnings) != 1 {
					t.Fatalf("want one warning:\n%s", b)
				}
				f = &res.Warnings[0]
				if res.Target == nil || res.Target.Digest != publishedTarget.Digest {
					t.Fatalf("signed target: %+v", res.Target)
				}
			} else {
				f = res.Finding
			}
			if f == nil || f.Code != c.code || f.Severity != c.severity || !strings.Contains(f.Message, "revocation") {
				t.Fatalf("want %s (%s) about revocation:\n%s", c.code, c.severity, b)
			}
			if !strings.Contains(res.Signature.Revocation, "timestamping chain: OCSP/CRL did not run (offline)") {
				t.Fatalf("revocation summary: %q", res.Signature.Revocation)
			}
		})
	}
}
