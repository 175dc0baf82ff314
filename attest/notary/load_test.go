//go:build !js

package notary_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest/notary"
	"github.com/imgproof/imgproof/attest/notary/notarytest"
	"github.com/imgproof/imgproof/internal/limits"
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

// Each trust store file and CRL is bounded by certificate-file-bytes: the
// store is refused as it is opened, naming the file, and the CRL before
// it is parsed; a raised limit admits what the default refuses.
func TestStoreAndCRLLimits(t *testing.T) {
	root := notarytest.NewCA(t, "r")
	store := notarytest.Store(t, "s", root)
	pemFile := filepath.Join(store, "x509", "ca", "s", "ca0.pem")
	fi, err := os.Stat(pemFile)
	if err != nil {
		t.Fatal(err)
	}
	lim := limits.Default()
	lim.CertificateFile = fi.Size() - 1
	var le *limits.Error
	if _, err := notary.OpenStoreLimited(store, lim); !errors.As(err, &le) || le.Kind != limits.CertificateFile || le.What != pemFile {
		t.Fatalf("certificate-file-bytes=%d: %v", lim.CertificateFile, err)
	}
	lim.CertificateFile = fi.Size()
	if _, err := notary.OpenStoreLimited(store, lim); err != nil {
		t.Fatalf("certificate-file-bytes=%d: %v", lim.CertificateFile, err)
	}

	crl := readCRLData(t, "leaf.crl")
	if _, err := notary.ParseCRL(crl); err != nil {
		t.Fatal(err)
	}
	lim.CertificateFile = int64(len(crl)) - 1
	if _, err := notary.ParseCRLLimited(crl, lim); !errors.As(err, &le) || le.Kind != limits.CertificateFile {
		t.Fatalf("CRL of %d bytes, limit %d: %v", len(crl), lim.CertificateFile, err)
	}
	// Past the default, a larger limit is honoured.
	big := append(bytes.Repeat([]byte("#"), int(limits.Default().CertificateFile)), crl...)
	if _, err := notary.ParseCRL(big); !errors.As(err, &le) {
		t.Fatalf("a CRL past the default: %v", err)
	}
	lim.CertificateFile = int64(len(big))
	if _, err := notary.ParseCRLLimited(big, lim); errors.As(err, &le) {
		t.Fatalf("a CRL within a raised limit: %v", err)
	}
}
