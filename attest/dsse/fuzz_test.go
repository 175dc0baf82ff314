//go:build !js

package dsse_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"testing"

	"github.com/imgproof/imgproof/attest/dsse"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/fixtures/hostile"
	"github.com/imgproof/imgproof/internal/limits"
)

// The key of the hostile corpus's envelopes (seeded "a").
func corpusKey(t testing.TB) *keys.Key {
	seed := sha256.Sum256([]byte("imgproof hostile corpus key a"))
	der, err := x509.MarshalPKIXPublicKey(ed25519.NewKeyFromSeed(seed[:]).Public())
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keys.ParsePEM(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "corpus")
	if err != nil {
		t.Fatal(err)
	}
	return ks[0]
}

// FuzzEnvelope parses and verifies arbitrary envelopes. Parsing is
// deterministic; a verified envelope's payload is exactly what
// encoding/json and a base64 decoder read from the same bytes, and the
// signature is over PAE of that payload, checked here with crypto/ed25519.
func FuzzEnvelope(f *testing.F) {
	for _, e := range hostile.FuzzSeeds(1 << 20).Envelopes {
		f.Add(e)
	}
	k := corpusKey(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := limits.Default()
		e, err := dsse.Parse(data, lim)
		_, err2 := dsse.Parse(data, lim)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("inconsistent: %v then %v", err, err2)
		}
		if err != nil {
			return
		}
		res, err := dsse.Verify(e, []*keys.Key{k}, 1)
		if err != nil {
			if res != nil && res.Payload != nil {
				t.Fatal("failed verification returned a payload")
			}
			return
		}
		var loose struct {
			PayloadType string `json:"payloadType"`
			Payload     string `json:"payload"`
			Signatures  []struct {
				Sig string `json:"sig"`
			} `json:"signatures"`
		}
		if err := json.Unmarshal(data, &loose); err != nil {
			t.Fatalf("verified an envelope encoding/json rejects: %v", err)
		}
		if loose.PayloadType != res.PayloadType {
			t.Fatalf("payloadType: verified %q, encoding/json reads %q", res.PayloadType, loose.PayloadType)
		}
		p, err := base64.StdEncoding.DecodeString(loose.Payload)
		if err != nil {
			if p, err = base64.URLEncoding.DecodeString(loose.Payload); err != nil {
				if p, err = base64.RawStdEncoding.DecodeString(loose.Payload); err != nil {
					p, err = base64.RawURLEncoding.DecodeString(loose.Payload)
				}
			}
		}
		if err != nil || !bytes.Equal(p, res.Payload) {
			t.Fatalf("verified payload differs from what encoding/json and base64 read (%v)", err)
		}
		pae := []byte("DSSEv1 " + itoa(len(res.PayloadType)) + " " + res.PayloadType + " " + itoa(len(p)) + " ")
		pae = append(pae, p...)
		ok := false
		for _, s := range loose.Signatures {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
				if sig, err := enc.DecodeString(s.Sig); err == nil && ed25519.Verify(k.Public.(ed25519.PublicKey), pae, sig) {
					ok = true
				}
			}
		}
		if !ok {
			t.Fatal("verified, but no signature verifies over PAE with crypto/ed25519")
		}
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
