package verify

import (
	"fmt"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerManifest is one entry of a docker-save manifest.json.
type dockerManifest struct {
	Config       string                   `json:"Config"`
	RepoTags     []string                 `json:"RepoTags"`
	Layers       []string                 `json:"Layers"`
	Parent       string                   `json:"Parent,omitempty"`
	LayerSources map[string]v1.Descriptor `json:"LayerSources,omitempty"`
}

// verifyDocker verifies a docker-save archive. A Docker 25+ archive also
// carries an OCI layout (index.json, oci-layout, blobs/); both views are
// verified and must name the same images.
func (v *verifier) verifyDocker(names map[string]bool) {
	v.report.Source.Views = []string{"manifest.json"}
	dual := names["index.json"] && names["oci-layout"]
	ociImages := 0
	if dual {
		v.report.Source.Views = append(v.report.Source.Views, "index.json")
		v.verifyLayout()
		ociImages = len(v.report.Images)
	}
	b, err := v.st.readFile("manifest.json", v.lim.ArchiveMetadata)
	if err != nil {
		v.readError(err, "manifest.json", "manifest.json")
		return
	}
	var entries []dockerManifest
	if !v.unmarshalDockerMeta(b, &entries, "manifest.json", "manifest.json") {
		return
	}
	if len(entries) == 0 {
		if dual && v.indexRead && len(v.roots) > 0 {
			// An empty view cannot make a loader run another image: the
			// index.json view decides.
			v.report.Add(Finding{Code: CodeArchiveViewEmpty, Path: "manifest.json",
				Message: "manifest.json lists no image; the archive's images are those index.json names"})
			return
		}
		v.finding(CodeArchiveInvalid, "manifest.json", "manifest.json lists no image")
		return
	}
	if names["repositories"] {
		if rb, err := v.st.readFile("repositories", v.lim.ArchiveMetadata); err == nil {
			var repos map[string]map[string]string
			v.unmarshalDockerMeta(rb, &repos, "repositories", "repositories")
		}
	}
	tagged := false
	dockerImages := make([]int, len(entries))
	for i, e := range entries {
		if len(e.RepoTags) > 0 {
			tagged = true
		}
		dockerImages[i] = v.dockerImage(e, fmt.Sprintf("manifest.json[%d]", i), dual)
	}
	if tagged {
		v.report.Add(Finding{Code: CodeUnverifiedMetadata, Path: "manifest.json",
			Message: "RepoTags in manifest.json are covered by no digest: they are reported but not verified"})
	}
	if !dual {
		v.report.Add(Finding{Code: CodeManifestDigestUnrecoverable, Path: "manifest.json",
			Message: "a classic docker save archive keeps no registry manifest, so the manifest digest cannot be recovered; the image ID and diff_ids are verified"})
		return
	}
	if !v.indexRead {
		return // index.json has its own finding; there is no view to compare
	}
	if len(v.roots) == 0 {
		// docker save of an untagged image (Docker 25+) writes
		// "manifests": null. A view that names nothing cannot make a
		// loader run another image: manifest.json decides.
		v.report.Add(Finding{Code: CodeArchiveViewEmpty, Path: "index.json/manifests",
			Message: "index.json names no image (as docker save writes for an untagged image); the archive's images are those manifest.json names"})
		return
	}
	v.after(func() { v.crossCheckViews(dockerImages, ociImages) })
}

// dockerImage verifies one manifest.json entry and returns its index in
// the report's images.
func (v *verifier) dockerImage(e dockerManifest, p string, dual bool) int {
	cpath := p + "/Config"
	cname, ok := cleanName(e.Config)
	if !ok {
		v.report.Add(Finding{Code: CodeArchiveUnsafePath, Path: cpath, Actual: e.Config, Message: "unsafe config path"})
		return -1
	}
	v.used[cname] = true
	cb, err := v.st.readFile(cname, v.lim.ConfigDocument)
	if err != nil {
		v.readError(err, cname, cpath)
		return -1
	}
	id := digest.FromBytes(cb)
	if named := digestInName(cname); named != "" {
		if named != id.Encoded() {
			v.report.Add(Finding{Code: CodeConfigNameMismatch, Path: cpath, Expected: "sha256:" + named, Actual: id.String(),
				How: "sha256(" + cname + ")", Message: "the config's file name is not the sha256 of its content (the image ID)"})
		} else {
			v.report.Pass()
		}
	} else {
		v.report.Add(Finding{Code: CodeConfigNameMismatch, Severity: SeverityWarning, Path: cpath, Actual: cname,
			Message: "the config's file name carries no digest to check"})
	}
	var cfg v1.Image
	if !v.unmarshal(cb, &cfg, cpath, "config") {
		return -1
	}
	img := Image{Path: p, ImageID: id.String(), Kind: "image", RefNames: e.RepoTags, Layers: make([]Layer, len(e.Layers)), ChainIDs: []string{}}
	if cfg.OS != "" || cfg.Architecture != "" {
		img.Platform = &Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
	}
	idx := len(v.report.Images)
	v.report.Images = append(v.report.Images, img)
	v.scheduleLayers(idx, cfg.RootFS.DiffIDs, len(e.Layers), true, cpath, "Layers", "manifest.json", func(i int, want, diffPath string) {
		v.dockerLayer(idx, i, e.Layers[i], fmt.Sprintf("%s/Layers[%d]", p, i), want, diffPath)
	})
	return idx
}

// digestInName returns the hex digest a docker-save file name carries:
// <hex>.json, blobs/sha256/<hex>, or <hex>/layer.tar. It returns "" if none.
func digestInName(name string) string {
	base := path.Base(name)
	if rest, ok := strings.CutPrefix(name, "blobs/sha256/"); ok {
		base = rest
	} else if b, ok := strings.CutPrefix(base, "sha256:"); ok {
		base = b // go-containerregistry's tarball format
	} else if b, ok := strings.CutSuffix(base, ".json"); ok {
		base = b
	} else {
		return ""
	}
	if _, err := parseDigest("sha256:" + base); err != nil {
		return ""
	}
	return base
}

func (v *verifier) dockerLayer(img, i int, name, p, wantDiff, diffPath string) {
	rec := &v.report.Images[img].Layers[i]
	rec.MediaType = "application/vnd.docker.image.rootfs.diff.tar"
	rec.Compression = CompressionUnknown
	lname, ok := cleanName(name)
	if !ok {
		v.report.Add(Finding{Code: CodeArchiveUnsafePath, Path: p, Actual: name, Message: "unsafe layer path"})
		return
	}
	pb := v.scheduleBlob(lname, digest.SHA256, -1, v.st.size(lname), true, diffAlgOf(wantDiff))
	v.after(func() {
		rec := &v.report.Images[img].Layers[i]
		if pb.err != nil {
			v.readError(pb.err, lname, p)
			return
		}
		ev := pb.ev
		if ev.readErr != nil {
			v.readError(ev.readErr, lname, p)
			return
		}
		rec.Digest = ev.digests[digest.SHA256].String()
		rec.Size = ev.size
		rec.Compression = ev.compression
		if named, ok := strings.CutPrefix(lname, "blobs/sha256/"); ok {
			if named != ev.digests[digest.SHA256].Encoded() {
				v.report.Add(Finding{Code: CodeDigestMismatch, Path: p, Expected: "sha256:" + named, Actual: rec.Digest,
					How: "sha256(" + lname + ")", Message: "the layer's file name is not the sha256 of its content"})
				return
			}
			v.report.Pass()
		}
		switch ev.compression {
		case CompressionNone, CompressionGzip, CompressionZstd:
		default:
			v.report.Add(Finding{Code: CodeUnsupportedCompress, Path: p, Actual: ev.compression, How: "magic bytes",
				Message: "docker save layers may only be uncompressed, gzip or zstd"})
			return
		}
		switch ev.compression {
		case CompressionGzip:
			rec.MediaType = MediaTypeDockerLayer
		case CompressionZstd:
			rec.MediaType = "application/vnd.oci.image.layer.v1.tar+zstd"
		}
		v.checkDiffID(ev, rec, p, wantDiff, diffPath)
	})
}

// crossCheckViews requires the manifest.json view and the index.json view
// of a Docker 25+ archive to name the same images: the same config digest
// and the same ordered layers. Matched docker-view images are folded into
// the OCI-view images, which carry manifest digests.
func (v *verifier) crossCheckViews(docker []int, ociCount int) {
	matched := make([]bool, ociCount)
	unread := false // an entry whose image could not be read, reported already
	for i, di := range docker {
		if di < 0 {
			unread = true
			continue
		}
		d := v.report.Images[di]
		found := -1
		for oi := 0; oi < ociCount; oi++ {
			o := v.report.Images[oi]
			if o.ImageID == d.ImageID && sameLayers(o.Layers, d.Layers) {
				found = oi
				break
			}
		}
		if found < 0 {
			v.report.Add(Finding{Code: CodeArchiveViewMismatch, Path: fmt.Sprintf("manifest.json[%d]", i), Actual: d.ImageID,
				How: "config digest and ordered layer digests", Message: "manifest.json names an image that index.json does not: loaders that prefer one view would run another image"})
			continue
		}
		matched[found] = true
		o := &v.report.Images[found]
		for _, t := range d.RefNames {
			if !contains(o.RefNames, t) {
				o.RefNames = append(o.RefNames, t)
			}
		}
		v.report.Pass()
	}
	for oi := 0; oi < ociCount; oi++ {
		// An unread manifest.json entry may be the one naming this image.
		if o := v.report.Images[oi]; o.Kind == "image" && !matched[oi] && !unread {
			v.report.Add(Finding{Code: CodeArchiveViewMismatch, Path: o.Path, Actual: o.ImageID,
				Message: "index.json names an image that manifest.json does not: loaders that prefer one view would run another image"})
		}
	}
	// Keep one entry per image: the OCI view's.
	var kept []Image
	for i, img := range v.report.Images {
		if i < ociCount || !containsIndex(docker, i) || !v.matchedDocker(img, ociCount) {
			kept = append(kept, img)
		}
	}
	v.report.Images = kept
}

func (v *verifier) matchedDocker(d Image, ociCount int) bool {
	for oi := 0; oi < ociCount; oi++ {
		o := v.report.Images[oi]
		if o.ImageID == d.ImageID && sameLayers(o.Layers, d.Layers) {
			return true
		}
	}
	return false
}

func containsIndex(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func sameLayers(a, b []Layer) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Digest != b[i].Digest || a[i].DiffID != b[i].DiffID {
			return false
		}
	}
	return true
}
