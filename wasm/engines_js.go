package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"syscall/js"

	"github.com/imgproof/imgproof/verify"
	"github.com/imgproof/imgproof/wasm/internal/blobio"
)

// parseEngines reads options.engines: the JavaScript SHA-256 and gzip
// decoder the verifier may use instead of its own Go code (see
// verify.Engines; the report is the same either way).
//
//	engines: undefined or false     Go code only
//	engines: {sha256?, gunzip?, blob?}  as given; a missing or null entry means Go code
//
// The page's worker and the npm package pass the engines that
// web/engines.js makes.
//
// sha256 is a function returning a hasher, or a Promise of one, with
// update(Uint8Array) and digest() returning a Uint8Array (hash-wasm's
// createSHA256 fits, wrapped to call digest("binary")). gunzip is a
// function returning a gzip decoder with the methods that web/engines.js
// describes (write, close, abort, cancel, readInto). blob is a function
// (blob, start, end, request) -> Promise of a whole-blob result or null,
// as web/engines.js describes; its minSize property, if a number, replaces
// minEngineBlob.
func parseEngines(v js.Value) (*verify.Engines, error) {
	switch {
	case v.IsUndefined() || v.IsNull() || (v.Type() == js.TypeBoolean && !v.Bool()):
		return nil, nil
	case v.Type() != js.TypeObject:
		return nil, errors.New("imgproof: options.engines must be false or an object")
	}
	e := &verify.Engines{}
	if f := v.Get("sha256"); f.Type() == js.TypeFunction {
		e.SHA256 = sha256Engine(f)
	} else if !f.IsUndefined() && !f.IsNull() {
		return nil, errors.New("imgproof: options.engines.sha256 must be a function")
	}
	if f := v.Get("gunzip"); f.Type() == js.TypeFunction {
		e.Gunzip = gunzipEngine(func() (js.Value, error) {
			return catch(func() js.Value { return f.Invoke() })
		})
	} else if !f.IsUndefined() && !f.IsNull() {
		return nil, errors.New("imgproof: options.engines.gunzip must be a function")
	}
	if f := v.Get("blob"); f.Type() == js.TypeFunction {
		e.Blob = blobEngine(f)
	} else if !f.IsUndefined() && !f.IsNull() {
		return nil, errors.New("imgproof: options.engines.blob must be a function")
	}
	return e, nil
}

// hashChunk is the size of the JavaScript buffer that carries bytes to a
// hash engine.
const hashChunk = 256 << 10

// sha256Engine wraps a JavaScript hasher factory as verify.Engines.SHA256.
func sha256Engine(factory js.Value) func() hash.Hash {
	return func() hash.Hash {
		h := &jsHash{}
		v, err := catch(func() js.Value { return factory.Invoke() })
		if err == nil && v.Type() == js.TypeObject && v.Get("then").Type() == js.TypeFunction {
			v, err = await(v)
		}
		if err == nil && (v.Type() != js.TypeObject || v.Get("update").Type() != js.TypeFunction) {
			err = errors.New("the sha256 engine gave no hasher")
		}
		h.v, h.err = v, err
		return h
	}
}

// jsHash is a JavaScript hasher as a hash.Hash. Its first error sticks and
// is returned by Write and Err, so the verifier never trusts its sum.
type jsHash struct {
	v   js.Value
	buf js.Value // a reusable Uint8Array of hashChunk bytes
	sum []byte
	err error
}

func (h *jsHash) Write(p []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	if h.sum != nil {
		h.err = errors.New("sha256 engine: write after Sum")
		return 0, h.err
	}
	if h.buf.IsUndefined() {
		h.buf = uint8Array.New(hashChunk)
	}
	n := len(p)
	for len(p) > 0 {
		m := min(len(p), hashChunk)
		js.CopyBytesToJS(h.buf, p[:m])
		view := h.buf
		if m < hashChunk {
			view = h.buf.Call("subarray", 0, m)
		}
		if _, err := catch(func() js.Value { return h.v.Call("update", view) }); err != nil {
			h.err = fmt.Errorf("sha256 engine: %w", err)
			return 0, h.err
		}
		p = p[m:]
	}
	return n, nil
}

// Sum finishes the hash; the engine's hasher cannot go on afterwards.
func (h *jsHash) Sum(b []byte) []byte {
	if h.sum == nil && h.err == nil {
		d, err := catch(func() js.Value { return h.v.Call("digest") })
		switch {
		case err != nil:
			h.err = fmt.Errorf("sha256 engine: %w", err)
		case d.Type() != js.TypeObject || d.Length() != sha256.Size:
			h.err = errors.New("sha256 engine: digest is not 32 bytes")
		default:
			h.sum = make([]byte, sha256.Size)
			js.CopyBytesToGo(h.sum, d)
		}
	}
	if h.err != nil {
		return append(b, make([]byte, sha256.Size)...)
	}
	return append(b, h.sum...)
}

func (h *jsHash) Err() error     { return h.err }
func (h *jsHash) Reset()         { h.err = errors.New("sha256 engine: Reset is not supported") }
func (h *jsHash) Size() int      { return sha256.Size }
func (h *jsHash) BlockSize() int { return sha256.BlockSize }

// feedChunk is the most compressed bytes handed to a gzip engine at once,
// well inside verify.GunzipLookahead; readChunk is the most decompressed
// bytes taken from it at once.
const (
	feedChunk = 256 << 10
	readChunk = 256 << 10
)

// gunzipEngine wraps a maker of JavaScript gzip decoders (see
// web/engines.js: write, close, abort, cancel and readInto) as
// verify.Engines.Gunzip.
func gunzipEngine(newDecoder func() (js.Value, error)) func(io.Reader) (io.ReadCloser, error) {
	return func(src io.Reader) (io.ReadCloser, error) {
		d, err := newDecoder()
		if err != nil {
			return nil, err
		}
		for _, m := range []string{"write", "close", "abort", "cancel", "readInto"} {
			if d.Type() != js.TypeObject || d.Get(m).Type() != js.TypeFunction {
				return nil, fmt.Errorf("the gunzip engine's decoder has no %s method", m)
			}
		}
		g := &jsGunzip{d: d, buf: uint8Array.New(readChunk), feedErr: make(chan error, 1)}
		go g.feed(src)
		return g, nil
	}
}

// jsGunzip reads a JavaScript gzip decoder, which a goroutine feeds from
// src one chunk at a time: each write waits until the decoder took the
// chunk, so it never runs far ahead of the output, and one JavaScript
// buffer carries every chunk.
type jsGunzip struct {
	d       js.Value
	buf     js.Value   // a reusable Uint8Array of readChunk bytes
	feedErr chan error // the error reading src, or nil when src ended
	done    bool
}

func (g *jsGunzip) feed(src io.Reader) {
	buf := make([]byte, feedChunk)
	chunk := uint8Array.New(feedChunk)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			js.CopyBytesToJS(chunk, buf[:n])
			view := chunk
			if n < feedChunk {
				view = chunk.Call("subarray", 0, n)
			}
			if _, werr := await(g.d.Call("write", view)); werr != nil {
				// The decoder failed; the reading side reports why.
				g.feedErr <- nil
				return
			}
		}
		if err == io.EOF {
			_, _ = await(g.d.Call("close"))
			g.feedErr <- nil
			return
		}
		if err != nil {
			g.feedErr <- err
			g.d.Call("abort", js.Global().Get("Error").New(err.Error()))
			return
		}
	}
}

func (g *jsGunzip) Read(p []byte) (int, error) {
	if g.done {
		return 0, io.EOF
	}
	view := g.buf
	if len(p) < readChunk {
		view = g.buf.Call("subarray", 0, len(p))
	}
	res, err := await(g.d.Call("readInto", view))
	if err != nil {
		return 0, g.sourceErr(err)
	}
	n := res.Int()
	if n == 0 {
		g.done = true
		if err := <-g.feedErr; err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	return js.CopyBytesToGo(p, view.Call("subarray", 0, n)), nil
}

// sourceErr prefers an error reading the compressed bytes, which caused
// the decoder's, to the decoder's own.
func (g *jsGunzip) sourceErr(decoderErr error) error {
	select {
	case err := <-g.feedErr:
		if err != nil {
			return err
		}
	default:
	}
	return decoderErr
}

// Close stops the decoder; a feed still waiting on it then stops too.
func (g *jsGunzip) Close() error {
	if !g.done {
		g.done = true
		g.d.Call("cancel")
	}
	return nil
}

// minEngineBlob is the smallest blob worth handing to the blob engine,
// whose every call crosses into JavaScript and, in the page, to another
// worker.
const minEngineBlob = 1 << 20

// blobEngine wraps a JavaScript whole-blob engine (web/engines.js: blob)
// as verify.Engines.Blob. It takes the blobs that are parts of a File the
// page or caller gave, and declines the rest (entries of a gzipped archive,
// small blobs).
func blobEngine(f js.Value) func(context.Context, io.Reader, verify.BlobRequest) (*verify.BlobResult, error) {
	minSize := int64(minEngineBlob)
	if m := f.Get("minSize"); m.Type() == js.TypeNumber && m.Float() >= 0 {
		minSize = int64(m.Float())
	}
	return func(ctx context.Context, src io.Reader, req verify.BlobRequest) (*verify.BlobResult, error) {
		b, off, n, ok := blobio.Locate(src)
		jb, isJS := b.(*jsBlob)
		if !ok || !isJS || n < minSize {
			return nil, nil
		}
		if req.Max >= 0 {
			n = min(n, req.Max)
		}
		r := js.Global().Get("Object").New()
		r.Set("name", req.Name)
		r.Set("maxOutput", float64(req.MaxOutput))
		r.Set("ratio", float64(req.Ratio))
		r.Set("ratioFloor", float64(req.RatioFloor))
		r.Set("lookahead", float64(verify.GunzipLookahead))
		release := func() {}
		if req.Progress != nil {
			cb := js.FuncOf(func(_ js.Value, args []js.Value) any {
				if d := arg(args, 0); d.Type() == js.TypeNumber {
					req.Progress(int64(d.Float()))
				}
				return nil
			})
			release = cb.Release
			r.Set("onProgress", cb)
		}
		p, err := catch(func() js.Value { return f.Invoke(jb.v, float64(off), float64(off+n), r) })
		if err != nil || p.Type() != js.TypeObject || p.Get("then").Type() != js.TypeFunction {
			release()
			if err != nil {
				return nil, err
			}
			return parseBlobResult(p)
		}
		// The callback lives until the engine is done with it, even when
		// ctx ends first.
		done := settle(p)
		select {
		case res := <-done:
			release()
			if res.err != nil {
				return nil, res.err
			}
			return parseBlobResult(res.v)
		case <-ctx.Done():
			go func() { <-done; release() }()
			return nil, ctx.Err()
		}
	}
}

// parseBlobResult reads a blob engine's result: null when it declined.
func parseBlobResult(v js.Value) (*verify.BlobResult, error) {
	if v.IsNull() || v.IsUndefined() {
		return nil, nil
	}
	if v.Type() != js.TypeObject {
		return nil, errors.New("the blob engine's result is not an object")
	}
	r := &verify.BlobResult{Gzip: v.Get("gzip").Truthy()}
	var err error
	field := func(name string, min, max int) []byte {
		b, ferr := uint8Bytes(v.Get(name), min, max)
		if ferr != nil && err == nil {
			err = fmt.Errorf("%s: %w", name, ferr)
		}
		return b
	}
	number := func(name string) int64 {
		n := v.Get(name)
		if n.Type() != js.TypeNumber || n.Float() < 0 || n.Float() > 1<<53 || n.Float() != float64(int64(n.Float())) {
			if err == nil {
				err = fmt.Errorf("%s is not a byte count", name)
			}
			return 0
		}
		return int64(n.Float())
	}
	r.Size = number("size")
	copy(r.SHA256[:], field("sha256", 32, 32))
	r.Magic = field("magic", 0, 8)
	copy(r.Tail[:], field("tail", 8, 8))
	r.Head = field("head", 0, 512)
	if r.Gzip {
		r.Output = number("output")
		copy(r.OutputSHA256[:], field("outputSHA256", 32, 32))
		crc := number("outputCRC32")
		if crc > 0xffffffff && err == nil {
			err = errors.New("outputCRC32 is not a CRC-32")
		}
		r.OutputCRC32 = uint32(crc)
	}
	if err != nil {
		return nil, fmt.Errorf("the blob engine's result: %w", err)
	}
	return r, nil
}

// uint8Bytes copies a Uint8Array of min to max bytes.
func uint8Bytes(v js.Value, min, max int) ([]byte, error) {
	if v.Type() != js.TypeObject || !v.InstanceOf(uint8Array) {
		return nil, errors.New("not a Uint8Array")
	}
	n := v.Length()
	if n < min || n > max {
		return nil, fmt.Errorf("%d bytes, want %d to %d", n, min, max)
	}
	b := make([]byte, n)
	js.CopyBytesToGo(b, v)
	return b, nil
}
