//go:build !js

package sigstore

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/intotolayout/intototest"
	"github.com/imgproof/imgproof/verify"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// cli builds imgproof once per test binary.
func cli(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "imgproof-cli")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "imgproof")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/imgproof")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("building imgproof: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// run executes the CLI and returns its exit code and outputs.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(cli(t), args...)
	cmd.Env = append(os.Environ(), "IMGPROOF_TRUSTED_ROOT=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

// jsonReport runs the CLI with --output json and decodes the report.
func jsonReport(t *testing.T, wantCode int, args ...string) attest.Report {
	t.Helper()
	code, out, errOut := run(t, append(args, "--output", "json")...)
	if code != wantCode {
		t.Fatalf("exit %d, want %d\n%s%s", code, wantCode, out, errOut)
	}
	var rep attest.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	want := map[int]verify.Verdict{0: verify.Verified, 1: verify.Failed, 2: verify.Unverifiable}[wantCode]
	if rep.Verdict != want {
		t.Fatalf("verdict %s, want %s", rep.Verdict, want)
	}
	return rep
}

func hasCode(rep attest.Report, code verify.Code) bool {
	for _, f := range rep.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type ecKey struct {
	priv   *ecdsa.PrivateKey
	pubPEM []byte
}

func newECKey(t *testing.T) ecKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return ecKey{priv: k, pubPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})}
}

func (k ecKey) sign(t *testing.T, msg []byte) []byte {
	t.Helper()
	h := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func pae(typ string, body []byte) []byte {
	return []byte(fmt.Sprintf("DSSEv1 %d %s %d %s", len(typ), typ, len(body), body))
}

// envelope signs an in-toto statement about subjectDigest (hex sha256).
func envelope(t *testing.T, k ecKey, payloadType, predicateType, subjectDigest string) []byte {
	t.Helper()
	st := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"blob","digest":{"sha256":%q}}],"predicateType":%q,"predicate":{"buildDefinition":{"buildType":"x"}}}`,
		subjectDigest, predicateType)
	sig := k.sign(t, pae(payloadType, []byte(st)))
	env, err := json.Marshal(map[string]any{"payloadType": payloadType, "payload": base64.StdEncoding.EncodeToString([]byte(st)),
		"signatures": []map[string]string{{"keyid": "", "sig": base64.StdEncoding.EncodeToString(sig)}}})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

const slsaV1 = "https://slsa.dev/provenance/v1"

func TestVerifyBlobKey(t *testing.T) {
	dir := t.TempDir()
	blob := []byte("release artifact\n")
	sum := sha256.Sum256(blob)
	blobHex := hex.EncodeToString(sum[:])
	key, other := newECKey(t), newECKey(t)
	blobPath := write(t, dir, "blob", blob)
	tampered := write(t, dir, "tampered", []byte("release artifacT\n"))
	pub := write(t, dir, "key.pub", key.pubPEM)
	otherPub := write(t, dir, "other.pub", other.pubPEM)
	sig := write(t, dir, "blob.sig", []byte(base64.StdEncoding.EncodeToString(key.sign(t, blob))))
	rawSig := write(t, dir, "blob.sig.raw", key.sign(t, blob))

	t.Run("signature", func(t *testing.T) {
		rep := jsonReport(t, 0, "verify-blob", "--signature", sig, "--key", pub, blobPath)
		a := rep.Attestations[0]
		if a.Status != "verified" || len(a.Binds) != 1 || a.Binds[0].Digest != "sha256:"+blobHex {
			t.Fatalf("attestation %+v", a)
		}
		jsonReport(t, 0, "verify-blob", "--signature", rawSig, "--key", pub, blobPath)
		rep = jsonReport(t, 1, "verify-blob", "--signature", sig, "--key", pub, tampered)
		if !hasCode(rep, "E_SIGNATURE_INVALID") {
			t.Fatalf("findings %+v", rep.Findings)
		}
		rep = jsonReport(t, 1, "verify-blob", "--signature", sig, "--key", otherPub, blobPath)
		if !hasCode(rep, "E_SIGNATURE_INVALID") || rep.Attestations[0].Status != "failed" {
			t.Fatalf("findings %+v", rep.Findings)
		}
	})

	t.Run("envelope", func(t *testing.T) {
		good := write(t, dir, "good.dsse", envelope(t, key, "application/vnd.in-toto+json", slsaV1, blobHex))
		rep := jsonReport(t, 0, "verify-blob", "--envelope", good, "--key", pub, "--type", slsaV1, blobPath)
		if a := rep.Attestations[0]; a.PredicateType != slsaV1 || a.PayloadType != "application/vnd.in-toto+json" {
			t.Fatalf("attestation %+v", a)
		}
		// The same check by digest instead of file.
		jsonReport(t, 0, "verify-blob", "--envelope", good, "--key", pub, "sha256:"+blobHex)

		rep = jsonReport(t, 1, "verify-blob", "--envelope", good, "--key", pub, tampered)
		if !hasCode(rep, "E_SUBJECT_MISMATCH") {
			t.Fatalf("findings %+v", rep.Findings)
		}
		rep = jsonReport(t, 1, "verify-blob", "--envelope", good, "--key", pub, "--type", "https://spdx.dev/Document", blobPath)
		if !hasCode(rep, "E_PREDICATE_NOT_ALLOWED") {
			t.Fatalf("findings %+v", rep.Findings)
		}
		rep = jsonReport(t, 1, "verify-blob", "--envelope", good, "--key", otherPub, blobPath)
		if !hasCode(rep, "E_SIGNATURE_INVALID") {
			t.Fatalf("findings %+v", rep.Findings)
		}
		// A validly signed envelope whose payload type is not in-toto.
		swapped := write(t, dir, "swapped.dsse", envelope(t, key, "application/vnd.cncf.notary.payload.v1+json", slsaV1, blobHex))
		rep = jsonReport(t, 1, "verify-blob", "--envelope", swapped, "--key", pub, blobPath)
		if !hasCode(rep, "E_SIGNATURE_MALFORMED") {
			t.Fatalf("findings %+v", rep.Findings)
		}
		// Duplicate keys in the signed statement are rejected after the
		// signature verified.
		st := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","predicateType":%q,"subject":[{"digest":{"sha256":%q}}],"predicateType":"x"}`, slsaV1, blobHex)
		dup, _ := json.Marshal(map[string]any{"payloadType": "application/vnd.in-toto+json", "payload": base64.StdEncoding.EncodeToString([]byte(st)),
			"signatures": []map[string]string{{"sig": base64.StdEncoding.EncodeToString(key.sign(t, pae("application/vnd.in-toto+json", []byte(st))))}}})
		rep = jsonReport(t, 1, "verify-blob", "--envelope", write(t, dir, "dup.dsse", dup), "--key", pub, blobPath)
		if !hasCode(rep, "E_SIGNATURE_MALFORMED") {
			t.Fatalf("findings %+v", rep.Findings)
		}
	})

	t.Run("usage", func(t *testing.T) {
		for name, args := range map[string][]string{
			"no-input":         {"verify-blob", "--key", pub, blobPath},
			"two-inputs":       {"verify-blob", "--signature", sig, "--envelope", sig, "--key", pub, blobPath},
			"signature-no-key": {"verify-blob", "--signature", sig, "--certificate-identity", "a", "--certificate-oidc-issuer", "b", blobPath},
			"keyless-no-root":  {"verify-blob", "--bundle", sig, "--certificate-identity", "a", "--certificate-oidc-issuer", "b", blobPath},
			"no-issuer":        {"verify-blob", "--bundle", sig, "--certificate-identity", "a", "--trusted-root", pub, blobPath},
			"bad-output":       {"verify-blob", "--signature", sig, "--key", pub, "--output", "xml", blobPath},
			"missing-artifact": {"verify-blob", "--signature", sig, "--key", pub, filepath.Join(dir, "nope")},
		} {
			if code, out, errOut := run(t, args...); code != 64 {
				t.Errorf("%s: exit %d, want 64\n%s%s", name, code, out, errOut)
			}
		}
	})
}

// TestVerifyBlobKeyless checks identity matching on a real keyless bundle
// from the conformance data: regular expressions are anchored, and both an
// identity and an issuer are required.
func TestVerifyBlobKeyless(t *testing.T) {
	suite := suiteDir(t, repoRoot(t))
	bundle := filepath.Join(suite, "bundle-verify", "happy-path-v0.3", "bundle.sigstore.json")
	root := filepath.Join(suite, "trusted_root.production.json")
	artifact := filepath.Join(suite, "a.txt")
	base := []string{"verify-blob", "--bundle", bundle, "--trusted-root", root}
	for _, tc := range []struct {
		name  string
		flags []string
		code  int
		find  verify.Code
	}{
		{"exact", []string{"--certificate-identity", defaultIdentity, "--certificate-oidc-issuer", defaultIssuer}, 0, ""},
		{"regexp-whole", []string{"--certificate-identity-regexp", `https://github\.com/sigstore-conformance/.*@refs/heads/main`, "--certificate-oidc-issuer-regexp", `https://token\.actions\.githubusercontent\.com`}, 0, ""},
		{"regexp-substring", []string{"--certificate-identity-regexp", `sigstore-conformance`, "--certificate-oidc-issuer", defaultIssuer}, 1, "E_IDENTITY_MISMATCH"},
		{"issuer-prefix", []string{"--certificate-identity", defaultIdentity, "--certificate-oidc-issuer-regexp", `https://token\.actions`}, 1, "E_IDENTITY_MISMATCH"},
		{"wrong-identity", []string{"--certificate-identity", defaultIdentity + "x", "--certificate-oidc-issuer", defaultIssuer}, 1, "E_IDENTITY_MISMATCH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := jsonReport(t, tc.code, append(append(append([]string{}, base...), tc.flags...), artifact)...)
			if tc.find != "" && !hasCode(rep, tc.find) {
				t.Fatalf("findings %+v", rep.Findings)
			}
			if tc.code == 0 {
				a := rep.Attestations[0]
				if len(a.Signers) != 1 || !strings.HasPrefix(a.Signers[0], defaultIdentity) {
					t.Fatalf("signers %v", a.Signers)
				}
			}
		})
	}
	// The trusted root may come from the environment.
	cmd := exec.Command(cli(t), "verify-blob", "--bundle", bundle, "--certificate-identity", defaultIdentity,
		"--certificate-oidc-issuer", defaultIssuer, artifact)
	cmd.Env = append(os.Environ(), "IMGPROOF_TRUSTED_ROOT="+root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("with $IMGPROOF_TRUSTED_ROOT: %v\n%s", err, out)
	}
	// A key is not a certificate: a keyless bundle checked with a key fails.
	dir := t.TempDir()
	pub := write(t, dir, "key.pub", newECKey(t).pubPEM)
	rep := jsonReport(t, 1, "verify-blob", "--bundle", bundle, "--key", pub, "--trusted-root", root, artifact)
	if !hasCode(rep, "E_KEY_MISMATCH") {
		t.Fatalf("findings %+v", rep.Findings)
	}
}

func TestInTotoCLI(t *testing.T) {
	c := intototest.New(t, intototest.Mutate{})
	owner := write(t, c.Dir, "owner.pub", c.OwnerPub)
	product := write(t, t.TempDir(), "hello.tar", c.Product)
	base := []string{"in-toto", "verify", "--layout", c.Layout, "--layout-key", owner, "--link-dir", c.Dir}

	rep := jsonReport(t, 0, append(base, "--product", product)...)
	a := rep.Attestations[0]
	if a.Status != "verified" || len(a.Binds) != 1 || a.Binds[0].Digest != "sha256:"+intototest.Sha(c.Product) {
		t.Fatalf("attestation %+v", a)
	}
	code, out, _ := run(t, append(base, "--product", product, "--product-name", "hello.tar")...)
	if code != 0 || !strings.Contains(out, "hello.tar = sha256:") {
		t.Fatalf("exit %d\n%s", code, out)
	}

	wrong := write(t, t.TempDir(), "hello.tar", []byte("not the product"))
	rep = jsonReport(t, 1, append(base, "--product", wrong)...)
	if !hasCode(rep, "E_INTOTO_PRODUCT_MISMATCH") {
		t.Fatalf("findings %+v", rep.Findings)
	}

	other := intototest.New(t, intototest.Mutate{})
	rep = jsonReport(t, 1, "in-toto", "verify", "--layout", c.Layout, "--layout-key", write(t, other.Dir, "o.pub", other.OwnerPub), "--link-dir", c.Dir)
	if !hasCode(rep, "E_INTOTO_VERIFICATION") {
		t.Fatalf("findings %+v", rep.Findings)
	}

	insp := intototest.New(t, intototest.Mutate{Inspect: true})
	rep = jsonReport(t, 2, "in-toto", "verify", "--layout", insp.Layout, "--layout-key", write(t, insp.Dir, "owner.pub", insp.OwnerPub), "--link-dir", insp.Dir)
	if !hasCode(rep, "E_INTOTO_INSPECTIONS_NOT_RUN") {
		t.Fatalf("findings %+v", rep.Findings)
	}

	if code, _, _ := run(t, "in-toto", "verify", "--layout", c.Layout); code != 64 {
		t.Fatalf("missing --layout-key: exit %d, want 64", code)
	}
}
