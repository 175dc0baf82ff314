package limits

import (
	"errors"
	"strings"
	"testing"
)

func TestEveryKindHasADefaultAndCanBeSet(t *testing.T) {
	d := Default()
	for _, k := range Kinds() {
		v, ok := d.Get(k)
		if !ok || v <= 0 {
			t.Errorf("%s: default %d, ok=%v", k, v, ok)
		}
		if err := d.Set(k, 7); err != nil {
			t.Errorf("%s: %v", k, err)
		}
		if v, _ := d.Get(k); v != 7 {
			t.Errorf("%s: set 7, got %d", k, v)
		}
	}
	if err := d.Set("no-such-limit", 1); err == nil {
		t.Error("unknown kind accepted")
	}
	if err := d.Set(JSONDepth, 0); err == nil {
		t.Error("zero accepted")
	}
}

func TestErrorIsErrLimit(t *testing.T) {
	err := Exceeded(ManifestDocument, 10, "blobs/sha256/x")
	if !errors.Is(err, ErrLimit) {
		t.Fatal("errors.Is(err, ErrLimit) is false")
	}
	var le *Error
	if !errors.As(err, &le) || le.Kind != ManifestDocument || le.Limit != 10 {
		t.Fatalf("errors.As gave %+v", le)
	}
}

func TestRegistryKinds(t *testing.T) {
	n := 0
	for _, k := range Kinds() {
		if k.Registry() != strings.HasPrefix(string(k), "registry-") {
			t.Errorf("%s: Registry() = %v", k, k.Registry())
		}
		if k.Registry() {
			n++
		}
	}
	if n != 9 {
		t.Fatalf("%d registry kinds, want 9", n)
	}
}

func TestDocumentIsTheLargestDocumentLimit(t *testing.T) {
	d := Default()
	if d.Document() != d.ConfigDocument || d.DocumentKind() != ConfigDocument {
		t.Fatalf("defaults: %d %s", d.Document(), d.DocumentKind())
	}
	d.ManifestDocument = d.ConfigDocument + 1
	if d.Document() != d.ManifestDocument || d.DocumentKind() != ManifestDocument {
		t.Fatalf("larger manifests: %d %s", d.Document(), d.DocumentKind())
	}
	d.IndexDocument = d.ManifestDocument + 1
	if d.Document() != d.IndexDocument || d.DocumentKind() != IndexDocument {
		t.Fatalf("larger indexes: %d %s", d.Document(), d.DocumentKind())
	}
}
