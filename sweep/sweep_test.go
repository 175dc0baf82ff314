//go:build !js

package sweep

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/registry"
	"github.com/imgproof/imgproof/verify"
)

func TestShardsCoverTheCatalogOnceWithSingleVerdicts(t *testing.T) {
	f := newFleet(t)
	single := f.singleVerdicts(t)
	const n = 3
	seen := map[string]Shard{}
	var totalRead int64
	var outs []Output
	for i := range n {
		shard := Shard{Index: i, Count: n}
		refs, _, err := ListCatalog(context.Background(), f.host, shard, limits.Default(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		sum, err := Run(context.Background(), refs, &Config{Shard: shard, Listed: len(fleetRepos)}, &out)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, Output{Name: fmt.Sprintf("shard-%d", i), R: bytes.NewReader(bytes.Clone(out.Bytes()))})
		p := parseOutput(t, out.Bytes())
		var mine []string
		for ref, rep := range p.reports {
			if prev, dup := seen[ref]; dup {
				t.Errorf("%s swept by shards %s and %s", ref, prev, shard)
			}
			seen[ref] = shard
			mine = append(mine, ref)
			want := single[ref]
			if want == nil {
				t.Errorf("%s is not in the fleet", ref)
				continue
			}
			if rep.Verdict != want.Verdict || rep.Checks != want.Checks || !slices.Equal(findingCodes(rep), findingCodes(want)) {
				t.Errorf("%s: sweep %s (%d checks, %v), single verify %s (%d checks, %v)", ref, rep.Verdict, rep.Checks,
					findingCodes(rep), want.Verdict, want.Checks, findingCodes(want))
			}
		}
		// Every tag of a repository is on one shard.
		for _, ref := range mine {
			repo := ref[:strings.LastIndex(ref, ":")]
			for _, other := range f.refs {
				if strings.HasPrefix(other, repo+":") && !slices.Contains(mine, other) {
					t.Errorf("%s is on shard %s but %s is not", ref, shard, other)
				}
			}
		}
		if got, want := sum.Blobs.Read, int64(f.uniqueRepoLayers(mine)); got != want {
			t.Errorf("shard %s read %d blobs, want %d (its repositories' unique layers)", shard, got, want)
		}
		totalRead += sum.Blobs.Read
		if sum.ExitCode() != 0 {
			t.Errorf("shard %s: exit %d, want 0", shard, sum.ExitCode())
		}
	}
	if len(seen) != len(f.refs) {
		t.Errorf("the shards swept %d images, the catalog holds %d", len(seen), len(f.refs))
	}
	m, failures, err := Merge(outs)
	if err != nil {
		t.Fatal(err)
	}
	if m.Images != len(f.refs) || m.Verdicts[verify.Verified] != len(f.refs) || m.Verdict != verify.Verified || len(m.Shards) != n {
		t.Errorf("merge: %d images, %v, %s, shards %v, problems %v", m.Images, m.Verdicts, m.Verdict, m.Shards, m.Problems)
	}
	if m.Blobs.Read != totalRead || m.DedupFactor <= 1 {
		t.Errorf("merge: %d blobs read (shards %d), dedup %.2f", m.Blobs.Read, totalRead, m.DedupFactor)
	}
	// A merge that lacks a shard is UNVERIFIABLE.
	for _, o := range outs {
		o.R.(*bytes.Reader).Seek(0, 0)
	}
	if len(failures) != 0 {
		t.Errorf("merge lists %d failures of a fleet that verifies", len(failures))
	}
	m, _, err = Merge(outs[:n-1])
	if err != nil {
		t.Fatal(err)
	}
	if m.Verdict != verify.Unverifiable || !slices.ContainsFunc(m.Problems, func(s string) bool { return strings.Contains(s, "missing") }) {
		t.Errorf("merge without the last shard: %s, %v", m.Verdict, m.Problems)
	}
}

// TestEachBlobIsReadOnce: by default each blob is read once per
// repository that names it; with ScopeRegistry once per registry.
func TestEachBlobIsReadOnce(t *testing.T) {
	f := newFleet(t)
	layerUses := 0
	for _, r := range f.refs {
		layerUses += len(f.layers[r])
	}
	for _, c := range []struct {
		scope  string
		unique int
	}{
		{"", f.uniqueRepoLayers(f.refs)},
		{ScopeRegistry, f.uniqueLayers(f.refs)},
	} {
		before := f.blobGets.Load()
		var out bytes.Buffer
		sum, err := Run(context.Background(), f.refs, &Config{Concurrency: 6, Scope: c.scope}, &out)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Blobs.Read != int64(c.unique) || sum.Blobs.Used != int64(layerUses) {
			t.Errorf("scope %q: read %d of %d blob uses, want %d of %d", c.scope, sum.Blobs.Read, sum.Blobs.Used, c.unique, layerUses)
		}
		// Layers once each, configs once per image: nothing else is fetched.
		if got, want := f.blobGets.Load()-before, int64(c.unique+len(f.refs)); got != want {
			t.Errorf("scope %q: %d blob GETs, want %d (%d unique layers + %d configs)", c.scope, got, want, c.unique, len(f.refs))
		}
		if sum.DedupFactor < 1.5 || sum.Verdict != verify.Verified {
			t.Errorf("scope %q: dedup %.2f, verdict %s", c.scope, sum.DedupFactor, sum.Verdict)
		}
	}
	if f.uniqueRepoLayers(f.refs) <= f.uniqueLayers(f.refs) {
		t.Fatalf("the fleet shares no layer between repositories, so the scopes are not told apart")
	}
}

func TestTamperedSharedBlobFailsEveryImageUsingIt(t *testing.T) {
	f := newFleet(t)
	// The group layer of team/*: shared by 12 images in 3 repositories.
	bad := f.layers[f.host+"/team/api:v0"][2]
	f.tamper.Store(bad)
	single := f.singleVerdicts(t)
	for _, lim := range []int{limits.Default().SweepBlobs, 1} {
		t.Run(fmt.Sprintf("sweep-blobs=%d", lim), func(t *testing.T) {
			l := limits.Default()
			l.SweepBlobs = lim
			var out bytes.Buffer
			sum, err := Run(context.Background(), f.refs, &Config{Verify: verify.Options{Limits: &l}, Concurrency: 3}, &out)
			if err != nil {
				t.Fatal(err)
			}
			p := parseOutput(t, out.Bytes())
			failed := 0
			for _, ref := range f.refs {
				rep := p.reports[ref]
				uses := slices.Contains(f.layers[ref], bad)
				want := verify.Verified
				if uses {
					want = verify.Failed
					failed++
				}
				if rep == nil {
					t.Errorf("%s: no report", ref)
					continue
				}
				if rep.Verdict != want || single[ref].Verdict != want {
					t.Errorf("%s (uses the tampered blob: %v): sweep %s, single verify %s, want %s", ref, uses, rep.Verdict, single[ref].Verdict, want)
					continue
				}
				if uses && !slices.Contains(findingCodes(rep), string(verify.CodeDigestMismatch)) {
					t.Errorf("%s: findings %v, want %s", ref, findingCodes(rep), verify.CodeDigestMismatch)
				}
			}
			if failed != 3*fleetTags || sum.Verdicts[verify.Failed] != failed || sum.ExitCode() != 1 {
				t.Errorf("%d images use the tampered blob; summary %v, exit %d", failed, sum.Verdicts, sum.ExitCode())
			}
			if lim == 1 && sum.Blobs.Evicted == 0 {
				t.Error("a one-entry cache evicted nothing")
			}
			checkSARIF(t, out.Bytes(), failed)
		})
	}
}

// A finding of the fetch layer (here a Docker-Content-Digest header that
// names another digest) is not in the blob's evidence: the blob is then
// not shared, and every image that names it gets the finding itself.
func TestFetchFindingIsNotShared(t *testing.T) {
	f := newFleet(t)
	bad := f.layers[f.host+"/base/alpine:v0"][0] // in every image
	f.badHeader.Store(bad)
	single := f.singleVerdicts(t)
	var out bytes.Buffer
	sum, err := Run(context.Background(), f.refs, &Config{Concurrency: 4}, &out)
	if err != nil {
		t.Fatal(err)
	}
	p := parseOutput(t, out.Bytes())
	for _, ref := range f.refs {
		if single[ref].Verdict != verify.Failed || p.reports[ref] == nil || p.reports[ref].Verdict != verify.Failed {
			t.Errorf("%s: single verify %s, sweep %v, want FAILED for both", ref, single[ref].Verdict, p.reports[ref] != nil && p.reports[ref].Verdict == verify.Failed)
		}
	}
	if sum.Verdicts[verify.Failed] != len(f.refs) {
		t.Errorf("summary %v, want all %d FAILED", sum.Verdicts, len(f.refs))
	}
}

// checkSARIF merges one sweep output and checks its SARIF: an error
// result naming E_DIGEST_MISMATCH for each of the failed images.
func checkSARIF(t *testing.T, out []byte, failed int) {
	t.Helper()
	m, failures, err := Merge([]Output{{Name: "out", R: bytes.NewReader(out)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(failures) != failed || m.Verdict != verify.Failed {
		t.Fatalf("merge: %d failures, verdict %s; want %d, FAILED", len(failures), m.Verdict, failed)
	}
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, m, failures); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string
		Runs    []struct {
			Results []struct {
				RuleID, Level string
				Locations     []struct {
					LogicalLocations []struct{ Name string }
				}
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for _, r := range log.Runs[0].Results {
		if r.RuleID == string(verify.CodeDigestMismatch) && r.Level == "error" && len(r.Locations) == 1 {
			refs[r.Locations[0].LogicalLocations[0].Name] = true
		}
	}
	if log.Version != "2.1.0" || len(refs) != failed {
		t.Errorf("SARIF %s names %d images with an error %s result, want %d", log.Version, len(refs), verify.CodeDigestMismatch, failed)
	}
}

func TestStateSkipsVerifiedImages(t *testing.T) {
	f := newFleet(t)
	dir := t.TempDir()
	bad := f.layers[f.host+"/tools/ci:v1"][3] // that image's own layer
	f.tamper.Store(bad)
	cfg := Config{StateDir: dir, OptionsKey: []byte("options A")}
	run := func(cfg Config) parsed {
		var out bytes.Buffer
		if _, err := Run(context.Background(), f.refs, &cfg, &out); err != nil {
			t.Fatal(err)
		}
		return parseOutput(t, out.Bytes())
	}
	first := run(cfg)
	if len(first.skips) != 0 || first.summary.Verdicts[verify.Failed] != 1 {
		t.Fatalf("first run: %d skipped, %v", len(first.skips), first.summary.Verdicts)
	}
	for ref, rep := range first.reports {
		if !strings.Contains(rep.Source.Reference, "@sha256:") {
			t.Errorf("%s was not verified pinned to the digest it resolved to (%q)", ref, rep.Source.Reference)
		}
	}
	second := run(cfg)
	if len(second.skips) != len(f.refs)-1 || len(second.reports) != 1 || second.summary.Skipped != len(f.refs)-1 {
		t.Errorf("second run: %d skipped, %d verified, want %d and 1 (the FAILED one)", len(second.skips), len(second.reports), len(f.refs)-1)
	}
	if rep := second.reports[f.host+"/tools/ci:v1"]; rep == nil || rep.Verdict != verify.Failed {
		t.Errorf("the FAILED image was not verified again: %v", rep)
	}
	if second.summary.ExitCode() != 1 {
		t.Errorf("second run exit %d, want 1", second.summary.ExitCode())
	}
	cfg.OptionsKey = []byte("options B")
	if third := run(cfg); len(third.skips) != 0 {
		t.Errorf("other options skipped %d images", len(third.skips))
	}
}

func TestExitCodes(t *testing.T) {
	f := newFleet(t)
	cases := []struct {
		name string
		refs []string
		cfg  Config
		want int
	}{
		{"all verified", f.refs[:3], Config{}, 0},
		{"a missing image", []string{f.refs[0], f.host + "/nothing/here:v0"}, Config{}, 2},
		{"nothing listed", nil, Config{}, 2},
		{"an empty shard of a listing", nil, Config{Listed: 5}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sum, err := Run(context.Background(), c.refs, &c.cfg, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if sum.ExitCode() != c.want {
				t.Errorf("exit %d (%s, %v, %v), want %d", sum.ExitCode(), sum.Verdict, sum.Verdicts, sum.Problems, c.want)
			}
		})
	}
	if _, err := Run(context.Background(), []string{"Not A Reference!"}, &Config{}, &bytes.Buffer{}); err == nil {
		t.Error("an invalid reference was accepted")
	}
	l := limits.Default()
	l.SweepReferences = 2
	if _, err := Run(context.Background(), f.refs[:3], &Config{Verify: verify.Options{Limits: &l}}, &bytes.Buffer{}); err == nil ||
		!strings.Contains(err.Error(), string(limits.SweepReferences)) {
		t.Errorf("3 references past sweep-references=2: %v", err)
	}
	if _, err := ReadList(strings.NewReader("a\nb\n# c\n\nd\n"), l); err == nil {
		t.Error("ReadList read 3 references past sweep-references=2")
	}
	l = limits.Default()
	l.SweepReference = 16
	long := "registry.example/" + strings.Repeat("a", 16) + ":v1\n"
	var le *limits.Error
	if _, err := ReadList(strings.NewReader("a\n"+long), l); !errors.As(err, &le) || le.Kind != limits.SweepReference {
		t.Errorf("a 37-byte line past sweep-reference-bytes=16: %v", err)
	}
	if refs, err := ReadList(strings.NewReader("a\n"+long), limits.Default()); err != nil || len(refs) != 2 {
		t.Errorf("default limits: %v %v", refs, err)
	}
}

func TestParseShard(t *testing.T) {
	cases := []struct {
		in, env string
		want    Shard
		ok      bool
	}{
		{"0/3", "", Shard{0, 3}, true},
		{"/4", "2", Shard{2, 4}, true},
		{"/4", "", Shard{}, false},
		{"3/3", "", Shard{}, false},
		{"-1/3", "", Shard{}, false},
		{"1/0", "", Shard{}, false},
		{"1", "", Shard{}, false},
	}
	for _, c := range cases {
		got, err := ParseShard(c.in, c.env)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseShard(%q, %q) = %v, %v", c.in, c.env, got, err)
		}
	}
	// A repository is on exactly one of two shards.
	if (Shard{1, 2}).Owns("r.example/team/api") == (Shard{0, 2}).Owns("r.example/team/api") {
		t.Error("a repository is on both or neither of two shards")
	}
}

// One trust applies to every image: a key none of them is signed by
// leaves each UNVERIFIABLE (E_UNSIGNED), never VERIFIED.
func TestTrustAppliesToEveryImage(t *testing.T) {
	f := newFleet(t)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.New(priv.Public(), "stranger")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sum, err := Run(context.Background(), f.refs, &Config{Concurrency: 2, Trust: &attest.Options{Keys: []*keys.Key{k}}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	p := parseOutput(t, out.Bytes())
	for _, ref := range f.refs {
		if r := p.reports[ref]; r == nil || r.Verdict != verify.Unverifiable || !r.Has(attest.CodeUnsigned) {
			t.Errorf("%s: %+v, want UNVERIFIABLE with %s", ref, r, attest.CodeUnsigned)
		}
	}
	if sum.Verdicts[verify.Unverifiable] != len(f.refs) {
		t.Errorf("summary %v, want all %d UNVERIFIABLE", sum.Verdicts, len(f.refs))
	}
}

// An image index shares its platform images' base layers with the fleet;
// with and without --platform, the sweep gives the verdict and checks of a
// single verify.
func TestIndexAndPlatform(t *testing.T) {
	f := newFleet(t)
	b := fixtures.MustBuild(fixtures.MultiPlatform())
	ref := f.host + "/multi/app:1"
	f.pushIndex(t, b, ref)
	refs := append([]string{ref}, f.refs[:4]...)
	for _, p := range []*verify.Platform{nil, {OS: "linux", Architecture: "arm64", Variant: "v8"}} {
		opts := verify.Options{Platform: p}
		var out bytes.Buffer
		if _, err := Run(context.Background(), refs, &Config{Verify: opts}, &out); err != nil {
			t.Fatal(err)
		}
		reports := parseOutput(t, out.Bytes()).reports
		got := reports[ref]
		single, err := registry.Verify(context.Background(), ref, &opts, &registry.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := single.Report
		if got == nil || got.Verdict != verify.Verified || got.Verdict != want.Verdict || got.Checks != want.Checks || len(got.Images) != len(want.Images) {
			t.Errorf("platform %v: sweep %v, single %s (%d checks, %d images)", p, got != nil && got.Verdict == verify.Verified, want.Verdict, want.Checks, len(want.Images))
		}
		// The single-platform images have no arm64 image: UNVERIFIABLE
		// with the platform, in the sweep as alone.
		for _, r := range refs[1:] {
			alone, err := registry.Verify(context.Background(), r, &opts, &registry.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if reports[r] == nil || reports[r].Verdict != alone.Report.Verdict || !slices.Equal(findingCodes(reports[r]), findingCodes(alone.Report)) {
				t.Errorf("platform %v, %s: sweep %v, alone %s %v", p, r, reports[r] != nil && reports[r].Verdict == alone.Report.Verdict, alone.Report.Verdict, findingCodes(alone.Report))
			}
		}
	}
}
