// Package imagegen writes synthetic but realistic container images for
// benchmarks: OCI image layouts whose layers hold a mix of program text,
// logs, machine-code-like binaries and incompressible data, in gzip, zstd
// and uncompressed variants.
//
// Generation streams: each layer's tar is produced file by file and fed to
// every compressor at once, so memory does not depend on the image size.
// The output is a pure function of the seed and the size, and every variant
// of one run shares the same config, so the same image ID and diff_ids.
package imagegen

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is a layer encoding.
type Compression string

// The supported layer encodings.
const (
	Gzip Compression = "gzip"
	Zstd Compression = "zstd"
	None Compression = "none"
)

// MediaType returns the OCI layer media type for c.
func (c Compression) MediaType() string {
	switch c {
	case Gzip:
		return "application/vnd.oci.image.layer.v1.tar+gzip"
	case Zstd:
		return "application/vnd.oci.image.layer.v1.tar+zstd"
	}
	return "application/vnd.oci.image.layer.v1.tar"
}

// Options says what to generate.
type Options struct {
	// Size is the total number of file content bytes across all layers
	// (tar headers come on top).
	Size int64
	// Seed selects the content; the same seed and size give the same bytes.
	Seed uint64
	// Variants lists the layouts to write; each goes to Dir/<variant>.
	Variants []Compression
	// Parallelism is the number of layers generated at once; 0 means GOMAXPROCS.
	Parallelism int
}

// Image describes one written layout.
type Image struct {
	Compression    Compression `json:"compression"`
	Dir            string      `json:"dir"`
	ManifestDigest string      `json:"manifestDigest"`
	ConfigDigest   string      `json:"configDigest"`
	Layers         []Layer     `json:"layers"`
	// BlobBytes is the sum of the sizes of every blob in the layout.
	BlobBytes int64 `json:"blobBytes"`
}

// Layer describes one layer of an Image.
type Layer struct {
	Digest string `json:"digest"`
	DiffID string `json:"diffID"`
	Size   int64  `json:"size"`
	// UncompressedSize is the size of the layer's tar.
	UncompressedSize int64 `json:"uncompressedSize"`
	// Path is the blob's file, relative to the layout.
	Path string `json:"path"`
}

// layerSpec is the recipe of one layer.
type layerSpec struct {
	name     string
	share    float64          // of the total content size
	mix      map[Kind]float64 // shares of the layer's bytes
	minFile  int64
	maxFile  int64
	dir      string
	ext      map[Kind]string
	createdB string
}

// recipe is the layer stack: uneven sizes, so parallel verification has to
// balance one big layer against several small ones.
var recipe = []layerSpec{
	{name: "base", share: 0.12, mix: map[Kind]float64{Binary: 0.6, Source: 0.4}, minFile: 4 << 10, maxFile: 512 << 10,
		dir: "usr/lib", ext: map[Kind]string{Binary: ".so", Source: ".conf"}, createdB: "ADD rootfs.tar /"},
	{name: "runtime", share: 0.38, mix: map[Kind]float64{Binary: 0.7, Source: 0.2, Random: 0.1}, minFile: 16 << 10, maxFile: 8 << 20,
		dir: "opt/runtime", ext: map[Kind]string{Binary: ".bin", Source: ".py", Random: ".zip"}, createdB: "RUN install-runtime"},
	{name: "app", share: 0.08, mix: map[Kind]float64{Source: 1}, minFile: 1 << 10, maxFile: 64 << 10,
		dir: "app/src", ext: map[Kind]string{Source: ".go"}, createdB: "COPY . /app"},
	{name: "assets", share: 0.22, mix: map[Kind]float64{Random: 1}, minFile: 1 << 20, maxFile: 64 << 20,
		dir: "app/assets", ext: map[Kind]string{Random: ".webp"}, createdB: "COPY assets /app/assets"},
	{name: "data", share: 0.20, mix: map[Kind]float64{Log: 1}, minFile: 256 << 10, maxFile: 16 << 20,
		dir: "var/log/app", ext: map[Kind]string{Log: ".log"}, createdB: "RUN seed-data"},
}

// epoch is the time stamp of every generated entry.
var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// Generate writes one OCI image layout per variant under dir and returns
// their descriptions. dir/<variant> must not exist or be empty.
func Generate(ctx context.Context, dir string, opts Options) ([]Image, error) {
	if opts.Size <= 0 {
		return nil, errors.New("imagegen: size must be positive")
	}
	if len(opts.Variants) == 0 {
		opts.Variants = []Compression{Gzip, Zstd}
	}
	seen := map[Compression]bool{}
	for _, v := range opts.Variants {
		if v != Gzip && v != Zstd && v != None {
			return nil, fmt.Errorf("imagegen: unknown compression %q", v)
		}
		if seen[v] {
			return nil, fmt.Errorf("imagegen: compression %q listed twice", v)
		}
		seen[v] = true
	}
	images := make([]Image, len(opts.Variants))
	for i, v := range opts.Variants {
		d := filepath.Join(dir, string(v))
		if err := os.MkdirAll(filepath.Join(d, "blobs", "sha256"), 0o755); err != nil {
			return nil, err
		}
		images[i] = Image{Compression: v, Dir: d, Layers: make([]Layer, len(recipe))}
	}

	par := opts.Parallelism
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	// Big layers first, so the pool finishes evenly.
	order := make([]int, len(recipe))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return recipe[order[a]].share > recipe[order[b]].share })
	for _, li := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			layers, err := writeLayer(ctx, images, li, opts)
			if err != nil {
				cancel(fmt.Errorf("layer %d (%s): %w", li, recipe[li].name, err))
				return
			}
			for vi := range images {
				images[vi].Layers[li] = layers[vi]
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}

	diffIDs := make([]string, len(recipe))
	for i, l := range images[0].Layers {
		diffIDs[i] = l.DiffID
	}
	config, err := configJSON(diffIDs)
	if err != nil {
		return nil, err
	}
	for i := range images {
		if err := finishLayout(&images[i], config); err != nil {
			return nil, err
		}
	}
	return images, nil
}

// sink is one variant's output for one layer: a temp file plus its digest.
type sink struct {
	f    *os.File
	bw   *bufio.Writer
	h    hash.Hash
	n    int64
	comp io.WriteCloser // nil for None
}

func (s *sink) Write(p []byte) (int, error) {
	s.h.Write(p)
	s.n += int64(len(p))
	return s.bw.Write(p)
}

func writeLayer(ctx context.Context, images []Image, li int, opts Options) ([]Layer, error) {
	sinks := make([]*sink, len(images))
	writers := make([]io.Writer, 0, len(images)+1)
	diff := sha256.New()
	writers = append(writers, diff)
	defer func() {
		for _, s := range sinks {
			if s != nil && s.f != nil {
				s.f.Close()
				os.Remove(s.f.Name())
			}
		}
	}()
	for vi, img := range images {
		f, err := os.CreateTemp(filepath.Join(img.Dir, "blobs", "sha256"), ".tmp-layer-")
		if err != nil {
			return nil, err
		}
		s := &sink{f: f, bw: bufio.NewWriterSize(f, 256<<10), h: sha256.New()}
		sinks[vi] = s
		switch img.Compression {
		case Gzip:
			gw, err := gzip.NewWriterLevel(s, gzip.DefaultCompression)
			if err != nil {
				return nil, err
			}
			s.comp = gw
			writers = append(writers, gw)
		case Zstd:
			zw, err := zstd.NewWriter(s, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
			if err != nil {
				return nil, err
			}
			s.comp = zw
			writers = append(writers, zw)
		default:
			writers = append(writers, s)
		}
	}
	counter := &countWriter{w: io.MultiWriter(writers...)}
	if err := writeTar(ctx, counter, li, opts); err != nil {
		return nil, err
	}
	out := make([]Layer, len(images))
	for vi, s := range sinks {
		if s.comp != nil {
			if err := s.comp.Close(); err != nil {
				return nil, err
			}
		}
		if err := s.bw.Flush(); err != nil {
			return nil, err
		}
		if err := s.f.Close(); err != nil {
			return nil, err
		}
		hexd := hex.EncodeToString(s.h.Sum(nil))
		rel := path.Join("blobs", "sha256", hexd)
		if err := os.Rename(s.f.Name(), filepath.Join(images[vi].Dir, filepath.FromSlash(rel))); err != nil {
			return nil, err
		}
		s.f = nil
		if err := os.Chmod(filepath.Join(images[vi].Dir, filepath.FromSlash(rel)), 0o644); err != nil {
			return nil, err
		}
		out[vi] = Layer{
			Digest:           "sha256:" + hexd,
			DiffID:           "sha256:" + hex.EncodeToString(diff.Sum(nil)),
			Size:             s.n,
			UncompressedSize: counter.n,
			Path:             rel,
		}
	}
	return out, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeTar writes layer li's tar to w.
func writeTar(ctx context.Context, w io.Writer, li int, opts Options) error {
	spec := recipe[li]
	budget := int64(float64(opts.Size) * spec.share)
	if budget < 1 {
		budget = 1
	}
	seed := opts.Seed*1000003 + uint64(li)*7919
	rng := rand.New(rand.NewPCG(seed, uint64(li)))
	gens := map[Kind]*content{}
	kinds := make([]Kind, 0, len(spec.mix))
	for k := range spec.mix {
		kinds = append(kinds, k)
		gens[k] = newContent(k, seed)
	}
	sort.Slice(kinds, func(a, b int) bool { return kinds[a] < kinds[b] })
	left := map[Kind]int64{}
	var assigned int64
	for i, k := range kinds {
		n := int64(float64(budget) * spec.mix[k])
		if i == len(kinds)-1 {
			n = budget - assigned
		}
		left[k] = n
		assigned += n
	}

	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	mkdir := func(p string) error {
		var parts []string
		for d := p; d != "." && d != "/" && d != ""; d = path.Dir(d) {
			parts = append(parts, d)
		}
		for i := len(parts) - 1; i >= 0; i-- {
			d := parts[i]
			if dirs[d] {
				continue
			}
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
				return err
			}
		}
		return nil
	}
	// Realistic extras: a whiteout in every layer but the first, a symlink
	// and a hard link in the first.
	if li > 0 {
		if err := mkdir("tmp"); err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("tmp/.wh.build-%d", li-1), Mode: 0o644, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	files := 0
	for _, k := range kinds {
		for left[k] > 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			size := spec.minFile + rng.Int64N(spec.maxFile-spec.minFile+1)
			if size > left[k] {
				size = left[k]
			}
			left[k] -= size
			sub := fmt.Sprintf("%s/%s/d%02d", spec.dir, k, files/64)
			if err := mkdir(sub); err != nil {
				return err
			}
			name := fmt.Sprintf("%s/f%05d%s", sub, files, spec.ext[k])
			hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: epoch, Format: tar.FormatPAX}
			if k == Binary {
				hdr.Mode = 0o755
			}
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if _, err := io.CopyN(tw, gens[k], size); err != nil {
				return err
			}
			if li == 0 && files == 0 {
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: spec.dir + "/current", Linkname: path.Base(path.Dir(name)) + "/" + path.Base(name), ModTime: epoch, Mode: 0o777, Format: tar.FormatPAX}); err != nil {
					return err
				}
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeLink, Name: name + ".hardlink", Linkname: name, ModTime: epoch, Mode: 0o644, Format: tar.FormatPAX}); err != nil {
					return err
				}
			}
			files++
		}
	}
	return tw.Close()
}

func configJSON(diffIDs []string) ([]byte, error) {
	type history struct {
		Created    string `json:"created"`
		CreatedBy  string `json:"created_by"`
		EmptyLayer bool   `json:"empty_layer,omitempty"`
	}
	var hist []history
	created := epoch.Format(time.RFC3339)
	for _, l := range recipe {
		hist = append(hist, history{Created: created, CreatedBy: l.createdB})
	}
	hist = append(hist, history{Created: created, CreatedBy: `CMD ["/app/server"]`, EmptyLayer: true})
	cfg := map[string]any{
		"created":      created,
		"architecture": "amd64",
		"os":           "linux",
		"config": map[string]any{
			"Env":        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			"Cmd":        []string{"/app/server"},
			"WorkingDir": "/app",
		},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": hist,
	}
	return json.Marshal(cfg)
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// RefName is the org.opencontainers.image.ref.name of every generated image.
const RefName = "latest"

func finishLayout(img *Image, config []byte) error {
	cfgDesc, err := writeBlob(img.Dir, "application/vnd.oci.image.config.v1+json", config)
	if err != nil {
		return err
	}
	img.ConfigDigest = cfgDesc.Digest
	layers := make([]descriptor, len(img.Layers))
	img.BlobBytes = cfgDesc.Size
	for i, l := range img.Layers {
		layers[i] = descriptor{MediaType: img.Compression.MediaType(), Digest: l.Digest, Size: l.Size}
		img.BlobBytes += l.Size
	}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        cfgDesc,
		"layers":        layers,
	})
	if err != nil {
		return err
	}
	mDesc, err := writeBlob(img.Dir, "application/vnd.oci.image.manifest.v1+json", manifest)
	if err != nil {
		return err
	}
	img.ManifestDigest = mDesc.Digest
	img.BlobBytes += mDesc.Size
	mDesc.Platform = &platform{Architecture: "amd64", OS: "linux"}
	mDesc.Annotations = map[string]string{"org.opencontainers.image.ref.name": RefName}
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     []descriptor{mDesc},
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(img.Dir, "index.json"), index, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(img.Dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

func writeBlob(dir, mediaType string, data []byte) (descriptor, error) {
	sum := sha256.Sum256(data)
	hexd := hex.EncodeToString(sum[:])
	err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", hexd), data, 0o644)
	return descriptor{MediaType: mediaType, Digest: "sha256:" + hexd, Size: int64(len(data))}, err
}

// ParseSize reads a size such as 64MiB, 1GiB, 512KiB or a plain byte count.
func ParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.mult
			break
		}
	}
	var n int64
	if _, err := fmt.Sscanf(t, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != t {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return n * mult, nil
}
