package attest

import (
	"strings"

	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/verify"
)

// conclude applies the policy's requirements and the rule that trust, once
// configured, must be met by at least one signed claim bound to the image,
// then settles each claim's status.
func (r *run) conclude() []Attestation {
	r.require()
	var out []Attestation
	for _, c := range r.claims {
		if c.att.Status == "" || c.att.Status == StatusUnsigned && c.failed {
			c.att.Status = r.status(c)
		}
		out = append(out, c.att)
	}
	return out
}

// require adds a finding for each demand of the trust and the policy that
// no claim meets, and runs the policy's checks on the claims that bind.
func (r *run) require() {
	rep := r.t.Report
	if r.opts.Keyless && r.opts.Bundles == nil && r.opts.Legacy == nil {
		rep.Add(verify.Finding{Code: CodeKeylessUnavailable, Severity: verify.SeverityUnverifiable, Path: rep.Source.Path,
			Message: "keyless verification not available in this build"})
	}
	if !r.opts.trusted() && r.opts.Notary == nil {
		if r.opts.Policy != nil {
			rep.Add(verify.Finding{Code: CodeUnsigned, Severity: verify.SeverityUnverifiable, Path: rep.Source.Path,
				Message: "the policy names no trusted key or identity"})
		}
		return
	}
	good := false
	for _, c := range r.claims {
		if c.signed && c.bound && !c.failed {
			good = true
		}
	}
	if !good {
		rep.Add(verify.Finding{Code: CodeUnsigned, Severity: verify.SeverityUnverifiable, Path: rep.Source.Path,
			Message: "no signature or attestation by a trusted signer binds to a recomputed digest of the image"})
	}
	p := r.opts.Policy
	if p == nil {
		return
	}
	if p.RequireSignature {
		ok := false
		for _, c := range r.claims {
			if c.signed && c.bound && !c.failed && (c.att.Kind == KindCosignSignature || c.att.PayloadType == MediaTypeSimpleSigning || c.att.PredicateType == PredicateCosignSign) {
				ok = true
			}
		}
		if !ok {
			rep.Add(verify.Finding{Code: CodeUnsigned, Severity: verify.SeverityUnverifiable, Path: rep.Source.Path,
				Message: "the policy requires a cosign signature by a trusted signer; none binds to the image"})
		}
	}
	if p.RequireNotarySignature {
		ok := false
		for _, c := range r.claims {
			if c.signed && c.bound && !c.failed && c.att.Kind == KindNotary {
				ok = true
			}
		}
		switch {
		case !ok && r.opts.Notary == nil:
			rep.Add(verify.Finding{Code: CodeUnsigned, Severity: verify.SeverityUnverifiable, Path: rep.Source.Path,
				Message: "the policy requires a Notary Project signature, but no Notary Project trust policy and trust store were given (the browser build cannot verify Notary Project signatures)"})
		case !ok:
			rep.Add(verify.Finding{Code: CodeUnsigned, Severity: verify.SeverityUnverifiable, Path: rep.Source.Path,
				Message: "the policy requires a Notary Project signature accepted by the trust policy; none binds to the image"})
		}
	}
	for i := range p.Attestations {
		req := &p.Attestations[i]
		var signed, unsigned int
		satisfied, unavailable := true, false
		var failedChecks []string
		for _, c := range r.claims {
			if !req.Matches(c.att.PredicateType) || c.statement == nil || !c.bound {
				continue
			}
			if req.URI() == "" && c.att.PredicateType == PredicateCosignSign {
				continue // a cosign v3 signature, not an attestation
			}
			if !c.signed {
				unsigned++
				continue
			}
			if c.failed {
				continue
			}
			signed++
			results, ok := req.Check(r.ctx, c.statement, c.predicate, r.lim.JSONDepth)
			for _, res := range results {
				if res.OK {
					r.pass(c, "policy."+res.Name, res.Message)
				} else {
					c.att.Checks = append(c.att.Checks, Check{Name: "policy." + res.Name, Status: CheckFail, Message: res.Message})
					failedChecks = append(failedChecks, res.Name+": "+res.Message)
				}
			}
			if req.Policy != nil {
				switch msg, done := r.embedded(c, req.Policy); {
				case !done:
					unavailable = true
				case msg != "":
					failedChecks = append(failedChecks, msg)
					ok = false
				}
			} else if len(results) == 0 {
				r.pass(c, "policy."+req.Name, "required predicate type present")
			}
			if !ok {
				satisfied = false
				c.failed = true
			}
		}
		switch {
		case signed > 0 && satisfied && unavailable:
			lang := req.Policy.Language()
			rep.Add(verify.Finding{Code: CodePolicyUnavailable, Severity: verify.SeverityUnverifiable, Path: rep.Source.Path,
				Expected: req.Name, Message: lang + " policy " + req.Name + " cannot be evaluated in this build: only the native CLI evaluates " + lang + " (CEL works everywhere)"})
		case signed > 0 && satisfied:
		case signed > 0:
			rep.Add(verify.Finding{Code: CodePolicyViolation, Path: rep.Source.Path, Expected: req.Name,
				Message: "attestation " + describe(req) + " violates the policy: " + strings.Join(failedChecks, "; ")})
		case unsigned > 0:
			rep.Add(verify.Finding{Code: CodeUnsigned, Severity: verify.SeverityUnverifiable, Path: rep.Source.Path,
				Expected: req.PredicateType, Message: "the policy requires a signed " + describe(req) + " attestation; only unsigned ones are present"})
		default:
			rep.Add(verify.Finding{Code: CodeNoMatchingAttestation, Path: rep.Source.Path, Expected: req.PredicateType,
				Message: "the policy requires a " + describe(req) + " attestation signed by a trusted signer and bound to the image; none was found"})
		}
	}
}

func (r *run) status(c *claim) string {
	switch {
	case c.failed:
		return StatusFailed
	case c.att.Kind == KindBuildKit && !c.signed:
		return StatusUnsigned
	case c.signed && c.bound:
		return StatusVerified
	default:
		return StatusUnverifiable
	}
}

// describe names the predicate type a requirement selects.
func describe(req *policy.Requirement) string {
	switch {
	case req.URI() == "":
		return "in-toto"
	case req.URI() != req.PredicateType:
		return req.PredicateType + " (" + req.URI() + ")"
	}
	return req.PredicateType
}

// embedded evaluates a requirement's CUE or Rego policy on a claim's
// verified statement through Options.Policies. done is false when this
// build has no evaluator; msg describes a violation.
func (r *run) embedded(c *claim, e *policy.Embedded) (msg string, done bool) {
	name := "policy." + e.Type
	if r.opts.Policies == nil {
		r.skip(c, name, e.Language()+" policies are not evaluated in this build")
		return "", false
	}
	note, err := r.opts.Policies(r.ctx, e, c.statement)
	if err != nil {
		msg = e.Language() + ": " + err.Error()
		c.att.Checks = append(c.att.Checks, Check{Name: name, Status: CheckFail, Message: msg})
		return msg, true
	}
	if note == "" {
		note = "satisfied"
	}
	r.pass(c, name, e.Language()+" policy "+note)
	return "", true
}
