package conformance

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// Entry is one file, directory or link of a source, as stored.
type Entry struct {
	// Name is the cleaned, slash-separated name relative to the root.
	Name string
	// Raw is the name as stored (for archives, the tar header name).
	Raw      string
	Type     byte // a tar typeflag: tar.TypeReg, tar.TypeDir, tar.TypeSymlink, ...
	Size     int64
	Linkname string
	offset   int64
}

// Files is a read-only view of the files of a source: a directory (an OCI
// layout or an unpacked docker save) or a tar archive. It never writes to
// disk.
type Files interface {
	// Entries lists every entry in stored order, duplicates included.
	Entries() []Entry
	// Open opens the first regular file with the cleaned name, following
	// links that stay inside the source.
	Open(name string) (io.ReadCloser, error)
	// Problems lists archive-level defects found while indexing, by rule ID.
	Problems() []Problem
}

// Problem is a defect of the source found while listing it.
type Problem struct {
	Rule, Path, Message string
}

// errNotFound is returned by Open for a name the source does not hold.
var errNotFound = errors.New("no such file")

// cleanName normalises an entry name; ok is false for names that are
// absolute or climb out of the root.
func cleanName(raw string) (string, bool) {
	n := strings.ReplaceAll(raw, "\\", "/")
	if strings.HasPrefix(n, "/") || strings.Contains(n, "\x00") {
		return path.Clean("/" + n)[1:], false
	}
	c := path.Clean(n)
	if c == ".." || strings.HasPrefix(c, "../") {
		return c, false
	}
	if c == "." {
		c = ""
	}
	return c, true
}

// --- directories ---

type fsFiles struct {
	fsys    fs.FS
	entries []Entry
	probs   []Problem
}

// FromFS returns the files of a directory tree.
func FromFS(fsys fs.FS) (Files, error) {
	f := &fsFiles{fsys: fsys}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		e := Entry{Name: p, Raw: p}
		switch {
		case d.IsDir():
			e.Type = tar.TypeDir
		case d.Type()&fs.ModeSymlink != 0:
			e.Type = tar.TypeSymlink
			if rl, ok := fsys.(fs.ReadLinkFS); ok {
				e.Linkname, _ = rl.ReadLink(p)
			}
		case d.Type().IsRegular():
			e.Type = tar.TypeReg
			if info, err := d.Info(); err == nil {
				e.Size = info.Size()
			}
		default:
			e.Type = tar.TypeFifo
		}
		f.entries = append(f.entries, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing directory: %w", err)
	}
	for _, e := range f.entries {
		if e.Type == tar.TypeSymlink {
			f.probs = append(f.probs, Problem{"IMGPROOF-ARCH-002", e.Name, "symbolic link in an image layout; links are not followed"})
		}
	}
	return f, nil
}

func (f *fsFiles) Entries() []Entry    { return f.entries }
func (f *fsFiles) Problems() []Problem { return f.probs }
func (f *fsFiles) Open(name string) (io.ReadCloser, error) {
	for _, e := range f.entries {
		if e.Name == name {
			if e.Type != tar.TypeReg {
				return nil, fmt.Errorf("%s: not a regular file", name)
			}
			return f.fsys.Open(name)
		}
	}
	return nil, fmt.Errorf("%s: %w", name, errNotFound)
}

// --- tar archives ---

// maxCached bounds what a gzipped archive keeps in memory per entry; larger
// entries are read again from the start of the archive.
const (
	maxCached      = 16 << 20
	maxCachedTotal = 256 << 20
)

type tarFiles struct {
	r       io.ReaderAt
	size    int64
	gz      bool
	entries []Entry
	cache   map[int]*[]byte // index in entries -> content, for gzip archives
	probs   []Problem
	hops    int // limits.LinkHops
	lim     *limits.Limits
}

// FromArchive indexes a tar archive, plain or gzipped, held in r, under
// lim (nil means limits.Default()): its entries and link hops. Entry
// contents are read on demand; nothing is written to disk.
func FromArchive(r io.ReaderAt, size int64, lim *limits.Limits) (Files, error) {
	if lim == nil {
		d := limits.Default()
		lim = &d
	}
	t := &tarFiles{r: r, size: size, cache: map[int]*[]byte{}, hops: lim.LinkHops, lim: lim}
	var magic [2]byte
	if _, err := r.ReadAt(magic[:], 0); err == nil && verify.DetectCompression(magic[:]) == verify.CompressionGzip {
		t.gz = true
	}
	// A plain tar is read in place, so entry data is skipped, not read; a
	// gzipped one is read once, keeping small entries in memory.
	tr, closeTR, err := t.stream()
	if err != nil {
		return nil, err
	}
	defer closeTR()
	pos := tr.Pos
	var cached int64
	seen := map[string]bool{}
	var lastEnd int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.probs = append(t.probs, Problem{"IMGPROOF-ARCH-003", wholeArchive, fmt.Sprintf("archive is not a complete tar archive: %v", err)})
			return t, nil
		}
		if len(t.entries) >= lim.ArchiveEntries {
			t.probs = append(t.probs, Problem{"IMGPROOF-LIMIT-001", wholeArchive, limits.Exceeded(limits.ArchiveEntries, int64(lim.ArchiveEntries), wholeArchive).Error()})
			return t, nil
		}
		name, safe := cleanName(h.Name)
		e := Entry{Name: name, Raw: h.Name, Type: h.Typeflag, Size: h.Size, Linkname: h.Linkname, offset: pos()}
		if e.Type == typeRegA {
			e.Type = tar.TypeReg
		}
		if !safe {
			t.probs = append(t.probs, Problem{"IMGPROOF-ARCH-002", h.Name, "archive entry name is absolute or leaves the archive root"})
		}
		key := strings.TrimSuffix(name, "/")
		if seen[key] && e.Type != tar.TypeDir {
			t.probs = append(t.probs, Problem{"IMGPROOF-ARCH-001", h.Name, "archive holds this name more than once; readers disagree on which copy wins"})
		}
		seen[key] = true
		dataLen := h.Size
		if e.Type != tar.TypeReg {
			dataLen = 0
		}
		if t.gz && e.Type == tar.TypeReg && h.Size <= maxCached && cached+h.Size <= maxCachedTotal {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.probs = append(t.probs, Problem{"IMGPROOF-ARCH-003", h.Name, fmt.Sprintf("archive is truncated: %v", err)})
				t.entries = append(t.entries, e)
				return t, nil
			}
			cached += h.Size
			t.cache[len(t.entries)] = &b
		} else if t.gz {
			if _, err := io.Copy(io.Discard, tr); err != nil {
				t.probs = append(t.probs, Problem{"IMGPROOF-ARCH-003", h.Name, fmt.Sprintf("archive is truncated: %v", err)})
				t.entries = append(t.entries, e)
				return t, nil
			}
		} else if e.offset+dataLen > size {
			t.probs = append(t.probs, Problem{"IMGPROOF-ARCH-003", h.Name, "archive is truncated inside this entry"})
			t.entries = append(t.entries, e)
			return t, nil
		}
		lastEnd = e.offset + dataLen
		t.entries = append(t.entries, e)
	}
	if tail := pos() - verify.BlockAlign(lastEnd); tail < 1024 {
		t.probs = append(t.probs, Problem{"IMGPROOF-ARCH-004", wholeArchive, "archive ends without the two zero blocks of the end-of-archive marker"})
	}
	if nz, err := tr.RestNonZero(); err != nil {
		t.probs = append(t.probs, Problem{"IMGPROOF-ARCH-003", wholeArchive, fmt.Sprintf("reading after the end-of-archive marker: %v", err)})
	} else if nz {
		t.probs = append(t.probs, Problem{"IMGPROOF-ARCH-004", wholeArchive, "non-zero data follows the end-of-archive marker"})
	}
	for _, e := range t.entries {
		if e.Type == tar.TypeSymlink || e.Type == tar.TypeLink {
			if _, err := t.resolve(e.Name); errors.Is(err, limits.ErrLimit) {
				t.probs = append(t.probs, Problem{"IMGPROOF-LIMIT-001", e.Raw, err.Error()})
			} else if err != nil {
				t.probs = append(t.probs, Problem{"IMGPROOF-ARCH-002", e.Raw, err.Error()})
			}
		}
	}
	return t, nil
}

// stream returns the source layer's tar reader from the start of the
// archive, and what releases it.
func (t *tarFiles) stream() (*verify.TarReader, func(), error) {
	if !t.gz {
		return verify.NewTarReaderAt(t.r, t.size), func() {}, nil
	}
	zr, _, err := verify.Decompress(io.NewSectionReader(t.r, 0, t.size), t.lim)
	if err != nil {
		return nil, nil, fmt.Errorf("reading gzip header: %w", err)
	}
	return verify.NewTarReader(zr), func() { zr.Close() }, nil
}

func (t *tarFiles) Entries() []Entry    { return t.entries }
func (t *tarFiles) Problems() []Problem { return t.probs }

// resolve follows links from name to a regular file entry, inside the archive.
func (t *tarFiles) resolve(name string) (int, error) {
	for hop := 0; hop <= t.hops; hop++ {
		idx := -1
		for i := range t.entries {
			if t.entries[i].Name == name && t.entries[i].Type != tar.TypeDir {
				idx = i
				break
			}
		}
		if idx < 0 {
			return -1, fmt.Errorf("%s: %w", name, errNotFound)
		}
		e := t.entries[idx]
		switch e.Type {
		case tar.TypeReg:
			return idx, nil
		case tar.TypeSymlink:
			n, ok := verify.LinkTarget(e.Name, e.Type, e.Linkname)
			if !ok {
				return -1, fmt.Errorf("%s: link target %q leaves the archive", e.Name, e.Linkname)
			}
			name = n
		case tar.TypeLink:
			n, ok := verify.LinkTarget(e.Name, e.Type, e.Linkname)
			if !ok {
				return -1, fmt.Errorf("%s: hard link target %q leaves the archive", e.Name, e.Linkname)
			}
			name = n
		default:
			return -1, fmt.Errorf("%s: not a regular file", e.Name)
		}
	}
	return -1, limits.Exceeded(limits.LinkHops, int64(t.hops), name)
}

func (t *tarFiles) Open(name string) (io.ReadCloser, error) {
	idx, err := t.resolve(name)
	if err != nil {
		return nil, err
	}
	e := t.entries[idx]
	if b, ok := t.cache[idx]; ok {
		return io.NopCloser(bytes.NewReader(*b)), nil
	}
	if !t.gz {
		return io.NopCloser(io.NewSectionReader(t.r, e.offset, e.Size)), nil
	}
	tr, closeTR, err := t.stream()
	if err != nil {
		return nil, err
	}
	for i := 0; ; i++ {
		if _, err := tr.Next(); err != nil {
			closeTR()
			return nil, fmt.Errorf("%s: rereading archive: %w", name, err)
		}
		if i == idx {
			return readCloser{tr, closeTR}, nil
		}
	}
}

// readCloser reads an entry of a gzipped archive and releases its
// decompressor when closed.
type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error { r.close(); return nil }

// readAll reads a whole file under a limit of the given kind.
func readAll(f Files, name string, kind limits.Kind, limit int64) ([]byte, error) {
	rc, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, limits.Exceeded(kind, limit, name)
	}
	return b, nil
}
