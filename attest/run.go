package attest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest/dsse"
	"github.com/imgproof/imgproof/attest/intoto"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// run is one verification of the claims of one target.
type run struct {
	ctx   context.Context
	t     Target
	opts  *Options
	lim   limits.Limits
	nodes []intoto.Node
	// artifacts are the manifests of the source's artifacts (ORAS
	// pushes, SBOMs, signatures) when the source also holds an image: a
	// claim on one of them vouches for that artifact, not for the image.
	artifacts []intoto.Node
	claims    []*claim
	// absentOK: the source was verified for one platform and lacks only
	// other platforms' manifests (I_ABSENT_PLATFORMS, no E_BLOB_MISSING),
	// so those absent manifests are no missing evidence here either.
	absentOK bool
	// seen holds manifests already processed, so a referrer reached twice
	// is checked once.
	seen     map[digest.Digest]bool
	limitHit bool
}

// claim is one signature or attestation being checked.
type claim struct {
	att  Attestation
	path string
	// signed: a trusted signer's signature verified over the payload.
	signed bool
	// bound: the payload names a recomputed digest (and, when the claim is
	// attached to a digest, that one).
	bound bool
	// failed: a check ran and failed.
	failed bool
	// statement and predicate are the verified in-toto bytes, if any.
	statement []byte
	predicate []byte
}

func newRun(ctx context.Context, t Target, opts *Options) *run {
	r := &run{ctx: ctx, t: t, opts: opts, lim: opts.limits(), seen: map[digest.Digest]bool{}}
	r.nodes = Nodes(t.Report)
	r.absentOK = t.Report.Has(verify.CodeAbsentPlatforms) && !t.Report.Has(verify.CodeBlobMissing)
	r.artifacts = ArtifactNodes(t.Report)
	if !hasImage(t.Report) {
		// A source that holds only artifacts (oras push): they are what
		// a signature on it can bind to.
		r.nodes = dedupe(append(r.nodes, r.artifacts...))
		r.artifacts = nil
	}
	return r
}

// ArtifactNodes lists the manifest digests of the source's artifacts:
// manifests whose config is not an image config, verified by digest and
// size. Their kind is "artifact".
func ArtifactNodes(rep *verify.Report) []intoto.Node {
	var out []intoto.Node
	for _, im := range rep.Images {
		if im.Kind != "artifact" || im.ManifestDigest == nil {
			continue
		}
		if d, err := digest.Parse(*im.ManifestDigest); err == nil {
			out = append(out, intoto.Node{Digest: d, Kind: "artifact", Path: im.Path})
		}
	}
	return dedupe(out)
}

func hasImage(rep *verify.Report) bool {
	for _, im := range rep.Images {
		if im.Kind == "" || im.Kind == "image" {
			return true
		}
	}
	return false
}

// Nodes lists the recomputed digests a claim may bind to: content-
// addressed indexes, and the manifests and configs of runnable images.
func Nodes(rep *verify.Report) []intoto.Node {
	var out []intoto.Node
	add := func(s, kind, path string) {
		d, err := digest.Parse(s)
		if err != nil {
			return
		}
		out = append(out, intoto.Node{Digest: d, Kind: kind, Path: path})
	}
	if rep.IndexDigest != nil {
		add(*rep.IndexDigest, "index", "index")
	}
	for _, ix := range rep.Indexes {
		add(ix.Digest, "index", ix.Path)
	}
	for _, im := range rep.Images {
		if im.Kind != "" && im.Kind != "image" {
			continue
		}
		if im.ManifestDigest != nil {
			add(*im.ManifestDigest, "manifest", im.Path)
		}
		add(im.ImageID, "config", im.Path+"/config")
	}
	return dedupe(out)
}

func dedupe(ns []intoto.Node) []intoto.Node {
	seen := map[string]bool{}
	var out []intoto.Node
	for _, n := range ns {
		k := string(n.Digest) + "\x00" + n.Kind
		if !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	return out
}

// newClaim starts a claim, unless the attestation limit is reached.
func (r *run) newClaim(kind, origin, path string) *claim {
	if len(r.claims) >= r.lim.Attestations {
		if !r.limitHit {
			r.limitHit = true
			r.t.Report.Add(verify.Finding{Code: verify.CodeLimitExceeded, Path: path,
				Message: limits.Exceeded(limits.Attestations, int64(r.lim.Attestations), "signatures and attestations").Error()})
		}
		return nil
	}
	c := &claim{path: path, att: Attestation{Kind: kind, Origin: origin, Signers: []string{}, Binds: []Binding{}, Checks: []Check{}}}
	r.claims = append(r.claims, c)
	return c
}

func (r *run) pass(c *claim, name, msg string) {
	c.att.Checks = append(c.att.Checks, Check{Name: name, Status: CheckPass, Message: msg})
	r.t.Report.Pass()
}

func (r *run) skip(c *claim, name, msg string) {
	c.att.Checks = append(c.att.Checks, Check{Name: name, Status: CheckSkip, Message: msg})
}

// fail records a failed check and its finding.
func (r *run) fail(c *claim, name string, f verify.Finding) {
	c.att.Checks = append(c.att.Checks, Check{Name: name, Status: CheckFail, Message: f.Message})
	r.finding(c, f)
}

// finding records a finding about the claim; an error fails it.
func (r *run) finding(c *claim, f verify.Finding) {
	if f.Path == "" {
		f.Path = c.path
	}
	if f.Severity == "" {
		f.Severity = f.Code.DefaultSeverity()
	}
	if f.Severity == verify.SeverityError {
		c.failed = true
	}
	r.t.Report.Add(f)
}

// signedBy verifies sig over msg with each trusted key.
func (r *run) signedBy(msg, sig []byte) []*keys.Key {
	var out []*keys.Key
	for _, k := range r.opts.Keys {
		if k.Verify(msg, sig) == nil {
			out = append(out, k)
		}
	}
	return out
}

// bind checks the statement's subjects against the recomputed nodes, and
// against attachedTo when the claim was found attached to a digest.
func (r *run) bind(c *claim, st *intoto.Statement, attachedTo digest.Digest) {
	matches, err := st.Bind(r.nodes)
	if err != nil {
		r.fail(c, "subject", verify.Finding{Code: CodeSubjectMismatch, Actual: st.Names(),
			Message: "statement subject: " + err.Error()})
		return
	}
	if len(matches) == 0 {
		if am, _ := st.Bind(r.artifacts); r.onArtifact(c, am, attachedTo) {
			return
		}
	}
	r.bindMatches(c, matches, attachedTo, st.Names())
}

// onArtifact handles a claim that names no digest of the image but an
// artifact of the same source, such as a signature on an SBOM that was
// attached with ORAS. The claim is genuine and says nothing about the
// image: it is noted, never failed, and never counted as binding the
// image. A claim attached to another digest than the one it names is
// left to bindMatches, which fails it.
func (r *run) onArtifact(c *claim, matches []intoto.Match, attachedTo digest.Digest) bool {
	var names []string
	for _, m := range matches {
		if attachedTo != "" && m.Node.Digest != attachedTo {
			return false
		}
		names = append(names, m.Node.Digest.String()+" at "+m.Node.Path)
	}
	if len(names) == 0 {
		return false
	}
	msg := "names artifact " + strings.Join(names, ", ") + ", not the image: it vouches for that artifact only"
	r.skip(c, "subject", msg)
	r.t.Report.Add(verify.Finding{Code: CodeClaimOnArtifact, Severity: verify.SeverityInfo, Path: c.path, Message: "the claim " + msg})
	return true
}

func (r *run) bindMatches(c *claim, matches []intoto.Match, attachedTo digest.Digest, names string) {
	var binds []Binding
	hitAttached := false
	for _, m := range matches {
		binds = append(binds, Binding{Digest: m.Node.Digest.String(), Node: m.Node.Kind, Path: m.Node.Path})
		if m.Node.Digest == attachedTo {
			hitAttached = true
		}
	}
	switch {
	case len(binds) == 0:
		r.fail(c, "subject", verify.Finding{Code: CodeSubjectMismatch, Actual: names, Expected: r.expected(attachedTo),
			How:     "subject digests compared with recomputed digests",
			Message: "the claim names no digest of this image"})
	case attachedTo != "" && !hitAttached:
		c.att.Binds = binds
		r.fail(c, "subject", verify.Finding{Code: CodeSubjectMismatch, Actual: names, Expected: attachedTo.String(),
			How:     "subject digests compared with the digest the claim is attached to",
			Message: "the claim is attached to " + attachedTo.String() + " but names another digest"})
	default:
		c.att.Binds = binds
		c.bound = true
		var kinds []string
		for _, b := range binds {
			kinds = append(kinds, b.Node+" "+b.Digest)
		}
		r.pass(c, "subject", "binds "+strings.Join(kinds, ", "))
	}
}

func (r *run) expected(attachedTo digest.Digest) string {
	if attachedTo != "" {
		return attachedTo.String()
	}
	var ds []string
	for _, n := range r.nodes {
		ds = append(ds, n.Kind+" "+n.Digest.String())
		if len(ds) == 4 {
			ds = append(ds, "...")
			break
		}
	}
	return "one of: " + strings.Join(ds, ", ")
}

// envelope checks a DSSE envelope: shape, payload type, signatures, then
// the statement read from the verified bytes only, and its subjects. l is
// the layer that carried it, nil for a file.
func (r *run) envelope(c *claim, data []byte, l *ocispec.Descriptor, attachedTo digest.Digest) {
	env, err := dsse.Parse(data, r.lim)
	if err != nil {
		f := verify.Finding{Code: CodeEnvelopeInvalid, Message: "DSSE envelope: " + err.Error()}
		var je *strictjson.Error
		var le *limits.Error
		switch {
		case errors.As(err, &je):
			f.Code = verify.Code(je.Kind)
		case errors.As(err, &le):
			f.Code = verify.CodeLimitExceeded
		}
		r.fail(c, "envelope", f)
		return
	}
	r.pass(c, "envelope", fmt.Sprintf("DSSE envelope with %d signature(s)", len(env.Signatures)))
	c.att.PayloadType = env.PayloadType
	typeOK := intoto.CheckPayloadType(env.PayloadType) == nil
	if typeOK {
		r.pass(c, "payloadType", env.PayloadType)
	} else {
		r.fail(c, "payloadType", verify.Finding{Code: CodePayloadTypeUnsupported, Expected: intoto.PayloadType,
			Actual: env.PayloadType, Message: "DSSE payloadType is not " + intoto.PayloadType})
	}
	if !r.opts.trusted() {
		r.skip(c, "signature", "no trusted key given")
		r.notChecked(c)
		return
	}
	if r.keylessFor(l) {
		payload, ok := r.keyless(c, l, data)
		if ok && typeOK {
			c.signed = true
			r.statement(c, payload, attachedTo)
		}
		return
	}
	res, err := dsse.Verify(env, r.opts.Keys, r.opts.threshold())
	if res != nil {
		for _, k := range res.Signers {
			c.att.Signers = append(c.att.Signers, k.String())
		}
	}
	if err != nil {
		code := CodeSignatureInvalid
		if errors.Is(err, dsse.ErrThreshold) {
			code = CodeThresholdNotMet
		}
		r.fail(c, "signature", verify.Finding{Code: code, How: "PAE(payloadType, payload) verified with each trusted key",
			Message: "DSSE signature: " + err.Error()})
		return
	}
	r.pass(c, "signature", fmt.Sprintf("%d distinct trusted key(s) signed PAE(payloadType, payload)", len(res.Signers)))
	if !typeOK {
		return
	}
	c.signed = true
	r.statement(c, res.Payload, attachedTo)
}

// statement parses verified statement bytes and binds them.
func (r *run) statement(c *claim, payload []byte, attachedTo digest.Digest) {
	st, err := intoto.Parse(payload, r.lim)
	if err != nil {
		f := verify.Finding{Code: CodeStatementInvalid, Message: "in-toto statement: " + err.Error()}
		var le *limits.Error
		if errors.As(err, &le) {
			f.Code = verify.CodeLimitExceeded
		}
		r.fail(c, "statement", f)
		return
	}
	c.att.PredicateType = st.PredicateType
	r.pass(c, "statement", st.Type)
	r.bind(c, st, attachedTo)
	c.statement = payload
	c.predicate = st.Predicate
	if c.signed && !r.opts.Policy.PredicateAllowed(st.PredicateType) {
		r.fail(c, "policy.predicateType", verify.Finding{Code: CodePredicateNotAllowed, Actual: st.PredicateType,
			Expected: strings.Join(r.opts.Policy.AllowedPredicateTypes, " | "),
			Message:  "the policy does not allow predicate type " + st.PredicateType})
	}
}

func (r *run) notChecked(c *claim) {
	r.t.Report.Add(verify.Finding{Code: CodeNotChecked, Severity: verify.SeverityInfo, Path: c.path,
		Message: c.att.Kind + " found; give --key or a policy to verify it"})
}

// keylessFor reports whether a layer's signature is checked against the
// keyless identities rather than the keys: always when no key is trusted,
// and for a layer that carries a certificate when both are.
func (r *run) keylessFor(l *ocispec.Descriptor) bool {
	if !r.opts.Keyless {
		return false
	}
	return len(r.opts.Keys) == 0 || (l != nil && l.Annotations[AnnotationCosignCertificate] != "")
}

// keyless verifies a layer signed the older cosign keyless way (the
// certificate and Rekor bundle in its annotations) through the Legacy
// hook, and returns the verified payload.
func (r *run) keyless(c *claim, l *ocispec.Descriptor, data []byte) ([]byte, bool) {
	if r.opts.Legacy == nil || l == nil {
		r.keylessOnly(c)
		return nil, false
	}
	for _, a := range []string{AnnotationCosignCertificate, AnnotationCosignBundle} {
		if l.Annotations[a] == "" {
			r.fail(c, "signature", verify.Finding{Code: CodeEnvelopeInvalid, Expected: a,
				Message: "layer annotation " + a + " is missing: a keyless signature needs its certificate and Rekor bundle"})
			return nil, false
		}
	}
	res := r.opts.Legacy(r.ctx, LegacySignature{MediaType: l.MediaType, Data: data,
		Signature: l.Annotations[AnnotationCosignSignature], Certificate: l.Annotations[AnnotationCosignCertificate],
		Chain: l.Annotations[AnnotationCosignChain], Bundle: l.Annotations[AnnotationCosignBundle]})
	if !r.record(c, res) {
		return nil, false
	}
	return res.Statement, true
}

// record adds a verifier's checks and signers to the claim, and its
// finding when the signature did not verify, which it reports.
func (r *run) record(c *claim, res BundleResult) bool {
	c.att.Signers = append(c.att.Signers, res.Signers...)
	for _, ch := range res.Checks {
		c.att.Checks = append(c.att.Checks, ch)
		if ch.Status == CheckPass {
			r.t.Report.Pass()
		}
	}
	if res.Verified {
		if res.Build != nil {
			c.att.Build = res.Build
		}
		return true
	}
	f := verify.Finding{Code: CodeSignatureInvalid, Message: "the signature does not verify"}
	if res.Finding != nil {
		f = *res.Finding
	}
	f.Path = c.path
	r.finding(c, f)
	return false
}

func (r *run) keylessOnly(c *claim) {
	r.fail(c, "signature", verify.Finding{Code: CodeKeylessUnavailable, Severity: verify.SeverityUnverifiable,
		Message: "keyless verification of this signature format is not available; give --key"})
}
