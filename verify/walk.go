package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// docProbe reads the members that decide a document's kind. Members are
// raw so that presence, not content, decides (B1 of the security catalog).
type docProbe struct {
	SchemaVersion *int64          `json:"schemaVersion"`
	MediaType     string          `json:"mediaType"`
	Config        json.RawMessage `json:"config"`
	Layers        json.RawMessage `json:"layers"`
	Manifests     json.RawMessage `json:"manifests"`
	FSLayers      json.RawMessage `json:"fsLayers"`
	Subject       json.RawMessage `json:"subject"`
	ArtifactType  string          `json:"artifactType"`
	Annotations   json.RawMessage `json:"annotations"`
	Blobs         json.RawMessage `json:"blobs"`
}

// node is a visited document, memoised by digest.
type node struct {
	kind     docKind
	platform *Platform // from the config, for manifests of images
	image    int       // index into report.Images, or -1
	config   bool      // the image config was read and parsed
	ok       bool      // the document's own bytes verified
	size     int64     // the document's length, or -1 when unread
}

// pendingBlob is a blob to stream, shared by every descriptor naming it.
type pendingBlob struct {
	job blobJob
	ev  *evidence
	err error
}

// scheduleBlob registers a blob to stream in the blob phase and returns the
// handle whose evidence the checks read afterwards.
func (v *verifier) scheduleBlob(name string, alg digest.Algorithm, max, total int64, tarLayer bool, diffAlg digest.Algorithm) *pendingBlob {
	v.used[name] = true
	key := name + "\x00" + string(alg)
	if p, ok := v.blobs[key]; ok {
		if diffAlg != "" && !slices.Contains(p.job.diffAlgs, diffAlg) {
			p.job.diffAlgs = append(p.job.diffAlgs, diffAlg)
		}
		return p
	}
	job := blobJob{name: name, algs: []digest.Algorithm{alg}, max: max, total: total, eng: v.eng}
	if diffAlg != "" {
		job.diffAlgs = []digest.Algorithm{diffAlg}
	}
	if tarLayer {
		job.content = v.contentFor(name)
	}
	p := &pendingBlob{job: job}
	v.blobs[key] = p
	v.blobOrder = append(v.blobOrder, p)
	return p
}

// sizeAbsent stands for a descriptor whose size member is absent or
// null. Decoding leaves 0 there, which would read as a claim that the
// blob is empty: the blob's digest is still checked, its size is not.
const sizeAbsent = math.MinInt64

// markAbsentSizes sets sizeAbsent on the descriptors of a decoded manifest
// (config and layers) or index (list, with config nil) that have no size.
func markAbsentSizes(b []byte, config *v1.Descriptor, list []v1.Descriptor) {
	type sized struct {
		Size json.RawMessage `json:"size"`
	}
	var p struct {
		Config    *sized  `json:"config"`
		Layers    []sized `json:"layers"`
		Manifests []sized `json:"manifests"`
	}
	if json.Unmarshal(b, &p) != nil {
		return
	}
	absent := func(s sized) bool { return len(s.Size) == 0 || string(s.Size) == "null" }
	raw := p.Manifests
	if config != nil {
		raw = p.Layers
		if p.Config != nil && absent(*p.Config) {
			config.Size = sizeAbsent
		}
	}
	for i := range list {
		if i < len(raw) && absent(raw[i]) {
			list[i].Size = sizeAbsent
		}
	}
}

// readBounds returns how many bytes of a blob are worth streaming (one
// more than its size) and the size progress events show. A descriptor
// without a size gets the largest blob the limits allow for a layer's
// content, layer-decompressed-bytes, plus one: past that the read stops
// and checkEvidence reports the limit rather than a digest of a prefix.
func (v *verifier) readBounds(size int64) (readMax, total int64) {
	if size == sizeAbsent {
		return v.lim.LayerDecompressed + 1, 0
	}
	return size + 1, size
}

// fail records an error-severity finding (or the code's default).
func (v *verifier) finding(code Code, path, msg string) {
	v.report.Add(Finding{Code: code, Path: path, Message: msg})
}

// checkDescriptor validates a descriptor's own fields. It returns the
// parsed digest, or false when the descriptor cannot be followed.
func (v *verifier) checkDescriptor(d v1.Descriptor, path string) (digest.Digest, bool) {
	v.descriptors++
	if v.descriptors > v.lim.Descriptors {
		if !v.descLimitHit {
			v.descLimitHit = true
			v.report.Add(Finding{Code: CodeLimitExceeded, Path: path,
				Message: limits.Exceeded(limits.Descriptors, int64(v.lim.Descriptors), "graph").Error()})
		}
		return "", false
	}
	dg, derr := parseDigest(string(d.Digest))
	if derr != nil {
		v.finding(derr.code, path, derr.msg)
		return "", false
	}
	if d.Size == sizeAbsent {
		// Size is REQUIRED; the digest still says whether the bytes are
		// the ones meant, so the walk goes on.
		v.finding(CodeInvalidDescriptor, path, "descriptor has no size")
	} else if d.Size < 0 || d.Size > strictjson.MaxSafeInteger {
		v.finding(CodeInvalidDescriptor, path, fmt.Sprintf("size %d is negative or beyond 2^53-1", d.Size))
		return "", false
	}
	if d.MediaType == "" {
		v.finding(CodeInvalidDescriptor, path, "descriptor has no mediaType")
		return "", false
	}
	if d.Data != nil {
		if (d.Size != sizeAbsent && int64(len(d.Data)) != d.Size) || digest.NewDigestFromBytes(dg.Algorithm(), hashBytes(dg.Algorithm(), d.Data)) != dg {
			v.report.Add(Finding{Code: CodeDataMismatch, Path: path + "/data", Expected: dg.String(),
				Actual: digest.NewDigestFromBytes(dg.Algorithm(), hashBytes(dg.Algorithm(), d.Data)).String(),
				How:    string(dg.Algorithm()) + "(base64decode(data))", Message: "embedded data does not match the descriptor's digest and size"})
		} else {
			v.report.Pass()
		}
	}
	return dg, true
}

func hashBytes(alg digest.Algorithm, b []byte) []byte {
	h := newHash(alg)
	h.Write(b)
	return h.Sum(nil)
}

// readDocument reads a small content-addressed document, checking its size
// and digest against the descriptor. ok is false when the bytes cannot be
// trusted.
func (v *verifier) readDocument(d v1.Descriptor, dg digest.Digest, path string, limit int64, kind limits.Kind) ([]byte, bool) {
	b, ok, err := v.readDocumentOrErr(d, dg, path, limit, kind)
	if err != nil {
		v.readError(err, blobPath(dg), path)
	}
	return b, ok
}

// readDocumentOrErr is readDocument, except that an error reading the
// blob is returned rather than reported, for callers that treat an absent
// blob as more than a missing one.
func (v *verifier) readDocumentOrErr(d v1.Descriptor, dg digest.Digest, path string, limit int64, kind limits.Kind) ([]byte, bool, error) {
	if d.Size > limit {
		v.report.Add(Finding{Code: CodeLimitExceeded, Path: path,
			Message: limits.Exceeded(kind, limit, path).Error()})
		return nil, false, nil
	}
	name := blobPath(dg)
	v.used[name] = true
	// Read one byte past the declared size at most: that byte is enough to
	// show that the blob is longer than its descriptor says.
	readLimit := limit
	if d.Size >= 0 && d.Size < limit {
		readLimit = d.Size + 1
	}
	b, err := v.st.readFile(name, readLimit)
	if err != nil {
		if readLimit < limit && errors.Is(err, limits.ErrLimit) {
			v.report.Add(Finding{Code: CodeSizeMismatch, Path: path, Expected: fmt.Sprint(d.Size), Actual: fmt.Sprintf("more than %d", readLimit),
				How: "len(" + name + ")", Message: "the blob is longer than its descriptor says"})
			return nil, false, nil
		}
		return nil, false, err
	}
	return b, v.checkBytes(b, d.Size, dg, path, name), nil
}

// checkBytes compares bytes with a declared size and digest.
func (v *verifier) checkBytes(b []byte, size int64, dg digest.Digest, path, name string) bool {
	ok := true
	if size == sizeAbsent {
		// checkDescriptor reported the absent size.
	} else if int64(len(b)) != size {
		v.report.Add(Finding{Code: CodeSizeMismatch, Path: path, Expected: fmt.Sprint(size), Actual: fmt.Sprint(len(b)),
			How: "len(" + name + ")", Message: "the blob's size differs from the descriptor's"})
		ok = false
	} else {
		v.report.Pass()
	}
	actual := digest.NewDigestFromBytes(dg.Algorithm(), hashBytes(dg.Algorithm(), b))
	if actual != dg {
		v.report.Add(Finding{Code: CodeDigestMismatch, Path: path, Expected: dg.String(), Actual: actual.String(),
			How: string(dg.Algorithm()) + "(" + name + ")", Message: "the blob's bytes do not hash to the descriptor's digest"})
		ok = false
	} else {
		v.report.Pass()
	}
	return ok
}

// readError turns a store error into a finding.
func (v *verifier) readError(err error, name, path string) {
	var le *limits.Error
	var ae *archiveError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.report.Add(Finding{Code: CodeBlobMissing, Path: path, Message: name + " is not in the source"})
	case errors.As(err, &le):
		v.report.Add(Finding{Code: CodeLimitExceeded, Path: path, Message: le.Error()})
	case errors.As(err, &ae):
		v.report.Add(Finding{Code: ae.code, Path: path, Message: ae.Error()})
	default:
		v.report.Add(Finding{Code: CodeRead, Path: path, Message: fmt.Sprintf("reading %s: %v", name, err)})
	}
}

// jsonError turns a strict-parse error into a finding.
func (v *verifier) jsonError(err error, path, what string) {
	var se *strictjson.Error
	if errors.As(err, &se) {
		code := Code(se.Kind)
		if se.Kind == strictjson.Depth {
			code = CodeLimitExceeded
		}
		v.report.Add(Finding{Code: code, Path: path, Message: fmt.Sprintf("%s: %v", what, se)})
		return
	}
	v.report.Add(Finding{Code: CodeJSONSyntax, Path: path, Message: fmt.Sprintf("%s: %v", what, err)})
}

func (v *verifier) unmarshal(b []byte, into any, path, what string) bool {
	if err := strictjson.Unmarshal(b, into, v.lim.JSONDepth); err != nil {
		v.jsonError(err, path, what)
		return false
	}
	return true
}

// unmarshalDockerMeta decodes docker save metadata (manifest.json,
// repositories). Docker, containerd, skopeo and crane read these files
// with Go's case-insensitive encoding/json and Jib writes their keys in
// lower case, so a single ASCII case spelling of a key is a warning that
// names it; two spellings of one key, and Unicode-fold aliases, fail.
func (v *verifier) unmarshalDockerMeta(b []byte, into any, path, what string) bool {
	aliases, err := strictjson.UnmarshalCaseAliases(b, into, v.lim.JSONDepth)
	if err != nil {
		v.jsonError(err, path, what)
		return false
	}
	for _, a := range aliases {
		v.report.Add(Finding{Code: CodeJSONKeyCase, Path: pointerPath(path, a.Path) + "/" + a.Name, Expected: a.Field, Actual: a.Name,
			Message: fmt.Sprintf("%s spells the key %q as %q; Docker reads it the same way, readers that match keys exactly do not", what, a.Field, a.Name)})
	}
	return true
}

// pointerPath appends a strictjson location (/0/config) to a finding
// path in the report's style (manifest.json[0]/config).
func pointerPath(base, ptr string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, seg := range strings.Split(ptr, "/")[1:] {
		if seg != "" && strings.Trim(seg, "0123456789") == "" {
			b.WriteString("[" + seg + "]")
		} else {
			b.WriteString("/" + seg)
		}
	}
	return b.String()
}

// walk verifies the document a descriptor names and everything below it.
func (v *verifier) walk(d v1.Descriptor, path string, depth int) *node {
	dg, ok := v.checkDescriptor(d, path)
	if !ok {
		return nil
	}
	if n, seen := v.nodes[dg]; seen {
		if k := n.kind; k != kindUnknown {
			v.kinds[path] = nodeKindOf(k)
		} else {
			v.kinds[path] = nodeKindOf(kindOfMediaType(d.MediaType))
		}
		// Already verified through another descriptor: this one's claims
		// about the same bytes must agree with what was found.
		if n.size >= 0 && d.Size != sizeAbsent && n.size != d.Size {
			v.report.Add(Finding{Code: CodeSizeMismatch, Path: path, Expected: fmt.Sprint(d.Size), Actual: fmt.Sprint(n.size),
				How: "len(" + blobPath(dg) + ")", Message: "the blob's size differs from the descriptor's"})
		}
		if k := kindOfMediaType(d.MediaType); n.kind != kindUnknown && k != n.kind {
			v.report.Add(Finding{Code: CodeMediaTypeMismatch, Path: path, Expected: k.String(), Actual: n.kind.String(),
				How: "document members", Message: "another descriptor names the same document as another kind"})
		}
		return n
	}
	n := &node{image: -1, size: -1}
	v.nodes[dg] = n
	declared := kindOfMediaType(d.MediaType)
	v.kinds[path] = nodeKindOf(declared)
	if declared == kindSchema1 {
		v.finding(CodeUnsupportedMediaType, path, "Docker schema 1 manifests are not supported: their digest does not cover the served bytes")
		return n
	}
	if declared == kindUnknown {
		// Not a manifest or index: an artifact blob, verified by digest.
		v.schedulePlain(d, dg, path)
		return n
	}
	limit, lk := v.lim.ManifestDocument, limits.ManifestDocument
	if declared == kindIndex {
		limit, lk = v.lim.IndexDocument, limits.IndexDocument
	}
	b, ok, err := v.readDocumentOrErr(d, dg, path, limit, lk)
	if err != nil {
		v.missingDocument(err, d, dg, path)
	}
	if b != nil {
		n.size = int64(len(b))
	}
	if !ok {
		return n
	}
	n.ok = true
	var probe docProbe
	if !v.unmarshal(b, &probe, path, "document") {
		return n
	}
	kind, ok := v.documentKind(&probe, d.MediaType, path)
	if !ok {
		return n
	}
	n.kind = kind
	v.kinds[path] = nodeKindOf(kind)
	if kind == kindIndex {
		v.walkIndex(b, d, dg, path, depth)
	} else {
		n.image, n.platform, n.config = v.walkManifest(b, d, dg, path)
	}
	return n
}

// nodeKindOf names a walked document's kind in the graph: a document
// kind, or a blob for a descriptor that names neither.
func nodeKindOf(k docKind) NodeKind {
	switch k {
	case kindIndex:
		return NodeIndex
	case kindManifest:
		return NodeManifest
	}
	return NodeBlob
}

// documentKind decides whether a document is an index or a manifest from
// its members, and requires the descriptor's and the document's media types
// to agree with that.
func (v *verifier) documentKind(p *docProbe, descMT, path string) (docKind, bool) {
	if len(p.FSLayers) > 0 || kindOfMediaType(p.MediaType) == kindSchema1 {
		v.finding(CodeUnsupportedMediaType, path, "Docker schema 1 manifests are not supported")
		return kindUnknown, false
	}
	isIndex := len(p.Manifests) > 0
	isManifest := len(p.Config) > 0 || len(p.Layers) > 0
	if isIndex && isManifest {
		v.finding(CodeAmbiguousDocument, path, "the document has both manifests and config/layers members, so readers disagree on whether it is an index or a manifest")
		return kindUnknown, false
	}
	kind := kindUnknown
	switch {
	case isIndex:
		kind = kindIndex
	case isManifest:
		kind = kindManifest
	}
	if p.SchemaVersion == nil || *p.SchemaVersion != 2 {
		v.finding(CodeInvalidDocument, path, "schemaVersion must be 2")
		return kindUnknown, false
	}
	if p.MediaType != "" {
		mk := kindOfMediaType(p.MediaType)
		if mk == kindUnknown {
			v.report.Add(Finding{Code: CodeUnsupportedMediaType, Path: path + "/mediaType", Actual: p.MediaType,
				Message: "the document's mediaType is not a known manifest or index type"})
			return kindUnknown, false
		}
		if p.MediaType != descMT {
			v.report.Add(Finding{Code: CodeMediaTypeMismatch, Path: path + "/mediaType", Expected: descMT, Actual: p.MediaType,
				How: "document mediaType member", Message: "the document's mediaType differs from its descriptor's"})
			return kindUnknown, false
		}
		if kind == kindUnknown {
			kind = mk
		}
		if mk != kind {
			v.report.Add(Finding{Code: CodeAmbiguousDocument, Path: path, Expected: mk.String(), Actual: kind.String(),
				How: "document members", Message: "the document's members contradict its mediaType"})
			return kindUnknown, false
		}
	}
	if kind == kindUnknown {
		// No mediaType and neither manifests nor config: decide from the descriptor.
		kind = kindOfMediaType(descMT)
	}
	if dk := kindOfMediaType(descMT); dk != kind {
		v.report.Add(Finding{Code: CodeMediaTypeMismatch, Path: path, Expected: dk.String(), Actual: kind.String(),
			How: "document members", Message: "the descriptor's mediaType names another kind of document"})
		return kindUnknown, false
	}
	v.report.Pass()
	return kind, true
}

func (v *verifier) walkIndex(b []byte, d v1.Descriptor, dg digest.Digest, path string, depth int) {
	var idx v1.Index
	if !v.unmarshal(b, &idx, path, "index") {
		return
	}
	markAbsentSizes(b, nil, idx.Manifests)
	if depth >= v.lim.IndexDepth {
		v.report.Add(Finding{Code: CodeLimitExceeded, Path: path,
			Message: limits.Exceeded(limits.IndexDepth, int64(v.lim.IndexDepth), path).Error()})
		return
	}
	v.report.Indexes = append(v.report.Indexes, Index{Path: path, Digest: dg.String(), MediaType: d.MediaType, Manifests: len(idx.Manifests)})
	if v.report.IndexDigest == nil && depth == v.rootDepth {
		s := dg.String()
		v.report.IndexDigest = &s
	}
	v.walkEntries(idx.Manifests, path, depth+1)
}

// walkEntries walks the entries of an index and checks each entry's
// platform against the config of the manifest it names.
func (v *verifier) walkEntries(entries []v1.Descriptor, path string, depth int) {
	for i, e := range entries {
		p := fmt.Sprintf("%s/manifests[%d]", path, i)
		if v.unselected(e) {
			v.documentOnly(e, p)
			continue
		}
		n := v.walk(e, p, depth)
		if n == nil || n.image < 0 {
			continue
		}
		img := &v.report.Images[n.image]
		if ref := e.Annotations["vnd.docker.reference.type"]; ref == "attestation-manifest" {
			img.Kind = "attestation"
			img.AttestsTo = e.Annotations["vnd.docker.reference.digest"]
		}
		if name := e.Annotations[v1.AnnotationRefName]; name != "" && !contains(img.RefNames, name) {
			img.RefNames = append(img.RefNames, name)
		}
		if e.Platform == nil {
			continue
		}
		if img.Platform == nil {
			// A config that could not be read or parsed already has its
			// own finding; comparing its absent platform says nothing.
			if img.Kind == "image" && n.config {
				v.report.Add(Finding{Code: CodePlatformMismatch, Path: p + "/platform", Expected: platformOf(e.Platform).String(),
					Actual: "(none)", How: "config os/architecture", Message: "the index names a platform but the config has none"})
			}
			continue
		}
		if want := platformOf(e.Platform); !samePlatform(want, *img.Platform) {
			v.report.Add(Finding{Code: CodePlatformMismatch, Path: p + "/platform", Expected: want.String(), Actual: img.Platform.String(),
				How: "config os/architecture/variant", Message: "the index entry's platform differs from the platform in the image's config"})
		} else {
			v.report.Pass()
		}
	}
}

// otherPlatform reports whether a descriptor names the manifest of a
// platform other than the one the caller asked for. BuildKit attestation
// manifests (platform unknown/unknown) are of another platform too.
func (v *verifier) otherPlatform(e v1.Descriptor) bool {
	return v.opts != nil && v.opts.Platform != nil && e.Platform != nil &&
		kindOfMediaType(e.MediaType) == kindManifest &&
		!samePlatform(*v.opts.Platform, platformOf(e.Platform))
}

// unselected reports whether an index entry is the manifest of a platform
// other than the one the caller asked for. Attestation manifests that are
// present are still walked, for the attestation checks.
func (v *verifier) unselected(e v1.Descriptor) bool {
	return v.otherPlatform(e) && e.Annotations["vnd.docker.reference.type"] != "attestation-manifest"
}

// documentOnly checks the digest and size of a manifest that was not
// selected, without reading its config or layers: over a registry, the
// other platforms' layers are never downloaded.
func (v *verifier) documentOnly(e v1.Descriptor, path string) {
	dg, ok := v.checkDescriptor(e, path)
	if !ok {
		return
	}
	v.kinds[path] = NodeManifest
	_, ok, err := v.readDocumentOrErr(e, dg, path, v.lim.ManifestDocument, limits.ManifestDocument)
	if err != nil {
		v.missingDocument(err, e, dg, path)
	}
	if ok {
		v.unselectedCount++
	}
}

// absentManifest is a platform's manifest that an index lists but the
// source does not hold, as single-platform exports (ctr export
// --platform, skopeo copy of one platform) leave them.
type absentManifest struct {
	path     string
	platform Platform
	digest   string
}

// missingDocument reports a document that could not be read. The absent
// manifest of a platform that was not selected is no missing evidence:
// the image-layout spec lets a layout omit blobs, and nothing of that
// platform is claimed to be verified. Without a selection it stays
// E_BLOB_MISSING, and the absent platforms are named.
func (v *verifier) missingDocument(err error, d v1.Descriptor, dg digest.Digest, path string) {
	absent := errors.Is(err, fs.ErrNotExist) && d.Platform != nil && kindOfMediaType(d.MediaType) == kindManifest
	if absent {
		if v.otherPlatform(d) {
			v.absent = append(v.absent, absentManifest{path: path, platform: platformOf(d.Platform), digest: dg.String()})
			return
		}
		if v.opts != nil && v.opts.Platform != nil {
			// The selected platform's own manifest: missing evidence, not
			// another platform that an export left out.
			v.selectedAbsent = true
		} else {
			v.absent = append(v.absent, absentManifest{path: path, platform: platformOf(d.Platform), digest: dg.String()})
		}
		v.report.Add(Finding{Code: CodeBlobMissing, Path: path,
			Message: blobPath(dg) + " is not in the source: the manifest of platform " + platformOf(d.Platform).String() + " is absent"})
		return
	}
	v.readError(err, blobPath(dg), path)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func platformOf(p *v1.Platform) Platform {
	return Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion}
}

// samePlatform compares an index entry's platform with a config's. A
// variant missing on one side matches only the architecture's default
// (arm64/v8).
func samePlatform(a, b Platform) bool {
	if a.OS != b.OS || a.Architecture != b.Architecture {
		return false
	}
	if a.OSVersion != "" && b.OSVersion != "" && a.OSVersion != b.OSVersion {
		return false
	}
	if a.Variant == b.Variant {
		return true
	}
	def := func(v string) string {
		if v == "" && a.Architecture == "arm64" {
			return "v8"
		}
		return v
	}
	return def(a.Variant) == def(b.Variant)
}

// walkManifest verifies a manifest, its config and schedules its layers.
// It returns the image's index in the report, its config platform and
// whether the config was parsed.
func (v *verifier) walkManifest(b []byte, d v1.Descriptor, dg digest.Digest, path string) (int, *Platform, bool) {
	var m v1.Manifest
	if !v.unmarshal(b, &m, path, "manifest") {
		return -1, nil, false
	}
	markAbsentSizes(b, &m.Config, m.Layers)
	md := dg.String()
	img := Image{Path: path, ManifestDigest: &md, ManifestMediaType: d.MediaType, Kind: "image", Layers: []Layer{}, ChainIDs: []string{}}
	if m.Subject != nil {
		img.Subject = string(m.Subject.Digest)
	}
	cpath := path + "/config"
	cdg, ok := v.checkDescriptor(m.Config, cpath)
	if !ok {
		// Without its config the manifest is no image, but each layer's
		// own digest and size can still be checked.
		for i, l := range m.Layers {
			v.plainBlob(l, fmt.Sprintf("%s/layers[%d]", path, i))
		}
		return -1, nil, false
	}
	img.ImageID = cdg.String()
	imageConfig := isImageConfig(m.Config.MediaType)
	if !imageConfig {
		img.Kind = "artifact"
	}
	var cfg v1.Image
	cfgOK := false
	v.kinds[cpath] = NodeBlob
	if imageConfig || m.Config.MediaType == MediaTypeOCIEmpty {
		v.kinds[cpath] = NodeConfig
		cb, ok := v.readDocument(m.Config, cdg, cpath, v.lim.ConfigDocument, limits.ConfigDocument)
		if ok && imageConfig {
			cfgOK = v.unmarshal(cb, &cfg, cpath, "config")
		}
		if ok && m.Config.MediaType == MediaTypeOCIEmpty && !bytes.Equal(cb, []byte("{}")) {
			v.finding(CodeInvalidDocument, cpath, "an empty descriptor's content must be {}")
		}
	} else {
		v.schedulePlain(m.Config, cdg, cpath)
	}
	var plat *Platform
	if cfgOK {
		if cfg.OS != "" || cfg.Architecture != "" {
			plat = &Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
			img.Platform = plat
		}
	}
	tarLayers := 0
	for i, l := range m.Layers {
		if _, isTar := layerCompression(l.MediaType); isTar {
			tarLayers++
		} else if imageConfig && looksLikeLayerTar(l.MediaType) {
			v.report.Add(Finding{Code: CodeUnsupportedCompress, Path: fmt.Sprintf("%s/layers[%d]/mediaType", path, i), Actual: l.MediaType,
				Message: "the layer's media type names a compression imgproof does not decode, so its diff_id cannot be computed"})
		}
	}
	if tarLayers == 0 && len(m.Layers) > 0 && img.Kind == "image" {
		// No blob is a layer (a builder attachment, an artifact written
		// before the empty config type existed): nothing unpacks this
		// manifest as an image, so its config need not describe a rootfs.
		img.Kind = "artifact"
	}
	if cfgOK && img.Kind == "image" && cfg.RootFS.Type != "layers" {
		v.report.Add(Finding{Code: CodeInvalidDocument, Path: cpath + "/rootfs/type", Expected: "layers", Actual: cfg.RootFS.Type,
			Message: "rootfs.type must be layers"})
	}
	// Diff IDs are checked only when they line up one to one with layers.
	diffIDs := cfg.RootFS.DiffIDs
	checkDiffs := cfgOK && img.Kind == "image"
	// Only an image's layers are unpacked, so only they must be tars. An
	// artifact (ORAS labels every file ...layer.v1.tar by default) is a
	// list of blobs, verified by digest and size.
	tarContent := img.Kind == "image"
	idx := len(v.report.Images)
	img.Layers = make([]Layer, len(m.Layers))
	v.report.Images = append(v.report.Images, img)
	v.scheduleLayers(idx, diffIDs, len(m.Layers), checkDiffs, cpath, "layers", "the manifest", func(i int, want, diffPath string) {
		v.layer(idx, i, m.Layers[i], fmt.Sprintf("%s/layers[%d]", path, i), want, diffPath, tarContent)
	})
	return idx, plat, cfgOK
}

// scheduleLayers checks that the config lists one diff_id per layer
// before indexing either, schedules each layer with the diff_id it must
// have, and fills in the chain IDs once the layers are hashed. list names
// the layer list ("layers" or "Layers") in the document named by doc.
func (v *verifier) scheduleLayers(idx int, diffIDs []digest.Digest, n int, check bool, cpath, list, doc string, each func(i int, wantDiff, diffPath string)) {
	if check && len(diffIDs) != n {
		v.report.Add(Finding{Code: CodeLayerCountMismatch, Path: cpath + "/rootfs/diff_ids", Expected: fmt.Sprint(n),
			Actual: fmt.Sprint(len(diffIDs)), How: "len(rootfs.diff_ids) vs len(" + list + ")",
			Message: "the config lists a different number of diff_ids than " + doc + " lists layers"})
		check = false
	} else if check {
		v.report.Pass()
	}
	for i := 0; i < n; i++ {
		want := ""
		if check {
			want = string(diffIDs[i])
		}
		each(i, want, fmt.Sprintf("%s/rootfs/diff_ids[%d]", cpath, i))
	}
	if check {
		v.after(func() {
			ids := make([]string, len(diffIDs))
			for i, d := range diffIDs {
				ids[i] = string(d)
			}
			v.report.Images[idx].ChainIDs = chainIDs(ids)
		})
	}
}

// layer schedules one layer blob and the checks on it. Without
// tarContent (an artifact's blobs) a tar media type is a label only: the
// blob is checked by digest and size, not as a tar stream.
func (v *verifier) layer(img, i int, l v1.Descriptor, path, wantDiff, diffPath string, tarContent bool) {
	size := l.Size
	if size == sizeAbsent {
		size = 0 // until the read counts it
	}
	v.report.Images[img].Layers[i] = Layer{Digest: string(l.Digest), Size: size, MediaType: l.MediaType, Compression: CompressionUnknown}
	dg, ok := v.checkDescriptor(l, path)
	if !ok {
		return
	}
	declared, isTar := layerCompression(l.MediaType)
	isTar = isTar && tarContent
	v.kinds[path] = NodeBlob
	if isTar {
		v.kinds[path] = NodeLayer
	}
	readMax, total := v.readBounds(l.Size)
	p := v.scheduleBlob(blobPath(dg), dg.Algorithm(), readMax, total, isTar, diffAlgOf(wantDiff))
	v.after(func() {
		rec := &v.report.Images[img].Layers[i]
		if p.err != nil {
			if errors.Is(p.err, fs.ErrNotExist) && (len(l.URLs) > 0 || isForeign(l.MediaType)) {
				v.report.Add(Finding{Code: CodeForeignLayer, Path: path, Message: "the layer is foreign (non-distributable) and not in the source; it is never fetched, so it cannot be verified"})
				return
			}
			v.readError(p.err, p.job.name, path)
			return
		}
		ev := p.ev
		if !v.checkEvidence(ev, l.Size, dg, path, p.job.name) {
			return
		}
		if l.Size == sizeAbsent {
			rec.Size = ev.size // the digest vouches for the bytes counted
		}
		rec.Compression = ev.compression
		if !isTar {
			return
		}
		if ev.compression != declared {
			v.report.Add(Finding{Code: CodeMediaTypeMismatch, Path: path + "/mediaType", Expected: declared, Actual: ev.compression,
				How: "magic bytes", Message: fmt.Sprintf("the media type %s declares %s compression but the blob is %s", l.MediaType, declared, ev.compression)})
			return
		}
		v.report.Pass()
		v.checkDiffID(ev, rec, path, wantDiff, diffPath)
	})
}

// checkEvidence checks a streamed blob's read, size and digest.
func (v *verifier) checkEvidence(ev *evidence, size int64, dg digest.Digest, path, name string) bool {
	if ev.readErr != nil {
		v.readError(ev.readErr, name, path)
		return false
	}
	ok := true
	if size == sizeAbsent {
		// checkDescriptor reported the absent size.
	} else if ev.size != size {
		actual := fmt.Sprint(ev.size)
		if ev.size > size {
			actual = fmt.Sprintf("more than %d", size)
		}
		v.report.Add(Finding{Code: CodeSizeMismatch, Path: path, Expected: fmt.Sprint(size), Actual: actual,
			How: "len(" + name + ")", Message: "the blob's size differs from the descriptor's"})
		ok = false
	} else {
		v.report.Pass()
	}
	got, have := ev.digests[dg.Algorithm()]
	switch {
	case size != sizeAbsent && ev.size > size:
		// Reading stopped at size+1 bytes: a digest of a prefix says nothing.
	case size == sizeAbsent && ev.size > v.lim.LayerDecompressed:
		v.report.Add(Finding{Code: CodeLimitExceeded, Path: path,
			Message: limits.Exceeded(limits.LayerDecompressed, v.lim.LayerDecompressed, name+" (a blob whose descriptor has no size)").Error()})
		ok = false
	case !have:
		v.report.Add(Finding{Code: CodeUnsupportedAlgorithm, Path: path, Message: fmt.Sprintf("%s was not computed for %s", dg.Algorithm(), name)})
		ok = false
	case got != dg:
		v.report.Add(Finding{Code: CodeDigestMismatch, Path: path, Expected: dg.String(), Actual: got.String(),
			How: string(dg.Algorithm()) + "(" + name + ")", Message: "the blob's bytes do not hash to the descriptor's digest"})
		ok = false
	default:
		v.report.Pass()
	}
	return ok
}

// checkDiffID checks a decompressed stream against the config's diff_id.
func (v *verifier) checkDiffID(ev *evidence, rec *Layer, path, want, diffPath string) {
	if ev.decompressErr != nil {
		var le *limits.Error
		var ce *contentError
		switch {
		case errors.As(ev.decompressErr, &le):
			v.report.Add(Finding{Code: CodeLimitExceeded, Path: path, Message: le.Error()})
			return
		case errors.As(ev.decompressErr, &ce):
			v.contentErrors = append(v.contentErrors, contentFailure{path: path, err: ce.err})
		default:
			v.report.Add(Finding{Code: CodeDecompress, Path: path, How: howDiffID(ev.compression),
				Message: "decompressing the layer failed: " + decompressReason(ev.decompressErr)})
			return
		}
	}
	rec.UncompressedSize = ev.uncompressed
	if !looksLikeTar(ev.head) {
		v.report.Add(Finding{Code: CodeLayerNotTar, Path: path, How: strings.TrimPrefix(howDiffID(ev.compression), "sha256"),
			Message: "the layer's media type says tar, but its uncompressed content does not start with a tar header"})
	}
	alg := diffAlgOf(want)
	if alg == "" {
		alg = digest.SHA256
	}
	got, have := ev.diffIDs[alg]
	if have {
		rec.DiffID = got.String()
	}
	if want == "" {
		return
	}
	wd, derr := parseDigest(want)
	switch {
	case derr != nil:
		v.finding(derr.code, diffPath, derr.msg)
	case !have:
		v.report.Add(Finding{Code: CodeUnsupportedAlgorithm, Path: diffPath, Message: fmt.Sprintf("the %s diff_id was not computed for this source", alg)})
	case wd != got:
		v.report.Add(Finding{Code: CodeDiffIDMismatch, Path: diffPath, Expected: want, Actual: got.String(),
			How: strings.Replace(howDiffID(ev.compression), "sha256", string(alg), 1), Message: "the config's diff_id does not match the layer's uncompressed content"})
	default:
		v.report.Pass()
	}
}

// diffAlgOf returns the algorithm of a diff_id, or "" if it has none.
func diffAlgOf(diffID string) digest.Algorithm {
	if d, err := parseDigest(diffID); err == nil {
		return d.Algorithm()
	}
	return ""
}

// plainBlob checks a descriptor and schedules its blob to be verified by
// digest and size only.
func (v *verifier) plainBlob(d v1.Descriptor, path string) {
	if dg, ok := v.checkDescriptor(d, path); ok {
		v.schedulePlain(d, dg, path)
	}
}

// schedulePlain schedules a blob to be verified by digest and size only.
func (v *verifier) schedulePlain(d v1.Descriptor, dg digest.Digest, path string) {
	readMax, total := v.readBounds(d.Size)
	p := v.scheduleBlob(blobPath(dg), dg.Algorithm(), readMax, total, false, "")
	v.after(func() { v.checkPlainBlob(p, d, dg, path) })
}

// checkPlainBlob checks a blob that is verified by digest and size only.
func (v *verifier) checkPlainBlob(p *pendingBlob, d v1.Descriptor, dg digest.Digest, path string) {
	if p.err != nil {
		v.readError(p.err, p.job.name, path)
		return
	}
	v.checkEvidence(p.ev, d.Size, dg, path, p.job.name)
}

// after queues a check to run once every blob has been streamed.
func (v *verifier) after(f func()) { v.checks = append(v.checks, f) }
