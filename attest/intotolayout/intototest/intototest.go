//go:build !js

// Package intototest generates signed in-toto layouts and links for tests:
// a two-step supply chain (write-code produces hello.py; package turns it
// into hello.tar) signed with fresh Ed25519 keys, with optional defects.
package intototest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/in-toto/in-toto-golang/in_toto"
)

// KeyPair is an in-toto signing key and its public PEM.
type KeyPair struct {
	Priv   in_toto.Key
	Pub    in_toto.Key
	PubPEM []byte
}

// NewKey generates an Ed25519 key pair.
func NewKey(t testing.TB) KeyPair {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	var kp KeyPair
	if err := kp.Priv.LoadKeyReaderDefaults(bytes.NewReader(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))); err != nil {
		t.Fatal(err)
	}
	pder, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	kp.PubPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder})
	if err := kp.Pub.LoadKeyReaderDefaults(bytes.NewReader(kp.PubPEM)); err != nil {
		t.Fatal(err)
	}
	if kp.Pub.KeyID != kp.Priv.KeyID {
		t.Fatalf("key IDs differ: %s %s", kp.Pub.KeyID, kp.Priv.KeyID)
	}
	return kp
}

// Sha returns the hex sha256 of b.
func Sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Chain is a generated two-step supply chain: write-code produces
// hello.py; package turns hello.py into hello.tar. Layout is the root
// layout's path, Dir holds it and the links, Product is hello.tar's bytes.
type Chain struct {
	Dir       string
	Layout    string
	OwnerPub  []byte
	Product   []byte
	Owner     KeyPair
	Dev, Pack KeyPair
	Lay       in_toto.Layout
}

// Mutate lists defects to build into a chain; the zero value is a valid chain.
type Mutate struct {
	Expires       string
	PackMaterial  []byte // what package says it consumed
	PackSigner    *KeyPair
	OwnerSigner   *KeyPair
	Inspect       bool
	RawLayoutEdit func([]byte) []byte
}

// New writes a signed layout and links to a temporary directory.
func New(t testing.TB, m Mutate) *Chain {
	t.Helper()
	c := &Chain{Dir: t.TempDir(), Owner: NewKey(t), Dev: NewKey(t), Pack: NewKey(t)}
	c.OwnerPub = c.Owner.PubPEM
	source := []byte("print('hello')\n")
	c.Product = []byte("hello.tar bytes\n")
	expires := time.Now().Add(24 * time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	if m.Expires != "" {
		expires = m.Expires
	}
	c.Lay = in_toto.Layout{
		Type:    "layout",
		Expires: expires,
		Keys:    map[string]in_toto.Key{c.Dev.Pub.KeyID: c.Dev.Pub, c.Pack.Pub.KeyID: c.Pack.Pub},
		Steps: []in_toto.Step{
			{Type: "step", PubKeys: []string{c.Dev.Pub.KeyID}, Threshold: 1, ExpectedCommand: []string{},
				SupplyChainItem: in_toto.SupplyChainItem{Name: "write-code",
					ExpectedMaterials: [][]string{{"DISALLOW", "*"}},
					ExpectedProducts:  [][]string{{"CREATE", "hello.py"}, {"DISALLOW", "*"}}}},
			{Type: "step", PubKeys: []string{c.Pack.Pub.KeyID}, Threshold: 1, ExpectedCommand: []string{"tar", "cf", "hello.tar", "hello.py"},
				SupplyChainItem: in_toto.SupplyChainItem{Name: "package",
					ExpectedMaterials: [][]string{{"MATCH", "hello.py", "WITH", "PRODUCTS", "FROM", "write-code"}, {"DISALLOW", "*"}},
					ExpectedProducts:  [][]string{{"CREATE", "hello.tar"}, {"DISALLOW", "*"}}}},
		},
		Inspect: []in_toto.Inspection{},
	}
	if m.Inspect {
		c.Lay.Inspect = []in_toto.Inspection{{Type: "inspection", Run: []string{"true"},
			SupplyChainItem: in_toto.SupplyChainItem{Name: "untar"}}}
	}
	owner := c.Owner
	if m.OwnerSigner != nil {
		owner = *m.OwnerSigner
	}
	mb := in_toto.Metablock{Signed: c.Lay}
	if err := mb.Sign(owner.Priv); err != nil {
		t.Fatal(err)
	}
	c.Layout = filepath.Join(c.Dir, "root.layout")
	if err := mb.Dump(c.Layout); err != nil {
		t.Fatal(err)
	}
	if m.RawLayoutEdit != nil {
		b, err := os.ReadFile(c.Layout)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(c.Layout, m.RawLayoutEdit(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	material := source
	if m.PackMaterial != nil {
		material = m.PackMaterial
	}
	packSigner := c.Pack
	if m.PackSigner != nil {
		packSigner = *m.PackSigner
	}
	writeLink(t, c.Dir, c.Dev, in_toto.Link{Type: "link", Name: "write-code",
		Materials: map[string]in_toto.HashObj{},
		Products:  map[string]in_toto.HashObj{"hello.py": {"sha256": Sha(source)}},
		Command:   []string{}, ByProducts: map[string]interface{}{}, Environment: map[string]interface{}{}})
	writeLink(t, c.Dir, packSigner, in_toto.Link{Type: "link", Name: "package",
		Materials: map[string]in_toto.HashObj{"hello.py": {"sha256": Sha(material)}},
		Products:  map[string]in_toto.HashObj{"hello.tar": {"sha256": Sha(c.Product)}},
		Command:   []string{"tar", "cf", "hello.tar", "hello.py"}, ByProducts: map[string]interface{}{}, Environment: map[string]interface{}{}})
	return c
}

func writeLink(t testing.TB, dir string, k KeyPair, l in_toto.Link) {
	t.Helper()
	mb := in_toto.Metablock{Signed: l}
	if err := mb.Sign(k.Priv); err != nil {
		t.Fatal(err)
	}
	if err := mb.Dump(filepath.Join(dir, fmt.Sprintf(in_toto.LinkNameFormat, l.Name, k.Priv.KeyID))); err != nil {
		t.Fatal(err)
	}
}
