// Package policy reads imgproof policy files: the trust (keys, keyless
// identities, threshold) and the claims (required predicate types, SLSA
// provenance constraints, CEL rules) that a CI gate demands of an image.
//
// A policy is YAML or JSON with apiVersion "imgproof.dev/policy/v1"; its
// JSON schema is schema.json beside this file. Unknown fields, duplicate
// keys and case-folded aliases are errors, so a misspelt constraint can
// never weaken a policy silently. A policy that requires nothing (no
// signature and no attestation) is an error, not a pass.
package policy

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/imgproof/imgproof/attest/slsa"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// APIVersion is the only accepted apiVersion.
const APIVersion = "imgproof.dev/policy/v1"

// Schema is the JSON schema of the policy file.
//
//go:embed schema.json
var Schema []byte

// ErrNothingRequired is returned for a policy that demands nothing.
var ErrNothingRequired = errors.New("policy requires nothing: set requireSignature or requireNotarySignature, or list attestations")

// Policy is a parsed, validated policy.
type Policy struct {
	APIVersion string `json:"apiVersion"`
	// Keys are trusted public keys: a path (relative to the policy file)
	// or inline PEM.
	Keys []KeyRef `json:"keys,omitempty"`
	// Identities are trusted keyless signers (Fulcio certificate identity
	// and OIDC issuer).
	Identities []Identity `json:"identities,omitempty"`
	// Threshold is the number of distinct trusted keys that must sign each
	// envelope; absent means 1, and an explicit value below 1 is an error.
	Threshold *int `json:"threshold,omitempty"`
	// RequireSignature demands a cosign simple-signing signature by a
	// trusted signer over a recomputed manifest or index digest.
	RequireSignature bool `json:"requireSignature,omitempty"`
	// RequireNotarySignature demands a Notary Project signature that the
	// trust policy (--trust-policy, --trust-store) accepts, over the
	// recomputed manifest it is attached to.
	RequireNotarySignature bool `json:"requireNotarySignature,omitempty"`
	// AllowedPredicateTypes, when set, fails every signed attestation of
	// another predicate type.
	AllowedPredicateTypes []string `json:"allowedPredicateTypes,omitempty"`
	// Attestations lists the attestations that must be present, signed by a
	// trusted signer, bound to the image and satisfying their constraints.
	Attestations []Requirement `json:"attestations,omitempty"`
}

// KeyRef names one trusted key.
type KeyRef struct {
	Path string `json:"path,omitempty"`
	PEM  string `json:"pem,omitempty"`
}

// Identity is one trusted keyless signer. Subject or SubjectRegExp, and
// Issuer or IssuerRegExp, are both required; regular expressions are
// anchored at both ends.
type Identity struct {
	Subject       string `json:"subject,omitempty"`
	SubjectRegExp string `json:"subjectRegExp,omitempty"`
	Issuer        string `json:"issuer,omitempty"`
	IssuerRegExp  string `json:"issuerRegExp,omitempty"`
}

// Requirement is one attestation the image must carry.
type Requirement struct {
	Name          string       `json:"name,omitempty"`
	PredicateType string       `json:"predicateType"`
	SLSA          *slsa.Policy `json:"slsa,omitempty"`
	Rules         []RuleSpec   `json:"rules,omitempty"`
	// Policy is a CUE or Rego policy in the shape of sigstore
	// policy-controller's attestations[].policy, evaluated as cosign does
	// (see Embedded).
	Policy *Embedded `json:"policy,omitempty"`

	rules []*Rule
	// uri is PredicateType with cosign's short names resolved; empty
	// matches every predicate type.
	uri string
}

// Policy languages of Embedded.Type.
const (
	LangCUE  = "cue"
	LangRego = "rego"
)

// Embedded is a CUE or Rego policy over an attestation, evaluated by
// cosign's reference evaluator (package attest/cosignpolicy) on the JSON
// cosign builds from the statement. Builds without that evaluator (the
// WebAssembly module) report such a requirement UNVERIFIABLE.
type Embedded struct {
	// Type is "cue" or "rego".
	Type string `json:"type"`
	// Data is the policy text. Inline Rego defines package sigstore and
	// its isCompliant rule, as policy-controller requires.
	Data string `json:"data"`
	// File is set for a policy given as a .cue or .rego file: it is then
	// evaluated as `cosign verify-attestation --policy FILE` does (Rego's
	// data.signature.allow, CUE loaded as a file), not as an inline body.
	File string `json:"-"`
	// As is the predicate type handed to cosign's AttestationToPayloadJSON,
	// which picks the JSON shape: a short name such as slsaprovenance, or
	// a URI. Empty means each statement's own predicate type.
	As string `json:"-"`
}

// Language names the policy language for messages: CUE or Rego.
func (e *Embedded) Language() string {
	if e.Type == LangCUE {
		return "CUE"
	}
	return "Rego"
}

// PredicateTypeNames are cosign's short names for predicate types, as
// `cosign attest --type` and `cosign verify-attestation --type` take them.
var PredicateTypeNames = map[string]string{
	"custom":           "https://cosign.sigstore.dev/attestation/v1",
	"slsaprovenance":   slsa.PredicateV02,
	"slsaprovenance02": slsa.PredicateV02,
	"slsaprovenance1":  slsa.PredicateV1,
	"spdx":             "https://spdx.dev/Document",
	"spdxjson":         "https://spdx.dev/Document",
	"cyclonedx":        "https://cyclonedx.org/bom",
	"link":             "https://in-toto.io/Link/v1",
	"vuln":             "https://cosign.sigstore.dev/attestation/vuln/v1",
	"openvex":          "https://openvex.dev/ns",
}

// ResolvePredicateType maps a cosign short name to its URI; anything else
// is returned unchanged.
func ResolvePredicateType(t string) string {
	if uri, ok := PredicateTypeNames[t]; ok {
		return uri
	}
	return t
}

// ForFile is the policy of `--policy FILE.cue|FILE.rego`: every signed
// attestation of predicateType (a cosign short name or a URI; empty means
// every predicate type) must satisfy the policy, and at least one must be
// present. lang is LangCUE or LangRego. A body over the default
// limits.PolicyFile is a *limits.Error; ForFileLimited takes the limit
// from lim.
func ForFile(lang, path, body, predicateType string) (*Policy, error) {
	return ForFileLimited(lang, path, body, predicateType, limits.Default())
}

// ForFileLimited is ForFile with the body bounded by lim.PolicyFile.
func ForFileLimited(lang, path, body, predicateType string, lim limits.Limits) (*Policy, error) {
	if lang != LangCUE && lang != LangRego {
		return nil, fmt.Errorf("policy language %q: want cue or rego", lang)
	}
	if int64(len(body)) > lim.PolicyFile {
		return nil, limits.Exceeded(limits.PolicyFile, lim.PolicyFile, path)
	}
	if strings.TrimSpace(body) == "" {
		return nil, fmt.Errorf("policy %s is empty: it would demand nothing", path)
	}
	name := path
	if predicateType != "" {
		name += " on " + predicateType
	}
	p := &Policy{APIVersion: APIVersion, Attestations: []Requirement{{
		Name: name, PredicateType: predicateType,
		Policy: &Embedded{Type: lang, Data: body, File: path, As: predicateType},
	}}}
	if predicateType == "" {
		return p, nil
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return p, nil
}

// URI is the predicate type the requirement selects, cosign's short
// names resolved; empty selects every predicate type.
func (r *Requirement) URI() string { return r.uri }

// Matches reports whether the requirement applies to a statement of this
// predicate type.
func (r *Requirement) Matches(predicateType string) bool {
	return r.uri == "" || r.uri == predicateType
}

// RuleSpec is a named CEL expression over the statement. It sees
// statement, predicate, predicateType and subject, and must yield true.
type RuleSpec struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
}

// Parse reads a policy from YAML or JSON and validates it. A policy over
// the default limits.PolicyFile is a *limits.Error; ParseLimited takes the
// limit from lim.
func Parse(data []byte) (*Policy, error) { return ParseLimited(data, limits.Default()) }

// ParseLimited is Parse with the policy bounded by lim.PolicyFile, and its
// nesting by lim.JSONDepth.
func ParseLimited(data []byte, lim limits.Limits) (*Policy, error) {
	if int64(len(data)) > lim.PolicyFile {
		return nil, limits.Exceeded(limits.PolicyFile, lim.PolicyFile, "policy")
	}
	js := data
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		var err error
		if js, err = yaml.YAMLToJSONStrict(data); err != nil {
			return nil, fmt.Errorf("policy YAML: %w", err)
		}
	}
	var p, probe Policy
	if err := strictjson.Unmarshal(js, &probe, lim.JSONDepth); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return &p, nil
}

func (p *Policy) validate() error {
	if p.APIVersion != APIVersion {
		return fmt.Errorf("apiVersion %q: want %q", p.APIVersion, APIVersion)
	}
	if p.Threshold != nil && *p.Threshold < 1 {
		return fmt.Errorf("threshold %d: must be at least 1", *p.Threshold)
	}
	if !p.RequireSignature && !p.RequireNotarySignature && len(p.Attestations) == 0 {
		return ErrNothingRequired
	}
	for i, k := range p.Keys {
		if (k.Path == "") == (k.PEM == "") {
			return fmt.Errorf("keys[%d]: set exactly one of path and pem", i)
		}
	}
	for i, id := range p.Identities {
		if (id.Subject == "") == (id.SubjectRegExp == "") || (id.Issuer == "") == (id.IssuerRegExp == "") {
			return fmt.Errorf("identities[%d]: set exactly one of subject/subjectRegExp and one of issuer/issuerRegExp", i)
		}
		for _, re := range []string{id.SubjectRegExp, id.IssuerRegExp} {
			if re != "" {
				if _, err := regexp.Compile("^(?:" + re + ")$"); err != nil {
					return fmt.Errorf("identities[%d]: %w", i, err)
				}
			}
		}
	}
	for i, pt := range p.AllowedPredicateTypes {
		if pt == "" {
			return fmt.Errorf("allowedPredicateTypes[%d] is empty", i)
		}
	}
	for i := range p.Attestations {
		r := &p.Attestations[i]
		if r.PredicateType == "" {
			return fmt.Errorf("attestations[%d]: predicateType is required", i)
		}
		r.uri = ResolvePredicateType(r.PredicateType)
		if len(p.AllowedPredicateTypes) > 0 && !contains(p.AllowedPredicateTypes, r.uri) {
			return fmt.Errorf("attestations[%d]: predicateType %q is not in allowedPredicateTypes", i, r.PredicateType)
		}
		if e := r.Policy; e != nil {
			if e.Type != LangCUE && e.Type != LangRego {
				return fmt.Errorf("attestations[%d].policy: type %q: want cue or rego", i, e.Type)
			}
			if e.Data == "" {
				return fmt.Errorf("attestations[%d].policy: data is empty", i)
			}
			if e.As == "" {
				e.As = r.PredicateType
			}
		}
		if r.SLSA != nil {
			if !slsa.IsProvenance(r.uri) {
				return fmt.Errorf("attestations[%d]: slsa constraints need a SLSA provenance predicateType", i)
			}
			if r.SLSA.Empty() {
				return fmt.Errorf("attestations[%d]: slsa is empty", i)
			}
		}
		for j, rs := range r.Rules {
			if rs.Expr == "" {
				return fmt.Errorf("attestations[%d].rules[%d]: expr is empty", i, j)
			}
			name := rs.Name
			if name == "" {
				name = fmt.Sprintf("attestations[%d].rules[%d]", i, j)
			}
			rule, err := CompileRule(name, rs.Expr)
			if err != nil {
				return fmt.Errorf("attestations[%d].rules[%d]: %w", i, j, err)
			}
			r.rules = append(r.rules, rule)
		}
		if r.Name == "" {
			r.Name = r.PredicateType
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// EffectiveThreshold is the threshold, defaulting to 1.
func (p *Policy) EffectiveThreshold() int {
	if p == nil || p.Threshold == nil || *p.Threshold < 1 {
		return 1
	}
	return *p.Threshold
}

// PredicateAllowed reports whether a signed attestation of this predicate
// type may appear.
func (p *Policy) PredicateAllowed(pt string) bool {
	return p == nil || len(p.AllowedPredicateTypes) == 0 || contains(p.AllowedPredicateTypes, pt)
}

// Result is the outcome of one policy check on one statement.
type Result struct {
	Name    string
	OK      bool
	Message string
}

// Check runs the requirement's SLSA constraints and CEL rules (not its
// CUE or Rego Policy, which needs an evaluator from outside) on a
// statement, given as its verified bytes and its predicate. ok is true
// only when every check passed.
func (r *Requirement) Check(ctx context.Context, statement, predicate []byte, maxDepth int) (results []Result, ok bool) {
	ok = true
	if r.SLSA != nil {
		prov, err := slsa.Parse(r.uri, predicate, maxDepth)
		if err != nil {
			return append(results, Result{Name: "slsa.parse", Message: err.Error()}), false
		}
		rs, err := r.SLSA.Check(prov)
		for _, x := range rs {
			results = append(results, Result{Name: x.Name, OK: x.OK, Message: x.Message})
		}
		if err != nil {
			ok = false
		}
	}
	for _, rule := range r.rules {
		pass, err := rule.Eval(ctx, statement)
		res := Result{Name: "rule." + rule.Name, OK: pass && err == nil}
		switch {
		case err != nil:
			res.Message = err.Error()
		case !pass:
			res.Message = "expression is false: " + rule.Expr
		}
		results = append(results, res)
		ok = ok && res.OK
	}
	return results, ok
}
