package verify

import (
	"io"
)

// asyncWriter hands what is written to it to another goroutine, which
// writes it to dst. It lets one core decompress while another hashes.
// Write copies p into pooled chunks, so callers may reuse p at once.
type asyncWriter struct {
	ch   chan []byte
	done chan error
	bufs chan []byte
}

// queueDepth is how many chunks may wait between the two goroutines.
const queueDepth = 4

func newAsyncWriter(dst io.Writer) *asyncWriter {
	a := &asyncWriter{ch: make(chan []byte, queueDepth), done: make(chan error, 1), bufs: make(chan []byte, queueDepth+2)}
	for i := 0; i < queueDepth+2; i++ {
		a.bufs <- make([]byte, 0, chunkSize)
	}
	go func() {
		var err error
		for b := range a.ch {
			if err == nil {
				_, err = dst.Write(b)
			}
			a.bufs <- b[:0]
		}
		a.done <- err
	}()
	return a
}

func (a *asyncWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		b := <-a.bufs
		m := min(len(p), cap(b))
		b = append(b, p[:m]...)
		a.ch <- b
		p = p[m:]
	}
	return n, nil
}

// Close waits until everything written has reached dst and returns the
// first error dst gave.
func (a *asyncWriter) Close() error {
	close(a.ch)
	return <-a.done
}

// readAhead reads r on its own goroutine, a few chunks ahead of the
// consumer, so that producing the bytes (decompressing an outer archive)
// overlaps with consuming them (hashing its entries).
type readAhead struct {
	ch   chan chunk
	bufs chan []byte
	cur  []byte
	buf  []byte
	err  error
	stop chan struct{}
	exit chan struct{}
}

type chunk struct {
	b   []byte
	err error
}

func newReadAhead(r io.Reader) *readAhead {
	ra := &readAhead{ch: make(chan chunk, queueDepth), bufs: make(chan []byte, queueDepth+2),
		stop: make(chan struct{}), exit: make(chan struct{})}
	for i := 0; i < queueDepth+2; i++ {
		ra.bufs <- make([]byte, chunkSize)
	}
	go func() {
		defer close(ra.exit)
		defer close(ra.ch)
		for {
			var b []byte
			select {
			case b = <-ra.bufs:
			case <-ra.stop:
				return
			}
			n, err := fill(r, b)
			select {
			case ra.ch <- chunk{b[:n], err}:
			case <-ra.stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ra
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.err != nil {
			return 0, ra.err
		}
		if ra.buf != nil {
			ra.bufs <- ra.buf[:cap(ra.buf)]
			ra.buf = nil
		}
		c, ok := <-ra.ch
		if !ok {
			return 0, io.ErrClosedPipe
		}
		ra.buf, ra.cur, ra.err = c.b, c.b, c.err
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops the reading goroutine and waits for it, so that the
// underlying reader is no longer in use when Close returns.
func (ra *readAhead) Close() error {
	close(ra.stop)
	<-ra.exit
	return nil
}

// fill reads until b is full or r fails. Unlike io.ReadFull, it passes on
// r's own errors, io.ErrUnexpectedEOF included, and a short read at the
// end as io.EOF: a cut gzip stream must not look like a clean end.
func fill(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
