package slsa_test

import (
	"errors"
	"testing"

	"github.com/imgproof/imgproof/attest/slsa"
)

// v1GitHub is shaped like slsa-github-generator's v1 provenance.
const v1GitHub = `{
 "buildDefinition": {
  "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
  "externalParameters": {"workflow": {"ref": "refs/tags/v1.2.3", "repository": "https://github.com/org/app", "path": ".github/workflows/release.yml"}, "inputs": {"level": 3}},
  "internalParameters": {"github": {"event_name": "push"}},
  "resolvedDependencies": [{"uri": "git+https://github.com/org/app@refs/tags/v1.2.3", "digest": {"gitCommit": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"}}]
 },
 "runDetails": {"builder": {"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0"}, "metadata": {"invocationId": "1"}}
}`

// v02GitHub is shaped like slsa-github-generator's v0.2 provenance.
const v02GitHub = `{
 "builder": {"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v1.9.0"},
 "buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
 "invocation": {"configSource": {"uri": "git+https://github.com/org/app@refs/heads/main", "digest": {"sha1": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"}, "entryPoint": ".github/workflows/release.yml"},
  "parameters": {"event": "push"}},
 "materials": [{"uri": "git+https://github.com/org/app@refs/heads/main", "digest": {"sha1": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"}}]
}`

func TestParse(t *testing.T) {
	p, err := slsa.Parse(slsa.PredicateV1, []byte(v1GitHub), 100)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "v1" || p.BuildType != "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1" ||
		len(p.Sources) != 2 || p.Sources[0].Repo != "https://github.com/org/app" || p.Sources[1].Ref != "refs/tags/v1.2.3" {
		t.Fatalf("v1: %+v", p)
	}
	q, err := slsa.Parse(slsa.PredicateV02, []byte(v02GitHub), 100)
	if err != nil {
		t.Fatal(err)
	}
	if q.Version != "v0.2" || len(q.Sources) != 2 || q.Sources[0].Ref != "refs/heads/main" || q.Sources[0].Digest["sha1"] == "" {
		t.Fatalf("v0.2: %+v", q)
	}
	// The two versions are not interchangeable: a v0.2 document read as v1
	// finds no builder.
	if r, err := slsa.Parse(slsa.PredicateV1, []byte(v02GitHub), 100); err == nil && r.BuilderID != "" {
		t.Fatalf("v0.2 read as v1 found builder %q", r.BuilderID)
	}
	for name, doc := range map[string]string{
		"duplicate builder": `{"runDetails":{"builder":{"id":"a","id":"b"}}}`,
		"aliased builder":   `{"runDetails":{"Builder":{"id":"a"}}}`,
		"not json":          `{`,
	} {
		if _, err := slsa.Parse(slsa.PredicateV1, []byte(doc), 100); !errors.Is(err, slsa.ErrPredicate) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := slsa.Parse("https://spdx.dev/Document", []byte(`{}`), 100); err == nil {
		t.Error("SPDX parsed as provenance")
	}
}

func TestPolicy(t *testing.T) {
	v1, _ := slsa.Parse(slsa.PredicateV1, []byte(v1GitHub), 100)
	v02, _ := slsa.Parse(slsa.PredicateV02, []byte(v02GitHub), 100)
	gen := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0"
	tests := []struct {
		name string
		prov *slsa.Provenance
		pol  slsa.Policy
		ok   bool
	}{
		{"builder", v1, slsa.Policy{BuilderIDs: []string{gen}}, true},
		{"builder prefix is not a match", v1, slsa.Policy{BuilderIDs: []string{gen[:len(gen)-7]}}, false},
		{"repo ref digest on one source", v1, slsa.Policy{SourceRepos: []string{"git+https://github.com/org/app.git"}, SourceRefs: []string{"refs/tags/v1.2.3"},
			SourceDigests: []string{"gitCommit:a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"}}, true},
		{"wrong ref", v1, slsa.Policy{SourceRepos: []string{"https://github.com/org/app"}, SourceRefs: []string{"refs/heads/main"}}, false},
		{"wrong repo", v1, slsa.Policy{SourceRepos: []string{"https://github.com/evil/app"}}, false},
		{"repo prefix", v1, slsa.Policy{SourceRepos: []string{"https://github.com/org/ap"}}, false},
		{"external parameter", v1, slsa.Policy{ExternalParameters: map[string]any{"workflow.path": ".github/workflows/release.yml", "inputs.level": 3}}, true},
		{"external parameter differs", v1, slsa.Policy{ExternalParameters: map[string]any{"inputs.level": "3"}}, false},
		{"external parameter absent", v1, slsa.Policy{ExternalParameters: map[string]any{"inputs.other": nil}}, false},
		{"build type", v02, slsa.Policy{BuildTypes: []string{"https://github.com/slsa-framework/slsa-github-generator/container@v1"}}, true},
		{"v0.2 materials digest", v02, slsa.Policy{SourceRepos: []string{"https://github.com/org/app"}, SourceDigests: []string{"sha1:a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"}}, true},
		{"v0.2 parameters", v02, slsa.Policy{ExternalParameters: map[string]any{"event": "pull_request"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.pol.Check(tc.prov)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v; %+v", err, tc.ok, res)
			}
			if err != nil && !errors.Is(err, slsa.ErrPolicy) {
				t.Fatalf("error does not match ErrPolicy: %v", err)
			}
			if len(res) == 0 {
				t.Fatal("no checks reported")
			}
		})
	}
}
