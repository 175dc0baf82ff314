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

func TestParseSSLib(t *testing.T) {
	const ed = `{"keytype": "ed25519", "scheme": "ed25519", "keyid_hash_algorithms": ["sha256", "sha512"], "keyval": {"public": "3a99005db31af7375e0f706c0be64b23f8ef3f93187a0937ffc922554b897d9f"}}`
	s, k, err := keys.ParseSSLib([]byte(ed), "ed.pub")
	if err != nil || k.Type != "ed25519" {
		t.Fatalf("ed25519 JSON key: %v %v", err, k)
	}
	viaPEM, err := keys.ParsePEM([]byte(ed), "ed.pub")
	if err != nil || viaPEM[0].ID != k.ID {
		t.Fatalf("ParsePEM of a JSON key: %v", err)
	}
	ids := s.KeyIDs()
	if len(ids) != 2 || ids[0] == ids[1] {
		t.Fatalf("want the IDs with and without keyid_hash_algorithms, got %v", ids)
	}
	withID := strings.Replace(ed, `"keyval"`, `"keyid": "`+ids[1]+`", "keyval"`, 1)
	if _, _, err := keys.ParseSSLib([]byte(withID), "id.pub"); err != nil {
		t.Fatalf("a keyid that derives from the key: %v", err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	pemText := strings.ReplaceAll(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "\n", `\n`)
	ecJSON := func(keytype, scheme string) string {
		return `{"keytype": "` + keytype + `", "scheme": "` + scheme + `", "keyval": {"public": "` + pemText + `"}}`
	}
	for _, kt := range []string{"ecdsa", "ecdsa-sha2-nistp256"} {
		if _, k, err := keys.ParseSSLib([]byte(ecJSON(kt, "ecdsa-sha2-nistp256")), kt); err != nil || k.Type != "ecdsa-p256" {
			t.Fatalf("keytype %s: %v", kt, err)
		}
	}
	for name, data := range map[string]string{
		"private":          strings.Replace(ed, `"keyval": {`, `"keyval": {"private": "aa", `, 1),
		"foreign keyid":    strings.Replace(ed, `"keyval"`, `"keyid": "00", "keyval"`, 1),
		"short hex":        strings.Replace(ed, `"3a99`, `"`, 1),
		"scheme mismatch":  strings.Replace(ed, `"scheme": "ed25519"`, `"scheme": "rsassa-pss-sha256"`, 1),
		"duplicate member": strings.Replace(ed, `"scheme": "ed25519"`, `"scheme": "ed25519", "scheme": "ed25519"`, 1),
		"unknown keytype":  strings.Replace(ed, `"keytype": "ed25519"`, `"keytype": "dsa"`, 1),
		"curve mismatch":   ecJSON("ecdsa", "ecdsa-sha2-nistp384"),
		"ecdsa as rsa":     ecJSON("rsa", "rsassa-pss-sha256"),
	} {
		if _, _, err := keys.ParseSSLib([]byte(data), name); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
