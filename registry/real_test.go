//go:build !js

package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/compare"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// The tests in this file run against the CNCF distribution registry
// (Debian's docker-registry package) on 127.0.0.1, with images pushed by
// skopeo. Set IMGPROOF_REQUIRE_REGISTRY=1 to make a missing tool a failure
// instead of a skip (CI does).

func needTool(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		if gp, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			p := filepath.Join(strings.TrimSpace(string(gp)), "bin", n)
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("IMGPROOF_REQUIRE_REGISTRY") == "1" {
		t.Fatalf("none of %v is installed (run .ci/install.d/50-registry.sh)", names)
	}
	t.Skipf("none of %v is installed", names)
	return ""
}

// startRegistry starts a distribution registry on 127.0.0.1 with its own
// configuration and storage, and stops it when the test ends.
func startRegistry(t *testing.T) string {
	t.Helper()
	bin := needTool(t, "docker-registry", "registry")
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "storage"), addr)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("registry did not start on %s: %v\n%s", addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// skopeoCopy copies between transports with skopeo, TLS off for loopback.
func skopeoCopy(t *testing.T, extra []string, src, dst string) {
	t.Helper()
	skopeo := needTool(t, "skopeo")
	args := append([]string{"--insecure-policy", "copy", "--src-tls-verify=false", "--dest-tls-verify=false"}, extra...)
	run(t, skopeo, append(args, src, dst)...)
}

func layoutDir(t *testing.T, b *fixtures.Built) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := b.WriteLayoutDir(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func verifyRef(t *testing.T, ref string, vopts *verify.Options) *verify.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Verify(ctx, ref, vopts, &Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func mustVerify(t *testing.T, rep *verify.Report) {
	t.Helper()
	if rep.Verdict != verify.Verified {
		t.Fatalf("%s: verdict %s, findings %v", rep.Source.Path, rep.Verdict, findingCodes(rep))
	}
}

func TestRealRegistryVerify(t *testing.T) {
	addr := startRegistry(t)
	b := fixtures.MustBuild(fixtures.Default())
	exp := b.Expected.Images[0]
	skopeoCopy(t, nil, "oci:"+layoutDir(t, b)+":latest", "docker://"+addr+"/test/single:v1")

	for _, ref := range []string{addr + "/test/single:v1", addr + "/test/single@" + exp.ManifestDigest} {
		rep := verifyRef(t, ref, nil).Report
		mustVerify(t, rep)
		im := rep.Images[0]
		if rep.Source.Format != verify.FormatRegistry || im.ManifestDigest == nil || *im.ManifestDigest != exp.ManifestDigest || im.ImageID != exp.ConfigDigest {
			t.Fatalf("%s: got %+v, want manifest %s image ID %s", ref, im, exp.ManifestDigest, exp.ConfigDigest)
		}
	}
	// A digest the registry does not hold.
	missing := "sha256:" + strings.Repeat("ab", 32)
	rep := verifyRef(t, addr+"/test/single@"+missing, nil).Report
	if rep.Verdict != verify.Unverifiable || !rep.Has(CodeFetch) {
		t.Fatalf("missing manifest: verdict %s findings %v", rep.Verdict, findingCodes(rep))
	}
}

func TestRealRegistryMultiPlatform(t *testing.T) {
	addr := startRegistry(t)
	b := fixtures.MustBuild(fixtures.MultiPlatform())
	skopeoCopy(t, []string{"--all"}, "oci:"+layoutDir(t, b)+":latest", "docker://"+addr+"/test/multi:v1")
	rep := verifyRef(t, addr+"/test/multi:v1", nil).Report
	mustVerify(t, rep)
	if rep.IndexDigest == nil || *rep.IndexDigest != b.Expected.IndexDigest {
		t.Fatalf("index digest %v, want %s", rep.IndexDigest, b.Expected.IndexDigest)
	}
	// Picking one platform out of the index: same image, the index is gone.
	arm := verifyRef(t, addr+"/test/multi@"+b.Expected.Images[1].ManifestDigest, nil).Report
	mustVerify(t, arm)
	c := compare.Reports(rep, arm, nil)
	if !c.SameImage || !c.SameManifestDigest || !hasReason(c, "picked out of A's index") {
		t.Fatalf("index vs one platform: %+v", c)
	}
}

func hasReason(c *compare.Result, s string) bool {
	for _, r := range c.Reasons {
		if strings.Contains(r, s) {
			return true
		}
	}
	return false
}

func TestRealRegistryCompareAcrossFormats(t *testing.T) {
	addr := startRegistry(t)
	b := fixtures.MustBuild(fixtures.Default())
	src := "oci:" + layoutDir(t, b) + ":latest"
	skopeoCopy(t, nil, src, "docker://"+addr+"/test/cmp:gzip")
	// skopeo recompresses every layer to zstd into a second layout, which
	// is then pushed as is.
	zdir := filepath.Join(t.TempDir(), "zstd")
	skopeoCopy(t, []string{"--dest-compress-format", "zstd", "--dest-compress"}, src, "oci:"+zdir+":latest")
	skopeoCopy(t, nil, "oci:"+zdir+":latest", "docker://"+addr+"/test/cmp:zstd")
	// skopeo writes a docker-save tarball from the registry image.
	tarPath := filepath.Join(t.TempDir(), "saved.tar")
	skopeoCopy(t, nil, "docker://"+addr+"/test/cmp:gzip", "docker-archive:"+tarPath+":test/cmp:gzip")

	gz := verifyRef(t, addr+"/test/cmp:gzip", nil).Report
	zs := verifyRef(t, addr+"/test/cmp:zstd", nil).Report
	mustVerify(t, gz)
	mustVerify(t, zs)
	for _, l := range zs.Images[0].Layers {
		if l.Compression != "zstd" {
			t.Fatalf("skopeo did not recompress to zstd: %+v", l)
		}
	}
	c := compare.Reports(gz, zs, nil)
	if !c.SameImageID || !c.SameContent || c.SameManifestDigest || c.SameLayerBlobs || !hasReason(c, "layers recompressed (gzip → zstd)") {
		t.Fatalf("gzip vs zstd: %+v", c)
	}

	// skopeo converts the manifest to Docker schema 2 media types.
	skopeoCopy(t, []string{"--format", "v2s2"}, src, "docker://"+addr+"/test/cmp:v2s2")
	v2 := verifyRef(t, addr+"/test/cmp:v2s2", nil).Report
	mustVerify(t, v2)
	c = compare.Reports(gz, v2, nil)
	if !c.SameImage || c.SameManifestDigest || !hasReason(c, "the manifest media type was converted: A is application/vnd.oci.image.manifest.v1+json, B is application/vnd.docker.distribution.manifest.v2+json") {
		t.Fatalf("OCI vs v2s2: %+v", c)
	}

	f, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	saved := verify.Archive(context.Background(), f, st.Size(), tarPath, nil).Report
	mustVerify(t, saved)
	c = compare.Reports(gz, saved, nil)
	if !c.SameImage || c.SameManifestDigest || !hasReason(c, "same image ID and content, different manifest digest") {
		t.Fatalf("registry vs docker save: %+v", c)
	}
	t.Logf("registry vs docker save: %q", c.Reasons)
}

// TestRealRegistryCosign signs and attests an image with cosign and checks
// that the signature and attestation are discovered and verified with it.
func TestRealRegistryCosign(t *testing.T) {
	if _, err := exec.LookPath("cosign"); err != nil && os.Getenv("IMGPROOF_REQUIRE_COSIGN") != "1" {
		if _, err := os.Stat(filepath.Join(os.Getenv("HOME"), "go", "bin", "cosign")); err != nil {
			t.Skip("cosign is not installed (.ci/install.d/30-cosign.sh installs it)")
		}
	}
	cosign := needTool(t, "cosign")
	addr := startRegistry(t)
	b := fixtures.MustBuild(fixtures.Default())
	skopeoCopy(t, nil, "oci:"+layoutDir(t, b)+":latest", "docker://"+addr+"/test/signed:v1")
	dir := t.TempDir()
	env := append(os.Environ(), "COSIGN_PASSWORD=", "HOME="+dir, "DOCKER_CONFIG="+dir)
	cmd := exec.Command(cosign, "generate-key-pair")
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	ref := addr + "/test/signed@" + b.Expected.Images[0].ManifestDigest
	pred := filepath.Join(dir, "pred.json")
	if err := os.WriteFile(pred, []byte(`{"builder":{"id":"https://example.test/builder"},"buildType":"https://example.test/build/v1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"sign", "--key", "cosign.key", "--tlog-upload=false", "--allow-insecure-registry", "--yes", ref},
		{"attest", "--key", "cosign.key", "--tlog-upload=false", "--allow-insecure-registry", "--yes", "--type", "slsaprovenance", "--predicate", pred, ref},
	} {
		cmd := exec.Command(cosign, args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cosign %s: %v\n%s", args[0], err, out)
		}
	}
	ctx := context.Background()
	f, err := Open(ctx, ref, defaultLimits(), &Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	idx := string(f.IndexJSON())
	for _, want := range []string{KindSignatures, KindAttestations, ".sig", ".att"} {
		if !strings.Contains(idx, want) {
			t.Fatalf("index.json lacks %q: %s", want, idx)
		}
	}
	res := verify.Dir(ctx, f, ref, nil)
	mustVerify(t, res.Report)
	if len(res.Report.Images) < 3 {
		t.Fatalf("want the image, its signature and its attestation verified, got %d images", len(res.Report.Images))
	}

	// Through the command: the signature and the attestation verify with
	// cosign's key, as they would from a cosign save layout; another key
	// does not vouch for the image.
	bin := filepath.Join(t.TempDir(), "imgproof")
	run(t, "go", "build", "-o", bin, "../cmd/imgproof")
	out, err := exec.Command(bin, "verify", "--output", "json", "--key", filepath.Join(dir, "cosign.pub"), ref).Output()
	if err != nil {
		t.Fatalf("imgproof verify --key: %v\n%s", err, out)
	}
	var rep attest.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, a := range rep.Attestations {
		kinds[a.Kind] = a.Status
	}
	if rep.Verdict != verify.Verified || kinds["cosign-signature"] != "verified" || kinds["cosign-attestation"] != "verified" {
		t.Fatalf("verdict %s, attestations %v", rep.Verdict, kinds)
	}
	other := filepath.Join(t.TempDir(), "other")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(cosign, "generate-key-pair")
	cmd.Dir, cmd.Env = other, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	if err := exec.Command(bin, "verify", "--key", filepath.Join(other, "cosign.pub"), ref).Run(); err == nil {
		t.Fatal("an image signed by one key verified with another key")
	}
}

func defaultLimits() limits.Limits { return limits.Default() }
