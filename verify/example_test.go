package verify_test

import (
	"context"
	"fmt"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// Verify an OCI image layout held in any fs.FS (os.DirFS, an embedded FS,
// or a browser folder).
func ExampleDir() {
	layout := fixtures.MustBuild(fixtures.Default()).LayoutFS()
	res := verify.Dir(context.Background(), layout, "example", nil)
	fmt.Println(res.Report.Verdict, len(res.Report.Images), "image,", len(res.Report.Images[0].Layers), "layers")
	// Output: VERIFIED 1 image, 3 layers
}
