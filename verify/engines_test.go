package verify_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/fixtures/hostile"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// strictEngines behave like a browser's: a gzip decoder that rejects a
// second member and any byte after the first (as DecompressionStream
// does), built on compress/gzip rather than the verifier's decoder, and a
// SHA-256 that counts what it hashed.
type strictEngines struct {
	gunzips, gunzipErrors, hashed atomic.Int64
	brokenHash                    bool
	// zeroPadding accepts zero bytes after the member, as Node.js's
	// DecompressionStream does and the built-in decoder does not.
	zeroPadding bool
}

func (s *strictEngines) engines() *verify.Engines {
	return &verify.Engines{
		SHA256: func() hash.Hash { return &countingHash{Hash: sha256.New(), s: s} },
		Gunzip: func(r io.Reader) (io.ReadCloser, error) {
			s.gunzips.Add(1)
			br := bufio.NewReader(r)
			zr, err := gzip.NewReader(br)
			if err != nil {
				s.gunzipErrors.Add(1)
				return nil, err
			}
			zr.Multistream(false)
			return &singleMember{zr: zr, br: br, s: s, zeroPadding: s.zeroPadding}, nil
		},
	}
}

type countingHash struct {
	hash.Hash
	s *strictEngines
}

func (h *countingHash) Write(p []byte) (int, error) {
	h.s.hashed.Add(int64(len(p)))
	return h.Hash.Write(p)
}

func (h *countingHash) Err() error {
	if h.s.brokenHash {
		return errors.New("engine lost")
	}
	return nil
}

type singleMember struct {
	zr          *gzip.Reader
	br          *bufio.Reader
	s           *strictEngines
	zeroPadding bool
}

func (m *singleMember) Read(p []byte) (int, error) {
	n, err := m.zr.Read(p)
	if err == io.EOF {
		rest, _ := io.ReadAll(m.br)
		if len(rest) > 0 && (!m.zeroPadding || !bytes.Equal(rest, make([]byte, len(rest)))) {
			err = errors.New("junk found after end of compressed data")
		}
	}
	if err != nil && err != io.EOF {
		m.s.gunzipErrors.Add(1)
	}
	return n, err
}

func (m *singleMember) Close() error { return m.zr.Close() }

// withEngines returns a copy of opts that uses e.
func withEngines(opts *verify.Options, e *verify.Engines) *verify.Options {
	o := *opts
	o.Engines = e
	return &o
}

// Every layout and archive of the hostile corpus gives the same report
// with engines as without, although the engines reject what the built-in
// decoder accepts (multi-member gzip) and report errors in other words.
func TestEnginesGiveTheBuiltInReportOnTheHostileCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the corpus includes bombs")
	}
	t.Run("strict", func(t *testing.T) { testEnginesOnCorpus(t, &strictEngines{}) })
	// An engine that accepts what the built-in decoder rejects is caught by
	// the trailer check, never trusted.
	t.Run("zero padding", func(t *testing.T) { testEnginesOnCorpus(t, &strictEngines{zeroPadding: true}) })
}

func testEnginesOnCorpus(t *testing.T, eng *strictEngines) {
	runCorpus(t, func(o *verify.Options) *verify.Options { return withEngines(o, eng.engines()) })
	// The engines did the work where they could, and failed where a
	// browser's would, so both paths were taken.
	if eng.gunzips.Load() < 50 || eng.hashed.Load() < 1<<20 {
		t.Fatalf("engines barely used: %d gunzips, %d bytes hashed", eng.gunzips.Load(), eng.hashed.Load())
	}
	if eng.gunzipErrors.Load() == 0 {
		t.Fatal("no engine failure: the fallback was never exercised")
	}
}

// runCorpus checks that every layout and archive of the hostile corpus
// gives the same report with the options that with makes as without.
func runCorpus(t *testing.T, with func(*verify.Options) *verify.Options) {
	t.Helper()
	ran := 0
	for _, c := range hostile.Cases() {
		if c.Pending != "" || (c.Kind != hostile.KindLayout && c.Kind != hostile.KindArchive) {
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			in, err := c.Input()
			if err != nil {
				t.Fatal(err)
			}
			opts := hostileOptions(t, c)
			run := func(o *verify.Options) *verify.Report {
				if c.Kind == hostile.KindLayout {
					return verify.Dir(context.Background(), in.LayoutFS(), c.ID, o).Report
				}
				return verify.Archive(context.Background(), bytes.NewReader(in.Archive), int64(len(in.Archive)), c.ID, o).Report
			}
			want := run(opts)
			got := run(with(opts))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("report with engines differs (-built-in +engines):\n%s", diff)
			}
			if string(want.Verdict) != c.Verdict {
				t.Fatalf("verdict %s, want %s", want.Verdict, c.Verdict)
			}
		})
		ran++
	}
	if ran < 100 {
		t.Fatalf("only %d corpus cases ran", ran)
	}
}

func hostileOptions(t *testing.T, c hostile.Case) *verify.Options {
	t.Helper()
	l := limits.Default()
	for _, kv := range c.Limits {
		k, v, _ := strings.Cut(kv, "=")
		var n int64
		if _, err := fmt.Sscan(v, &n); err != nil {
			t.Fatal(err)
		}
		if err := l.Set(limits.Kind(k), n); err != nil {
			t.Fatal(err)
		}
	}
	o := &verify.Options{Limits: &l}
	if c.Platform != "" {
		p := strings.Split(c.Platform, "/")
		o.Platform = &verify.Platform{OS: p[0], Architecture: p[1]}
		if len(p) == 3 {
			o.Platform.Variant = p[2]
		}
	}
	return o
}

// A multi-member gzip layer is valid: the engine rejects it, the run is
// done again with the built-in decoder, and the image verifies.
func TestEngineFailureFallsBackToTheBuiltInDecoder(t *testing.T) {
	spec := fixtures.Default()
	spec.Images[0].Layers[0].Compression = fixtures.GzipMultiMember
	b := fixtures.MustBuild(spec)
	eng := &strictEngines{}
	r := verify.Dir(context.Background(), b.LayoutFS(), "multi", &verify.Options{Engines: eng.engines()}).Report
	if r.Verdict != verify.Verified {
		t.Fatalf("verdict %s: %v", r.Verdict, r.Err())
	}
	if eng.gunzipErrors.Load() == 0 {
		t.Fatal("the engine accepted a multi-member stream; the test proves nothing")
	}
	// A broken hash engine is noticed too, and never trusted.
	broken := &strictEngines{brokenHash: true}
	for _, src := range []struct {
		name string
		run  func(*verify.Options) *verify.Report
	}{
		{"layout", func(o *verify.Options) *verify.Report {
			return verify.Dir(context.Background(), b.LayoutFS(), "x", o).Report
		}},
		{"gzipped archive", func(o *verify.Options) *verify.Report {
			var buf bytes.Buffer
			if err := b.WriteOCIArchive(&buf, true); err != nil {
				t.Fatal(err)
			}
			return verify.Archive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "x", o).Report
		}},
	} {
		want := src.run(&verify.Options{})
		got := src.run(&verify.Options{Engines: broken.engines()})
		if diff := cmp.Diff(want, got); diff != "" || got.Verdict != verify.Verified {
			t.Fatalf("%s: broken hash engine changed the report (%s):\n%s", src.name, got.Verdict, diff)
		}
	}
	if broken.hashed.Load() == 0 {
		t.Fatal("the hash engine was not used")
	}
}

// A stream, which cannot be read twice, never uses engines.
func TestStreamsDoNotUseEngines(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	var buf bytes.Buffer
	if err := b.WriteOCIArchive(&buf, true); err != nil {
		t.Fatal(err)
	}
	eng := &strictEngines{}
	r := verify.Stream(context.Background(), &buf, "stream", &verify.Options{Engines: eng.engines()}).Report
	if r.Verdict != verify.Verified {
		t.Fatalf("verdict %s: %v", r.Verdict, r.Err())
	}
	if eng.gunzips.Load() != 0 || eng.hashed.Load() != 0 {
		t.Fatalf("engines used on a stream: %d gunzips, %d bytes", eng.gunzips.Load(), eng.hashed.Load())
	}
}

// On valid single-member layers the engines' work is kept: no run is done
// twice.
func TestEnginesAreTrustedOnValidLayers(t *testing.T) {
	b := fixtures.MustBuild(fixtures.MultiPlatform())
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	eng := &strictEngines{}
	var archive bytes.Buffer
	if err := b.WriteOCIArchive(&archive, true); err != nil {
		t.Fatal(err)
	}
	opts := &verify.Options{Engines: eng.engines(), Logger: logger}
	for _, r := range []*verify.Report{
		verify.Dir(context.Background(), b.LayoutFS(), "layout", opts).Report,
		verify.Archive(context.Background(), bytes.NewReader(archive.Bytes()), int64(archive.Len()), "archive", opts).Report,
	} {
		if r.Verdict != verify.Verified {
			t.Fatalf("%s: verdict %s: %v", r.Source.Path, r.Verdict, r.Err())
		}
	}
	if strings.Contains(logs.String(), "engine failed") {
		t.Fatalf("an engine run was discarded:\n%s", logs.String())
	}
	if eng.gunzips.Load() == 0 {
		t.Fatal("the gzip engine was not used")
	}
}
