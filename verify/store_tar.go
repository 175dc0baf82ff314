package verify

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/internal/limits"
)

// tarIndex reads the headers of a tar archive once and records where each
// entry's data lies. Findings about the archive's structure go to v.
type tarIndex struct {
	entries map[string]*entry
	order   []string
}

func (ix *tarIndex) add(maxEntries int, hdr *tar.Header, offset int64) error {
	name, ok := cleanName(hdr.Name)
	if hdr.Typeflag == tar.TypeDir && name == "." {
		return nil // "./", as tar -C dir . writes it
	}
	if !ok {
		return &archiveError{CodeArchiveUnsafePath, hdr.Name, "entry name is absolute, contains .. or is otherwise unsafe"}
	}
	if len(ix.entries) >= maxEntries {
		return limits.Exceeded(limits.ArchiveEntries, int64(maxEntries), "archive")
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return nil
	case tar.TypeReg, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo, tar.TypeCont:
	default:
		return &archiveError{CodeArchiveInvalid, hdr.Name, fmt.Sprintf("unsupported entry type %q", hdr.Typeflag)}
	}
	if _, dup := ix.entries[name]; dup {
		return &archiveError{CodeArchiveDuplicateEntry, name, "the archive holds this name twice; readers disagree on which one wins"}
	}
	ix.entries[name] = &entry{name: name, index: len(ix.order), typeflag: hdr.Typeflag, linkname: hdr.Linkname, offset: offset, size: hdr.Size}
	ix.order = append(ix.order, name)
	return nil
}

func (ix *tarIndex) regularFiles() []string {
	var out []string
	for _, n := range ix.order {
		if e := ix.entries[n]; e.typeflag == tar.TypeReg || e.typeflag == tar.TypeLink || e.typeflag == tar.TypeSymlink {
			out = append(out, n)
		}
	}
	return out
}

// positionReader counts the bytes a tar.Reader consumed and lets it skip
// entry data by seeking, so that indexing reads headers only.
type positionReader struct {
	r   io.ReaderAt
	pos int64
	end int64
}

func (p *positionReader) Read(b []byte) (int, error) {
	if p.pos >= p.end {
		return 0, io.EOF
	}
	if rem := p.end - p.pos; int64(len(b)) > rem {
		b = b[:rem]
	}
	n, err := p.r.ReadAt(b, p.pos)
	p.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (p *positionReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		p.pos = off
	case io.SeekCurrent:
		p.pos += off
	case io.SeekEnd:
		p.pos = p.end + off
	}
	return p.pos, nil
}

// tarStore reads a plain tar through io.ReaderAt: headers once, then each
// entry independently, so blobs can be hashed in parallel.
type tarStore struct {
	r  io.ReaderAt
	ix *tarIndex
	v  *verifier
}

func indexTar(v *verifier, r io.ReaderAt, size int64) (*tarStore, error) {
	t := NewTarReaderAt(r, size)
	pr, tr := t.pr, t.tr
	ix := &tarIndex{entries: map[string]*entry{}}
	var f tarFrame
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			if err := f.eof(pr.pos, func() []byte { return readAtN(r, pr.pos-1024, 1024) }); err != nil {
				return nil, err
			}
			if err := paddingAt(r, &f); err != nil {
				return nil, err
			}
			break
		}
		if err != nil {
			return nil, f.readError(err, size)
		}
		if err := paddingAt(r, &f); err != nil {
			return nil, err
		}
		ustar := func() []byte { return readAtN(r, pr.pos-512, 512) }
		if err := v.checkHeader(hdr, pr.pos-f.end, ustar); err != nil {
			return nil, err
		}
		f.next(hdr, pr.pos)
		if f.dataEnd > size {
			return nil, f.cut(size)
		}
		if err := ix.add(v.lim.ArchiveEntries, hdr, pr.pos); err != nil {
			return nil, err
		}
	}
	if len(ix.entries) == 0 {
		return nil, &archiveError{CodeArchiveInvalid, "archive", "an empty tar archive"}
	}
	if err := v.checkTrailing(io.NewSectionReader(r, pr.pos, size-pr.pos), "archive"); err != nil {
		return nil, err
	}
	return &tarStore{r: r, ix: ix, v: v}, nil
}

// readAtN reads n bytes at off, or returns nil.
func readAtN(r io.ReaderAt, off int64, n int) []byte {
	if off < 0 {
		return nil
	}
	b := make([]byte, n)
	if m, err := r.ReadAt(b, off); m < n || (err != nil && err != io.EOF) {
		return nil
	}
	return b
}

// paddingAt checks that the padding after the last entry's data is zero.
func paddingAt(r io.ReaderAt, f *tarFrame) error {
	if f.end == f.dataEnd {
		return nil
	}
	if b := readAtN(r, f.dataEnd, int(f.end-f.dataEnd)); b == nil || !allZero(b) {
		return f.nonZeroPadding()
	}
	return nil
}

// checkHeader runs the checks both tar readers make on each entry: n, the
// bytes of its headers (the ustar block and any PAX or GNU long-name
// records before it), is bounded, and a PAX size must agree with the size
// in the ustar block that ustar returns.
func (v *verifier) checkHeader(hdr *tar.Header, n int64, ustar func() []byte) error {
	if n > v.lim.TarHeader {
		return limits.Exceeded(limits.TarHeader, v.lim.TarHeader, hdr.Name)
	}
	if err := checkSize(hdr); err != nil {
		return err
	}
	if _, pax := hdr.PAXRecords["size"]; pax {
		return checkUstarSize(hdr, ustar())
	}
	return nil
}

// checkUstarSize compares the size in an entry's ustar header block with
// the PAX size that overrides it. Go's archive/tar and GNU tar read the PAX
// size, some other parsers the ustar one, so when both are present they
// must agree, or two readers see two different archives.
func checkUstarSize(hdr *tar.Header, block []byte) error {
	if len(block) < 512 || block[124]&0x80 != 0 {
		return nil // base-256 sizes are not ambiguous with PAX
	}
	field := strings.Trim(string(block[124:136]), " \x00")
	if field == "" {
		field = "0"
	}
	ustar, err := strconv.ParseInt(field, 8, 64)
	if err != nil || ustar == hdr.Size {
		return nil
	}
	return &archiveError{CodeArchiveAmbiguous, hdr.Name,
		fmt.Sprintf("the ustar header says %d bytes but the PAX record says %d; tar readers disagree on where this entry ends", ustar, hdr.Size)}
}

// blockAlign rounds n up to the tar block size.
func blockAlign(n int64) int64 { return (n + 511) &^ 511 }

// checkTrailing reads what follows the tar end-of-archive marker to the
// end of the input, so that an outer gzip stream is checked to its
// trailer. Zero padding is what tar writes to fill its last record;
// anything else is a warning, since some extractors read past the marker.
// A read error fails: for a gzipped archive, a cut, a trailer that does not
// match (CRC-32, ISIZE) or bytes after the last gzip member. More than
// limits.ArchiveTail bytes (decompressed) is a limit: a gzip stream can
// inflate a short tail of zeros without end.
func (v *verifier) checkTrailing(r io.Reader, name string) error {
	nonZero, err := trailingNonZero(r, v.lim.ArchiveTail, name)
	if err != nil {
		return outerStreamError(err, name)
	}
	if nonZero {
		v.report.Add(Finding{Code: CodeArchiveTrailingData, Path: "archive",
			Message: "non-zero bytes follow the tar end-of-archive marker; some extractors read them"})
	}
	return nil
}

// outerStreamError maps an error from the input after the tar's end: a
// cut or damaged outer gzip stream fails the archive.
func outerStreamError(err error, name string) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &archiveError{CodeArchiveTruncated, name, "the outer gzip stream ends early: its trailer (CRC-32 and ISIZE) or a member header is cut"}
	case errors.Is(err, gzip.ErrChecksum):
		return &archiveError{CodeDecompress, name, "outer gzip trailer: the CRC-32 or ISIZE does not match the decompressed archive"}
	case errors.Is(err, errAfterLastMember):
		return &archiveError{CodeDecompress, name, "outer gzip stream: bytes after the last gzip member that are not another member"}
	case errors.Is(err, gzip.ErrHeader):
		return &archiveError{CodeDecompress, name, "outer gzip stream: a member header that is not valid"}
	case errors.Is(err, errCorruptDeflate), errors.As(err, &corrupt):
		return &archiveError{CodeDecompress, name, "outer gzip stream: corrupt deflate data after the tar's end"}
	}
	return err
}

// trailingNonZero reads r to its end and reports whether any byte was not
// zero, and the first read error other than io.EOF. Past limit bytes it
// stops with a *limits.Error naming what.
func trailingNonZero(r io.Reader, limit int64, what string) (bool, error) {
	buf := make([]byte, 32<<10)
	nonZero := false
	var n int64
	lr := &io.LimitedReader{R: r, N: limit + 1}
	for {
		m, err := lr.Read(buf)
		n += int64(m)
		if n > limit {
			return nonZero, limits.Exceeded(limits.ArchiveTail, limit, what)
		}
		if !nonZero && !allZero(buf[:m]) {
			nonZero = true
		}
		if err == io.EOF {
			return nonZero, nil
		}
		if err != nil {
			return nonZero, err
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func (s *tarStore) section(name string) (*io.SectionReader, error) {
	e, err := resolveLinks(s.ix.entries, name, s.v.lim.LinkHops)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(s.r, e.offset, e.size), nil
}

func (s *tarStore) readFile(name string, limit int64) ([]byte, error) {
	sr, err := s.section(name)
	if err != nil {
		return nil, err
	}
	return readAllLimit(sr, limit, limits.ArchiveMetadata, name)
}

func (s *tarStore) blob(ctx context.Context, job blobJob) (*evidence, error) {
	sr, err := s.section(job.name)
	if err != nil {
		return nil, err
	}
	return streamBlob(ctx, sr, job, &s.v.lim, s.v.progress), nil
}

func (s *tarStore) files() []string         { return s.ix.regularFiles() }
func (s *tarStore) isLink(name string) bool { return isLinkEntry(s.ix.entries, name) }
func (s *tarStore) concurrent() bool        { return true }
func (s *tarStore) size(name string) int64  { return entrySize(s.ix.entries, name, s.v.lim.LinkHops) }

// streamStore reads a tar that can only be read once (a gzipped archive):
// every entry is hashed as it passes, and small JSON-looking entries are
// kept for the document walk.
type streamStore struct {
	ix        *tarIndex
	evidences map[string]*evidence
	kept      map[string][]byte
	// unkept are the documents left out past limits.StreamDocuments.
	unkept map[string]bool
	v      *verifier
}

func indexStream(ctx context.Context, v *verifier, r io.Reader) (*streamStore, error) {
	t := NewTarReader(r)
	fr, tr := t.fr, t.tr
	var f tarFrame
	s := &streamStore{ix: &tarIndex{entries: map[string]*entry{}}, evidences: map[string]*evidence{}, kept: map[string][]byte{}, unkept: map[string]bool{}, v: v}
	var keptBytes int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			if err := f.eof(fr.n, fr.tail); err != nil {
				return nil, err
			}
			if fr.dirty {
				return nil, f.nonZeroPadding()
			}
			break
		}
		if err != nil {
			return nil, f.readError(err, fr.n)
		}
		if fr.dirty {
			return nil, f.nonZeroPadding()
		}
		if err := v.checkHeader(hdr, fr.n-f.end, fr.block); err != nil {
			return nil, err
		}
		f.next(hdr, fr.n)
		fr.watchPadding(f.dataEnd, f.end)
		if err := s.ix.add(v.lim.ArchiveEntries, hdr, 0); err != nil {
			return nil, err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name, _ := cleanName(hdr.Name)
		algs := []digest.Algorithm{digest.SHA256}
		if strings.HasPrefix(name, "blobs/sha512/") {
			algs = append(algs, digest.SHA512)
		}
		var keep *bytes.Buffer
		var src io.Reader = tr
		switch {
		case hdr.Size > v.lim.ArchiveMetadata:
		case keptBytes+hdr.Size > v.lim.StreamDocuments:
			s.unkept[name] = true
		default:
			keep = &bytes.Buffer{}
			src = io.TeeReader(tr, keep)
		}
		ev := streamBlob(ctx, src, blobJob{name: name, algs: algs, diffAlgs: algs, max: -1, total: hdr.Size, content: v.contentFor(name), eng: v.eng}, &v.lim, v.progress)
		if ev.readErr != nil {
			return nil, f.readError(ev.readErr, fr.n)
		}
		s.evidences[name] = ev
		if keep != nil && (looksLikeJSON(keep.Bytes()) || rootMetadata[name]) {
			s.kept[name] = keep.Bytes()
			keptBytes += int64(keep.Len())
		}
	}
	if len(s.ix.entries) == 0 {
		return nil, &archiveError{CodeArchiveInvalid, "archive", "an empty tar archive"}
	}
	if err := v.checkTrailing(r, "archive"); err != nil {
		return nil, err
	}
	return s, nil
}

// rootMetadata are the archive's own documents, kept whatever they hold so
// that a one-pass read judges them as a seekable read does (a manifest.json
// of "null" is invalid either way, not unreadable).
var rootMetadata = map[string]bool{"manifest.json": true, "index.json": true, "oci-layout": true, "repositories": true}

func looksLikeJSON(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

func (s *streamStore) resolve(name string) (string, error) {
	e, err := resolveLinks(s.ix.entries, name, s.v.lim.LinkHops)
	if err != nil {
		return "", err
	}
	return e.name, nil
}

func (s *streamStore) readFile(name string, limit int64) ([]byte, error) {
	n, err := s.resolve(name)
	if err != nil {
		return nil, err
	}
	b, ok := s.kept[n]
	if !ok {
		if e := s.ix.entries[n]; e != nil && e.size > limit {
			return nil, limits.Exceeded(limits.ArchiveMetadata, limit, name)
		}
		if s.unkept[n] {
			return nil, limits.Exceeded(limits.StreamDocuments, s.v.lim.StreamDocuments, name)
		}
		return nil, fmt.Errorf("%s: not a JSON document", name)
	}
	if int64(len(b)) > limit {
		return nil, limits.Exceeded(limits.ArchiveMetadata, limit, name)
	}
	return b, nil
}

func (s *streamStore) blob(_ context.Context, job blobJob) (*evidence, error) {
	n, err := s.resolve(job.name)
	if err != nil {
		return nil, err
	}
	ev, ok := s.evidences[n]
	if !ok {
		return nil, fmt.Errorf("%s: %w", job.name, fs.ErrNotExist)
	}
	return ev, nil
}

func (s *streamStore) files() []string         { return s.ix.regularFiles() }
func (s *streamStore) isLink(name string) bool { return isLinkEntry(s.ix.entries, name) }
func (s *streamStore) concurrent() bool        { return false }
func (s *streamStore) size(name string) int64  { return entrySize(s.ix.entries, name, s.v.lim.LinkHops) }

// entrySize is the size of the entry that name resolves to, or 0.
func entrySize(entries map[string]*entry, name string, hops int) int64 {
	if e, err := resolveLinks(entries, name, hops); err == nil {
		return e.size
	}
	return 0
}
