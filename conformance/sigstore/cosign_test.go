//go:build !js

package sigstore

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// cosignBin finds the cosign CLI (CI installs v2.6.5). Without it the test
// is skipped, except in CI where it fails.
func cosignBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("cosign"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(string(trimNL(out)), "bin", "cosign")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("cosign not found (.ci/install.d installs it)")
	}
	t.Skip("cosign not found")
	return ""
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// cosign runs the cosign CLI offline in dir and returns its exit code.
func cosign(t *testing.T, bin, dir string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=imgproof-test", "HOME="+dir, "SIGSTORE_NO_CACHE=true",
		"COSIGN_EXPERIMENTAL=0", "TUF_ROOT="+filepath.Join(dir, ".sigstore"))
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("cosign %v timed out\n%s", args, out)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestCosignBlobs signs and attests a blob with the real cosign CLI and
// checks that imgproof accepts exactly what cosign accepts.
func TestCosignBlobs(t *testing.T) {
	bin := cosignBin(t)
	dir := t.TempDir()
	mustCosign := func(args ...string) {
		t.Helper()
		if code, out := cosign(t, bin, dir, args...); code != 0 {
			t.Fatalf("cosign %v: exit %d\n%s", args, code, out)
		}
	}
	mustCosign("generate-key-pair")
	blob := write(t, dir, "blob", []byte("a release artifact\n"))
	tampered := write(t, dir, "tampered", []byte("a release artifacT\n"))
	pub := filepath.Join(dir, "cosign.pub")
	otherDir := t.TempDir()
	if code, out := cosign(t, bin, otherDir, "generate-key-pair"); code != 0 {
		t.Fatalf("generate-key-pair: %s", out)
	}
	otherPub := filepath.Join(otherDir, "cosign.pub")

	t.Run("sign-blob", func(t *testing.T) {
		mustCosign("sign-blob", "--yes", "--key", "cosign.key", "--tlog-upload=false", "--output-signature", "blob.sig", "blob")
		sig := filepath.Join(dir, "blob.sig")
		for _, tc := range []struct {
			name, key, artifact string
			code                int
		}{
			{"good", pub, blob, 0},
			{"tampered", pub, tampered, 1},
			{"other-key", otherPub, blob, 1},
		} {
			cosignCode, out := cosign(t, bin, dir, "verify-blob", "--key", tc.key, "--signature", sig, "--insecure-ignore-tlog", tc.artifact)
			if (cosignCode == 0) != (tc.code == 0) {
				t.Fatalf("%s: cosign exit %d, expected the case to %v\n%s", tc.name, cosignCode, tc.code == 0, out)
			}
			rep := jsonReport(t, tc.code, "verify-blob", "--signature", sig, "--key", tc.key, tc.artifact)
			if tc.code == 0 && rep.Attestations[0].Binds[0].Digest == "" {
				t.Fatalf("%s: no binding", tc.name)
			}
		}
	})

	t.Run("sign-blob-bundle", func(t *testing.T) {
		mustCosign("sign-blob", "--yes", "--key", "cosign.key", "--tlog-upload=false", "--new-bundle-format", "--bundle", "blob.bundle", "blob")
		b := filepath.Join(dir, "blob.bundle")
		rep := jsonReport(t, 0, "verify-blob", "--bundle", b, "--key", pub, blob)
		if c := rep.Attestations[0].Checks; len(c) < 2 || c[1].Status != "skip" {
			t.Fatalf("without a trusted root the log check must be skipped: %+v", c)
		}
		jsonReport(t, 1, "verify-blob", "--bundle", b, "--key", pub, tampered)
		jsonReport(t, 1, "verify-blob", "--bundle", b, "--key", otherPub, blob)
		// With a trusted root, a bundle with no log entry is not enough.
		suite := suiteDir(t, repoRoot(t))
		jsonReport(t, 1, "verify-blob", "--bundle", b, "--key", pub, "--trusted-root", filepath.Join(suite, "trusted_root.production.json"), blob)
	})

	t.Run("sign-blob-cosign-bundle", func(t *testing.T) {
		// cosign's older bundle format, without --new-bundle-format.
		mustCosign("sign-blob", "--yes", "--key", "cosign.key", "--tlog-upload=false", "--bundle", "blob.cosign-bundle", "blob")
		b := filepath.Join(dir, "blob.cosign-bundle")
		if code, out := cosign(t, bin, dir, "verify-blob", "--key", pub, "--bundle", b, "--insecure-ignore-tlog", "blob"); code != 0 {
			t.Fatalf("cosign verify-blob: exit %d\n%s", code, out)
		}
		jsonReport(t, 0, "verify-blob", "--bundle", b, "--key", pub, blob)
		jsonReport(t, 1, "verify-blob", "--bundle", b, "--key", pub, tampered)
		jsonReport(t, 1, "verify-blob", "--bundle", b, "--key", otherPub, blob)
	})

	t.Run("attest-blob", func(t *testing.T) {
		write(t, dir, "predicate.json", []byte(`{"buildDefinition":{"buildType":"https://example.com/build","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.com/builder"}}}`))
		mustCosign("attest-blob", "--yes", "--key", "cosign.key", "--tlog-upload=false", "--predicate", "predicate.json",
			"--type", "slsaprovenance1", "--output-signature", "blob.att", "blob")
		att := filepath.Join(dir, "blob.att")
		code, out := cosign(t, bin, dir, "verify-blob-attestation", "--key", pub, "--signature", att, "--type", "slsaprovenance1", "--insecure-ignore-tlog", "blob")
		if code != 0 {
			t.Fatalf("cosign verify-blob-attestation: exit %d\n%s", code, out)
		}
		rep := jsonReport(t, 0, "verify-blob", "--envelope", att, "--key", pub, "--type", slsaV1, blob)
		if a := rep.Attestations[0]; a.PredicateType != slsaV1 {
			t.Fatalf("attestation %+v", a)
		}
		code, _ = cosign(t, bin, dir, "verify-blob-attestation", "--key", pub, "--signature", att, "--type", "slsaprovenance1", "--insecure-ignore-tlog", "tampered")
		if code == 0 {
			t.Fatal("cosign accepted the attestation for another blob")
		}
		if rep := jsonReport(t, 1, "verify-blob", "--envelope", att, "--key", pub, tampered); !hasCode(rep, "E_SUBJECT_MISMATCH") {
			t.Fatalf("findings %+v", rep.Findings)
		}
		if rep := jsonReport(t, 1, "verify-blob", "--envelope", att, "--key", pub, "--type", "https://spdx.dev/Document", blob); !hasCode(rep, "E_PREDICATE_NOT_ALLOWED") {
			t.Fatalf("findings %+v", rep.Findings)
		}
		jsonReport(t, 1, "verify-blob", "--envelope", att, "--key", otherPub, blob)
	})
}
