package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// actionMetadata mirrors the fields of GitHub's metadata syntax for a
// composite action
// (https://docs.github.com/actions/sharing-automations/creating-actions/metadata-syntax-for-github-actions)
// that action.yml may use; decoding strictly rejects any other.
type actionMetadata struct {
	Name        string                        `json:"name"`
	Description string                        `json:"description"`
	Author      string                        `json:"author,omitempty"`
	Branding    *struct{ Icon, Color string } `json:"branding,omitempty"`
	Inputs      map[string]actionInput        `json:"inputs"`
	Outputs     map[string]actionOutput       `json:"outputs"`
	Runs        struct {
		Using string       `json:"using"`
		Steps []actionStep `json:"steps"`
	} `json:"runs"`
}

type actionInput struct {
	Description        string  `json:"description"`
	Required           bool    `json:"required,omitempty"`
	Default            *string `json:"default,omitempty"`
	DeprecationMessage string  `json:"deprecationMessage,omitempty"`
}

type actionOutput struct {
	Description string `json:"description"`
	Value       string `json:"value"`
}

type actionStep struct {
	ID               string            `json:"id,omitempty"`
	If               string            `json:"if,omitempty"`
	Name             string            `json:"name,omitempty"`
	Uses             string            `json:"uses,omitempty"`
	Run              string            `json:"run,omitempty"`
	Shell            string            `json:"shell,omitempty"`
	With             map[string]string `json:"with,omitempty"`
	Env              map[string]string `json:"env,omitempty"`
	WorkingDirectory string            `json:"working-directory,omitempty"`
	ContinueOnError  bool              `json:"continue-on-error,omitempty"`
}

func readAction(t *testing.T) actionMetadata {
	t.Helper()
	var a actionMetadata
	decodeStrict(t, "../action.yml", &a)
	return a
}

var expr = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

func TestActionMetadata(t *testing.T) {
	a := readAction(t)
	if a.Name == "" || a.Description == "" {
		t.Error("action.yml needs a name and a description")
	}
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using %q, want composite", a.Runs.Using)
	}
	for _, in := range []string{"command", "source", "keys", "certificate-identity", "certificate-oidc-issuer", "policy", "platform", "sarif"} {
		if _, ok := a.Inputs[in]; !ok {
			t.Errorf("no input %q", in)
		}
	}
	for _, out := range []string{"verdict", "report", "sarif"} {
		if _, ok := a.Outputs[out]; !ok {
			t.Errorf("no output %q", out)
		}
	}
	ids := map[string]bool{} // step ids
	usedInputs := map[string]bool{}
	for i, s := range a.Runs.Steps {
		if (s.Run == "") == (s.Uses == "") {
			t.Errorf("step %d: needs exactly one of run and uses", i)
		}
		if s.Run != "" && s.Shell == "" {
			t.Errorf("step %d: a composite run step needs a shell", i)
		}
		// Inputs reach scripts through env, never spliced into run.
		if expr.MatchString(s.Run) {
			t.Errorf("step %d: expression in run: %q", i, s.Run)
		}
		for _, v := range s.Env {
			for _, m := range expr.FindAllStringSubmatch(v, -1) {
				if name, ok := strings.CutPrefix(m[1], "inputs."); ok {
					usedInputs[name] = true
				}
			}
		}
		if s.ID != "" {
			ids[s.ID] = true
		}
	}
	for name := range a.Inputs {
		if !usedInputs[name] && name != "binary" {
			t.Errorf("input %q reaches no step", name)
		}
	}
	// Every output refers to a step that exists; the run step's script
	// writes it.
	script, err := os.ReadFile("github/run.sh")
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range a.Outputs {
		m := regexp.MustCompile(`^\$\{\{ steps\.([a-z-]+)\.outputs\.([a-z-]+) \}\}$`).FindStringSubmatch(o.Value)
		if m == nil {
			t.Errorf("output %s: value %q is not a step output", name, o.Value)
			continue
		}
		if !ids[m[1]] {
			t.Errorf("output %s: no step %q", name, m[1])
		}
		if !strings.Contains(string(script), `echo "`+m[2]+`=`) {
			t.Errorf("output %s: run.sh never writes %s", name, m[2])
		}
	}
}

func TestActionStrictDecodeRejectsUnknownField(t *testing.T) {
	b, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), "\nruns:\n", "\nrunz: {}\nruns:\n", 1)
	var a actionMetadata
	if err := yaml.UnmarshalStrict([]byte(bad), &a); err == nil || !strings.Contains(err.Error(), "runz") {
		t.Fatalf("an unknown key decoded: %v", err)
	}
}

// TestActionScriptVerdicts runs the action's script with a stand-in for
// imgproof that exits with each code, and checks the verdict output and
// the step's status.
func TestActionScriptVerdicts(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, "imgproof")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/args\"\nexit $FAKE_EXIT\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		exit, verdict string
		fail          bool
	}{{"0", "VERIFIED", false}, {"1", "FAILED", true}, {"2", "UNVERIFIABLE", true}, {"64", "ERROR", true}} {
		out := filepath.Join(dir, "out")
		_ = os.Remove(out)
		cmd := exec.Command("bash", "github/run.sh")
		cmd.Env = append(os.Environ(), "FAKE_EXIT="+c.exit, "IMGPROOF="+fake, "COMMAND=verify",
			"SOURCE=img.tar", "KEYS=a.pub\nb.pub\n", "POLICY=p.yaml", "PLATFORM=linux/arm64",
			"REPORT="+filepath.Join(dir, "r.json"), "FAIL=true", "GITHUB_OUTPUT="+out)
		err := cmd.Run()
		if failed := err != nil; failed != c.fail {
			t.Errorf("exit %s: step failed=%v, want %v", c.exit, failed, c.fail)
		}
		got, _ := os.ReadFile(out)
		if !strings.Contains(string(got), "verdict="+c.verdict+"\n") {
			t.Errorf("exit %s: outputs %q, want verdict=%s", c.exit, got, c.verdict)
		}
		args, _ := os.ReadFile(filepath.Join(dir, "args"))
		want := "verify -o json --key a.pub --key b.pub --policy p.yaml --platform linux/arm64 img.tar"
		if strings.TrimSpace(string(args)) != want {
			t.Errorf("args %q, want %q", args, want)
		}
	}
}
