package conformance

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// failsOf lists the messages of the failures of one rule.
func failsOf(rep *Report, rule string) []string {
	var out []string
	for _, r := range rep.Results {
		if r.Rule == rule && r.Status == Fail {
			out = append(out, r.Path+": "+r.Message)
		}
	}
	return out
}

// defaultOCIArchive is the default fixture as an OCI archive.
func defaultOCIArchive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := fixtures.MustBuild(fixtures.Default()).WriteOCIArchive(&buf, false); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkUnder returns a check of arch under the limits it is given (nil:
// the defaults).
func checkUnder(arch []byte) func(*limits.Limits) *Report {
	return func(lim *limits.Limits) *Report {
		return CheckArchive(context.Background(), bytes.NewReader(arch), int64(len(arch)), "image.tar", &Options{Verify: verify.Options{Limits: lim}})
	}
}

func TestLimitsBoundTheRulesOwnReading(t *testing.T) {
	// A link chain of two hops to a regular file.
	arch := tarOf(t,
		&tar.Header{Name: "a", Typeflag: tar.TypeReg, Size: 3},
		&tar.Header{Name: "b", Typeflag: tar.TypeSymlink, Linkname: "a"},
		&tar.Header{Name: "c", Typeflag: tar.TypeSymlink, Linkname: "b"},
	)
	lim := limits.Default()
	f, err := FromArchive(bytes.NewReader(arch), int64(len(arch)), &lim)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Problems()) != 0 {
		t.Fatalf("default limits: %+v", f.Problems())
	}
	lim.LinkHops = 1
	f, err = FromArchive(bytes.NewReader(arch), int64(len(arch)), &lim)
	if err != nil {
		t.Fatal(err)
	}
	if p := f.Problems(); len(p) != 1 || p[0].Rule != imgproofLIMIT001 || !strings.Contains(p[0].Message, string(limits.LinkHops)) {
		t.Fatalf("link-hops=1: %+v", p)
	}
	lim = limits.Default()
	lim.ArchiveEntries = 2
	f, _ = FromArchive(bytes.NewReader(arch), int64(len(arch)), &lim)
	if p := f.Problems(); len(p) != 1 || p[0].Rule != imgproofLIMIT001 || !strings.Contains(p[0].Message, string(limits.ArchiveEntries)) {
		t.Fatalf("archive-entries=2: %+v", p)
	}

	layer := tarOf(t,
		&tar.Header{Name: "x", Typeflag: tar.TypeReg, Size: 1},
		&tar.Header{Name: "y", Typeflag: tar.TypeReg, Size: 1},
		&tar.Header{Name: "z", Typeflag: tar.TypeReg, Size: 1},
	)
	if vs := CheckLayer(bytes.NewReader(layer)); len(vs) != 0 {
		t.Fatalf("default limits: %+v", vs)
	}
	lim = limits.Default()
	lim.LayerEntries = 2
	if vs := checkLayer(bytes.NewReader(layer), &lim); len(vs) != 1 || vs[0].Rule != "IMGPROOF-LIMIT-001" || !strings.Contains(vs[0].Message, string(limits.LayerEntries)) {
		t.Fatalf("layer-entries=2: %+v", vs)
	}
}

func TestOptionsLimitsReachTheCheck(t *testing.T) {
	check := checkUnder(defaultOCIArchive(t))
	if got := failsOf(check(nil), "IMGPROOF-LIMIT-001"); len(got) != 0 {
		t.Fatalf("default limits: %v", got)
	}
	lim := limits.Default()
	lim.ArchiveMetadata = 10 // index.json is longer
	rep := check(&lim)
	got := failsOf(rep, "IMGPROOF-LIMIT-001")
	if len(got) == 0 || !rep.Failed(Must) {
		t.Fatalf("archive-metadata-bytes=10: LIMIT-001 failures %v", got)
	}
	// The rules' own reading of index.json hits the same limit.
	if l := failsOf(rep, "OCI-LAYOUT-006"); len(l) != 1 || !strings.Contains(l[0], string(limits.ArchiveMetadata)) {
		t.Fatalf("archive-metadata-bytes=10: OCI-LAYOUT-006 failures %v", l)
	}
}

func TestJSONDepthLimitReachesTheRulesParse(t *testing.T) {
	check := checkUnder(defaultOCIArchive(t))
	if got := failsOf(check(nil), "IMGPROOF-JSON-001"); len(got) != 0 {
		t.Fatalf("default limits: %v", got)
	}
	lim := limits.Default()
	lim.JSONDepth = 2 // index.json nests its descriptors' platforms deeper
	got := failsOf(check(&lim), "IMGPROOF-JSON-001")
	if len(got) == 0 || !strings.HasPrefix(got[0], "index.json: ") || !strings.Contains(got[0], "deeper than 2") {
		t.Fatalf("json-depth=2: JSON-001 failures %v", got)
	}
}

func TestArchiveTailLimitReachesTheRules(t *testing.T) {
	// Zero padding after the end-of-archive marker, as tar pads a record.
	check := checkUnder(append(defaultOCIArchive(t), make([]byte, 8<<10)...))
	rep := check(nil)
	if got := append(failsOf(rep, "IMGPROOF-LIMIT-001"), failsOf(rep, "IMGPROOF-ARCH-003")...); len(got) != 0 {
		t.Fatalf("default limits: %v", got)
	}
	lim := limits.Default()
	lim.ArchiveTail = 4 << 10
	rep = check(&lim)
	got := failsOf(rep, "IMGPROOF-LIMIT-001")
	if len(got) != 1 || !strings.HasPrefix(got[0], "archive: ") || !strings.Contains(got[0], string(limits.ArchiveTail)) {
		t.Fatalf("archive-tail-bytes=4096: LIMIT-001 failures %v, want the one at archive", got)
	}
	for _, rule := range []string{"IMGPROOF-ARCH-003", "IMGPROOF-ARCH-004"} {
		if got := failsOf(rep, rule); len(got) != 0 {
			t.Errorf("archive-tail-bytes=4096: a limit reported as %s: %v", rule, got)
		}
	}

	// A layer's own tail: the layer rules stop at the limit and say so,
	// instead of failing the layer.
	layer := append(tarOf(t, &tar.Header{Name: "x", Typeflag: tar.TypeReg, Size: 1}), make([]byte, 8<<10)...)
	if vs := checkLayer(bytes.NewReader(layer), &lim); len(vs) != 1 || vs[0].Rule != "IMGPROOF-LIMIT-001" || !strings.Contains(vs[0].Message, string(limits.ArchiveTail)) {
		t.Fatalf("layer, archive-tail-bytes=4096: %+v", vs)
	}
	if vs := CheckLayer(bytes.NewReader(layer)); len(vs) != 0 {
		t.Fatalf("layer, default limits: %+v", vs)
	}
}

func TestLayerLimitIsReportedPastTheViolationCap(t *testing.T) {
	// More violations than the report keeps, then more entries than the
	// limit: the limit is still named.
	var hdrs []*tar.Header
	for i := 0; i < maxViolations+10; i++ {
		hdrs = append(hdrs, &tar.Header{Name: "/abs" + strings.Repeat("x", i), Typeflag: tar.TypeReg})
	}
	lim := limits.Default()
	lim.LayerEntries = maxViolations + 5
	vs := checkLayer(bytes.NewReader(tarOf(t, hdrs...)), &lim)
	if len(vs) != maxViolations+1 || vs[len(vs)-1].Rule != "IMGPROOF-LIMIT-001" {
		t.Fatalf("%d violations, last %+v", len(vs), vs[len(vs)-1])
	}
}
