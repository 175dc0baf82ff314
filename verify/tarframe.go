package verify

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// tarFrame is the one truncation model for tar input, applied by both tar
// readers (indexed and one-pass): every entry's header, its declared data,
// the zero padding up to the next 512-byte block and the end-of-archive
// marker (two zero blocks) must all be there. archive/tar alone accepts an
// archive cut at a block boundary, or inside padding, as a complete one.
// A cut anywhere is E_ARCHIVE_TRUNCATED naming the entry it hits.
type tarFrame struct {
	last    string // the last entry whose header was read, or ""
	size    int64  // its declared size
	dataEnd int64  // where its data ends
	end     int64  // where its padding ends: where the next header starts
}

// next records an entry whose data starts at off.
func (f *tarFrame) next(hdr *tar.Header, off int64) {
	f.last, f.size = hdr.Name, hdr.Size
	f.dataEnd = off + physicalSize(hdr)
	f.end = off + blockAlign(physicalSize(hdr))
}

// physicalSize is the number of data bytes that follow an entry's header:
// archive/tar reads links, directories and devices as header only,
// whatever size they declare.
func physicalSize(hdr *tar.Header) int64 {
	if headerOnly(hdr.Typeflag) {
		return 0
	}
	return hdr.Size
}

func headerOnly(t byte) bool {
	switch t {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
		return true
	}
	return false
}

// checkSize rejects a header-only entry that declares data: readers that
// skip the declared bytes and readers that do not (archive/tar) see two
// different archives after it.
func checkSize(hdr *tar.Header) error {
	if hdr.Size < 0 {
		return &archiveError{CodeArchiveInvalid, hdr.Name, "negative entry size"}
	}
	if headerOnly(hdr.Typeflag) && hdr.Size != 0 {
		return &archiveError{CodeArchiveAmbiguous, hdr.Name,
			fmt.Sprintf("a %s entry that declares %d bytes of data; tar readers disagree on whether they follow", typeName(hdr.Typeflag), hdr.Size)}
	}
	return nil
}

func typeName(t byte) string {
	switch t {
	case tar.TypeLink:
		return "hard link"
	case tar.TypeSymlink:
		return "symbolic link"
	case tar.TypeDir:
		return "directory"
	}
	return fmt.Sprintf("type %q", t)
}

// cut is the finding for tar input that ends after avail bytes, before
// the framing says it may.
func (f *tarFrame) cut(avail int64) error {
	switch {
	case f.last == "":
		return &archiveError{CodeArchiveTruncated, "archive", "the archive ends inside its first header"}
	case avail < f.dataEnd:
		return &archiveError{CodeArchiveTruncated, f.last,
			fmt.Sprintf("the archive ends inside this entry's data: %d of the %d bytes its header declares are there", max(0, f.size-(f.dataEnd-avail)), f.size)}
	case avail < f.end:
		return &archiveError{CodeArchiveTruncated, f.last, "the archive ends inside the zero padding after this entry's data"}
	}
	return &archiveError{CodeArchiveTruncated, "archive",
		fmt.Sprintf("the archive ends inside the header of the entry after %s", f.last)}
}

// eof checks the end of tar input: tar.Reader.Next returned io.EOF after
// pos bytes, and marker returns the 1024 bytes before pos. The archive is
// whole when those are two zero blocks right after the last entry.
func (f *tarFrame) eof(pos int64, marker func() []byte) error {
	if pos < f.end {
		return f.cut(pos)
	}
	if pos == f.end+1024 {
		if m := marker(); len(m) == 1024 && allZero(m) {
			return nil
		}
	}
	if f.last == "" {
		return &archiveError{CodeArchiveTruncated, "archive", "the archive ends without its end-of-archive marker (two zero blocks)"}
	}
	if pos > f.end+512 {
		return f.cut(pos)
	}
	return &archiveError{CodeArchiveTruncated, "archive", fmt.Sprintf(
		"the archive ends after %s without a whole end-of-archive marker (two zero blocks): entries after it may be lost", f.last)}
}

// nonZeroPadding is the finding for padding that is not zero: readers skip
// it, so it can only hide data.
func (f *tarFrame) nonZeroPadding() error {
	return &archiveError{CodeArchiveInvalid, f.last, "non-zero bytes in the padding after this entry's data; readers skip them, so they can hide data"}
}

// readError maps an error that tar input gave, after avail bytes could be
// read, to a finding: a cut, a decompression failure of the outer stream,
// or an unreadable archive.
func (f *tarFrame) readError(err error, avail int64) error {
	var ae *archiveError
	var corrupt flate.CorruptInputError
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return f.cut(avail)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.Is(err, errCorruptDeflate), errors.As(err, &corrupt):
		return &archiveError{CodeDecompress, "archive", "outer gzip stream: " + decompressReason(err)}
	case errors.Is(err, tar.ErrHeader), errors.Is(err, tar.ErrFieldTooLong), errors.Is(err, tar.ErrInsecurePath):
		return &archiveError{CodeArchiveInvalid, "archive", fmt.Sprintf("unreadable tar header after %s: %v", orStart(f.last), err)}
	}
	return err
}

func orStart(last string) string {
	if last == "" {
		return "the start"
	}
	return last
}

// frameReader is the reader under a one-pass tar reader. It counts the
// bytes read, keeps the last two blocks (after tar.Reader.Next, the
// entry's ustar header block; at the end, the end-of-archive marker) and
// notes non-zero bytes in the padding range it is given.
type frameReader struct {
	r              io.Reader
	n              int64
	buf            [1024]byte
	kept           int // valid bytes at the end of buf
	padFrom, padTo int64
	dirty          bool // a non-zero byte was read in [padFrom, padTo)
}

func (l *frameReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if from, to := max(l.padFrom, l.n), min(l.padTo, l.n+int64(n)); from < to && !allZero(p[from-l.n:to-l.n]) {
		l.dirty = true
	}
	l.n += int64(n)
	if n >= len(l.buf) {
		copy(l.buf[:], p[n-len(l.buf):n])
		l.kept = len(l.buf)
	} else if n > 0 {
		copy(l.buf[:], l.buf[n:])
		copy(l.buf[len(l.buf)-n:], p[:n])
		l.kept = min(len(l.buf), l.kept+n)
	}
	return n, err
}

// block is the last 512 bytes read, fewer at the start.
func (l *frameReader) block() []byte { return l.buf[len(l.buf)-min(l.kept, 512):] }

// tail is the last 1024 bytes read, fewer at the start.
func (l *frameReader) tail() []byte { return l.buf[len(l.buf)-l.kept:] }

// watchPadding starts watching [from, to) for non-zero bytes.
func (l *frameReader) watchPadding(from, to int64) { l.padFrom, l.padTo, l.dirty = from, to, false }

// sniffTar tells tar input, whole or cut, from other input by its first
// bytes. A whole first block must be a header with a valid checksum, carry
// the ustar magic, or be the zero block of an empty archive. A shorter
// start must look like the start of a header: a name of printable bytes
// ended by NUL, and an octal mode field if it reaches that far. Text
// files fail both, so they are E_UNKNOWN_FORMAT, not a truncated archive.
func sniffTar(head []byte, name string) error {
	unknown := &archiveError{CodeUnknownFormat, name, "not a tar archive (an OCI archive or a docker save), gzipped or plain, nor an OCI layout directory"}
	switch {
	case len(head) == 0:
		unknown.msg = "an empty file: " + unknown.msg
		return unknown
	case len(head) >= 512:
		if looksLikeTar(head[:512]) || bytes.HasPrefix(head[257:], []byte("ustar")) {
			return nil
		}
		return unknown
	}
	if allZero(head) {
		return nil // a cut zero block
	}
	name100 := head[:min(len(head), 100)]
	nul := bytes.IndexByte(name100, 0)
	if nul == 0 || nul < 0 && len(head) <= 100 {
		return unknown // an empty name, or text with no NUL
	}
	if nul < 0 {
		nul = len(name100) // a name of the whole 100 bytes
	}
	for _, c := range head[:nul] {
		if c < 0x20 || c == 0x7f {
			return unknown
		}
	}
	if len(head) > 100 {
		for _, c := range head[100:min(len(head), 107)] {
			if (c < '0' || c > '7') && c != ' ' && c != 0 {
				return unknown
			}
		}
	}
	return nil
}
