package attest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/attest/intoto"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// file checks an attestation file: one JSON document (a DSSE envelope or
// a sigstore bundle) or a sequence of them (JSON lines).
func (r *run) file(f File) {
	path := "file:" + f.Name
	if int64(len(f.Data)) > r.lim.AttestationDocument*int64(r.lim.Attestations) {
		r.t.Report.Add(verify.Finding{Code: verify.CodeLimitExceeded, Path: path,
			Message: limits.Exceeded(limits.AttestationDocument, r.lim.AttestationDocument*int64(r.lim.Attestations), f.Name).Error()})
		return
	}
	dec := json.NewDecoder(bytes.NewReader(f.Data))
	for i := 0; ; i++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			if i == 0 {
				r.t.Report.Add(verify.Finding{Code: CodeEnvelopeInvalid, Path: path, Message: "attestation file is empty"})
			}
			return
		}
		p := fmt.Sprintf("%s#%d", path, i+1)
		if err != nil {
			r.t.Report.Add(verify.Finding{Code: verify.CodeJSONSyntax, Path: p, Message: "attestation file: " + err.Error()})
			return
		}
		r.document(p, raw)
		if r.limitHit {
			return
		}
	}
}

// docProbe tells a bundle from an envelope.
type docProbe struct {
	MediaType   string `json:"mediaType"`
	PayloadType string `json:"payloadType"`
	// Bundle wraps a sigstore bundle, as each entry of GitHub's
	// attestations API does ({"bundle": {...}, "repository_id": ...}).
	Bundle json.RawMessage `json:"bundle"`
}

func (r *run) document(path string, raw []byte) {
	var probe docProbe
	if err := strictjson.Unmarshal(raw, &probe, r.lim.JSONDepth); err != nil {
		r.t.Report.Add(jsonFinding(path, err))
		return
	}
	if probe.MediaType == "" && probe.PayloadType == "" && len(probe.Bundle) > 0 && probe.Bundle[0] == '{' {
		raw = probe.Bundle
		if err := strictjson.Unmarshal(raw, &probe, r.lim.JSONDepth); err != nil {
			r.t.Report.Add(jsonFinding(path, err))
			return
		}
		if !strings.HasPrefix(probe.MediaType, mediaTypeBundlePrefix) {
			r.t.Report.Add(verify.Finding{Code: CodeEnvelopeInvalid, Path: path, Message: `"bundle" holds no sigstore bundle (mediaType)`})
			return
		}
	}
	switch {
	case strings.HasPrefix(probe.MediaType, mediaTypeBundlePrefix):
		if c := r.newClaim(KindBundle, path, path); c != nil {
			r.bundle(c, raw, "")
		}
	case probe.PayloadType != "":
		if c := r.newClaim(KindDSSE, path, path); c != nil {
			r.envelope(c, raw, nil, "")
		}
	default:
		r.t.Report.Add(verify.Finding{Code: CodeEnvelopeInvalid, Path: path,
			Message: "neither a DSSE envelope (payloadType) nor a sigstore bundle (mediaType)"})
	}
}

// bundle checks a sigstore bundle through the configured BundleVerifier,
// against each candidate digest: the one it is attached to, or else every
// recomputed node (the first that verifies wins).
func (r *run) bundle(c *claim, data []byte, attached digest.Digest) {
	if r.opts.Bundles == nil {
		r.fail(c, "bundle", verify.Finding{Code: CodeUnsupportedAttachment, Severity: verify.SeverityUnverifiable,
			Message: "sigstore bundle verification is not available in this build"})
		return
	}
	if !r.opts.trusted() {
		r.skip(c, "signature", "no trusted key or identity given")
		r.notChecked(c)
		return
	}
	var candidates []intoto.Node
	for _, n := range r.nodes {
		if attached == "" || n.Digest == attached {
			candidates = append(candidates, n)
		}
	}
	if len(candidates) == 0 && attached != "" {
		var am []intoto.Match
		for _, n := range r.artifacts {
			if n.Digest == attached {
				am = append(am, intoto.Match{Node: n})
			}
		}
		if r.onArtifact(c, am, attached) {
			return
		}
	}
	if len(candidates) == 0 {
		r.fail(c, "subject", verify.Finding{Code: CodeSubjectMismatch, Expected: r.expected(""), Actual: attached.String(),
			Message: "the bundle is attached to a digest that is not in this image"})
		return
	}
	var res BundleResult
	for _, n := range candidates {
		if r.ctx.Err() != nil {
			return
		}
		res = r.opts.Bundles(r.ctx, data, n.Digest.String())
		if res.Verified {
			c.att.Binds = []Binding{{Digest: n.Digest.String(), Node: n.Kind, Path: n.Path}}
			break
		}
	}
	c.att.PayloadType = res.PayloadType
	c.att.PredicateType = res.PredicateType
	if !r.record(c, res) {
		return
	}
	c.signed, c.bound = true, true
	if res.Statement != nil {
		st, err := intoto.Parse(res.Statement, r.lim)
		if err != nil {
			r.fail(c, "statement", verify.Finding{Code: CodeStatementInvalid, Message: "in-toto statement: " + err.Error()})
			return
		}
		c.statement, c.predicate = res.Statement, st.Predicate
		if !r.opts.Policy.PredicateAllowed(st.PredicateType) {
			r.fail(c, "policy.predicateType", verify.Finding{Code: CodePredicateNotAllowed, Actual: st.PredicateType,
				Message: "the policy does not allow predicate type " + st.PredicateType})
		}
	}
}
