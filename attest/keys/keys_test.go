package keys_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest/keys"
)

func TestParsePEM(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	pkix := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rk.PublicKey)})
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&small.PublicKey)})
	privDER, _ := x509.MarshalECPrivateKey(ec)
	priv := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: privDER})

	ks, err := keys.ParsePEM(append(append([]byte{}, pkix...), pkcs1...), "two.pem")
	if err != nil || len(ks) != 2 {
		t.Fatalf("two keys: %v, %d", err, len(ks))
	}
	if ks[0].Type != "ecdsa-p256" || ks[1].Type != "rsa-2048" {
		t.Fatalf("types %s %s", ks[0].Type, ks[1].Type)
	}
	again, _ := keys.ParsePEM(pkix, "again.pem")
	if again[0].ID != ks[0].ID || !strings.HasPrefix(ks[0].ID, "sha256:") {
		t.Fatalf("ID not stable: %s %s", again[0].ID, ks[0].ID)
	}
	for name, data := range map[string][]byte{
		"private key": priv, "small RSA": smallPEM, "empty": nil, "not PEM": []byte("hello"),
		"bad DER": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}}),
	} {
		if _, err := keys.ParsePEM(data, name); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
