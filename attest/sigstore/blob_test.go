//go:build !js

package sigstore

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"
)

// A detached signature verifies raw or as base64 text, including a raw
// DER signature whose first or last byte is whitespace, which must not be
// trimmed away.
func TestVerifySignatureRawAndBase64(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	artifact := []byte("release artifact\n")
	sum := sha256.Sum256(artifact)
	// Sign until the DER signature ends with a byte that TrimSpace removes.
	var sig []byte
	for i := 0; i < 10000 && (sig == nil || !isSpace(sig[len(sig)-1])); i++ {
		if sig, err = ecdsa.SignASN1(rand.Reader, key, sum[:]); err != nil {
			t.Fatal(err)
		}
	}
	if !isSpace(sig[len(sig)-1]) {
		t.Fatal("no signature ending in whitespace")
	}
	b64 := []byte(base64.StdEncoding.EncodeToString(sig) + "\n")
	for name, s := range map[string][]byte{"raw": sig, "base64": b64} {
		res, err := VerifySignature(context.Background(), s, bytes.NewReader(artifact), pub)
		if err != nil || !res.Verified {
			t.Errorf("%s: verified %v: %v", name, res.Verified, err)
		}
		res, err = VerifySignature(context.Background(), s, bytes.NewReader([]byte("release artifacT\n")), pub)
		if err == nil || res.Verified {
			t.Errorf("%s: a tampered artifact verified", name)
		}
	}
}

func isSpace(b byte) bool { return len(bytes.TrimSpace([]byte{b})) == 0 }
