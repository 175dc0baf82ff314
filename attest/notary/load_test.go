//go:build !js

package notary_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest/notary"
	"github.com/imgproof/imgproof/attest/notary/notarytest"
)

func TestLoadPolicy(t *testing.T) {
	valid := `{"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["registry.example/app"],
		"signatureVerification":{"level":"strict","override":{"revocation":"log"},"verifyTimestamp":"afterCertExpiry"},
		"trustStores":["ca:a","tsa:t"],"trustedIdentities":["x509.subject: C=US, ST=WA, O=Org, CN=x"]}]}`
	if _, err := notary.LoadPolicy([]byte(valid)); err != nil {
		t.Fatalf("valid policy: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown field":        strings.Replace(valid, `"trustStores"`, `"trustStore":["ca:x"],"trustStores"`, 1),
		"version 2.0":          strings.Replace(valid, `"1.0"`, `"2.0"`, 1),
		"unknown level":        strings.Replace(valid, `"strict"`, `"lenient"`, 1),
		"integrity overridden": strings.Replace(valid, `"revocation":"log"`, `"integrity":"skip"`, 1),
		"bad store type":       strings.Replace(valid, `"ca:a"`, `"cert:a"`, 1),
		"identity without O":   strings.Replace(valid, `O=Org, `, ``, 1),
		"two documents":        valid + valid,
		"not JSON":             "version: 1.0",
	} {
		if _, err := notary.LoadPolicy([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestOpenStore(t *testing.T) {
	root := notarytest.NewCA(t, "r")
	direct := notarytest.Store(t, "s", root)
	// A notation configuration directory holds truststore/x509.
	conf := t.TempDir()
	if err := os.CopyFS(filepath.Join(conf, "truststore"), os.DirFS(direct)); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{direct, conf} {
		s, err := notary.OpenStore(dir)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		certs, err := s.GetCertificates(t.Context(), "ca", "s")
		if err != nil || len(certs) != 1 || !certs[0].Equal(root.Cert) {
			t.Fatalf("%s: certificates %v, %v", dir, certs, err)
		}
	}
	if _, err := notary.OpenStore(t.TempDir()); err == nil {
		t.Fatal("a directory without x509 was accepted")
	}
}
