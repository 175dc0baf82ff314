//go:build !js

package intotolayout

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/in-toto/in-toto-golang/in_toto"

	"github.com/imgproof/imgproof/attest/intotolayout/intototest"
)

// reference runs in-toto-golang's own InTotoVerify on the chain.
func reference(t *testing.T, c *intototest.Chain) error {
	t.Helper()
	env, err := in_toto.LoadMetadata(c.Layout)
	if err != nil {
		return err
	}
	keys := map[string]in_toto.Key{c.Owner.Pub.KeyID: c.Owner.Pub}
	_, err = in_toto.InTotoVerify(env, keys, c.Dir, "", nil, nil, false)
	return err
}

func TestVerify(t *testing.T) {
	other := func(t *testing.T) *intototest.KeyPair { k := intototest.NewKey(t); return &k }
	cases := []struct {
		name string
		m    func(t *testing.T) intototest.Mutate
		// product overrides the product bytes given to Verify.
		product   []byte
		wantCheck string
		wantKind  error
		// refAgrees says in-toto-golang's InTotoVerify is expected to reach
		// the same verdict; false for checks only imgproof makes.
		refAgrees bool
	}{
		{name: "ok", m: func(*testing.T) intototest.Mutate { return intototest.Mutate{} }, refAgrees: true},
		{name: "expired", m: func(*testing.T) intototest.Mutate { return intototest.Mutate{Expires: "2020-01-01T00:00:00Z"} },
			wantCheck: "layout-expiry", wantKind: ErrVerify, refAgrees: true},
		{name: "layout-by-other-owner", m: func(t *testing.T) intototest.Mutate { return intototest.Mutate{OwnerSigner: other(t)} },
			wantCheck: "layout-signature", wantKind: ErrVerify, refAgrees: true},
		{name: "link-by-untrusted-key", m: func(t *testing.T) intototest.Mutate { return intototest.Mutate{PackSigner: other(t)} },
			wantCheck: "link-signatures", wantKind: ErrVerify, refAgrees: true},
		{name: "material-not-from-write-code", m: func(*testing.T) intototest.Mutate { return intototest.Mutate{PackMaterial: []byte("evil")} },
			wantCheck: "artifact-rules", wantKind: ErrVerify, refAgrees: true},
		{name: "layout-tampered", m: func(*testing.T) intototest.Mutate {
			return intototest.Mutate{RawLayoutEdit: func(b []byte) []byte { return bytes.Replace(b, []byte(`"hello.tar"`), []byte(`"hello.taz"`), 1) }}
		}, wantCheck: "layout-signature", wantKind: ErrVerify, refAgrees: true},
		{name: "layout-duplicate-key", m: func(*testing.T) intototest.Mutate {
			return intototest.Mutate{RawLayoutEdit: func(b []byte) []byte {
				out := bytes.Replace(b, []byte(`"signed": {`), []byte(`"signed": {"expires": "2099-01-01T00:00:00Z",`), 1)
				if bytes.Equal(out, b) {
					panic("layout edit did not apply")
				}
				return out
			}}
		}, wantCheck: "layout-parse", wantKind: ErrMalformed},
		{name: "inspections-not-allowed", m: func(*testing.T) intototest.Mutate { return intototest.Mutate{Inspect: true} },
			wantCheck: "inspections", wantKind: ErrUnverifiable},
		{name: "wrong-product", m: func(*testing.T) intototest.Mutate { return intototest.Mutate{} }, product: []byte("another tar"),
			wantCheck: "product", wantKind: ErrVerify},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := intototest.New(t, tc.m(t))
			product := c.Product
			if tc.product != nil {
				product = tc.product
			}
			res, err := Verify(context.Background(), Options{Layout: c.Layout, LayoutKeys: [][]byte{c.OwnerPub},
				LinkDir: c.Dir, Product: bytes.NewReader(product)})
			if res == nil {
				t.Fatal("nil result")
			}
			if tc.wantCheck == "" {
				if err != nil || !res.Verified {
					t.Fatalf("want verified, got %v", err)
				}
				if res.ProductMatch != "hello.tar" || res.ProductDigest != "sha256:"+intototest.Sha(c.Product) {
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
	c := intototest.New(t, intototest.Mutate{})
	res, err := Verify(context.Background(), Options{Layout: c.Layout, LayoutKeys: [][]byte{c.OwnerPub},
		LinkDir: c.Dir, Product: bytes.NewReader(c.Product), ProductName: "hello.py"})
	var e *Error
	if !errors.As(err, &e) || e.Check != "product" || res.Verified {
		t.Fatalf("a product named after another artifact must fail, got %v", err)
	}
	res, err = Verify(context.Background(), Options{Layout: c.Layout, LayoutKeys: [][]byte{c.OwnerPub},
		LinkDir: c.Dir, Product: bytes.NewReader(c.Product), ProductName: "hello.tar"})
	if err != nil || res.ProductMatch != "hello.tar" {
		t.Fatalf("got %v %q", err, res.ProductMatch)
	}
}

func TestVerifyOptions(t *testing.T) {
	c := intototest.New(t, intototest.Mutate{})
	for name, o := range map[string]Options{
		"no-key":      {Layout: c.Layout, LinkDir: c.Dir},
		"no-layout":   {LayoutKeys: [][]byte{c.OwnerPub}, LinkDir: c.Dir},
		"private-key": {Layout: c.Layout, LayoutKeys: [][]byte{privatePEM(t)}, LinkDir: c.Dir},
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
