package attest

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest/intoto"
	"github.com/imgproof/imgproof/verify"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// Notary Project signature manifests (notaryproject/specification,
// specs/signature-specification.md: "Storage"): an OCI manifest whose
// artifactType (or, in the image-spec 1.0 form, config media type) is
// ArtifactTypeNotary, whose subject is the signed manifest, and whose one
// layer is the signature envelope.
const (
	ArtifactTypeNotary = "application/vnd.cncf.notary.signature"
	MediaTypeJWS       = "application/jose+json"
	MediaTypeCOSE      = "application/cose"
)

// isNotary reports whether a manifest is a Notary Project signature.
func isNotary(m *ocispec.Manifest) bool {
	return m.ArtifactType == ArtifactTypeNotary || m.Config.MediaType == ArtifactTypeNotary
}

// notary checks a Notary Project signature manifest attached to
// m.Subject: its shape, then the envelope through the Notary hook, then
// that the descriptor it signs is the recomputed subject.
func (r *run) notary(path string, d ocispec.Descriptor, m *ocispec.Manifest) {
	subject := m.Subject.Digest
	c := r.newClaim(KindNotary, "Notary Project signature "+d.Digest.String()+" of "+subject.String(), path)
	if c == nil {
		return
	}
	if len(m.Layers) != 1 {
		r.fail(c, "envelope", verify.Finding{Code: CodeEnvelopeInvalid, Expected: "1 layer", Actual: fmt.Sprintf("%d layers", len(m.Layers)),
			Message: "a Notary Project signature manifest has exactly one layer, the envelope"})
		return
	}
	l := m.Layers[0]
	c.path = path + "/layers[0]"
	if l.MediaType != MediaTypeJWS && l.MediaType != MediaTypeCOSE {
		r.fail(c, "envelope", verify.Finding{Code: CodeEnvelopeInvalid, Expected: MediaTypeJWS + " | " + MediaTypeCOSE, Actual: l.MediaType,
			Message: "the signature envelope's media type is neither JWS nor COSE"})
		return
	}
	c.att.PayloadType = l.MediaType
	c.att.Signature = &SignatureInfo{Envelope: l.MediaType}
	data, ok := r.readLayer(c, l)
	if !ok {
		return
	}
	if r.opts.Notary == nil {
		r.skip(c, "signature", "no Notary Project trust policy and trust store given")
		r.t.Report.Add(verify.Finding{Code: CodeNotChecked, Severity: verify.SeverityInfo, Path: c.path,
			Message: "Notary Project signature found; verify it natively with --trust-policy and --trust-store (the browser build cannot)"})
		return
	}
	target, ok := r.notaryTarget(c, m.Subject)
	if !ok {
		return
	}
	res := r.opts.Notary(r.ctx, NotarySignature{MediaType: l.MediaType, Envelope: data, Target: target,
		Scope: DefaultScope(r.t.Report.Source)})
	if res.Signature != nil {
		c.att.Signature = res.Signature
	}
	for _, w := range res.Warnings {
		r.finding(c, w)
	}
	if !r.record(c, res.BundleResult) {
		return
	}
	if res.Target == nil {
		r.fail(c, "subject", verify.Finding{Code: CodeStatementInvalid, Message: "the verifier returned no signed target descriptor"})
		return
	}
	c.signed = true
	if res.Target.Digest != target.Digest || res.Target.Size != target.Size || res.Target.MediaType != target.MediaType {
		r.fail(c, "subject", verify.Finding{Code: CodeSubjectMismatch, How: "payload targetArtifact compared with the recomputed manifest",
			Expected: descString(target), Actual: descString(*res.Target),
			Message: "the signature signs another descriptor than the manifest it is attached to"})
		return
	}
	var matches []intoto.Match
	for _, n := range r.nodes {
		if n.Digest == target.Digest && (n.Kind == "manifest" || n.Kind == "index" || n.Kind == "artifact") {
			matches = append(matches, intoto.Match{Node: n})
		}
	}
	r.bindMatches(c, matches, subject, target.Digest.String())
}

// notaryTarget builds the descriptor the signature must sign from the
// subject's verified bytes: the digest they hash to, their length, and
// the media type the manifest states (or, without one, the subject's).
func (r *run) notaryTarget(c *claim, subject *ocispec.Descriptor) (ocispec.Descriptor, bool) {
	var known bool
	for _, n := range r.nodes {
		known = known || n.Digest == subject.Digest
	}
	for _, n := range r.artifacts {
		if n.Digest == subject.Digest {
			r.onArtifact(c, []intoto.Match{{Node: n}}, subject.Digest)
			return ocispec.Descriptor{}, false
		}
	}
	if !known {
		r.fail(c, "subject", verify.Finding{Code: CodeSubjectMismatch, Actual: subject.Digest.String(), Expected: r.expected(""),
			Message: "the signature is attached to a manifest that is not among the verified images"})
		return ocispec.Descriptor{}, false
	}
	data, err := r.t.Blobs.ReadBlob(subject.Digest, max(r.lim.IndexDocument, r.lim.ManifestDocument))
	if err != nil {
		r.fail(c, "subject", readFinding(c.path, subject.Digest, err))
		return ocispec.Descriptor{}, false
	}
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if err := strictjson.Unmarshal(data, &probe, r.lim.JSONDepth); err != nil {
		r.fail(c, "subject", jsonFinding(c.path, err))
		return ocispec.Descriptor{}, false
	}
	mt := probe.MediaType
	if mt == "" {
		mt = subject.MediaType
	}
	// ReadBlob checked the bytes against the digest.
	return ocispec.Descriptor{MediaType: mt, Digest: subject.Digest, Size: int64(len(data))}, true
}

func descString(d ocispec.Descriptor) string {
	return fmt.Sprintf("%s %s size %d", d.MediaType, d.Digest, d.Size)
}

var scopeUnsafe = regexp.MustCompile(`[^a-z0-9._-]+`)

// DefaultScope is the repository a source is verified as by a Notary
// Project trust policy when none is given: the repository of a registry
// reference (without tag or digest), or local/NAME for a layout or
// archive.
func DefaultScope(src verify.Source) string {
	if src.Format == verify.FormatRegistry {
		ref, _, _ := strings.Cut(src.Path, "@")
		if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
			ref = ref[:i]
		}
		return ref
	}
	name := strings.Trim(scopeUnsafe.ReplaceAllString(strings.ToLower(filepath.Base(src.Path)), "-"), "-._")
	if name == "" {
		name = "image"
	}
	return "local/" + name
}
