package conformance

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
)

// The rules run below a document the verifier refused: a manifest with a
// mistyped layer size does not decode, but the verifier's graph still
// leads to its config, whose own defects are reported.
func TestRulesFollowTheGraphBelowARefusedManifest(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default()).
		WithConfig(0, func(cfg map[string]any) { delete(cfg, "architecture") }).
		WithManifest(0, func(m map[string]any) { m["layers"].([]any)[1].(map[string]any)["size"] = "12" })
	var buf bytes.Buffer
	if err := b.WriteOCIArchive(&buf, false); err != nil {
		t.Fatal(err)
	}
	rep := CheckArchive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "image.tar", nil)
	if got := failsOf(rep, "OCI-DESC-005"); len(got) != 1 || !strings.HasPrefix(got[0], "index.json/manifests[0]/layers[1]/size: ") {
		t.Fatalf("OCI-DESC-005: %v", got)
	}
	if got := failsOf(rep, "OCI-CFG-001"); len(got) != 1 || !strings.HasPrefix(got[0], "index.json/manifests[0]/config/architecture: ") {
		t.Fatalf("OCI-CFG-001: %v", got)
	}
}
