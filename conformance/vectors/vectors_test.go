package vectors_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgproof/imgproof/conformance"
	"github.com/imgproof/imgproof/conformance/vectors"
)

const corpus = "corpus"

type index struct {
	Vectors []vectors.Vector `json:"vectors"`
}

func load(t *testing.T) []vectors.Vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpus, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Vectors) == 0 {
		t.Fatal("vectors.json lists no vector")
	}
	return idx.Vectors
}

// TestCorpusIsGenerated checks that the committed corpus is exactly what
// the generator makes, so the generator stays deterministic and the files
// are not edited by hand.
func TestCorpusIsGenerated(t *testing.T) {
	vs, err := vectors.Generate()
	if err != nil {
		t.Fatal(err)
	}
	want, err := vectors.Manifest(vs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(corpus, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("vectors.json differs from the generator's output; run go run ./conformance/vectors/gen")
	}
	again, _ := vectors.Generate()
	for i, v := range vs {
		data, err := os.ReadFile(filepath.Join(corpus, v.File))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, v.Data()) {
			t.Errorf("%s differs from the generator's output", v.File)
		}
		if !bytes.Equal(again[i].Data(), v.Data()) {
			t.Errorf("%s: two generator runs differ", v.Name)
		}
	}
}

// TestCorpus runs the checker on every vector: a broken vector must fail
// the rule it declares, a valid one must fail no MUST rule.
func TestCorpus(t *testing.T) {
	for _, v := range load(t) {
		t.Run(v.Name, func(t *testing.T) {
			if v.Rule != "" {
				if _, ok := conformance.Lookup(v.Rule); !ok {
					t.Fatalf("vector names unknown rule %s", v.Rule)
				}
			}
			f, err := os.Open(filepath.Join(corpus, v.File))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			rep := conformance.CheckArchive(context.Background(), f, st.Size(), v.File, nil)
			failed := map[string]bool{}
			for _, r := range rep.Results {
				if r.Status == conformance.Fail {
					failed[r.Rule] = true
				}
			}
			switch v.Expect {
			case "fail":
				if !failed[v.Rule] {
					t.Errorf("%s: rule %s did not fail; failed: %v", v.Description, v.Rule, rep.FailedRules())
				}
			case "pass":
				for _, r := range rep.Results {
					if r.Status == conformance.Fail && r.Level == conformance.Must {
						t.Errorf("valid image fails %s at %s: %s", r.Rule, r.Path, r.Message)
					}
				}
				if rep.Summary.Passed == 0 {
					t.Error("no rule passed on a valid image")
				}
			default:
				t.Fatalf("bad expect %q", v.Expect)
			}
		})
	}
}
