// Package vectors generates the conformance corpus: small valid and invalid
// images, each declaring the rule it exercises and the outcome a conforming
// checker must report. Generation is deterministic; the generated files
// and vectors.json are committed so that other tools can use them.
package vectors

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/imgproof/imgproof/fixtures"
)

// Vector is one image of the corpus.
type Vector struct {
	// Name is unique; File is Name plus an extension.
	Name string `json:"name"`
	File string `json:"file"`
	// Format is oci-archive or docker-archive.
	Format string `json:"format"`
	// Rule is the conformance rule the vector exercises; empty for valid
	// images.
	Rule string `json:"rule,omitempty"`
	// Expect is "fail" when Rule must fail, "pass" when no MUST rule may fail.
	Expect      string `json:"expect"`
	Description string `json:"description"`
	data        []byte
}

// Data returns the vector's bytes.
func (v Vector) Data() []byte { return v.data }

type gen struct {
	out []Vector
	err error
}

func (g *gen) add(name, format, rule, desc string, write func(*bytes.Buffer) error) {
	if g.err != nil {
		return
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		g.err = fmt.Errorf("vector %s: %w", name, err)
		return
	}
	expect := "fail"
	if rule == "" {
		expect = "pass"
	}
	ext := ".tar"
	if len(buf.Bytes()) > 1 && buf.Bytes()[0] == 0x1f && buf.Bytes()[1] == 0x8b {
		ext = ".tar.gz"
	}
	g.out = append(g.out, Vector{Name: name, File: name + ext, Format: format, Rule: rule, Expect: expect, Description: desc, data: buf.Bytes()})
}

func (g *gen) oci(name, rule, desc string, b *fixtures.Built) {
	g.add(name, "oci-archive", rule, desc, func(w *bytes.Buffer) error { return b.WriteOCIArchive(w, false) })
}

func (g *gen) docker(name, rule, desc string, b *fixtures.Built, opts fixtures.DockerOptions, edit func([]fixtures.Entry) []fixtures.Entry) {
	g.add(name, "docker-archive", rule, desc, func(w *bytes.Buffer) error {
		a, err := b.Docker(opts)
		if err != nil {
			return err
		}
		entries := a.Entries
		if edit != nil {
			entries = edit(append([]fixtures.Entry(nil), entries...))
		}
		return fixtures.WriteArchive(w, entries, false, fixtures.TarOptions{})
	})
}

func (g *gen) archive(name, rule, desc string, b *fixtures.Built, edit func([]fixtures.Entry) []fixtures.Entry, opts fixtures.TarOptions) {
	g.add(name, "oci-archive", rule, desc, func(w *bytes.Buffer) error {
		entries := b.OCIArchiveEntries()
		if edit != nil {
			entries = edit(entries)
		}
		data, err := fixtures.TarBytes(entries, opts)
		if err != nil {
			return err
		}
		if opts.NoEOF {
			data = data[:len(data)/2]
		}
		_, err = w.Write(data)
		return err
	})
}

// image builds a one-image OCI source whose layers are given.
func image(layers ...fixtures.Layer) *fixtures.Built {
	return fixtures.MustBuild(fixtures.Spec{Images: []fixtures.ImageSpec{{
		Platform: fixtures.Platform{OS: "linux", Architecture: "amd64"}, Layers: layers}}})
}

func layer(entries ...fixtures.Entry) fixtures.Layer {
	return fixtures.Layer{Compression: fixtures.Gzip, Entries: entries}
}

// rawTar writes headers with archive/tar directly, for entry types the
// fixtures writer does not produce.
func rawTar(hdrs ...*tar.Header) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if h.Typeflag != tar.TypeXGlobalHeader {
			if h.Mode == 0 {
				h.Mode = 0o644
			}
			h.ModTime = fixtures.Epoch
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err)
		}
		if h.Size > 0 {
			_, _ = tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// ustar returns one hand-made ustar header block.
func ustar(name string, flag byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b, name)
	copy(b[100:], "0000644\x00")
	copy(b[108:], "0000000\x00")
	copy(b[116:], "0000000\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00", size))
	copy(b[136:], "00000000000\x00")
	b[156] = flag
	copy(b[257:], "ustar\x0000")
	copy(b[148:], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// gnuSparse returns an old-GNU sparse header (type S) for an empty file:
// an empty sparse map and a real size of 0.
func gnuSparse(name string) []byte {
	b := ustar(name, 'S', 0)
	copy(b[257:], "ustar  \x00")
	copy(b[483:], "00000000000\x00")
	copy(b[148:], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// blocks pads data to whole 512-byte blocks.
func blocks(data string) []byte {
	b := []byte(data)
	return append(b, make([]byte, (512-len(b)%512)%512)...)
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// editJSON rewrites a JSON member of a generated archive.
func editJSON(name string, fn func(v any) any) func([]fixtures.Entry) []fixtures.Entry {
	return func(es []fixtures.Entry) []fixtures.Entry {
		for i := range es {
			if es[i].Name != name {
				continue
			}
			var v any
			if err := json.Unmarshal(es[i].Body, &v); err != nil {
				panic(err)
			}
			b, err := json.Marshal(fn(v))
			if err != nil {
				panic(err)
			}
			es[i].Body = b
		}
		return es
	}
}

func manifest(fn func(m map[string]any)) *fixtures.Built { return base().WithManifest(0, fn) }

func layer0(m map[string]any) map[string]any { return m["layers"].([]any)[0].(map[string]any) }

func cfgDesc(m map[string]any) map[string]any { return m["config"].(map[string]any) }

func base() *fixtures.Built { return fixtures.MustBuild(fixtures.Default()) }

// Generate returns every vector, sorted by name.
func Generate() ([]Vector, error) {
	g := &gen{}
	b := base()
	exp := b.Expected.Images[0]
	l0 := exp.Layers[0]

	// Valid images.
	g.oci("valid-oci-archive", "", "single linux/amd64 image, three gzip layers with a symlink, a hardlink, a whiteout and an opaque whiteout", b)
	g.add("valid-oci-archive-gzip", "oci-archive", "", "the same, gzip-compressed archive", func(w *bytes.Buffer) error { return b.WriteOCIArchive(w, true) })
	g.oci("valid-oci-index", "", "image index over linux/amd64 and linux/arm64/v8", fixtures.MustBuild(fixtures.MultiPlatform()))
	att := fixtures.MultiPlatform()
	att.BuildKitAttestations = true
	g.oci("valid-buildkit-attestations", "", "buildx-style index with attestation manifests (platform unknown/unknown)", fixtures.MustBuild(att))
	zs := fixtures.Spec{Images: []fixtures.ImageSpec{{Platform: fixtures.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
		Layers: fixtures.DefaultLayers("arm64", fixtures.Zstd)}}}
	g.oci("valid-oci-zstd", "", "zstd layers", fixtures.MustBuild(zs))
	dm := fixtures.Default()
	dm.Images[0].DockerMediaTypes = true
	g.oci("valid-docker-mediatypes", "", "Docker schema 2 media types in an OCI layout", fixtures.MustBuild(dm))
	g.docker("valid-docker-classic", "", "docker save before 25", b, fixtures.DockerOptions{Format: fixtures.Classic}, nil)
	g.docker("valid-docker-v25", "", "docker save 25+: OCI layout plus manifest.json", b, fixtures.DockerOptions{Format: fixtures.V25}, nil)
	g.oci("valid-uncompressed", "", "uncompressed layers", image(fixtures.Layer{Compression: fixtures.None, Entries: []fixtures.Entry{fixtures.File("a", "a\n")}}))

	// Descriptors.
	g.oci("desc-layer-digest-mismatch", "OCI-DESC-006", "one byte of a layer blob flipped", b.FlipByte(l0.Digest, 20))
	g.oci("desc-config-digest-mismatch", "OCI-DESC-006", "one byte of the config blob flipped", b.FlipByte(exp.ConfigDigest, 5))
	g.oci("desc-manifest-digest-mismatch", "OCI-DESC-006", "one byte of the manifest blob flipped", b.FlipByte(exp.ManifestDigest, 3))
	g.oci("desc-size-mismatch", "OCI-DESC-007", "layer descriptor claims one byte more", b.WithDescriptorSize(l0.Digest, l0.Size+1))
	g.oci("desc-no-mediatype", "OCI-DESC-001", "layer descriptor without mediaType", manifest(func(m map[string]any) { delete(layer0(m), "mediaType") }))
	g.oci("desc-bad-mediatype", "OCI-DESC-002", "layer mediaType is not type/subtype", base().WithLayerMediaType(0, 0, "not a media type"))
	g.oci("desc-no-digest", "OCI-DESC-003", "layer descriptor without digest", manifest(func(m map[string]any) { delete(layer0(m), "digest") }))
	g.oci("desc-digest-grammar", "OCI-DESC-004", "digest with two separators in a row", manifest(func(m map[string]any) { layer0(m)["digest"] = "sha256+-x:abc" }))
	g.oci("desc-no-size", "OCI-DESC-005", "layer descriptor without size", manifest(func(m map[string]any) { delete(layer0(m), "size") }))
	g.oci("desc-negative-size", "OCI-DESC-005", "layer size -1", manifest(func(m map[string]any) { layer0(m)["size"] = -1 }))
	g.oci("desc-fraction-size", "OCI-DESC-005", "layer size 1.5", manifest(func(m map[string]any) { layer0(m)["size"] = 1.5 }))
	g.oci("desc-bad-url", "OCI-DESC-008", "urls entry that is not a URI", manifest(func(m map[string]any) { layer0(m)["urls"] = []any{"::not a uri"} }))
	g.oci("desc-ftp-url", "OCI-DESC-009", "urls entry with an ftp scheme", manifest(func(m map[string]any) { layer0(m)["urls"] = []any{"ftp://example.com/blob"} }))
	g.oci("desc-bad-base64", "OCI-DESC-011", "config data is not base64", manifest(func(m map[string]any) { cfgDesc(m)["data"] = "!!!" }))
	g.oci("desc-data-mismatch", "OCI-DESC-012", "config data decodes to other bytes", manifest(func(m map[string]any) { cfgDesc(m)["data"] = base64.StdEncoding.EncodeToString([]byte("{}")) }))
	g.oci("desc-bad-artifacttype", "OCI-DESC-013", "layer artifactType is not a media type", manifest(func(m map[string]any) { layer0(m)["artifactType"] = "nope" }))
	g.oci("desc-uppercase-sha256", "OCI-DESC-015", "sha256 digest in upper case", manifest(func(m map[string]any) {
		layer0(m)["digest"] = "sha256:" + strings.ToUpper(strings.TrimPrefix(l0.Digest, "sha256:"))
	}))
	g.oci("desc-short-sha256", "OCI-DESC-015", "sha256 digest with 63 hex digits", manifest(func(m map[string]any) { layer0(m)["digest"] = l0.Digest[:len(l0.Digest)-1] }))
	g.oci("desc-platform-mismatch", "OCI-DESC-018", "index claims linux/arm64 for a linux/amd64 config", b.WithIndexPlatform(0, fixtures.Platform{OS: "linux", Architecture: "arm64"}))
	g.oci("desc-empty-wrong-size", "OCI-MAN-017", "empty-type descriptor with size 3", manifest(func(m map[string]any) {
		m["layers"] = append(m["layers"].([]any), map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 3})
	}))

	// Manifests.
	g.oci("man-schemaversion-1", "OCI-MAN-001", "schemaVersion 1", manifest(func(m map[string]any) { m["schemaVersion"] = 1 }))
	g.oci("man-schemaversion-string", "OCI-MAN-001", "schemaVersion \"2\" as a string", manifest(func(m map[string]any) { m["schemaVersion"] = "2" }))
	g.oci("man-wrong-mediatype", "OCI-MAN-003", "manifest says it is an index", manifest(func(m map[string]any) { m["mediaType"] = "application/vnd.oci.image.index.v1+json" }))
	g.oci("man-bad-artifacttype", "OCI-MAN-005", "artifactType is not a media type", manifest(func(m map[string]any) { m["artifactType"] = "x" }))
	g.oci("man-no-config", "OCI-MAN-006", "manifest without config", manifest(func(m map[string]any) { delete(m, "config") }))
	g.oci("man-layers-object", "OCI-MAN-008", "layers is an object", manifest(func(m map[string]any) { m["layers"] = map[string]any{} }))
	g.oci("man-layer-not-descriptor", "OCI-MAN-008", "layers entry is a string", manifest(func(m map[string]any) { m["layers"].([]any)[0] = "sha256:00" }))
	g.oci("man-layer-count", "OCI-MAN-019", "config lists fewer diff_ids than layers", b.WithDiffIDs(0, exp.DiffIDs[:2]))
	g.oci("man-empty-config-no-artifacttype", "OCI-MAN-004", "config is the empty descriptor but artifactType is unset", manifest(func(m map[string]any) {
		m["config"] = map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2, "data": "e30="}
	}).Mutate(func(f map[string][]byte) {
		f["blobs/sha256/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"] = []byte("{}")
	}))
	g.oci("man-bad-subject", "OCI-MAN-013", "subject is a string", manifest(func(m map[string]any) { m["subject"] = "sha256:00" }))
	g.oci("man-no-layers-field", "OCI-MAN-008", "manifest without layers", manifest(func(m map[string]any) { delete(m, "layers") }))

	// Annotations.
	g.oci("ann-null", "OCI-ANN-005", "annotations is null", manifest(func(m map[string]any) { m["annotations"] = nil }))
	g.oci("ann-non-string", "OCI-ANN-001", "annotation value is a number", manifest(func(m map[string]any) { m["annotations"] = map[string]any{"com.example.n": 1} }))
	g.oci("ann-reserved-key", "OCI-ANN-004", "undefined key in the org.opencontainers.image namespace", manifest(func(m map[string]any) {
		m["annotations"] = map[string]any{"org.opencontainers.image.flavour": "x"}
	}))
	g.oci("ann-duplicate-key", "OCI-ANN-002", "index.json annotation key appears twice", b.Mutate(func(f map[string][]byte) {
		f["index.json"] = bytes.Replace(f["index.json"], []byte(`"annotations":{`), []byte(`"annotations":{"com.example.k":"a","com.example.k":"b",`), 1)
	}))
	g.oci("ann-bad-created", "OCI-ANN-007", "created annotation is not RFC 3339", manifest(func(m map[string]any) {
		m["annotations"] = map[string]any{"org.opencontainers.image.created": "yesterday"}
	}))
	g.oci("ann-base-name-short", "OCI-ANN-009", "base.name without a registry host", manifest(func(m map[string]any) {
		m["annotations"] = map[string]any{"org.opencontainers.image.base.name": "alpine:3"}
	}))
	g.oci("ann-ref-name-in-manifest", "OCI-LAYOUT-010", "ref.name annotation on a manifest", manifest(func(m map[string]any) {
		m["annotations"] = map[string]any{"org.opencontainers.image.ref.name": "v1"}
	}))

	// Indexes (index.json).
	idx := func(fn func(map[string]any)) *fixtures.Built { return b.WithIndexJSON(fn) }
	entry0 := func(i map[string]any) map[string]any { return i["manifests"].([]any)[0].(map[string]any) }
	g.oci("idx-schemaversion", "OCI-IDX-001", "index.json schemaVersion 3", idx(func(i map[string]any) { i["schemaVersion"] = 3 }))
	g.oci("idx-wrong-mediatype", "OCI-IDX-003", "index.json says it is a manifest", idx(func(i map[string]any) { i["mediaType"] = "application/vnd.oci.image.manifest.v1+json" }))
	g.oci("idx-no-manifests", "OCI-IDX-005", "index.json without manifests", idx(func(i map[string]any) { delete(i, "manifests") }))
	g.oci("idx-platform-no-os", "OCI-IDX-009", "platform without os", idx(func(i map[string]any) { entry0(i)["platform"] = map[string]any{"architecture": "amd64"} }))
	g.oci("idx-platform-no-arch", "OCI-IDX-008", "platform without architecture", idx(func(i map[string]any) { entry0(i)["platform"] = map[string]any{"os": "linux"} }))
	g.oci("idx-platform-unknown-arch", "OCI-IDX-010", "platform architecture x86_64 (not a GOARCH)", idx(func(i map[string]any) {
		entry0(i)["platform"] = map[string]any{"os": "linux", "architecture": "x86_64"}
	}))
	g.oci("idx-duplicate-key", "IMGPROOF-JSON-001", "index.json has schemaVersion twice", b.Mutate(func(f map[string][]byte) {
		f["index.json"] = bytes.Replace(f["index.json"], []byte(`{`), []byte(`{"schemaVersion":1,`), 1)
	}))
	g.oci("idx-fold-alias", "IMGPROOF-JSON-001", "index.json has a manifestſ key that folds to manifests", b.Mutate(func(f map[string][]byte) {
		f["index.json"] = bytes.Replace(f["index.json"], []byte(`{`), []byte(`{"manifestſ":[],`), 1)
	}))

	// Configs.
	cfg := func(fn func(map[string]any)) *fixtures.Built { return b.WithConfig(0, fn) }
	exec := func(c map[string]any) map[string]any {
		if c["config"] == nil {
			c["config"] = map[string]any{}
		}
		return c["config"].(map[string]any)
	}
	g.oci("cfg-no-architecture", "OCI-CFG-001", "config without architecture", cfg(func(c map[string]any) { delete(c, "architecture") }))
	g.oci("cfg-no-os", "OCI-CFG-002", "config without os", cfg(func(c map[string]any) { delete(c, "os") }))
	g.oci("cfg-no-rootfs", "OCI-CFG-007", "config without rootfs", cfg(func(c map[string]any) { delete(c, "rootfs") }))
	g.oci("cfg-rootfs-type", "OCI-CFG-008", "rootfs.type is tar", cfg(func(c map[string]any) { c["rootfs"].(map[string]any)["type"] = "tar" }))
	g.oci("cfg-diffids-missing", "OCI-CFG-009", "rootfs without diff_ids", cfg(func(c map[string]any) { delete(c["rootfs"].(map[string]any), "diff_ids") }))
	g.oci("cfg-diffid-uppercase", "OCI-CFG-009", "diff_ids[0] in upper-case hex", cfg(func(c map[string]any) {
		ids := c["rootfs"].(map[string]any)["diff_ids"].([]any)
		ids[0] = "sha256:" + strings.ToUpper(strings.TrimPrefix(ids[0].(string), "sha256:"))
	}))
	g.docker("docker-config-path-escape", "IMGPROOF-ARCH-002", "manifest.json Config path climbs out of the archive", b, fixtures.DockerOptions{Format: fixtures.Classic,
		EditManifest: func(es []fixtures.DockerManifestEntry) []fixtures.DockerManifestEntry {
			es[0].Config = "../../etc/passwd"
			return es
		}}, nil)
	g.oci("cfg-diffid-mismatch", "OCI-CFG-010", "diff_ids[1] names other content", b.WithDiffID(0, 1, exp.DiffIDs[0]))
	g.oci("cfg-bad-created", "OCI-CFG-011", "created is not RFC 3339", cfg(func(c map[string]any) { c["created"] = "2024-01-01 00:00" }))
	g.oci("cfg-cmd-string", "OCI-CFG-012", "config.Cmd is a string", cfg(func(c map[string]any) { exec(c)["Cmd"] = "ls" }))
	g.oci("cfg-env-no-name", "OCI-CFG-013", "Env entry =x", cfg(func(c map[string]any) { exec(c)["Env"] = []any{"=x"} }))
	g.oci("cfg-label-number", "OCI-CFG-006", "label value is a number", cfg(func(c map[string]any) { exec(c)["Labels"] = map[string]any{"a": 1} }))

	// Layout.
	g.oci("layout-no-oci-layout", "OCI-LAYOUT-002", "no oci-layout file", b.Mutate(func(f map[string][]byte) { delete(f, "oci-layout") }))
	g.oci("layout-oci-layout-array", "OCI-LAYOUT-003", "oci-layout is a JSON array", b.Mutate(func(f map[string][]byte) { f["oci-layout"] = []byte(`[]`) }))
	g.oci("layout-no-version", "OCI-LAYOUT-004", "oci-layout without imageLayoutVersion", b.Mutate(func(f map[string][]byte) { f["oci-layout"] = []byte(`{}`) }))
	g.oci("layout-version-number", "OCI-LAYOUT-004", "imageLayoutVersion is a number", b.Mutate(func(f map[string][]byte) { f["oci-layout"] = []byte(`{"imageLayoutVersion":1}`) }))
	g.oci("layout-no-index", "OCI-LAYOUT-005", "no index.json", b.Mutate(func(f map[string][]byte) { delete(f, "index.json") }))
	g.oci("layout-bad-unreferenced-blob", "OCI-LAYOUT-007", "unreferenced blob whose bytes do not match its name", b.Mutate(func(f map[string][]byte) {
		f["blobs/sha256/"+strings.Repeat("ab", 32)] = []byte("not what the name says")
	}))
	g.oci("layout-bad-blob-name", "OCI-LAYOUT-008", "blob stored as blobs/SHA256/...", b.Mutate(func(f map[string][]byte) { f["blobs/SHA256/abc"] = []byte("x") }))
	g.oci("layout-missing-blob", "OCI-LAYOUT-009", "a referenced layer blob is absent", b.WithoutBlob(l0.Digest))

	// Layer contents.
	g.oci("layer-not-tar", "OCI-LAYER-001", "layer holds random bytes", image(fixtures.Layer{Compression: fixtures.Gzip, Raw: bytes.Repeat([]byte("not a tar "), 100)}))
	g.oci("layer-trailing-data", "OCI-LAYER-001", "non-zero bytes after the tar end-of-archive marker", image(fixtures.Layer{Compression: fixtures.Gzip,
		Entries: []fixtures.Entry{fixtures.File("a", "a\n")}, Trailing: []byte("hidden after the end marker")}))
	noEOF, _ := fixtures.TarBytes([]fixtures.Entry{fixtures.File("a", "a\n")}, fixtures.TarOptions{NoEOF: true})
	g.oci("layer-no-end-marker", "OCI-LAYER-001", "tar stream without the end-of-archive marker", image(fixtures.Layer{Compression: fixtures.Gzip, Raw: noEOF}))
	full, _ := fixtures.TarBytes([]fixtures.Entry{fixtures.File("a", strings.Repeat("a", 2000))}, fixtures.TarOptions{})
	g.oci("layer-truncated", "OCI-LAYER-001", "tar stream cut inside an entry", image(fixtures.Layer{Compression: fixtures.Gzip, Raw: full[:1024]}))
	g.oci("layer-duplicate-path", "OCI-LAYER-002", "etc/passwd twice in one layer", image(layer(fixtures.File("etc/passwd", "root\n"), fixtures.File("etc/passwd", "evil\n"))))
	g.oci("layer-duplicate-dot-slash", "OCI-LAYER-002", "a and ./a in one layer", image(layer(fixtures.File("a", "1\n"), fixtures.File("./a", "2\n"))))
	g.oci("layer-mediatype-mismatch", "OCI-LAYER-003", "uncompressed layer declared as gzip", image(fixtures.Layer{Compression: fixtures.None,
		MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Entries: []fixtures.Entry{fixtures.File("a", "a\n")}}))
	g.oci("layer-whiteout-same-layer", "OCI-LAYER-005", "layer adds a/x and whites it out", image(layer(fixtures.File("a/x", "1\n"), fixtures.Whiteout("a/x"))))
	g.oci("layer-whiteout-not-empty", "OCI-LAYER-006", "whiteout file with content", image(layer(fixtures.Entry{Name: "a/.wh.x", Body: []byte("data"), Typeflag: tar.TypeReg})))
	g.oci("layer-whiteout-directory", "OCI-LAYER-006", "whiteout is a directory", image(layer(fixtures.Dir("a/.wh.x/"))))
	g.oci("layer-reserved-wh-name", "OCI-LAYER-007", "aufs metadata name .wh..wh.plnk", image(layer(fixtures.Entry{Name: ".wh..wh.plnk", Typeflag: tar.TypeReg})))
	g.oci("layer-whiteout-after-dir", "OCI-LAYER-008", "whiteout after a sibling directory entry", image(layer(fixtures.Dir("a/b/"), fixtures.Whiteout("a/c"))))
	g.oci("layer-opaque-whiteout", "OCI-LAYER-009", "opaque whiteout", image(layer(fixtures.Dir("a/"), fixtures.Opaque("a/"))))
	g.oci("layer-nondistributable", "OCI-LAYER-010", "non-distributable layer media type", image(fixtures.Layer{Compression: fixtures.Gzip,
		MediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Entries: []fixtures.Entry{fixtures.File("a", "a\n")}}))
	g.oci("layer-absolute-path", "OCI-LAYER-011", "entry /etc/passwd", image(fixtures.Layer{Compression: fixtures.Gzip,
		Raw: rawTar(&tar.Header{Name: "/etc/passwd", Typeflag: tar.TypeReg, Size: 3})}))
	g.oci("layer-dotdot-path", "OCI-LAYER-011", "entry ../../etc/passwd", image(layer(fixtures.File("../../etc/passwd", "x\n"))))
	g.oci("layer-hardlink-escape", "OCI-LAYER-012", "hard link to ../../etc/shadow", image(layer(fixtures.Hardlink("a", "../../etc/shadow"))))
	g.oci("layer-symlink-escape", "OCI-LAYER-013", "relative symlink climbing above the root", image(layer(fixtures.Symlink("a/b", "../../../etc"))))
	g.oci("layer-gnu-sparse", "OCI-LAYER-004", "old-GNU sparse entry", image(fixtures.Layer{Compression: fixtures.Gzip, Raw: concat(gnuSparse("holes"), make([]byte, 1024))}))
	g.oci("layer-write-through-symlink", "OCI-LAYER-017", "symlink etc2 -> /etc, then etc2/passwd in the same layer", image(layer(fixtures.Symlink("etc2", "/etc"), fixtures.File("etc2/passwd", "evil\n"))))
	g.oci("layer-unknown-type", "OCI-LAYER-014", "entry with type flag Z", image(fixtures.Layer{Compression: fixtures.Gzip,
		Raw: rawTar(&tar.Header{Name: "odd", Typeflag: 'Z', Format: tar.FormatUSTAR})}))
	g.oci("layer-pax-global", "OCI-LAYER-015", "PAX global header", image(fixtures.Layer{Compression: fixtures.Gzip,
		Raw: rawTar(&tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"path": "elsewhere"}},
			&tar.Header{Name: "a", Typeflag: tar.TypeReg, Size: 1})}))

	eof := make([]byte, 1024)
	g.oci("layer-pax-size-mismatch", "OCI-LAYER-016", "PAX size 5 over a ustar size 0: readers that trust either field see different entries",
		image(fixtures.Layer{Compression: fixtures.Gzip, Raw: concat(ustar("PaxHeaders/a", 'x', 10), blocks("10 size=5\n"), ustar("a", '0', 0), blocks("hello"), eof)}))
	g.oci("layer-dir-with-data", "OCI-LAYER-016", "directory header that declares 512 bytes of data hiding a second header",
		image(fixtures.Layer{Compression: fixtures.Gzip, Raw: concat(ustar("d/", '5', 512), ustar("d/hidden", '0', 0), eof)}))

	// Outer archive.
	g.archive("archive-duplicate-entry", "IMGPROOF-ARCH-001", "index.json twice in the archive", b, func(es []fixtures.Entry) []fixtures.Entry {
		for _, e := range es {
			if e.Name == "index.json" {
				return append(es, e)
			}
		}
		return es
	}, fixtures.TarOptions{})
	g.archive("archive-unsafe-path", "IMGPROOF-ARCH-002", "archive entry ../escape", b, func(es []fixtures.Entry) []fixtures.Entry {
		return append(es, fixtures.File("../escape", "x"))
	}, fixtures.TarOptions{})
	g.archive("archive-truncated", "IMGPROOF-ARCH-003", "archive cut short", b, nil, fixtures.TarOptions{NoEOF: true})
	g.archive("archive-trailing-data", "IMGPROOF-ARCH-004", "data after the archive's end marker", b, nil, fixtures.TarOptions{Trailing: bytes.Repeat([]byte("junk"), 200)})

	// docker save.
	classic := fixtures.DockerOptions{Format: fixtures.Classic}
	setFile := func(name string, body string) func([]fixtures.Entry) []fixtures.Entry {
		return func(es []fixtures.Entry) []fixtures.Entry {
			for i := range es {
				if es[i].Name == name || strings.HasSuffix(es[i].Name, "/"+strings.TrimPrefix(name, "*/")) && strings.HasPrefix(name, "*/") {
					es[i].Body = []byte(body)
				}
			}
			return es
		}
	}
	g.docker("docker-manifest-object", "DOCKER-MAN-001", "manifest.json is an object", b, classic, setFile("manifest.json", `{}`))
	g.docker("docker-config-renamed", "DOCKER-MAN-002", "config stored under a name that is not its digest", b, fixtures.DockerOptions{Format: fixtures.Classic, RenameConfig: true}, nil)
	g.docker("docker-missing-layer", "DOCKER-MAN-003", "Layers names a file that is not in the archive", b, fixtures.DockerOptions{Format: fixtures.Classic,
		EditManifest: func(es []fixtures.DockerManifestEntry) []fixtures.DockerManifestEntry {
			es[0].Layers[0] = strings.Repeat("0", 64) + "/layer.tar"
			return es
		}}, nil)
	g.docker("docker-layer-count", "DOCKER-MAN-004", "Layers lists one layer fewer than diff_ids", b, fixtures.DockerOptions{Format: fixtures.Classic,
		EditManifest: func(es []fixtures.DockerManifestEntry) []fixtures.DockerManifestEntry {
			es[0].Layers = es[0].Layers[:2]
			return es
		}}, nil)
	g.docker("docker-bad-repotag", "DOCKER-MAN-005", "RepoTags entry in upper case without a tag", b, fixtures.DockerOptions{Format: fixtures.Classic,
		EditManifest: func(es []fixtures.DockerManifestEntry) []fixtures.DockerManifestEntry {
			es[0].RepoTags = []string{"Not A Reference"}
			return es
		}}, nil)
	g.docker("docker-diffid-mismatch", "OCI-CFG-010", "config diff_ids[1] names other content", b.WithDiffID(0, 1, exp.DiffIDs[0]), classic, nil)
	g.docker("docker-repositories-array", "DOCKER-REPO-001", "repositories is an array", b, classic, setFile("repositories", `[]`))
	g.docker("docker-legacy-version", "DOCKER-LEGACY-002", "legacy VERSION holds 2.0", b, classic, setFile("*/VERSION", "2.0"))
	g.docker("docker-legacy-json-id", "DOCKER-LEGACY-003", "legacy json id is not the directory name", b, classic, setFile("*/json", `{"id":"`+strings.Repeat("1", 64)+`"}`))
	g.docker("docker-view-mismatch", "DOCKER-VIEW-001", "docker 25 archive whose manifest.json and index.json name different configs", b,
		fixtures.DockerOptions{Format: fixtures.V25, ViewMismatch: true}, nil)
	g.docker("docker-manifest-trailing-json", "IMGPROOF-JSON-001", "manifest.json followed by a second JSON value", b, classic, func(es []fixtures.Entry) []fixtures.Entry {
		for i := range es {
			if es[i].Name == "manifest.json" {
				es[i].Body = append(append([]byte(nil), es[i].Body...), []byte(`[]`)...)
			}
		}
		return es
	})

	// More rules, one vector each.
	g.oci("desc-annotation-number", "OCI-DESC-010", "layer descriptor annotation value is a number", manifest(func(m map[string]any) {
		layer0(m)["annotations"] = map[string]any{"com.example.n": 1}
	}))
	g.oci("desc-no-platform", "OCI-DESC-014", "index.json entry of an image manifest without platform", idx(func(i map[string]any) { delete(entry0(i), "platform") }))
	g.oci("idx-no-platform", "OCI-IDX-007", "index.json entry of a runnable image without platform", idx(func(i map[string]any) { delete(entry0(i), "platform") }))
	g.oci("desc-short-sha512", "OCI-DESC-016", "sha512 digest with 3 hex digits", manifest(func(m map[string]any) { layer0(m)["digest"] = "sha512:abc" }))
	s512 := fixtures.Default()
	s512.Images[0].DigestAlgorithm = "sha512"
	g.oci("desc-sha512-image", "OCI-DESC-017", "valid image addressed with sha512", fixtures.MustBuild(s512))
	om := fixtures.Default()
	om.Images[0].OmitManifestMediaType = true
	g.oci("man-no-mediatype", "OCI-MAN-002", "manifest without mediaType", fixtures.MustBuild(om))
	emptyCfg := func(m map[string]any) {
		m["config"] = map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2}
	}
	addEmpty := func(f map[string][]byte) {
		f["blobs/sha256/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"] = []byte("{}")
	}
	g.oci("man-empty-config-artifacttype", "OCI-MAN-004", "config is the empty descriptor, artifactType unset", manifest(emptyCfg).Mutate(addEmpty))
	g.oci("man-artifact-no-layers", "OCI-MAN-016", "artifact manifest without layers", manifest(func(m map[string]any) {
		emptyCfg(m)
		m["artifactType"] = "application/vnd.example.sbom.v1"
		m["layers"] = []any{}
	}).Mutate(addEmpty))
	g.oci("man-config-unknown-type", "OCI-MAN-007", "config.mediaType of no known kind and no artifactType", manifest(func(m map[string]any) {
		cfgDesc(m)["mediaType"] = "application/vnd.example.config.v1+json"
	}))
	g.oci("man-config-octet-stream", "OCI-MAN-020", "artifact (no blob is a layer) with config.mediaType application/octet-stream", manifest(func(m map[string]any) {
		cfgDesc(m)["mediaType"] = "application/octet-stream"
		m["artifactType"] = "application/vnd.example.thing"
		for _, l := range m["layers"].([]any) {
			l.(map[string]any)["mediaType"] = "application/vnd.example.thing.part"
		}
	}))
	// OCI-MAN-020 binds artifacts only: a container image whose config is
	// relabelled (Docker Hub's library/docker manifest in image-spec's
	// backwards-compatibility cases) meets only the SHOULD of OCI-MAN-007.
	g.oci("valid-image-config-octet-stream", "", "image whose config.mediaType is application/octet-stream", manifest(func(m map[string]any) {
		cfgDesc(m)["mediaType"] = "application/octet-stream"
	}))
	g.oci("man-config-bad-mediatype", "OCI-DESC-002", "config.mediaType is not type/subtype", manifest(func(m map[string]any) { cfgDesc(m)["mediaType"] = "config" }))
	g.oci("man-empty-layers", "OCI-MAN-009", "image manifest with no layers", manifest(func(m map[string]any) { m["layers"] = []any{} }))
	g.oci("man-layers-swapped", "OCI-MAN-010", "layers 0 and 1 swapped: not in stack order", manifest(func(m map[string]any) {
		ls := m["layers"].([]any)
		ls[0], ls[1] = ls[1], ls[0]
	}))
	g.oci("man-unknown-layer-type", "OCI-MAN-011", "image layer with a media type no spec defines", base().WithLayerMediaType(0, 0, "application/vnd.example.layer.v1"))
	g.oci("man-annotation-number", "OCI-MAN-014", "manifest annotation value is a number", manifest(func(m map[string]any) { m["annotations"] = map[string]any{"com.example.n": 2} }))
	g.oci("man-layer-cannot-apply", "OCI-MAN-018", "a layer with an entry that climbs out of the root", image(layer(fixtures.File("../x", "x\n"))))
	g.oci("idx-no-mediatype", "OCI-IDX-002", "index.json without mediaType", idx(func(i map[string]any) { delete(i, "mediaType") }))
	g.oci("idx-bad-artifacttype", "OCI-IDX-004", "index.json artifactType is not a media type", idx(func(i map[string]any) { i["artifactType"] = "x" }))
	g.oci("idx-unknown-entry-type", "OCI-IDX-006", "index.json entry with a media type no spec defines", idx(func(i map[string]any) {
		entry0(i)["mediaType"] = "application/vnd.example.thing.v1+json"
	}))
	g.oci("idx-platform-unknown-os", "OCI-IDX-011", "platform os Linux (not a GOOS value)", idx(func(i map[string]any) {
		entry0(i)["platform"] = map[string]any{"os": "Linux", "architecture": "amd64"}
	}))
	g.oci("idx-platform-bad-variant", "OCI-IDX-012", "platform variant v99 for amd64", idx(func(i map[string]any) {
		entry0(i)["platform"] = map[string]any{"os": "linux", "architecture": "amd64", "variant": "v99"}
	}))
	g.oci("idx-bad-subject", "OCI-IDX-013", "index.json subject is a string", idx(func(i map[string]any) { i["subject"] = "sha256:00" }))
	g.oci("idx-annotations-null", "OCI-IDX-014", "index.json annotations is null", idx(func(i map[string]any) { i["annotations"] = nil }))
	g.oci("idx-windows-feature", "OCI-IDX-015", "windows os.features value not in the spec", idx(func(i map[string]any) {
		entry0(i)["platform"] = map[string]any{"os": "windows", "architecture": "amd64", "os.features": []any{"hyperv"}}
	}))
	g.oci("idx-variant-number", "OCI-IDX-016", "platform variant is a number", idx(func(i map[string]any) {
		entry0(i)["platform"] = map[string]any{"os": "linux", "architecture": "amd64", "variant": 3}
	}))
	g.oci("cfg-unknown-arch", "OCI-CFG-003", "config architecture x86_64 (not a GOARCH value)", cfg(func(c map[string]any) { c["architecture"] = "x86_64" }))
	g.oci("cfg-unknown-os", "OCI-CFG-004", "config os GNU/Linux (not a GOOS value)", cfg(func(c map[string]any) { c["os"] = "GNU/Linux" }))
	g.oci("cfg-bad-variant", "OCI-CFG-005", "config variant v99 for amd64", cfg(func(c map[string]any) { c["variant"] = "v99" }))
	g.oci("cfg-image-id-mismatch", "OCI-CFG-014", "config bytes changed under the same name", b.FlipByte(exp.ConfigDigest, -2))
	g.oci("cfg-history-count", "OCI-CFG-015", "one history entry for three layers", cfg(func(c map[string]any) {
		c["history"] = []any{map[string]any{"created_by": "one"}}
	}))
	g.oci("layout-no-blobs", "OCI-LAYOUT-001", "layout without a blobs directory", b.Mutate(func(f map[string][]byte) {
		for k := range f {
			if strings.HasPrefix(k, "blobs/") {
				delete(f, k)
			}
		}
	}))
	g.oci("layout-index-not-index", "OCI-LAYOUT-006", "index.json schemaVersion 1", idx(func(i map[string]any) { i["schemaVersion"] = 1 }))
	g.oci("idx-json-array", "IMGPROOF-DOC-001", "index.json is a JSON array", b.Mutate(func(f map[string][]byte) { f["index.json"] = []byte(`[]`) }))
	g.oci("ann-key-no-namespace", "OCI-ANN-003", "annotation key without a reverse-domain namespace", manifest(func(m map[string]any) {
		m["annotations"] = map[string]any{"nodots": "x"}
	}))
	g.oci("ann-bad-ref-name", "OCI-ANN-006", "ref.name with a space", idx(func(i map[string]any) {
		entry0(i)["annotations"] = map[string]any{"org.opencontainers.image.ref.name": "my tag"}
	}))
	g.oci("ann-bad-base-digest", "OCI-ANN-008", "base.digest is not a digest", manifest(func(m map[string]any) {
		m["annotations"] = map[string]any{"org.opencontainers.image.base.digest": "latest"}
	}))
	g.docker("docker-parent-missing", "DOCKER-MAN-006", "Parent names an image that is not in manifest.json", b, classic, editJSON("manifest.json", func(v any) any {
		v.([]any)[0].(map[string]any)["Parent"] = "sha256:" + strings.Repeat("0", 64)
		return v
	}))
	g.docker("docker-duplicate-entry", "DOCKER-MAN-007", "manifest.json lists the same config twice", b, classic, editJSON("manifest.json", func(v any) any {
		l := v.([]any)
		return append(l, l[0])
	}))
	g.docker("docker-layersources-string", "DOCKER-MAN-008", "LayerSources is a string", b, classic, editJSON("manifest.json", func(v any) any {
		v.([]any)[0].(map[string]any)["LayerSources"] = "x"
		return v
	}))
	g.docker("docker-repositories-extra-tag", "DOCKER-REPO-002", "repositories names a tag manifest.json does not list", b, classic, editJSON("repositories", func(v any) any {
		v.(map[string]any)["other"] = map[string]any{"v9": strings.Repeat("ab", 32)}
		return v
	}))
	g.docker("docker-legacy-bad-dirname", "DOCKER-LEGACY-001", "legacy layer directory named layer-one", b, classic, func(es []fixtures.Entry) []fixtures.Entry {
		return append(es, fixtures.File("layer-one/VERSION", "1.0"), fixtures.File("layer-one/json", `{}`), fixtures.File("layer-one/layer.tar", ""))
	})
	g.docker("docker-legacy-no-version", "DOCKER-LEGACY-004", "legacy layer directory without VERSION", b, classic, func(es []fixtures.Entry) []fixtures.Entry {
		out := es[:0]
		dropped := false
		for _, e := range es {
			if !dropped && strings.HasSuffix(e.Name, "/VERSION") {
				dropped = true
				continue
			}
			out = append(out, e)
		}
		return out
	})

	if g.err != nil {
		return nil, g.err
	}
	sort.Slice(g.out, func(i, j int) bool { return g.out[i].Name < g.out[j].Name })
	return g.out, nil
}

// Manifest encodes vectors.json: {"vectors": [...]}.
func Manifest(vs []Vector) ([]byte, error) {
	b, err := json.MarshalIndent(struct {
		Comment string   `json:"comment"`
		Vectors []Vector `json:"vectors"`
	}{"Generated by go run ./conformance/vectors/gen. expect=fail: the rule must fail; expect=pass: no MUST rule may fail.", vs}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
