package conformance

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// Files is the listing of a source that the rules read: the verifier's
// source layer (verify.Listing), with its name and link rules, and the
// problems it met mapped to rule IDs.
type Files struct {
	*verify.Listing
}

// Problem is a defect of the source found while listing it.
type Problem struct {
	Rule          ruleID
	Path, Message string
}

// problemRules maps the source layer's listing problems to rules.
var problemRules = map[verify.ProblemKind]ruleID{
	verify.ProblemDuplicate:  imgproofARCH001,
	verify.ProblemUnsafeName: imgproofARCH002,
	verify.ProblemLink:       imgproofARCH002,
	verify.ProblemTruncated:  imgproofARCH003,
	verify.ProblemNoMarker:   imgproofARCH004,
	verify.ProblemTrailing:   imgproofARCH004,
	verify.ProblemLimit:      imgproofLIMIT001,
}

// Problems lists the archive-level defects found while listing, by rule.
func (f *Files) Problems() []Problem {
	var out []Problem
	for _, p := range f.Listing.Problems() {
		out = append(out, Problem{problemRules[p.Kind], p.Path, p.Message})
	}
	return out
}

// FromFS returns the files of a directory tree under lim (nil means
// limits.Default()).
func FromFS(fsys fs.FS, lim *limits.Limits) (*Files, error) {
	l, err := verify.ListFS(fsys, lim)
	if err != nil {
		return nil, err
	}
	return &Files{l}, nil
}

// FromArchive lists a tar archive, plain or gzipped, held in r, under lim
// (nil means limits.Default()). Entry contents are read on demand;
// nothing is written to disk.
func FromArchive(r io.ReaderAt, size int64, lim *limits.Limits) (*Files, error) {
	l, err := verify.ListArchive(r, size, lim)
	if err != nil {
		return nil, err
	}
	return &Files{l}, nil
}

// errNotFound words a name the source does not hold, or cannot hold
// (one that leaves the root), in the rules' messages.
var errNotFound = errors.New("no such file")

// readAll reads a whole file under a limit of the given kind.
func readAll(f *Files, name string, kind limits.Kind, limit int64) ([]byte, error) {
	b, err := f.ReadFile(name, kind, limit)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
		return nil, fmt.Errorf("%s: %w", name, errNotFound)
	}
	return b, err
}
