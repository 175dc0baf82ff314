package vectors_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/imgproof/imgproof/conformance"
	"github.com/imgproof/imgproof/verify"
)

// knownBroken lists third-party outputs that break a MUST rule, with the
// rule: skopeo 1.9 labels uncompressed layers tar+gzip when it converts a
// docker archive to OCI, a crane push keeps a zstd layer labelled gzip, and
// skopeo 1.9 leaves a stale diff_id when it rewrites a layer as zstd:chunked
// (a diff_id of other content, OCI-CFG-010's defect; not a layer out of
// stack order, which would be OCI-MAN-010's).
var knownBroken = map[string][]string{
	"skopeo-mislabelled":       {"OCI-LAYER-003"},
	"crane-pushed-mislabelled": {"OCI-LAYER-003"},
	"skopeo-zstd-chunked":      {"OCI-CFG-010"},
}

// verifierOverstrict lists valid images the verifier rejects: GNU tar
// writes a "./" root entry, which E_ARCHIVE_UNSAFE_PATH flags.
var verifierOverstrict = map[string]bool{"gnutar-dot-oci-archive.tar": true}

// TestThirdPartyImages checks the images that fixtures/thirdparty/build.sh
// makes with umoci, skopeo and crane: an image the verifier accepts may fail
// no MUST rule; one it rejects, and the known defects above, must fail one. It runs when
// IMGPROOF_THIRDPARTY_DIR names the script's output (make conformance-thirdparty).
func TestThirdPartyImages(t *testing.T) {
	dir := os.Getenv("IMGPROOF_THIRDPARTY_DIR")
	if dir == "" {
		t.Skip("IMGPROOF_THIRDPARTY_DIR is not set")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) < 5 {
		t.Fatalf("only %d third-party images in %s", len(ents), dir)
	}
	for _, e := range ents {
		t.Run(e.Name(), func(t *testing.T) {
			p := filepath.Join(dir, e.Name())
			var rep *conformance.Report
			var verdict verify.Verdict
			if e.IsDir() {
				rep = conformance.CheckFS(context.Background(), os.DirFS(p), e.Name(), nil)
				verdict = verify.Dir(context.Background(), os.DirFS(p), e.Name(), nil).Report.Verdict
			} else {
				f, err := os.Open(p)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				st, _ := f.Stat()
				rep = conformance.CheckArchive(context.Background(), f, st.Size(), e.Name(), nil)
				verdict = verify.Archive(context.Background(), f, st.Size(), e.Name(), nil).Report.Verdict
			}
			// An image the verifier rejects must fail a MUST rule too; the
			// known tool defects must be reported by their rule.
			want, known := knownBroken[e.Name()]
			if (verdict == verify.Failed && !verifierOverstrict[e.Name()]) || known {
				if !rep.Failed(conformance.Must) {
					t.Errorf("verify says %s but no MUST rule fails", verdict)
				}
				for _, id := range want {
					if !slices.Contains(rep.FailedRules(), id) {
						t.Errorf("known defect %s not reported", id)
					}
				}
				return
			}
			if rep.Summary.Passed < 30 {
				t.Errorf("only %d rules passed", rep.Summary.Passed)
			}
			for _, r := range rep.Results {
				if r.Status == conformance.Fail && r.Level == conformance.Must {
					t.Errorf("verify says %s, but conformance fails %s at %s: %s", verdict, r.Rule, r.Path, r.Message)
				}
			}
		})
	}
}
