//go:build !js

package sigstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// legacyFromBundle rewrites a v0.1 sigstore bundle in cosign's older
// format, as cosign sign-blob --bundle wrote it.
func legacyFromBundle(t *testing.T, data []byte) *CosignSignature {
	t.Helper()
	var b struct {
		VerificationMaterial struct {
			X509CertificateChain struct {
				Certificates []struct {
					RawBytes []byte `json:"rawBytes"`
				} `json:"certificates"`
			} `json:"x509CertificateChain"`
			TlogEntries []struct {
				LogIndex string `json:"logIndex"`
				LogID    struct {
					KeyID []byte `json:"keyId"`
				} `json:"logId"`
				IntegratedTime   string `json:"integratedTime"`
				InclusionPromise struct {
					SignedEntryTimestamp string `json:"signedEntryTimestamp"`
				} `json:"inclusionPromise"`
				CanonicalizedBody string `json:"canonicalizedBody"`
			} `json:"tlogEntries"`
		} `json:"verificationMaterial"`
		MessageSignature struct {
			Signature string `json:"signature"`
		} `json:"messageSignature"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	e := b.VerificationMaterial.TlogEntries[0]
	var idx, it int64
	if err := json.Unmarshal([]byte(e.LogIndex), &idx); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(e.IntegratedTime), &it); err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.VerificationMaterial.X509CertificateChain.Certificates[0].RawBytes})
	return &CosignSignature{
		Base64Signature: b.MessageSignature.Signature,
		Cert:            base64.StdEncoding.EncodeToString(certPEM),
		RekorBundle: &RekorBundle{SignedEntryTimestamp: e.InclusionPromise.SignedEntryTimestamp,
			Payload: RekorPayload{Body: e.CanonicalizedBody, IntegratedTime: it, LogIndex: idx, LogID: hex.EncodeToString(e.LogID.KeyID)}},
	}
}

func TestFromCosign(t *testing.T) {
	dir := conformanceDir(t)
	data, err := os.ReadFile(filepath.Join(dir, "bundle-verify", "happy-path-v0.1", "bundle.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.ReadFile(filepath.Join(dir, "trusted_root.production.json"))
	if err != nil {
		t.Fatal(err)
	}
	art, err := os.ReadFile(filepath.Join(dir, "a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(art)
	p := Policy{TrustedRoot: root, Identity: defaultIdentity, Issuer: defaultIssuer}
	verifyLegacy := func(cs *CosignSignature) error {
		raw, err := json.Marshal(cs)
		if err != nil {
			t.Fatal(err)
		}
		if !IsCosignSignature(raw) {
			t.Fatal("not recognised as cosign's format")
		}
		parsed, err := ParseCosignSignature(raw)
		if err != nil {
			t.Fatal(err)
		}
		b, err := FromCosign(parsed, sum[:])
		if err != nil {
			return err
		}
		_, err = Verify(context.Background(), b, Artifact{Reader: bytes.NewReader(art)}, p)
		return err
	}
	if err := verifyLegacy(legacyFromBundle(t, data)); err != nil {
		t.Fatalf("converted bundle: %v", err)
	}
	// Each edit breaks what the log or the certificate authority signed.
	for name, edit := range map[string]func(*CosignSignature){
		"integrated time": func(c *CosignSignature) { c.RekorBundle.Payload.IntegratedTime++ },
		"log index":       func(c *CosignSignature) { c.RekorBundle.Payload.LogIndex++ },
		"no rekor bundle": func(c *CosignSignature) { c.RekorBundle = nil },
		"no certificate":  func(c *CosignSignature) { c.Cert = "" },
		"signature": func(c *CosignSignature) {
			c.Base64Signature = base64.StdEncoding.EncodeToString([]byte("not a signature"))
		},
	} {
		cs := legacyFromBundle(t, data)
		edit(cs)
		if err := verifyLegacy(cs); err == nil {
			t.Errorf("%s: edited cosign bundle verified", name)
		}
	}
	if IsCosignSignature(data) {
		t.Error("a sigstore bundle was taken for cosign's format")
	}
}

// TestForgedSecondLogEntry: a bundle with one good log entry and a second
// whose signed entry timestamp does not verify is rejected, although one
// verified entry meets sigstore-go's threshold.
func TestForgedSecondLogEntry(t *testing.T) {
	dir := conformanceDir(t)
	data, err := os.ReadFile(filepath.Join(dir, "bundle-verify", "happy-path-v0.1", "bundle.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.ReadFile(filepath.Join(dir, "trusted_root.production.json"))
	if err != nil {
		t.Fatal(err)
	}
	art, err := os.ReadFile(filepath.Join(dir, "a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	vm := b["verificationMaterial"].(map[string]any)
	entries := vm["tlogEntries"].([]any)
	forged := map[string]any{}
	for k, v := range entries[0].(map[string]any) {
		forged[k] = v
	}
	forged["logIndex"] = "1"
	vm["tlogEntries"] = append(entries, forged)
	edited, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{TrustedRoot: root, Identity: defaultIdentity, Issuer: defaultIssuer}
	res, err := Verify(context.Background(), edited, Artifact{Reader: bytes.NewReader(art)}, p)
	var e *Error
	if !errors.As(err, &e) || e.Check != CheckTransparencyLog || res.Verified {
		t.Fatalf("want a transparency-log failure, got %v", err)
	}
	// The untouched bundle verifies.
	if _, err := Verify(context.Background(), data, Artifact{Reader: bytes.NewReader(art)}, p); err != nil {
		t.Fatal(err)
	}
}
