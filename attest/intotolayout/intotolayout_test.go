//go:build !js

package intotolayout

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/in-toto/in-toto-golang/in_toto"
)

// keyPair is an in-toto signing key and its public PEM.
type keyPair struct {
	priv   in_toto.Key
	pub    in_toto.Key
	pubPEM []byte
}

func newKey(t *testing.T) keyPair {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	var kp keyPair
	if err := kp.priv.LoadKeyReaderDefaults(bytes.NewReader(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))); err != nil {
		t.Fatal(err)
	}
	pder, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	kp.pubPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder})
	if err := kp.pub.LoadKeyReaderDefaults(bytes.NewReader(kp.pubPEM)); err != nil {
		t.Fatal(err)
	}
	if kp.pub.KeyID != kp.priv.KeyID {
		t.Fatalf("key IDs differ: %s %s", kp.pub.KeyID, kp.priv.KeyID)
	}
	return kp
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// chain is a generated two-step supply chain: write-code produces
// hello.py; package turns hello.py into hello.tar.
type chain struct {
	dir       string
	layout    string
	ownerPub  []byte
	product   []byte
	owner     keyPair
	dev, pack keyPair
	lay       in_toto.Layout
}

type mutate struct {
	expires       string
	packMaterial  []byte // what package says it consumed
	packSigner    *keyPair
	ownerSigner   *keyPair
	inspect       bool
	rawLayoutEdit func([]byte) []byte
}

func newChain(t *testing.T, m mutate) *chain {
	t.Helper()
	c := &chain{dir: t.TempDir(), owner: newKey(t), dev: newKey(t), pack: newKey(t)}
	c.ownerPub = c.owner.pubPEM
	source := []byte("print('hello')\n")
	c.product = []byte("hello.tar bytes\n")
	expires := time.Now().Add(24 * time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	if m.expires != "" {
		expires = m.expires
	}
	c.lay = in_toto.Layout{
		Type:    "layout",
		Expires: expires,
		Keys:    map[string]in_toto.Key{c.dev.pub.KeyID: c.dev.pub, c.pack.pub.KeyID: c.pack.pub},
		Steps: []in_toto.Step{
			{Type: "step", PubKeys: []string{c.dev.pub.KeyID}, Threshold: 1, ExpectedCommand: []string{},
				SupplyChainItem: in_toto.SupplyChainItem{Name: "write-code",
					ExpectedMaterials: [][]string{{"DISALLOW", "*"}},
					ExpectedProducts:  [][]string{{"CREATE", "hello.py"}, {"DISALLOW", "*"}}}},
			{Type: "step", PubKeys: []string{c.pack.pub.KeyID}, Threshold: 1, ExpectedCommand: []string{"tar", "cf", "hello.tar", "hello.py"},
				SupplyChainItem: in_toto.SupplyChainItem{Name: "package",
					ExpectedMaterials: [][]string{{"MATCH", "hello.py", "WITH", "PRODUCTS", "FROM", "write-code"}, {"DISALLOW", "*"}},
					ExpectedProducts:  [][]string{{"CREATE", "hello.tar"}, {"DISALLOW", "*"}}}},
		},
		Inspect: []in_toto.Inspection{},
	}
	if m.inspect {
		c.lay.Inspect = []in_toto.Inspection{{Type: "inspection", Run: []string{"true"},
			SupplyChainItem: in_toto.SupplyChainItem{Name: "untar"}}}
	}
	owner := c.owner
	if m.ownerSigner != nil {
		owner = *m.ownerSigner
	}
	mb := in_toto.Metablock{Signed: c.lay}
	if err := mb.Sign(owner.priv); err != nil {
		t.Fatal(err)
	}
	c.layout = filepath.Join(c.dir, "root.layout")
	if err := mb.Dump(c.layout); err != nil {
		t.Fatal(err)
	}
	if m.rawLayoutEdit != nil {
		b, err := os.ReadFile(c.layout)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(c.layout, m.rawLayoutEdit(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	material := source
	if m.packMaterial != nil {
		material = m.packMaterial
	}
	packSigner := c.pack
	if m.packSigner != nil {
		packSigner = *m.packSigner
	}
	writeLink(t, c.dir, c.dev, in_toto.Link{Type: "link", Name: "write-code",
		Materials: map[string]in_toto.HashObj{},
		Products:  map[string]in_toto.HashObj{"hello.py": {"sha256": sha(source)}},
		Command:   []string{}, ByProducts: map[string]interface{}{}, Environment: map[string]interface{}{}})
	writeLink(t, c.dir, packSigner, in_toto.Link{Type: "link", Name: "package",
		Materials: map[string]in_toto.HashObj{"hello.py": {"sha256": sha(material)}},
		Products:  map[string]in_toto.HashObj{"hello.tar": {"sha256": sha(c.product)}},
		Command:   []string{"tar", "cf", "hello.tar", "hello.py"}, ByProducts: map[string]interface{}{}, Environment: map[string]interface{}{}})
	return c
}

func writeLink(t *testing.T, dir string, k keyPair, l in_toto.Link) {
	t.Helper()
	mb := in_toto.Metablock{Signed: l}
	if err := mb.Sign(k.priv); err != nil {
		t.Fatal(err)
	}
	if err := mb.Dump(filepath.Join(dir, fmt.Sprintf(in_toto.LinkNameFormat, l.Name, k.priv.KeyID))); err != nil {
		t.Fatal(err)
	}
}

// reference runs in-toto-golang's own InTotoVerify on the chain.
func reference(t *testing.T, c *chain) error {
	t.Helper()
	env, err := in_toto.LoadMetadata(c.layout)
	if err != nil {
		return err
	}
	keys := map[string]in_toto.Key{c.owner.pub.KeyID: c.owner.pub}
	_, err = in_toto.InTotoVerify(env, keys, c.dir, "", nil, nil, false)
	return err
}

func TestVerify(t *testing.T) {
	other := func(t *testing.T) *keyPair { k := newKey(t); return &k }
	cases := []struct {
		name string
		m    func(t *testing.T) mutate
		// product overrides the product bytes given to Verify.
		product   []byte
		wantCheck string
		wantKind  error
		// refAgrees says in-toto-golang's InTotoVerify is expected to reach
		// the same verdict; false for checks only imgproof makes.
		refAgrees bool
	}{
		{name: "ok", m: func(*testing.T) mutate { return mutate{} }, refAgrees: true},
		{name: "expired", m: func(*testing.T) mutate { return mutate{expires: "2020-01-01T00:00:00Z"} },
			wantCheck: "layout-expiry", wantKind: ErrVerify, refAgrees: true},
		{name: "layout-by-other-owner", m: func(t *testing.T) mutate { return mutate{ownerSigner: other(t)} },
			wantCheck: "layout-signature", wantKind: ErrVerify, refAgrees: true},
		{name: "link-by-untrusted-key", m: func(t *testing.T) mutate { return mutate{packSigner: other(t)} },
			wantCheck: "link-signatures", wantKind: ErrVerify, refAgrees: true},
		{name: "material-not-from-write-code", m: func(*testing.T) mutate { return mutate{packMaterial: []byte("evil")} },
			wantCheck: "artifact-rules", wantKind: ErrVerify, refAgrees: true},
		{name: "layout-tampered", m: func(*testing.T) mutate {
			return mutate{rawLayoutEdit: func(b []byte) []byte { return bytes.Replace(b, []byte(`"hello.tar"`), []byte(`"hello.taz"`), 1) }}
		}, wantCheck: "layout-signature", wantKind: ErrVerify, refAgrees: true},
		{name: "layout-duplicate-key", m: func(*testing.T) mutate {
			return mutate{rawLayoutEdit: func(b []byte) []byte {
				out := bytes.Replace(b, []byte(`"signed": {`), []byte(`"signed": {"expires": "2099-01-01T00:00:00Z",`), 1)
				if bytes.Equal(out, b) {
					panic("layout edit did not apply")
				}
				return out
			}}
		}, wantCheck: "layout-parse", wantKind: ErrMalformed},
		{name: "inspections-not-allowed", m: func(*testing.T) mutate { return mutate{inspect: true} },
			wantCheck: "inspections", wantKind: ErrUnverifiable},
		{name: "wrong-product", m: func(*testing.T) mutate { return mutate{} }, product: []byte("another tar"),
			wantCheck: "product", wantKind: ErrVerify},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t, tc.m(t))
			product := c.product
			if tc.product != nil {
				product = tc.product
			}
			res, err := Verify(context.Background(), Options{Layout: c.layout, LayoutKeys: [][]byte{c.ownerPub},
				LinkDir: c.dir, Product: bytes.NewReader(product)})
			if res == nil {
				t.Fatal("nil result")
			}
			if tc.wantCheck == "" {
				if err != nil || !res.Verified {
					t.Fatalf("want verified, got %v", err)
				}
				if res.ProductMatch != "hello.tar" || res.ProductDigest != "sha256:"+sha(c.product) {
					t.Errorf("product match %q %q", res.ProductMatch, res.ProductDigest)
				}
				if strings.Join(res.Steps, ",") != "write-code,package" || len(res.LayoutSigners) != 1 {
					t.Errorf("steps %v signers %v", res.Steps, res.LayoutSigners)
				}
			} else {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("want *Error, got %v", err)
				}
				if e.Check != tc.wantCheck || !errors.Is(err, tc.wantKind) || res.Verified {
					t.Fatalf("got check %s (%v), want %s %v", e.Check, err, tc.wantCheck, tc.wantKind)
				}
				last := res.Checks[len(res.Checks)-1]
				if last.Name != tc.wantCheck || last.Status != "fail" {
					t.Errorf("last check %+v", last)
				}
			}
			if tc.refAgrees {
				ref := reference(t, c)
				if (ref == nil) != (tc.wantCheck == "") {
					t.Errorf("in-toto-golang InTotoVerify disagrees: %v", ref)
				}
			}
		})
	}
}

func TestVerifyProductByName(t *testing.T) {
	c := newChain(t, mutate{})
	res, err := Verify(context.Background(), Options{Layout: c.layout, LayoutKeys: [][]byte{c.ownerPub},
		LinkDir: c.dir, Product: bytes.NewReader(c.product), ProductName: "hello.py"})
	var e *Error
	if !errors.As(err, &e) || e.Check != "product" || res.Verified {
		t.Fatalf("a product named after another artifact must fail, got %v", err)
	}
	res, err = Verify(context.Background(), Options{Layout: c.layout, LayoutKeys: [][]byte{c.ownerPub},
		LinkDir: c.dir, Product: bytes.NewReader(c.product), ProductName: "hello.tar"})
	if err != nil || res.ProductMatch != "hello.tar" {
		t.Fatalf("got %v %q", err, res.ProductMatch)
	}
}

func TestVerifyOptions(t *testing.T) {
	c := newChain(t, mutate{})
	for name, o := range map[string]Options{
		"no-key":      {Layout: c.layout, LinkDir: c.dir},
		"no-layout":   {LayoutKeys: [][]byte{c.ownerPub}, LinkDir: c.dir},
		"private-key": {Layout: c.layout, LayoutKeys: [][]byte{privatePEM(t)}, LinkDir: c.dir},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := Verify(context.Background(), o)
			if !errors.Is(err, ErrUsage) || res.Verified {
				t.Fatalf("want ErrUsage, got %v", err)
			}
		})
	}
}

func privatePEM(t *testing.T) []byte {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
