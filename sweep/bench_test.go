//go:build !js

package sweep

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"testing"
	"time"

	"github.com/imgproof/imgproof/registry"
	"github.com/imgproof/imgproof/verify"
)

// BenchmarkSweepVersusSingleVerifies verifies the same fleet (24 images in
// 6 repositories, each with two 16 MiB uncompressed base layers shared by all, a layer
// shared by its group and one of its own) twice per iteration: once image
// by image as `imgproof verify` does, once as one sweep per dedup scope
// (repository, the default, and registry). It reports the time ratios
// (single/sweep) and the sweeps' dedup factors, and, when crane
// is installed, the ratio of one `crane validate --remote` loop to a sweep.
//
//	go test -run '^$' -bench SweepVersus ./sweep/
func BenchmarkSweepVersusSingleVerifies(b *testing.B) {
	f := newFleetWith(b, 16<<20)
	ctx := context.Background()
	var single, swept, sweptRegistry time.Duration
	var dedup, dedupRegistry float64
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		for _, ref := range f.refs {
			res, err := registry.Verify(ctx, ref, &verify.Options{}, &registry.Options{})
			if err != nil || res.Report.Verdict != verify.Verified {
				b.Fatalf("%s: %v %v", ref, err, res.Report.Err())
			}
		}
		single += time.Since(start)
		start = time.Now()
		sum, err := Run(ctx, f.refs, &Config{}, io.Discard)
		if err != nil || sum.Verdict != verify.Verified {
			b.Fatalf("sweep: %v %v", err, sum)
		}
		swept += time.Since(start)
		dedup = sum.DedupFactor
		start = time.Now()
		sum, err = Run(ctx, f.refs, &Config{Scope: ScopeRegistry}, io.Discard)
		if err != nil || sum.Verdict != verify.Verified {
			b.Fatalf("sweep, registry scope: %v %v", err, sum)
		}
		sweptRegistry += time.Since(start)
		dedupRegistry = sum.DedupFactor
	}
	// crane validate --remote, one process per image, when crane is
	// installed: the loop a script would run without imgproof. It rejects
	// uncompressed layers ("gzip: invalid header"), so its time is a lower
	// bound of what validating these images would take it.
	if crane, err := exec.LookPath("crane"); err == nil {
		start := time.Now()
		rejected := 0
		for _, ref := range f.refs {
			if err := exec.Command(crane, "validate", "--remote", ref).Run(); err != nil {
				rejected++
			}
		}
		b.ReportMetric(time.Since(start).Seconds()/swept.Seconds()*float64(b.N), "crane/sweep")
		b.ReportMetric(float64(rejected), "crane-rejected")
	}
	b.ReportMetric(float64(single)/float64(swept), "single/sweep")
	b.ReportMetric(dedup, "dedup")
	b.ReportMetric(float64(single)/float64(sweptRegistry), "single/sweep-registry")
	b.ReportMetric(dedupRegistry, "dedup-registry")
	b.ReportMetric(single.Seconds()/float64(b.N), "single-s/op")
	b.ReportMetric(swept.Seconds()/float64(b.N), "sweep-s/op")
}

// TestSweepReadsLessThanSingleVerifies pins the benchmark's premise without
// timing: over the same fleet a sweep fetches a fraction of the blob bytes
// single verifies fetch.
func TestSweepReadsLessThanSingleVerifies(t *testing.T) {
	f := newFleet(t)
	var out bytes.Buffer
	sum, err := Run(context.Background(), f.refs, &Config{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Blobs.BytesUsed <= sum.Blobs.BytesRead || sum.DedupFactor != float64(sum.Blobs.BytesUsed)/float64(sum.Blobs.BytesRead) {
		t.Errorf("used %d bytes, read %d, dedup %.2f", sum.Blobs.BytesUsed, sum.Blobs.BytesRead, sum.DedupFactor)
	}
}
