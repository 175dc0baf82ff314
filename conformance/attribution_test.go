package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
)

// mustFailures runs the checker on b as an OCI archive and returns its
// failed MUST results as "RULE path" strings.
func mustFailures(t *testing.T, b *fixtures.Built) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := b.WriteOCIArchive(&buf, false); err != nil {
		t.Fatal(err)
	}
	rep := CheckArchive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "case.tar", nil)
	var out []string
	for _, r := range rep.Results {
		if r.Status == Fail && r.Level == Must {
			out = append(out, r.Rule+" "+r.Path)
		}
	}
	return out
}

func layer0Of(m map[string]any) map[string]any { return m["layers"].([]any)[0].(map[string]any) }

// TestAttribution: each defect is one MUST finding, by the rule whose
// sentence it breaks, at the field that carries it, and nothing follows.
func TestAttribution(t *testing.T) {
	base := fixtures.MustBuild(fixtures.Default())
	multi := fixtures.MustBuild(fixtures.MultiPlatform())
	const man = "index.json/manifests[0]"
	cases := []struct {
		name string
		b    *fixtures.Built
		want []string
	}{
		{"index entry without mediaType", base.WithIndexJSON(func(i map[string]any) {
			delete(i["manifests"].([]any)[0].(map[string]any), "mediaType")
		}), []string{"OCI-DESC-001 " + man + "/mediaType", "OCI-LAYOUT-006 index.json"}},
		// A defect of a nested index is that index's, not index.json's.
		{"nested index with schemaVersion 3", multi.WithIndexBytes(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"schemaVersion":2`), []byte(`"schemaVersion":3`), 1)
		}), []string{"OCI-IDX-001 " + man + "/schemaVersion"}},
		{"unpadded base64 data", base.WithManifest(0, func(m map[string]any) { layer0Of(m)["data"] = "YQ" }),
			[]string{"OCI-DESC-011 " + man + "/layers[0]/data"}},
		{"variant is a number", base.WithConfig(0, func(c map[string]any) { c["variant"] = 7353 }),
			[]string{"OCI-CFG-016 " + man + "/config/variant"}},
		{"os.version is a number", base.WithConfig(0, func(c map[string]any) { c["os.version"] = 10 }),
			[]string{"OCI-CFG-017 " + man + "/config/os.version"}},
		{"os.features is a string", base.WithConfig(0, func(c map[string]any) { c["os.features"] = "win32k" }),
			[]string{"OCI-CFG-018 " + man + "/config/os.features"}},
		{"architecture is a number", base.WithConfig(0, func(c map[string]any) { c["architecture"] = 1 }),
			[]string{"OCI-CFG-001 " + man + "/config/architecture"}},
		{"history entry field of the wrong type", base.WithConfig(0, func(c map[string]any) {
			c["history"] = []any{map[string]any{"created_by": 1}}
		}), []string{"OCI-CFG-019 " + man + "/config/history[0]/created_by"}},
		{"layer without size, blob present", base.WithManifest(0, func(m map[string]any) { delete(layer0Of(m), "size") }),
			[]string{"OCI-DESC-005 " + man + "/layers[0]/size"}},
		{"unsupported config algorithm beside a malformed layer digest", base.WithManifest(0, func(m map[string]any) {
			m["config"].(map[string]any)["digest"] = "sha384:" + strings.Repeat("ab", 48)
			layer0Of(m)["digest"] = "sha256+foo+-b"
		}), []string{"OCI-DESC-004 " + man + "/layers[0]/digest"}},
		// A plain layout may lack blobs (OCI-LAYOUT-009, a SHOULD); no
		// docker-save rule applies without manifest.json.
		{"layer blob missing from a plain layout", base.WithoutBlob(base.Expected.Images[0].Layers[0].Digest), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustFailures(t, tc.b)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("MUST failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestShowValue: messages print absent values as absent, numbers as numbers.
func TestShowValue(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{{nil, "absent"}, {"a", `"a"`}, {json.Number("7353"), "7353"}, {[]any{"x"}, `["x"]`}} {
		if got := show(tc.in); got != tc.want {
			t.Errorf("show(%#v) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := showValue(""); got != "absent" {
		t.Errorf("showValue(\"\") = %s", got)
	}
}
