// Package blobio adapts random-access blobs, such as the browser's File and
// Blob objects, to the readers and file systems that package verify takes.
//
// Every read of a blob is expensive in the browser (a Blob.slice and a copy
// across the JavaScript boundary), so the adapters here read in large
// aligned blocks and keep a small, bounded cache: memory stays flat however
// large the blob is.
package blobio

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// Blob is a random-access byte source of known size. ReadAt follows the
// io.ReaderAt contract.
type Blob interface {
	io.ReaderAt
	Size() int64
}

// DefaultBlockSize is the size of one read from the underlying blob. Each
// read of a browser File has a high fixed cost (Chromium reads 1 MiB
// slices at about a third of the speed of 4 MiB ones), so reads are large.
const DefaultBlockSize = 4 << 20

// DefaultCacheBlocks is how many blocks a CachedReaderAt keeps.
const DefaultCacheBlocks = 8

// CachedReaderAt serves small reads from a bounded cache of aligned blocks
// and passes large reads straight through. It is safe for concurrent use.
type CachedReaderAt struct {
	b         Blob
	blockSize int64
	maxBlocks int

	mu     sync.Mutex
	blocks map[int64]*block // by block number
	tick   uint64
}

type block struct {
	data []byte
	used uint64
}

// NewCachedReaderAt returns a cached reader over b. blockSize and maxBlocks
// fall back to the defaults when not positive.
func NewCachedReaderAt(b Blob, blockSize int64, maxBlocks int) *CachedReaderAt {
	if blockSize <= 0 {
		blockSize = DefaultBlockSize
	}
	if maxBlocks <= 0 {
		maxBlocks = DefaultCacheBlocks
	}
	return &CachedReaderAt{b: b, blockSize: blockSize, maxBlocks: maxBlocks, blocks: map[int64]*block{}}
}

// Size is the size of the underlying blob.
func (c *CachedReaderAt) Size() int64 { return c.b.Size() }

// ReadAt implements io.ReaderAt.
func (c *CachedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("blobio: negative offset %d", off)
	}
	size := c.b.Size()
	if off >= size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	if int64(len(p)) >= c.blockSize {
		return readFull(c.b, p, off, size)
	}
	n := 0
	for n < len(p) && off+int64(n) < size {
		pos := off + int64(n)
		data, err := c.block(pos / c.blockSize)
		if err != nil {
			return n, err
		}
		in := pos % c.blockSize
		if in >= int64(len(data)) {
			return n, io.ErrUnexpectedEOF
		}
		n += copy(p[n:], data[in:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// block returns block i, reading it if needed. The lock is not held while
// reading, so concurrent readers of different blocks overlap.
func (c *CachedReaderAt) block(i int64) ([]byte, error) {
	c.mu.Lock()
	c.tick++
	if b, ok := c.blocks[i]; ok {
		b.used = c.tick
		c.mu.Unlock()
		return b.data, nil
	}
	c.mu.Unlock()

	start := i * c.blockSize
	n := min(c.blockSize, c.b.Size()-start)
	data := make([]byte, n)
	if _, err := readFull(c.b, data, start, c.b.Size()); err != nil {
		return nil, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.blocks) >= c.maxBlocks {
		var oldest int64
		var used uint64 = ^uint64(0)
		for k, b := range c.blocks {
			if b.used < used {
				oldest, used = k, b.used
			}
		}
		delete(c.blocks, oldest)
	}
	c.tick++
	c.blocks[i] = &block{data: data, used: c.tick}
	return data, nil
}

// readFull reads len(p) bytes at off, or up to the end of the blob, in as
// many ReadAt calls as the blob needs.
func readFull(b io.ReaderAt, p []byte, off, size int64) (int, error) {
	want := len(p)
	if rest := size - off; int64(want) > rest {
		want = int(rest)
	}
	n := 0
	for n < want {
		m, err := b.ReadAt(p[n:want], off+int64(n))
		n += m
		if err != nil && n < want {
			if errors.Is(err, io.EOF) {
				return n, io.ErrUnexpectedEOF
			}
			return n, err
		}
		if m == 0 && err == nil {
			return n, io.ErrNoProgress
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// SeqReader reads a blob front to back in large blocks, fetching the next
// block while the current one is consumed. At most two blocks are held.
type SeqReader struct {
	b         Blob
	blockSize int64
	next      int64 // offset of the next block to fetch
	ch        chan chunk
	cur       []byte
	err       error
	started   bool
	done      chan struct{}
	closeOnce sync.Once
}

type chunk struct {
	data []byte
	err  error
}

// NewSeqReader returns a sequential reader over b starting at off.
func NewSeqReader(b Blob, off, blockSize int64) *SeqReader {
	if blockSize <= 0 {
		blockSize = DefaultBlockSize
	}
	return &SeqReader{b: b, blockSize: blockSize, next: off, done: make(chan struct{})}
}

func (s *SeqReader) start() {
	s.started = true
	s.ch = make(chan chunk, 1)
	go func() {
		defer close(s.ch)
		size := s.b.Size()
		for off := s.next; off < size; {
			n := min(s.blockSize, size-off)
			data := make([]byte, n)
			m, err := readFull(s.b, data, off, size)
			data = data[:m]
			select {
			case s.ch <- chunk{data: data, err: err}:
			case <-s.done:
				return
			}
			if err != nil {
				return
			}
			off += n
		}
	}()
}

// Read implements io.Reader.
func (s *SeqReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !s.started {
		s.start()
	}
	for len(s.cur) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		c, ok := <-s.ch
		if !ok {
			s.err = io.EOF
			return 0, io.EOF
		}
		s.cur = c.data
		if c.err != nil {
			s.err = c.err
		}
	}
	n := copy(p, s.cur)
	s.cur = s.cur[n:]
	return n, nil
}

// Close stops the read-ahead.
func (s *SeqReader) Close() error {
	s.closeOnce.Do(func() { close(s.done) })
	return nil
}

// Locate returns the blob that r would read, and which part of it, when r
// is a file of an FS or a section of a CachedReaderAt that has not been
// read yet; ok is false for any other reader.
func Locate(r io.Reader) (b Blob, off, n int64, ok bool) {
	switch r := r.(type) {
	case *file:
		if r.closed || r.off != 0 || r.seq != nil {
			return nil, 0, 0, false
		}
		return r.b, 0, r.b.Size(), true
	case *io.SectionReader:
		ra, base, size := r.Outer()
		c, cached := ra.(*CachedReaderAt)
		if pos, err := r.Seek(0, io.SeekCurrent); !cached || err != nil || pos != 0 {
			return nil, 0, 0, false
		}
		return c.b, base, size, true
	}
	return nil, 0, 0, false
}
