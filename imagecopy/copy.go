//go:build !js

// Package imagecopy copies an image between local formats (OCI layout
// directory, OCI archive, docker-save tarball) without ever changing its
// image ID.
//
// A copy verifies three times: the source is verified before anything is
// written, every blob is re-hashed while it is copied, and the destination
// is verified after it is written and compared with the source. What is
// copied is what the source's verification walked: the nodes of its
// graph (verify.Graph), or for a classic docker save, which the graph
// does not cover, the images of its report. Config
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
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

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
		verified *verify.Result
		closeSrc = func() {}
		err      error
	)
	if o.SourceFS != nil {
		srcFS, verified = o.SourceFS, verify.Dir(ctx, o.SourceFS, src, o.Verify)
	} else if srcFS, verified, closeSrc, err = openSource(ctx, src, o.Verify, lim); err != nil {
		return nil, err
	}
	defer closeSrc()
	srcRep := verified.Report
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
	c := &copier{ctx: ctx, src: srcFS, dst: s, lim: lim, verified: verified, rep: srcRep, written: map[string]bool{}}
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

	_, dstRes, closeDst, err := openSource(ctx, dst, o.Verify, lim)
	if err != nil {
		return res, err
	}
	closeDst()
	dstRep := dstRes.Report
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
// files for copying. The verification's graph is used after the archive
// is closed: the copy reads every byte it writes again, through the view.
func openSource(ctx context.Context, name string, vopts *verify.Options, lim limits.Limits) (fs.FS, *verify.Result, func(), error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, nil, nil, err
	}
	if st.IsDir() {
		fsys := os.DirFS(name)
		return fsys, verify.Dir(ctx, fsys, name, vopts), func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, nil, err
	}
	res := verify.Archive(ctx, f, st.Size(), name, vopts)
	f.Close()
	tfs, err := openTarFS(name, &lim)
	if err != nil {
		return nil, res, func() {}, err
	}
	return tfs, res, func() { tfs.Close() }, nil
}

// copier writes one destination.
type copier struct {
	ctx        context.Context
	src        fs.FS
	dst        sink
	lim        limits.Limits
	verified   *verify.Result // the source's verification: its graph and report
	rep        *verify.Report
	written    map[string]bool
	count      int
	fromLayout bool
	picked     bool
	sizeOf     map[string]int64
}

// desc is a descriptor the copy writes into a document of its own.
type desc struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
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
	roots, err := c.roots(idx)
	if err != nil {
		return err
	}
	for _, n := range roots {
		if err := c.copyNode(n, 0); err != nil {
			return err
		}
	}
	if err := c.putBytes("oci-layout", layout); err != nil {
		return err
	}
	return c.putBytes("index.json", idx)
}

// roots lists the entries of idx, index.json as the copy read it, as
// nodes of the verified graph. index.json is addressed by no digest, so
// each entry must be the one the verification walked from that place.
func (c *copier) roots(idx []byte) ([]*verify.Node, error) {
	nodes := c.verified.Graph(nil).Root().ChildrenOf(idx)
	walked := c.verified.Roots()
	if len(nodes) != len(walked) {
		return nil, fmt.Errorf("index.json: %w: %d entries, %d verified", ErrBlobMismatch, len(nodes), len(walked))
	}
	for i, n := range nodes {
		got, want := n.Descriptor(), walked[i].Descriptor
		if n.Path() != walked[i].Path || got.Digest != want.Digest || got.Size != want.Size || got.MediaType != want.MediaType {
			return nil, fmt.Errorf("%s: %w: the entry is not the one verified", n.Path(), ErrBlobMismatch)
		}
	}
	return nodes, nil
}

// pickedToLayout writes an OCI layout that holds only the runnable images
// that verification selected (one platform): each image manifest and what
// it names are copied byte for byte, and a new index.json lists them with
// their platform and the names the source gave them.
func (c *copier) pickedToLayout() error {
	idx, err := readSmall(c.src, "index.json", limits.ArchiveMetadata, c.lim.ArchiveMetadata)
	if errors.Is(err, fs.ErrNotExist) {
		return c.classicToLayout() // a classic docker save holds one image per entry, picked by verification
	}
	if err != nil {
		return err
	}
	c.fromLayout = true
	roots, err := c.roots(idx)
	if err != nil {
		return err
	}
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
		n, err := c.nodeAt(roots, img.Path)
		if err != nil {
			return err
		}
		if n.Descriptor().Digest != d {
			return fmt.Errorf("%s: %w: not the manifest verified", img.Path, ErrBlobMismatch)
		}
		if err := c.copyNode(n, 0); err != nil {
			return err
		}
		x := desc{MediaType: img.ManifestMediaType, Digest: d.String(), Size: n.Descriptor().Size}
		for _, name := range orNone(img.RefNames) {
			pd := pickedDesc{desc: x, Platform: img.Platform}
			if name != "" {
				pd.Annotations = map[string]string{"org.opencontainers.image.ref.name": name}
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

// nodeAt finds the node at path (a path of the report) below the roots,
// reading and checking each index on the way down.
func (c *copier) nodeAt(nodes []*verify.Node, path string) (*verify.Node, error) {
	for depth := 0; depth <= c.lim.IndexDepth+2; depth++ {
		var next *verify.Node
		for _, n := range nodes {
			if n.Path() == path {
				return n, nil
			}
			if strings.HasPrefix(path, n.Path()+"/") {
				next = n
				break
			}
		}
		if next == nil {
			break
		}
		b, err := c.readDocument(next)
		if err != nil {
			return nil, err
		}
		nodes = next.ChildrenOf(b)
	}
	return nil, fmt.Errorf("%s: not in the verified graph", path)
}

// copyNode copies the blob or document a node of the verified graph
// leads to and, for an index or manifest, the nodes its bytes list. Only
// nodes the verification walked are copied; a document is read again
// and checked against its descriptor before it is written or followed,
// and a blob is checked as it streams.
func (c *copier) copyNode(n *verify.Node, depth int) error {
	x := n.Descriptor()
	if depth > c.lim.IndexDepth+2 {
		return limits.Exceeded(limits.IndexDepth, int64(c.lim.IndexDepth), string(x.Digest))
	}
	d, err := digest.Parse(string(x.Digest))
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
	if !n.Walked() {
		return fmt.Errorf("%s: %s was not verified", n.Path(), name)
	}
	if k := n.Kind(); k != verify.NodeIndex && k != verify.NodeManifest {
		return c.copyBlob(name, d, x.Size)
	}
	b, err := c.readDocument(n)
	if err != nil {
		return err
	}
	if err := c.putBytes(name, b); err != nil {
		return err
	}
	for _, k := range n.ChildrenOf(b) {
		if err := c.copyNode(k, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// readDocument reads the document a node leads to from the source and
// checks its bytes against the node's descriptor.
func (c *copier) readDocument(n *verify.Node) ([]byte, error) {
	x := n.Descriptor()
	d, err := digest.Parse(string(x.Digest))
	if err != nil {
		return nil, fmt.Errorf("descriptor %q: %w", x.Digest, err)
	}
	name := blobName(d)
	b, err := readSmall(c.src, name, c.docKind(), c.docLimit())
	if err != nil {
		return nil, err
	}
	if d.Algorithm().FromBytes(b) != d || int64(len(b)) != x.Size {
		return nil, fmt.Errorf("%s: %w", name, ErrBlobMismatch)
	}
	return b, nil
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
// written for each image. The verified graph has no nodes for this view:
// manifest.json names files, not digests. The report does: each image it
// kept, by its path manifest.json[i], with the digest, size and
// compression the verification computed for each layer file, against
// which the copy checks the bytes it writes.
func (c *copier) classicToLayout() error {
	entries, err := c.readClassic()
	if err != nil {
		return err
	}
	var index []desc
	// Verification leaves out the entries of another platform.
	c.picked = len(c.rep.Images) < len(entries)
	for i := range c.rep.Images {
		img := &c.rep.Images[i]
		e, ok := classicEntry(entries, img.Path)
		if !ok {
			return fmt.Errorf("%s: not an entry of manifest.json", img.Path)
		}
		cfg, err := c.classicConfig(img, e)
		if err != nil {
			return err
		}
		cd := digest.FromBytes(cfg)
		if err := c.putOnce(blobName(cd), cfg); err != nil {
			return err
		}
		man := manifest{SchemaVersion: 2, MediaType: "application/vnd.oci.image.manifest.v1+json",
			Config: desc{MediaType: "application/vnd.oci.image.config.v1+json", Digest: cd.String(), Size: int64(len(cfg))}, Layers: []desc{}}
		if len(e.Layers) != len(img.Layers) {
			return fmt.Errorf("%s: %d layer files for %d verified layers", img.Path, len(e.Layers), len(img.Layers))
		}
		for j, l := range e.Layers {
			ld, err := digest.Parse(img.Layers[j].Digest)
			if err != nil {
				return fmt.Errorf("%s/Layers[%d]: %w", img.Path, j, err)
			}
			size := img.Layers[j].Size
			man.Layers = append(man.Layers, desc{MediaType: ociLayerType(img.Layers[j].Compression), Digest: ld.String(), Size: size})
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

// classicConfig reads the config file of a manifest.json entry and checks
// it against the image ID verification reported.
func (c *copier) classicConfig(img *verify.Image, e classic) ([]byte, error) {
	cfg, err := readSmall(c.src, e.Config, limits.ConfigDocument, c.lim.ConfigDocument)
	if err != nil {
		return nil, err
	}
	if digest.FromBytes(cfg).String() != img.ImageID {
		return nil, fmt.Errorf("%s: %w", e.Config, ErrBlobMismatch)
	}
	return cfg, nil
}

// ociLayerType is the OCI layer media type of a docker-save layer file
// of the given compression.
func ociLayerType(compression string) string {
	switch compression {
	case verify.CompressionGzip:
		return ocispec.MediaTypeImageLayerGzip
	case verify.CompressionZstd:
		return ocispec.MediaTypeImageLayerZstd
	}
	return ocispec.MediaTypeImageLayer
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
	var entries []classic // a classic source: the files of each image
	classicSrc := false
	if _, err := fs.Stat(c.src, "index.json"); errors.Is(err, fs.ErrNotExist) {
		if entries, err = c.readClassic(); err != nil {
			return nil, err
		}
		classicSrc = true
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
		if classicSrc {
			e, ok := classicEntry(entries, img.Path)
			if !ok {
				return nil, fmt.Errorf("%s: not an entry of manifest.json", img.Path)
			}
			im.layerNames, im.tags = e.Layers, e.RepoTags
			im.config, err = readSmall(c.src, e.Config, limits.ConfigDocument, c.lim.ConfigDocument)
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

// classicEntry is the manifest.json entry at path (manifest.json[i]), as
// the report names the image it verified from it.
func classicEntry(entries []classic, path string) (classic, bool) {
	var i int
	if _, err := fmt.Sscanf(path, "manifest.json[%d]", &i); err != nil || i < 0 || i >= len(entries) || path != fmt.Sprintf("manifest.json[%d]", i) {
		return classic{}, false
	}
	return entries[i], true
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
