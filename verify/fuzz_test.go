//go:build !js

package verify_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/fixtures/hostile"
	"github.com/imgproof/imgproof/verify"
)

// The fuzz targets below are seeded from the hostile corpus and check
// properties, not just the absence of panics:
//   - the same bytes give the same verdict every time, through every entry
//     point that can read them;
//   - an input that VERIFIED verifies again from its own bytes, and what it
//     verified agrees with an independent decoder (encoding/json,
//     compress/gzip, klauspost zstd).

var (
	seedsOnce sync.Once
	seeds     hostile.Seeds
)

func corpusSeeds() hostile.Seeds {
	seedsOnce.Do(func() { seeds = hostile.FuzzSeeds(64 << 10) })
	return seeds
}

func fuzzCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 20*time.Second)
}

func digests(r *verify.Report) []string {
	var out []string
	for _, img := range r.Images {
		m := ""
		if img.ManifestDigest != nil {
			m = *img.ManifestDigest
		}
		out = append(out, m, img.ImageID)
		for _, l := range img.Layers {
			out = append(out, l.Digest, l.DiffID)
		}
	}
	return out
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzArchive feeds whole archives to Archive and Stream.
func FuzzArchive(f *testing.F) {
	for _, a := range corpusSeeds().Archives {
		f.Add(a)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := fuzzCtx()
		defer cancel()
		ra := verify.Archive(ctx, bytes.NewReader(data), int64(len(data)), "fuzz.tar", nil).Report
		rs := verify.Stream(ctx, bytes.NewReader(data), "fuzz.tar", nil).Report
		if (ra.Verdict == verify.Verified) != (rs.Verdict == verify.Verified) {
			t.Fatalf("Archive says %s, Stream says %s\narchive: %v\nstream: %v", ra.Verdict, rs.Verdict, ra.Err(), rs.Err())
		}
		if ra.Verdict != verify.Verified {
			if ra.Checks == 0 && len(ra.Findings) == 0 {
				t.Fatalf("%s without a finding", ra.Verdict)
			}
			return
		}
		again := verify.Archive(ctx, bytes.NewReader(data), int64(len(data)), "fuzz.tar", nil).Report
		if again.Verdict != verify.Verified || !sameStrings(digests(ra), digests(again)) {
			t.Fatalf("verified once, then %s: %v", again.Verdict, again.Err())
		}
		if !sameStrings(digests(ra), digests(rs)) {
			t.Fatalf("Archive and Stream recomputed different digests:\n%v\n%v", digests(ra), digests(rs))
		}
		// The same archive gzipped must verify to the same digests.
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			return // already gzipped; a second layer of gzip is not an archive
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(data)
		zw.Close()
		rg := verify.Stream(ctx, bytes.NewReader(gz.Bytes()), "fuzz.tar.gz", nil).Report
		if rg.Verdict != verify.Verified || !sameStrings(digests(ra), digests(rg)) {
			t.Fatalf("verified plain, gzipped gives %s: %v", rg.Verdict, rg.Err())
		}
	})
}

var (
	baseOnce sync.Once
	baseB    *fixtures.Built
)

func base() *fixtures.Built {
	baseOnce.Do(func() { baseB = fixtures.MustBuild(fixtures.Default()) })
	return baseB
}

func sha256Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func verifyFiles(ctx context.Context, files map[string][]byte) *verify.Report {
	return verify.Dir(ctx, fixtures.MapFS(files), "fuzz", nil).Report
}

// FuzzIndexJSON puts arbitrary bytes in index.json of a valid layout.
func FuzzIndexJSON(f *testing.F) {
	for _, d := range corpusSeeds().Documents {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := fuzzCtx()
		defer cancel()
		files := base().LayoutFiles()
		files["index.json"] = data
		r := verifyFiles(ctx, files)
		if r.Verdict != verify.Verified {
			return
		}
		if again := verifyFiles(ctx, files); again.Verdict != verify.Verified {
			t.Fatalf("verified once, then %s", again.Verdict)
		}
		// Only the real image can verify: nothing else is in the layout.
		want := base().Expected.Images[0]
		for _, img := range r.Images {
			if img.ImageID != want.ConfigDigest {
				t.Fatalf("verified an image %s that is not in the layout", img.ImageID)
			}
		}
	})
}

// FuzzManifest puts arbitrary bytes in the manifest blob, correctly
// addressed, so only the manifest's content is under test.
func FuzzManifest(f *testing.F) {
	for _, d := range corpusSeeds().Documents {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := fuzzCtx()
		defer cancel()
		files := base().LayoutFiles()
		d := sha256Digest(data)
		files[fixtures.BlobPath(d)] = data
		files["index.json"], _ = json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{map[string]any{
			"mediaType": fixtures.MediaTypeOCIManifest, "digest": d, "size": len(data)}}})
		r := verifyFiles(ctx, files)
		if r.Verdict != verify.Verified {
			return
		}
		if again := verifyFiles(ctx, files); again.Verdict != verify.Verified || !sameStrings(digests(r), digests(again)) {
			t.Fatalf("verified once, then %s", again.Verdict)
		}
		// encoding/json (containerd, Docker) must read the same layers.
		var m struct {
			Layers []struct {
				Digest string `json:"digest"`
			} `json:"layers"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("verified a manifest encoding/json rejects: %v", err)
		}
		for _, img := range r.Images {
			if *img.ManifestDigest != d {
				continue
			}
			if len(img.Layers) != len(m.Layers) {
				t.Fatalf("verified %d layers, encoding/json reads %d", len(img.Layers), len(m.Layers))
			}
			for i := range m.Layers {
				if m.Layers[i].Digest != img.Layers[i].Digest {
					t.Fatalf("layer %d: verified %s, encoding/json reads %s", i, img.Layers[i].Digest, m.Layers[i].Digest)
				}
			}
		}
	})
}

// FuzzConfig puts arbitrary bytes in the config, correctly addressed from a
// re-rendered manifest. A verified config must list, for encoding/json
// too, exactly the diff_ids of the real layers.
func FuzzConfig(f *testing.F) {
	for _, d := range corpusSeeds().Documents {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := fuzzCtx()
		defer cancel()
		b := base()
		img := b.Expected.Images[0]
		files := b.LayoutFiles()
		var man map[string]any
		if err := json.Unmarshal(b.Blobs[img.ManifestDigest], &man); err != nil {
			t.Fatal(err)
		}
		cd := sha256Digest(data)
		files[fixtures.BlobPath(cd)] = data
		man["config"] = map[string]any{"mediaType": fixtures.MediaTypeOCIConfig, "digest": cd, "size": len(data)}
		mb, _ := json.Marshal(man)
		md := sha256Digest(mb)
		files[fixtures.BlobPath(md)] = mb
		files["index.json"], _ = json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{map[string]any{
			"mediaType": fixtures.MediaTypeOCIManifest, "digest": md, "size": len(mb)}}})
		r := verifyFiles(ctx, files)
		if r.Verdict != verify.Verified {
			return
		}
		var cfg struct {
			RootFS struct {
				DiffIDs []string `json:"diff_ids"`
			} `json:"rootfs"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			t.Fatalf("verified a config encoding/json rejects: %v", err)
		}
		// diff_ids may use any algorithm the verifier computes; recompute
		// each with the algorithm it names, over the gunzipped layer.
		if len(cfg.RootFS.DiffIDs) != len(img.Layers) {
			t.Fatalf("verified a config with %d diff_ids for %d layers", len(cfg.RootFS.DiffIDs), len(img.Layers))
		}
		for i, d := range cfg.RootFS.DiffIDs {
			alg, _, _ := strings.Cut(d, ":")
			zr, err := gzip.NewReader(bytes.NewReader(b.Blobs[img.Layers[i].Digest]))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if alg != "sha256" && alg != "sha512" {
				t.Fatalf("verified diff_id %s in an algorithm the test cannot compute", d)
			}
			if want := fixtures.Digest(alg, raw); d != want {
				t.Fatalf("verified diff_id %s, encoding/json and gunzip give %s", d, want)
			}
		}
	})
}

// FuzzDockerManifest puts arbitrary bytes in manifest.json of a classic
// docker save archive.
func FuzzDockerManifest(f *testing.F) {
	a, err := base().Docker(fixtures.DockerOptions{Format: fixtures.Classic})
	if err != nil {
		f.Fatal(err)
	}
	orig, _ := fixtures.FindEntry(a.Entries, "manifest.json")
	f.Add(orig.Body)
	f.Add(append(append([]byte(nil), orig.Body...), orig.Body...))
	for _, d := range corpusSeeds().Documents {
		if d[0] == '[' {
			f.Add(d)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := fuzzCtx()
		defer cancel()
		es := fixtures.SetEntry(append([]fixtures.Entry(nil), a.Entries...), fixtures.Entry{Name: "manifest.json", Body: data})
		var buf bytes.Buffer
		if err := fixtures.WriteArchive(&buf, es, false, fixtures.TarOptions{}); err != nil {
			t.Fatal(err)
		}
		r := verify.Archive(ctx, bytes.NewReader(buf.Bytes()), int64(buf.Len()), "fuzz.tar", nil).Report
		rs := verify.Stream(ctx, bytes.NewReader(buf.Bytes()), "fuzz.tar", nil).Report
		if (r.Verdict == verify.Verified) != (rs.Verdict == verify.Verified) {
			t.Fatalf("Archive says %s, Stream says %s", r.Verdict, rs.Verdict)
		}
		if r.Verdict != verify.Verified {
			return
		}
		var entries []struct {
			Config string
			Layers []string
		}
		if err := json.Unmarshal(data, &entries); err != nil {
			t.Fatalf("verified a manifest.json encoding/json rejects: %v", err)
		}
		for _, img := range r.Images {
			if img.ImageID != a.Images[0].ConfigDigest {
				t.Fatalf("verified image %s, the archive holds %s", img.ImageID, a.Images[0].ConfigDigest)
			}
		}
	})
}

// layerLayout is a one-layer image whose config lists diffID.
func layerLayout(mt string, blob []byte, diffID string) map[string][]byte {
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}}})
	cd, ld := sha256Digest(cfg), sha256Digest(blob)
	man, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": fixtures.MediaTypeOCIManifest,
		"config": map[string]any{"mediaType": fixtures.MediaTypeOCIConfig, "digest": cd, "size": len(cfg)},
		"layers": []any{map[string]any{"mediaType": mt, "digest": ld, "size": len(blob)}}})
	md := sha256Digest(man)
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{map[string]any{
		"mediaType": fixtures.MediaTypeOCIManifest, "digest": md, "size": len(man)}}})
	return map[string][]byte{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`), "index.json": idx,
		fixtures.BlobPath(cd): cfg, fixtures.BlobPath(ld): blob, fixtures.BlobPath(md): man}
}

// independentDiffID decompresses blob with the standard library (gzip) or
// klauspost (zstd) and says whether that decoder read it without error.
func independentDiffID(kind byte, blob []byte) (string, bool) {
	var r io.Reader
	switch kind % 3 {
	case 0:
		r = bytes.NewReader(blob)
	case 1:
		zr, err := gzip.NewReader(bytes.NewReader(blob))
		if err != nil {
			return sha256Digest(nil), false
		}
		r = zr
	case 2:
		zr, err := zstd.NewReader(bytes.NewReader(blob), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(8<<20))
		if err != nil {
			return sha256Digest(nil), false
		}
		defer zr.Close()
		r = zr
	}
	h := sha256.New()
	_, err := io.Copy(h, io.LimitReader(r, 64<<20))
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), err == nil
}

// FuzzLayerBlob puts arbitrary bytes in a layer of each compression. The
// config's diff_id is what an independent decoder computes; when that
// decoder fails, the diff_id is that of the bytes it did produce, and the
// verifier must not VERIFY.
func FuzzLayerBlob(f *testing.F) {
	tarBytes, _ := fixtures.TarBytes(fixtures.DefaultLayers("amd64", fixtures.None)[0].Entries, fixtures.TarOptions{})
	for i, c := range []fixtures.Compression{fixtures.None, fixtures.Gzip, fixtures.Zstd} {
		blob, err := fixtures.Compress(tarBytes, c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(i), blob)
		f.Add(byte(i), append(blob, "trailing"...))
	}
	f.Add(byte(2), hostile.ZstdFrame(tarBytes, 31))
	f.Fuzz(func(t *testing.T, kind byte, blob []byte) {
		ctx, cancel := fuzzCtx()
		defer cancel()
		mt := []string{fixtures.MediaTypeOCILayer, fixtures.MediaTypeOCILayerGzip, fixtures.MediaTypeOCILayerZstd}[kind%3]
		diffID, clean := independentDiffID(kind, blob)
		r := verifyFiles(ctx, layerLayout(mt, blob, diffID))
		if r.Verdict == verify.Verified && !clean {
			t.Fatalf("VERIFIED a %s layer that the reference decoder rejects", mt)
		}
	})
}
