//go:build !js

package depcheck

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// moduleRoot is where `go list` runs: the module's top directory.
const moduleRoot = "../.."

// violation is one forbidden package and the root package that imports it.
type violation struct{ root, pkg string }

// check lists the dependencies of the rule's roots, with an optional
// overlay file for `go list -overlay`, and returns what the rule forbids.
func check(t *testing.T, r Rule, overlay string) []violation {
	t.Helper()
	format := `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`
	if r.Direct {
		format = `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`
	}
	args := []string{"list", "-f", format}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	args = append(args, r.Roots...)
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot
	cmd.Env = os.Environ()
	if r.GOOS != "" {
		cmd.Env = append(cmd.Env, "GOOS="+r.GOOS, "GOARCH="+r.GOARCH, "CGO_ENABLED=0")
	}
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	var found []violation
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatalf("go list %v listed no packages", r.Roots)
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		for _, dep := range fields[1:] {
			if r.Forbids(dep) {
				found = append(found, violation{fields[0], dep})
			}
		}
	}
	return found
}

func TestImportRules(t *testing.T) {
	for _, r := range Rules {
		t.Run(r.Name, func(t *testing.T) {
			for _, v := range check(t, r, "") {
				t.Errorf("%s imports %s", v.root, v.pkg)
			}
		})
	}
}

// TestGuardCatches adds a file that imports a forbidden package to each
// guarded place (through `go list -overlay`, so the tree is untouched) and
// requires the guard to name it: a guard that lists the wrong packages, or
// none, fails here.
func TestGuardCatches(t *testing.T) {
	cases := []struct {
		rule      int
		file, src string
		want      violation
	}{
		{0, "wasm/zz_guard_canary_js.go", "package main\n\nimport _ \"net/http\"\n",
			violation{Module + "/wasm", "net/http"}},
		{0, "verify/zz_guard_canary.go", "package verify\n\nimport _ \"github.com/sigstore/sigstore-go/pkg/verify\"\n",
			violation{Module + "/verify", "github.com/sigstore/sigstore-go/pkg/verify"}},
		{1, "verify/zz_guard_canary.go", "package verify\n\nimport _ \"" + Module + "/attest/dsse\"\n",
			violation{Module + "/verify", Module + "/attest/dsse"}},
		{2, "verify/zz_guard_canary.go", "package verify\n\nimport _ \"os\"\n",
			violation{Module + "/verify", "os"}},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+c.want.pkg, func(t *testing.T) {
			abs, err := filepath.Abs(filepath.Join(moduleRoot, c.file))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			src := filepath.Join(dir, "canary.go")
			if err := os.WriteFile(src, []byte(c.src), 0o644); err != nil {
				t.Fatal(err)
			}
			ov, _ := json.Marshal(map[string]any{"Replace": map[string]string{abs: src}})
			overlay := filepath.Join(dir, "overlay.json")
			if err := os.WriteFile(overlay, ov, 0o644); err != nil {
				t.Fatal(err)
			}
			got := check(t, Rules[c.rule], overlay)
			if !slices.Contains(got, c.want) {
				t.Errorf("rule %q with %s added: violations %v, want %v among them", Rules[c.rule].Name, c.file, got, c.want)
			}
		})
	}
}

func TestForbids(t *testing.T) {
	r := Rule{Forbidden: []string{"net/http", "a/b/..."}}
	for path, want := range map[string]bool{
		"net/http":       true,
		"net/http/pprof": false,
		"a/b":            true,
		"a/b/c":          true,
		"a/bc":           false,
		"net":            false,
	} {
		if got := r.Forbids(path); got != want {
			t.Errorf("Forbids(%q) = %v, want %v", path, got, want)
		}
	}
}
