package verify

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/imgproof/imgproof/internal/limits"
)

// This file exports the verifier's source layer to the packages above it
// (conformance, imagecopy, compare): the one tar reader with its framing
// and its name and link rules, compression detection and the
// decompressors; Listing (listing.go) and Graph (graph.go) build on them.
// They read sources through it instead of parsers of their own, so that no
// two of them can see two different archives.

// DetectCompression names the compression of a stream from its first
// bytes (four are enough): CompressionGzip, CompressionZstd,
// CompressionNone, or the name of an unsupported format ("xz", "bzip2").
func DetectCompression(head []byte) string { return detectCompression(head) }

// Decompress detects the compression of r from its first bytes and
// returns the decompressed stream with the compression's name. gzip may
// have several members; zstd is bounded by limits.ZstdWindow and
// limits.LayerDecompressed. Input that is neither comes back as it is,
// named as DetectCompression names it. Close releases the decompressor.
func Decompress(r io.Reader, lim *limits.Limits) (io.ReadCloser, string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	switch c := detectCompression(head); c {
	case CompressionGzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, c, err // gzip's errors name it
		}
		return zr, c, nil
	case CompressionZstd:
		zr, err := newZstd(br, lim)
		if err != nil {
			return nil, c, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), c, nil
	default:
		return io.NopCloser(br), c, nil
	}
}

// newZstd is the zstd decoder every reader uses: one goroutine, low
// memory, the window and output bounded by the limits.
func newZstd(r io.Reader, lim *limits.Limits) (*zstd.Decoder, error) {
	return zstd.NewReader(r,
		zstd.WithDecoderMaxWindow(lim.ZstdWindow),
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(uint64(lim.LayerDecompressed)))
}

// CleanName normalises a tar entry name and reports whether it is safe:
// relative, without "..", backslashes or NUL, and not empty. Every reader
// of archives names entries by it.
func CleanName(name string) (string, bool) { return cleanName(name) }

// LinkTarget is the archive's link rule: the clean name that a hard link
// (tar.TypeLink) or symbolic link (tar.TypeSymlink) entry called name
// points to, and false when the target leaves the archive. A symbolic
// link is relative to its directory, a hard link to the archive root.
func LinkTarget(name string, typeflag byte, linkname string) (string, bool) {
	return linkTarget(name, typeflag, linkname)
}

// TarReader reads a tar stream with archive/tar and tells where it is: the
// offset of each entry's data, and the raw ustar header block of the entry,
// for rules about fields that readers interpret differently. It adds no
// rules of its own; the verifier's framing rules run over the same reader.
type TarReader struct {
	tr *tar.Reader
	fr *frameReader    // a stream
	pr *positionReader // or an io.ReaderAt
	ra io.ReaderAt
	// tail bounds what RestNonZero reads: limits.ArchiveTail.
	tail int64
}

// NewTarReader reads the tar stream r, once, front to back, under the
// default limits until SetLimits or IndexTar gives it others.
func NewTarReader(r io.Reader) *TarReader {
	fr := &frameReader{r: r}
	return &TarReader{tr: tar.NewReader(fr), fr: fr, tail: limits.Default().ArchiveTail}
}

// NewTarReaderAt reads the tar archive of size bytes in r, skipping entry
// data that is not read instead of reading it.
func NewTarReaderAt(r io.ReaderAt, size int64) *TarReader {
	pr := &positionReader{r: r, end: size}
	return &TarReader{tr: tar.NewReader(pr), pr: pr, ra: r, tail: limits.Default().ArchiveTail}
}

// SetLimits bounds the reader by lim: what follows the end-of-archive
// marker may be at most lim.ArchiveTail bytes.
func (t *TarReader) SetLimits(lim *limits.Limits) { t.tail = lim.ArchiveTail }

// Next advances to the next entry, as tar.Reader.Next does; io.EOF at the
// end-of-archive marker or at the end of the input.
func (t *TarReader) Next() (*tar.Header, error) { return t.tr.Next() }

// Read reads the data of the current entry.
func (t *TarReader) Read(p []byte) (int, error) { return t.tr.Read(p) }

// Pos is the number of bytes of tar input consumed: after Next, the
// offset of the entry's data.
func (t *TarReader) Pos() int64 {
	if t.fr != nil {
		return t.fr.n
	}
	return t.pr.pos
}

// Block is the ustar header block of the entry Next last returned, as
// stored (the block after any PAX or GNU extension headers), or nil.
func (t *TarReader) Block() []byte {
	if t.fr != nil {
		if b := t.fr.block(); len(b) == 512 {
			return b
		}
		return nil
	}
	return readAtN(t.ra, t.pr.pos-512, 512)
}

// Rest reads the input from where the tar reader stopped to its end, so
// that what follows the end-of-archive marker can be checked.
func (t *TarReader) Rest() io.Reader {
	if t.fr != nil {
		return t.fr
	}
	return t.pr
}

// RestNonZero reads the input from where the tar reader stopped to its
// end and reports whether any byte was not zero, and the first read error
// (for a gzipped archive, a cut or a trailer that does not match). More
// than limits.ArchiveTail bytes, decompressed, give a *limits.Error.
func (t *TarReader) RestNonZero() (bool, error) {
	return trailingNonZero(t.Rest(), t.tail, "after the end-of-archive marker")
}

// BlockAlign rounds a tar stream offset up to the 512-byte block size.
func BlockAlign(n int64) int64 { return blockAlign(n) }

// TarIndex is the index of a tar archive under the verifier's rules for
// outer archives: every name clean and safe, none twice, only files,
// links and devices (directories are left out), at most
// limits.ArchiveEntries of them, and links resolved within the archive in
// at most limits.LinkHops hops.
type TarIndex struct {
	ix   tarIndex
	hops int
}

// IndexTar reads the headers of t to its end, and sets its limits to lim.
// Entry data is skipped.
func IndexTar(t *TarReader, lim *limits.Limits) (*TarIndex, error) {
	t.SetLimits(lim)
	x := &TarIndex{ix: tarIndex{entries: map[string]*entry{}}, hops: lim.LinkHops}
	for {
		hdr, err := t.Next()
		if err == io.EOF {
			return x, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		if err := x.ix.add(lim.ArchiveEntries, hdr, t.Pos()); err != nil {
			return nil, err
		}
	}
}

// Resolve follows links from name to a regular entry and returns where
// its data lies in the tar stream. A name not in the archive gives an
// error that matches fs.ErrNotExist.
func (x *TarIndex) Resolve(name string) (offset, size int64, err error) {
	e, err := resolveLinks(x.ix.entries, name, x.hops)
	if err != nil {
		return 0, 0, err
	}
	return e.offset, e.size, nil
}
