//go:build !js

package imagecopy

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"
)

// sink receives the files of the destination. Nothing appears at the
// destination path until commit; abort removes everything written.
type sink interface {
	// put writes a file of exactly size bytes read from r.
	put(name string, size int64, r io.Reader) error
	commit() error
	abort()
}

// dirSink writes a directory next to the destination and renames it.
type dirSink struct {
	dst, tmp string
}

func newDirSink(dst string) (*dirSink, error) {
	tmp, err := os.MkdirTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".partial-")
	if err != nil {
		return nil, err
	}
	return &dirSink{dst: dst, tmp: tmp}, nil
}

func (s *dirSink) put(name string, size int64, r io.Reader) error {
	full := filepath.Join(s.tmp, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, size+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("writing %s: got %d bytes, want %d", name, n, size)
	}
	return nil
}

func (s *dirSink) commit() error {
	if err := os.Chmod(s.tmp, 0o755); err != nil {
		return err
	}
	if _, err := os.Lstat(s.dst); err == nil {
		return fmt.Errorf("%s: %w", s.dst, ErrDestExists)
	}
	return os.Rename(s.tmp, s.dst)
}

func (s *dirSink) abort() { _ = os.RemoveAll(s.tmp) }

// tarSink writes a tar archive, optionally gzipped, to a temporary file
// and renames it. Entries are written with fixed metadata, so the same
// input gives the same archive.
type tarSink struct {
	dst  string
	f    *os.File
	gz   *gzip.Writer
	tw   *tar.Writer
	dirs map[string]bool
}

func newTarSink(dst string, gz bool) (*tarSink, error) {
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".partial-")
	if err != nil {
		return nil, err
	}
	s := &tarSink{dst: dst, f: f, dirs: map[string]bool{}}
	var w io.Writer = f
	if gz {
		s.gz = gzip.NewWriter(f)
		w = s.gz
	}
	s.tw = tar.NewWriter(w)
	return s, nil
}

var epoch = time.Unix(0, 0).UTC()

func (s *tarSink) mkdirs(dir string) error {
	if dir == "." || s.dirs[dir] {
		return nil
	}
	if err := s.mkdirs(path.Dir(dir)); err != nil {
		return err
	}
	s.dirs[dir] = true
	return s.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
}

func (s *tarSink) put(name string, size int64, r io.Reader) error {
	if err := s.mkdirs(path.Dir(name)); err != nil {
		return err
	}
	if err := s.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return err
	}
	n, err := io.Copy(s.tw, io.LimitReader(r, size+1))
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("writing %s: got %d bytes, want %d", name, n, size)
	}
	return nil
}

func (s *tarSink) commit() error {
	err := s.tw.Close()
	if s.gz != nil {
		err = errors.Join(err, s.gz.Close())
	}
	err = errors.Join(err, s.f.Sync(), s.f.Close())
	if err != nil {
		return err
	}
	if err := os.Chmod(s.f.Name(), 0o644); err != nil {
		return err
	}
	if _, err := os.Lstat(s.dst); err == nil {
		return fmt.Errorf("%s: %w", s.dst, ErrDestExists)
	}
	return os.Rename(s.f.Name(), s.dst)
}

func (s *tarSink) abort() {
	s.f.Close()
	_ = os.Remove(s.f.Name())
}
