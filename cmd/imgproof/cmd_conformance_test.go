package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
)

func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetArgs(args)
	defer rootCmd.SetOut(nil)
	return exitCode(rootCmd.ExecuteContext(context.Background())), out.String()
}

func TestConformanceCommand(t *testing.T) {
	corpus := filepath.Join("..", "..", "conformance", "vectors", "corpus")
	valid := filepath.Join(corpus, "valid-oci-archive.tar")
	broken := filepath.Join(corpus, "desc-layer-digest-mismatch.tar")
	shouldOnly := filepath.Join(corpus, "layer-opaque-whiteout.tar")
	layout := t.TempDir()
	if err := fixtures.MustBuild(fixtures.Default()).WriteLayoutDir(layout); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"valid json", []string{"--level", "must", "--output", "json", valid}, 0, `"status": "pass"`},
		{"valid layout dir", []string{"--level", "must", "--output", "text", layout}, 0, "0 failed"},
		{"broken", []string{"--level", "must", "--output", "text", broken}, 1, "FAIL  OCI-DESC-006"},
		{"broken sarif", []string{"--level", "should", "--output", "sarif", broken}, 1, `"ruleId": "OCI-DESC-006"`},
		{"broken junit", []string{"--level", "should", "--output", "junit", broken}, 1, "<failure"},
		{"should rule at must level", []string{"--level", "must", "--output", "text", shouldOnly}, 0, "0 failed"},
		{"should rule at should level", []string{"--level", "should", "--output", "text", shouldOnly}, 1, "OCI-LAYER-009"},
		{"bad output", []string{"--level", "must", "--output", "yaml", valid}, exitUsage, ""},
		{"bad level", []string{"--level", "may", "--output", "text", valid}, exitUsage, ""},
		{"missing source", []string{"--level", "must", "--output", "text", filepath.Join(t.TempDir(), "nope.tar")}, exitUsage, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runCLI(t, append([]string{"conformance"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, out)
			}
			if !bytes.Contains([]byte(out), []byte(tc.want)) {
				t.Fatalf("output lacks %q:\n%s", tc.want, out)
			}
			if tc.args[3] == "json" || tc.args[3] == "sarif" {
				var v map[string]any
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("not JSON: %v", err)
				}
			}
		})
	}
}
