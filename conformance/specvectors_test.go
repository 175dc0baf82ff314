package conformance

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	iofs "io/fs"
	"os"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgproof/imgproof/verify"
)

// specVector is one document of image-spec v1.1.1's schema table tests
// (testdata/image-spec, extracted by conformance/internal/specvectors).
type specVector struct {
	Source   string `json:"source"`
	Kind     string `json:"kind"`
	Comment  string `json:"comment"`
	Fail     bool   `json:"fail"`
	Compat   bool   `json:"compat"`
	Document string `json:"document"`
}

// proseOverrides are the schema cases whose expected validity the spec's
// prose does not share; the prose wins.
var proseOverrides = map[string]string{
	// The schema requires minItems 1; manifest.md only says "the array
	// SHOULD have at least one item" (OCI-MAN-009, a SHOULD), so an image
	// manifest with layers: [] fails no MUST.
	"schema/manifest_test.go:170": "layers: [] breaks only a SHOULD in the prose",
}

// specRules are the MUST rules each failing vector breaks, in every
// position (index.json itself also fails OCI-LAYOUT-006). Several schema
// cases carry a second defect besides the one their comment names (os: 123
// in config cases; the config.size case is not well-formed JSON), and
// that defect's rule is listed too. A rule marked ? fails only in some
// positions: a bad media type of a manifest's config or layer breaks
// manifest.md's own sentence for them (OCI-MAN-012) as well as
// descriptor.md's (OCI-DESC-002); as a subject it breaks only the latter.
var specRules = map[string][]string{
	"schema/config_test.go:30":      {"OCI-CFG-002"},                // os is a number
	"schema/config_test.go:46":      {"OCI-CFG-016"},                // variant is a number
	"schema/config_test.go:64":      {"OCI-CFG-012"},                // config.User is a number
	"schema/config_test.go:86":      {"OCI-CFG-002", "OCI-CFG-019"}, // history is a string (and os: 123)
	"schema/config_test.go:104":     {"OCI-CFG-002", "OCI-CFG-012"}, // Env holds a number (and os: 123)
	"schema/config_test.go:126":     {"OCI-CFG-002", "OCI-CFG-012"}, // Volumes is an array (and os: 123)
	"schema/config_test.go:149":     {"IMGPROOF-JSON-001"},          // not JSON
	"schema/config_test.go:232":     {"OCI-CFG-013"},                // Env entry without a name
	"schema/descriptor_test.go:42":  {"OCI-DESC-001"},
	"schema/descriptor_test.go:53":  {"OCI-DESC-002"},
	"schema/descriptor_test.go:65":  {"OCI-DESC-002"},
	"schema/descriptor_test.go:77":  {"OCI-DESC-002"},
	"schema/descriptor_test.go:101": {"OCI-DESC-002"},
	"schema/descriptor_test.go:113": {"OCI-DESC-002"},
	"schema/descriptor_test.go:125": {"OCI-DESC-005"},
	"schema/descriptor_test.go:136": {"OCI-DESC-005"},
	"schema/descriptor_test.go:148": {"OCI-DESC-003"},
	"schema/descriptor_test.go:159": {"OCI-DESC-004"},
	"schema/descriptor_test.go:171": {"OCI-DESC-004"},
	"schema/descriptor_test.go:183": {"OCI-DESC-004"},
	"schema/descriptor_test.go:195": {"OCI-DESC-015"},
	"schema/descriptor_test.go:222": {"OCI-DESC-008"},
	"schema/descriptor_test.go:250": {"OCI-DESC-013"},
	"schema/descriptor_test.go:311": {"OCI-DESC-004"},
	"schema/descriptor_test.go:335": {"OCI-DESC-011"},
	"schema/imageindex_test.go:30":  {"OCI-DESC-002"},
	"schema/imageindex_test.go:52":  {"OCI-DESC-005"},
	"schema/imageindex_test.go:74":  {"OCI-DESC-003"},
	"schema/imageindex_test.go:95":  {"OCI-IDX-008"},
	"schema/imageindex_test.go:116": {"OCI-DESC-002"},
	"schema/imageindex_test.go:138": {"OCI-DESC-001"},
	"schema/imageindex_test.go:287": {"OCI-IDX-013"},
	"schema/imagelayout_test.go:30": {"OCI-LAYOUT-003"}, // imageLayoutVersion: 1.0.0 is not JSON
	"schema/manifest_test.go:30":    {"OCI-DESC-002"},
	"schema/manifest_test.go:53":    {"IMGPROOF-JSON-001"}, // the case is not well-formed JSON
	"schema/manifest_test.go:77":    {"OCI-DESC-005"},
	"schema/manifest_test.go:247":   {"OCI-MAN-013"},
	"schema/manifest_test.go:271":   {"OCI-DESC-004"},
}

// compatTypes are the Docker media types image-spec's backwards-
// compatibility tests replace by their OCI counterparts before validating.
var compatTypes = strings.NewReplacer(
	"application/vnd.docker.distribution.manifest.list.v2+json", verify.MediaTypeOCIIndex,
	"application/vnd.docker.distribution.manifest.v2+json", verify.MediaTypeOCIManifest,
	"application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.docker.container.image.v1+json", verify.MediaTypeOCIConfig,
)

func loadSpecVectors(t *testing.T) []specVector {
	t.Helper()
	b, err := os.ReadFile("testdata/image-spec/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []specVector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 60 {
		t.Fatalf("only %d vectors", len(vs))
	}
	return vs
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// layoutFS is a minimal OCI layout with index.json and the given blobs.
func layoutFS(indexJSON string, blobs ...string) fstest.MapFS {
	fs := fstest.MapFS{
		"blobs":        {Mode: iofs.ModeDir | 0o755},
		"blobs/sha256": {Mode: iofs.ModeDir | 0o755},
		"oci-layout":   {Data: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		"index.json":   {Data: []byte(indexJSON)},
	}
	for _, b := range blobs {
		fs["blobs/sha256/"+strings.TrimPrefix(sha([]byte(b)), "sha256:")] = &fstest.MapFile{Data: []byte(b)}
	}
	return fs
}

func descJSON(mt, doc string, extra string) string {
	return fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d%s}`, mt, sha([]byte(doc)), len(doc), extra)
}

func indexOf(entries ...string) string {
	return `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(entries, ",") + `]}`
}

const amd64 = `,"platform":{"os":"linux","architecture":"amd64"}`

// placements puts one document in each position it can take.
func placements(v specVector) map[string]fstest.MapFS {
	doc := v.Document
	var probe map[string]any
	_ = json.Unmarshal([]byte(doc), &probe)
	mtOf := func(def string) string {
		if s, ok := probe["mediaType"].(string); ok && (imageManifestTypes[s] || indexTypes[s]) {
			return s
		}
		return def
	}
	out := map[string]fstest.MapFS{}
	switch v.Kind {
	case "manifest":
		entry := descJSON(mtOf(verify.MediaTypeOCIManifest), doc, amd64)
		out["manifest under index.json"] = layoutFS(indexOf(entry), doc)
		nested := indexOf(entry)
		out["manifest under a nested index"] = layoutFS(indexOf(descJSON(verify.MediaTypeOCIIndex, nested, "")), nested, doc)
	case "index":
		out["index.json"] = layoutFS(doc)
		out["index under index.json"] = layoutFS(indexOf(descJSON(mtOf(verify.MediaTypeOCIIndex), doc, "")), doc)
	case "config":
		ids, _ := probe["rootfs"].(map[string]any)
		n := 1
		if l, ok := ids["diff_ids"].([]any); ok {
			n = len(l)
		}
		layers := make([]string, n)
		for i := range layers {
			layers[i] = descJSON("application/vnd.oci.image.layer.v1.tar+gzip", fmt.Sprintf("layer %d", i), "")
		}
		man := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":` +
			descJSON("application/vnd.oci.image.config.v1+json", doc, "") + `,"layers":[` + strings.Join(layers, ",") + `]}`
		plat := map[string]any{}
		for _, k := range []string{"os", "architecture", "variant"} {
			if s, ok := probe[k].(string); ok {
				plat[k] = s
			}
		}
		extra := "" // a platform only where the config names one
		if plat["os"] != nil && plat["architecture"] != nil {
			pj, _ := json.Marshal(plat)
			extra = `,"platform":` + string(pj)
		}
		out["config of an image"] = layoutFS(indexOf(descJSON(verify.MediaTypeOCIManifest, man, extra)), man, doc)
	case "descriptor":
		cfg := `{}`
		art := func(field string) string {
			layer := descJSON("application/vnd.example.part", "part", "")
			subject := ""
			if field == "layer" {
				layer = doc
			} else {
				subject = `,"subject":` + doc
			}
			return `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.thing",` +
				`"config":` + descJSON(verify.MediaTypeOCIEmpty, cfg, "") + `,"layers":[` + layer + `]` + subject + `}`
		}
		for _, f := range []string{"layer", "subject"} {
			man := art(f)
			out["descriptor as artifact "+f] = layoutFS(indexOf(descJSON(verify.MediaTypeOCIManifest, man, "")), man, cfg, "part")
		}
		// In an index, the descriptor names a blob the layout does not
		// hold, which image-layout.md allows (a SHOULD, OCI-LAYOUT-009).
		out["descriptor as index.json entry"] = layoutFS(indexOf(doc))
		nested := indexOf(doc)
		out["descriptor as nested index entry"] = layoutFS(indexOf(descJSON(verify.MediaTypeOCIIndex, nested, "")), nested)
		withSubject := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"subject":` + doc + `}`
		out["descriptor as subject of a nested index"] = layoutFS(indexOf(descJSON(verify.MediaTypeOCIIndex, withSubject, "")), withSubject)
	case "layout":
		fs := layoutFS(indexOf())
		fs["oci-layout"] = &fstest.MapFile{Data: []byte(doc)}
		out["oci-layout"] = fs
	}
	return out
}

// inIndexJSON lists the placements that put the vector into index.json
// itself, where its defect is also one of index.json (OCI-LAYOUT-006).
var inIndexJSON = map[string]bool{"index.json": true, "descriptor as index.json entry": true}

// archiveOf writes a layout as an OCI archive: a tar of its files.
func archiveOf(t *testing.T, fsys fstest.MapFS) []byte {
	t.Helper()
	names := make([]string, 0, len(fsys))
	for n := range fsys {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		f := fsys[n]
		h := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(f.Data)), Typeflag: tar.TypeReg}
		if f.Mode.IsDir() {
			h = &tar.Header{Name: n + "/", Mode: 0o755, Typeflag: tar.TypeDir}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSpecVectors: every document of image-spec's schema tests, in every
// position it can take, as a layout directory and as an OCI archive, gets
// the MUST verdict its test expects and fails exactly the vector's rules.
// docker save holds no index, manifest or descriptor of its own and only
// configs whose diff_ids its layers hash to, which the vectors' are not:
// the docker-save forms are covered by TestDerivedDefects.
func TestSpecVectors(t *testing.T) {
	for _, v := range loadSpecVectors(t) {
		want := v.Fail
		if _, ok := proseOverrides[v.Source]; ok {
			want = !want
		}
		ps := placements(v)
		if v.Compat {
			// As the schema test does, and with the Docker types kept
			// where a Docker document may stand (not as index.json).
			delete(ps, "index.json")
			c := v
			c.Document = compatTypes.Replace(v.Document)
			for pos, fsys := range placements(c) {
				ps[pos+", Docker types replaced by OCI types"] = fsys
			}
		}
		if len(ps) == 0 {
			t.Errorf("%s: no placement for kind %s", v.Source, v.Kind)
		}
		forms := map[string]*Report{}
		for pos, fsys := range ps {
			forms[pos+" (directory)"] = CheckFS(context.Background(), fsys, "layout", nil)
			a := archiveOf(t, fsys)
			forms[pos+" (OCI archive)"] = CheckArchive(context.Background(), bytes.NewReader(a), int64(len(a)), "layout.tar", nil)
		}
		for pos, rep := range forms {
			var musts []string
			for _, r := range rep.Results {
				if r.Status == Fail && r.Level == Must {
					musts = append(musts, r.Rule+" "+r.Path+": "+r.Message)
				}
			}
			failed := map[string]bool{}
			for _, m := range musts {
				failed[strings.Fields(m)[0]] = true
			}
			allowed := map[string]bool{}
			for _, id := range specRules[v.Source] {
				optional := strings.HasSuffix(id, "?")
				id = strings.TrimSuffix(id, "?")
				allowed[id] = true
				if !failed[id] && !optional {
					t.Errorf("%s as %s: %s did not fail (%s)\n  %s", v.Source, pos, id, v.Comment, strings.Join(musts, "\n  "))
				}
			}
			for id := range failed {
				if !allowed[id] && !(id == "OCI-LAYOUT-006" && inIndexJSON[strings.Split(pos, " (")[0]]) {
					t.Errorf("%s as %s: %s fails besides the vector's rules %v", v.Source, pos, id, specRules[v.Source])
				}
			}
			if want && len(specRules[v.Source]) == 0 {
				t.Errorf("%s: a failing vector without its rule in specRules", v.Source)
			}
			if got := len(musts) > 0; got != want {
				t.Errorf("%s (%s) as %s: MUST failure %v, want %v (%s)\n  %s", v.Source, v.Kind, pos, got, want, v.Comment, strings.Join(musts, "\n  "))
			}
		}
	}
}
