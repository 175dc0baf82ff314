package deploy

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// tektonTask mirrors the fields of Tekton's tekton.dev/v1 Task
// (github.com/tektoncd/pipeline/pkg/apis/pipeline/v1) that task.yaml
// uses, with the Kubernetes types Tekton itself embeds for env, resources
// and security context. It stands in for Tekton's Go module, whose
// dependencies are far heavier than this check; decoding strictly into it
// rejects a field Tekton's Task does not have only as far as the mirror
// is exact, so fields are added here only as Tekton documents them.
type tektonTask struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Description string `json:"description,omitempty"`
		Params      []struct {
			Name        string  `json:"name"`
			Type        string  `json:"type,omitempty"`
			Description string  `json:"description,omitempty"`
			Default     *string `json:"default,omitempty"`
		} `json:"params,omitempty"`
		Workspaces []struct {
			Name        string `json:"name"`
			Description string `json:"description,omitempty"`
			MountPath   string `json:"mountPath,omitempty"`
			ReadOnly    bool   `json:"readOnly,omitempty"`
			Optional    bool   `json:"optional,omitempty"`
		} `json:"workspaces,omitempty"`
		Steps []struct {
			Name             string                      `json:"name"`
			Image            string                      `json:"image"`
			Command          []string                    `json:"command,omitempty"`
			Args             []string                    `json:"args,omitempty"`
			Env              []corev1.EnvVar             `json:"env,omitempty"`
			ComputeResources corev1.ResourceRequirements `json:"computeResources,omitempty"`
			SecurityContext  *corev1.SecurityContext     `json:"securityContext,omitempty"`
		} `json:"steps"`
	} `json:"spec"`
}

var tektonVar = regexp.MustCompile(`\$\((params|workspaces)\.([a-z-]+)(?:\.path)?\)`)

func TestTektonTask(t *testing.T) {
	var task tektonTask
	decodeStrict(t, "tekton/task.yaml", &task)
	if task.APIVersion != "tekton.dev/v1" || task.Kind != "Task" {
		t.Fatalf("%s %s, want tekton.dev/v1 Task", task.APIVersion, task.Kind)
	}
	if len(task.Spec.Steps) != 1 {
		t.Fatalf("%d steps, want 1", len(task.Spec.Steps))
	}
	st := task.Spec.Steps[0]
	if len(st.Command) != 0 || len(st.Args) == 0 || st.Args[0] != "verify" {
		t.Errorf("the step must run the image's imgproof with verify, not %q %q", st.Command, st.Args)
	}
	for _, f := range []string{"--key", "--policy"} {
		if !slices.Contains(st.Args, f) {
			t.Errorf("the step does not pass %s", f)
		}
	}
	if sc := st.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("the step may run as root or write its root filesystem")
	}
	// Every $(params.x) and $(workspaces.y.path) names one declared.
	declared := map[string]bool{}
	for _, p := range task.Spec.Params {
		declared["params."+p.Name] = true
	}
	for _, w := range task.Spec.Workspaces {
		declared["workspaces."+w.Name] = true
	}
	var refs []string
	for _, e := range st.Env {
		refs = append(refs, e.Value)
	}
	for _, s := range append(refs, st.Args...) {
		for _, m := range tektonVar.FindAllStringSubmatch(s, -1) {
			if !declared[m[1]+"."+m[2]] {
				t.Errorf("%s refers to undeclared %s.%s", s, m[1], m[2])
			}
		}
	}
}

func TestTektonStrictDecodeRejectsUnknownField(t *testing.T) {
	var task tektonTask
	err := yaml.UnmarshalStrict([]byte("apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - name: a\n    image: b\n    resources: {}\n"), &task)
	if err == nil || !strings.Contains(err.Error(), "resources") {
		t.Fatalf("a step's resources (v1beta1, not v1) decoded: %v", err)
	}
}
