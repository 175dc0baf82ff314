package verify

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"testing"

	"github.com/imgproof/imgproof/internal/limits"
)

// TestListingLinkRulesAreTheStores runs one table of archives and names
// through the verifier's tar store and through the exported listing: each
// name must open to the same bytes, or fail with the same error, in both.
func TestListingLinkRulesAreTheStores(t *testing.T) {
	reg := func(name, body string) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(len(body)), Linkname: body}
	}
	sym := func(name, target string) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target}
	}
	hard := func(name, target string) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target}
	}
	cases := []struct {
		name            string
		entries         []*tar.Header
		open            string
		want            string // the body, or "" for an error
		notFound, limit bool
	}{
		{"regular", []*tar.Header{reg("blobs/sha256/a", "A")}, "blobs/sha256/a", "A", false, false},
		{"dot slash", []*tar.Header{reg("./blobs/a", "A")}, "blobs/a", "A", false, false},
		{"symlink relative to its directory", []*tar.Header{reg("blobs/sha256/a", "A"), sym("blobs/sha256/b", "a")}, "blobs/sha256/b", "A", false, false},
		{"symlink up and down", []*tar.Header{reg("x/a", "A"), sym("blobs/b", "../x/a")}, "blobs/b", "A", false, false},
		{"absolute symlink", []*tar.Header{reg("a", "A"), sym("b", "/a")}, "b", "", false, false},
		{"symlink out of the root", []*tar.Header{reg("a", "A"), sym("d/b", "../../a")}, "d/b", "", false, false},
		{"hard link from the root", []*tar.Header{reg("x/a", "A"), hard("y/b", "x/a")}, "y/b", "A", false, false},
		{"hard link forward", []*tar.Header{hard("b", "a"), reg("a", "A")}, "b", "", false, false},
		{"link cycle", []*tar.Header{reg("z", "Z"), sym("a", "b"), sym("b", "a")}, "a", "", false, true}, // the hop bound comes first
		{"too many hops", []*tar.Header{reg("a", "A"), sym("b", "a"), sym("c", "b"), sym("d", "c")}, "d", "", false, true},
		{"link to nothing", []*tar.Header{reg("a", "A"), sym("b", "nothing")}, "b", "", true, false},
		{"link to a directory", []*tar.Header{{Name: "dir/", Typeflag: tar.TypeDir}, reg("a", "A"), sym("b", "dir")}, "b", "", true, false},
		{"a device", []*tar.Header{reg("a", "A"), {Name: "c", Typeflag: tar.TypeChar}}, "c", "", false, false},
		{"absent", []*tar.Header{reg("a", "A")}, "b", "", true, false},
	}
	lim := limits.Default()
	lim.LinkHops = 2
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, h := range tc.entries {
				body := ""
				if h.Typeflag == tar.TypeReg {
					body, h.Linkname = h.Linkname, ""
				}
				h.Mode = 0o644
				if err := tw.WriteHeader(h); err != nil {
					t.Fatal(err)
				}
				tw.Write([]byte(body))
			}
			tw.Close()
			r := bytes.NewReader(buf.Bytes())
			v := &verifier{lim: lim, report: &Report{}}
			st, err := indexTar(v, r, int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			l, err := ListArchive(r, int64(buf.Len()), &lim)
			if err != nil {
				t.Fatal(err)
			}
			got, serr := st.readFile(tc.open, 1<<10)
			lgot, lerr := l.ReadFile(tc.open, limits.ArchiveMetadata, 1<<10)
			if tc.want != "" {
				if serr != nil || lerr != nil || string(got) != tc.want || string(lgot) != tc.want {
					t.Fatalf("store %q %v, listing %q %v; want %q", got, serr, lgot, lerr, tc.want)
				}
				return
			}
			if serr == nil || lerr == nil || serr.Error() != lerr.Error() {
				t.Fatalf("store %v, listing %v: want the same error", serr, lerr)
			}
			if errors.Is(lerr, fs.ErrNotExist) != tc.notFound || errors.Is(lerr, limits.ErrLimit) != tc.limit {
				t.Fatalf("listing error %v: not found %v, limit %v", lerr, errors.Is(lerr, fs.ErrNotExist), errors.Is(lerr, limits.ErrLimit))
			}
		})
	}
}

// TestListingKeepsWhatTheStoreRefuses: the listing names every defect and
// keeps every entry, where the verifier's index stops at the first.
func TestListingKeepsWhatTheStoreRefuses(t *testing.T) {
	arch := sourceTar(t, nil,
		&tar.Header{Name: "./", Typeflag: tar.TypeDir},
		&tar.Header{Name: "index.json", Typeflag: tar.TypeReg, Size: 2},
		&tar.Header{Name: "index.json", Typeflag: tar.TypeReg, Size: 3},
		&tar.Header{Name: "../escape", Typeflag: tar.TypeReg, Size: 1},
		&tar.Header{Name: `blobs\x`, Typeflag: tar.TypeReg, Size: 1},
		&tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
	)
	v := &verifier{lim: limits.Default(), report: &Report{}}
	if _, err := indexTar(v, bytes.NewReader(arch), int64(len(arch))); err == nil {
		t.Fatal("the verifier's index took a duplicate entry")
	}
	l, err := ListArchive(bytes.NewReader(arch), int64(len(arch)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []ProblemKind
	for _, p := range l.Problems() {
		kinds = append(kinds, p.Kind)
	}
	want := []ProblemKind{ProblemDuplicate, ProblemUnsafeName, ProblemUnsafeName, ProblemLink}
	if len(kinds) != len(want) {
		t.Fatalf("problems %+v", l.Problems())
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("problems %+v", l.Problems())
		}
	}
	es := l.Entries()
	if len(es) != 6 || es[0].Name != "." || !es[0].Safe || es[3].Safe || es[4].Safe || es[4].Raw != `blobs\x` {
		t.Fatalf("entries %+v", es)
	}
	// The first of two copies is the one opened, as the verifier's
	// stream and extractors that refuse to overwrite read it.
	if b, err := l.ReadFile("index.json", limits.ArchiveMetadata, 10); err != nil || len(b) != 2 {
		t.Fatalf("index.json: %d bytes, %v", len(b), err)
	}
}
