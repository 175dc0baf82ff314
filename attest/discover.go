package attest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest/dsse"
	"github.com/imgproof/imgproof/attest/intoto"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// Media types and annotations of the signature formats.
const (
	MediaTypeSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	MediaTypeDSSE          = "application/vnd.dsse.envelope.v1+json"
	MediaTypeInToto        = "application/vnd.in-toto+json"
	mediaTypeBundlePrefix  = "application/vnd.dev.sigstore.bundle"

	// AnnotationCosignSignature holds the base64 signature of a
	// simple-signing layer.
	AnnotationCosignSignature = "dev.cosignproject.cosign/signature"
	// AnnotationCosignCertificate, AnnotationCosignChain and
	// AnnotationCosignBundle carry a keyless signature's PEM leaf
	// certificate, its PEM chain and its Rekor bundle (JSON).
	AnnotationCosignCertificate = "dev.sigstore.cosign/certificate"
	AnnotationCosignChain       = "dev.sigstore.cosign/chain"
	AnnotationCosignBundle      = "dev.sigstore.cosign/bundle"
	// annotationKind is what cosign save writes on index.json entries.
	annotationKind  = "kind"
	kindImage       = "dev.cosignproject.cosign/image"
	kindImageIndex  = "dev.cosignproject.cosign/imageIndex"
	kindSigs        = "dev.cosignproject.cosign/sigs"
	kindAtts        = "dev.cosignproject.cosign/atts"
	annotationRefTy = "vnd.docker.reference.type"
	annotationRefDg = "vnd.docker.reference.digest"
)

// tagRE matches cosign's tag scheme and the referrers fallback tag:
// sha256-<hex>.sig, sha256-<hex>.att, sha256-<hex>; optionally after a
// repository name and colon.
var tagRE = regexp.MustCompile(`(?:^|:)(sha256|sha512)-([0-9a-f]{64}|[0-9a-f]{128})(\.sig|\.att)?$`)

// parseTag returns the digest a tag is attached to, and its suffix.
func parseTag(ref string) (digest.Digest, string) {
	m := tagRE.FindStringSubmatch(ref)
	if m == nil {
		return "", ""
	}
	d, err := digest.Parse(m[1] + ":" + m[2])
	if err != nil {
		return "", ""
	}
	return d, m[3]
}

// discover walks the source's roots for signatures and attestations.
func (r *run) discover() {
	if r.t.Blobs == nil {
		return
	}
	// cosign save writes one image (or index) and its sigs/atts; the latter
	// are attached to that one.
	var saved []digest.Digest
	for _, rt := range r.t.Roots {
		if k := rt.Descriptor.Annotations[annotationKind]; k == kindImage || k == kindImageIndex {
			saved = append(saved, rt.Descriptor.Digest)
		}
	}
	for _, rt := range r.t.Roots {
		if r.ctx.Err() != nil {
			return
		}
		d := rt.Descriptor
		ann := d.Annotations
		tagged, suffix := parseTag(ann[ocispec.AnnotationRefName])
		attached := tagged
		kind := ann[annotationKind]
		if (kind == kindSigs || kind == kindAtts) && attached == "" && len(saved) == 1 {
			attached = saved[0]
		}
		switch {
		case kind == kindSigs || suffix == ".sig":
			r.signatureManifest(rt.Path, d, attached, KindCosignSignature, "cosign .sig "+originOf(rt))
		case kind == kindAtts || suffix == ".att":
			r.signatureManifest(rt.Path, d, attached, KindCosignAttestation, "cosign .att "+originOf(rt))
		case tagged != "" && isIndex(d.MediaType):
			r.fallbackIndex(rt.Path, d, tagged)
		default:
			r.walk(rt.Path, d, 0)
		}
	}
	r.unlisted()
}

// UnusedBlobs is implemented by sources that can list the blobs nothing
// in them references (*verify.Result does, for layouts and archives).
type UnusedBlobs interface {
	UnusedBlobs() []digest.Digest
}

// unlisted finds referrers that a layout holds as blobs without an
// index.json entry. cosign v3's save writes each referrer of the image
// and then rewrites index.json with the image alone, and cosign v3 finds
// them again by scanning blobs/ for manifests whose subject is the image:
// so does this, for subjects that are recomputed digests of the image.
// The blob's name is its recomputed digest; the signed payload decides.
func (r *run) unlisted() {
	ub, ok := r.t.Blobs.(UnusedBlobs)
	if !ok {
		return
	}
	read := 0
	for _, d := range ub.UnusedBlobs() {
		if r.ctx.Err() != nil || r.limitHit {
			return
		}
		if r.seen[d] {
			continue
		}
		// Unlisted blobs are no evidence the image needs: past the bound,
		// the rest are left unread and noted.
		if read++; read > r.lim.Attestations {
			r.t.Report.Add(verify.Finding{Code: verify.CodeLimitExceeded, Severity: verify.SeverityInfo, Path: "blobs",
				Message: limits.Exceeded(limits.Attestations, int64(r.lim.Attestations), "unlisted blobs read for referrers").Error()})
			return
		}
		data, err := r.t.Blobs.ReadBlob(d, r.lim.ManifestDocument)
		if err != nil || len(data) == 0 || data[0] != '{' {
			continue // a layer, or too large to be a manifest
		}
		var m ocispec.Manifest
		if strictjson.Unmarshal(data, &m, r.lim.JSONDepth) != nil || m.MediaType != ocispec.MediaTypeImageManifest ||
			m.Subject == nil || !r.isNode(m.Subject.Digest) {
			continue
		}
		r.seen[d] = true
		path := "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
		r.referrer(path, ocispec.Descriptor{MediaType: m.MediaType, Digest: d, Size: int64(len(data))}, &m)
	}
}

func originOf(rt Root) string {
	if ref := rt.Descriptor.Annotations[ocispec.AnnotationRefName]; ref != "" {
		return ref + " (" + rt.Path + ")"
	}
	return rt.Path + " " + rt.Descriptor.Digest.String()
}

func isIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == "application/vnd.docker.distribution.manifest.list.v2+json"
}

func isManifest(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == "application/vnd.docker.distribution.manifest.v2+json"
}

// readJSON reads a small document from the source and decodes it strictly.
func (r *run) readJSON(path string, d ocispec.Descriptor, limit int64, v any) bool {
	if d.Size > limit {
		r.t.Report.Add(verify.Finding{Code: verify.CodeLimitExceeded, Path: path,
			Message: limits.Exceeded(limits.ManifestDocument, limit, d.Digest.String()).Error()})
		return false
	}
	data, err := r.t.Blobs.ReadBlob(d.Digest, limit)
	if err != nil {
		r.t.Report.Add(readFinding(path, d.Digest, err))
		return false
	}
	if err := strictjson.Unmarshal(data, v, r.lim.JSONDepth); err != nil {
		r.t.Report.Add(jsonFinding(path, err))
		return false
	}
	return true
}

func readFinding(path string, d digest.Digest, err error) verify.Finding {
	f := verify.Finding{Code: verify.CodeBlobMissing, Path: path, Message: fmt.Sprintf("reading %s: %v", d, err)}
	var le *limits.Error
	if errors.As(err, &le) {
		f.Code = verify.CodeLimitExceeded
	}
	return f
}

func jsonFinding(path string, err error) verify.Finding {
	f := verify.Finding{Code: verify.CodeInvalidDocument, Path: path, Message: err.Error()}
	var je *strictjson.Error
	if errors.As(err, &je) {
		f.Code = verify.Code(je.Kind)
	}
	return f
}

// walk looks inside an index for BuildKit attestation manifests, referrers
// and nested indexes, and checks a manifest for a subject.
func (r *run) walk(path string, d ocispec.Descriptor, depth int) {
	if r.seen[d.Digest] {
		return
	}
	r.seen[d.Digest] = true
	switch {
	case isIndex(d.MediaType):
		if depth >= r.lim.IndexDepth {
			return
		}
		var ix ocispec.Index
		if !r.readJSON(path, d, r.lim.IndexDocument, &ix) {
			return
		}
		for i, m := range ix.Manifests {
			p := fmt.Sprintf("%s/manifests[%d]", path, i)
			if m.Annotations[annotationRefTy] == "attestation-manifest" {
				r.buildkit(p, m)
				continue
			}
			r.walk(p, m, depth+1)
		}
	case isManifest(d.MediaType) || d.MediaType == "":
		if r.absentWithSelection(d) {
			return // another platform's manifest, noted by verify
		}
		var m ocispec.Manifest
		if !r.readJSON(path, d, r.lim.ManifestDocument, &m) {
			return
		}
		if m.Subject != nil {
			r.referrer(path, d, &m)
		}
	}
}

// fallbackIndex reads a referrers fallback tag: an index of referrer
// manifests. The entries' artifactType is not trusted (cosign#4641: it is
// often the empty type); each manifest is read and its own subject used.
func (r *run) fallbackIndex(path string, d ocispec.Descriptor, tagged digest.Digest) {
	if r.seen[d.Digest] {
		return
	}
	r.seen[d.Digest] = true
	var ix ocispec.Index
	if !r.readJSON(path, d, r.lim.IndexDocument, &ix) {
		return
	}
	for i, e := range ix.Manifests {
		p := fmt.Sprintf("%s/manifests[%d]", path, i)
		if r.seen[e.Digest] {
			continue
		}
		r.seen[e.Digest] = true
		var m ocispec.Manifest
		if !r.readJSON(p, e, r.lim.ManifestDocument, &m) {
			continue
		}
		if m.Subject == nil {
			r.t.Report.Add(verify.Finding{Code: CodeSubjectMismatch, Path: p, Expected: tagged.String(),
				Message: "referrers fallback entry has no subject"})
			continue
		}
		r.referrer(p, e, &m)
	}
}

// referrer checks the layers of a manifest that names a subject.
func (r *run) referrer(path string, d ocispec.Descriptor, m *ocispec.Manifest) {
	if isNotary(m) {
		r.notary(path, d, m)
		return
	}
	origin := "referrer " + d.Digest.String() + " of " + m.Subject.Digest.String()
	r.layers(path, m, m.Subject.Digest, KindReferrer, origin)
}

// signatureManifest checks a cosign .sig or .att manifest.
func (r *run) signatureManifest(path string, d ocispec.Descriptor, attached digest.Digest, kind, origin string) {
	if r.seen[d.Digest] {
		return
	}
	r.seen[d.Digest] = true
	var m ocispec.Manifest
	if !r.readJSON(path, d, r.lim.ManifestDocument, &m) {
		return
	}
	if m.Subject != nil && attached == "" {
		attached = m.Subject.Digest
	}
	r.layers(path, &m, attached, kind, origin)
}

// layers dispatches each layer of a signature-carrying manifest by its
// media type.
func (r *run) layers(path string, m *ocispec.Manifest, attached digest.Digest, kind, origin string) {
	if len(m.Layers) > r.lim.Attestations {
		r.t.Report.Add(verify.Finding{Code: verify.CodeLimitExceeded, Path: path,
			Message: limits.Exceeded(limits.Attestations, int64(r.lim.Attestations), "signature layers").Error()})
		return
	}
	for i, l := range m.Layers {
		p := fmt.Sprintf("%s/layers[%d]", path, i)
		o := fmt.Sprintf("%s layers[%d]", origin, i)
		switch {
		case l.MediaType == MediaTypeSimpleSigning:
			if c := r.newClaim(kindOr(kind, KindCosignSignature), o, p); c != nil {
				r.simpleSigning(c, l, attached)
			}
		case l.MediaType == MediaTypeDSSE:
			if c := r.newClaim(kindOr(kind, KindCosignAttestation), o, p); c != nil {
				if data, ok := r.readLayer(c, l); ok {
					r.envelope(c, data, &l, attached)
				}
			}
		case strings.HasPrefix(l.MediaType, mediaTypeBundlePrefix):
			if c := r.newClaim(KindBundle, o, p); c != nil {
				if data, ok := r.readLayer(c, l); ok {
					r.bundle(c, data, attached)
				}
			}
		case l.MediaType == MediaTypeInToto:
			if c := r.newClaim(KindBuildKit, o, p); c != nil {
				r.unsignedStatement(c, l, attached)
			}
		default:
			r.t.Report.Add(verify.Finding{Code: verify.CodeUnverifiedMetadata, Severity: verify.SeverityInfo, Path: p,
				Message: "attachment of media type " + l.MediaType + " is not a signature or attestation; not checked"})
		}
	}
}

// kindOr keeps the kind of a cosign manifest and names referrer layers by
// their format.
func kindOr(kind, byFormat string) string {
	if kind == KindReferrer {
		return byFormat
	}
	return kind
}

func (r *run) readLayer(c *claim, l ocispec.Descriptor) ([]byte, bool) {
	if l.Size > r.lim.AttestationDocument {
		r.fail(c, "read", verify.Finding{Code: verify.CodeLimitExceeded,
			Message: limits.Exceeded(limits.AttestationDocument, r.lim.AttestationDocument, l.Digest.String()).Error()})
		return nil, false
	}
	data, err := r.t.Blobs.ReadBlob(l.Digest, r.lim.AttestationDocument)
	if err != nil {
		f := readFinding(c.path, l.Digest, err)
		r.fail(c, "read", f)
		return nil, false
	}
	return data, true
}

// buildkit checks a BuildKit attestation manifest: its statements must
// name the sibling manifest that vnd.docker.reference.digest names. They
// are unsigned and never count as verified.
func (r *run) buildkit(path string, d ocispec.Descriptor) {
	if r.seen[d.Digest] {
		return
	}
	r.seen[d.Digest] = true
	ref, err := digest.Parse(d.Annotations[annotationRefDg])
	if err == nil && !r.isNode(ref) {
		// The sibling is not among the images reported (another platform
		// was selected): the unsigned claim is about nothing checked here.
		r.t.Report.Add(verify.Finding{Code: CodeUnsignedClaim, Severity: verify.SeverityInfo, Path: path,
			Message: "BuildKit attestation for " + ref.String() + ", which is not among the selected images; not checked"})
		return
	}
	if r.absentWithSelection(d) {
		// A single-platform export (ctr export --platform) drops the
		// attestation manifests, whose platform is unknown/unknown; they
		// are unsigned and never count, so nothing is lost.
		r.t.Report.Add(verify.Finding{Code: CodeUnsignedClaim, Severity: verify.SeverityInfo, Path: path,
			Message: "BuildKit attestation manifest " + d.Digest.String() + " is not in the source; not checked"})
		return
	}
	var m ocispec.Manifest
	if !r.readJSON(path, d, r.lim.ManifestDocument, &m) {
		return
	}
	if err != nil {
		r.t.Report.Add(verify.Finding{Code: CodeSubjectMismatch, Path: path,
			Message: "BuildKit attestation manifest without a valid " + annotationRefDg + " annotation"})
		return
	}
	r.layers(path, &m, ref, KindBuildKit, "BuildKit attestation "+d.Digest.String()+" for "+ref.String())
}

// absentWithSelection reports whether a manifest is absent from a source
// that was verified for one platform, where verify already noted it
// (I_ABSENT_PLATFORMS). Without a selection its absence is E_BLOB_MISSING.
func (r *run) absentWithSelection(d ocispec.Descriptor) bool {
	if !r.absentOK {
		return false
	}
	_, err := r.t.Blobs.ReadBlob(d.Digest, 0)
	return errors.Is(err, fs.ErrNotExist)
}

func (r *run) isNode(d digest.Digest) bool {
	for _, n := range r.nodes {
		if n.Digest == d {
			return true
		}
	}
	return false
}

// unsignedStatement checks a raw in-toto statement layer.
func (r *run) unsignedStatement(c *claim, l ocispec.Descriptor, attached digest.Digest) {
	c.att.Status = StatusUnsigned
	c.att.PayloadType = MediaTypeInToto
	data, ok := r.readLayer(c, l)
	if !ok {
		return
	}
	if pt := l.Annotations["in-toto.io/predicate-type"]; pt != "" {
		c.att.PredicateType = pt
	}
	r.skip(c, "signature", "unsigned: present but not signed, never counted as verified")
	st, err := intoto.Parse(data, r.lim)
	if err != nil {
		r.fail(c, "statement", verify.Finding{Code: CodeStatementInvalid, Message: "in-toto statement: " + err.Error()})
		return
	}
	if c.att.PredicateType != "" && c.att.PredicateType != st.PredicateType {
		r.fail(c, "predicateType", verify.Finding{Code: CodeStatementInvalid, Expected: c.att.PredicateType, Actual: st.PredicateType,
			Message: "layer annotation and statement disagree on the predicate type"})
	}
	c.att.PredicateType = st.PredicateType
	r.pass(c, "statement", st.Type)
	r.bind(c, st, attached)
	c.statement = data
	c.predicate = st.Predicate
	r.t.Report.Add(verify.Finding{Code: CodeUnsignedClaim, Severity: verify.SeverityInfo, Path: c.path,
		Message: "unsigned " + st.PredicateType + " statement: present but unsigned, not verified"})
}

// simplePayload is cosign's simple-signing payload. Field names match
// exactly: a case or Unicode-fold alias is an E_JSON_KEY_ALIAS finding.
type simplePayload struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional json.RawMessage `json:"optional,omitempty"`
}

// simpleSigningType is critical.type of a cosign image signature.
const simpleSigningType = "cosign container image signature"

// simpleSigning checks a cosign signature layer: the signature over the
// exact payload bytes (by a trusted key, or keyless), then the payload,
// then the digest it names.
func (r *run) simpleSigning(c *claim, l ocispec.Descriptor, attached digest.Digest) {
	c.att.PayloadType = MediaTypeSimpleSigning
	data, ok := r.readLayer(c, l)
	if !ok {
		return
	}
	if !r.opts.trusted() {
		r.skip(c, "signature", "no trusted key given")
		r.notChecked(c)
		return
	}
	if r.keylessFor(&l) {
		_, ok = r.keyless(c, &l, data)
	} else {
		ok = r.keySignature(c, l, data)
	}
	if !ok {
		return
	}
	c.signed = true
	r.signedPayload(c, data, attached)
}

// keySignature verifies a simple-signing layer's signature annotation over
// the payload with each trusted key.
func (r *run) keySignature(c *claim, l ocispec.Descriptor, data []byte) bool {
	sigText, present := l.Annotations[AnnotationCosignSignature]
	sig, err := dsse.DecodeBase64(sigText)
	if !present || err != nil || len(sig) == 0 {
		r.fail(c, "signature", verify.Finding{Code: CodeEnvelopeInvalid,
			Message: "layer annotation " + AnnotationCosignSignature + " is missing or not base64"})
		return false
	}
	signers := r.signedBy(data, sig)
	if len(signers) == 0 {
		r.fail(c, "signature", verify.Finding{Code: CodeSignatureInvalid, How: "signature over the payload verified with each trusted key",
			Message: "the signature verifies under no trusted key"})
		return false
	}
	for _, k := range signers {
		c.att.Signers = append(c.att.Signers, k.String())
	}
	r.pass(c, "signature", fmt.Sprintf("signed by %d trusted key(s)", len(signers)))
	return true
}

// signedPayload checks a verified simple-signing payload: its type, and
// that the manifest digest it names is a recomputed one (and the one the
// signature is attached to).
func (r *run) signedPayload(c *claim, data []byte, attached digest.Digest) {
	var p simplePayload
	if err := strictjson.Unmarshal(data, &p, r.lim.JSONDepth); err != nil {
		f := jsonFinding(c.path, err)
		f.Message = "simple-signing payload: " + f.Message
		r.fail(c, "payload", f)
		return
	}
	if p.Critical.Type != simpleSigningType {
		r.fail(c, "payload", verify.Finding{Code: CodeStatementInvalid, Expected: simpleSigningType, Actual: p.Critical.Type,
			Message: "critical.type is not a cosign container image signature"})
		return
	}
	named, err := digest.Parse(p.Critical.Image.DockerManifestDigest)
	if err != nil {
		r.fail(c, "payload", verify.Finding{Code: CodeStatementInvalid, Actual: p.Critical.Image.DockerManifestDigest,
			Message: "critical.image.docker-manifest-digest is not a valid digest"})
		return
	}
	r.pass(c, "payload", "critical.image.docker-manifest-digest "+named.String())
	var matches []intoto.Match
	for _, n := range r.nodes {
		if n.Digest == named && (n.Kind == "manifest" || n.Kind == "index" || n.Kind == "artifact") {
			matches = append(matches, intoto.Match{Node: n})
		}
	}
	if len(matches) == 0 {
		var am []intoto.Match
		for _, n := range r.artifacts {
			if n.Digest == named {
				am = append(am, intoto.Match{Node: n})
			}
		}
		if r.onArtifact(c, am, attached) {
			return
		}
	}
	r.bindMatches(c, matches, attached, named.String())
}
