// Package keys loads trusted public keys from PEM, or from the
// securesystemslib JSON key files that in-toto-keygen writes, and verifies
// raw signatures with them.
//
// Supported keys: ECDSA P-256 (SHA-256), P-384 (SHA-384) and P-521
// (SHA-512), Ed25519 (pure, over the message), and RSA of at least 2048
// bits with SHA-256, as PKCS#1 v1.5 or PSS. The hash is fixed by the key
// type, never taken from the signed data. A key's ID is the SHA-256 of its
// DER SubjectPublicKeyInfo, so one key loaded twice has one ID and counts
// once towards a threshold.
package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/imgproof/imgproof/internal/limits"
)

// MinRSABits is the smallest RSA modulus accepted.
const MinRSABits = 2048

// ErrSignature is matched by every failed signature check.
var ErrSignature = errors.New("signature does not verify")

// Key is one trusted public key.
type Key struct {
	// ID is "sha256:" + hex(sha256(DER SubjectPublicKeyInfo)).
	ID string
	// Name is how the user named the key, for example its file name.
	Name string
	// Type is ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519 or rsa-<bits>.
	Type   string
	Public crypto.PublicKey
}

// String names the key for reports: its name and the start of its ID.
func (k *Key) String() string {
	short := k.ID
	if len(short) > 7+16 {
		short = short[:7+16]
	}
	if k.Name == "" {
		return short
	}
	return k.Name + " (" + short + ")"
}

// ParsePEM parses every public key in data: PUBLIC KEY (PKIX),
// RSA PUBLIC KEY (PKCS#1) and CERTIFICATE blocks (the certificate's key is
// used; the certificate itself is not validated). name labels the keys.
// Other block types are an error, as is a file with no key. A file that is
// a securesystemslib JSON key (see ParseSSLib) gives its one key. A file
// over the default limits.KeyFile is a *limits.Error; ParsePEMLimited
// takes the limit from lim.
func ParsePEM(data []byte, name string) ([]*Key, error) {
	return ParsePEMLimited(data, name, limits.Default())
}

// ParsePEMLimited is ParsePEM with the key file bounded by lim.KeyFile.
func ParsePEMLimited(data []byte, name string, lim limits.Limits) ([]*Key, error) {
	if err := checkSize(data, name, lim); err != nil {
		return nil, err
	}
	if IsSSLibJSON(data) {
		_, k, err := parseSSLib(data, name, lim)
		if err != nil {
			return nil, err
		}
		return []*Key{k}, nil
	}
	var out []*Key
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var pub crypto.PublicKey
		var err error
		switch b.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(b.Bytes)
		case "CERTIFICATE":
			var c *x509.Certificate
			c, err = x509.ParseCertificate(b.Bytes)
			if err == nil {
				pub = c.PublicKey
			}
		default:
			if bytes.Contains([]byte(b.Type), []byte("PRIVATE")) {
				return nil, fmt.Errorf("%s: holds a private key; give the public key", name)
			}
			return nil, fmt.Errorf("%s: unsupported PEM block %q", name, b.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, b.Type, err)
		}
		k, err := New(pub, name)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if len(bytes.TrimSpace(rest)) != 0 && len(out) == 0 {
		return nil, fmt.Errorf("%s: no PEM block found", name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no public key found", name)
	}
	return out, nil
}

// New wraps a public key, checking that its type and size are supported.
func New(pub crypto.PublicKey, name string) (*Key, error) {
	k := &Key{Name: name, Public: pub}
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			k.Type = "ecdsa-p256"
		case elliptic.P384():
			k.Type = "ecdsa-p384"
		case elliptic.P521():
			k.Type = "ecdsa-p521"
		default:
			return nil, fmt.Errorf("%s: unsupported ECDSA curve", name)
		}
	case ed25519.PublicKey:
		k.Type = "ed25519"
	case *rsa.PublicKey:
		if p.N.BitLen() < MinRSABits {
			return nil, fmt.Errorf("%s: RSA key of %d bits is below the minimum of %d", name, p.N.BitLen(), MinRSABits)
		}
		k.Type = fmt.Sprintf("rsa-%d", p.N.BitLen())
	default:
		return nil, fmt.Errorf("%s: unsupported public key type %T", name, pub)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sum := sha256.Sum256(der)
	k.ID = "sha256:" + hex.EncodeToString(sum[:])
	return k, nil
}

// Verify checks sig over msg. It returns an error wrapping ErrSignature
// when the signature does not verify.
func (k *Key) Verify(msg, sig []byte) error {
	ok := false
	switch p := k.Public.(type) {
	case *ecdsa.PublicKey:
		var h []byte
		switch p.Curve {
		case elliptic.P384():
			s := sha512.Sum384(msg)
			h = s[:]
		case elliptic.P521():
			s := sha512.Sum512(msg)
			h = s[:]
		default:
			s := sha256.Sum256(msg)
			h = s[:]
		}
		ok = ecdsa.VerifyASN1(p, h, sig)
	case ed25519.PublicKey:
		ok = len(sig) == ed25519.SignatureSize && ed25519.Verify(p, msg, sig)
	case *rsa.PublicKey:
		s := sha256.Sum256(msg)
		ok = rsa.VerifyPKCS1v15(p, crypto.SHA256, s[:], sig) == nil ||
			rsa.VerifyPSS(p, crypto.SHA256, s[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	}
	if !ok {
		return fmt.Errorf("%s: %w", k, ErrSignature)
	}
	return nil
}

// checkSize bounds one key file by lim.KeyFile.
func checkSize(data []byte, name string, lim limits.Limits) error {
	if int64(len(data)) > lim.KeyFile {
		return limits.Exceeded(limits.KeyFile, lim.KeyFile, name)
	}
	return nil
}
