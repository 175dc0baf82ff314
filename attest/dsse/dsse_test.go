package dsse_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/imgproof/imgproof/attest/dsse"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/internal/limits"
)

// TestPAEVector pins PAE's bytes: the test vector of DSSE protocol.md,
// then lengths counted in bytes (not runes), empty fields, separators and
// binary inside the fields, and lengths of several digits. Each is also
// compared with go-securesystemslib's independent PAE.
func TestPAEVector(t *testing.T) {
	long := bytes.Repeat([]byte{'x'}, 1000)
	for _, c := range []struct {
		typ     string
		payload []byte
		want    string
	}{
		{"http://example.com/HelloWorld", []byte("hello world"), "DSSEv1 29 http://example.com/HelloWorld 11 hello world"},
		{"", nil, "DSSEv1 0  0 "},
		{"t", []byte("é"), "DSSEv1 1 t 2 é"},
		{"类型", []byte("中文"), "DSSEv1 6 类型 6 中文"},
		{"a b", []byte(" 1 x\n\x00"), "DSSEv1 3 a b 6  1 x\n\x00"},
		{"application/vnd.in-toto+json", long, "DSSEv1 28 application/vnd.in-toto+json 1000 " + string(long)},
	} {
		got := dsse.PAE(c.typ, c.payload)
		if string(got) != c.want {
			t.Errorf("PAE(%q, %q) = %q, want %q", c.typ, c.payload, got, c.want)
		}
		if ref := ssldsse.PAE(c.typ, c.payload); !bytes.Equal(got, ref) {
			t.Errorf("PAE(%q, %q) = %q, go-securesystemslib gives %q", c.typ, c.payload, got, ref)
		}
	}
}

// TestPAEMatchesReference compares PAE with go-securesystemslib's on
// random types and payloads, lengths from 0 to 4 digits.
func TestPAEMatchesReference(t *testing.T) {
	for i := range 200 {
		typ := make([]byte, i%37)
		payload := make([]byte, (i*53)%2048)
		rand.Read(typ)
		rand.Read(payload)
		got, ref := dsse.PAE(string(typ), payload), ssldsse.PAE(string(typ), payload)
		if !bytes.Equal(got, ref) {
			t.Fatalf("PAE(%q, %q) = %q, go-securesystemslib gives %q", typ, payload, got, ref)
		}
	}
}

// sslSigner adapts a sigstore signer (written independently of this
// package) to go-securesystemslib's envelope signer.
type sslSigner struct {
	s  signature.Signer
	id string
}

func (s sslSigner) Sign(_ context.Context, data []byte) ([]byte, error) {
	return s.s.SignMessage(bytes.NewReader(data))
}
func (s sslSigner) KeyID() (string, error) { return s.id, nil }

type testKey struct {
	name   string
	signer signature.Signer
	pub    crypto.PublicKey
}

func genKeys(t *testing.T) []testKey {
	t.Helper()
	var out []testKey
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s256, _ := signature.LoadECDSASigner(p256, crypto.SHA256)
	s384, _ := signature.LoadECDSASigner(p384, crypto.SHA384)
	sed, _ := signature.LoadED25519Signer(edPriv)
	sv15, _ := signature.LoadRSAPKCS1v15Signer(rsaKey, crypto.SHA256)
	spss, _ := signature.LoadRSAPSSSigner(rsaKey, crypto.SHA256, nil)
	out = append(out,
		testKey{"ecdsa-p256", s256, &p256.PublicKey},
		testKey{"ecdsa-p384", s384, &p384.PublicKey},
		testKey{"ed25519", sed, edPriv.Public()},
		testKey{"rsa-pkcs1v15", sv15, &rsaKey.PublicKey},
		testKey{"rsa-pss", spss, &rsaKey.PublicKey},
	)
	return out
}

func seal(t *testing.T, payloadType string, payload []byte, signers ...testKey) []byte {
	t.Helper()
	var ss []ssldsse.Signer
	for _, k := range signers {
		ss = append(ss, sslSigner{k.signer, k.name})
	}
	es, err := ssldsse.NewEnvelopeSigner(ss...)
	if err != nil {
		t.Fatal(err)
	}
	env, err := es.SignPayload(context.Background(), payloadType, payload)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func trusted(t *testing.T, k testKey) *keys.Key {
	t.Helper()
	kk, err := keys.New(k.pub, k.name)
	if err != nil {
		t.Fatal(err)
	}
	return kk
}

func TestVerifyAlgorithms(t *testing.T) {
	lim := limits.Default()
	payload := []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)
	ks := genKeys(t)
	for _, k := range ks {
		t.Run(k.name, func(t *testing.T) {
			raw := seal(t, "application/vnd.in-toto+json", payload, k)
			env, err := dsse.Parse(raw, lim)
			if err != nil {
				t.Fatal(err)
			}
			res, err := dsse.Verify(env, []*keys.Key{trusted(t, k)}, 1)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if !bytes.Equal(res.Payload, payload) || len(res.Signers) != 1 {
				t.Fatalf("payload %q signers %d", res.Payload, len(res.Signers))
			}
			// A different key of another type never verifies it.
			other := ks[(indexOf(ks, k.name)+1)%len(ks)]
			if other.pub == k.pub {
				other = ks[0]
			}
			if _, err := dsse.Verify(env, []*keys.Key{trusted(t, other)}, 1); !errors.Is(err, dsse.ErrNoSignature) {
				t.Fatalf("verified under the wrong key: %v", err)
			}
			// Changing the payload type breaks every signature.
			env.PayloadType = "application/json"
			if _, err := dsse.Verify(env, []*keys.Key{trusted(t, k)}, 1); !errors.Is(err, dsse.ErrNoSignature) {
				t.Fatalf("payloadType not covered by the signature: %v", err)
			}
		})
	}
}

func indexOf(ks []testKey, name string) int {
	for i, k := range ks {
		if k.name == name {
			return i
		}
	}
	return -1
}

func TestThresholdCountsDistinctKeys(t *testing.T) {
	lim := limits.Default()
	ks := genKeys(t)
	a, b := ks[0], ks[2]
	payload := []byte("{}")
	// a signs twice: still one key.
	twice, err := dsse.Parse(seal(t, "application/vnd.in-toto+json", payload, a, a), lim)
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := trusted(t, a), trusted(t, b)
	// The same key loaded twice (two files) is still one key.
	ta2 := trusted(t, a)
	if _, err := dsse.Verify(twice, []*keys.Key{ta, ta2, tb}, 2); !errors.Is(err, dsse.ErrThreshold) {
		t.Fatalf("one key signing twice met a threshold of 2: %v", err)
	}
	both, err := dsse.Parse(seal(t, "application/vnd.in-toto+json", payload, a, b), lim)
	if err != nil {
		t.Fatal(err)
	}
	res, err := dsse.Verify(both, []*keys.Key{ta, tb}, 2)
	if err != nil || len(res.Signers) != 2 {
		t.Fatalf("two keys: %v, %d signers", err, len(res.Signers))
	}
	if _, err := dsse.Verify(both, []*keys.Key{ta, tb}, 3); !errors.Is(err, dsse.ErrThreshold) {
		t.Fatalf("threshold 3 met by 2 keys: %v", err)
	}
	if _, err := dsse.Verify(both, []*keys.Key{ta, tb}, 0); err == nil {
		t.Fatal("threshold 0 accepted")
	}
}

func TestBase64Alphabets(t *testing.T) {
	lim := limits.Default()
	k := genKeys(t)[0]
	// A payload whose standard encoding uses + and /.
	payload := []byte{0xfb, 0xff, 0xfe, '{', '}'}
	raw := seal(t, "application/vnd.in-toto+json", payload, k)
	var env dsse.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		e := env
		e.Payload = enc.EncodeToString(payload)
		e.Signatures = []dsse.Signature{{Sig: enc.EncodeToString(sig)}}
		b, _ := json.Marshal(e)
		pe, err := dsse.Parse(b, lim)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		if res, err := dsse.Verify(pe, []*keys.Key{trusted(t, k)}, 1); err != nil || !bytes.Equal(res.Payload, payload) {
			t.Fatalf("alphabet %v: %v", enc, err)
		}
	}
	for _, bad := range []string{"a b", "+-==", "****", "YQ==\n"} {
		if _, err := dsse.DecodeBase64(bad); err == nil {
			t.Fatalf("%q decoded", bad)
		}
	}
}

func TestParseRejects(t *testing.T) {
	lim := limits.Default()
	for name, doc := range map[string]string{
		"duplicate payload":  `{"payloadType":"application/vnd.in-toto+json","payload":"e30=","payload":"W10=","signatures":[{"sig":"AA=="}]}`,
		"aliased payload":    `{"payloadType":"application/vnd.in-toto+json","Payload":"e30=","signatures":[{"sig":"AA=="}]}`,
		"no signatures":      `{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`,
		"empty payload type": `{"payloadType":"","payload":"e30=","signatures":[{"sig":"AA=="}]}`,
		"bad base64":         `{"payloadType":"application/vnd.in-toto+json","payload":"e30=!","signatures":[{"sig":"AA=="}]}`,
		"trailing data":      `{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="}]} {}`,
	} {
		if _, err := dsse.Parse([]byte(doc), lim); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	many := `{"payloadType":"t","payload":"e30=","signatures":[` + strings.Repeat(`{"sig":"AA=="},`, lim.Signatures) + `{"sig":"AA=="}]}`
	if _, err := dsse.Parse([]byte(many), lim); !errors.Is(err, limits.ErrLimit) {
		t.Errorf("too many signatures: %v", err)
	}
}
