//go:build !js

package sigstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/verify"
)

func TestPolicyValidate(t *testing.T) {
	root := []byte("{}")
	for _, tc := range []struct {
		name string
		p    Policy
		ok   bool
	}{
		{"zero value admits nothing", Policy{}, false},
		{"keyless without root", Policy{Identity: "a", Issuer: "b"}, false},
		{"identity only", Policy{TrustedRoot: root, Identity: "a"}, false},
		{"issuer only", Policy{TrustedRoot: root, Issuer: "b"}, false},
		{"exact and regexp identity", Policy{TrustedRoot: root, Identity: "a", IdentityRegexp: "a", Issuer: "b"}, false},
		{"exact and regexp issuer", Policy{TrustedRoot: root, Identity: "a", Issuer: "b", IssuerRegexp: "b"}, false},
		{"bad regexp", Policy{TrustedRoot: root, IdentityRegexp: "(", Issuer: "b"}, false},
		{"key and identity", Policy{Key: []byte("k"), Identity: "a"}, false},
		{"exact", Policy{TrustedRoot: root, Identity: "a", Issuer: "b"}, true},
		{"regexps", Policy{TrustedRoot: root, IdentityRegexp: "a.*", IssuerRegexp: "b"}, true},
		{"key alone", Policy{Key: []byte("k")}, true},
	} {
		err := tc.p.validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestAnchoredRegexp(t *testing.T) {
	p := Policy{IdentityRegexp: "a|b", IssuerRegexp: "https://x"}
	id, err := certificateIdentity(&p)
	if err != nil {
		t.Fatal(err)
	}
	// "a|b" anchored as ^(?:a|b)$ must not match "xa" or "bx".
	for s, want := range map[string]bool{"a": true, "b": true, "xa": false, "bx": false, "ab": false} {
		if got := id.SubjectAlternativeName.Regexp.MatchString(s); got != want {
			t.Errorf("identity regexp on %q = %v, want %v", s, got, want)
		}
	}
	if id.Issuer.Regexp.MatchString("https://x.evil") {
		t.Error("issuer regexp matched a longer value")
	}
}

func TestArtifactOption(t *testing.T) {
	good := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		a  Artifact
		ok bool
	}{
		{Artifact{}, false},
		{Artifact{Digest: good, Reader: bytes.NewReader(nil)}, false},
		{Artifact{Digest: good}, true},
		{Artifact{Digest: strings.ToUpper(good)}, false},
		{Artifact{Digest: "sha256:" + strings.Repeat("AB", 32)}, false},
		{Artifact{Digest: "sha256:abcd"}, false},
		{Artifact{Digest: "md5:" + strings.Repeat("ab", 16)}, false},
		{Artifact{Digest: strings.Repeat("ab", 32)}, false},
		{Artifact{Reader: bytes.NewReader([]byte("x"))}, true},
	} {
		_, _, err := artifactOption(tc.a)
		if (err == nil) != tc.ok {
			t.Errorf("%+v: %v, want ok=%v", tc.a, err, tc.ok)
		}
	}
}

// TestVerifyFailsClosed feeds broken inputs and checks each gives the
// named check, the right category, and a finding with the right severity.
func TestVerifyFailsClosed(t *testing.T) {
	dir := conformanceDir(t)
	root, err := os.ReadFile(filepath.Join(dir, "trusted_root.production.json"))
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, "bundle-verify", "happy-path-v0.3", "bundle.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	art, err := os.ReadFile(filepath.Join(dir, "a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{TrustedRoot: root, Identity: defaultIdentity, Issuer: defaultIssuer}
	dupKey := bytes.Replace(good, []byte(`"mediaType":`), []byte(`"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "mediaType":`), 1)
	unknownField := bytes.Replace(good, []byte(`"mediaType":`), []byte(`"extra": 1, "mediaType":`), 1)
	if bytes.Equal(dupKey, good) || bytes.Equal(unknownField, good) {
		t.Fatal("test edits did not apply")
	}
	huge := make([]byte, 17<<20)
	for _, tc := range []struct {
		name     string
		bundle   []byte
		policy   Policy
		check    string
		kind     error
		severity verify.Severity
	}{
		{"empty", nil, p, CheckBundle, ErrMalformed, verify.SeverityError},
		{"not json", []byte("{"), p, CheckBundle, ErrMalformed, verify.SeverityError},
		{"duplicate key", dupKey, p, CheckBundle, ErrMalformed, verify.SeverityError},
		{"unknown field", unknownField, p, CheckBundle, ErrMalformed, verify.SeverityError},
		{"oversized", huge, p, CheckBundle, ErrMalformed, verify.SeverityUnverifiable},
		{"bad trusted root", good, Policy{TrustedRoot: []byte(`{"mediaType":1}`), Identity: "a", Issuer: "b"}, CheckTrustedRoot, ErrTrustedRoot, verify.SeverityUnverifiable},
		{"no identity", good, Policy{TrustedRoot: root}, CheckPolicy, ErrPolicy, verify.SeverityUnverifiable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Verify(context.Background(), tc.bundle, Artifact{Reader: bytes.NewReader(art)}, tc.policy)
			var e *Error
			if !errors.As(err, &e) || res.Verified {
				t.Fatalf("want *Error, got %v (verified=%v)", err, res.Verified)
			}
			if e.Check != tc.check || !errors.Is(err, tc.kind) {
				t.Fatalf("got %s / %v, want %s / %v", e.Check, err, tc.check, tc.kind)
			}
			if f := e.Finding("bundle"); f.Severity != tc.severity || f.Code == "" {
				t.Fatalf("finding %+v, want severity %s", f, tc.severity)
			}
			if a := res.Attestation("sigstore-bundle", "test"); a.Status != "failed" || len(a.Signers) != 0 {
				t.Fatalf("attestation %+v", a)
			}
		})
	}
	// The untouched bundle verifies, so the failures above are the edits'.
	res, err := Verify(context.Background(), good, Artifact{Reader: bytes.NewReader(art)}, p)
	if err != nil || !res.Verified || res.IntegratedTime().IsZero() || res.Signer != defaultIdentity || res.Issuer != defaultIssuer {
		t.Fatalf("good bundle: %v %+v", err, res)
	}
	if a := res.Attestation("sigstore-bundle", "test"); a.Status != "verified" || len(a.Signers) != 1 {
		t.Fatalf("attestation %+v", a)
	}
}

// FuzzVerify checks that no bundle makes Verify panic, and that Verified
// and the error always agree.
func FuzzVerify(f *testing.F) {
	dir := "../../../shared/testdata/sigstore-conformance"
	matches, _ := filepath.Glob(filepath.Join(dir, "bundle-verify", "*", "bundle.sigstore.json"))
	for i, m := range matches {
		if i%4 != 0 {
			continue
		}
		if b, err := os.ReadFile(m); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	root, err := os.ReadFile(filepath.Join(dir, "trusted_root.production.json"))
	if err != nil {
		root = []byte("{}")
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := Verify(context.Background(), b, Artifact{Digest: "sha256:" + strings.Repeat("00", 32)},
			Policy{TrustedRoot: root, Identity: defaultIdentity, Issuer: defaultIssuer})
		if res == nil || res.Verified != (err == nil) {
			t.Fatalf("verified=%v err=%v", res != nil && res.Verified, err)
		}
	})
}

// TestKeyWithoutTrustedRoot: with a key and no trusted root, the key is the
// only anchor; the log check is reported as skipped, the signature still
// decides.
func TestKeyWithoutTrustedRoot(t *testing.T) {
	dir := conformanceDir(t)
	art, err := os.ReadFile(filepath.Join(dir, "a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir string
		ok  bool
	}{{"managed-key-happy-path", true}, {"managed-key-wrong-key_fail", false}} {
		b, err := os.ReadFile(filepath.Join(dir, "bundle-verify", tc.dir, "bundle.sigstore.json"))
		if err != nil {
			t.Fatal(err)
		}
		key, err := os.ReadFile(filepath.Join(dir, "bundle-verify", tc.dir, "key.pub"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Verify(context.Background(), b, Artifact{Reader: bytes.NewReader(art)}, Policy{Key: key})
		if (err == nil) != tc.ok || res.Verified != tc.ok {
			t.Fatalf("%s: err=%v verified=%v", tc.dir, err, res.Verified)
		}
		if tc.ok && (res.Checks[1].Name != CheckTransparencyLog || res.Checks[1].Status != "skip") {
			t.Fatalf("%s: checks %+v", tc.dir, res.Checks)
		}
	}
}
