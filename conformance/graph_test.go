package conformance

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
)

// checkOCIArchive checks b written as an OCI archive, under the default
// limits.
func checkOCIArchive(t *testing.T, b *fixtures.Built) *Report {
	t.Helper()
	var buf bytes.Buffer
	if err := b.WriteOCIArchive(&buf, false); err != nil {
		t.Fatal(err)
	}
	return CheckArchive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "image.tar", nil)
}

// The rules run below a document the verifier refused: a manifest with a
// mistyped layer size does not decode, but the verifier's graph still
// leads to its config, whose own defects are reported.
func TestRulesFollowTheGraphBelowARefusedManifest(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default()).
		WithConfig(0, func(cfg map[string]any) { delete(cfg, "architecture") }).
		WithManifest(0, func(m map[string]any) { m["layers"].([]any)[1].(map[string]any)["size"] = "12" })
	rep := checkOCIArchive(t, b)
	if got := failsOf(rep, "OCI-DESC-005"); len(got) != 1 || !strings.HasPrefix(got[0], "index.json/manifests[0]/layers[1]/size: ") {
		t.Fatalf("OCI-DESC-005: %v", got)
	}
	if got := failsOf(rep, "OCI-CFG-001"); len(got) != 1 || !strings.HasPrefix(got[0], "index.json/manifests[0]/config/architecture: ") {
		t.Fatalf("OCI-CFG-001: %v", got)
	}
}

// A manifest named twice is checked once, and its second entry is judged
// by what that check found; a digest named as an index too is checked as
// an index there.
func TestRulesCheckEachDocumentOncePerKind(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default()).
		WithConfig(0, func(cfg map[string]any) { delete(cfg, "architecture") }).
		WithIndexJSON(func(idx map[string]any) {
			ms := idx["manifests"].([]any)
			m := ms[0].(map[string]any)
			again := map[string]any{"mediaType": m["mediaType"], "digest": m["digest"], "size": m["size"]}
			asIndex := map[string]any{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": m["digest"], "size": m["size"]}
			idx["manifests"] = append(ms, again, asIndex)
		})
	rep := checkOCIArchive(t, b)
	// The config's defect is reported once, at the first path to it.
	if got := failsOf(rep, "OCI-CFG-001"); len(got) != 1 || !strings.HasPrefix(got[0], "index.json/manifests[0]/config/architecture: ") {
		t.Fatalf("OCI-CFG-001: %v", got)
	}
	// The second entry names a runnable image without a platform.
	if got := failsOf(rep, "OCI-IDX-007"); len(got) != 1 || !strings.HasPrefix(got[0], "index.json/manifests[1]: ") {
		t.Fatalf("OCI-IDX-007: %v", got)
	}
	// The third takes the manifest for an index: the index rules run on
	// it (the verifier's finding follows).
	if got := failsOf(rep, "OCI-IDX-003"); len(got) != 2 || !strings.HasPrefix(got[0], "index.json/manifests[2]/mediaType: mediaType ") {
		t.Fatalf("OCI-IDX-003: %v", got)
	}
}
