package verify_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// both verifies an archive through verify.Archive and verify.Stream.
func both(data []byte, opts *verify.Options) map[string]*verify.Report {
	ctx := context.Background()
	return map[string]*verify.Report{
		"Archive": verify.Archive(ctx, bytes.NewReader(data), int64(len(data)), "x.tar", opts).Report,
		"Stream":  verify.Stream(ctx, bytes.NewReader(data), "x.tar", opts).Report,
	}
}

func codes(r *verify.Report) []verify.Code {
	var out []verify.Code
	for _, f := range r.Findings {
		out = append(out, f.Code)
	}
	return out
}

// lookupFinding returns the first finding with code c.
func lookupFinding(r *verify.Report, c verify.Code) (verify.Finding, bool) {
	for _, f := range r.Findings {
		if f.Code == c {
			return f, true
		}
	}
	return verify.Finding{}, false
}

func expect(t *testing.T, what string, r *verify.Report, verdict verify.Verdict, code verify.Code) verify.Finding {
	t.Helper()
	f, ok := lookupFinding(r, code)
	if r.Verdict != verdict || !ok {
		t.Fatalf("%s: got %s %v, want %s with %s", what, r.Verdict, r.Findings, verdict, code)
	}
	return f
}

func ociArchive(t testing.TB, spec fixtures.Spec) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := fixtures.MustBuild(spec).WriteOCIArchive(&buf, false); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// layoutOf lists where each entry of a tar lies: its header, its data and
// the end of its padding, and the end of the end-of-archive marker.
type tarEntry struct {
	name                       string
	header, data, dataEnd, end int64
}

func tarLayout(t testing.TB, data []byte) ([]tarEntry, int64) {
	t.Helper()
	cr := &countReader{r: bytes.NewReader(data)}
	tr := tar.NewReader(cr)
	var out []tarEntry
	var prevEnd int64
	for {
		hdr, err := tr.Next()
		if err != nil {
			if len(out) == 0 {
				t.Fatalf("not a tar: %v", err)
			}
			return out, prevEnd + 1024
		}
		size := hdr.Size
		if hdr.Typeflag != tar.TypeReg {
			size = 0
		}
		e := tarEntry{name: hdr.Name, header: prevEnd, data: cr.n, dataEnd: cr.n + size, end: cr.n + (size+511)&^511}
		out = append(out, e)
		prevEnd = e.end
	}
}

type countReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Every cut of an OCI archive or docker save, at any byte from the end of
// the first header to the end of the end-of-archive marker, is FAILED
// E_ARCHIVE_TRUNCATED, and the finding names the entry the cut hits.
func TestTruncationModel(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	var oci, docker bytes.Buffer
	if err := b.WriteOCIArchive(&oci, false); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteDockerArchive(&docker, fixtures.Classic, false); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"oci": oci.Bytes(), "docker": docker.Bytes()} {
		entries, end := tarLayout(t, data)
		if int64(len(data)) != end {
			t.Fatalf("%s: %d bytes, end-of-archive marker ends at %d", name, len(data), end)
		}
		for cut := int64(512); cut < end; cut += 97 {
			for via, r := range both(data[:cut], nil) {
				f := expect(t, name+" "+via+" cut", r, verify.Failed, verify.CodeArchiveTruncated)
				// The finding names the entry whose data or padding is cut,
				// or the last whole entry when a header or the marker is.
				var hit *tarEntry
				for i := range entries {
					if entries[i].header < cut {
						hit = &entries[i]
					}
				}
				inEntry := cut > hit.data && cut < hit.end
				if inEntry && f.Path != hit.name || !inEntry && !strings.Contains(f.Message, entryBefore(entries, cut)) {
					t.Fatalf("%s %s cut at %d: finding %s %q does not name %s", name, via, cut, f.Path, f.Message, hit.name)
				}
			}
		}
	}
}

// entryBefore is the last entry whose padding ends at or before cut.
func entryBefore(entries []tarEntry, cut int64) string {
	name := ""
	for _, e := range entries {
		if e.end <= cut && e.end > e.header {
			name = e.name
		}
	}
	return name
}

// The examples of the README, cut where tar reports an unexpected EOF.
func TestExampleCuts(t *testing.T) {
	oci := readExample(t, "hello.oci.tar")
	docker := readExample(t, "hello.docker.tar")
	entries, _ := tarLayout(t, docker)
	last := entries[len(entries)-1]
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"oci 15000", oci[:15000]},
		{"oci 12000", oci[:12000]},
		{"oci 5000", oci[:5000]},
		{"oci without its marker", oci[:len(oci)-1024]},
		{"oci with half its marker", oci[:len(oci)-512]},
		{"docker without its last entry", docker[:last.header]},
		{"docker cut in its last entry's data", docker[:last.data+1]},
	} {
		for via, r := range both(tc.data, nil) {
			expect(t, tc.name+" "+via, r, verify.Failed, verify.CodeArchiveTruncated)
		}
	}
}

// Tools fill a tar's last record with zeros past the end-of-archive
// marker (GNU tar writes 10240-byte records): that is a whole archive.
func TestZeroRecordPaddingVerifies(t *testing.T) {
	data := ociArchive(t, fixtures.Default())
	padded := append(append([]byte(nil), data...), make([]byte, 10240-len(data)%10240)...)
	for via, r := range both(padded, nil) {
		if r.Verdict != verify.Verified || len(codes(r)) > 1 {
			t.Fatalf("%s: %s %v", via, r.Verdict, r.Findings)
		}
	}
}

func TestNonZeroPaddingFails(t *testing.T) {
	data := ociArchive(t, fixtures.Default())
	entries, _ := tarLayout(t, data)
	for _, e := range entries {
		if e.end == e.dataEnd {
			continue
		}
		bad := append([]byte(nil), data...)
		bad[e.end-1] = 'x'
		for via, r := range both(bad, nil) {
			f := expect(t, e.name+" "+via, r, verify.Failed, verify.CodeArchiveInvalid)
			if f.Path != e.name {
				t.Fatalf("%s: padding finding names %q", via, f.Path)
			}
		}
	}
}

func TestHeaderOnlyEntryWithDataIsAmbiguous(t *testing.T) {
	es := fixtures.Default()
	b := fixtures.MustBuild(es)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range b.OCIArchiveEntries() {
		tw.WriteHeader(&tar.Header{Name: e.Name, Mode: 0o644, Size: int64(len(e.Body)), Typeflag: tar.TypeReg})
		tw.Write(e.Body)
	}
	tw.Close()
	// A symlink that declares 512 bytes: archive/tar reads the next block
	// as a header, other readers skip it as data.
	data := buf.Bytes()[:buf.Len()-1024]
	hdr := make([]byte, 512)
	copy(hdr, "extra")
	copy(hdr[100:], "0000777\x00")
	copy(hdr[124:], "00000001000\x00")
	copy(hdr[136:], "00000000000\x00")
	hdr[156] = tar.TypeSymlink
	copy(hdr[157:], "index.json")
	copy(hdr[257:], "ustar\x0000")
	setChecksum(hdr)
	data = append(append(append(data, hdr...), make([]byte, 512)...), make([]byte, 1024)...)
	for via, r := range both(data, nil) {
		expect(t, via, r, verify.Failed, verify.CodeArchiveAmbiguous)
	}
}

func setChecksum(hdr []byte) {
	copy(hdr[148:156], "        ")
	var sum int64
	for _, c := range hdr {
		sum += int64(c)
	}
	copy(hdr[148:], []byte(strings.Repeat("0", 6-len(octal(sum)))+octal(sum)+"\x00 "))
}

func octal(n int64) string {
	var s []byte
	for n > 0 {
		s = append([]byte{byte('0' + n%8)}, s...)
		n /= 8
	}
	return string(s)
}

// A text file, an empty file and a short binary are no archives: they are
// E_UNKNOWN_FORMAT with the format unknown, not a truncated archive; a
// cut archive's first bytes are still a truncated archive.
func TestFormatDetection(t *testing.T) {
	oci := readExample(t, "hello.oci.tar")
	for _, tc := range []struct {
		name string
		data []byte
		code verify.Code
	}{
		{"text", []byte("hello world\n"), verify.CodeUnknownFormat},
		{"long text", bytes.Repeat([]byte("all work and no play "), 100), verify.CodeUnknownFormat},
		{"empty", nil, verify.CodeUnknownFormat},
		{"png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 600)...), verify.CodeUnknownFormat},
		{"first name and NUL", oci[:40], verify.CodeArchiveTruncated},
		{"first name and mode", oci[:104], verify.CodeArchiveTruncated},
		{"first header but one byte", oci[:511], verify.CodeArchiveTruncated},
		{"gzipped text", gzipped(t, []byte(strings.Repeat("text ", 200))), verify.CodeUnknownFormat},
	} {
		for via, r := range both(tc.data, nil) {
			expect(t, tc.name+" "+via, r, verify.Failed, tc.code)
			if tc.code == verify.CodeUnknownFormat && r.Source.Format != verify.FormatUnknown {
				t.Fatalf("%s %s: format %q", tc.name, via, r.Source.Format)
			}
		}
	}
}

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipDamage is each way the outer gzip stream of an archive is damaged,
// with the code it must give.
func gzipDamage(gz []byte) map[string]struct {
	data []byte
	code verify.Code
} {
	n := len(gz)
	edit := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), gz...)) }
	out := map[string]struct {
		data []byte
		code verify.Code
	}{}
	add := func(name string, code verify.Code, data []byte) {
		out[name] = struct {
			data []byte
			code verify.Code
		}{data, code}
	}
	for i := 0; i < 4; i++ {
		add("crc byte "+string(rune('0'+i)), verify.CodeDecompress, edit(func(b []byte) []byte { b[n-8+i] ^= 0x01; return b }))
		add("isize byte "+string(rune('0'+i)), verify.CodeDecompress, edit(func(b []byte) []byte { b[n-4+i] ^= 0x80; return b }))
	}
	for _, cut := range []int{1, 4, 7, 8, 9, 12} {
		add("cut "+octal(int64(cut)), verify.CodeArchiveTruncated, gz[:n-cut])
	}
	add("trailing byte", verify.CodeDecompress, append(edit(func(b []byte) []byte { return b }), 'x'))
	add("trailing garbage", verify.CodeDecompress, append(edit(func(b []byte) []byte { return b }), "garbage!\n"...))
	add("trailing zeros", verify.CodeDecompress, append(edit(func(b []byte) []byte { return b }), make([]byte, 512)...))
	add("half a second member", verify.CodeArchiveTruncated, append(edit(func(b []byte) []byte { return b }), gz[:20]...))
	return out
}

// A gzipped archive is read to its end: a damaged outer trailer, a cut
// and bytes after the last member fail it, with and without engines.
func TestOuterGzipIsEvidence(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	for _, format := range []string{"oci", "docker"} {
		var buf bytes.Buffer
		var err error
		if format == "oci" {
			err = b.WriteOCIArchive(&buf, true)
		} else {
			err = b.WriteDockerArchive(&buf, fixtures.V25, true)
		}
		if err != nil {
			t.Fatal(err)
		}
		for via, r := range both(buf.Bytes(), nil) {
			if r.Verdict != verify.Verified || !r.Source.Compressed {
				t.Fatalf("%s %s: the undamaged archive is %s %v", format, via, r.Verdict, r.Findings)
			}
		}
		for name, d := range gzipDamage(buf.Bytes()) {
			reps := both(d.data, nil)
			eng := &strictEngines{zeroPadding: true}
			reps["Archive with engines"] = verify.Archive(context.Background(), bytes.NewReader(d.data), int64(len(d.data)), "x.tar.gz",
				&verify.Options{Engines: eng.engines()}).Report
			for via, r := range reps {
				f := expect(t, format+" "+name+" "+via, r, verify.Failed, d.code)
				if f.Path != "archive" || !strings.Contains(f.Message, "gzip") {
					t.Fatalf("%s %s %s: finding %q %q does not name the outer gzip stream", format, name, via, f.Path, f.Message)
				}
			}
		}
	}
}

// The three classes of link: a hard link to a later entry, which a
// streaming reader cannot resolve; a backward one, which it can; and a
// layout directory whose blobs/ or blobs/sha256 is a symbolic link.
func TestLinks(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	a, err := b.Docker(fixtures.DockerOptions{Format: fixtures.Classic})
	if err != nil {
		t.Fatal(err)
	}
	var layer fixtures.Entry
	for _, e := range a.Entries {
		if strings.HasSuffix(e.Name, "/layer.tar") {
			layer = e
			break
		}
	}
	forward := fixtures.SetEntry(slices.Clone(a.Entries), fixtures.Entry{Name: layer.Name, Typeflag: tar.TypeLink, Linkname: "zz-data"})
	forward = append(forward, fixtures.Entry{Name: "zz-data", Body: layer.Body})
	backward := fixtures.SetEntry(slices.Clone(a.Entries), fixtures.Entry{Name: layer.Name, Typeflag: tar.TypeLink, Linkname: "00-data"})
	backward = append([]fixtures.Entry{{Name: "00-data", Body: layer.Body}}, backward...)
	for name, tc := range map[string]struct {
		entries []fixtures.Entry
		verdict verify.Verdict
	}{"forward": {forward, verify.Failed}, "backward": {backward, verify.Verified}} {
		data, err := fixtures.TarBytes(tc.entries, fixtures.TarOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for via, r := range both(data, nil) {
			if tc.verdict == verify.Verified {
				if r.Verdict != verify.Verified {
					t.Fatalf("%s hard link %s: %s %v", name, via, r.Verdict, r.Findings)
				}
				continue
			}
			f := expect(t, name+" hard link "+via, r, verify.Failed, verify.CodeArchiveLink)
			if f.Path != layer.Name && !strings.Contains(f.Message, "zz-data") {
				t.Fatalf("%s: the finding %q %q names neither the link nor its target", via, f.Path, f.Message)
			}
		}
	}

	for _, dir := range []string{"blobs", "blobs/sha256"} {
		fsys := fstest.MapFS{}
		for p, body := range b.LayoutFiles() {
			if rest, ok := strings.CutPrefix(p, dir+"/"); ok {
				p = "store/" + rest
			}
			fsys[p] = &fstest.MapFile{Data: body, Mode: 0o644}
		}
		target := "store"
		if dir == "blobs/sha256" {
			target = "../store"
		}
		fsys[dir] = &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink | 0o777}
		r := verify.Dir(context.Background(), fsys, "layout", nil).Report
		f := expect(t, dir+" symlink", r, verify.Failed, verify.CodeArchiveLink)
		if !strings.HasPrefix(f.Message, dir+": ") {
			t.Fatalf("%s symlink: the finding names %q: %s", dir, f.Path, f.Message)
		}
	}
}

func readExample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOuterGzipTailIsBounded appends 4 MiB of zeros to a tar before it
// is gzipped: a few KiB on disk that the outer stream inflates after the
// tar's end. Under the default limits the archive verifies; under a
// 1 MiB archive-tail-bytes it is UNVERIFIABLE with E_LIMIT_EXCEEDED,
// whichever decompressor reads it.
func TestOuterGzipTailIsBounded(t *testing.T) {
	data := ociArchive(t, fixtures.Default())
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Write(make([]byte, 4<<20))
	zw.Close()
	if buf.Len() > 1<<20 {
		t.Fatalf("the gzipped archive is %d bytes; the tail should inflate, not be stored", buf.Len())
	}
	for via, r := range both(buf.Bytes(), nil) {
		if r.Verdict != verify.Verified || !r.Source.Compressed {
			t.Fatalf("default limits, %s: %s %v", via, r.Verdict, r.Findings)
		}
	}
	lim := limits.Default()
	lim.ArchiveTail = 1 << 20
	reps := both(buf.Bytes(), &verify.Options{Limits: &lim})
	eng := &strictEngines{zeroPadding: true}
	reps["Archive with engines"] = verify.Archive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "x.tar.gz",
		&verify.Options{Limits: &lim, Engines: eng.engines()}).Report
	for via, r := range reps {
		f := expect(t, via, r, verify.Unverifiable, verify.CodeLimitExceeded)
		if !strings.Contains(f.Message, string(limits.ArchiveTail)) {
			t.Fatalf("%s: the finding %q does not name %s", via, f.Message, limits.ArchiveTail)
		}
	}
}
