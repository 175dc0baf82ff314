package verify

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/imgproof/imgproof/internal/limits"
)

// store is the verifier's view of a source: named regular files. Names are
// slash-separated and clean. Missing files give fs.ErrNotExist.
type store interface {
	// readFile returns a small file whole, or a *limits.Error past limit.
	readFile(name string, limit int64) ([]byte, error)
	// blob streams a file once and returns what it recomputed.
	blob(ctx context.Context, job blobJob) (*evidence, error)
	// files lists every regular file (after links are resolved).
	files() []string
	// concurrent reports whether blobs may be streamed in parallel.
	concurrent() bool
	// isLink reports whether name is a symbolic or hard link.
	isLink(name string) bool
	// size is a file's size, for progress and scheduling only, or 0 when
	// it is not known before the file is read.
	size(name string) int64
}

// readAllLimit reads r whole, failing past limit bytes.
func readAllLimit(r io.Reader, limit int64, kind limits.Kind, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, limits.Exceeded(kind, limit, name)
	}
	return b, nil
}

// fsStore reads an fs.FS: a layout directory, an unpacked archive, or a
// registry adapter that looks like a layout.
type fsStore struct {
	fsys fs.FS
	v    *verifier
}

func (s *fsStore) open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, fmt.Errorf("%s: %w", name, fs.ErrInvalid)
	}
	if err := s.noLinks(name); err != nil {
		return nil, err
	}
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file (%s)", name, st.Mode().Type())
	}
	return f, nil
}

// noLinks refuses a name any part of which is a symbolic link: a layout
// whose blobs/ or blobs/sha256 is a link reads files from wherever the
// link points, which may be outside the layout.
func (s *fsStore) noLinks(name string) error {
	lfs, ok := s.fsys.(fs.ReadLinkFS)
	if !ok {
		return nil
	}
	for p := name; p != "." && p != "/"; p = path.Dir(p) {
		if st, err := lfs.Lstat(p); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			what := "a symbolic link in an image layout"
			if p != name {
				what = "a directory of the image layout that is a symbolic link, which " + name + " is read through"
			}
			return &archiveError{CodeArchiveLink, p, what}
		}
	}
	return nil
}

func (s *fsStore) readFile(name string, limit int64) ([]byte, error) {
	f, err := s.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllLimit(f, limit, limits.ArchiveMetadata, name)
}

func (s *fsStore) blob(ctx context.Context, job blobJob) (*evidence, error) {
	f, err := s.open(job.name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return streamBlob(ctx, f, job, &s.v.lim, s.v.progress), nil
}

func (s *fsStore) files() []string {
	var out []string
	_ = fs.WalkDir(s.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			out = append(out, p)
		}
		if len(out) > s.v.lim.ArchiveEntries {
			return fs.SkipAll
		}
		return nil
	})
	return out
}

func (s *fsStore) concurrent() bool { return true }

// isLink is false: fsStore.open refuses symbolic links outright.
func (s *fsStore) isLink(string) bool { return false }

func (s *fsStore) size(name string) int64 {
	if st, err := fs.Stat(s.fsys, name); err == nil && st.Mode().IsRegular() {
		return st.Size()
	}
	return 0
}

// entry is one file of a tar archive.
type entry struct {
	name     string
	index    int // position in the archive
	typeflag byte
	linkname string
	offset   int64
	size     int64
}

// cleanName normalises an archive entry name and reports whether it is
// safe: relative, without "..", and not empty.
func cleanName(name string) (string, bool) {
	if strings.ContainsRune(name, 0) || strings.Contains(name, "\\") {
		return name, false
	}
	if strings.HasPrefix(name, "/") {
		return name, false
	}
	c := path.Clean(name)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return c, false
	}
	return c, true
}

// isLinkEntry reports whether an archive entry is a symbolic or hard link.
func isLinkEntry(entries map[string]*entry, name string) bool {
	e, ok := entries[name]
	return ok && (e.typeflag == '1' || e.typeflag == '2')
}

// resolveLinks follows symlinks and hardlinks inside the archive, bounded
// by limits.LinkHops, and returns the final regular entry.
func resolveLinks(entries map[string]*entry, name string, hops int) (*entry, error) {
	seen := map[string]bool{}
	for i := 0; ; i++ {
		e, ok := entries[name]
		if !ok {
			return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
		}
		switch e.typeflag {
		case '0', 0, '7': // regular
			return e, nil
		case '1', '2': // hardlink, symlink
		default:
			return nil, &archiveError{CodeArchiveLink, name, fmt.Sprintf("entry type %q is not a regular file", e.typeflag)}
		}
		if i >= hops {
			return nil, limits.Exceeded(limits.LinkHops, int64(hops), name)
		}
		if seen[name] {
			return nil, &archiveError{CodeArchiveLink, name, "link cycle"}
		}
		seen[name] = true
		c, ok := linkTarget(name, e.typeflag, e.linkname)
		if !ok {
			return nil, &archiveError{CodeArchiveLink, name, fmt.Sprintf("link to %q leaves the archive", e.linkname)}
		}
		// A hard link names a file already extracted: one that comes
		// later cannot be resolved by a reader that streams the archive.
		if t, ok := entries[c]; ok && e.typeflag == '1' && t.index > e.index {
			return nil, &archiveError{CodeArchiveLink, name, fmt.Sprintf("hard link to %s, which comes later in the archive; a reader that streams it cannot resolve the link", c)}
		}
		name = c
	}
}

// archiveError is a structural problem with an outer archive.
type archiveError struct {
	code Code
	name string
	msg  string
}

func (e *archiveError) Error() string { return e.name + ": " + e.msg }

// linkTarget is the clean name a link entry points to; see LinkTarget.
func linkTarget(name string, typeflag byte, linkname string) (string, bool) {
	target := linkname
	if typeflag == '2' && !strings.HasPrefix(target, "/") {
		target = path.Join(path.Dir(name), target)
	}
	return cleanName(target)
}
