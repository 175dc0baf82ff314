package conformance

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
)

func TestCatalog(t *testing.T) {
	for _, r := range Rules() {
		if r.Quote == "" || r.Spec == "" || r.URL == "" || r.Check == "" {
			t.Errorf("%s: missing quote, spec, url or check", r.ID)
		}
		if r.Level != Must && r.Level != Should && r.Level != May {
			t.Errorf("%s: bad level %q", r.ID, r.Level)
		}
		// A non-derived rule quotes the keyword of its level (or REQUIRED).
		if !r.Derived && !strings.Contains(r.Quote, string(r.Level)) && !(r.Level == Must && strings.Contains(r.Quote, "REQUIRED")) &&
			!strings.HasPrefix(r.ID, "DOCKER-") {
			t.Logf("%s: quote does not hold the keyword %s", r.ID, r.Level)
		}
	}
}

func tarOf(t *testing.T, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if h.Typeflag != tar.TypeXGlobalHeader && h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func rulesOf(vs []Violation) map[string]bool {
	m := map[string]bool{}
	for _, v := range vs {
		m[v.Rule] = true
	}
	return m
}

func TestCheckLayer(t *testing.T) {
	reg := func(name string, size int64) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Size: size}
	}
	dir := func(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeDir} }
	clean := tarOf(t, dir("a/"), reg("a/.wh.old", 0), reg("a/b", 3), &tar.Header{Name: "a/l", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
		&tar.Header{Name: "a/h", Typeflag: tar.TypeLink, Linkname: "a/b"})
	tests := []struct {
		name string
		data []byte
		want string // "" means no violation at all
	}{
		{"clean", clean, ""},
		{"duplicate", tarOf(t, reg("x", 1), reg("./x", 1)), "OCI-LAYER-002"},
		{"absolute", tarOf(t, reg("/x", 1)), "OCI-LAYER-011"},
		{"dotdot", tarOf(t, reg("a/../../x", 1)), "OCI-LAYER-011"},
		{"hardlink escape", tarOf(t, &tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "../x"}), "OCI-LAYER-012"},
		{"symlink escape", tarOf(t, &tar.Header{Name: "a/s", Typeflag: tar.TypeSymlink, Linkname: "../../x"}), "OCI-LAYER-013"},
		{"same-layer whiteout", tarOf(t, reg("d/f", 1), reg("d/.wh.f", 0)), "OCI-LAYER-005"},
		{"whiteout hides dir of same layer", tarOf(t, dir("d/"), reg("d/f", 1), reg(".wh.d", 0)), "OCI-LAYER-005"},
		{"whiteout with data", tarOf(t, reg(".wh.f", 2)), "OCI-LAYER-006"},
		{"reserved", tarOf(t, reg(".wh..wh.aufs", 0)), "OCI-LAYER-007"},
		{"opaque", tarOf(t, dir("d/"), reg("d/.wh..wh..opq", 0)), "OCI-LAYER-009"},
		{"whiteout after sibling dir", tarOf(t, dir("d/e/"), reg("d/.wh.f", 0)), "OCI-LAYER-008"},
		{"pax global", tarOf(t, &tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "x"}}, reg("f", 1)), "OCI-LAYER-015"},
		{"trailing data", append(clean, []byte("junk")...), "OCI-LAYER-001"},
		{"trailing zeros are fine", append(append([]byte(nil), clean...), make([]byte, 10240)...), ""},
		{"no end marker", clean[:len(clean)-1024], "OCI-LAYER-001"},
		{"truncated", clean[:700], "OCI-LAYER-001"},
		{"not tar", bytes.Repeat([]byte{'z'}, 2048), "OCI-LAYER-001"},
		{"empty", nil, "OCI-LAYER-001"},
		{"pax size disagrees", paxMismatch(t), "OCI-LAYER-016"},
		{"pax size agrees", tarOf(t, &tar.Header{Name: "p", Typeflag: tar.TypeReg, Size: 3, Format: tar.FormatPAX, PAXRecords: map[string]string{"comment": "c"}}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := CheckLayer(bytes.NewReader(tt.data))
			if tt.want == "" {
				if len(vs) != 0 {
					t.Fatalf("want no violation, got %+v", vs)
				}
				return
			}
			if !rulesOf(vs)[tt.want] {
				t.Fatalf("want %s, got %+v", tt.want, vs)
			}
		})
	}
}

func checkBuilt(t *testing.T, b *fixtures.Built) *Report {
	t.Helper()
	var buf bytes.Buffer
	if err := b.WriteOCIArchive(&buf, false); err != nil {
		t.Fatal(err)
	}
	return CheckArchive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "image.tar", nil)
}

func TestOutputs(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	exp := b.Expected.Images[0]
	rep := checkBuilt(t, b.FlipByte(exp.Layers[0].Digest, 10))
	if !rep.Failed(Must) || rep.Summary.MustFailed == 0 {
		t.Fatal("a flipped layer byte must fail a MUST rule")
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(js.Bytes(), &parsed); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range parsed.Results {
		for _, k := range []string{"rule", "level", "status", "path", "message", "spec"} {
			if _, ok := r[k]; !ok {
				t.Fatalf("result lacks %q: %v", k, r)
			}
		}
		if r["rule"] == "OCI-DESC-006" && r["status"] == "fail" {
			found = true
		}
	}
	if !found {
		t.Fatal("JSON lacks the OCI-DESC-006 failure")
	}
	var sarif bytes.Buffer
	if err := WriteSARIF(&sarif, rep); err != nil {
		t.Fatal(err)
	}
	var sl sarifLog
	if err := json.Unmarshal(sarif.Bytes(), &sl); err != nil {
		t.Fatal(err)
	}
	if sl.Version != "2.1.0" || len(sl.Runs) != 1 || len(sl.Runs[0].Tool.Driver.Rules) != len(catalog) || len(sl.Runs[0].Results) == 0 {
		t.Fatalf("bad SARIF: version %s, %d runs", sl.Version, len(sl.Runs))
	}
	for _, r := range sl.Runs[0].Results {
		if sl.Runs[0].Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Fatalf("ruleIndex %d does not point at %s", r.RuleIndex, r.RuleID)
		}
	}
	var ju bytes.Buffer
	if err := WriteJUnit(&ju, rep); err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(ju.Bytes(), &suites); err != nil {
		t.Fatal(err)
	}
	if len(suites.Suites) != 1 || suites.Suites[0].Failures == 0 || suites.Suites[0].Tests != rep.Summary.Rules {
		t.Fatalf("bad JUnit: %+v", suites.Suites[0])
	}
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "FAIL") || !strings.Contains(text.String(), "OCI-DESC-006") {
		t.Fatal("text output lacks the failure")
	}
	if f := rep.Filter(Must); f.Failed(Should) != f.Failed(Must) {
		t.Fatal("a MUST-filtered report holds SHOULD results")
	}
}

func TestValidLayoutDirectory(t *testing.T) {
	rep := CheckFS(context.Background(), fixtures.MustBuild(fixtures.MultiPlatform()).LayoutFS(), "layout", nil)
	if rep.Failed(Must) {
		t.Fatalf("valid layout fails: %v", rep.FailedRules())
	}
	if rep.Format != "oci-layout" || rep.Summary.Passed < 40 {
		t.Fatalf("format %q, %d rules passed", rep.Format, rep.Summary.Passed)
	}
}

// paxMismatch is a PAX header whose size record (5) disagrees with the
// ustar size field (0) of the entry it applies to.
func paxMismatch(t *testing.T) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "a", Typeflag: tar.TypeReg, Size: 5, Mode: 0o644,
		Format: tar.FormatPAX, PAXRecords: map[string]string{"comment": "x"}}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("hello"))
	tw.Close()
	b := buf.Bytes()
	// Block 0: PAX header; block 1: records; block 2: the ustar header.
	recs := []byte("10 size=5\n")
	copy(b[512:1024], append(recs, make([]byte, 512-len(recs))...))
	paxHdr, fileHdr := b[0:512], b[1024:1536]
	copy(paxHdr[124:136], fmt.Sprintf("%011o\x00", len(recs)))
	copy(fileHdr[124:136], fmt.Sprintf("%011o\x00", 0))
	for _, h := range [][]byte{paxHdr, fileHdr} {
		copy(h[148:156], "        ")
		sum := 0
		for _, c := range h {
			sum += int(c)
		}
		copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
	}
	return b
}

// BenchmarkCheckLayer measures the layer-content rules on a 4 MiB layer of
// 1024 files.
func BenchmarkCheckLayer(b *testing.B) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := bytes.Repeat([]byte("x"), 4096)
	for i := 0; i < 1024; i++ {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d%d/f%d", i%16, i), Typeflag: tar.TypeReg, Size: int64(len(body)), Mode: 0o644})
		tw.Write(body)
	}
	tw.Close()
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if vs := CheckLayer(bytes.NewReader(data)); len(vs) != 0 {
			b.Fatal(vs)
		}
	}
}

func TestFullyQualified(t *testing.T) {
	for s, want := range map[string]bool{
		"registry.example.com/my-org/my-image:tag":           true,
		"localhost:5000/x@sha256:" + strings.Repeat("a", 64): true,
		"docker.io/library/alpine:3":                         true,
		"my-org/my-image:tag":                                false,
		"alpine:3":                                           false,
		"Registry.example.com/UPPER:tag":                     false,
	} {
		if got := fullyQualified(s); got != want {
			t.Errorf("fullyQualified(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestRuleIDsInCode checks that every rule ID the code and the corpus name
// exists, and that every rule is named by some check or verify code.
func TestRuleIDsInCode(t *testing.T) {
	idRE := regexp.MustCompile(`"((?:OCI|DOCKER|IMGPROOF)-[A-Z]+-\d{3})"`)
	constRE := regexp.MustCompile(`\b(oci|docker|imgproof)([A-Z]+)(\d{3})\b`)
	used := map[string]bool{}
	files, _ := filepath.Glob("*.go")
	more, _ := filepath.Glob("vectors/*.go")
	for _, f := range append(files, more...) {
		if f == "catalog.go" || f == "ruleids_gen.go" || strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range idRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
			if _, ok := Lookup(m[1]); !ok {
				t.Errorf("%s names unknown rule %s", f, m[1])
			}
		}
		for _, m := range constRE.FindAllStringSubmatch(string(b), -1) {
			used[strings.ToUpper(m[1])+"-"+m[2]+"-"+m[3]] = true
		}
	}
	for _, id := range layerRules {
		used[id.String()] = true
	}
	for _, r := range Rules() {
		if !used[r.ID] && len(r.Codes) == 0 {
			t.Errorf("rule %s has no check and no verify code", r.ID)
		}
	}
}

// FuzzCheckLayer: any byte stream gives violations or none, never a panic,
// and every violation names a known rule.
func FuzzCheckLayer(f *testing.F) {
	f.Add([]byte{})
	f.Add(paxMismatchBytes())
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "a/.wh.b", Typeflag: tar.TypeReg, Mode: 0o644})
	tw.WriteHeader(&tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "../x", Mode: 0o777})
	tw.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range CheckLayer(bytes.NewReader(data)) {
			if _, ok := Lookup(v.Rule); !ok {
				t.Fatalf("unknown rule %s", v.Rule)
			}
		}
	})
}

func paxMismatchBytes() []byte {
	t := &testing.T{}
	return paxMismatch(t)
}
