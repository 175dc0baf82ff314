//go:build !js

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestInTotoVerifyPythonDemo runs `imgproof in-toto verify` on the in-toto
// demo as the Python reference implementation wrote it, with the owner's
// JSON key from in-toto-keygen, and on tampered copies: each must get the
// verdict's exit code and the finding code of the check that broke.
func TestInTotoVerifyPythonDemo(t *testing.T) {
	demo, err := filepath.Abs(filepath.Join("..", "..", "attest", "intotolayout", "testdata", "pydemo", "ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, err := filepath.Abs(filepath.Join(demo, "..", "ecdsa", "alice.pub"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		edit    func(t *testing.T, dir string)
		key     string
		product string
		code    int
		finding string
	}{
		{name: "genuine", product: "demo-project.tar.gz"},
		{name: "changed-product", product: "root.layout", code: 1, finding: "E_INTOTO_PRODUCT_MISMATCH"},
		{name: "changed-layout-byte", edit: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "root.layout")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b = bytes.Replace(b, []byte(`"demo-project.tar.gz"`), []byte(`"demo-project.tar.gx"`), 1)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, code: 1, finding: "E_INTOTO_VERIFICATION"},
		{name: "wrong-key", key: wrongKey, code: 1, finding: "E_INTOTO_VERIFICATION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ents, err := os.ReadDir(demo)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				b, err := os.ReadFile(filepath.Join(demo, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.edit != nil {
				tc.edit(t, dir)
			}
			key := tc.key
			if key == "" {
				key = "alice.pub"
			}
			args := []string{"in-toto", "verify", "--layout", "root.layout", "--layout-key", key, "--run-inspections", "--output", "json"}
			if tc.product != "" {
				args = append(args, "--product", tc.product)
			}
			cmd := exec.Command(cli(t), args...)
			cmd.Dir = dir
			out, err := cmd.Output()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			var rep struct {
				Verdict  string `json:"verdict"`
				Findings []struct {
					Code string `json:"code"`
				} `json:"findings"`
			}
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("exit %d, not a JSON report: %v\n%s", code, err, out)
			}
			if code != tc.code {
				t.Fatalf("exit %d (%s), want %d\n%s", code, rep.Verdict, tc.code, out)
			}
			if tc.finding == "" {
				if rep.Verdict != "VERIFIED" || len(rep.Findings) != 0 {
					t.Fatalf("genuine demo: %s\n%s", rep.Verdict, out)
				}
				return
			}
			if len(rep.Findings) != 1 || rep.Findings[0].Code != tc.finding {
				t.Fatalf("findings %+v, want one %s", rep.Findings, tc.finding)
			}
		})
	}
}
