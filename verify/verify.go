package verify

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"runtime"

	"github.com/imgproof/imgproof/internal/limits"
)

// Options tunes a verification. The zero value is the strictest setting.
type Options struct {
	// Limits bounds the work; the zero value means limits.Default().
	Limits *limits.Limits
	// Platform, if set, selects the images of one platform from an index;
	// the others are still verified by digest but not reported as images.
	Platform *Platform
	// Parallelism is the number of blobs hashed at once; 0 means GOMAXPROCS.
	Parallelism int
	// Progress, if set, receives progress events. It must be cheap and safe
	// to call from several goroutines.
	Progress func(Progress)
	// LayerContent, if set, is called with the decompressed stream of each
	// tar layer, in the same pass that hashes it; blob is the layer's file
	// name in the source. When a gzipped archive is read in one pass, the
	// graph is not known yet, so it is called for every file of the
	// archive; callers keep what the graph names as tar layers. An error it returns becomes an E_LAYER_CONTENT
	// finding on the layer. It runs on its own goroutine and must read r
	// to its end or return.
	LayerContent func(blob string, r io.Reader) error
	// Logger, if set, receives debug logs.
	Logger *slog.Logger
	// Engines, if set, replaces the built-in SHA-256 and gzip decoder with
	// faster ones; reports are the same either way (see Engines).
	Engines *Engines
	// BlobCache, if set, shares blob evidence between runs (see BlobCache).
	BlobCache BlobCache
	// Amend, if set, is called on the report once the walk is done and
	// before the verdict is drawn, also when the run stopped early: a source
	// adds the findings of its own transport there (package registry).
	Amend func(*Report)
	// Claims, if set, is the last stage before the verdict, after Amend,
	// also when the run stopped early: package attest checks the
	// signatures and attestations of what was verified there (attest.Run),
	// so that the report is finalized once, by the run that made it. It
	// may read blobs through res and narrow res.Report.Images, and must
	// not call Finalize.
	Claims func(ctx context.Context, res *Result)
}

// Result is a finished verification: its report, plus read access to the
// source for packages that bind claims to the graph (package attest).
type Result struct {
	Report *Report
	v      *verifier
}

// Progress reports bytes read from one blob.
type Progress struct {
	// Name is the blob's file name in the source.
	Name string `json:"name"`
	// Done and Total are bytes; Total is the stored size.
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
}

func (o *Options) limits() limits.Limits {
	if o == nil || o.Limits == nil {
		return limits.Default()
	}
	return *o.Limits
}

func (o *Options) parallelism() int {
	if o == nil || o.Parallelism <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return o.Parallelism
}

// Dir verifies an OCI image layout held in fsys (rooted at the layout) or a
// docker-save archive that was unpacked into it. name is what the report
// calls the source.
func Dir(ctx context.Context, fsys fs.FS, name string, opts *Options) *Result {
	return run(ctx, name, opts, true, func(v *verifier) error { return v.loadFS(fsys) })
}

// Archive verifies a tar archive (an OCI archive or a docker-save tarball,
// plain or gzipped) read through r, which holds size bytes. The format is
// detected from the content. Plain tars are indexed once and their entries
// read in parallel; gzipped ones are read in a single sequential pass.
func Archive(ctx context.Context, r io.ReaderAt, size int64, name string, opts *Options) *Result {
	return run(ctx, name, opts, true, func(v *verifier) error { return v.loadArchive(r, size) })
}

// Stream verifies a tar archive, plain or gzipped, that can only be read
// once, front to back.
func Stream(ctx context.Context, r io.Reader, name string, opts *Options) *Result {
	return run(ctx, name, opts, false, func(v *verifier) error { return v.loadStream(r) })
}
