package verify_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"hash"
	"sync/atomic"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// The stages after the content run in order and once, and the verdict is
// drawn after the last: the transport's findings, then the claims, then
// Finalize.
func TestStagesBeforeTheVerdict(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	var order []string
	opts := &verify.Options{
		Amend: func(r *verify.Report) {
			order = append(order, "amend")
			r.Add(verify.Finding{Code: verify.CodeUnverifiedMetadata, Path: "transport", Message: "a note from the transport"})
		},
		Claims: func(_ context.Context, res *verify.Result) {
			order = append(order, "claims")
			r := res.Report
			if r.Verdict != "" || !r.Has(verify.CodeUnverifiedMetadata) || r.Outcome() != verify.Verified {
				t.Errorf("claims stage sees verdict %q, outcome %s, findings %+v; want no verdict yet, after the transport's note", r.Verdict, r.Outcome(), r.Findings)
			}
			r.Add(verify.Finding{Code: verify.CodeDigestMismatch, Path: "claim", Message: "a claim that fails"})
		},
	}
	r := verify.Dir(context.Background(), b.LayoutFS(), "layout", opts).Report
	if len(order) != 2 || order[0] != "amend" || order[1] != "claims" {
		t.Fatalf("stages ran as %v, want [amend claims]", order)
	}
	if r.Verdict != verify.Failed || r.Schema != verify.SchemaVersion {
		t.Fatalf("verdict %s, schema %q: the claim's error must decide it", r.Verdict, r.Schema)
	}
}

// Checks added by the claims never make a source in which nothing was
// verified VERIFIED, and its E_NOTHING_VERIFIED comes before what the
// claims found, once.
func TestClaimsDoNotVerifyNothing(t *testing.T) {
	empty := fixtures.MustBuild(fixtures.Default()).WithIndexJSON(func(idx map[string]any) { idx["manifests"] = []any{} })
	r := verify.Dir(context.Background(), empty.LayoutFS(), "layout", &verify.Options{
		Claims: func(_ context.Context, res *verify.Result) {
			res.Report.Pass()
			res.Report.Add(verify.Finding{Code: verify.CodeUnverifiedMetadata, Path: "claim", Message: "a claim's note"})
		},
	}).Report
	n := 0
	for _, f := range r.Findings {
		if f.Code == verify.CodeNothingVerified {
			n++
		}
	}
	last := r.Findings[len(r.Findings)-1]
	if r.Verdict != verify.Unverifiable || n != 1 || last.Path != "claim" {
		t.Fatalf("verdict %s, %d %s, last finding %+v; want UNVERIFIABLE, one, then the claim's", r.Verdict, n, verify.CodeNothingVerified, last)
	}
}

// A panic in a stage is a bug: E_INTERNAL and FAILED, never a pass.
func TestStagePanicFails(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	r := verify.Dir(context.Background(), b.LayoutFS(), "layout", &verify.Options{
		Claims: func(context.Context, *verify.Result) { panic("bug") },
	}).Report
	if r.Verdict != verify.Failed || !r.Has(verify.CodeInternal) {
		t.Fatalf("verdict %s, findings %+v; want FAILED with %s", r.Verdict, r.Findings, verify.CodeInternal)
	}
}

// brokenHash is a SHA-256 engine whose writes fail, and counts them.
type brokenHash struct {
	hash.Hash
	writes *atomic.Int64
}

func (h brokenHash) Write([]byte) (int, error) {
	h.writes.Add(1)
	return 0, errors.New("engine broke")
}

// A run that an engine failed is done again with the built-in code; the
// stages after the content run once, on the run that stands.
func TestStagesRunOnceAfterEngineFailure(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	amends, claims := 0, 0
	var writes atomic.Int64
	opts := &verify.Options{
		Engines: &verify.Engines{SHA256: func() hash.Hash { return brokenHash{sha256.New(), &writes} }},
		Amend:   func(*verify.Report) { amends++ },
		Claims:  func(context.Context, *verify.Result) { claims++ },
	}
	r := verify.Dir(context.Background(), b.LayoutFS(), "layout", opts).Report
	if writes.Load() == 0 {
		t.Fatal("the engine was never used")
	}
	if amends != 1 || claims != 1 || r.Verdict != verify.Verified {
		t.Fatalf("Amend ran %d times, Claims %d, verdict %s; want once each and VERIFIED by the built-in code", amends, claims, r.Verdict)
	}
}
