//go:build !js

// Command coverage measures the rule catalog against the OCI image spec:
// it extracts every MUST and REQUIRED statement from the spec's markdown,
// matches each to the rule that quotes it, and prints the counts and the
// statements that no rule checks.
//
//	go run ./conformance/coverage -spec "$(go list -m -f '{{.Dir}}' github.com/opencontainers/image-spec)"
//
// A statement is "tool" when it constrains what an implementation does
// (for example "MUST NOT generate an error"), not a property of an image;
// such statements are met by imgproof's own behaviour and cannot fail on
// an image.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/imgproof/imgproof/conformance"
)

var docs = []string{"descriptor.md", "manifest.md", "image-index.md", "config.md", "image-layout.md", "layer.md", "annotations.md"}

// toolPatterns mark statements about implementations' behaviour.
var toolPatterns = []string{
	"MUST NOT generate an error", "MUST NOT error", "MUST support", "MUST implement", "MUST NOT attempt to parse",
	"Implementations on Windows MUST", "MUST NOT change or affect the directory", "MUST NOT populate", "registry MUST NOT",
	"MUST accept both", "MUST be removed when the changeset is applied", "MUST also be hidden", "existing path's attributes MUST be replaced",
	"MUST do the semantic equivalent", "MUST include file attributes", "MUST NOT be used by other specifications and extensions.",
	"MUST generate an error if they encounter a unknown value",
}

var (
	linkRE  = regexp.MustCompile(`\[([^\]]*)\]\[[^\]]*\]|\[([^\]]*)\]\([^)]*\)`)
	spaceRE = regexp.MustCompile(`\s+`)
)

func norm(s string) string {
	s = linkRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := linkRE.FindStringSubmatch(m)
		return sub[1] + sub[2]
	})
	s = strings.NewReplacer("`", "", "*", "", "_", "").Replace(s)
	s = strings.TrimSpace(spaceRE.ReplaceAllString(s, " "))
	s = strings.TrimPrefix(s, "- ")
	if i := strings.Index(s, " ("); i > 20 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

func main() {
	spec := flag.String("spec", "", "image-spec module directory")
	verbose := flag.Bool("v", false, "list every statement")
	list := flag.Bool("rules", false, "print the rule catalog as a markdown table and exit")
	flag.Parse()
	if *list {
		printRules()
		return
	}
	if *spec == "" {
		fmt.Fprintln(os.Stderr, "coverage: -spec is required")
		os.Exit(64)
	}
	rules := conformance.Rules()
	var quotes []string
	for _, r := range rules {
		quotes = append(quotes, norm(r.Quote))
	}
	covered := func(stmt string) bool {
		n := norm(stmt)
		if len(n) > 60 {
			n = n[:60]
		}
		for _, q := range quotes {
			if strings.Contains(q, n) {
				return true
			}
		}
		return false
	}
	total, cov, tool := 0, 0, 0
	var uncovered []string
	fmt.Printf("| spec document | MUST/REQUIRED statements | checked by a rule | implementation behaviour | not checked |\n|---|---|---|---|---|\n")
	for _, d := range docs {
		b, err := os.ReadFile(filepath.Join(*spec, d))
		if err != nil {
			fmt.Fprintln(os.Stderr, "coverage:", err)
			os.Exit(1)
		}
		var t, c, tl int
		for _, line := range strings.Split(string(b), "\n") {
			for _, stmt := range strings.SplitAfter(line, ". ") {
				if !strings.Contains(stmt, "MUST") && !strings.Contains(stmt, "REQUIRED") {
					continue
				}
				t++
				switch {
				case covered(stmt):
					c++
				case isTool(stmt):
					tl++
				default:
					uncovered = append(uncovered, d+": "+norm(stmt))
				}
				if *verbose {
					fmt.Fprintf(os.Stderr, "%s: %s\n", d, norm(stmt))
				}
			}
		}
		total, cov, tool = total+t, cov+c, tool+tl
		fmt.Printf("| %s | %d | %d | %d | %d |\n", d, t, c, tl, t-c-tl)
	}
	fmt.Printf("| **total** | **%d** | **%d** | **%d** | **%d** |\n\n", total, cov, tool, total-cov-tool)
	shouldTotal, shouldCov := 0, 0
	for _, d := range docs {
		b, _ := os.ReadFile(filepath.Join(*spec, d))
		for _, line := range strings.Split(string(b), "\n") {
			for _, stmt := range strings.SplitAfter(line, ". ") {
				if !strings.Contains(stmt, "SHOULD") || strings.Contains(stmt, "MUST") || strings.Contains(stmt, "REQUIRED") {
					continue
				}
				shouldTotal++
				if covered(stmt) {
					shouldCov++
				}
			}
		}
	}
	fmt.Printf("SHOULD statements (without MUST) quoted and checked by a rule: %d of %d; the rest advise implementations (\"implementations SHOULD understand\", \"SHOULD be submitted to this specification\") or describe content no image reveals.\n\n", shouldCov, shouldTotal)
	levels := map[conformance.Level]int{}
	families := map[string]int{}
	for _, r := range rules {
		levels[r.Level]++
		families[strings.Join(strings.Split(r.ID, "-")[:2], "-")]++
	}
	fmt.Printf("Rules: %d (%d MUST, %d SHOULD, %d MAY).\n", len(rules), levels[conformance.Must], levels[conformance.Should], levels[conformance.May])
	var fam []string
	for f, n := range families {
		fam = append(fam, fmt.Sprintf("%s %d", f, n))
	}
	sort.Strings(fam)
	fmt.Printf("By family: %s.\n", strings.Join(fam, ", "))
	checkable := total - tool
	fmt.Printf("Image-checkable MUST/REQUIRED statements covered: %d of %d (%.0f%%).\n", cov, checkable, 100*float64(cov)/float64(checkable))
	if len(uncovered) > 0 {
		fmt.Printf("\nNot checked by any rule:\n")
		for _, u := range uncovered {
			fmt.Printf("- %s\n", u)
		}
	}
}

func isTool(stmt string) bool {
	n := norm(stmt)
	for _, p := range toolPatterns {
		if strings.Contains(n, norm(p)) {
			return true
		}
	}
	return false
}

// printRules prints the catalog as a markdown table.
func printRules() {
	fmt.Printf("| rule | level | spec | check |\n|---|---|---|---|\n")
	for _, r := range conformance.Rules() {
		fmt.Printf("| %s | %s | [%s](%s) | %s |\n", r.ID, r.Level, r.Spec, r.URL, strings.ReplaceAll(r.Check, "|", "\\|"))
	}
}
