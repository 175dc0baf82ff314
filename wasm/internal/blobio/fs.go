package blobio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/imgproof/imgproof/internal/fileinfo"
)

// FS is a read-only fs.FS over a set of named blobs, such as the files of a
// folder picked or dropped in the browser. Directories are implied by the
// file paths.
type FS struct {
	files map[string]Blob
	dirs  map[string][]string // directory -> sorted child names
}

// NewFS builds an FS from slash-separated paths. Leading "./" and "/" are
// removed, and while every file sits under one common top directory and
// none at the root, that directory is stripped too: a picked folder
// "img/index.json" becomes "index.json". Paths that are not valid fs paths
// after cleaning, and paths named twice, are errors.
func NewFS(files map[string]Blob) (*FS, error) {
	clean := make(map[string]Blob, len(files))
	for name, b := range files {
		c := strings.TrimLeft(strings.TrimPrefix(name, "./"), "/")
		if !fs.ValidPath(c) || c == "." {
			return nil, fmt.Errorf("blobio: invalid path %q", name)
		}
		if _, dup := clean[c]; dup {
			return nil, fmt.Errorf("blobio: path %q named twice", c)
		}
		clean[c] = b
	}
	clean = stripCommonRoot(clean)
	f := &FS{files: clean, dirs: map[string][]string{".": nil}}
	for name := range clean {
		for d, child := path.Dir(name), path.Base(name); ; d, child = path.Dir(d), path.Base(d) {
			seen := f.dirs[d]
			if !contains(seen, child) {
				f.dirs[d] = append(seen, child)
			}
			if d == "." {
				break
			}
		}
	}
	for name := range clean {
		if _, isDir := f.dirs[name]; isDir {
			return nil, fmt.Errorf("blobio: %q is both a file and a directory", name)
		}
	}
	for _, c := range f.dirs {
		sort.Strings(c)
	}
	return f, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func stripCommonRoot(files map[string]Blob) map[string]Blob {
	for len(files) > 0 {
		var root string
		for name := range files {
			top, _, ok := strings.Cut(name, "/")
			if !ok || (root != "" && top != root) {
				return files
			}
			root = top
		}
		next := make(map[string]Blob, len(files))
		for name, b := range files {
			next[strings.TrimPrefix(name, root+"/")] = b
		}
		files = next
	}
	return files
}

// Open implements fs.FS.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if b, ok := f.files[name]; ok {
		return &file{name: name, b: b}, nil
	}
	if children, ok := f.dirs[name]; ok {
		return &dir{fsys: f, name: name, children: children}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// Stat implements fs.StatFS.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if b, ok := f.files[name]; ok {
		return fileinfo.File(path.Base(name), b.Size()), nil
	}
	if _, ok := f.dirs[name]; ok {
		return fileinfo.Dir(path.Base(name)), nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

// ReadDir implements fs.ReadDirFS.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	d, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	dd, ok := d.(*dir)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return dd.ReadDir(-1)
}

// file is an open blob. Read streams it in large blocks with read-ahead;
// ReadAt and Seek give random access.
type file struct {
	name   string
	b      Blob
	off    int64
	seq    *SeqReader
	closed bool
}

func (f *file) Stat() (fs.FileInfo, error) {
	return fileinfo.File(path.Base(f.name), f.b.Size()), nil
}

func (f *file) Read(p []byte) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrClosed}
	}
	if f.off >= f.b.Size() {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	if f.seq == nil {
		f.seq = NewSeqReader(f.b, f.off, DefaultBlockSize)
	}
	n, err := f.seq.Read(p)
	f.off += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &fs.PathError{Op: "read", Path: f.name, Err: err}
	}
	return n, err
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrClosed}
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	return readFull(f.b, p, off, f.b.Size())
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrClosed}
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.b.Size()
	default:
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	if offset != f.off && f.seq != nil {
		f.seq.Close()
		f.seq = nil
	}
	f.off = offset
	return offset, nil
}

func (f *file) Close() error {
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	if f.seq != nil {
		f.seq.Close()
	}
	return nil
}

// dir is an open directory.
type dir struct {
	fsys     *FS
	name     string
	children []string
	pos      int
}

func (d *dir) Stat() (fs.FileInfo, error) {
	return fileinfo.Dir(path.Base(d.name)), nil
}

func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

func (d *dir) Close() error { return nil }

func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.children[d.pos:]
	if n > 0 && len(rest) == 0 {
		return nil, io.EOF
	}
	if n > 0 && n < len(rest) {
		rest = rest[:n]
	}
	out := make([]fs.DirEntry, 0, len(rest))
	for _, c := range rest {
		full := path.Join(d.name, c)
		fi, err := d.fsys.Stat(full)
		if err != nil {
			return out, err
		}
		out = append(out, fi.(fileinfo.Info))
	}
	d.pos += len(rest)
	return out, nil
}
