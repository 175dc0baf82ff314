package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/imgproof/imgproof/bench/imagegen"
	"github.com/imgproof/imgproof/verify"
	"github.com/klauspost/compress/gzip"
)

var (
	benchSize  = flag.String("bench.size", "64MiB", "content size of the generated benchmark image")
	benchImage = flag.String("bench.image", "", "use this bench/gen output directory (with info.json and a gzip variant) instead of generating an image")
	benchRatio = flag.Bool("bench.ratios", true, "measure the baselines and report ratios to them (turn off to keep them out of a -cpuprofile)")
)

// fixture is the generated image, shared by every benchmark of one run.
type fixture struct {
	image   imagegen.Image
	archive string // an OCI archive of image
	keep    bool   // the image is not ours to remove
	blobs   int64  // bytes of every blob in the layout
	// Baselines, measured once per run: the median of a few passes.
	sha256Only time.Duration // sha256 over every layer blob
	gunzipHash time.Duration // sha256(blob) and sha256(gunzip(blob)) per layer, one layer at a time
	parallel   time.Duration // the same with GOMAXPROCS layers at a time, biggest first
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
)

func setup(b *testing.B) *fixture {
	b.Helper()
	fixOnce.Do(func() {
		if *benchImage != "" {
			fix, fixErr = load(*benchImage)
			return
		}
		size, err := imagegen.ParseSize(*benchSize)
		if err != nil {
			fixErr = err
			return
		}
		// A process-wide temp dir: b.TempDir would vanish after the
		// first benchmark that asked for it.
		dir, err := os.MkdirTemp("", "imgproof-bench-")
		if err != nil {
			fixErr = err
			return
		}
		imgs, err := imagegen.Generate(context.Background(), dir, imagegen.Options{Size: size, Seed: 42, Variants: []imagegen.Compression{imagegen.Gzip}})
		if err != nil {
			fixErr = err
			return
		}
		f := &fixture{image: imgs[0], archive: filepath.Join(dir, "gzip.oci.tar"), blobs: imgs[0].BlobBytes}
		out, err := os.Create(f.archive)
		if err != nil {
			fixErr = err
			return
		}
		if err := imagegen.WriteOCIArchive(f.image.Dir, out); err != nil {
			out.Close()
			fixErr = err
			return
		}
		if err := out.Close(); err != nil {
			fixErr = err
			return
		}
		f.measureBaselines()
		fix = f
	})
	if fixErr != nil {
		b.Fatal(fixErr)
	}
	return fix
}

func (f *fixture) measureBaselines() {
	if !*benchRatio {
		return
	}
	f.sha256Only = median(5, func() error { return hashLayers(f.image, false) })
	f.gunzipHash = median(3, func() error { return hashLayers(f.image, true) })
	f.parallel = median(3, func() error { return hashLayersParallel(f.image) })
}

// load reads an image written earlier by bench/gen (for example by
// bench/run.sh under bench/out/images) and, if present, its OCI archive.
func load(dir string) (*fixture, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "info.json"))
	if err != nil {
		return nil, err
	}
	var info struct{ Images []imagegen.Image }
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("%s/info.json: %w", dir, err)
	}
	for _, img := range info.Images {
		if img.Compression != imagegen.Gzip {
			continue
		}
		img.Dir = filepath.Join(dir, string(img.Compression)) // info.json may hold a relative path
		f := &fixture{image: img, archive: img.Dir + ".oci.tar", blobs: img.BlobBytes, keep: true}
		f.measureBaselines()
		return f, nil
	}
	return nil, fmt.Errorf("%s: no gzip variant", dir)
}

// cleanup removes the generated image when the test binary exits.
func TestMain(m *testing.M) {
	code := m.Run()
	if fix != nil && !fix.keep {
		os.RemoveAll(filepath.Dir(fix.image.Dir))
	}
	os.Exit(code)
}

func median(n int, fn func() error) time.Duration {
	ds := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if err := fn(); err != nil {
			panic(err)
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds[n/2]
}

// hashLayers is the baseline: sha256 of each layer blob and, with gunzip,
// sha256 of its decompressed stream too, checked against the generator's
// values, one layer at a time on one goroutine.
func hashLayers(img imagegen.Image, gunzip bool) error {
	buf := make([]byte, 1<<20)
	for _, l := range img.Layers {
		f, err := os.Open(filepath.Join(img.Dir, filepath.FromSlash(l.Path)))
		if err != nil {
			return err
		}
		h := sha256.New()
		var r io.Reader = io.TeeReader(f, h)
		var dh = sha256.New()
		if gunzip {
			zr, err := gzip.NewReader(r)
			if err != nil {
				f.Close()
				return err
			}
			if _, err := io.CopyBuffer(dh, zr, buf); err != nil {
				f.Close()
				return err
			}
		}
		_, err = io.CopyBuffer(io.Discard, r, buf) // the rest, if any
		f.Close()
		if err != nil {
			return err
		}
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != l.Digest {
			return &mismatch{l.Path, got, l.Digest}
		}
		if got := "sha256:" + hex.EncodeToString(dh.Sum(nil)); gunzip && got != l.DiffID {
			return &mismatch{l.Path + " diff_id", got, l.DiffID}
		}
	}
	return nil
}

// hashLayersParallel is hashLayers with gunzip, spread over GOMAXPROCS
// goroutines, biggest layer first: a pure-Go floor for a verifier that
// runs layers in parallel without pipelining inside a layer.
func hashLayersParallel(img imagegen.Image) error {
	layers := slices.Clone(img.Layers)
	slices.SortFunc(layers, func(a, b imagegen.Layer) int { return int(b.Size - a.Size) })
	work := make(chan imagegen.Layer)
	errs := make(chan error, len(layers))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range work {
				one := img
				one.Layers = []imagegen.Layer{l}
				errs <- hashLayers(one, true)
			}
		}()
	}
	for _, l := range layers {
		work <- l
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

type mismatch struct{ what, got, want string }

func (m *mismatch) Error() string { return m.what + ": got " + m.got + ", want " + m.want }

// report adds the ratios of the benchmark's time per op to the baselines.
func report(b *testing.B, f *fixture) {
	if f.sha256Only == 0 || f.gunzipHash == 0 || f.parallel == 0 {
		return
	}
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(per/float64(f.sha256Only.Nanoseconds()), "x-sha256")
	b.ReportMetric(per/float64(f.gunzipHash.Nanoseconds()), "x-gunzip+sha256")
	b.ReportMetric(per/float64(f.parallel.Nanoseconds()), "x-parallel-gunzip+sha256")
}

func requireVerified(b *testing.B, res *verify.Result) {
	b.Helper()
	if res.Report.Verdict != verify.Verified {
		b.Fatalf("verdict %s, want VERIFIED: %v", res.Report.Verdict, res.Report.Findings)
	}
	if len(res.Report.Images) != 1 || len(res.Report.Images[0].Layers) != len(fix.image.Layers) {
		b.Fatalf("report lists %d images, want 1 with %d layers", len(res.Report.Images), len(fix.image.Layers))
	}
	for i, l := range res.Report.Images[0].Layers {
		if want := fix.image.Layers[i].DiffID; string(l.DiffID) != want {
			b.Fatalf("layer %d: diff_id %s, generator says %s", i, l.DiffID, want)
		}
	}
}

// BenchmarkVerifyDir verifies the generated OCI layout.
func BenchmarkVerifyDir(b *testing.B) {
	f := setup(b)
	fsys := os.DirFS(f.image.Dir)
	b.SetBytes(f.blobs)
	b.ResetTimer()
	for b.Loop() {
		requireVerified(b, verify.Dir(context.Background(), fsys, f.image.Dir, nil))
	}
	report(b, f)
}

// BenchmarkVerifyArchive verifies an OCI archive of the same image.
func BenchmarkVerifyArchive(b *testing.B) {
	f := setup(b)
	benchArchiveFile(b, f.archive)
	report(b, f)
}

// benchArchiveFile verifies the archive at path with verify.Archive on each
// iteration, counting its bytes.
func benchArchiveFile(b *testing.B, path string) {
	file, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ResetTimer()
	for b.Loop() {
		requireVerified(b, verify.Archive(context.Background(), file, st.Size(), path, nil))
	}
}

var (
	gzOnce sync.Once
	gzPath string
	gzErr  error
)

// BenchmarkVerifyGzippedArchive verifies the OCI archive gzipped whole, as
// docker save | gzip writes it: the outer stream is read once, to its end.
func BenchmarkVerifyGzippedArchive(b *testing.B) {
	f := setup(b)
	gzOnce.Do(func() { gzPath, gzErr = gzipFile(f.archive) })
	if gzErr != nil {
		b.Fatal(gzErr)
	}
	benchArchiveFile(b, gzPath)
}

// gzipFile writes src gzipped beside it.
func gzipFile(src string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	dst := src + ".gz"
	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	zw, err := gzip.NewWriterLevel(out, gzip.BestSpeed)
	if err != nil {
		out.Close()
		return "", err
	}
	if _, err := io.Copy(zw, in); err != nil {
		out.Close()
		return "", err
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return "", err
	}
	return dst, out.Close()
}

// BenchmarkBaselineSHA256 is sha256 over every layer blob, one at a time.
func BenchmarkBaselineSHA256(b *testing.B) {
	f := setup(b)
	b.SetBytes(f.blobs)
	b.ResetTimer()
	for b.Loop() {
		if err := hashLayers(f.image, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineGunzipSHA256 is gzip decompression plus sha256 of both
// streams, one layer at a time, with the same decompressor as the core.
func BenchmarkBaselineGunzipSHA256(b *testing.B) {
	f := setup(b)
	b.SetBytes(f.blobs)
	b.ResetTimer()
	for b.Loop() {
		if err := hashLayers(f.image, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineParallelGunzipSHA256 is BenchmarkBaselineGunzipSHA256
// with GOMAXPROCS layers at a time.
func BenchmarkBaselineParallelGunzipSHA256(b *testing.B) {
	f := setup(b)
	b.SetBytes(f.blobs)
	b.ResetTimer()
	for b.Loop() {
		if err := hashLayersParallel(f.image); err != nil {
			b.Fatal(err)
		}
	}
}
