package rulegen

import (
	"strings"
	"testing"
)

func TestIDsRejectsBadCatalogs(t *testing.T) {
	for name, src := range map[string]string{
		"duplicate":   `package c; var catalog = []Rule{oci("OCI-A-001"), docker("OCI-A-001")}`,
		"shape":       `package c; var catalog = []Rule{oci("oci-a-1")}`,
		"not literal": `package c; const x = "OCI-A-001"; var catalog = []Rule{oci(x)}`,
		"empty":       `package c; var catalog = []Rule{}`,
	} {
		if _, err := IDs([]byte(src)); err == nil {
			t.Errorf("%s: IDs accepted %s", name, src)
		}
	}
}

func TestGenerate(t *testing.T) {
	out, err := Generate([]byte(`package c; var catalog = []Rule{oci("OCI-IDX-016", Must), derived(docker("DOCKER-MAN-003", Should))}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ociIDX016    ruleID = iota + 1", "dockerMAN003", `ociIDX016:    "OCI-IDX-016",`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("generated source lacks %q:\n%s", want, out)
		}
	}
}
