// Package compare tells whether two verified images are the same image, at
// every level of identity: index digest, manifest digest, image ID (the
// config digest), diff_ids, and layer blobs with their compression. It
// explains in plain words why digests differ when the image is the same,
// for example when layers were recompressed, a manifest was converted to
// another media type, or one platform was picked out of an index.
//
// It works on two verify.Reports, so it compares any two sources: a
// registry, an OCI layout, an OCI archive or a docker-save tarball. It is
// wasm-safe.
package compare

import (
	"fmt"
	"sort"
	"strings"

	"github.com/imgproof/imgproof/verify"
)

// Result is the answer to "are A and B the same image?".
type Result struct {
	// SameImage is SameImageID && SameContent: the CLI's exit status.
	SameImage bool `json:"sameImage"`
	// SameImageID: every paired image has the same config digest.
	SameImageID bool `json:"sameImageID"`
	// SameContent: every paired image has the same diff_ids in the same
	// order, so the unpacked file systems are identical.
	SameContent bool `json:"sameContent"`
	// SameManifestDigest: every paired image has the same, recoverable,
	// manifest digest.
	SameManifestDigest bool `json:"sameManifestDigest"`
	// SameLayerBlobs: every paired image has the same compressed layer
	// blobs (digests), in the same order.
	SameLayerBlobs bool `json:"sameLayerBlobs"`
	// SameIndexDigest: both sources have a top index, with the same digest.
	SameIndexDigest bool `json:"sameIndexDigest"`
	// Verified is true when both sources verified; a comparison of
	// unverified sources says nothing.
	Verified bool `json:"verified"`
	// Reasons explains, in plain words, every difference and why the
	// identities that stayed equal did so.
	Reasons []string `json:"reasons"`
	A       Side     `json:"a"`
	B       Side     `json:"b"`
	// Images lists each pair of images compared, by platform.
	Images []Pair `json:"images"`
	// Unknown names the identities that could not be compared, so that
	// their Same* field being false means "unknown", not "different":
	// any of "imageID", "content", "manifestDigest" and "layerBlobs".
	Unknown []string `json:"unknown,omitempty"`
}

// The names Unknown uses.
const (
	IdentityImageID        = "imageID"
	IdentityContent        = "content"
	IdentityManifestDigest = "manifestDigest"
	IdentityLayerBlobs     = "layerBlobs"
)

// IsUnknown reports whether the identity could not be compared.
func (r *Result) IsUnknown(identity string) bool {
	for _, u := range r.Unknown {
		if u == identity {
			return true
		}
	}
	return false
}

// Side summarises one source.
type Side struct {
	Source      string         `json:"source"`
	Format      verify.Format  `json:"format"`
	Verdict     verify.Verdict `json:"verdict"`
	IndexDigest *string        `json:"indexDigest,omitempty"`
	Images      int            `json:"images"`
}

// Pair compares one image of A with one image of B.
type Pair struct {
	Platform           string   `json:"platform,omitempty"`
	A                  *Summary `json:"a,omitempty"`
	B                  *Summary `json:"b,omitempty"`
	SameImageID        bool     `json:"sameImageID"`
	SameContent        bool     `json:"sameContent"`
	SameManifestDigest bool     `json:"sameManifestDigest"`
	SameLayerBlobs     bool     `json:"sameLayerBlobs"`
	Reasons            []string `json:"reasons"`
}

// Summary is one image's identities.
type Summary struct {
	ManifestDigest    *string  `json:"manifestDigest"`
	ManifestMediaType string   `json:"manifestMediaType,omitempty"`
	ImageID           string   `json:"imageID"`
	DiffIDs           []string `json:"diffIDs"`
	LayerDigests      []string `json:"layerDigests"`
	Compression       []string `json:"compression"`
}

// Options tunes a comparison.
type Options struct {
	// Platform, if set, compares only the images of that platform.
	Platform *verify.Platform
}

// Reports compares two finished reports.
func Reports(a, b *verify.Report, opts *Options) *Result {
	r := &Result{
		A:        side(a),
		B:        side(b),
		Verified: a.Verdict == verify.Verified && b.Verdict == verify.Verified,
	}
	ia, ib := runnable(a, opts), runnable(b, opts)
	r.A.Images, r.B.Images = len(ia), len(ib)
	if !r.Verified {
		r.Reasons = append(r.Reasons, fmt.Sprintf("A is %s and B is %s: identities are only compared between verified sources", a.Verdict, b.Verdict))
	}
	r.compareIndexes(a, b, ia, ib)
	if len(ia) == 0 || len(ib) == 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("nothing to compare: A has %s, B has %d", plural(len(ia), "runnable image"), len(ib)))
		r.finish()
		return r
	}
	pairs, onlyA, onlyB := pairUp(ia, ib, (len(ia) == 1 && a.IndexDigest == nil) || (len(ib) == 1 && b.IndexDigest == nil))
	for _, p := range pairs {
		r.Images = append(r.Images, comparePair(p[0], p[1]))
	}
	for _, im := range onlyA {
		r.Images = append(r.Images, Pair{Platform: platformOf(im), A: summarize(im), Reasons: []string{"only in A"}})
	}
	for _, im := range onlyB {
		r.Images = append(r.Images, Pair{Platform: platformOf(im), B: summarize(im), Reasons: []string{"only in B"}})
	}
	r.finish()
	return r
}

func (r *Result) finish() {
	r.Unknown = r.unknown()
	r.SameImageID, r.SameContent, r.SameManifestDigest, r.SameLayerBlobs = len(r.Images) > 0, len(r.Images) > 0, len(r.Images) > 0, len(r.Images) > 0
	for _, p := range r.Images {
		r.SameImageID = r.SameImageID && p.SameImageID
		r.SameContent = r.SameContent && p.SameContent
		r.SameManifestDigest = r.SameManifestDigest && p.SameManifestDigest
		r.SameLayerBlobs = r.SameLayerBlobs && p.SameLayerBlobs
		for _, why := range p.Reasons {
			if p.Platform != "" && len(r.Images) > 1 {
				why = p.Platform + ": " + why
			}
			r.Reasons = append(r.Reasons, why)
		}
	}
	r.SameImage = r.Verified && r.SameImageID && r.SameContent
	switch {
	case !r.Verified:
	case r.SameImage && r.SameManifestDigest:
		r.Reasons = append([]string{"same image: same manifest digest, image ID and content"}, r.Reasons...)
	case r.SameImage:
		r.Reasons = append([]string{"same image ID and content, different manifest digest"}, r.Reasons...)
	case r.SameContent:
		r.Reasons = append([]string{"same content (diff_ids), different image ID"}, r.Reasons...)
	default:
		r.Reasons = append([]string{"different images"}, r.Reasons...)
	}
	if r.Reasons == nil {
		r.Reasons = []string{}
	}
}

// unknown lists the identities that could not be compared: all of them
// when a side did not verify or nothing was paired; otherwise those a
// pair lacks on one side (a classic docker save keeps no manifest digest,
// a layer that could not be decompressed has no diff_id).
func (r *Result) unknown() []string {
	all := []string{IdentityImageID, IdentityContent, IdentityManifestDigest, IdentityLayerBlobs}
	if !r.Verified {
		return all
	}
	paired := 0
	missing := map[string]bool{}
	for _, p := range r.Images {
		if p.A == nil || p.B == nil {
			continue
		}
		paired++
		for _, s := range []*Summary{p.A, p.B} {
			missing[IdentityImageID] = missing[IdentityImageID] || s.ImageID == ""
			missing[IdentityManifestDigest] = missing[IdentityManifestDigest] || s.ManifestDigest == nil
			missing[IdentityContent] = missing[IdentityContent] || hasEmpty(s.DiffIDs)
			missing[IdentityLayerBlobs] = missing[IdentityLayerBlobs] || hasEmpty(s.LayerDigests)
		}
	}
	if paired == 0 {
		return all
	}
	var out []string
	for _, id := range all {
		if missing[id] {
			out = append(out, id)
		}
	}
	return out
}

func hasEmpty(xs []string) bool {
	for _, x := range xs {
		if x == "" {
			return true
		}
	}
	return false
}

func side(rep *verify.Report) Side {
	return Side{Source: rep.Source.Path, Format: rep.Source.Format, Verdict: rep.Verdict, IndexDigest: rep.IndexDigest}
}

// runnable returns the images that are runnable images (not attestations
// or artifacts), restricted to a platform when one is asked for.
func runnable(rep *verify.Report, opts *Options) []*verify.Image {
	var out []*verify.Image
	for i := range rep.Images {
		im := &rep.Images[i]
		if im.Kind != "" && im.Kind != "image" {
			continue
		}
		if opts != nil && opts.Platform != nil && im.Platform != nil && !samePlatform(*opts.Platform, *im.Platform) {
			continue
		}
		out = append(out, im)
	}
	return out
}

func samePlatform(want, got verify.Platform) bool {
	return want.OS == got.OS && want.Architecture == got.Architecture && (want.Variant == "" || want.Variant == got.Variant)
}

func platformOf(im *verify.Image) string {
	if im.Platform == nil {
		return ""
	}
	return im.Platform.String()
}

// pairUp pairs images by platform. When one side is a single image outside
// any index (picked is true) it is paired with the other side's image of
// the same platform, which is how a platform picked out of an index is
// recognised; the index's other platforms are then not differences.
func pairUp(a, b []*verify.Image, picked bool) (pairs [][2]*verify.Image, onlyA, onlyB []*verify.Image) {
	if len(a) == 1 && len(b) == 1 {
		return [][2]*verify.Image{{a[0], b[0]}}, nil, nil
	}
	used := make([]bool, len(b))
	for _, x := range a {
		found := false
		for j, y := range b {
			if !used[j] && platformOf(x) == platformOf(y) {
				used[j], found = true, true
				pairs = append(pairs, [2]*verify.Image{x, y})
				break
			}
		}
		if !found {
			onlyA = append(onlyA, x)
		}
	}
	for j, y := range b {
		if !used[j] {
			onlyB = append(onlyB, y)
		}
	}
	// A single image against an index: the index's other platforms are
	// not differences, they were left out.
	if picked && len(pairs) == 1 {
		return pairs, nil, nil
	}
	return pairs, onlyA, onlyB
}

func (r *Result) compareIndexes(a, b *verify.Report, ia, ib []*verify.Image) {
	da, db := a.IndexDigest, b.IndexDigest
	switch {
	case da != nil && db != nil && *da == *db:
		r.SameIndexDigest = true
		r.Reasons = append(r.Reasons, "same index digest "+*da)
	case da != nil && db != nil:
		r.Reasons = append(r.Reasons, fmt.Sprintf("the index digests differ (A %s, B %s)", short(*da), short(*db)))
	case da != nil:
		r.Reasons = append(r.Reasons, indexOnOneSide("A", "B", *da, ia, ib))
	case db != nil:
		r.Reasons = append(r.Reasons, indexOnOneSide("B", "A", *db, ib, ia))
	}
}

// indexOnOneSide explains a comparison where only side x has a top index.
// It says that a platform was picked out of x's index only when the other
// side's single image is one of the index's images.
func indexOnOneSide(x, y, digest string, ix, iy []*verify.Image) string {
	switch {
	case len(iy) == 1 && len(ix) > 1 && containsImage(ix, iy[0]):
		return fmt.Sprintf("%s is a single image: the platform %s was picked out of %s's index of %s",
			y, orUnknown(platformOf(iy[0])), x, plural(len(ix), "image"))
	case len(iy) == 1 && containsImage(ix, iy[0]):
		return fmt.Sprintf("only %s has a top index (%s); %s is that index's image without it", x, short(digest), y)
	case len(iy) == 1:
		return fmt.Sprintf("only %s has a top index (%s, of %s); %s is a single image that is not among them",
			x, short(digest), plural(len(ix), "image"), y)
	default:
		return fmt.Sprintf("only %s has a top index (%s, of %s); %s lists its %s without one",
			x, short(digest), plural(len(ix), "image"), y, plural(len(iy), "image"))
	}
}

// containsImage reports whether im is one of xs: same image ID and same
// content, whatever its manifest.
func containsImage(xs []*verify.Image, im *verify.Image) bool {
	for _, x := range xs {
		if x.ImageID != "" && x.ImageID == im.ImageID {
			return true
		}
	}
	return false
}

func summarize(im *verify.Image) *Summary {
	s := &Summary{ManifestDigest: im.ManifestDigest, ManifestMediaType: im.ManifestMediaType, ImageID: im.ImageID,
		DiffIDs: []string{}, LayerDigests: []string{}, Compression: []string{}}
	for _, l := range im.Layers {
		s.DiffIDs = append(s.DiffIDs, l.DiffID)
		s.LayerDigests = append(s.LayerDigests, l.Digest)
		s.Compression = append(s.Compression, l.Compression)
	}
	return s
}

func comparePair(a, b *verify.Image) Pair {
	sa, sb := summarize(a), summarize(b)
	p := Pair{Platform: platformOf(a), A: sa, B: sb}
	if p.Platform == "" {
		p.Platform = platformOf(b)
	}
	p.SameImageID = sa.ImageID != "" && sa.ImageID == sb.ImageID
	p.SameContent = equalNonEmpty(sa.DiffIDs, sb.DiffIDs)
	p.SameLayerBlobs = equalNonEmpty(sa.LayerDigests, sb.LayerDigests)
	p.SameManifestDigest = sa.ManifestDigest != nil && sb.ManifestDigest != nil && *sa.ManifestDigest == *sb.ManifestDigest
	why := func(format string, args ...any) { p.Reasons = append(p.Reasons, fmt.Sprintf(format, args...)) }

	if a.Platform != nil && b.Platform != nil && a.Platform.String() != b.Platform.String() {
		why("the platforms differ: A is %s, B is %s", a.Platform, b.Platform)
	}
	switch {
	case sa.ManifestDigest == nil && sb.ManifestDigest == nil:
		why("neither side keeps a registry manifest (classic docker save), so manifest digests cannot be compared")
	case sa.ManifestDigest == nil:
		why("A keeps no registry manifest (classic docker save), so its manifest digest cannot be recovered")
	case sb.ManifestDigest == nil:
		why("B keeps no registry manifest (classic docker save), so its manifest digest cannot be recovered")
	case !p.SameManifestDigest:
		why("the manifest digests differ (A %s, B %s)", short(*sa.ManifestDigest), short(*sb.ManifestDigest))
	}
	if !p.SameManifestDigest && sa.ManifestMediaType != "" && sb.ManifestMediaType != "" && sa.ManifestMediaType != sb.ManifestMediaType {
		why("the manifest media type was converted: A is %s, B is %s", sa.ManifestMediaType, sb.ManifestMediaType)
	}
	if p.SameImageID {
		if !p.SameManifestDigest {
			why("the image ID is the same (%s): the config bytes were copied exactly", short(sa.ImageID))
		}
	} else {
		why("the image IDs differ (A %s, B %s): the config bytes differ", short(sa.ImageID), short(sb.ImageID))
		if p.SameContent {
			why("the layers are the same, so only config metadata differs (history, labels, created time, environment or similar)")
		}
	}
	layerReasons(&p, sa, sb, why)
	if p.SameImageID && p.SameContent && p.SameLayerBlobs && !p.SameManifestDigest &&
		sa.ManifestDigest != nil && sb.ManifestDigest != nil && sa.ManifestMediaType == sb.ManifestMediaType {
		why("config and layer blobs are the same, so the manifests differ in other fields (annotations, field order or formatting)")
	}
	if p.Reasons == nil {
		p.Reasons = []string{}
	}
	return p
}

func layerReasons(p *Pair, sa, sb *Summary, why func(string, ...any)) {
	if len(sa.DiffIDs) != len(sb.DiffIDs) {
		why("the layer counts differ: A has %s, B has %d", plural(len(sa.DiffIDs), "layer"), len(sb.DiffIDs))
		return
	}
	for i := range sa.DiffIDs {
		if sa.DiffIDs[i] != sb.DiffIDs[i] {
			why("the content differs from layer %d on (diff_id A %s, B %s)", i, short(sa.DiffIDs[i]), short(sb.DiffIDs[i]))
			return
		}
	}
	if !p.SameContent {
		why("a layer's diff_id could not be recomputed, so content cannot be compared")
		return
	}
	if p.SameLayerBlobs {
		if !p.SameManifestDigest {
			why("the layer blobs are the same (same compressed bytes)")
		}
		return
	}
	// Same diff_ids, different blobs: say how they were recompressed.
	conv := map[string][]int{}
	for i := range sa.LayerDigests {
		if sa.LayerDigests[i] == sb.LayerDigests[i] {
			continue
		}
		key := describeCompression(sa.Compression[i]) + " → " + describeCompression(sb.Compression[i])
		if sa.Compression[i] == sb.Compression[i] {
			key = "same " + describeCompression(sa.Compression[i]) + " format, different bytes"
		}
		conv[key] = append(conv[key], i)
	}
	keys := make([]string, 0, len(conv))
	for k := range conv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		why("layers recompressed (%s) for layer(s) %s: same uncompressed content (diff_ids), different blob digests", k, ints(conv[k]))
	}
}

func describeCompression(c string) string {
	switch c {
	case "none", "":
		return "uncompressed"
	default:
		return c
	}
}

func equalNonEmpty(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] == "" || a[i] != b[i] {
			return false
		}
	}
	return true
}

func short(d string) string {
	if alg, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return alg + ":" + hex[:12]
	}
	return d
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// plural says "1 layer" or "2 layers".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func ints(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
