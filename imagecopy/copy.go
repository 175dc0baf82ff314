//go:build !js

// Package imagecopy copies an image between local formats (OCI layout
// directory, OCI archive, docker-save tarball) without ever changing its
// image ID.
//
// A copy verifies three times: the source is verified before anything is
// written, every blob is re-hashed while it is copied, and the destination
// is verified after it is written and compared with the source. Config
// bytes are copied exactly, so the image ID never changes. Between an OCI
// layout and an OCI archive every manifest and index is copied byte for
// byte, so every digest stays the same. A docker-save destination stores
// layers uncompressed, as docker save does, and carries both the classic
// manifest.json view and the Docker 25+ OCI view; its manifest digest
// therefore differs from the source's while its image ID and diff_ids do
// not.
package imagecopy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/compare"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// Format is a destination format.
type Format string

// The destination formats.
const (
	Layout        Format = "oci-layout"
	OCIArchive    Format = "oci-archive"
	DockerArchive Format = "docker-archive"
)

// Options tunes a copy.
type Options struct {
	// Format is the destination format; it is required.
	Format Format
	// Gzip compresses an archive destination as a whole.
	Gzip bool
	// Verify is passed to every verification. Its Platform selects the
	// images written: a layout or OCI archive destination then holds only
	// that platform's image manifest, copied byte for byte, in an
	// index.json of its own.
	Verify *verify.Options
	// Tags name the image in a docker-save destination (repo:tag). The
	// default is the names the source gives it.
	Tags []string
	// SourceFS, if set, is the source as an OCI layout (a registry, for
	// example); src is then only its name.
	SourceFS fs.FS
}

// Result holds the reports of a copy.
type Result struct {
	Source *verify.Report `json:"source"`
	// Dest is nil when nothing was written.
	Dest    *verify.Report  `json:"dest,omitempty"`
	Compare *compare.Result `json:"compare,omitempty"`
	// Picked is true when only the images of Options.Verify.Platform were
	// written, out of a source that holds images of other platforms too.
	Picked bool `json:"picked,omitempty"`
}

// Errors a copy can end with.
var (
	// ErrSourceNotVerified: the source did not verify; nothing was written.
	ErrSourceNotVerified = errors.New("source does not verify")
	// ErrDestMismatch: the written destination did not verify or is not
	// the same image; it was removed.
	ErrDestMismatch = errors.New("destination is not the same image")
	// ErrBlobMismatch: a blob changed between verification and copy.
	ErrBlobMismatch = errors.New("blob does not match its digest")
	// ErrDestExists: the destination already exists; nothing was written.
	ErrDestExists = errors.New("destination already exists")
	// ErrTagNeedsOneImage: tags were given for a source of several
	// images; nothing was written.
	ErrTagNeedsOneImage = errors.New("--tag needs exactly one image")
)

// Copy copies the image at src (a layout directory or an archive file) to
// dst, which must not exist.
func Copy(ctx context.Context, src, dst string, o *Options) (*Result, error) {
	if o == nil || (o.Format != Layout && o.Format != OCIArchive && o.Format != DockerArchive) {
		return nil, fmt.Errorf("imagecopy: destination format must be %s, %s or %s", Layout, OCIArchive, DockerArchive)
	}
	if _, err := os.Lstat(dst); err == nil {
		return nil, fmt.Errorf("%s: %w", dst, ErrDestExists)
	}
	lim := limits.Default()
	if o.Verify != nil && o.Verify.Limits != nil {
		lim = *o.Verify.Limits
	}
	var (
		srcFS    fs.FS
		srcRep   *verify.Report
		closeSrc = func() {}
		err      error
	)
	if o.SourceFS != nil {
		srcFS, srcRep = o.SourceFS, verify.Dir(ctx, o.SourceFS, src, o.Verify).Report
	} else if srcFS, srcRep, closeSrc, err = openSource(ctx, src, o.Verify, lim); err != nil {
		return nil, err
	}
	defer closeSrc()
	res := &Result{Source: srcRep}
	if srcRep.Verdict != verify.Verified {
		return res, fmt.Errorf("%s: %w: %s", src, ErrSourceNotVerified, srcRep.Verdict)
	}

	var s sink
	if o.Format == Layout {
		s, err = newDirSink(dst)
	} else {
		s, err = newTarSink(dst, o.Gzip)
	}
	if err != nil {
		return res, err
	}
	c := &copier{ctx: ctx, src: srcFS, dst: s, lim: lim, rep: srcRep, written: map[string]bool{}}
	picked := o.Verify != nil && o.Verify.Platform != nil
	switch {
	case o.Format == DockerArchive:
		err = c.toDocker(o.Tags)
	case picked:
		err = c.pickedToLayout()
	default:
		err = c.toLayout()
	}
	if err == nil {
		err = s.commit()
	}
	if err != nil {
		s.abort()
		return res, fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	// Verification names the manifests it left out for another platform.
	res.Picked = c.picked || (picked && srcRep.Has(verify.CodeUnselectedPlatform))

	_, dstRep, closeDst, err := openSource(ctx, dst, o.Verify, lim)
	if err != nil {
		return res, err
	}
	closeDst()
	res.Dest = dstRep
	res.Compare = compare.Reports(srcRep, dstRep, nil)
	exact := o.Format != DockerArchive && c.fromLayout
	switch {
	case picked && exact && !res.Compare.SameManifestDigest:
		err = fmt.Errorf("%w: the picked manifest was not copied byte for byte: %s", ErrDestMismatch, strings.Join(res.Compare.Reasons, "; "))
	case picked:
	case dstRep.Verdict != verify.Verified:
		err = fmt.Errorf("%w: %s is %s", ErrDestMismatch, dst, dstRep.Verdict)
	case !res.Compare.SameImageID || !res.Compare.SameContent:
		err = fmt.Errorf("%w: %s", ErrDestMismatch, strings.Join(res.Compare.Reasons, "; "))
	case exact && (!res.Compare.SameManifestDigest || !sameIndex(srcRep, dstRep)):
		err = fmt.Errorf("%w: manifests were not copied byte for byte: %s", ErrDestMismatch, strings.Join(res.Compare.Reasons, "; "))
	}
	if err != nil {
		_ = os.RemoveAll(dst)
		return res, err
	}
	return res, nil
}

func sameIndex(a, b *verify.Report) bool {
	if a.IndexDigest == nil || b.IndexDigest == nil {
		return a.IndexDigest == nil && b.IndexDigest == nil
	}
	return *a.IndexDigest == *b.IndexDigest
}

// openSource verifies a directory or an archive and returns a view of its
// files for copying.
func openSource(ctx context.Context, name string, vopts *verify.Options, lim limits.Limits) (fs.FS, *verify.Report, func(), error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, nil, nil, err
	}
	if st.IsDir() {
		fsys := os.DirFS(name)
		return fsys, verify.Dir(ctx, fsys, name, vopts).Report, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, nil, err
	}
	rep := verify.Archive(ctx, f, st.Size(), name, vopts).Report
	f.Close()
	tfs, err := openTarFS(name, &lim)
	if err != nil {
		return nil, rep, func() {}, err
	}
	return tfs, rep, func() { tfs.Close() }, nil
}

// copier writes one destination.
type copier struct {
	ctx        context.Context
	src        fs.FS
	dst        sink
	lim        limits.Limits
	rep        *verify.Report
	written    map[string]bool
	count      int
	fromLayout bool
	picked     bool
	sizeOf     map[string]int64
}

// desc is a descriptor read loosely to enumerate blobs: the source has
// already been verified under the strict profile.
type desc struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type doc struct {
	MediaType string `json:"mediaType"`
	Manifests []desc `json:"manifests"`
	Config    *desc  `json:"config"`
	Layers    []desc `json:"layers"`
}

func (c *copier) docLimit() int64 {
	return max(c.lim.Document(), c.lim.ArchiveMetadata)
}

// docKind is the kind of the limit docLimit returns.
func (c *copier) docKind() limits.Kind {
	if c.lim.ArchiveMetadata >= c.lim.Document() {
		return limits.ArchiveMetadata
	}
	return c.lim.DocumentKind()
}

// toLayout writes an OCI layout: byte for byte from a layout source, or
// synthesized around the exact config and layer bytes of a classic
// docker-save source.
func (c *copier) toLayout() error {
	idx, err := readSmall(c.src, "index.json", limits.ArchiveMetadata, c.lim.ArchiveMetadata)
	if errors.Is(err, fs.ErrNotExist) {
		return c.classicToLayout()
	}
	if err != nil {
		return err
	}
	c.fromLayout = true
	layout, err := readSmall(c.src, "oci-layout", limits.ArchiveMetadata, c.lim.ArchiveMetadata)
	if err != nil {
		return err
	}
	var d doc
	if err := json.Unmarshal(idx, &d); err != nil {
		return fmt.Errorf("index.json: %w", err)
	}
	for _, m := range d.Manifests {
		if err := c.copyTree(m, 0); err != nil {
			return err
		}
	}
	if err := c.putBytes("oci-layout", layout); err != nil {
		return err
	}
	return c.putBytes("index.json", idx)
}

// pickedToLayout writes an OCI layout that holds only the runnable images
// that verification selected (one platform): each image manifest and what
// it names are copied byte for byte, and a new index.json lists them with
// their platform and the names the source gave them.
func (c *copier) pickedToLayout() error {
	if _, err := fs.Stat(c.src, "index.json"); errors.Is(err, fs.ErrNotExist) {
		return c.classicToLayout() // a classic docker save holds one image per entry, picked by verification
	}
	c.fromLayout = true
	var index []pickedDesc
	for i := range c.rep.Images {
		img := &c.rep.Images[i]
		if (img.Kind != "" && img.Kind != "image") || img.ManifestDigest == nil {
			continue
		}
		d, err := digest.Parse(*img.ManifestDigest)
		if err != nil {
			return fmt.Errorf("image %d: %w", i, err)
		}
		b, err := readSmall(c.src, blobName(d), c.docKind(), c.docLimit())
		if err != nil {
			return err
		}
		x := desc{MediaType: img.ManifestMediaType, Digest: d.String(), Size: int64(len(b))}
		if err := c.copyTree(x, 0); err != nil {
			return err
		}
		for _, n := range orNone(img.RefNames) {
			pd := pickedDesc{desc: x, Platform: img.Platform}
			if n != "" {
				pd.Annotations = map[string]string{"org.opencontainers.image.ref.name": n}
			}
			index = append(index, pd)
		}
	}
	if len(index) == 0 {
		return errors.New("the source holds no runnable image of that platform")
	}
	return writeIndex(c, index)
}

// pickedDesc is an index entry with the platform it was picked for.
type pickedDesc struct {
	desc
	Platform *verify.Platform `json:"platform,omitempty"`
}

// copyTree copies a blob and, for an index or manifest, what it names.
func (c *copier) copyTree(x desc, depth int) error {
	if depth > c.lim.IndexDepth+2 {
		return limits.Exceeded(limits.IndexDepth, int64(c.lim.IndexDepth), x.Digest)
	}
	d, err := digest.Parse(x.Digest)
	if err != nil {
		return fmt.Errorf("descriptor %q: %w", x.Digest, err)
	}
	name := blobName(d)
	if c.written[name] {
		return nil
	}
	if c.count++; c.count > c.lim.Descriptors {
		return limits.Exceeded(limits.Descriptors, int64(c.lim.Descriptors), name)
	}
	if !isDocument(x.MediaType) {
		return c.copyBlob(name, d, x.Size)
	}
	b, err := readSmall(c.src, name, c.docKind(), c.docLimit())
	if err != nil {
		return err
	}
	if d.Algorithm().FromBytes(b) != d || int64(len(b)) != x.Size {
		return fmt.Errorf("%s: %w", name, ErrBlobMismatch)
	}
	if err := c.putBytes(name, b); err != nil {
		return err
	}
	var sub doc
	if json.Unmarshal(b, &sub) != nil {
		return nil // not JSON after all: copied as a plain blob
	}
	for _, m := range sub.Manifests {
		if err := c.copyTree(m, depth+1); err != nil {
			return err
		}
	}
	if sub.Config != nil {
		if err := c.copyTree(*sub.Config, depth+1); err != nil {
			return err
		}
	}
	for _, l := range sub.Layers {
		if err := c.copyTree(l, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func isDocument(mt string) bool {
	switch mt {
	case "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
		"application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json":
		return true
	}
	return false
}

func blobName(d digest.Digest) string { return "blobs/" + string(d.Algorithm()) + "/" + d.Encoded() }

func (c *copier) putBytes(name string, b []byte) error {
	c.written[name] = true
	return c.dst.put(name, int64(len(b)), bytes.NewReader(b))
}

// copyBlob streams a blob, failing if its bytes do not match d and size.
func (c *copier) copyBlob(name string, d digest.Digest, size int64) error {
	if !d.Algorithm().Available() {
		return fmt.Errorf("%s: unsupported digest algorithm", name)
	}
	return c.copyBlobFrom(name, name, d, size)
}

// checkedReader hashes what passes through and fails at the end, before
// returning io.EOF, if the digest or the size is wrong.
type checkedReader struct {
	ctx  context.Context
	r    io.Reader
	h    hash.Hash
	want digest.Digest
	size int64
	n    int64
	name string
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if c.n > c.size {
		return n, fmt.Errorf("%s: %w: longer than %d bytes", c.name, ErrBlobMismatch, c.size)
	}
	if err == io.EOF {
		if got := digest.NewDigest(c.want.Algorithm(), c.h); c.n != c.size || got != c.want {
			return n, fmt.Errorf("%s: %w: got %s (%d bytes)", c.name, ErrBlobMismatch, got, c.n)
		}
	}
	return n, err
}

// classic is one entry of a docker-save manifest.json.
type classic struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func (c *copier) readClassic() ([]classic, error) {
	b, err := readSmall(c.src, "manifest.json", limits.ArchiveMetadata, c.lim.ArchiveMetadata)
	if err != nil {
		return nil, err
	}
	var entries []classic
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	return entries, nil
}

// classicToLayout writes an OCI layout for a docker-save archive that keeps
// no manifests: config and layers keep their exact bytes, and a manifest is
// written for each image.
func (c *copier) classicToLayout() error {
	entries, err := c.readClassic()
	if err != nil {
		return err
	}
	var index []desc
	for _, e := range entries {
		cfg, err := readSmall(c.src, e.Config, limits.ConfigDocument, c.lim.ConfigDocument)
		if err != nil {
			return err
		}
		cd := digest.FromBytes(cfg)
		if !c.reported(cd.String()) {
			c.picked = true // verification left it out (another platform)
			continue
		}
		if err := c.putOnce(blobName(cd), cfg); err != nil {
			return err
		}
		man := manifest{SchemaVersion: 2, MediaType: "application/vnd.oci.image.manifest.v1+json",
			Config: desc{MediaType: "application/vnd.oci.image.config.v1+json", Digest: cd.String(), Size: int64(len(cfg))}, Layers: []desc{}}
		for _, l := range e.Layers {
			ld, size, mt, err := c.hashLayerFile(l)
			if err != nil {
				return err
			}
			man.Layers = append(man.Layers, desc{MediaType: mt, Digest: ld.String(), Size: size})
			if !c.written[blobName(ld)] {
				if err := c.copyBlobFrom(l, blobName(ld), ld, size); err != nil {
					return err
				}
			}
		}
		mb, err := json.Marshal(man)
		if err != nil {
			return err
		}
		md := digest.FromBytes(mb)
		if err := c.putOnce(blobName(md), mb); err != nil {
			return err
		}
		for _, t := range orNone(e.RepoTags) {
			x := desc{MediaType: man.MediaType, Digest: md.String(), Size: int64(len(mb))}
			if t != "" {
				x.Annotations = map[string]string{"io.containerd.image.name": t, "org.opencontainers.image.ref.name": tagOf(t)}
			}
			index = append(index, x)
		}
	}
	return writeIndex(c, index)
}

// reported tells whether verification reported the image with this ID.
func (c *copier) reported(id string) bool {
	for _, img := range c.rep.Images {
		if img.ImageID == id {
			return true
		}
	}
	return false
}

func orNone(tags []string) []string {
	if len(tags) == 0 {
		return []string{""}
	}
	return tags
}

// tagOf returns the tag of repo:tag, or "latest".
func tagOf(ref string) string {
	i := strings.LastIndexByte(ref, ':')
	if i < 0 || strings.Contains(ref[i:], "/") {
		return "latest"
	}
	return ref[i+1:]
}

type manifest struct {
	SchemaVersion int    `json:"schemaVersion"`
	MediaType     string `json:"mediaType"`
	Config        desc   `json:"config"`
	Layers        []desc `json:"layers"`
}

// writeIndex writes oci-layout and an index.json listing the manifests.
func writeIndex[D desc | pickedDesc](c *copier, index []D) error {
	ib, err := json.Marshal(struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Manifests     []D    `json:"manifests"`
	}{2, "application/vnd.oci.image.index.v1+json", index})
	if err != nil {
		return err
	}
	if err := c.putBytes("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	return c.putBytes("index.json", ib)
}

func (c *copier) putOnce(name string, b []byte) error {
	if c.written[name] {
		return nil
	}
	return c.putBytes(name, b)
}

// hashLayerFile hashes a file of a docker-save archive and names its media
// type from its first bytes.
func (c *copier) hashLayerFile(name string) (digest.Digest, int64, string, error) {
	f, err := c.src.Open(name)
	if err != nil {
		return "", 0, "", err
	}
	defer f.Close()
	h := digest.SHA256.Digester()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	h.Hash().Write(head[:n])
	m, err := io.Copy(h.Hash(), f)
	if err != nil {
		return "", 0, "", fmt.Errorf("%s: %w", name, err)
	}
	mt := "application/vnd.oci.image.layer.v1.tar"
	switch verify.DetectCompression(head[:n]) {
	case verify.CompressionGzip:
		mt += "+gzip"
	case verify.CompressionZstd:
		mt += "+zstd"
	}
	return h.Digest(), int64(n) + m, mt, nil
}

func (c *copier) copyBlobFrom(srcName, dstName string, d digest.Digest, size int64) error {
	f, err := c.src.Open(srcName)
	if err != nil {
		return err
	}
	defer f.Close()
	c.written[dstName] = true
	return c.dst.put(dstName, size, &checkedReader{ctx: c.ctx, r: io.LimitReader(f, size+1), h: d.Algorithm().Hash(), want: d, size: size, name: srcName})
}

// dockerImage is what a docker-save destination needs of one image.
type dockerImage struct {
	config     []byte
	configID   digest.Digest
	layerNames []string        // names of the layer blobs in the source
	layerDigs  []digest.Digest // their digests
	layerSizes []int64
	img        *verify.Image
	tags       []string
}

// toDocker writes a docker-save archive with uncompressed layers and both
// views: manifest.json (classic) and index.json (Docker 25+).
func (c *copier) toDocker(tags []string) error {
	images, err := c.dockerImages()
	if err != nil {
		return err
	}
	if len(tags) > 0 {
		if len(images) != 1 {
			return fmt.Errorf("%w, the source has %d (select one with --platform)", ErrTagNeedsOneImage, len(images))
		}
		images[0].tags = tags
	}
	var entries []classic
	var index []desc
	repos := map[string]map[string]string{}
	for _, im := range images {
		if im.configID.Algorithm() != digest.SHA256 {
			return fmt.Errorf("image %s: docker save stores sha256 images only", im.configID)
		}
		if err := c.putOnce(blobName(im.configID), im.config); err != nil {
			return err
		}
		man := manifest{SchemaVersion: 2, MediaType: "application/vnd.oci.image.manifest.v1+json",
			Config: desc{MediaType: "application/vnd.oci.image.config.v1+json", Digest: im.configID.String(), Size: int64(len(im.config))}, Layers: []desc{}}
		e := classic{Config: blobName(im.configID), RepoTags: im.tags, Layers: []string{}}
		for i, l := range im.img.Layers {
			diffID, err := digest.Parse(l.DiffID)
			if err != nil || diffID.Algorithm() != digest.SHA256 {
				return fmt.Errorf("layer %d of %s: diff_id %q", i, im.configID, l.DiffID)
			}
			size, err := c.uncompressedLayer(im, i, diffID, l.UncompressedSize)
			if err != nil {
				return err
			}
			man.Layers = append(man.Layers, desc{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: diffID.String(), Size: size})
			e.Layers = append(e.Layers, blobName(diffID))
		}
		mb, err := json.Marshal(man)
		if err != nil {
			return err
		}
		md := digest.FromBytes(mb)
		if err := c.putOnce(blobName(md), mb); err != nil {
			return err
		}
		entries = append(entries, e)
		for _, t := range orNone(im.tags) {
			x := desc{MediaType: man.MediaType, Digest: md.String(), Size: int64(len(mb))}
			if t != "" {
				x.Annotations = map[string]string{"io.containerd.image.name": t, "org.opencontainers.image.ref.name": tagOf(t)}
				repo := strings.TrimSuffix(t, ":"+tagOf(t))
				if repos[repo] == nil {
					repos[repo] = map[string]string{}
				}
				if n := len(man.Layers); n > 0 {
					repos[repo][tagOf(t)] = digest.Digest(man.Layers[n-1].Digest).Encoded()
				}
			}
			index = append(index, x)
		}
	}
	mj, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	if err := c.putBytes("manifest.json", mj); err != nil {
		return err
	}
	if len(repos) > 0 {
		rj, err := json.Marshal(repos)
		if err != nil {
			return err
		}
		if err := c.putBytes("repositories", rj); err != nil {
			return err
		}
	}
	return writeIndex(c, index)
}

// dockerImages lists the runnable images of the verified source with the
// names of their blobs in the source.
func (c *copier) dockerImages() ([]*dockerImage, error) {
	byID := map[string][]string{} // classic source: image ID -> layer file names
	classicTags := map[string][]string{}
	if _, err := fs.Stat(c.src, "index.json"); errors.Is(err, fs.ErrNotExist) {
		entries, err := c.readClassic()
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			cfg, err := readSmall(c.src, e.Config, limits.ConfigDocument, c.lim.ConfigDocument)
			if err != nil {
				return nil, err
			}
			id := digest.FromBytes(cfg).String()
			byID[id] = e.Layers
			classicTags[id] = e.RepoTags
		}
	}
	var out []*dockerImage
	for i := range c.rep.Images {
		img := &c.rep.Images[i]
		if img.Kind != "" && img.Kind != "image" {
			continue
		}
		id, err := digest.Parse(img.ImageID)
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", i, err)
		}
		im := &dockerImage{configID: id, img: img}
		if names, ok := byID[img.ImageID]; ok {
			im.layerNames = names
			im.tags = classicTags[img.ImageID]
			im.config, err = c.readConfigAt(c.configName(img.ImageID))
		} else {
			im.config, err = readSmall(c.src, blobName(id), limits.ConfigDocument, c.lim.ConfigDocument)
			for _, l := range img.Layers {
				ld, perr := digest.Parse(l.Digest)
				if perr != nil {
					return nil, perr
				}
				im.layerNames = append(im.layerNames, blobName(ld))
			}
			im.tags = dockerTags(img.RefNames)
		}
		if err != nil {
			return nil, err
		}
		if id.Algorithm().FromBytes(im.config) != id {
			return nil, fmt.Errorf("config %s: %w", id, ErrBlobMismatch)
		}
		if len(im.layerNames) != len(img.Layers) {
			return nil, fmt.Errorf("image %s: %d layer files for %d layers", id, len(im.layerNames), len(img.Layers))
		}
		for _, l := range img.Layers {
			ld, err := digest.Parse(l.Digest)
			if err != nil {
				return nil, err
			}
			im.layerDigs = append(im.layerDigs, ld)
			im.layerSizes = append(im.layerSizes, l.Size)
		}
		out = append(out, im)
	}
	if len(out) == 0 {
		return nil, errors.New("the source holds no runnable image")
	}
	return out, nil
}

func (c *copier) configName(id string) string {
	entries, _ := c.readClassic()
	for _, e := range entries {
		if cfg, err := readSmall(c.src, e.Config, limits.ConfigDocument, c.lim.ConfigDocument); err == nil && digest.FromBytes(cfg).String() == id {
			return e.Config
		}
	}
	return ""
}

func (c *copier) readConfigAt(name string) ([]byte, error) {
	if name == "" {
		return nil, errors.New("config not found in manifest.json")
	}
	return readSmall(c.src, name, limits.ConfigDocument, c.lim.ConfigDocument)
}

// dockerTags keeps the names that are full repo:tag references.
func dockerTags(names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		i := strings.LastIndexByte(n, ':')
		if i <= 0 || strings.Contains(n[i:], "/") || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// uncompressedLayer writes layer i of im uncompressed under its diff_id,
// checking the compressed digest on the way in and the diff_id on the way
// out. It returns the uncompressed size.
func (c *copier) uncompressedLayer(im *dockerImage, i int, diffID digest.Digest, usize int64) (int64, error) {
	name := blobName(diffID)
	if c.written[name] {
		return c.sizeOf[name], nil
	}
	f, err := c.src.Open(im.layerNames[i])
	if err != nil {
		return 0, err
	}
	defer f.Close()
	in := &checkedReader{ctx: c.ctx, r: io.LimitReader(f, im.layerSizes[i]+1), h: im.layerDigs[i].Algorithm().Hash(), want: im.layerDigs[i], size: im.layerSizes[i], name: im.layerNames[i]}
	plain, _, err := verify.Decompress(in, &c.lim)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", im.layerNames[i], err)
	}
	defer plain.Close()
	if usize <= 0 {
		return 0, fmt.Errorf("%s: uncompressed size unknown", im.layerNames[i])
	}
	out := &checkedReader{ctx: c.ctx, r: io.LimitReader(plain, usize+1), h: digest.SHA256.Hash(), want: diffID, size: usize, name: im.layerNames[i] + " (uncompressed)"}
	c.written[name] = true
	if err := c.dst.put(name, usize, &drainAfter{r: out, rest: in}); err != nil {
		return 0, err
	}
	if c.sizeOf == nil {
		c.sizeOf = map[string]int64{}
	}
	c.sizeOf[name] = usize
	return usize, nil
}

// drainAfter reads r, then reads rest to its end so that the compressed
// stream's digest is checked too.
type drainAfter struct {
	r, rest io.Reader
}

func (d *drainAfter) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err == io.EOF {
		if _, derr := io.Copy(io.Discard, d.rest); derr != nil {
			return n, derr
		}
	}
	return n, err
}
