package verify

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/imgproof/imgproof/internal/limits"
)

// A Listing is the files of a source as stored, for readers that judge the
// source's own structure (package conformance): every entry in stored
// order, duplicates, unsafe names and links included, the problems met
// while listing, and Open, which finds a file by the same name and link
// rules as the verifier's own store (cleanName, resolveLinks, linkTarget).
// Of a name stored twice, the first copy is opened. Nothing is written to
// disk.
type Listing struct {
	entries []Entry
	probs   []ListProblem
	lim     limits.Limits
	first   map[string]*entry // by clean name, the first non-directory entry
	open    func(i int, name string) (io.ReadCloser, error)
	fsys    *fsStore
}

// Entry is one file, directory or link of a source, as stored.
type Entry struct {
	// Name is the name as CleanName returns it: clean and slash-separated
	// when Safe ("." for the root directory).
	Name string
	// Raw is the name as stored (for archives, the tar header name).
	Raw string
	// Safe is false for a name that is absolute, climbs out of the root,
	// or holds a backslash or NUL; such entries are never opened.
	Safe     bool
	Type     byte // a tar typeflag: tar.TypeReg, tar.TypeDir, tar.TypeSymlink, ...
	Size     int64
	Linkname string
	offset   int64
}

// ProblemKind classifies a defect of a source found while listing it.
type ProblemKind int

// The kinds of listing problems.
const (
	ProblemDuplicate  ProblemKind = iota + 1 // a name stored more than once
	ProblemUnsafeName                        // absolute, climbing out of the root, or otherwise unsafe
	ProblemLink                              // a link that does not resolve inside the source
	ProblemTruncated                         // the tar stream is cut or unreadable
	ProblemNoMarker                          // the end-of-archive marker is missing
	ProblemTrailing                          // non-zero data after the end-of-archive marker
	ProblemLimit                             // a limit was hit
)

// ListProblem is a defect of a source found while listing it. Path is
// the entry's stored name, or "archive" for the archive as a whole.
type ListProblem struct {
	Kind    ProblemKind
	Path    string
	Message string
}

// Entries lists every entry in stored order, duplicates included.
func (l *Listing) Entries() []Entry { return l.entries }

// Problems lists the defects found while listing, in the order met.
func (l *Listing) Problems() []ListProblem { return l.probs }

// Has reports whether an entry has the clean name.
func (l *Listing) Has(name string) bool {
	for _, e := range l.entries {
		if e.Name == name {
			return true
		}
	}
	return false
}

// Resolve follows links from the clean name to the regular file they
// lead to, under the verifier's link rules, and returns its clean name.
// A name the source does not hold gives an error matching fs.ErrNotExist.
func (l *Listing) Resolve(name string) (string, error) {
	if l.fsys != nil {
		f, err := l.fsys.open(name)
		if err != nil {
			return "", err
		}
		f.Close()
		return name, nil
	}
	e, err := resolveLinks(l.first, name, l.lim.LinkHops)
	if err != nil {
		return "", err
	}
	return e.name, nil
}

// Open opens the regular file with the clean name, following links as
// Resolve does.
func (l *Listing) Open(name string) (io.ReadCloser, error) {
	if l.fsys != nil {
		return l.fsys.open(name)
	}
	e, err := resolveLinks(l.first, name, l.lim.LinkHops)
	if err != nil {
		return nil, err
	}
	return l.open(e.index, e.name)
}

// ReadFile reads a whole file by Open, failing with a *limits.Error of
// kind past limit bytes.
func (l *Listing) ReadFile(name string, kind limits.Kind, limit int64) ([]byte, error) {
	rc, err := l.Open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := readAllLimit(rc, limit, kind, name)
	if err != nil && !errors.Is(err, limits.ErrLimit) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, err
}

func (l *Listing) problem(k ProblemKind, path, msg string) {
	l.probs = append(l.probs, ListProblem{Kind: k, Path: path, Message: msg})
}

// ListFS lists a directory tree: an OCI layout or an unpacked docker save.
// Open reads as the verifier's directory store does: regular files only,
// and no name with a symbolic link in it.
func ListFS(fsys fs.FS, lim *limits.Limits) (*Listing, error) {
	l := &Listing{lim: limitsOrDefault(lim)}
	l.fsys = &fsStore{fsys: fsys}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		e := Entry{Name: p, Raw: p, Safe: true}
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
		l.entries = append(l.entries, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing directory: %w", err)
	}
	for _, e := range l.entries {
		if e.Type == tar.TypeSymlink {
			l.problem(ProblemLink, e.Name, "symbolic link in an image layout; links are not followed")
		}
	}
	return l, nil
}

func limitsOrDefault(lim *limits.Limits) limits.Limits {
	if lim == nil {
		return limits.Default()
	}
	return *lim
}

// keptEntry and keptTotal bound what listing a gzipped archive keeps in
// memory: entries up to keptEntry bytes, up to keptTotal in all. Larger
// entries are read again from the start of the archive when opened.
const (
	keptEntry = 16 << 20
	keptTotal = 256 << 20
)

// ListArchive lists a tar archive, plain or gzipped, held in r, under lim
// (nil means limits.Default()): archive-entries, link-hops and
// archive-tail-bytes. Unlike Archive, it does not stop at the first
// defect: it lists what it can and names each problem, so that every
// rule about the archive can be judged.
func ListArchive(r io.ReaderAt, size int64, lim *limits.Limits) (*Listing, error) {
	l := &Listing{lim: limitsOrDefault(lim), first: map[string]*entry{}}
	var magic [2]byte
	gz := false
	if _, err := r.ReadAt(magic[:], 0); err == nil && detectCompression(magic[:]) == CompressionGzip {
		gz = true
	}
	stream := func() (*TarReader, func(), error) {
		if !gz {
			tr := NewTarReaderAt(r, size)
			tr.SetLimits(&l.lim)
			return tr, func() {}, nil
		}
		zr, _, err := Decompress(io.NewSectionReader(r, 0, size), &l.lim)
		if err != nil {
			return nil, nil, fmt.Errorf("reading gzip header: %w", err)
		}
		tr := NewTarReader(zr)
		tr.SetLimits(&l.lim)
		return tr, func() { zr.Close() }, nil
	}
	kept := map[int][]byte{}
	l.open = func(i int, name string) (io.ReadCloser, error) {
		if b, ok := kept[i]; ok {
			return io.NopCloser(bytes.NewReader(b)), nil
		}
		if !gz {
			e := l.entries[i]
			return io.NopCloser(io.NewSectionReader(r, e.offset, e.Size)), nil
		}
		tr, closeTR, err := stream()
		if err != nil {
			return nil, err
		}
		for j := 0; ; j++ {
			if _, err := tr.Next(); err != nil {
				closeTR()
				return nil, fmt.Errorf("%s: rereading archive: %w", name, err)
			}
			if j == i {
				return readCloser{tr, closeTR}, nil
			}
		}
	}
	// A plain tar is read in place, so entry data is skipped, not read; a
	// gzipped one is read once, keeping small entries in memory.
	tr, closeTR, err := stream()
	if err != nil {
		return nil, err
	}
	defer closeTR()
	var keptBytes int64
	seen := map[string]bool{}
	var lastEnd int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			l.problem(ProblemTruncated, "archive", fmt.Sprintf("archive is not a complete tar archive: %v", err))
			return l, nil
		}
		if len(l.entries) >= l.lim.ArchiveEntries {
			l.problem(ProblemLimit, "archive", limits.Exceeded(limits.ArchiveEntries, int64(l.lim.ArchiveEntries), "archive").Error())
			return l, nil
		}
		name, safe := cleanName(h.Name)
		e := Entry{Name: name, Raw: h.Name, Safe: safe, Type: h.Typeflag, Size: h.Size, Linkname: h.Linkname, offset: tr.Pos()}
		if e.Type == 0 { // pre-POSIX regular file
			e.Type = tar.TypeReg
		}
		if e.Type == tar.TypeDir && name == "." {
			e.Safe = true // "./", as tar -C dir . writes it
		} else if !safe {
			l.problem(ProblemUnsafeName, h.Name, "archive entry name is absolute or leaves the archive root")
		}
		if seen[name] && e.Type != tar.TypeDir {
			l.problem(ProblemDuplicate, h.Name, "archive holds this name more than once; readers disagree on which copy wins")
		}
		seen[name] = true
		if e.Safe && e.Type != tar.TypeDir && l.first[name] == nil {
			l.first[name] = &entry{name: name, index: len(l.entries), typeflag: e.Type, linkname: e.Linkname, offset: e.offset, size: e.Size}
		}
		dataLen := h.Size
		if e.Type != tar.TypeReg {
			dataLen = 0
		}
		switch {
		case gz && e.Type == tar.TypeReg && h.Size <= keptEntry && keptBytes+h.Size <= keptTotal:
			b, err := io.ReadAll(tr)
			if err != nil {
				l.problem(ProblemTruncated, h.Name, fmt.Sprintf("archive is truncated: %v", err))
				l.entries = append(l.entries, e)
				return l, nil
			}
			keptBytes += h.Size
			kept[len(l.entries)] = b
		case gz:
			if _, err := io.Copy(io.Discard, tr); err != nil {
				l.problem(ProblemTruncated, h.Name, fmt.Sprintf("archive is truncated: %v", err))
				l.entries = append(l.entries, e)
				return l, nil
			}
		case e.offset+dataLen > size:
			l.problem(ProblemTruncated, h.Name, "archive is truncated inside this entry")
			l.entries = append(l.entries, e)
			return l, nil
		}
		lastEnd = e.offset + dataLen
		l.entries = append(l.entries, e)
	}
	if tail := tr.Pos() - blockAlign(lastEnd); tail < 1024 {
		l.problem(ProblemNoMarker, "archive", "archive ends without the two zero blocks of the end-of-archive marker")
	}
	if nz, err := tr.RestNonZero(); errors.Is(err, limits.ErrLimit) {
		l.problem(ProblemLimit, "archive", err.Error())
	} else if err != nil {
		l.problem(ProblemTruncated, "archive", fmt.Sprintf("reading after the end-of-archive marker: %v", err))
	} else if nz {
		l.problem(ProblemTrailing, "archive", "non-zero data follows the end-of-archive marker")
	}
	for _, e := range l.entries {
		if !e.Safe || e.Type != tar.TypeSymlink && e.Type != tar.TypeLink {
			continue
		}
		if _, err := resolveLinks(l.first, e.Name, l.lim.LinkHops); errors.Is(err, limits.ErrLimit) {
			l.problem(ProblemLimit, e.Raw, err.Error())
		} else if err != nil {
			l.problem(ProblemLink, e.Raw, err.Error())
		}
	}
	return l, nil
}

// readCloser reads an entry of a gzipped archive and releases its
// decompressor when closed.
type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error { r.close(); return nil }
