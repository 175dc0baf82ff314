// Package slsa reads SLSA provenance predicates (v0.2 and v1, with
// in-toto-golang's slsa_provenance types) and checks them against a policy
// on the builder, the build type, the source and the external parameters.
//
// The source of a build is taken from the fields each version defines for
// it: v0.2 invocation.configSource and materials, v1 resolvedDependencies,
// plus the GitHub-style externalParameters.workflow.{repository,ref}. A
// policy on repository, ref and digest is met only when one single source
// satisfies all three.
package slsa

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	v02 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v0.2"
	v1 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v1"

	"github.com/imgproof/imgproof/verify/strictjson"
)

// The predicate types this package reads.
const (
	PredicateV02 = v02.PredicateSLSAProvenance
	PredicateV1  = v1.PredicateSLSAProvenance
)

// ErrPolicy is matched by every policy violation.
var ErrPolicy = errors.New("provenance does not satisfy the policy")

// ErrPredicate is matched when the predicate cannot be read.
var ErrPredicate = errors.New("invalid SLSA provenance predicate")

// IsProvenance reports whether predicateType is one this package reads.
func IsProvenance(predicateType string) bool {
	return predicateType == PredicateV02 || predicateType == PredicateV1
}

// Source is one place the build took source from.
type Source struct {
	URI    string            `json:"uri"`
	Repo   string            `json:"repo"`
	Ref    string            `json:"ref,omitempty"`
	Digest map[string]string `json:"digest,omitempty"`
}

// Provenance is the part of a predicate that policies look at.
type Provenance struct {
	Version            string         `json:"version"` // v0.2 or v1
	BuilderID          string         `json:"builderID"`
	BuildType          string         `json:"buildType"`
	Sources            []Source       `json:"sources"`
	ExternalParameters map[string]any `json:"externalParameters,omitempty"`
}

// Parse reads a predicate of the given type under the strict JSON profile.
func Parse(predicateType string, predicate []byte, maxDepth int) (*Provenance, error) {
	switch predicateType {
	case PredicateV02:
		var p v02.ProvenancePredicate
		if err := strictjson.Unmarshal(predicate, &p, maxDepth); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPredicate, err)
		}
		out := &Provenance{Version: "v0.2", BuilderID: p.Builder.ID, BuildType: p.BuildType}
		if cs := p.Invocation.ConfigSource; cs.URI != "" {
			out.Sources = append(out.Sources, newSource(cs.URI, "", cs.Digest))
		}
		for _, m := range p.Materials {
			out.Sources = append(out.Sources, newSource(m.URI, "", m.Digest))
		}
		out.ExternalParameters = asMap(p.Invocation.Parameters)
		return out, nil
	case PredicateV1:
		//lint:ignore SA1019 the Go struct decodes under the strict JSON profile; the protobuf replacement decodes with protojson.
		var p v1.ProvenancePredicate
		if err := strictjson.Unmarshal(predicate, &p, maxDepth); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPredicate, err)
		}
		out := &Provenance{Version: "v1", BuilderID: p.RunDetails.Builder.ID, BuildType: p.BuildDefinition.BuildType}
		out.ExternalParameters = asMap(p.BuildDefinition.ExternalParameters)
		if wf, ok := out.ExternalParameters["workflow"].(map[string]any); ok {
			repo, _ := wf["repository"].(string)
			ref, _ := wf["ref"].(string)
			if repo != "" {
				out.Sources = append(out.Sources, newSource(repo, ref, nil))
			}
		}
		for _, d := range p.BuildDefinition.ResolvedDependencies {
			uri := d.URI
			if uri == "" {
				uri = d.DownloadLocation
			}
			out.Sources = append(out.Sources, newSource(uri, "", d.Digest))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: predicate type %q is not SLSA provenance v0.2 or v1", ErrPredicate, predicateType)
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// newSource splits "git+https://host/org/repo@refs/heads/main" into a
// normalised repository and a ref; an explicit ref wins.
func newSource(uri, ref string, dg map[string]string) Source {
	s := Source{URI: uri, Ref: ref, Digest: dg}
	repo := strings.TrimPrefix(uri, "git+")
	if i := strings.LastIndex(repo, "@"); i > strings.Index(repo, "://")+2 && i > 0 {
		if s.Ref == "" {
			s.Ref = repo[i+1:]
		}
		repo = repo[:i]
	}
	s.Repo = NormalizeRepo(repo)
	return s
}

// NormalizeRepo drops a git+ prefix, a trailing slash and a .git suffix.
func NormalizeRepo(r string) string {
	r = strings.TrimPrefix(r, "git+")
	r = strings.TrimSuffix(r, "/")
	r = strings.TrimSuffix(r, ".git")
	return r
}

// Policy is what a provenance must show. Empty fields are not checked;
// within a field, any listed value is accepted. Values match exactly.
type Policy struct {
	BuilderIDs []string `json:"builderIDs,omitempty"`
	BuildTypes []string `json:"buildTypes,omitempty"`
	// SourceRepos are repository URIs such as https://github.com/org/repo.
	SourceRepos []string `json:"sourceRepos,omitempty"`
	// SourceRefs are refs such as refs/heads/main or refs/tags/v1.2.3.
	SourceRefs []string `json:"sourceRefs,omitempty"`
	// SourceDigests are "alg:value", such as sha1:0123... or gitCommit:0123...
	SourceDigests []string `json:"sourceDigests,omitempty"`
	// ExternalParameters maps a dotted path in v1 externalParameters (v0.2:
	// invocation.parameters) to the JSON value it must equal.
	ExternalParameters map[string]any `json:"externalParameters,omitempty"`
}

// Empty reports whether the policy checks nothing.
func (p *Policy) Empty() bool {
	return p == nil || len(p.BuilderIDs)+len(p.BuildTypes)+len(p.SourceRepos)+len(p.SourceRefs)+
		len(p.SourceDigests)+len(p.ExternalParameters) == 0
}

// Result is one policy check.
type Result struct {
	Name    string
	OK      bool
	Message string
}

// Check runs every check the policy asks for and returns each outcome; the
// error joins the failures (each matching ErrPolicy).
func (p *Policy) Check(prov *Provenance) ([]Result, error) {
	var out []Result
	var errs []error
	add := func(name string, ok bool, msg string) {
		out = append(out, Result{Name: name, OK: ok, Message: msg})
		if !ok {
			errs = append(errs, fmt.Errorf("%w: %s: %s", ErrPolicy, name, msg))
		}
	}
	if len(p.BuilderIDs) > 0 {
		add("slsa.builder.id", slices.Contains(p.BuilderIDs, prov.BuilderID),
			fmt.Sprintf("builder.id %q; allowed %q", prov.BuilderID, p.BuilderIDs))
	}
	if len(p.BuildTypes) > 0 {
		add("slsa.buildType", slices.Contains(p.BuildTypes, prov.BuildType),
			fmt.Sprintf("buildType %q; allowed %q", prov.BuildType, p.BuildTypes))
	}
	if len(p.SourceRepos)+len(p.SourceRefs)+len(p.SourceDigests) > 0 {
		ok, msg := p.sourceMatches(prov.Sources)
		add("slsa.source", ok, msg)
	}
	keys := make([]string, 0, len(p.ExternalParameters))
	for k := range p.ExternalParameters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		want := p.ExternalParameters[k]
		got, found := lookup(prov.ExternalParameters, k)
		ok := found && jsonEqual(got, want)
		add("slsa.externalParameters."+k, ok, fmt.Sprintf("value %s; required %s", show(got, found), show(want, true)))
	}
	return out, errors.Join(errs...)
}

func (p *Policy) sourceMatches(sources []Source) (bool, string) {
	repos := make([]string, len(p.SourceRepos))
	for i, r := range p.SourceRepos {
		repos[i] = NormalizeRepo(r)
	}
	for _, s := range sources {
		if len(repos) > 0 && !slices.Contains(repos, s.Repo) {
			continue
		}
		if len(p.SourceRefs) > 0 && !slices.Contains(p.SourceRefs, s.Ref) {
			continue
		}
		if len(p.SourceDigests) > 0 && !digestIn(s.Digest, p.SourceDigests) {
			continue
		}
		return true, fmt.Sprintf("source %s matches", s.URI)
	}
	var seen []string
	for _, s := range sources {
		seen = append(seen, s.URI)
	}
	if len(seen) == 0 {
		return false, "the provenance names no source"
	}
	return false, fmt.Sprintf("no source matches repos %q refs %q digests %q; found %q", p.SourceRepos, p.SourceRefs, p.SourceDigests, seen)
}

func digestIn(set map[string]string, allowed []string) bool {
	for alg, v := range set {
		if slices.Contains(allowed, alg+":"+v) {
			return true
		}
	}
	return false
}

// lookup follows a dotted path through nested objects.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// jsonEqual compares two values by their JSON meaning, so that a policy
// read from YAML and a predicate read from JSON compare alike.
func jsonEqual(a, b any) bool {
	na, ea := normalize(a)
	nb, eb := normalize(b)
	return ea == nil && eb == nil && reflect.DeepEqual(na, nb)
}

func normalize(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	err = d.Decode(&out)
	return out, err
}

func show(v any, found bool) string {
	if !found {
		return "(absent)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
