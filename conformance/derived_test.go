package conformance

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
)

// mustRules runs the checker on every layout form of b and returns, per
// form, the sorted IDs of the MUST rules that fail and their messages.
// withDocker adds the docker save forms, whose own manifests are written
// from the model: only config defects show through in them.
func mustRules(t *testing.T, b *fixtures.Built, withDocker bool) map[string][]Result {
	t.Helper()
	ctx := context.Background()
	reports := map[string]*Report{"directory": CheckFS(ctx, b.LayoutFS(), "layout", nil)}
	archive := func(form string, write func(*bytes.Buffer) error) {
		var buf bytes.Buffer
		if err := write(&buf); err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		reports[form] = CheckArchive(ctx, bytes.NewReader(buf.Bytes()), int64(buf.Len()), form+".tar", nil)
	}
	archive("OCI archive", func(w *bytes.Buffer) error { return b.WriteOCIArchive(w, false) })
	if withDocker {
		archive("docker save 25+", func(w *bytes.Buffer) error { return b.WriteDockerArchive(w, fixtures.V25, false) })
		archive("docker save", func(w *bytes.Buffer) error { return b.WriteDockerArchive(w, fixtures.Classic, false) })
	}
	out := map[string][]Result{}
	for form, rep := range reports {
		out[form] = []Result{}
		for _, r := range rep.Results {
			if r.Status == Fail && r.Level == Must {
				out[form] = append(out[form], r)
			}
		}
	}
	return out
}

func ruleSet(rs []Result) []string {
	seen := map[string]bool{}
	var ids []string
	for _, r := range rs {
		if !seen[r.Rule] {
			seen[r.Rule] = true
			ids = append(ids, r.Rule)
		}
	}
	sort.Strings(ids)
	return ids
}

// TestDerivedDefects: each case isolates one defect (or two that sit side
// by side) and asserts the exact set of MUST rules that fail in every
// layout form: no rule besides the defect's, none missing, nothing that
// only follows from it.
func TestDerivedDefects(t *testing.T) {
	base := fixtures.MustBuild(fixtures.Default())
	multi := fixtures.MustBuild(fixtures.MultiPlatform())
	layer0 := func(m map[string]any) map[string]any { return m["layers"].([]any)[0].(map[string]any) }
	entry0 := func(i map[string]any) map[string]any { return i["manifests"].([]any)[0].(map[string]any) }
	cfgDesc := func(m map[string]any) map[string]any { return m["config"].(map[string]any) }
	emptyDigest := "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
	cases := []struct {
		name   string
		b      *fixtures.Built
		docker bool // the defect shows in docker save forms too
		// classicOnly: only the classic docker save form, which holds
		// no OCI manifest, is asserted.
		classicOnly bool
		want        []string // sorted MUST rule IDs
		msg         string   // a message of the defect's rule holds this
	}{
		// A descriptor without size, its blob present: no size mismatch,
		// no truncated tar stream (OCI-LAYER-001, OCI-MAN-018).
		{name: "layer without size", b: base.WithManifest(0, func(m map[string]any) { delete(layer0(m), "size") }),
			want: []string{"OCI-DESC-005"}, msg: "descriptor has no size"},
		{name: "config without size", b: base.WithManifest(0, func(m map[string]any) { delete(cfgDesc(m), "size") }),
			want: []string{"OCI-DESC-005"}},
		{name: "index.json entry without size", b: base.WithIndexJSON(func(i map[string]any) { delete(entry0(i), "size") }),
			want: []string{"OCI-DESC-005", "OCI-LAYOUT-006"}},
		// Two defects side by side: the unsupported algorithm is a SHOULD
		// (OCI-DESC-017); the malformed layer digest is still reported.
		{name: "unsupported config algorithm beside a malformed layer digest", b: base.WithManifest(0, func(m map[string]any) {
			cfgDesc(m)["digest"] = "sha384:" + strings.Repeat("ab", 48)
			layer0(m)["digest"] = "sha256+foo+-b"
		}), want: []string{"OCI-DESC-004"}, msg: `"sha256+foo+-b"`},
		{name: "unsupported config algorithm alone", b: base.WithManifest(0, func(m map[string]any) {
			cfgDesc(m)["digest"] = "sha384:" + strings.Repeat("ab", 48)
		}), want: []string{}},
		// manifest.md restates descriptor.md's RFC 6838 sentence for the
		// config and the layers: one defect, one rule.
		{name: "layer mediaType not type/subtype", b: base.WithLayerMediaType(0, 0, "not a media type"),
			want: []string{"OCI-DESC-002"}},
		{name: "config mediaType not type/subtype", b: base.WithManifest(0, func(m map[string]any) { cfgDesc(m)["mediaType"] = "config" }),
			want: []string{"OCI-DESC-002"}},
		{name: "index.json entry mediaType not type/subtype", b: base.WithIndexJSON(func(i map[string]any) { entry0(i)["mediaType"] = "x" }),
			want: []string{"OCI-DESC-002", "OCI-LAYOUT-006"}},
		{name: "config mediaType absent", b: base.WithManifest(0, func(m map[string]any) { delete(cfgDesc(m), "mediaType") }),
			want: []string{"OCI-DESC-001"}},
		// The layout files' own sentences, not the canonicalization rule.
		{name: "oci-layout is not JSON", b: base.Mutate(func(f map[string][]byte) { f["oci-layout"] = []byte(`{"imageLayoutVersion": 1.0.0}`) }),
			want: []string{"OCI-LAYOUT-003"}},
		{name: "oci-layout is an array", b: base.Mutate(func(f map[string][]byte) { f["oci-layout"] = []byte(`[]`) }),
			want: []string{"OCI-LAYOUT-003"}},
		// A version verify does not read is the tool's finding; the
		// sentence only asks for the field.
		{name: "imageLayoutVersion 1.1.0", b: base.Mutate(func(f map[string][]byte) { f["oci-layout"] = []byte(`{"imageLayoutVersion":"1.1.0"}`) }),
			want: []string{"IMGPROOF-VERIFY-001"}},
		{name: "imageLayoutVersion absent", b: base.Mutate(func(f map[string][]byte) { f["oci-layout"] = []byte(`{}`) }),
			want: []string{"OCI-LAYOUT-004"}, msg: "imageLayoutVersion absent"},
		// A config diff_id of other content breaks the diff_id's
		// definition; layers swapped are out of stack order.
		{name: "diff_id names other content", b: base.WithDiffID(0, 1, base.Expected.Images[0].Layers[0].DiffID), docker: true,
			want: []string{"OCI-CFG-010"}},
		{name: "layers swapped", b: base.WithManifest(0, func(m map[string]any) {
			ls := m["layers"].([]any)
			ls[0], ls[1] = ls[1], ls[0]
		}), want: []string{"OCI-MAN-010"}},
		{name: "fewer diff_ids than layers", b: base.WithDiffIDs(0, []string{base.Expected.Images[0].Layers[0].DiffID}),
			want: []string{"OCI-MAN-019"}},
		{name: "fewer diff_ids than Layers in docker save", b: base.WithDiffIDs(0, []string{base.Expected.Images[0].Layers[0].DiffID}),
			docker: true, classicOnly: true, want: []string{"DOCKER-MAN-004"}},
		{name: "index.json is not JSON", b: base.Mutate(func(f map[string][]byte) { f["index.json"] = []byte(`{"schemaVersion": 2,`) }),
			want: []string{"OCI-LAYOUT-006"}},
		// A nested index answers for its own defects, index.json does not.
		{name: "nested index with schemaVersion 3", b: multi.WithIndexBytes(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"schemaVersion":2`), []byte(`"schemaVersion":3`), 1)
		}), want: []string{"OCI-IDX-001"}},
		{name: "nested index entry without mediaType", b: multi.WithIndexBytes(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"mediaType":"application/vnd.oci.image.manifest.v1+json",`), nil, 1)
		}), want: []string{"OCI-DESC-001"}},
		// Index entries are no manifest layers (OCI-MAN-008).
		{name: "index.json entry not an object", b: base.WithIndexJSON(func(i map[string]any) { i["manifests"] = append(i["manifests"].([]any), "x") }),
			want: []string{"OCI-IDX-005", "OCI-LAYOUT-006"}},
		{name: "nested index entry not an object", b: multi.WithIndexBytes(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"manifests":[`), []byte(`"manifests":[7,`), 1)
		}), want: []string{"OCI-IDX-005"}},
		// Unpadded base64 is a descriptor defect, once per path.
		{name: "unpadded data on an index.json entry", b: base.WithIndexJSON(func(i map[string]any) { entry0(i)["data"] = "YQ" }),
			want: []string{"OCI-DESC-011", "OCI-LAYOUT-006"}},
		{name: "unpadded data on a layer", b: base.WithManifest(0, func(m map[string]any) { layer0(m)["data"] = "YQ" }),
			want: []string{"OCI-DESC-011"}},
		// Typed config fields, each by its own OCI-CFG rule; numbers print
		// as numbers.
		{name: "variant is a number", b: base.WithConfig(0, func(c map[string]any) { c["variant"] = 7353 }), docker: true,
			want: []string{"OCI-CFG-016"}, msg: "variant 7353 "},
		{name: "os.version is a number", b: base.WithConfig(0, func(c map[string]any) { c["os.version"] = 10 }), docker: true,
			want: []string{"OCI-CFG-017"}},
		{name: "os.features is a string", b: base.WithConfig(0, func(c map[string]any) { c["os.features"] = "win32k" }), docker: true,
			want: []string{"OCI-CFG-018"}},
		{name: "architecture is a number", b: base.WithConfig(0, func(c map[string]any) { c["architecture"] = 1 }), docker: true,
			want: []string{"OCI-CFG-001"}},
		{name: "history entry field of the wrong type", b: base.WithConfig(0, func(c map[string]any) {
			c["history"] = []any{map[string]any{"created_by": 1}}
		}), docker: true, want: []string{"OCI-CFG-019"}},
		{name: "rootfs is a string", b: base.WithConfig(0, func(c map[string]any) { c["rootfs"] = "layers" }), docker: true,
			want: []string{"OCI-CFG-007"}},
		{name: "rootfs.type is not layers", b: base.WithConfig(0, func(c map[string]any) { c["rootfs"].(map[string]any)["type"] = "snapshots" }),
			want: []string{"OCI-CFG-008"}, msg: `"snapshots"`},
		// A plain layout may lack blobs (OCI-LAYOUT-009, a SHOULD); no
		// docker-save rule applies without manifest.json.
		{name: "layer blob missing from a plain layout", b: base.WithoutBlob(base.Expected.Images[0].Layers[0].Digest), want: []string{}},
		{name: "empty config without artifactType", b: base.WithManifest(0, func(m map[string]any) {
			m["config"] = map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": emptyDigest, "size": 2}
		}).Mutate(func(f map[string][]byte) {
			f["blobs/sha256/"+strings.TrimPrefix(emptyDigest, "sha256:")] = []byte("{}")
		}),
			want: []string{"OCI-MAN-004"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for form, rs := range mustRules(t, tc.b, tc.docker) {
				if tc.classicOnly && form != "docker save" {
					continue
				}
				got := ruleSet(rs)
				if strings.Join(got, " ") != strings.Join(tc.want, " ") {
					var lines []string
					for _, r := range rs {
						lines = append(lines, r.Rule+" "+r.Path+": "+r.Message)
					}
					t.Errorf("%s: MUST rules %v, want %v\n  %s", form, got, tc.want, strings.Join(lines, "\n  "))
				}
				if tc.msg == "" {
					continue
				}
				found := false
				for _, r := range rs {
					found = found || strings.Contains(r.Message, tc.msg)
				}
				if !found {
					t.Errorf("%s: no message holds %q", form, tc.msg)
				}
			}
		})
	}
}
