package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/cjson"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// SSLib describes a public key in the securesystemslib JSON key format, the
// format that in-toto-keygen (in-toto 1.x) writes for Ed25519 and ECDSA keys
// and that in-toto layouts embed for functionary keys:
//
//	{"keytype": "ed25519", "scheme": "ed25519",
//	 "keyid_hash_algorithms": ["sha256", "sha512"],
//	 "keyval": {"public": "<64 hex digits>"}}
//
// RSA and ECDSA keys carry a PEM SubjectPublicKeyInfo in keyval.public.
type SSLib struct {
	KeyType             string   `json:"keytype"`
	Scheme              string   `json:"scheme"`
	KeyIDHashAlgorithms []string `json:"keyid_hash_algorithms,omitempty"`
	KeyVal              struct {
		Public  string `json:"public"`
		Private string `json:"private,omitempty"`
	} `json:"keyval"`
	KeyID string `json:"keyid,omitempty"`
}

// DefaultKeyIDHashAlgorithms is what securesystemslib 0.x writes into, and
// hashes with, every key it makes.
var DefaultKeyIDHashAlgorithms = []string{"sha256", "sha512"}

// IsSSLibJSON reports whether data looks like a JSON key rather than PEM.
func IsSSLibJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// ParseSSLib parses one securesystemslib JSON public key strictly (no
// duplicate or unknown member names) and checks that the key type, the
// scheme and the key material agree. A key file that holds a private key,
// or whose keyid does not derive from its key, is an error.
// A file over the default limits.KeyFile is a *limits.Error;
// ParseSSLibLimited takes the limit from lim.
func ParseSSLib(data []byte, name string) (*SSLib, *Key, error) {
	return ParseSSLibLimited(data, name, limits.Default())
}

// ParseSSLibLimited is ParseSSLib with the key file bounded by lim.KeyFile.
func ParseSSLibLimited(data []byte, name string, lim limits.Limits) (*SSLib, *Key, error) {
	if err := checkSize(data, name, lim); err != nil {
		return nil, nil, err
	}
	return parseSSLib(data, name, lim)
}

func parseSSLib(data []byte, name string, lim limits.Limits) (*SSLib, *Key, error) {
	var s SSLib
	if err := strictjson.Unmarshal(data, &s, lim.JSONDepth); err != nil {
		return nil, nil, fmt.Errorf("%s: not a securesystemslib JSON key: %w", name, err)
	}
	if s.KeyVal.Private != "" {
		return nil, nil, fmt.Errorf("%s: holds a private key; give the public key", name)
	}
	if s.KeyVal.Public == "" {
		return nil, nil, fmt.Errorf("%s: keyval.public is empty", name)
	}
	k, err := s.publicKey(name)
	if err != nil {
		return nil, nil, err
	}
	if s.KeyID != "" && !contains(s.KeyIDs(), s.KeyID) {
		return nil, nil, fmt.Errorf("%s: keyid %s does not derive from the key", name, s.KeyID)
	}
	return &s, k, nil
}

// publicKey decodes keyval.public and checks it against keytype and scheme.
func (s *SSLib) publicKey(name string) (*Key, error) {
	var pub any
	switch s.KeyType {
	case "ed25519":
		if s.Scheme != "ed25519" {
			return nil, fmt.Errorf("%s: scheme %q does not fit keytype ed25519", name, s.Scheme)
		}
		raw, err := hex.DecodeString(s.KeyVal.Public)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%s: keyval.public is not %d hex-encoded bytes of an Ed25519 key", name, ed25519.PublicKeySize)
		}
		pub = ed25519.PublicKey(raw)
	case "rsa", "ecdsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521":
		b, rest := pem.Decode([]byte(s.KeyVal.Public))
		if b == nil || b.Type != "PUBLIC KEY" || len(bytes.TrimSpace(rest)) != 0 {
			return nil, fmt.Errorf("%s: keyval.public is not one PEM PUBLIC KEY block", name)
		}
		p, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: keyval.public: %w", name, err)
		}
		pub = p
		if err := s.checkScheme(p); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	default:
		return nil, fmt.Errorf("%s: unsupported keytype %q", name, s.KeyType)
	}
	return New(pub, name)
}

// checkScheme requires an RSA key under an RSA scheme and an ECDSA key on
// the curve its scheme names.
func (s *SSLib) checkScheme(pub any) error {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if s.KeyType != "rsa" {
			return fmt.Errorf("keytype %q holds an RSA key", s.KeyType)
		}
		if s.Scheme != "rsassa-pss-sha256" && s.Scheme != "rsa-pkcs1v15-sha256" {
			return fmt.Errorf("unsupported RSA scheme %q", s.Scheme)
		}
	case *ecdsa.PublicKey:
		if !strings.HasPrefix(s.KeyType, "ecdsa") {
			return fmt.Errorf("keytype %q holds an ECDSA key", s.KeyType)
		}
		want := map[string]elliptic.Curve{"ecdsa-sha2-nistp256": elliptic.P256(),
			"ecdsa-sha2-nistp384": elliptic.P384(), "ecdsa-sha2-nistp521": elliptic.P521()}[s.Scheme]
		if want == nil || want != p.Curve {
			return fmt.Errorf("scheme %q does not fit the key's curve %s", s.Scheme, p.Curve.Params().Name)
		}
		if s.KeyType != "ecdsa" && s.KeyType != s.Scheme {
			return fmt.Errorf("keytype %q and scheme %q disagree", s.KeyType, s.Scheme)
		}
	default:
		return fmt.Errorf("unsupported key %T", pub)
	}
	return nil
}

// SSLibOf describes a public key the way securesystemslib and in-toto-golang
// do when they load it from PEM: RSA under rsassa-pss-sha256, ECDSA under the
// scheme of its curve, Ed25519 as hex, with the default keyid hash
// algorithms.
func SSLibOf(k *Key) (*SSLib, error) {
	s := &SSLib{KeyIDHashAlgorithms: DefaultKeyIDHashAlgorithms}
	switch p := k.Public.(type) {
	case ed25519.PublicKey:
		s.KeyType, s.Scheme, s.KeyVal.Public = "ed25519", "ed25519", hex.EncodeToString(p)
		return s, nil
	case *rsa.PublicKey:
		s.KeyType, s.Scheme = "rsa", "rsassa-pss-sha256"
	case *ecdsa.PublicKey:
		s.KeyType = "ecdsa"
		s.Scheme = "ecdsa-sha2-nistp" + strings.TrimPrefix(p.Curve.Params().Name, "P-")
	default:
		return nil, fmt.Errorf("%s: unsupported key %T", k, k.Public)
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	s.KeyVal.Public = strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	return s, nil
}

// KeyIDs are the key IDs that in-toto implementations assign to this key,
// most specific first: the sha256 of the canonical JSON of
// {keytype, scheme, keyval: {public}} together with keyid_hash_algorithms
// as the file has them (in-toto-golang, and securesystemslib before 0.28,
// always add ["sha256", "sha512"]), and without them (securesystemslib
// 0.28 and later, in-toto 2 and 3). A PEM public value is also hashed with
// the trailing newline that Python's PEM encoder leaves on it.
func (s *SSLib) KeyIDs() []string {
	publics := []string{s.KeyVal.Public}
	if strings.HasPrefix(s.KeyVal.Public, "-----BEGIN") {
		trimmed := strings.TrimSpace(s.KeyVal.Public)
		publics = append(publics, trimmed, trimmed+"\n")
	}
	var ids []string
	for _, pub := range publics {
		for _, algs := range [][]string{s.KeyIDHashAlgorithms, DefaultKeyIDHashAlgorithms, nil} {
			m := map[string]any{"keytype": s.KeyType, "scheme": s.Scheme, "keyval": map[string]any{"public": pub}}
			if algs != nil {
				m["keyid_hash_algorithms"] = algs
			}
			id, err := canonicalID(m)
			if err == nil && !contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func canonicalID(m map[string]any) (string, error) {
	b, err := cjson.EncodeCanonical(m)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", errors.New("empty canonical encoding")
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
