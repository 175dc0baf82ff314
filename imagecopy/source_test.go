//go:build !js

package imagecopy

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/imgproof/imgproof/internal/limits"
)

func writeArchive(t *testing.T, gz bool, hdrs ...*tar.Header) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		h.Mode = 0o644
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(strings.Repeat(h.Name, int(h.Size))[:h.Size]))
	}
	tw.Close()
	b := buf.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b)
		zw.Close()
		b = z.Bytes()
	}
	p := filepath.Join(t.TempDir(), "a.tar")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTarFSReadsThroughTheSourceLayer(t *testing.T) {
	for _, gz := range []bool{false, true} {
		p := writeArchive(t, gz,
			&tar.Header{Name: "d/", Typeflag: tar.TypeDir},
			&tar.Header{Name: "d/a", Typeflag: tar.TypeReg, Size: 5},
			&tar.Header{Name: "b", Typeflag: tar.TypeReg, Size: 3},
			&tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "d/a"},
		)
		lim := limits.Default()
		tfs, err := openTarFS(p, &lim)
		if err != nil {
			t.Fatalf("gzip=%v: %v", gz, err)
		}
		for name, want := range map[string]string{"d/a": "d/ad/", "b": "bbb", "l": "d/ad/"} {
			f, err := tfs.Open(name)
			if err != nil {
				t.Fatalf("gzip=%v: %s: %v", gz, name, err)
			}
			got, _ := io.ReadAll(f)
			f.Close()
			if string(got) != want {
				t.Errorf("gzip=%v: %s = %q, want %q", gz, name, got, want)
			}
		}
		if _, err := tfs.Open("nope"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("gzip=%v: missing name gave %v", gz, err)
		}
		tfs.Close()
	}
}

func TestTarFSRules(t *testing.T) {
	lim := limits.Default()
	dup := writeArchive(t, false, &tar.Header{Name: "a", Typeflag: tar.TypeReg, Size: 1}, &tar.Header{Name: "./a", Typeflag: tar.TypeReg, Size: 1})
	if _, err := openTarFS(dup, &lim); err == nil || !strings.Contains(err.Error(), "holds this name twice") {
		t.Errorf("duplicate: %v", err)
	}
	unsafe := writeArchive(t, false, &tar.Header{Name: "../a", Typeflag: tar.TypeReg, Size: 1})
	if _, err := openTarFS(unsafe, &lim); err == nil || !strings.Contains(err.Error(), "unsafe") {
		t.Errorf("unsafe name: %v", err)
	}
	chain := writeArchive(t, true, &tar.Header{Name: "a", Typeflag: tar.TypeReg, Size: 1},
		&tar.Header{Name: "b", Typeflag: tar.TypeSymlink, Linkname: "a"}, &tar.Header{Name: "c", Typeflag: tar.TypeSymlink, Linkname: "b"})
	lim.LinkHops = 1
	tfs, err := openTarFS(chain, &lim)
	if err != nil {
		t.Fatal(err)
	}
	defer tfs.Close()
	if _, err := tfs.Open("b"); err != nil {
		t.Errorf("one hop under link-hops=1: %v", err)
	}
	if _, err := tfs.Open("c"); !errors.Is(err, limits.ErrLimit) {
		t.Errorf("two hops under link-hops=1: %v", err)
	}
	lim = limits.Default()
	lim.ArchiveEntries = 2
	if _, err := openTarFS(chain, &lim); !errors.Is(err, limits.ErrLimit) {
		t.Errorf("three entries under archive-entries=2: %v", err)
	}
}
