package verify

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/internal/limits"
)

// Engines are optional replacements for the verifier's built-in SHA-256
// and gzip decoder, such as a web browser's native ones, which run far
// faster there than Go code compiled to WebAssembly.
//
// A report never depends on which engines ran. The verifier accepts an
// engine's work only from a run in which no engine call failed; after any
// failure (a multi-member gzip stream that the engine rejects, corrupt
// data, a limit reached while an engine decoded) it verifies the whole
// source again with its own code, whose findings are the reference. Stream
// sources, which cannot be read twice, never use engines.
type Engines struct {
	// SHA256, if set, returns a new SHA-256 hash. A Write that fails, or an
	// Err method (if the hash has one) that returns an error after Sum,
	// counts as an engine failure.
	SHA256 func() hash.Hash
	// Gunzip, if set, returns the decompressed stream of the gzip stream r.
	// It must read r to its end before its output ends, must not read more
	// than GunzipLookahead bytes of r beyond what the output returned so far
	// needs, and must stop reading r once closed. Any error it returns
	// counts as an engine failure. Engines differ on what follows a gzip
	// member (Node.js accepts zero padding that the built-in decoder
	// rejects), so the verifier trusts an engine's output only when the
	// stream's last 8 bytes are the gzip trailer of that output (its
	// CRC-32 and length) and not all zero, as they are for an empty member.
	Gunzip func(r io.Reader) (io.ReadCloser, error)
	// Blob, if set, is offered each stored blob that needs only SHA-256
	// digests, with the reader the verifier would read it from. It may
	// read the blob from where it is stored instead (a browser File, in
	// several threads) and do the whole pass itself: SHA-256 of the stored
	// bytes and, for gzip, of the decompressed ones. It declines with
	// (nil, nil), before reading src, when it cannot. Its result is checked
	// for consistency (compression from the first bytes, the gzip trailer,
	// sizes, limits) and any error or inconsistency counts as an engine
	// failure.
	Blob func(ctx context.Context, src io.Reader, req BlobRequest) (*BlobResult, error)
}

// BlobRequest is what Engines.Blob is asked to do for one blob.
type BlobRequest struct {
	// Name names the blob in errors.
	Name string
	// Max is the most bytes to read: one more than the declared size, or
	// -1 to read to the end.
	Max int64
	// MaxOutput, Ratio and RatioFloor are the bomb guard's limits: stop
	// with an error once the decompressed bytes exceed MaxOutput, or exceed
	// RatioFloor and Ratio times the compressed bytes consumed so far less
	// GunzipLookahead.
	MaxOutput, Ratio, RatioFloor int64
	// Progress, if set, is called now and then with the stored bytes read.
	Progress func(done int64)
}

// BlobResult is what Engines.Blob computed. Output fields are zero unless
// Gzip is set.
type BlobResult struct {
	Size   int64    // stored bytes read
	SHA256 [32]byte // of the stored bytes
	Magic  []byte   // the first 8 stored bytes (fewer if the blob is shorter)
	Tail   [8]byte  // the last 8 stored bytes
	// Gzip is set when the blob was decompressed as gzip.
	Gzip         bool
	Output       int64    // decompressed bytes
	OutputSHA256 [32]byte // of the decompressed bytes
	OutputCRC32  uint32   // IEEE CRC-32 of the decompressed bytes
	// Head is the first 512 bytes of the decompressed stream (of the
	// stored one when not compressed), fewer if it is shorter.
	Head []byte
}

// GunzipLookahead bounds how far an Engines.Gunzip may read ahead of its
// output. The bomb guard assumes the engine read that much more than it
// needed, so that the stricter guard trips whenever the built-in decoder's
// guard could; the built-in decoder then decides.
const GunzipLookahead = 8 << 20

// engineRun is the engines of one run and whether any of them failed.
type engineRun struct {
	*Engines
	mu  sync.Mutex
	err error
}

// fail records the first engine failure of the run.
func (e *engineRun) fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = err
	}
}

// failed returns the first engine failure, or nil.
func (e *engineRun) failed() error {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// newHash returns a hash for alg: the SHA-256 engine's when there is one.
func (e *engineRun) newHash(alg digest.Algorithm) hash.Hash {
	if e != nil && e.Engines != nil && e.SHA256 != nil && alg == digest.SHA256 {
		return e.SHA256()
	}
	return alg.Hash()
}

// gunzip returns the gzip engine's decoder over r, or nil when there is no
// engine.
func (e *engineRun) gunzip(r io.Reader) (io.WriterTo, func(), error) {
	if e == nil || e.Engines == nil || e.Gunzip == nil {
		return nil, nil, nil
	}
	in := &tailReader{r: r}
	rc, err := e.Gunzip(in)
	if err != nil {
		err = fmt.Errorf("gzip engine: %w", err)
		e.fail(err)
		return nil, nil, err
	}
	return &engineReader{rc: rc, e: e, in: in, crc: crc32.NewIEEE()}, func() { rc.Close() }, nil
}

// engineReader is an engine's decoder as an io.WriterTo that records its
// errors as engine failures, and checks at the end that the stream was
// one gzip member whose trailer describes the output.
type engineReader struct {
	rc  io.ReadCloser
	e   *engineRun
	in  *tailReader
	crc hash.Hash32
	n   int64
}

// errEngineTrailer is an engine's output that the stream's trailer does not
// vouch for.
var errEngineTrailer = errors.New("the stream does not end with the gzip trailer of the engine's output")

func (r *engineReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.crc.Write(p[:n])
	r.n += int64(n)
	if err == io.EOF && !r.trailerMatches() {
		err = errEngineTrailer
	}
	if err != nil && err != io.EOF {
		r.e.fail(fmt.Errorf("gzip engine: %w", err))
	}
	return n, err
}

// trailerMatches reports whether the engine read its whole input and the
// input ends with CRC-32 and ISIZE of the output, not all zero.
func (r *engineReader) trailerMatches() bool {
	if !r.in.eof {
		if m, _ := io.ReadFull(r.in, make([]byte, 1)); m > 0 || !r.in.eof {
			return false
		}
	}
	return trailerVouches(r.in.tail, r.in.total, r.crc.Sum32(), r.n)
}

// trailerVouches reports whether tail, the last 8 bytes of a gzip stream
// of total bytes, is the trailer of an output of n bytes with CRC-32 crc,
// and is not all zero (as an empty member's is).
func trailerVouches(tail [8]byte, total int64, crc uint32, n int64) bool {
	var want [8]byte
	binary.LittleEndian.PutUint32(want[:4], crc)
	binary.LittleEndian.PutUint32(want[4:], uint32(n))
	return total >= 18 && tail == want && want != [8]byte{}
}

// tailReader keeps the last 8 bytes read and whether the end was reached.
type tailReader struct {
	r     io.Reader
	tail  [8]byte
	total int64
	eof   bool
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n >= 8 {
		copy(t.tail[:], p[n-8:n])
	} else if n > 0 {
		copy(t.tail[:], t.tail[n:])
		copy(t.tail[8-n:], p[:n])
	}
	t.total += int64(n)
	if err == io.EOF {
		t.eof = true
	}
	return n, err
}

func (r *engineReader) WriteTo(w io.Writer) (int64, error) {
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	n, err := io.CopyBuffer(w, struct{ io.Reader }{r}, *bp)
	if err != nil {
		r.e.fail(fmt.Errorf("gzip engine: %w", err))
	}
	return n, err
}

// hashErr is implemented by engine hashes that can fail.
type hashErr interface{ Err() error }

// wholeBlob offers the blob to the blob engine and returns the evidence it
// computed, or nil when there is no engine or it declined. A failed or
// inconsistent result is recorded as an engine failure; its evidence, a
// read error, is discarded with the run.
func (e *engineRun) wholeBlob(ctx context.Context, src io.Reader, job blobJob, lim *limits.Limits, progress func(Progress)) *evidence {
	if e == nil || e.Engines == nil || e.Blob == nil || job.content != nil ||
		!sha256Only(job.algs) || (len(job.diffAlgs) > 0 && !sha256Only(job.diffAlgs)) {
		return nil
	}
	req := BlobRequest{Name: job.name, Max: job.max, MaxOutput: lim.LayerDecompressed,
		Ratio: lim.CompressionRatio, RatioFloor: lim.RatioFloor}
	if progress != nil {
		req.Progress = func(done int64) { progress(Progress{Name: job.name, Done: done, Total: job.total}) }
	}
	res, err := e.Blob(ctx, src, req)
	if err == nil && res == nil {
		return nil
	}
	if err == nil {
		err = res.check(req, lim)
	}
	if err != nil {
		err = fmt.Errorf("blob engine: %s: %w", job.name, err)
		e.fail(err)
		return &evidence{readErr: err}
	}
	ev := &evidence{
		size:         res.Size,
		digests:      map[digest.Algorithm]digest.Digest{digest.SHA256: digest.NewDigestFromBytes(digest.SHA256, res.SHA256[:])},
		compression:  CompressionNone,
		uncompressed: res.Size,
		head:         res.Head,
	}
	ev.diffIDs = map[digest.Algorithm]digest.Digest{digest.SHA256: ev.digests[digest.SHA256]}
	if res.Gzip {
		ev.compression = CompressionGzip
		ev.uncompressed = res.Output
		ev.diffIDs[digest.SHA256] = digest.NewDigestFromBytes(digest.SHA256, res.OutputSHA256[:])
	}
	if progress != nil {
		progress(Progress{Name: job.name, Done: res.Size, Total: job.total})
	}
	return ev
}

func sha256Only(algs []digest.Algorithm) bool {
	return len(algs) == 1 && algs[0] == digest.SHA256
}

// check rejects a blob engine's result that is not consistent with itself
// and the request: the compression its first bytes show, the gzip trailer
// of its output (as for Engines.Gunzip), its sizes and the bomb guard.
func (r *BlobResult) check(req BlobRequest, lim *limits.Limits) error {
	switch {
	case r.Size < 0 || (req.Max >= 0 && r.Size > req.Max):
		return fmt.Errorf("read %d bytes, more than the %d asked for", r.Size, req.Max)
	case int64(len(r.Magic)) != min(r.Size, 8):
		return errors.New("the first stored bytes are missing")
	}
	switch c := detectCompression(r.Magic); {
	case c == CompressionGzip && !r.Gzip, c != CompressionGzip && c != CompressionNone:
		return fmt.Errorf("a %s blob was not decompressed", c)
	case c == CompressionNone && r.Gzip:
		return errors.New("decompressed a blob that is not gzip")
	}
	out := r.Size
	if r.Gzip {
		out = r.Output
		if !trailerVouches(r.Tail, r.Size, r.OutputCRC32, r.Output) {
			return errEngineTrailer
		}
		if _, _, over := bombLimit(lim, r.Output, r.Size, GunzipLookahead); over {
			return errors.New("the decompressed size is past the bomb guard's limits")
		}
	}
	if int64(len(r.Head)) != min(out, 512) {
		return errors.New("the first tar block is missing")
	}
	return nil
}
