// Command gen writes the conformance corpus: one file per vector and
// vectors.json, which declares each vector's rule and expected outcome.
//
//	go run ./conformance/vectors/gen -out conformance/vectors/corpus
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/imgproof/imgproof/conformance/vectors"
)

func main() {
	out := flag.String("out", "conformance/vectors/corpus", "output directory")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	vs, err := vectors.Generate()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, v := range vs {
		if err := os.WriteFile(filepath.Join(out, v.File), v.Data(), 0o644); err != nil {
			return err
		}
	}
	idx, err := vectors.Manifest(vs)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "vectors.json"), idx, 0o644)
}
