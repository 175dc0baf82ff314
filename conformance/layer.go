package conformance

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// Violation is one layer-content rule broken by one tar entry.
type Violation struct {
	Rule string
	id   ruleID
	// Entry is the tar entry name as stored; empty for the whole stream.
	Entry   string
	Message string
}

// layerRules are the rules CheckLayer evaluates.
var layerRules = []ruleID{ociLAYER001, ociLAYER002, ociLAYER004, ociLAYER005, ociLAYER006,
	ociLAYER007, ociLAYER008, ociLAYER009, ociLAYER011, ociLAYER012, ociLAYER013,
	ociLAYER014, ociLAYER015, ociLAYER016, ociLAYER017}

// maxViolations caps the violations reported for one layer. It is a cap
// on the report's length, not a bound on input, and so not a limit: what
// is read is bounded by limits.LayerEntries, limits.TarHeader and
// limits.ArchiveTail, and a limit that ends the check is always reported.
const maxViolations = 100

const opaqueName = ".wh..wh..opq"

// CheckLayer reads an uncompressed layer tar stream to its end and returns
// the layer-content rules it breaks: tar well-formedness, the end-of-archive
// marker and data after it, duplicate paths, whiteout semantics, path
// safety, sparse files, and PAX and GNU extension headers. Memory grows with
// the number of entries, not their size; nothing is written to disk.
func CheckLayer(r io.Reader) []Violation {
	lim := limits.Default()
	return checkLayer(r, &lim)
}

// checkLayer is CheckLayer under lim: its layer entries and tar headers.
func checkLayer(r io.Reader, lim *limits.Limits) []Violation {
	lc := &layerCheck{lim: lim, names: map[string]int{}, whiteouts: map[string]string{}, dirsSeen: map[string]bool{}, symlinks: map[string]bool{}}
	lc.run(r)
	return lc.out
}

type layerCheck struct {
	lim       *limits.Limits
	out       []Violation
	names     map[string]int    // cleaned name -> count
	whiteouts map[string]string // hidden path -> whiteout entry name
	dirsSeen  map[string]bool   // directories that already hold a sibling directory entry
	symlinks  map[string]bool   // symlinks of this layer
}

func (lc *layerCheck) add(rule ruleID, entry, format string, args ...any) {
	if len(lc.out) >= maxViolations {
		return
	}
	lc.out = append(lc.out, Violation{Rule: rule.String(), id: rule, Entry: entry, Message: fmt.Sprintf(format, args...)})
}

// limit reports a limit that ended the check, past maxViolations too:
// what was not read was not checked.
func (lc *layerCheck) limit(err error) {
	lc.out = append(lc.out, Violation{Rule: imgproofLIMIT001.String(), id: imgproofLIMIT001, Message: fmt.Sprintf("%v; the rest was not checked", err)})
}

func (lc *layerCheck) run(r io.Reader) {
	tr := verify.NewTarReader(r)
	tr.SetLimits(lc.lim)
	var raw []Violation // OCI-LAYER-016, from the raw header blocks
	rawOn := true
	defer func() { lc.out = append(lc.out, raw...) }()
	var lastEnd int64
	var entries []struct{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			switch {
			case errors.Is(err, io.ErrUnexpectedEOF):
				lc.add(ociLAYER001, "", "tar stream is truncated: %v", err)
			default:
				lc.add(ociLAYER001, "", "not a valid tar archive after %d entries: %v", len(entries), err)
			}
			_, _ = io.Copy(io.Discard, tr.Rest())
			return
		}
		if len(entries) >= lc.lim.LayerEntries {
			lc.limit(limits.Exceeded(limits.LayerEntries, int64(lc.lim.LayerEntries), "layer"))
			_, _ = io.Copy(io.Discard, tr.Rest())
			return
		}
		if rawOn {
			rawOn = rawHeader(h, tr.Block(), &raw)
		}
		lc.entry(h)
		entries = append(entries, struct{}{})
		if _, err := io.Copy(io.Discard, tr); err != nil {
			lc.add(ociLAYER001, h.Name, "entry data is truncated: %v", err)
			_, _ = io.Copy(io.Discard, tr.Rest())
			return
		}
		lastEnd = tr.Pos()
	}
	if len(entries) > 0 || tr.Pos() > 0 {
		if tail := tr.Pos() - verify.BlockAlign(lastEnd); tail < 1024 {
			lc.add(ociLAYER001, "", "tar stream ends without the end-of-archive marker (two zero blocks)")
		}
	} else {
		lc.add(ociLAYER001, "", "layer is empty: a tar archive holds at least its end-of-archive marker")
	}
	nz, err := tr.RestNonZero()
	switch {
	case errors.Is(err, limits.ErrLimit):
		lc.limit(err)
	case err != nil:
		lc.add(ociLAYER001, "", "reading after the end-of-archive marker: %v", err)
	case nz:
		lc.add(ociLAYER001, "", "non-zero data follows the tar end-of-archive marker; tar readers ignore it but it changes the diff_id")
	}
	lc.sameLayerWhiteouts()
}

func (lc *layerCheck) entry(h *tar.Header) {
	name := h.Name
	// Path safety.
	n := strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(n, "/") {
		lc.add(ociLAYER011, name, "entry name is absolute")
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			lc.add(ociLAYER011, name, "entry name has a .. component")
			break
		}
	}
	if strings.ContainsRune(name, 0) {
		lc.add(ociLAYER011, name, "entry name holds a NUL byte")
	}
	clean := strings.TrimPrefix(path.Clean("/"+n), "/")

	// Types.
	switch h.Typeflag {
	case tar.TypeReg, typeRegA, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	case tar.TypeGNUSparse:
		lc.add(ociLAYER004, name, "GNU sparse entry")
	case tar.TypeXGlobalHeader:
		lc.add(ociLAYER015, name, "PAX global header: tar readers disagree on whether it applies to later entries")
		return
	case 'V', 'M':
		lc.add(ociLAYER015, name, "GNU volume or multi-volume header %q", string(h.Typeflag))
		return
	default:
		lc.add(ociLAYER014, name, "entry type %q is not a file type a layer can hold", string(h.Typeflag))
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			lc.add(ociLAYER004, name, "PAX sparse file record %s", k)
			break
		}
	}

	// Links.
	switch h.Typeflag {
	case tar.TypeLink:
		t := strings.ReplaceAll(h.Linkname, "\\", "/")
		if strings.HasPrefix(t, "/") || climbs(t) {
			lc.add(ociLAYER012, name, "hard link target %q is outside the root", h.Linkname)
		}
	case tar.TypeSymlink:
		t := h.Linkname
		if !strings.HasPrefix(t, "/") && climbs(path.Join(path.Dir(clean), t)) {
			lc.add(ociLAYER013, name, "symlink target %q climbs above the root", h.Linkname)
		}
	}

	// Entries below a symlink of the same layer: a naive extractor writes
	// them wherever the link points.
	for q := path.Dir(clean); q != "." && q != "/" && q != ""; q = path.Dir(q) {
		if lc.symlinks[q] {
			lc.add(ociLAYER017, name, "entry is below %s, a symlink of the same layer", q)
			break
		}
	}
	if h.Typeflag == tar.TypeSymlink {
		lc.symlinks[clean] = true
	}

	// Duplicates.
	if clean != "" {
		lc.names[clean]++
		if lc.names[clean] == 2 {
			lc.add(ociLAYER002, name, "path %s appears more than once; extractors disagree on which entry wins", clean)
		}
	}

	// Whiteouts.
	dir, base := path.Split(clean)
	dir = strings.TrimSuffix(dir, "/")
	if strings.HasPrefix(base, ".wh.") {
		if h.Typeflag != tar.TypeReg && h.Typeflag != typeRegA || h.Size != 0 {
			lc.add(ociLAYER006, name, "whiteout is not an empty regular file")
		}
		switch {
		case base == opaqueName:
			lc.add(ociLAYER009, name, "opaque whiteout; explicit whiteouts are preferred")
		case strings.HasPrefix(base, ".wh..wh.") || base == ".wh.":
			lc.add(ociLAYER007, name, "reserved .wh. name that is neither a whiteout nor the opaque marker")
		default:
			lc.whiteouts[path.Join(dir, strings.TrimPrefix(base, ".wh."))] = name
		}
		if lc.dirsSeen[dir] {
			lc.add(ociLAYER008, name, "whiteout comes after a sibling directory entry")
		}
		return
	}
	if h.Typeflag == tar.TypeDir {
		lc.dirsSeen[dir] = true
	}
}

// sameLayerWhiteouts fails whiteouts that hide entries of their own layer.
func (lc *layerCheck) sameLayerWhiteouts() {
	names := make([]string, 0, len(lc.names))
	for p := range lc.names {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		for q := p; q != "." && q != ""; q = path.Dir(q) {
			if wh, ok := lc.whiteouts[q]; ok {
				lc.add(ociLAYER005, wh, "whiteout hides %s, which is in the same layer", p)
				break
			}
		}
	}
}

// climbs reports whether a relative slash path leaves its root.
func climbs(p string) bool {
	depth := 0
	for _, part := range strings.Split(p, "/") {
		switch part {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// typeRegA is the pre-POSIX regular-file type flag ('\x00'); tar.Reader
// reports such entries as tar.TypeReg, but the flag is kept for clarity.
const typeRegA byte = 0
