// Command rulegen writes ruleids_gen.go from catalog.go in the current
// directory; `go generate ./conformance/` runs it.
package main

import (
	"fmt"
	"os"

	"github.com/imgproof/imgproof/conformance/internal/rulegen"
)

func main() {
	src, err := os.ReadFile("catalog.go")
	if err == nil {
		var out []byte
		if out, err = rulegen.Generate(src); err == nil {
			err = os.WriteFile("ruleids_gen.go", out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rulegen:", err)
		os.Exit(1)
	}
}
