//go:build !js

package intotolayout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest/intotolayout/intototest"
	"github.com/imgproof/imgproof/internal/limits"
)

// The in-toto demo supply chain as the Python reference implementation
// (in-toto 1.3.1, securesystemslib 0.26) writes it: testdata/pydemo/make.sh.
// rsa has PEM keys; ed25519 and ecdsa have the JSON keys of in-toto-keygen.
var pyDemos = []string{"rsa", "ed25519", "ecdsa"}

// in-toto-golang's own demo (testdata/golangdemo) must verify too.
func TestInTotoGolangDemo(t *testing.T) {
	key := readFile(t, filepath.Join("testdata", "golangdemo", "alice.pub"))
	dir := copyDemoFrom(t, filepath.Join("testdata", "golangdemo"))
	res, err := Verify(context.Background(), Options{Layout: "demo.layout", LayoutKeys: [][]byte{key}, LinkDir: dir,
		RunInspections: true, Product: strings.NewReader(string(readFile(t, "foo.tar.gz"))), ProductName: "foo.tar.gz"})
	if err != nil || !res.Verified {
		t.Fatalf("in-toto-golang's demo: %v", err)
	}
}

// in-toto's own demo files (testdata/pyrepo), signed as in-toto's tests sign
// them, by alice (RSA PEM) and by danny (securesystemslib JSON Ed25519),
// verify with their own keys; a layout byte changed, or the other owner's
// key, does not.
func TestInTotoRepoDemo(t *testing.T) {
	tar, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("tar is needed by the demo's inspection")
	}
	shim := t.TempDir()
	// The inspection runs `python ./scripts/tar ARGS`; this python runs tar ARGS.
	script := "#!/bin/sh\nshift\nexec " + tar + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(shim, "python"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", shim+string(os.PathListSeparator)+os.Getenv("PATH"))
	src := filepath.Join("testdata", "pyrepo")
	keysOf := map[string][]byte{
		"rsa":     readFile(t, filepath.Join(src, "alice.pub")),
		"ed25519": readFile(t, filepath.Join(src, "danny.pub")),
	}
	for _, tc := range []struct {
		layout, key string
		edit        bool
		wantCheck   string
	}{
		{layout: "rsa", key: "rsa"},
		{layout: "ed25519", key: "ed25519"},
		{layout: "ed25519", key: "rsa", wantCheck: "layout-signature"},
		{layout: "rsa", key: "ed25519", wantCheck: "layout-signature"},
		{layout: "ed25519", key: "ed25519", edit: true, wantCheck: "layout-signature"},
	} {
		t.Run(fmt.Sprintf("%s-layout/%s-key/edited=%v", tc.layout, tc.key, tc.edit), func(t *testing.T) {
			dir := copyDemoFrom(t, src)
			layout := "demo-" + tc.layout + ".layout"
			if tc.edit {
				b := bytes.Replace(readFile(t, layout), []byte(`"foo.tar.gz"`), []byte(`"foo.tar.gx"`), 1)
				if err := os.WriteFile(layout, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res, err := Verify(context.Background(), Options{Layout: layout, LayoutKeys: [][]byte{keysOf[tc.key]}, LinkDir: dir,
				RunInspections: true, Product: bytes.NewReader(readFile(t, "foo.tar.gz"))})
			if tc.wantCheck == "" {
				if err != nil || !res.Verified {
					t.Fatalf("in-toto's demo: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Check != tc.wantCheck || res.Verified {
				t.Fatalf("got %v, want a failure at %s", err, tc.wantCheck)
			}
		})
	}
}

// copyDemo copies a demo into a fresh directory and makes it the current
// one, because the untar inspection runs there.
func copyDemo(t *testing.T, kt string) string {
	t.Helper()
	return copyDemoFrom(t, filepath.Join("testdata", "pydemo", kt))
}

func copyDemoFrom(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dst)
	return dst
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// layoutSignerIDs are the key IDs of the layout's signatures.
func layoutSignerIDs(t *testing.T, path string) []string {
	t.Helper()
	var doc struct {
		Signatures []struct {
			KeyID string `json:"keyid"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(readFile(t, path), &doc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range doc.Signatures {
		ids = append(ids, s.KeyID)
	}
	return ids
}

func TestPythonDemoVerifies(t *testing.T) {
	for _, kt := range pyDemos {
		t.Run(kt, func(t *testing.T) {
			dir := copyDemo(t, kt)
			key := readFile(t, "alice.pub")
			if isJSON := bytes.HasPrefix(key, []byte("{")); isJSON != (kt != "rsa") {
				t.Fatalf("alice.pub: JSON %v, want JSON only for ed25519 and ecdsa keys", isJSON)
			}
			product, err := os.Open("demo-project.tar.gz")
			if err != nil {
				t.Fatal(err)
			}
			defer product.Close()
			res, err := Verify(context.Background(), Options{Layout: "root.layout", LayoutKeys: [][]byte{key},
				LinkDir: dir, RunInspections: true, Product: product, ProductName: "demo-project.tar.gz"})
			if err != nil || !res.Verified {
				t.Fatalf("genuine demo: %v (checks %+v)", err, res.Checks)
			}
			if want := layoutSignerIDs(t, "root.layout"); len(res.LayoutSigners) != 1 || res.LayoutSigners[0] != want[0] {
				t.Fatalf("layout signer %v, the layout was signed by %v", res.LayoutSigners, want)
			}
			if res.ProductMatch != "demo-project.tar.gz" || len(res.Steps) != 3 || len(res.Inspections) != 1 {
				t.Fatalf("result %+v", res)
			}
		})
	}
}

func TestPythonDemoTampered(t *testing.T) {
	alice := map[string][]byte{}
	for _, kt := range pyDemos {
		alice[kt] = readFile(t, filepath.Join("testdata", "pydemo", kt, "alice.pub"))
	}
	// otherKey is another demo's owner key; bobKey this demo's functionary.
	var otherKey, bobKey []byte
	cases := []struct {
		name string
		// edit changes the copied demo and returns the options' overrides.
		edit      func(t *testing.T, o *Options)
		wantCheck string
		wantKind  error
	}{
		{name: "changed-product", edit: func(t *testing.T, o *Options) {
			o.Product = strings.NewReader("not the product the supply chain recorded")
		}, wantCheck: "product", wantKind: ErrVerify},
		{name: "changed-product-in-place", edit: func(t *testing.T, o *Options) {
			b := readFile(t, "demo-project.tar.gz")
			b[len(b)-9] ^= 1 // inside the gzip trailer's CRC: still a file, another digest
			if err := os.WriteFile("demo-project.tar.gz", b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, wantCheck: "inspections", wantKind: ErrVerify},
		{name: "changed-layout-byte", edit: func(t *testing.T, o *Options) {
			b := readFile(t, "root.layout")
			i := bytes.Index(b, []byte(`"CREATE"`))
			b[i+1] = 'X'
			if err := os.WriteFile("root.layout", b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, wantCheck: "layout-signature", wantKind: ErrVerify},
		{name: "wrong-key", edit: func(t *testing.T, o *Options) { o.LayoutKeys = [][]byte{otherKey} },
			wantCheck: "layout-signature", wantKind: ErrVerify},
		{name: "functionary-key-as-owner", edit: func(t *testing.T, o *Options) { bobKey = readFile(t, "bob.pub"); o.LayoutKeys = [][]byte{bobKey} },
			wantCheck: "layout-signature", wantKind: ErrVerify},
		{name: "changed-link", edit: func(t *testing.T, o *Options) {
			m, _ := filepath.Glob("package.*.link")
			b := bytes.Replace(readFile(t, m[0]), []byte(`"demo-project.tar.gz"`), []byte(`"demo-project.tar.gx"`), 1)
			if err := os.WriteFile(m[0], b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, wantCheck: "link-signatures", wantKind: ErrVerify},
		{name: "private-key-given", edit: func(t *testing.T, o *Options) {
			o.LayoutKeys = [][]byte{[]byte(strings.Replace(string(o.LayoutKeys[0]), `"keyval": {`, `"keyval": {"private": "00", `, 1))}
		}, wantCheck: "layout-keys", wantKind: ErrUsage},
	}
	for _, kt := range []string{"ed25519", "ecdsa"} {
		otherKey = alice[map[string]string{"ed25519": "ecdsa", "ecdsa": "rsa"}[kt]]
		for _, tc := range cases {
			t.Run(kt+"/"+tc.name, func(t *testing.T) {
				dir := copyDemo(t, kt)
				o := Options{Layout: "root.layout", LayoutKeys: [][]byte{readFile(t, "alice.pub")}, LinkDir: dir, RunInspections: true}
				tc.edit(t, &o)
				res, err := Verify(context.Background(), o)
				var e *Error
				if !errors.As(err, &e) || res.Verified {
					t.Fatalf("tampered demo verified: %v", err)
				}
				if e.Check != tc.wantCheck || !errors.Is(err, tc.wantKind) {
					t.Fatalf("failed at %s (%v), want %s (%v)", e.Check, err, tc.wantCheck, tc.wantKind)
				}
			})
		}
	}
}

// The key ID of each functionary's key file, computed here, must be the ID
// under which the Python implementation embedded that key in the layout.
func TestPythonDemoKeyIDs(t *testing.T) {
	for _, kt := range pyDemos {
		var doc struct {
			Signed struct {
				Keys map[string]json.RawMessage `json:"keys"`
			} `json:"signed"`
		}
		if err := json.Unmarshal(readFile(t, filepath.Join("testdata", "pydemo", kt, "root.layout")), &doc); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"bob", "carl"} {
			k, err := loadOwnerKey(readFile(t, filepath.Join("testdata", "pydemo", kt, who+".pub")), who, limits.Default())
			if err != nil {
				t.Fatalf("%s/%s.pub: %v", kt, who, err)
			}
			if _, ok := doc.Signed.Keys[k.ids[0]]; !ok {
				t.Errorf("%s/%s.pub: key ID %s is not among the layout's keys", kt, who, k.ids[0])
			}
		}
	}
}

// A layout signed under the key ID that securesystemslib 0.28 and later
// (in-toto 2 and 3) give a key, without keyid_hash_algorithms, verifies with
// the owner's PEM key; one signed under an ID that does not derive from the
// key does not.
func TestOwnerKeyIDVariants(t *testing.T) {
	for _, tc := range []struct {
		name   string
		id     func(ids []string) string
		wantOK bool
	}{
		{"without-keyid_hash_algorithms", func(ids []string) string { return ids[len(ids)-1] }, true},
		{"in-toto-golang", func(ids []string) string { return ids[0] }, true},
		{"not-derived", func([]string) string { return strings.Repeat("ab", 32) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kp := intototest.NewKey(t)
			k, err := loadOwnerKey(kp.PubPEM, "owner", limits.Default())
			if err != nil {
				t.Fatal(err)
			}
			if k.ids[0] != kp.Pub.KeyID {
				t.Fatalf("first key ID %s, in-toto-golang's %s", k.ids[0], kp.Pub.KeyID)
			}
			kp.Priv.KeyID = tc.id(k.ids)
			c := intototest.New(t, intototest.Mutate{OwnerSigner: &kp})
			res, err := Verify(context.Background(), Options{Layout: c.Layout, LayoutKeys: [][]byte{kp.PubPEM}, LinkDir: c.Dir})
			if tc.wantOK {
				if err != nil || !res.Verified || res.LayoutSigners[0] != kp.Priv.KeyID {
					t.Fatalf("want verified under %s: %v %v", kp.Priv.KeyID, err, res.LayoutSigners)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Check != "layout-signature" || res.Verified {
				t.Fatalf("a signature under a foreign key ID verified: %v", err)
			}
		})
	}
}
