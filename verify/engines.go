package verify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"
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
	var want [8]byte
	binary.LittleEndian.PutUint32(want[:4], r.crc.Sum32())
	binary.LittleEndian.PutUint32(want[4:], uint32(r.n))
	return r.in.total >= 18 && r.in.tail == want && want != [8]byte{}
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
