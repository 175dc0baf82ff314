package main

import (
	"errors"
	"fmt"
	"io"
	"syscall/js"
)

// jsBlob is a JavaScript Blob or File seen as a blobio.Blob. Each ReadAt is
// one Blob.slice: read synchronously with FileReaderSync inside a Web
// Worker, and through the arrayBuffer Promise elsewhere (the page's main
// thread, Node.js).
type jsBlob struct {
	v    js.Value
	size int64
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
	return &jsBlob{v: v, size: int64(v.Get("size").Float())}
}

func (b *jsBlob) Size() int64 { return b.size }

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
	slice := b.v.Call("slice", float64(off), float64(end))
	var buf js.Value
	if !fileReaderSync.IsUndefined() {
		var err error
		buf, err = catch(func() js.Value { return fileReaderSync.Call("readAsArrayBuffer", slice) })
		if err != nil {
			return 0, fmt.Errorf("blob: reading bytes %d-%d: %w", off, end, err)
		}
	} else {
		var err error
		buf, err = await(slice.Call("arrayBuffer"))
		if err != nil {
			return 0, fmt.Errorf("blob: reading bytes %d-%d: %w", off, end, err)
		}
	}
	n := js.CopyBytesToGo(p, uint8Array.New(buf))
	if int64(n) != end-off {
		return n, fmt.Errorf("blob: read %d bytes at %d, want %d (was the file changed?)", n, off, end-off)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// await blocks the calling goroutine until the Promise p settles. It must
// not run on the JavaScript event loop's own goroutine.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	onOK := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: arg(args, 0)}
		return nil
	})
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{err: jsError(arg(args, 0))}
		return nil
	})
	defer onOK.Release()
	defer onErr.Release()
	p.Call("then", onOK, onErr)
	r := <-ch
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
