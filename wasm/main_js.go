// Command wasm is imgproof's verifier for the browser and Node.js: the core
// compiled with GOOS=js GOARCH=wasm behind a thin adapter.
//
// Once started, it sets globalThis.imgproof to an object with
//
//	verify(input, options?)  -> Promise<string>  the JSON report
//	inspect(input, options?) -> Promise<string>  the JSON report, no progress
//	version                  -> string
//
// and calls globalThis.imgproofReady() if that is a function. input is a
// Blob or File (a docker-save tarball or an OCI archive, gzipped or not), an
// array or FileList of Files from a folder picker (placed by
// webkitRelativePath), or an object mapping slash-separated paths to Blobs
// (an OCI layout folder). The JSON is byte for byte what
// `imgproof verify --output json` prints for the same input, without the
// final newline.
//
// options: {name?: string, platform?: "os/arch[/variant]",
// onProgress?: (name, done, total) => void, parallelism?: number,
// engines?: false | {sha256?, gunzip?}} (see parseEngines),
// limits?: {kind: number} (the CLI's --limit, see parseLimits), plus the
// signature and attestation options that claimOptions lists. As in the CLI,
// the claims found in the image are always checked and reported.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"syscall/js"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/verify"
	"github.com/imgproof/imgproof/wasm/internal/blobio"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	api := js.Global().Get("Object").New()
	api.Set("verify", promiseFunc(func(args []js.Value) (any, error) { return run(args, true) }))
	api.Set("inspect", promiseFunc(func(args []js.Value) (any, error) { return run(args, false) }))
	api.Set("version", version)
	js.Global().Set("imgproof", api)
	if ready := js.Global().Get("imgproofReady"); ready.Type() == js.TypeFunction {
		ready.Invoke(api)
	}
	select {} // keep the exported functions alive
}

// promiseFunc exports f as a JavaScript function that returns a Promise. f
// runs on its own goroutine, so it may block on JavaScript Promises.
func promiseFunc(f func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		args = append([]js.Value(nil), args...)
		var executor js.Func
		executor = js.FuncOf(func(_ js.Value, pargs []js.Value) any {
			resolve, reject := pargs[0], pargs[1]
			go func() {
				defer executor.Release()
				v, err := safeCall(f, args)
				if err != nil {
					reject.Invoke(js.Global().Get("Error").New(err.Error()))
					return
				}
				resolve.Invoke(v)
			}()
			return nil
		})
		return js.Global().Get("Promise").New(executor)
	})
}

// safeCall turns a panic into an error: the exported functions never take
// the whole module down.
func safeCall(f func([]js.Value) (any, error), args []js.Value) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("imgproof: internal error: %v", r)
		}
	}()
	return f(args)
}

// run verifies the input described by args[0] with the options in args[1]
// and returns the report as indented JSON.
func run(args []js.Value, withProgress bool) (any, error) {
	in, err := parseInput(arg(args, 0))
	if err != nil {
		return nil, err
	}
	opts, name, flush, err := parseOptions(arg(args, 1), withProgress)
	if err != nil {
		return nil, err
	}
	claims, err := parseClaimOptions(arg(args, 1), opts.Limits)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = in.name
	}
	in.useReader(arg(args, 1))
	ctx := context.Background()
	rep, err := attest.Run(ctx, func(o *verify.Options) (*verify.Result, error) {
		return verifyInput(ctx, in, name, o)
	}, opts, claims.trust())
	flush()
	if err != nil {
		return nil, err
	}
	if rep == nil || rep.Report == nil {
		return nil, errors.New("imgproof: the verifier returned no report")
	}
	out, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("imgproof: encoding the report: %w", err)
	}
	return string(out), nil
}

// input is what the caller handed over: one archive, or a layout folder.
type input struct {
	name    string
	archive *jsBlob
	folder  map[string]blobio.Blob
}

func parseInput(v js.Value) (*input, error) {
	blobCtor := js.Global().Get("Blob")
	isBlob := func(v js.Value) bool { return v.Type() == js.TypeObject && v.InstanceOf(blobCtor) }
	switch {
	case isBlob(v):
		return &input{name: blobName(v, "blob"), archive: newJSBlob(v)}, nil
	case v.Type() == js.TypeObject && v.Get("length").Type() == js.TypeNumber:
		// An array or FileList, as a folder picker or a drop gives.
		n := v.Get("length").Int()
		if n == 0 {
			return nil, errors.New("imgproof: no files given")
		}
		if n == 1 {
			f := v.Index(0)
			if !isBlob(f) {
				return nil, errors.New("imgproof: item 0 is not a Blob or File")
			}
			if rel := f.Get("webkitRelativePath"); rel.Type() != js.TypeString || !hasSlash(rel.String()) {
				return &input{name: blobName(f, "blob"), archive: newJSBlob(f)}, nil
			}
		}
		folder := make(map[string]blobio.Blob, n)
		root := ""
		for i := 0; i < n; i++ {
			f := v.Index(i)
			if !isBlob(f) {
				return nil, fmt.Errorf("imgproof: item %d is not a Blob or File", i)
			}
			p := blobName(f, "")
			if rel := f.Get("webkitRelativePath"); rel.Type() == js.TypeString && rel.String() != "" {
				p = rel.String()
			}
			if p == "" {
				return nil, fmt.Errorf("imgproof: item %d has no name or path", i)
			}
			if _, dup := folder[p]; dup {
				return nil, fmt.Errorf("imgproof: path %q given twice", p)
			}
			if root == "" {
				root = topDir(p)
			}
			folder[p] = newJSBlob(f)
		}
		return &input{name: orDefault(root, "folder"), folder: folder}, nil
	case v.Type() == js.TypeObject:
		keys := js.Global().Get("Object").Call("keys", v)
		n := keys.Length()
		if n == 0 {
			return nil, errors.New("imgproof: empty folder")
		}
		folder := make(map[string]blobio.Blob, n)
		root := ""
		for i := 0; i < n; i++ {
			p := keys.Index(i).String()
			f := v.Get(p)
			if !isBlob(f) {
				return nil, fmt.Errorf("imgproof: %q is not a Blob or File", p)
			}
			if root == "" {
				root = topDir(p)
			}
			folder[p] = newJSBlob(f)
		}
		return &input{name: orDefault(root, "folder"), folder: folder}, nil
	default:
		return nil, errors.New("imgproof: input must be a Blob, a File, an array of Files or an object mapping paths to Blobs")
	}
}

// useReader gives every blob of the input the sequential reader that
// options.engines.read opens, if there is one.
func (in *input) useReader(opts js.Value) {
	if opts.Type() != js.TypeObject || opts.Get("engines").Type() != js.TypeObject {
		return
	}
	open := opts.Get("engines").Get("read")
	if open.Type() != js.TypeFunction {
		return
	}
	set := func(b *jsBlob) { b.open, b.streams = open, map[int64]*jsStream{} }
	if in.archive != nil {
		set(in.archive)
	}
	for _, b := range in.folder {
		if jb, ok := b.(*jsBlob); ok {
			set(jb)
		}
	}
}

func blobName(v js.Value, def string) string {
	if n := v.Get("name"); n.Type() == js.TypeString && n.String() != "" {
		return n.String()
	}
	return def
}

func hasSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

func topDir(p string) string {
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// parseOptions reads the options object. flush sends the progress events
// held back by throttling; call it when the verification ends.
func parseOptions(v js.Value, withProgress bool) (opts *verify.Options, name string, flush func(), err error) {
	opts = &verify.Options{}
	flush = func() {}
	if v.Type() != js.TypeObject {
		if !v.IsUndefined() && !v.IsNull() {
			return nil, "", nil, errors.New("imgproof: options must be an object")
		}
		return opts, "", flush, nil
	}
	if n := v.Get("name"); n.Type() == js.TypeString {
		name = n.String()
	}
	if p := v.Get("platform"); p.Type() == js.TypeString && p.String() != "" {
		plat, err := parsePlatform(p.String())
		if err != nil {
			return nil, "", nil, err
		}
		opts.Platform = plat
	}
	if opts.Engines, err = parseEngines(v.Get("engines")); err != nil {
		return nil, "", nil, err
	}
	if opts.Limits, err = parseLimits(v.Get("limits")); err != nil {
		return nil, "", nil, err
	}
	if p := v.Get("parallelism"); p.Type() == js.TypeNumber {
		opts.Parallelism = p.Int()
	}
	if cb := v.Get("onProgress"); withProgress && cb.Type() == js.TypeFunction {
		th := newThrottler(func(p verify.Progress) {
			cb.Invoke(p.Name, float64(p.Done), float64(p.Total))
		})
		opts.Progress = th.progress
		flush = th.flush
	}
	return opts, name, flush, nil
}

// parsePlatform reads os/arch[/variant] with verify.ParsePlatform, as the
// CLI's --platform does.
func parsePlatform(s string) (*verify.Platform, error) {
	p, ok := verify.ParsePlatform(s)
	if !ok {
		return nil, fmt.Errorf("imgproof: platform %q is not os/arch[/variant]", s)
	}
	return &p, nil
}

// throttler passes on a blob's first and last event and one per 1% (at
// least 1 MiB) in between: crossing into JavaScript for every chunk would
// cost more than the hashing. A Total of 0 means the size is unknown, so
// the last event held back for each blob is sent by flush.
type throttler struct {
	f       func(verify.Progress)
	mu      sync.Mutex
	sent    map[string]int64
	pending map[string]verify.Progress
	order   []string
}

func newThrottler(f func(verify.Progress)) *throttler {
	return &throttler{f: f, sent: map[string]int64{}, pending: map[string]verify.Progress{}}
}

func (t *throttler) progress(p verify.Progress) {
	step := max(p.Total/100, 1<<20)
	t.mu.Lock()
	prev, seen := t.sent[p.Name]
	if !seen {
		t.order = append(t.order, p.Name)
	}
	if seen && (p.Total <= 0 || p.Done < p.Total) && p.Done-prev < step {
		t.pending[p.Name] = p
		t.mu.Unlock()
		return
	}
	t.sent[p.Name] = p.Done
	delete(t.pending, p.Name)
	t.mu.Unlock()
	t.f(p)
}

// flush sends every event that was held back.
func (t *throttler) flush() {
	t.mu.Lock()
	var out []verify.Progress
	for _, name := range t.order {
		if p, ok := t.pending[name]; ok {
			out = append(out, p)
			t.sent[name] = p.Done
			delete(t.pending, name)
		}
	}
	t.mu.Unlock()
	for _, p := range out {
		t.f(p)
	}
}

// verifyInput runs the core on the input, through the same entry points as
// the CLI so that both give the same report. Archives are read through a
// bounded block cache over Blob.slice: plain tars are indexed and their
// entries read at random; gzipped ones are read front to back in one pass.
// With a sequential reader (engines.read), which serves reads that follow
// each other, the blocks are small, so that indexing a tar reads little
// more than its headers; without one, each block is one Blob.slice, and
// large ones read faster.
// indexBlock and indexBlocks size the block cache over an archive read
// with a sequential reader.
const (
	indexBlock  = 64 << 10
	indexBlocks = 64
)

func verifyInput(ctx context.Context, in *input, name string, opts *verify.Options) (*verify.Result, error) {
	if in.folder != nil {
		fsys, err := blobio.NewFS(in.folder)
		if err != nil {
			return nil, fmt.Errorf("imgproof: folder: %w", err)
		}
		return verify.Dir(ctx, fsys, name, opts), nil
	}
	var r *blobio.CachedReaderAt
	if in.archive.open.IsUndefined() {
		r = blobio.NewCachedReaderAt(in.archive, 0, 0)
	} else {
		r = blobio.NewCachedReaderAt(in.archive, indexBlock, indexBlocks)
	}
	return verify.Archive(ctx, r, r.Size(), name, opts), nil
}
