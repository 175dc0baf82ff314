package deploy

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// decodeStrict decodes one YAML document into v, failing on a field that v
// does not have (a typo such as backofLimitPerIndex would be dropped
// silently by a lenient decoder and by an old API server).
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("\n---")) {
		t.Fatalf("%s: one object a file, please", path)
	}
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// manifests decodes every manifest of deploy/kubernetes into its API type.
func manifests(t *testing.T) map[string]any {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under kubernetes/: %v", err)
	}
	out := map[string]any{}
	for _, f := range files {
		var tm metav1.TypeMeta
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, &tm); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		case "v1 Secret":
			obj = &corev1.Secret{}
		case "v1 PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		default:
			t.Fatalf("%s: unexpected kind %s %s", f, tm.APIVersion, tm.Kind)
		}
		decodeStrict(t, f, obj)
		out[tm.Kind] = obj
	}
	return out
}

func TestStrictDecodeRejectsUnknownField(t *testing.T) {
	var j batchv1.Job
	err := yaml.UnmarshalStrict([]byte("apiVersion: batch/v1\nkind: Job\nspec:\n  backofLimitPerIndex: 2\n"), &j)
	if err == nil || !strings.Contains(err.Error(), "backofLimitPerIndex") {
		t.Fatalf("a misspelt field decoded: %v", err)
	}
}

func TestJobShape(t *testing.T) {
	m := manifests(t)
	job, ok := m["Job"].(*batchv1.Job)
	if !ok {
		t.Fatal("no Job under kubernetes/")
	}
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Error("completionMode is not Indexed")
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism {
		t.Error("completions and parallelism must both be the shard count")
	}
	if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex < 1 {
		t.Error("no backoffLimitPerIndex: a dead node would fail its shard for good")
	}
	pod := s.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q: backoffLimitPerIndex needs Never", pod.RestartPolicy)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot ||
		psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Error("the pod may run as root")
	}
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("the root filesystem is writable or privileges may escalate")
	}
	// The exit codes that podFailurePolicy fails at once must be the
	// deterministic ones: FAILED and usage errors, never UNVERIFIABLE.
	if p := s.PodFailurePolicy; p != nil {
		for _, r := range p.Rules {
			if r.OnExitCodes != nil && r.OnExitCodes.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn {
				for _, v := range r.OnExitCodes.Values {
					if v == 2 && r.Action != batchv1.PodFailurePolicyActionCount {
						t.Errorf("exit 2 (UNVERIFIABLE, often transient) is not retried: action %s", r.Action)
					}
				}
			}
		}
	}

	// DOCKER_CONFIG names the directory where the Secret's config.json is.
	var dockerConfig string
	for _, e := range c.Env {
		if e.Name == "DOCKER_CONFIG" {
			dockerConfig = e.Value
		}
	}
	if dockerConfig == "" {
		t.Fatal("no DOCKER_CONFIG: the sweep would run without registry credentials")
	}
	var mountVolume string
	for _, vm := range c.VolumeMounts {
		if vm.MountPath == dockerConfig {
			mountVolume = vm.Name
			if !vm.ReadOnly {
				t.Error("the credentials are mounted writable")
			}
		}
	}
	secret, _ := m["Secret"].(*corev1.Secret)
	var found bool
	for _, v := range pod.Volumes {
		if v.Name != mountVolume || v.Secret == nil {
			continue
		}
		found = true
		if secret == nil || v.Secret.SecretName != secret.Name || secret.Type != corev1.SecretTypeDockerConfigJson {
			t.Errorf("volume %s mounts secret %q, not the docker config Secret of kubernetes/", v.Name, v.Secret.SecretName)
		}
		if len(v.Secret.Items) != 1 || v.Secret.Items[0].Key != corev1.DockerConfigJsonKey || v.Secret.Items[0].Path != "config.json" {
			t.Errorf("volume %s does not put %s at config.json", v.Name, corev1.DockerConfigJsonKey)
		}
	}
	if !found {
		t.Errorf("nothing mounts a Secret at DOCKER_CONFIG=%s", dockerConfig)
	}
	if pvc, ok := m["PersistentVolumeClaim"].(*corev1.PersistentVolumeClaim); ok {
		var claimed bool
		for _, v := range pod.Volumes {
			claimed = claimed || v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == pvc.Name
		}
		if !claimed {
			t.Errorf("no volume claims %s", pvc.Name)
		}
	}
}

// imgproof builds the CLI once for the tests that run command lines.
func imgproof(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "imgproof")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/imgproof")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// run runs the CLI and returns its exit code and output.
func run(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("%s: %v", bin, err)
	return 0, ""
}

// TestJobCommandLine runs the Job's arguments, as the kubelet expands
// them for index 0, against a registry that does not answer: the CLI must
// accept them (not exit 64) and end UNVERIFIABLE, as a shard that could
// not list its catalog does. A misspelt flag exits 64.
func TestJobCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	job, ok := manifests(t)["Job"].(*batchv1.Job)
	if !ok {
		t.Fatal("no Job under kubernetes/")
	}
	c := job.Spec.Template.Spec.Containers[0]
	if len(c.Command) != 0 {
		t.Fatalf("command %q overrides the image's entrypoint", c.Command)
	}
	dir := t.TempDir()
	var args []string
	var shard, catalog string
	for i, a := range c.Args {
		a = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", "0")
		if strings.HasPrefix(a, "/results/") {
			a = filepath.Join(dir, strings.TrimPrefix(a, "/results/"))
		}
		if i > 0 {
			switch c.Args[i-1] {
			case "--shard":
				shard = a
			case "--catalog":
				catalog = a
				a = "127.0.0.1:1/team" // nothing listens on port 1
			}
		}
		args = append(args, a)
	}
	if len(args) == 0 || args[0] != "sweep" {
		t.Fatalf("args %q do not run sweep", c.Args)
	}
	if catalog == "" {
		t.Fatal("the Job sweeps no --catalog")
	}
	if want := "/" + strconv.Itoa(int(*job.Spec.Completions)); shard != want {
		t.Errorf("--shard %q, want %q (INDEX from $JOB_COMPLETION_INDEX, COUNT = completions)", shard, want)
	}
	bin := imgproof(t)
	env := []string{"JOB_COMPLETION_INDEX=0", "DOCKER_CONFIG=" + t.TempDir()}
	code, out := run(t, bin, env, args...)
	if code != 2 {
		t.Fatalf("imgproof %q: exit %d, want 2 (UNVERIFIABLE: the catalog did not answer)\n%s", args, code, out)
	}
	if !strings.Contains(out, "127.0.0.1:1") {
		t.Errorf("the error does not name the catalog it could not list:\n%s", out)
	}
	code, out = run(t, bin, env, append(args, "--shrad", "1/2")...)
	if code != 64 {
		t.Errorf("a misspelt flag: exit %d, want 64\n%s", code, out)
	}
}
