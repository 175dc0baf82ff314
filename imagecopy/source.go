//go:build !js

package imagecopy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// tarFS is a read-only fs.FS over the regular files of a tar archive,
// plain or gzipped, read through the verifier's source layer: its tar
// reader, name and link rules and decompressors. A plain tar is indexed
// once and read in place; a gzipped one is decompressed again for every
// Open, front to back.
type tarFS struct {
	f   *os.File
	gz  bool
	ix  *verify.TarIndex
	lim *limits.Limits
}

// openTarFS indexes the archive at path under the verifier's rules for
// outer archives: duplicate names and unsafe paths are refused, as the
// verifier refuses them, so a copy never picks one of two candidates.
func openTarFS(name string, lim *limits.Limits) (*tarFS, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	t := &tarFS{f: f, lim: lim}
	head := make([]byte, 4)
	n, _ := f.ReadAt(head, 0)
	t.gz = verify.DetectCompression(head[:n]) == verify.CompressionGzip
	tr, closeR, err := t.stream()
	if err != nil {
		f.Close()
		return nil, err
	}
	defer closeR()
	if t.ix, err = verify.IndexTar(tr, lim); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

func (t *tarFS) Close() error { return t.f.Close() }

// stream returns a reader of the archive's tar stream from the start.
func (t *tarFS) stream() (*verify.TarReader, func(), error) {
	st, err := t.f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !t.gz {
		return verify.NewTarReaderAt(t.f, st.Size()), func() {}, nil
	}
	zr, _, err := verify.Decompress(io.NewSectionReader(t.f, 0, st.Size()), t.lim)
	if err != nil {
		return nil, nil, err
	}
	return verify.NewTarReader(zr), func() { zr.Close() }, nil
}

// Open implements fs.FS for regular files only.
func (t *tarFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	offset, size, err := t.ix.Resolve(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	info := fileInfo{name: path.Base(name), size: size}
	if !t.gz {
		return &file{info: info, r: io.NewSectionReader(t.f, offset, size)}, nil
	}
	tr, closeR, err := t.stream()
	if err != nil {
		return nil, err
	}
	for {
		if _, err := tr.Next(); err != nil {
			closeR()
			return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("archive changed while reading: %w", err)}
		}
		if tr.Pos() == offset {
			return &file{info: info, r: tr, close: closeR}, nil
		}
		if tr.Pos() > offset {
			closeR()
			return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("archive changed while reading")}
		}
	}
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

// readSmall reads a whole small file under a limit of the given kind.
func readSmall(fsys fs.FS, name string, kind limits.Kind, limit int64) ([]byte, error) {
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
		return nil, limits.Exceeded(kind, limit, name)
	}
	return b, nil
}
