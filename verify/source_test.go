package verify

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/imgproof/imgproof/internal/limits"
)

func sourceTar(t *testing.T, tail []byte, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		h.Mode = 0o644
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(bytes.Repeat([]byte{'x'}, int(h.Size)))
	}
	tw.Close()
	return append(buf.Bytes(), tail...)
}

func TestTarReaderTellsWhereItIs(t *testing.T) {
	b := sourceTar(t, []byte("junk"),
		&tar.Header{Name: "a", Typeflag: tar.TypeReg, Size: 3},
		&tar.Header{Name: "b", Typeflag: tar.TypeReg, Size: 700, PAXRecords: map[string]string{"comment": "c"}})
	for name, tr := range map[string]*TarReader{
		"stream": NewTarReader(bytes.NewReader(b)),
		"at":     NewTarReaderAt(bytes.NewReader(b), int64(len(b))),
	} {
		var offs []int64
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			offs = append(offs, tr.Pos())
			blk := tr.Block()
			if len(blk) != 512 || string(blk[:len(h.Name)]) != h.Name {
				t.Fatalf("%s: %s: block %q", name, h.Name, blk)
			}
		}
		// a: one header; b: a PAX header, its record, the ustar header.
		if len(offs) != 2 || offs[0] != 512 || offs[1] != 512+512+512+512+512 {
			t.Fatalf("%s: data offsets %v", name, offs)
		}
		rest, err := io.ReadAll(tr.Rest())
		if err != nil || !bytes.HasSuffix(rest, []byte("junk")) || tr.Pos() != int64(len(b)) {
			t.Fatalf("%s: rest %d bytes ending %q, pos %d of %d, err %v", name, len(rest), rest[max(0, len(rest)-4):], tr.Pos(), len(b), err)
		}
	}
}

func TestDecompressDetects(t *testing.T) {
	plain := []byte("the layer bytes")
	var gz, zs bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain[:5])
	zw.Close()
	zw = gzip.NewWriter(&gz) // a second member
	zw.Write(plain[5:])
	zw.Close()
	enc, _ := zstd.NewWriter(&zs)
	enc.Write(plain)
	enc.Close()
	lim := limits.Default()
	for want, in := range map[string][]byte{CompressionGzip: gz.Bytes(), CompressionZstd: zs.Bytes(), CompressionNone: plain} {
		rc, c, err := Decompress(bytes.NewReader(in), &lim)
		if err != nil || c != want {
			t.Fatalf("%s: got %s, %v", want, c, err)
		}
		out, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(out, plain) {
			t.Fatalf("%s: %q, %v", want, out, err)
		}
	}
	if _, _, err := Decompress(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0}), &lim); !errors.Is(err, gzip.ErrHeader) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a broken gzip header: %v", err)
	}
	if c := DetectCompression([]byte{0xfd, '7', 'z', 'X', 'Z', 0}); c != "xz" {
		t.Fatalf("xz detected as %s", c)
	}
}

func TestIndexTarAndLinkRules(t *testing.T) {
	lim := limits.Default()
	b := sourceTar(t, nil,
		&tar.Header{Name: "./d/", Typeflag: tar.TypeDir},
		&tar.Header{Name: "d/f", Typeflag: tar.TypeReg, Size: 4},
		&tar.Header{Name: "d/s", Typeflag: tar.TypeSymlink, Linkname: "f"},
		&tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "d/f"},
		&tar.Header{Name: "out", Typeflag: tar.TypeSymlink, Linkname: "../../x"})
	x, err := IndexTar(NewTarReaderAt(bytes.NewReader(b), int64(len(b))), &lim)
	if err != nil {
		t.Fatal(err)
	}
	off, size, err := x.Resolve("d/f")
	if err != nil || size != 4 || string(b[off:off+size]) != "xxxx" {
		t.Fatalf("d/f: %d %d %v", off, size, err)
	}
	for _, n := range []string{"d/s", "h"} {
		if o, _, err := x.Resolve(n); err != nil || o != off {
			t.Fatalf("%s: %d, %v (want %d)", n, o, err, off)
		}
	}
	if _, _, err := x.Resolve("out"); err == nil {
		t.Fatal("a link out of the archive resolved")
	}
	if _, _, err := x.Resolve("none"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing name: %v", err)
	}
	if got, ok := LinkTarget("a/b", tar.TypeSymlink, "../c"); !ok || got != "c" {
		t.Fatalf("symlink a/b -> ../c: %q %v", got, ok)
	}
	if got, ok := LinkTarget("a/b", tar.TypeLink, "c"); !ok || got != "c" {
		t.Fatalf("hard link a/b -> c: %q %v", got, ok)
	}
	if _, ok := LinkTarget("a", tar.TypeSymlink, "/etc/passwd"); ok {
		t.Fatal("an absolute symlink stays inside")
	}
	dup := sourceTar(t, nil, &tar.Header{Name: "a", Typeflag: tar.TypeReg}, &tar.Header{Name: "./a", Typeflag: tar.TypeReg})
	if _, err := IndexTar(NewTarReader(bytes.NewReader(dup)), &lim); err == nil {
		t.Fatal("a name held twice was indexed")
	}
}

// TestRestNonZeroIsBounded reads 64 KiB of zeros after the end-of-archive
// marker: allowed by default, a *limits.Error naming archive-tail-bytes
// under a 32 KiB limit, as IndexTar and SetLimits set it.
func TestRestNonZeroIsBounded(t *testing.T) {
	def := limits.Default()
	data := sourceTar(t, make([]byte, 64<<10), &tar.Header{Name: "a", Size: 3})
	lim := limits.Default()
	lim.ArchiveTail = 32 << 10
	for name, open := range map[string]func() *TarReader{
		"stream":   func() *TarReader { return NewTarReader(bytes.NewReader(data)) },
		"readerAt": func() *TarReader { return NewTarReaderAt(bytes.NewReader(data), int64(len(data))) },
	} {
		tr := open()
		if _, err := IndexTar(tr, &def); err != nil {
			t.Fatal(err)
		}
		if nz, err := tr.RestNonZero(); nz || err != nil {
			t.Fatalf("%s, default limits: %v %v", name, nz, err)
		}
		tr = open()
		if _, err := IndexTar(tr, &lim); err != nil {
			t.Fatal(err)
		}
		var le *limits.Error
		if _, err := tr.RestNonZero(); !errors.As(err, &le) || le.Kind != limits.ArchiveTail {
			t.Fatalf("%s, archive-tail-bytes=32KiB: %v", name, err)
		}
	}
}
