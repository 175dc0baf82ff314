// Command specvectors extracts the JSON documents of image-spec's schema
// table tests (schema/*_test.go) with their expected validity, and the
// examples of its markdown (fenced json blocks with a media type, which
// image-spec's own tests validate as valid), into
// conformance/testdata/image-spec/vectors.json:
//
//	go run ./conformance/internal/specvectors -spec "$(go list -m -f '{{.Dir}}' github.com/opencontainers/image-spec)"
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Vector is one document of the table tests.
type Vector struct {
	Source   string `json:"source"`   // file:line in image-spec
	Kind     string `json:"kind"`     // manifest, index, config, descriptor, layout
	Comment  string `json:"comment"`  // the case's comment, if any
	Fail     bool   `json:"fail"`     // the schema test expects a failure
	Compat   bool   `json:"compat"`   // a backwards-compatibility case (Docker media types)
	Document string `json:"document"` // the JSON text, verbatim
}

var kinds = map[string]string{"manifest": "manifest", "imageIndex": "index", "config": "config", "descriptor": "descriptor", "imageLayout": "layout"}

func main() {
	spec := flag.String("spec", "", "image-spec module directory")
	out := flag.String("out", "conformance/testdata/image-spec/vectors.json", "output file")
	flag.Parse()
	files, err := filepath.Glob(filepath.Join(*spec, "schema", "*_test.go"))
	if err != nil || len(files) == 0 {
		fmt.Fprintln(os.Stderr, "specvectors: no schema tests under", *spec)
		os.Exit(1)
	}
	sort.Strings(files)
	var vs []Vector
	for _, f := range files {
		fset := token.NewFileSet()
		af, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			fmt.Fprintln(os.Stderr, "specvectors:", err)
			os.Exit(1)
		}
		cmap := ast.NewCommentMap(fset, af, af.Comments)
		ast.Inspect(af, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			v := Vector{Compat: strings.Contains(f, "backwards")}
			found := false
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				key, _ := kv.Key.(*ast.Ident)
				if key == nil {
					continue
				}
				switch val := kv.Value.(type) {
				case *ast.BasicLit:
					if k, ok := kinds[key.Name]; ok && val.Kind == token.STRING {
						s, err := strconv.Unquote(val.Value)
						if err != nil {
							return true
						}
						v.Kind, v.Document, found = k, s, true
					}
				case *ast.Ident:
					if key.Name == "fail" {
						v.Fail = val.Name == "true"
					}
				}
			}
			if !found {
				return true
			}
			pos := fset.Position(lit.Pos())
			v.Source = fmt.Sprintf("schema/%s:%d", filepath.Base(f), pos.Line)
			for _, cg := range cmap[lit] {
				v.Comment = strings.TrimSpace(strings.Join(strings.Fields(cg.Text()), " "))
			}
			vs = append(vs, v)
			return false
		})
	}
	md, err := examples(*spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, "specvectors:", err)
		os.Exit(1)
	}
	vs = append(vs, md...)
	b, err := json.MarshalIndent(vs, "", "  ")
	if err == nil {
		err = os.WriteFile(*out, append(b, '\n'), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "specvectors:", err)
		os.Exit(1)
	}
}

// exampleKinds maps an example's media type to the position it takes.
var exampleKinds = map[string]string{
	"application/vnd.oci.image.manifest.v1+json": "manifest",
	"application/vnd.oci.image.index.v1+json":    "index",
	"application/vnd.oci.image.config.v1+json":   "config",
	"application/vnd.oci.descriptor.v1+json":     "descriptor",
	"application/vnd.oci.layout.header.v1+json":  "layout",
}

// examples returns the fenced examples of the spec's markdown files.
func examples(spec string) ([]Vector, error) {
	files, err := filepath.Glob(filepath.Join(spec, "*.md"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var vs []Vector
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		lines := strings.Split(string(b), "\n")
		for i := 0; i < len(lines); i++ {
			t := strings.TrimLeft(lines[i], " ")
			indent := len(lines[i]) - len(t)
			info, ok := strings.CutPrefix(t, "```json,")
			if !ok {
				continue
			}
			q, err := url.ParseQuery(info)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", f, i+1, err)
			}
			kind := exampleKinds[q.Get("mediatype")]
			var body []string
			j := i + 1
			for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
				l := lines[j]
				if len(l) >= indent && strings.TrimSpace(l[:indent]) == "" {
					l = l[indent:]
				}
				body = append(body, l)
			}
			if kind != "" {
				vs = append(vs, Vector{Source: fmt.Sprintf("%s:%d", filepath.Base(f), i+1), Kind: kind, Comment: "example: " + q.Get("title"),
					Document: strings.Join(body, "\n") + "\n"})
			}
			i = j
		}
	}
	return vs, nil
}
