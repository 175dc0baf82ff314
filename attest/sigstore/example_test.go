//go:build !js

package sigstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/imgproof/imgproof/attest/sigstore"
)

// Verify a keyless bundle over an image's manifest digest, offline, and
// turn the outcome into a report entry and finding.
func ExampleVerify() {
	bundleJSON, _ := os.ReadFile("image.sigstore.json")
	trustedRoot, _ := os.ReadFile("trusted_root.json")
	res, err := sigstore.Verify(context.Background(), bundleJSON,
		sigstore.Artifact{Digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		sigstore.Policy{
			TrustedRoot: trustedRoot,
			Identity:    "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main",
			Issuer:      "https://token.actions.githubusercontent.com",
		})
	entry := res.Attestation("sigstore-bundle", "image.sigstore.json")
	var e *sigstore.Error
	if errors.As(err, &e) {
		f := e.Finding("image.sigstore.json")
		fmt.Println(entry.Status, f.Code, f.Severity)
		return
	}
	fmt.Println(entry.Status, res.Signer, res.IntegratedTime())
}
