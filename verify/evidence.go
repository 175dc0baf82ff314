package verify

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/internal/limits"
)

// Compression names, as reported.
const (
	CompressionNone    = "none"
	CompressionGzip    = "gzip"
	CompressionZstd    = "zstd"
	CompressionUnknown = "unknown"
)

// evidence is what one streaming pass over a blob recomputed.
type evidence struct {
	size    int64
	digests map[digest.Algorithm]digest.Digest
	// compression is detected from magic bytes: gzip, zstd, none, or the
	// name of an unsupported format (xz, bzip2).
	compression  string
	diffIDs      map[digest.Algorithm]digest.Digest // of the decompressed stream
	uncompressed int64
	// decompressErr is an error from the decompressor, even one that came
	// after every byte was hashed: it still fails the layer.
	decompressErr error
	// readErr is an error reading the blob itself; nothing else is valid.
	readErr error
	// head is the first tar block of the decompressed stream.
	head []byte
}

// magic numbers of the compression formats.
var (
	magicGzip  = []byte{0x1f, 0x8b}
	magicZstd  = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicXz    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicBzip2 = []byte{'B', 'Z', 'h'}
)

func detectCompression(head []byte) string {
	switch {
	case bytes.HasPrefix(head, magicGzip):
		return CompressionGzip
	case bytes.HasPrefix(head, magicZstd), isZstdSkippable(head):
		return CompressionZstd
	case bytes.HasPrefix(head, magicXz):
		return "xz"
	case bytes.HasPrefix(head, magicBzip2):
		return "bzip2"
	}
	return CompressionNone
}

// isZstdSkippable matches a zstd skippable frame (magic 0x184D2A50 to
// 0x184D2A5F, little-endian), which may open a zstd stream.
func isZstdSkippable(head []byte) bool {
	return len(head) >= 4 && head[0]&0xf0 == 0x50 && head[1] == 0x2a && head[2] == 0x4d && head[3] == 0x18
}

// chunkSize is the unit handed from the reading stage to the decompressing
// stage. Chunks are pooled, so memory per blob is a few chunks.
const chunkSize = 256 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// hasher computes the blob digests for the requested algorithms.
type hasher struct {
	algs []digest.Algorithm
	hs   []hash.Hash
	eng  *engineRun
}

func newHasher(algs []digest.Algorithm, eng *engineRun) *hasher {
	h := &hasher{algs: algs, eng: eng}
	for _, a := range algs {
		h.hs = append(h.hs, eng.newHash(a))
	}
	return h
}

func (h *hasher) Write(p []byte) (int, error) {
	for _, x := range h.hs {
		if _, err := x.Write(p); err != nil {
			h.eng.fail(fmt.Errorf("sha256 engine: %w", err))
		}
	}
	return len(p), nil
}

func (h *hasher) sums() map[digest.Algorithm]digest.Digest {
	m := make(map[digest.Algorithm]digest.Digest, len(h.hs))
	for i, a := range h.algs {
		m[a] = digest.NewDigest(a, h.hs[i])
		if he, ok := h.hs[i].(hashErr); ok && he.Err() != nil {
			h.eng.fail(fmt.Errorf("sha256 engine: %w", he.Err()))
		}
	}
	return m
}

// blobJob describes one blob to stream.
type blobJob struct {
	name string
	algs []digest.Algorithm
	// diffAlgs are the algorithms of the diff_id (sha256 when empty).
	diffAlgs []digest.Algorithm
	// max is the most bytes worth reading: one more than the declared size,
	// or -1 for no cap (archive entries, whose size the archive fixes).
	max int64
	// total is the size shown in progress events.
	total int64
	// content, if set, receives the decompressed stream of a tar layer.
	content func(io.Reader) error
	// eng holds the run's engines; nil means the built-in code.
	eng *engineRun
}

// streamBlob hashes r in one pass: the stored bytes into the blob digests
// and, when they are compressed, the decompressed bytes into the diff_id.
// Reading and hashing the stored bytes runs on this goroutine; decompressing
// and hashing the result runs on another, so the two overlap.
func streamBlob(ctx context.Context, r io.Reader, job blobJob, lim *limits.Limits, progress func(Progress)) *evidence {
	if ev := job.eng.wholeBlob(ctx, r, job, lim, progress); ev != nil {
		return ev
	}
	ev := &evidence{}
	bh := newHasher(job.algs, job.eng)
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(8)
	ev.compression = detectCompression(head)

	diffAlgs := job.diffAlgs
	if len(diffAlgs) == 0 {
		diffAlgs = []digest.Algorithm{digest.SHA256}
	}
	if ev.compression != CompressionGzip && ev.compression != CompressionZstd {
		// Stored bytes are the stream: one pass feeds both digests, and an
		// algorithm already hashed for the blob is not hashed twice.
		var extra []digest.Algorithm
		for _, a := range diffAlgs {
			if !slices.Contains(job.algs, a) {
				extra = append(extra, a)
			}
		}
		dh := newHasher(extra, job.eng)
		var w io.Writer = bh
		var feed *contentFeed
		sniff := &headSniffer{}
		if ev.compression == CompressionNone {
			w = io.MultiWriter(bh, sniff)
			if len(extra) > 0 {
				w = io.MultiWriter(bh, dh, sniff)
			}
			if job.content != nil {
				feed = startContent(job.content)
				w = io.MultiWriter(w, feed.w)
			}
		}
		n, err := copyChunks(ctx, w, br, job, progress)
		ev.size, ev.readErr = n, err
		ev.digests = bh.sums()
		if ev.compression == CompressionNone {
			ev.head = sniff.b
			ev.diffIDs = dh.sums()
			for _, a := range diffAlgs {
				if d, ok := ev.digests[a]; ok {
					ev.diffIDs[a] = d
				}
			}
			ev.uncompressed = n
		}
		if feed != nil {
			ev.decompressErr = feed.wait()
		}
		return ev
	}

	// Compressed: pipe chunks to a decompressing goroutine.
	pr, pw := io.Pipe()
	type result struct {
		diffIDs map[digest.Algorithm]digest.Digest
		n       int64
		err     error
		head    []byte
	}
	done := make(chan result, 1)
	go func() {
		dh := newHasher(diffAlgs, job.eng)
		sniff := &headSniffer{}
		n, err := decompress(pr, ev.compression, io.MultiWriter(dh, sniff), job, lim)
		// Drain so the reading side never blocks on an early decoder stop.
		_, _ = io.Copy(io.Discard, pr)
		done <- result{dh.sums(), n, err, sniff.b}
	}()
	n, err := copyChunks(ctx, io.MultiWriter(bh, pw), br, job, progress)
	pw.Close()
	res := <-done
	ev.size, ev.readErr = n, err
	ev.digests = bh.sums()
	ev.diffIDs, ev.uncompressed, ev.decompressErr, ev.head = res.diffIDs, res.n, res.err, res.head
	return ev
}

// copyChunks copies r to w in pooled chunks, stopping after job.max bytes,
// checking ctx and reporting progress.
func copyChunks(ctx context.Context, w io.Writer, r io.Reader, job blobJob, progress func(Progress)) (int64, error) {
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := *bp
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		want := len(buf)
		if job.max >= 0 && int64(want) > job.max-n {
			want = int(job.max - n)
			if want == 0 {
				return n, nil
			}
		}
		m, err := r.Read(buf[:want])
		if m > 0 {
			if _, werr := w.Write(buf[:m]); werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
				return n, werr
			}
			n += int64(m)
			if progress != nil {
				progress(Progress{Name: job.name, Done: n, Total: job.total})
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// decompress writes the decompressed stream of r into w, under the
// decompressed-size and ratio limits, and returns the bytes produced.
func decompress(r io.Reader, compression string, w io.Writer, job blobJob, lim *limits.Limits) (int64, error) {
	cr := &countingReader{r: r}
	var dr io.WriterTo
	switch compression {
	case CompressionGzip:
		zr, closeFn, err := job.eng.gunzip(cr)
		if zr == nil && err == nil {
			zr, closeFn, err = newGunzip(cr)
		}
		if err != nil {
			return 0, fmt.Errorf("gzip: %w", err)
		}
		defer closeFn()
		dr = zr
	case CompressionZstd:
		zr, err := newZstd(cr, lim)
		if err != nil {
			return 0, fmt.Errorf("zstd: %w", err)
		}
		defer zr.Close()
		dr = zr
	}
	var out io.Writer = w
	var feed *contentFeed
	if job.content != nil {
		feed = startContent(job.content)
		out = io.MultiWriter(w, feed.w)
	}
	// The decompressors write straight from their windows into the hash,
	// through a guard that stops bombs.
	// Hashing runs on its own goroutine, so inflating and hashing overlap.
	aw := newAsyncWriter(out)
	guard := &bombGuard{w: aw, in: cr, lim: lim, name: job.name}
	if _, ok := dr.(*engineReader); ok {
		guard.lookahead = GunzipLookahead
	}
	_, err := dr.WriteTo(guard)
	if err != nil && guard.lookahead > 0 {
		// The run is done again with the built-in decoder, whose error is
		// the one reported.
		job.eng.fail(fmt.Errorf("gzip engine: %w", err))
	}
	if werr := aw.Close(); err == nil {
		err = werr
	}
	n := guard.n
	var cerr error
	if feed != nil {
		cerr = feed.wait()
	}
	if err != nil {
		var le *limits.Error
		if errors.As(err, &le) {
			return n, err
		}
		if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			return n, limits.Exceeded(limits.ZstdWindow, int64(lim.ZstdWindow), job.name)
		}
		return n, fmt.Errorf("%s: %w", compression, err)
	}
	return n, cerr
}

// headSniffer keeps the first tar block of a stream.
type headSniffer struct{ b []byte }

func (h *headSniffer) Write(p []byte) (int, error) {
	if rem := 512 - len(h.b); rem > 0 {
		h.b = append(h.b, p[:min(rem, len(p))]...)
	}
	return len(p), nil
}

// looksLikeTar reports whether a stream's first block is a tar header with
// a valid checksum, or the zero block that ends a tar. An empty stream
// passes: it extracts to nothing.
func looksLikeTar(head []byte) bool {
	if len(head) == 0 {
		return true
	}
	if len(head) < 512 {
		return false
	}
	if allZero(head) {
		return true
	}
	field := strings.Trim(string(head[148:156]), " \x00")
	want, err := strconv.ParseInt(field, 8, 64)
	if err != nil {
		return false
	}
	var unsigned, signed int64
	for i, c := range head {
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return want == unsigned || want == signed
}

// errCorruptDeflate is corrupt deflate data, whichever engine found it.
var errCorruptDeflate = errors.New("corrupt deflate data")

// decompressReason describes a decompression error in words that do not
// depend on the decompressor built in (pure Go or ISA-L), so reports are
// the same natively and in the browser.
func decompressReason(err error) string {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrChecksum):
		return "the gzip trailer's CRC-32 or length does not match the data"
	case errors.Is(err, gzip.ErrHeader):
		return "invalid gzip header, or bytes after the last gzip member that are not another member"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the compressed stream ends early"
	case errors.Is(err, errCorruptDeflate), errors.As(err, &corrupt):
		return "corrupt deflate data"
	}
	return err.Error()
}

// contentFeed runs a layer-content visitor on its own goroutine, fed
// through a pipe from the pass that hashes the stream.
type contentFeed struct {
	w    *io.PipeWriter
	errc chan error
}

func startContent(visit func(io.Reader) error) *contentFeed {
	pr, pw := io.Pipe()
	f := &contentFeed{w: pw, errc: make(chan error, 1)}
	go func() {
		err := visit(pr)
		_, _ = io.Copy(io.Discard, pr) // never block the hashing side
		f.errc <- err
	}()
	return f
}

// wait closes the feed and returns the visitor's error wrapped as a
// content error.
func (f *contentFeed) wait() error {
	f.w.Close()
	if err := <-f.errc; err != nil {
		return &contentError{err}
	}
	return nil
}

// contentError wraps an error from a layer-content visitor.
type contentError struct{ err error }

func (e *contentError) Error() string { return e.err.Error() }
func (e *contentError) Unwrap() error { return e.err }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// bombGuard stops a decompressor that produces more than the layer limit,
// or far more than it consumed once past the ratio floor.
type bombGuard struct {
	w    io.Writer
	in   *countingReader
	lim  *limits.Limits
	n    int64
	name string
	// lookahead is subtracted from the bytes consumed: how far the
	// decompressor may have read beyond what its output needed.
	lookahead int64
}

func (g *bombGuard) Write(p []byte) (int, error) {
	g.n += int64(len(p))
	if kind, limit, over := bombLimit(g.lim, g.n, g.in.n, g.lookahead); over {
		return 0, limits.Exceeded(kind, limit, g.name)
	}
	return g.w.Write(p)
}

// bombLimit tells which limit out decompressed bytes are past, if any,
// when in compressed bytes were consumed, less lookahead read ahead: the
// layer's decompressed size, or past the ratio floor, the ratio.
func bombLimit(lim *limits.Limits, out, in, lookahead int64) (limits.Kind, int64, bool) {
	if out > lim.LayerDecompressed {
		return limits.LayerDecompressed, lim.LayerDecompressed, true
	}
	if out > lim.RatioFloor && lim.CompressionRatio > 0 && out > lim.CompressionRatio*max(in-lookahead, 1) {
		return limits.CompressionRatio, lim.CompressionRatio, true
	}
	return "", 0, false
}
