//go:build !js

package imagecopy

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// tarFS is a read-only fs.FS over the regular files of a tar archive,
// plain or gzipped. A plain tar is indexed once and read in place; a
// gzipped one is decompressed again for every Open, front to back.
type tarFS struct {
	f       *os.File
	gz      bool
	entries map[string]*tarEntry
}

type tarEntry struct {
	name     string
	typeflag byte
	linkname string
	offset   int64
	size     int64
}

// maxLinkHops bounds the symbolic links followed inside an archive.
const maxLinkHops = 8

// openTarFS indexes the archive at path. Duplicate names and unsafe paths
// are refused: the verifier refuses them too, so a copy never picks one of
// two candidates.
func openTarFS(name string, maxEntries int) (*tarFS, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	t := &tarFS{f: f, entries: map[string]*tarEntry{}}
	head := make([]byte, 2)
	if n, _ := f.ReadAt(head, 0); n == 2 && head[0] == 0x1f && head[1] == 0x8b {
		t.gz = true
	}
	r, closeR, err := t.stream()
	if err != nil {
		f.Close()
		return nil, err
	}
	defer closeR()
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: reading tar: %w", name, err)
		}
		clean, ok := cleanName(hdr.Name)
		if !ok {
			f.Close()
			return nil, fmt.Errorf("%s: unsafe entry name %q", name, hdr.Name)
		}
		if hdr.Typeflag == tar.TypeDir {
			continue
		}
		if _, dup := t.entries[clean]; dup {
			f.Close()
			return nil, fmt.Errorf("%s: duplicate entry %q", name, clean)
		}
		if len(t.entries) >= maxEntries {
			f.Close()
			return nil, fmt.Errorf("%s: more than %d entries", name, maxEntries)
		}
		t.entries[clean] = &tarEntry{name: clean, typeflag: hdr.Typeflag, linkname: hdr.Linkname, offset: cr.n, size: hdr.Size}
	}
	return t, nil
}

func (t *tarFS) Close() error { return t.f.Close() }

// stream returns the archive's tar stream from the start.
func (t *tarFS) stream() (io.Reader, func(), error) {
	sr := io.NewSectionReader(t.f, 0, 1<<62)
	if !t.gz {
		return sr, func() {}, nil
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(sr, 1<<16))
	if err != nil {
		return nil, nil, err
	}
	return zr, func() { zr.Close() }, nil
}

func (t *tarFS) resolve(name string) (*tarEntry, error) {
	for hop := 0; ; hop++ {
		e, ok := t.entries[name]
		if !ok {
			return nil, fs.ErrNotExist
		}
		switch e.typeflag {
		case tar.TypeReg:
			return e, nil
		case tar.TypeSymlink, tar.TypeLink:
		default:
			return nil, fmt.Errorf("%s: entry type %q is not a regular file", name, e.typeflag)
		}
		if hop >= maxLinkHops {
			return nil, fmt.Errorf("%s: more than %d link hops", name, maxLinkHops)
		}
		target := e.linkname
		if e.typeflag == tar.TypeSymlink && !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(name), target)
		}
		clean, ok := cleanName(target)
		if !ok {
			return nil, fmt.Errorf("%s: link leaves the archive: %q", name, e.linkname)
		}
		name = clean
	}
}

// Open implements fs.FS for regular files only.
func (t *tarFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	e, err := t.resolve(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	info := fileInfo{name: path.Base(name), size: e.size}
	if !t.gz {
		return &file{info: info, r: io.NewSectionReader(t.f, e.offset, e.size)}, nil
	}
	r, closeR, err := t.stream()
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err != nil {
			closeR()
			return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("archive changed while reading: %w", err)}
		}
		if c, _ := cleanName(hdr.Name); c == e.name {
			return &file{info: info, r: tr, close: closeR}, nil
		}
	}
}

func cleanName(name string) (string, bool) {
	if strings.ContainsRune(name, 0) || strings.Contains(name, "\\") || strings.HasPrefix(name, "/") {
		return name, false
	}
	c := path.Clean(name)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return c, false
	}
	return c, true
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type fileInfo struct {
	name string
	size int64
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return 0o444 }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return false }
func (i fileInfo) Sys() any           { return nil }

type file struct {
	info  fileInfo
	r     io.Reader
	close func()
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *file) Close() error {
	if f.close != nil {
		f.close()
	}
	return nil
}

// readSmall reads a whole small file under a limit.
func readSmall(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, limit)
	}
	return b, nil
}
