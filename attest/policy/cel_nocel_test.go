//go:build nocel

package policy

import (
	"errors"
	"os"
	"testing"
)

// Without the CEL engine, a policy with a rule is refused, never passed.
func TestNoCELRefusesRules(t *testing.T) {
	if _, err := CompileRule("r", "true"); !errors.Is(err, ErrNoCEL) {
		t.Fatalf("CompileRule: %v, want ErrNoCEL", err)
	}
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(data); !errors.Is(err, ErrNoCEL) {
		t.Fatalf("Parse of a policy with a rule: %v, want ErrNoCEL", err)
	}
}
