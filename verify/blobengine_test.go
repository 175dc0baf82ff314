package verify_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// blobEngine does a whole blob's pass itself, as the browser's pool of
// workers does: it reads the blob from where it is stored (the archive's
// ReaderAt, or the layout file's), never through the verifier's reader,
// and decompresses gzip with a single-member decoder like strictEngines'.
type blobEngine struct {
	zeroPadding bool
	// lie, if set, alters each result before it is returned.
	lie                   func(*verify.BlobResult)
	offered, used, failed atomic.Int64
}

func (e *blobEngine) engines() *verify.Engines {
	return &verify.Engines{Blob: e.blob}
}

// locate finds where src reads from, as the wasm adapter finds a File.
func locate(src io.Reader) (io.ReaderAt, int64, int64, bool) {
	switch r := src.(type) {
	case *io.SectionReader:
		ra, off, n := r.Outer()
		return ra, off, n, true
	case interface {
		io.ReaderAt
		fs.File
	}:
		st, err := r.Stat()
		if err != nil {
			return nil, 0, 0, false
		}
		return r, 0, st.Size(), true
	}
	return nil, 0, 0, false
}

func (e *blobEngine) blob(_ context.Context, src io.Reader, req verify.BlobRequest) (*verify.BlobResult, error) {
	e.offered.Add(1)
	ra, off, n, ok := locate(src)
	if !ok {
		return nil, nil
	}
	if req.Max >= 0 {
		n = min(n, req.Max)
	}
	stored := make([]byte, n)
	if _, err := ra.ReadAt(stored, off); err != nil && err != io.EOF {
		return nil, err
	}
	res := &verify.BlobResult{Size: n, SHA256: sha256.Sum256(stored), Magic: stored[:min(n, 8)]}
	copy(res.Tail[:], stored[max(n-8, 0):])
	switch {
	case bytes.HasPrefix(stored, []byte{0x1f, 0x8b}):
		if err := e.gunzip(stored, req, res); err != nil {
			e.failed.Add(1)
			return nil, err
		}
	case len(stored) >= 4 && (bytes.HasPrefix(stored, []byte{0x28, 0xb5, 0x2f, 0xfd}) || stored[3] == 0x18):
		return nil, nil // zstd: declined, as the browser has no zstd engine
	default:
		res.Head = stored[:min(n, 512)]
	}
	e.used.Add(1)
	if e.lie != nil {
		e.lie(res)
	}
	return res, nil
}

// gunzip decompresses one member under the request's bomb guard.
func (e *blobEngine) gunzip(stored []byte, req verify.BlobRequest, res *verify.BlobResult) error {
	in := bytes.NewReader(stored) // an io.ByteReader: the decoder reads no further than it needs
	zr, err := gzip.NewReader(in)
	if err != nil {
		return err
	}
	zr.Multistream(false)
	h, crc := sha256.New(), crc32.NewIEEE()
	buf := make([]byte, 32<<10)
	for {
		m, err := zr.Read(buf)
		h.Write(buf[:m])
		crc.Write(buf[:m])
		if len(res.Head) < 512 {
			res.Head = append(res.Head, buf[:min(m, 512-len(res.Head))]...)
		}
		res.Output += int64(m)
		if res.Output > req.MaxOutput || (res.Output > req.RatioFloor && res.Output > req.Ratio*max(int64(len(stored)-in.Len())-verify.GunzipLookahead, 1)) {
			return errors.New("bomb guard")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if rest := stored[len(stored)-in.Len():]; len(rest) > 0 && (!e.zeroPadding || !bytes.Equal(rest, make([]byte, len(rest)))) {
		return errors.New("junk found after end of compressed data")
	}
	res.Gzip = true
	copy(res.OutputSHA256[:], h.Sum(nil))
	res.OutputCRC32 = crc.Sum32()
	return nil
}

// Every layout and archive of the hostile corpus gives the same report
// with a blob engine as without, whether it is strict or accepts zero
// padding after a gzip member.
func TestBlobEngineGivesTheBuiltInReportOnTheHostileCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus includes bombs")
	}
	for _, e := range []*blobEngine{{}, {zeroPadding: true}} {
		runCorpus(t, func(o *verify.Options) *verify.Options { return withEngines(o, e.engines()) })
		if e.used.Load() < 50 || e.failed.Load() == 0 {
			t.Fatalf("zero padding %v: %d blobs offered, %d done by the engine, %d failed: both paths must be taken",
				e.zeroPadding, e.offered.Load(), e.used.Load(), e.failed.Load())
		}
	}
}

// A result that does not hold together is never trusted: the run is done
// again with the built-in code and gives its report.
func TestInconsistentBlobResultsAreNotTrusted(t *testing.T) {
	b := fixtures.MustBuild(fixtures.MultiPlatform())
	want := verify.Dir(context.Background(), b.LayoutFS(), "x", &verify.Options{}).Report
	if want.Verdict != verify.Verified {
		t.Fatalf("fixture: %s", want.Verdict)
	}
	lies := map[string]func(*verify.BlobResult){
		"output size":       func(r *verify.BlobResult) { r.Output++ },
		"crc":               func(r *verify.BlobResult) { r.OutputCRC32 ^= 1 },
		"not decompressed":  func(r *verify.BlobResult) { r.Gzip = false },
		"decompressed none": func(r *verify.BlobResult) { r.Gzip = !r.Gzip },
		"short head":        func(r *verify.BlobResult) { r.Head = r.Head[:len(r.Head)/2] },
		"no magic":          func(r *verify.BlobResult) { r.Magic = nil },
		"read too much":     func(r *verify.BlobResult) { r.Size += 1 << 30 },
		"diff_id":           func(r *verify.BlobResult) { r.OutputSHA256[0] ^= 1 },
	}
	for name, lie := range lies {
		t.Run(name, func(t *testing.T) {
			e := &blobEngine{lie: lie}
			got := verify.Dir(context.Background(), b.LayoutFS(), "x", withEngines(&verify.Options{}, e.engines())).Report
			if e.used.Load() == 0 {
				t.Fatal("the engine was not used")
			}
			if name == "diff_id" {
				// A wrong digest cannot be told from the data: it is
				// caught where the verifier compares it, as a mismatch.
				if got.Verdict != verify.Failed {
					t.Fatalf("verdict %s with a wrong diff_id from the engine", got.Verdict)
				}
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("report differs (-built-in +engine):\n%s", diff)
			}
		})
	}
}

// An empty gzip member's trailer is all zero, like zero padding: an engine
// that accepts padding after an empty member is not trusted, and the
// built-in decoder's report (trailing bytes) stands.
func TestEnginesDoNotTrustZerosAfterAnEmptyMember(t *testing.T) {
	spec := fixtures.Default()
	spec.Images[0].Layers = []fixtures.Layer{{Raw: []byte{}, Compression: fixtures.Gzip,
		EditBlob: func(b []byte) []byte { return append(b, make([]byte, 8)...) }}}
	b := fixtures.MustBuild(spec)
	want := verify.Dir(context.Background(), b.LayoutFS(), "x", &verify.Options{}).Report
	if want.Verdict != verify.Failed {
		t.Fatalf("built-in verdict %s, want FAILED for zeros after the member", want.Verdict)
	}
	padded := &strictEngines{zeroPadding: true}
	blobs := &blobEngine{zeroPadding: true}
	for name, e := range map[string]*verify.Engines{"streaming": padded.engines(), "whole-blob": blobs.engines()} {
		got := verify.Dir(context.Background(), b.LayoutFS(), "x", withEngines(&verify.Options{}, e)).Report
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s engine changed the report (-built-in +engine):\n%s", name, diff)
		}
	}
	if padded.gunzips.Load() == 0 || blobs.used.Load() == 0 {
		t.Fatalf("engines unused: %d gunzips, %d blobs", padded.gunzips.Load(), blobs.used.Load())
	}
}
