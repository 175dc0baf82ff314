package main

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall/js"
)

// jsBlob is a JavaScript Blob or File seen as a blobio.Blob. Each ReadAt is
// one Blob.slice read: synchronously with FileReaderSync inside a Web
// Worker, where a read issued ahead would only progress when the module
// yields, and through the arrayBuffer Promise elsewhere (Node.js, a page's
// main thread). There, sequential reads run ahead: a read that starts where
// an earlier one ended starts the read of the next range of the same
// length, so the file is read while the module hashes. At most maxAhead
// reads are in flight; scattered reads (tar headers) start none.
type jsBlob struct {
	v    js.Value
	size int64

	mu    sync.Mutex
	ahead map[int64]*pendingRead // by start offset
	ends  map[int64]bool         // where recent reads ended
	seq   uint64

	// open, if set, opens a sequential reader (engines.read in
	// web/engines.js); streams are those open, by the offset they are at.
	open    js.Value
	streams map[int64]*jsStream
}

// maxStreams bounds the sequential readers open on one blob.
const maxStreams = 4

// jsStream is a sequential reader of a blob, opened by engines.read.
type jsStream struct {
	v   js.Value
	seq uint64
}

// streamAt returns the open stream at off, or opens one when the read at
// off continues an earlier one (a layer read front to back). It returns nil
// for a scattered read, which a Blob.slice serves better.
func (b *jsBlob) streamAt(off int64) *jsStream {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.streams[off]; s != nil {
		delete(b.streams, off)
		return s
	}
	if !b.consumeEnd(off) {
		return nil
	}
	v, err := catch(func() js.Value { return b.open.Invoke(b.v, float64(off)) })
	if err != nil || v.Type() != js.TypeObject {
		return nil
	}
	b.seq++
	return &jsStream{v: v, seq: b.seq}
}

// park records that s is now at off, closing the oldest stream when too
// many are open.
func (b *jsBlob) park(s *jsStream, off int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if off >= b.size {
		s.v.Call("cancel")
		return
	}
	if len(b.streams) >= maxStreams {
		o := oldest(b.streams, func(x *jsStream) uint64 { return x.seq })
		b.streams[o].v.Call("cancel")
		delete(b.streams, o)
	}
	b.streams[off] = s
}

// noteEnd records where a read ended, so that the next read there counts
// as sequential.
func (b *jsBlob) noteEnd(end int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.markEnd(end)
}

// markEnd is noteEnd with b.mu held.
func (b *jsBlob) markEnd(end int64) {
	if len(b.ends) >= 4*maxAhead {
		clear(b.ends)
	}
	b.ends[end] = true
}

// consumeEnd reports whether a read ended at off, and forgets it; b.mu is
// held.
func (b *jsBlob) consumeEnd(off int64) bool {
	sequential := b.ends[off]
	delete(b.ends, off)
	return sequential
}

// oldest returns the key of m's entry with the lowest sequence number.
func oldest[T any](m map[int64]T, seq func(T) uint64) int64 {
	var key int64 = -1
	for k, v := range m {
		if key < 0 || seq(v) < seq(m[key]) {
			key = k
		}
	}
	return key
}

// readStream fills p from s, which is at off.
func (b *jsBlob) readStream(s *jsStream, p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		view, err := await(s.v.Call("fill", len(p)-n))
		if err != nil {
			s.v.Call("cancel")
			return n, fmt.Errorf("blob: reading from %d: %w", off, err)
		}
		m := view.Length()
		if m == 0 {
			break
		}
		js.CopyBytesToGo(p[n:n+m], view)
		n += m
	}
	b.park(s, off+int64(n))
	return n, nil
}

// maxAhead bounds the reads started ahead of need, per blob.
const maxAhead = 4

// pendingRead is a Blob.slice read in flight.
type pendingRead struct {
	end int64
	seq uint64
	ch  chan readResult
}

// readResult is how a Promise settled.
type readResult struct {
	v   js.Value
	err error
}

var (
	uint8Array     = js.Global().Get("Uint8Array")
	fileReaderSync = newFileReaderSync()
)

func newFileReaderSync() js.Value {
	c := js.Global().Get("FileReaderSync")
	if c.Type() != js.TypeFunction {
		return js.Undefined()
	}
	return c.New()
}

func newJSBlob(v js.Value) *jsBlob {
	return &jsBlob{v: v, size: int64(v.Get("size").Float()), ahead: map[int64]*pendingRead{}, ends: map[int64]bool{}}
}

func (b *jsBlob) Size() int64 { return b.size }

// start begins reading [off, end).
func (b *jsBlob) start(off, end int64) *pendingRead {
	b.seq++
	r := &pendingRead{end: end, seq: b.seq}
	p, err := catch(func() js.Value { return b.v.Call("slice", float64(off), float64(end)).Call("arrayBuffer") })
	if err != nil {
		r.ch = make(chan readResult, 1)
		r.ch <- readResult{err: err}
		return r
	}
	r.ch = settle(p)
	return r
}

// take returns the read of [off, end), started ahead or now, and starts
// the read of the range after it.
func (b *jsBlob) take(off, end int64) *pendingRead {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.ahead[off]
	delete(b.ahead, off)
	if r == nil || r.end != end {
		r = b.start(off, end)
	}
	sequential := b.consumeEnd(off)
	b.markEnd(end)
	if next := min(end+(end-off), b.size); sequential && end < b.size && b.ahead[end] == nil {
		if len(b.ahead) >= maxAhead {
			b.dropOldest()
		}
		b.ahead[end] = b.start(end, next)
	}
	return r
}

// dropOldest forgets the oldest read ahead, which the reader skipped.
func (b *jsBlob) dropOldest() {
	delete(b.ahead, oldest(b.ahead, func(r *pendingRead) uint64 { return r.seq }))
}

func (b *jsBlob) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("blob: negative offset %d", off)
	}
	if off >= b.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), b.size)
	n, err := b.read(p[:end-off], off)
	if err != nil {
		return n, err
	}
	if int64(n) != end-off {
		return n, fmt.Errorf("blob: read %d bytes at %d, want %d (was the file changed?)", n, off, end-off)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// read fills p from off: from a stream when the read continues an earlier
// one, or else from one Blob.slice.
func (b *jsBlob) read(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	if !b.open.IsUndefined() {
		if s := b.streamAt(off); s != nil {
			n, err := b.readStream(s, p, off)
			b.noteEnd(end)
			return n, err
		}
	}
	var res readResult
	if !fileReaderSync.IsUndefined() {
		res.v, res.err = catch(func() js.Value {
			return fileReaderSync.Call("readAsArrayBuffer", b.v.Call("slice", float64(off), float64(end)))
		})
		b.noteEnd(end)
	} else {
		res = <-b.take(off, end).ch
	}
	if res.err != nil {
		return 0, fmt.Errorf("blob: reading bytes %d-%d: %w", off, end, res.err)
	}
	return js.CopyBytesToGo(p, uint8Array.New(res.v)), nil
}

// settle returns a channel that receives the outcome of the Promise p once
// it settles; its callbacks are released then.
func settle(p js.Value) chan readResult {
	ch := make(chan readResult, 1)
	var onOK, onErr js.Func
	done := func(res readResult) {
		ch <- res
		onOK.Release()
		onErr.Release()
	}
	onOK = js.FuncOf(func(_ js.Value, args []js.Value) any { done(readResult{v: arg(args, 0)}); return nil })
	onErr = js.FuncOf(func(_ js.Value, args []js.Value) any { done(readResult{err: jsError(arg(args, 0))}); return nil })
	p.Call("then", onOK, onErr)
	return ch
}

// await blocks the calling goroutine until the Promise p settles. It must
// not run on the JavaScript event loop's own goroutine.
func await(p js.Value) (js.Value, error) {
	r := <-settle(p)
	return r.v, r.err
}

// catch runs f and turns a thrown JavaScript exception into an error.
func catch(f func() js.Value) (v js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			if jerr, ok := r.(js.Error); ok {
				err = errors.New(jerr.Error())
				return
			}
			panic(r)
		}
	}()
	return f(), nil
}

func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

func jsError(v js.Value) error {
	if v.Type() == js.TypeObject && v.Get("message").Type() == js.TypeString {
		return errors.New(v.Get("message").String())
	}
	return fmt.Errorf("%v", v)
}
