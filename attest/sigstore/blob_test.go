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
	"errors"
	"testing"

	"github.com/imgproof/imgproof/internal/limits"
)

// A detached signature verifies raw or as base64 text, including a raw
// DER signature whose first or last byte is whitespace, which must not be
// trimmed away.
func TestVerifySignatureRawAndBase64(t *testing.T) {
	key, pub := p256Key(t)
	var err error
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
		res, err := VerifySignature(context.Background(), s, bytes.NewReader(artifact), pub, limits.Default())
		if err != nil || !res.Verified {
			t.Errorf("%s: verified %v: %v", name, res.Verified, err)
		}
		res, err = VerifySignature(context.Background(), s, bytes.NewReader([]byte("release artifacT\n")), pub, limits.Default())
		if err == nil || res.Verified {
			t.Errorf("%s: a tampered artifact verified", name)
		}
	}
}

// p256Key returns a fresh ECDSA P-256 key and its PEM public key.
func p256Key(t *testing.T) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func isSpace(b byte) bool { return len(bytes.TrimSpace([]byte{b})) == 0 }

// TestVerifySignatureLimits lowers signature-bytes and key-file-bytes
// below a good signature and key: each fails with the *limits.Error of its
// kind, where the default limits verify.
func TestVerifySignatureLimits(t *testing.T) {
	key, pub := p256Key(t)
	artifact := []byte("release artifact\n")
	sum := sha256.Sum256(artifact)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	if res, err := VerifySignature(context.Background(), sig, bytes.NewReader(artifact), pub, limits.Default()); err != nil || !res.Verified {
		t.Fatalf("default limits: verified %v: %v", res.Verified, err)
	}
	for _, kind := range []limits.Kind{limits.SignatureFile, limits.KeyFile} {
		lim := limits.Default()
		if err := lim.Set(kind, 16); err != nil {
			t.Fatal(err)
		}
		res, err := VerifySignature(context.Background(), sig, bytes.NewReader(artifact), pub, lim)
		var le *limits.Error
		if res.Verified || !errors.As(err, &le) || le.Kind != kind {
			t.Errorf("%s=16: verified %v: %v", kind, res.Verified, err)
		}
	}
}
