package conformance

import (
	"bytes"
	"os"
	"testing"

	"github.com/imgproof/imgproof/conformance/internal/rulegen"
)

// TestRuleIDsGenerated fails when catalog.go changed and ruleids_gen.go was
// not regenerated with `go generate ./conformance/`.
func TestRuleIDsGenerated(t *testing.T) {
	src, err := os.ReadFile("catalog.go")
	if err != nil {
		t.Fatal(err)
	}
	want, err := rulegen.Generate(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("ruleids_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("ruleids_gen.go is out of date: run go generate ./conformance/")
	}
}

func TestRuleIDsMatchCatalog(t *testing.T) {
	if got, want := len(ruleNames)-1, len(catalog); got != want {
		t.Fatalf("%d generated rule IDs, %d catalog rules", got, want)
	}
	for i := range catalog {
		id := ruleID(i + 1)
		if id.String() != catalog[i].ID || id.rule() != &catalog[i] {
			t.Errorf("rule ID %d is %q, catalog entry %d is %q", id, id.String(), i, catalog[i].ID)
		}
	}
}
