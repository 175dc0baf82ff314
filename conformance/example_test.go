package conformance_test

import (
	"context"
	"fmt"

	"github.com/imgproof/imgproof/conformance"
	"github.com/imgproof/imgproof/fixtures"
)

// Check an OCI layout whose config claims a diff_id that its layer does not
// have: the rule that fails names the spec clause it enforces.
func Example() {
	b := fixtures.MustBuild(fixtures.Default())
	img := b.Expected.Images[0]
	broken := b.WithDiffID(0, 1, img.DiffIDs[0])

	rep := conformance.CheckFS(context.Background(), broken.LayoutFS(), "layout", nil)
	for _, r := range rep.Filter(conformance.Must).Results {
		if r.Status == conformance.Fail && r.Rule == "OCI-CFG-010" {
			fmt.Println(r.Rule, r.Level, r.Spec)
		}
	}
	fmt.Println("MUST rules failed:", rep.Failed(conformance.Must))
	// Output:
	// OCI-CFG-010 MUST image-spec v1.1.1 config.md §Layer DiffID
	// MUST rules failed: true
}
