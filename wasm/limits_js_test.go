package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// The limits option is the CLI's --limit: it bounds the files of trust
// the options hand over and the image itself, and each limit that is hit
// is named.
func TestLimitsOption(t *testing.T) {
	var buf bytes.Buffer
	if err := fixtures.MustBuild(fixtures.Default()).WriteOCIArchive(&buf, false); err != nil {
		t.Fatal(err)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	key := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	pol := "apiVersion: " + policy.APIVersion + "\nrequireSignature: true\n"
	env := []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"","signatures":[]}`)

	// Under the default limits, or raised ones, the same options are taken.
	for _, lim := range []any{nil, map[string]any{"key-file-bytes": 1 << 20}} {
		opts := map[string]any{"keys": []any{key, jsBytes([]byte(key))}, "policy": jsBytes([]byte(pol)),
			"attestations": []any{jsFile("env.json", env)}}
		if lim != nil {
			opts["limits"] = lim
		}
		if _, err := callRun(t, jsBytes(buf.Bytes()), opts); err != nil {
			t.Fatalf("limits %v: %v", lim, err)
		}
	}
	for name, c := range map[string]struct {
		opts map[string]any
		want string
	}{
		"key string": {map[string]any{"keys": []any{key}, "limits": map[string]any{"key-file-bytes": 10}},
			"imgproof: key: keys[0]: key-file-bytes limit of 10 exceeded"},
		"key Blob": {map[string]any{"keys": []any{jsFile("k.pub", []byte(key))}, "limits": map[string]any{"key-file-bytes": 10}},
			"imgproof: key: k.pub: key-file-bytes limit of 10 exceeded"},
		"policy": {map[string]any{"policy": jsBytes([]byte(pol)), "limits": map[string]any{"policy-file-bytes": 10}},
			"imgproof: policy: policy: policy-file-bytes limit of 10 exceeded"},
		"attestation": {map[string]any{"attestations": []any{jsFile("env.json", env)}, "limits": map[string]any{"claim-file-bytes": 10}},
			"imgproof: attestation: env.json: claim-file-bytes limit of 10 exceeded"},
		"unknown kind":  {map[string]any{"limits": map[string]any{"no-such-limit": 1}}, `imgproof: limits: unknown limit "no-such-limit"`},
		"not whole":     {map[string]any{"limits": map[string]any{"key-file-bytes": 1.5}}, "imgproof: limits: key-file-bytes must be a whole number"},
		"not positive":  {map[string]any{"limits": map[string]any{"key-file-bytes": 0}}, "imgproof: limits: limit key-file-bytes must be positive, not 0"},
		"not a number":  {map[string]any{"limits": map[string]any{"key-file-bytes": "8KiB"}}, "imgproof: limits: key-file-bytes must be a whole number"},
		"not an object": {map[string]any{"limits": 7}, "imgproof: limits must be an object mapping limit kinds to numbers"},
	} {
		if _, err := callRun(t, jsBytes(buf.Bytes()), c.opts); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}

	// The image is read under the same limits.
	got, err := callRun(t, jsBytes(buf.Bytes()), map[string]any{"limits": map[string]any{"manifest-document-bytes": 16}})
	if err != nil {
		t.Fatal(err)
	}
	var rep verify.Report
	if err := json.Unmarshal([]byte(got), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != verify.Unverifiable || !rep.Has(verify.CodeLimitExceeded) || !strings.Contains(got, "manifest-document-bytes") {
		t.Fatalf("manifest-document-bytes=16: %s, findings %v", rep.Verdict, rep.Findings)
	}
}
