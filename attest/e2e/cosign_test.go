//go:build !js

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// tool finds a CLI on PATH or in GOPATH/bin.
func tool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (.ci/install.d/30-cosign.sh installs it)", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// env is one test world: a registry, cosign, crane, imgproof and a key.
type env struct {
	t        *testing.T
	dir      string
	cosign   string
	crane    string
	imgproof string
	registry string
}

func setup(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), cosign: tool(t, "cosign"), crane: tool(t, "crane")}
	e.imgproof = buildImgproof(t, e.dir)
	e.startRegistry()
	return e
}

// buildImgproof builds the CLI into dir.
func buildImgproof(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "imgproof")
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", bin, "./cmd/imgproof")
	build.Dir = strings.TrimSpace(string(root))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building imgproof: %v\n%s", err, out)
	}
	return bin
}

func (e *env) startRegistry() {
	t := e.t
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(e.crane, "registry", "serve", "--address", addr)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatalf("registry did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.registry = addr
}

// run runs a command in the test directory and returns its output; it
// fails the test unless the exit code is want.
func (e *env) run(want int, name string, args ...string) string {
	e.t.Helper()
	return e.runEnv(nil, want, name, args...)
}

// runEnv is run with extra environment variables.
func (e *env) runEnv(extra []string, want int, name string, args ...string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=", "TUF_ROOT="+filepath.Join(e.dir, "tuf"), "SIGSTORE_NO_CACHE=true")
	cmd.Env = append(cmd.Env, extra...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("%s %v: %v", filepath.Base(name), args, err)
	}
	if code != want {
		e.t.Fatalf("%s %s: exit %d, want %d\n%s", filepath.Base(name), strings.Join(args, " "), code, want, out.String())
	}
	return out.String()
}

// push builds a fixture image (an index when several architectures are
// given), pushes it and returns its reference by digest.
func (e *env) push(name string, archs ...string) string {
	e.t.Helper()
	var spec fixtures.Spec
	for _, arch := range archs {
		spec.Images = append(spec.Images, fixtures.ImageSpec{
			Platform: fixtures.Platform{OS: "linux", Architecture: arch},
			Layers:   fixtures.DefaultLayers(arch+"-"+name, fixtures.Gzip),
		})
	}
	spec.Index = len(archs) > 1
	b, err := fixtures.Build(spec)
	if err != nil {
		e.t.Fatal(err)
	}
	dir := filepath.Join(e.dir, "src-"+name)
	if err := b.WriteLayoutDir(dir); err != nil {
		e.t.Fatal(err)
	}
	ref := e.registry + "/" + name + ":v1"
	e.run(0, e.crane, "push", dir, ref)
	if spec.Index {
		return e.registry + "/" + name + "@" + b.Expected.IndexDigest
	}
	return e.registry + "/" + name + "@" + b.Expected.Images[0].ManifestDigest
}

// verify runs imgproof verify -o json and checks the exit code.
func (e *env) verify(want int, args ...string) *attest.Report {
	e.t.Helper()
	out := e.run(want, e.imgproof, append([]string{"verify", "-o", "json"}, args...)...)
	var rep attest.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		e.t.Fatalf("report: %v\n%s", err, out)
	}
	return &rep
}

func (e *env) write(name, content string) string {
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

const predicate = `{
  "buildDefinition": {
    "buildType": "https://imgproof.dev/e2e/build/v1",
    "externalParameters": {"workflow": {"repository": "https://github.com/imgproof/app", "ref": "refs/heads/main", "path": ".github/workflows/release.yml"}},
    "resolvedDependencies": [{"uri": "git+https://github.com/imgproof/app@refs/heads/main", "digest": {"gitCommit": "4b825dc642cb6eb9a060e54bf8d69288fbee4904"}}]
  },
  "runDetails": {"builder": {"id": "https://github.com/imgproof/builder@v1"}}
}`

func findings(r *attest.Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  %s (%s) %s: %s\n", f.Code, f.Severity, f.Path, f.Message)
	}
	return b.String()
}

func requireCode(t *testing.T, r *attest.Report, verdict verify.Verdict, code verify.Code) {
	t.Helper()
	if r.Verdict != verdict || !r.Has(code) {
		t.Fatalf("verdict %s, want %s with %s; findings:\n%s", r.Verdict, verdict, code, findings(r))
	}
}

func TestCosign(t *testing.T) {
	e := setup(t)
	e.run(0, e.cosign, "generate-key-pair")
	e.run(0, e.cosign, "generate-key-pair", "--output-key-prefix", "other")
	pred := e.write("predicate.json", predicate)

	app := e.push("app", "amd64")
	e.run(0, e.cosign, "sign", "--key", "cosign.key", "--tlog-upload=false", "--yes", app)
	e.run(0, e.cosign, "attest", "--key", "cosign.key", "--type", "slsaprovenance1", "--predicate", pred, "--tlog-upload=false", "--yes", app)
	e.run(0, e.cosign, "save", app, "--dir", "app")

	// A second image, attested, whose .att is later moved onto the first.
	other := e.push("other", "arm64")
	e.run(0, e.cosign, "attest", "--key", "cosign.key", "--type", "slsaprovenance1", "--predicate", pred, "--tlog-upload=false", "--yes", other)
	e.run(0, e.cosign, "save", other, "--dir", "other")

	// cosign itself accepts the saved layout.
	e.run(0, e.cosign, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "--local-image", "app")
	e.run(0, e.cosign, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "slsaprovenance1", "--local-image", "app")

	t.Run("verified", func(t *testing.T) {
		r := e.verify(0, "--key", "cosign.pub", "app")
		var sig, att int
		for _, a := range r.Attestations {
			if a.Status != "verified" || len(a.Signers) == 0 || len(a.Binds) == 0 {
				t.Fatalf("attestation not verified: %+v", a)
			}
			if a.Binds[0].Digest != app[strings.Index(app, "@")+1:] || a.Binds[0].Node != "manifest" {
				t.Fatalf("binds %+v, want the manifest of %s", a.Binds, app)
			}
			switch a.Kind {
			case "cosign-signature":
				sig++
			case "cosign-attestation":
				att++
				if a.PredicateType != "https://slsa.dev/provenance/v1" {
					t.Fatalf("predicate type %q", a.PredicateType)
				}
			}
		}
		if sig != 1 || att != 1 {
			t.Fatalf("%d signatures and %d attestations, want 1 and 1: %+v", sig, att, r.Attestations)
		}
	})

	t.Run("oci archive of the layout", func(t *testing.T) {
		e.run(0, "tar", "-C", "app", "-czf", "app.tar.gz", ".")
		e.verify(0, "--key", "cosign.pub", "app.tar.gz")
	})

	t.Run("multi-platform index", func(t *testing.T) {
		multi := e.push("multi", "amd64", "arm64")
		e.run(0, e.cosign, "sign", "--key", "cosign.key", "--tlog-upload=false", "--yes", multi)
		e.run(0, e.cosign, "attest", "--key", "cosign.key", "--type", "slsaprovenance1", "--predicate", pred, "--tlog-upload=false", "--yes", multi)
		e.run(0, e.cosign, "save", multi, "--dir", "multi")
		e.run(0, e.cosign, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "--local-image", "multi")
		for _, args := range [][]string{{"multi"}, {"--platform", "linux/arm64", "multi"}} {
			r := e.verify(0, append([]string{"--key", "cosign.pub"}, args...)...)
			want := multi[strings.Index(multi, "@")+1:]
			if len(r.Attestations) != 2 {
				t.Fatalf("%v: %d attestations: %+v", args, len(r.Attestations), r.Attestations)
			}
			for _, a := range r.Attestations {
				if a.Status != "verified" || len(a.Binds) != 1 || a.Binds[0].Digest != want || a.Binds[0].Node != "index" {
					t.Fatalf("%v: %+v, want a verified claim on index %s", args, a, want)
				}
			}
		}
	})

	t.Run("sigstore bundle referrer behind the fallback tag", func(t *testing.T) {
		// cosign pushes the bundle as a referrer; crane's registry has no
		// referrers API, so it lands under the sha256-<hex> fallback tag,
		// whose entry carries the empty artifactType (cosign#4641).
		img := e.push("bundled", "amd64")
		e.run(0, e.cosign, "attest", "--new-bundle-format", "--key", "cosign.key", "--type", "slsaprovenance1", "--predicate", pred, "--tlog-upload=false", "--yes", img)
		dg := img[strings.Index(img, "@")+1:]
		e.run(0, e.crane, "pull", "--format", "oci", img, "bundled")
		e.run(0, e.crane, "pull", "--format", "oci", e.registry+"/bundled:"+strings.Replace(dg, ":", "-", 1), "bundled")
		r := e.verify(0, "--key", "cosign.pub", "bundled")
		if len(r.Attestations) != 1 || r.Attestations[0].Kind != "sigstore-bundle" || r.Attestations[0].Status != "verified" ||
			len(r.Attestations[0].Binds) != 1 || r.Attestations[0].Binds[0].Digest != dg {
			t.Fatalf("bundle not verified on %s: %+v", dg, r.Attestations)
		}
		requireCode(t, e.verify(1, "--key", "other.pub", "bundled"), verify.Failed, "E_SIGNATURE_INVALID")
	})

	t.Run("SLSA v0.2 provenance under a policy", func(t *testing.T) {
		img := e.push("v02", "amd64")
		p02 := e.write("predicate02.json", `{
  "builder": {"id": "https://github.com/imgproof/builder@v0"},
  "buildType": "https://imgproof.dev/e2e/build/v0",
  "invocation": {"configSource": {"uri": "git+https://github.com/imgproof/app@refs/tags/v0.2.0", "digest": {"sha1": "4b825dc642cb6eb9a060e54bf8d69288fbee4904"}, "entryPoint": "build.yml"}},
  "materials": [{"uri": "git+https://github.com/imgproof/app@refs/tags/v0.2.0", "digest": {"sha1": "4b825dc642cb6eb9a060e54bf8d69288fbee4904"}}]
}`)
		e.run(0, e.cosign, "attest", "--key", "cosign.key", "--type", "slsaprovenance02", "--predicate", p02, "--tlog-upload=false", "--yes", img)
		e.run(0, e.cosign, "save", img, "--dir", "v02")
		pol := e.write("v02.yaml", `apiVersion: imgproof.dev/policy/v1
attestations:
  - predicateType: https://slsa.dev/provenance/v0.2
    slsa:
      builderIDs: [https://github.com/imgproof/builder@v0]
      sourceRepos: [https://github.com/imgproof/app]
      sourceRefs: [refs/tags/v0.2.0]
      sourceDigests: ["sha1:4b825dc642cb6eb9a060e54bf8d69288fbee4904"]
`)
		e.verify(0, "--key", "cosign.pub", "--policy", pol, "v02")
		wrongRef := e.write("v02-ref.yaml", strings.Replace(string(mustRead(t, pol)), "refs/tags/v0.2.0", "refs/heads/main", 1))
		requireCode(t, e.verify(1, "--key", "cosign.pub", "--policy", wrongRef, "v02"), verify.Failed, "E_POLICY_VIOLATION")
	})

	t.Run("policy allows", func(t *testing.T) {
		pol := e.write("allow.yaml", `apiVersion: imgproof.dev/policy/v1
keys: [{path: cosign.pub}]
requireSignature: true
allowedPredicateTypes: [https://slsa.dev/provenance/v1]
attestations:
  - predicateType: https://slsa.dev/provenance/v1
    slsa:
      builderIDs: [https://github.com/imgproof/builder@v1]
      sourceRepos: [https://github.com/imgproof/app]
      sourceRefs: [refs/heads/main]
      sourceDigests: ["gitCommit:4b825dc642cb6eb9a060e54bf8d69288fbee4904"]
    rules:
      - name: release workflow
        expr: predicate.buildDefinition.externalParameters.workflow.path == ".github/workflows/release.yml"
`)
		e.verify(0, "--policy", pol, "app")
	})

	t.Run("cosign CUE and Rego policies", func(t *testing.T) { cosignPolicies(t, e) })

	t.Run("flipped layer byte", func(t *testing.T) {
		dir := copyDir(t, filepath.Join(e.dir, "app"), filepath.Join(e.dir, "flipped"))
		flipLayer(t, dir)
		// cosign does not notice (cosign#1912) ...
		e.run(0, e.cosign, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "--local-image", dir)
		// ... imgproof does.
		requireCode(t, e.verify(1, "--key", "cosign.pub", dir), verify.Failed, verify.CodeDigestMismatch)
	})

	t.Run("attestation for another image", func(t *testing.T) {
		dir := copyDir(t, filepath.Join(e.dir, "app"), filepath.Join(e.dir, "moved"))
		moveAtt(t, filepath.Join(e.dir, "other"), dir)
		requireCode(t, e.verify(1, "--key", "cosign.pub", dir), verify.Failed, "E_SUBJECT_MISMATCH")
	})

	t.Run("wrong key", func(t *testing.T) {
		// cosign agrees.
		e.run(1, e.cosign, "verify", "--key", "other.pub", "--insecure-ignore-tlog", "--local-image", "app")
		requireCode(t, e.verify(1, "--key", "other.pub", "app"), verify.Failed, "E_SIGNATURE_INVALID")
	})

	t.Run("payload type swapped", func(t *testing.T) {
		dir := copyDir(t, filepath.Join(e.dir, "app"), filepath.Join(e.dir, "swapped"))
		editAtt(t, dir, func(env map[string]any) { env["payloadType"] = "application/vnd.dev.cosign.simplesigning.v1+json" })
		r := e.verify(1, "--key", "cosign.pub", dir)
		requireCode(t, r, verify.Failed, "E_PAYLOADTYPE_UNSUPPORTED")
		requireCode(t, r, verify.Failed, "E_SIGNATURE_INVALID")
	})

	t.Run("policy does not allow the predicate", func(t *testing.T) {
		builder := e.write("builder.yaml", `apiVersion: imgproof.dev/policy/v1
attestations:
  - predicateType: https://slsa.dev/provenance/v1
    slsa: {builderIDs: ["https://github.com/imgproof/other-builder@v1"]}
`)
		requireCode(t, e.verify(1, "--key", "cosign.pub", "--policy", builder, "app"), verify.Failed, "E_POLICY_VIOLATION")
		types := e.write("types.yaml", `apiVersion: imgproof.dev/policy/v1
requireSignature: true
allowedPredicateTypes: [https://spdx.dev/Document]
`)
		requireCode(t, e.verify(1, "--key", "cosign.pub", "--policy", types, "app"), verify.Failed, "E_PREDICATE_NOT_ALLOWED")
		spdx := e.write("spdx.yaml", `apiVersion: imgproof.dev/policy/v1
attestations: [{predicateType: https://spdx.dev/Document}]
`)
		requireCode(t, e.verify(1, "--key", "cosign.pub", "--policy", spdx, "app"), verify.Failed, "E_NO_MATCHING_ATTESTATION")
		nothing := e.write("nothing.yaml", "apiVersion: imgproof.dev/policy/v1\nkeys: [{path: cosign.pub}]\n")
		e.run(64, e.imgproof, "verify", "--policy", nothing, "app")
	})

	t.Run("unsigned image with a key", func(t *testing.T) {
		plain := e.push("plain", "amd64")
		e.run(0, e.crane, "pull", "--format", "oci", plain, "plain")
		requireCode(t, e.verify(2, "--key", "cosign.pub", "plain"), verify.Unverifiable, "E_UNSIGNED")
	})

	t.Run("detached attestation file", func(t *testing.T) {
		env := readAtt(t, filepath.Join(e.dir, "app"))
		f := e.write("att.intoto.jsonl", string(env)+"\n")
		r := e.verify(0, "--key", "cosign.pub", "--attestation", f, "app")
		n := 0
		for _, a := range r.Attestations {
			if a.Kind == "dsse" && a.Status == "verified" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("file attestation not verified: %+v", r.Attestations)
		}
		// The other image's attestation, given as a file, binds to nothing here.
		g := e.write("other.intoto.jsonl", string(readAtt(t, filepath.Join(e.dir, "other")))+"\n")
		requireCode(t, e.verify(1, "--key", "cosign.pub", "--attestation", g, "app"), verify.Failed, "E_SUBJECT_MISMATCH")
	})
}

// --- layout surgery -------------------------------------------------------

type index struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType,omitempty"`
	Manifests     []json.RawMessage `json:"manifests"`
}

type desc struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func copyDir(t *testing.T, src, dst string) string {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readJSON(t *testing.T, p string, v any) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
}

func blobPath(dir, dg string) string {
	alg, hexs, _ := strings.Cut(dg, ":")
	return filepath.Join(dir, "blobs", alg, hexs)
}

func putBlob(t *testing.T, dir string, b []byte) (string, int64) {
	t.Helper()
	sum := sha256.Sum256(b)
	dg := "sha256:" + hex.EncodeToString(sum[:])
	if err := os.WriteFile(blobPath(dir, dg), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dg, int64(len(b))
}

// entries returns index.json's entries decoded.
func entries(t *testing.T, dir string) (index, []desc) {
	t.Helper()
	var ix index
	readJSON(t, filepath.Join(dir, "index.json"), &ix)
	var ds []desc
	for _, m := range ix.Manifests {
		var d desc
		if err := json.Unmarshal(m, &d); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	return ix, ds
}

func kindEntry(t *testing.T, dir, kind string) (int, desc) {
	t.Helper()
	_, ds := entries(t, dir)
	for i, d := range ds {
		if d.Annotations["kind"] == kind {
			return i, d
		}
	}
	t.Fatalf("%s: no index.json entry of kind %s", dir, kind)
	return 0, desc{}
}

func flipLayer(t *testing.T, dir string) {
	t.Helper()
	_, img := kindEntry(t, dir, "dev.cosignproject.cosign/image")
	var m struct{ Layers []desc }
	readJSON(t, blobPath(dir, img.Digest), &m)
	p := blobPath(dir, m.Layers[0].Digest)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readAtt(t *testing.T, dir string) []byte {
	t.Helper()
	_, att := kindEntry(t, dir, "dev.cosignproject.cosign/atts")
	var m struct{ Layers []desc }
	readJSON(t, blobPath(dir, att.Digest), &m)
	b, err := os.ReadFile(blobPath(dir, m.Layers[0].Digest))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// moveAtt replaces dst's attestation manifest by src's, as an attacker who
// copies another image's .att would.
func moveAtt(t *testing.T, src, dst string) {
	t.Helper()
	_, att := kindEntry(t, src, "dev.cosignproject.cosign/atts")
	var m struct {
		Config desc
		Layers []desc
	}
	readJSON(t, blobPath(src, att.Digest), &m)
	for _, d := range append([]desc{att, m.Config}, m.Layers...) {
		b, err := os.ReadFile(blobPath(src, d.Digest))
		if err != nil {
			t.Fatal(err)
		}
		putBlob(t, dst, b)
	}
	setEntry(t, dst, "dev.cosignproject.cosign/atts", att)
}

func setEntry(t *testing.T, dir, kind string, d desc) {
	t.Helper()
	ix, _ := entries(t, dir)
	i, _ := kindEntry(t, dir, kind)
	raw, _ := json.Marshal(d)
	ix.Manifests[i] = raw
	b, _ := json.Marshal(ix)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// editAtt rewrites the DSSE envelope of the attestation (without
// re-signing) and re-links the manifest and index.json to it.
func editAtt(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	_, att := kindEntry(t, dir, "dev.cosignproject.cosign/atts")
	var m map[string]any
	readJSON(t, blobPath(dir, att.Digest), &m)
	layers := m["layers"].([]any)
	l0 := layers[0].(map[string]any)
	var env map[string]any
	readJSON(t, blobPath(dir, l0["digest"].(string)), &env)
	edit(env)
	eb, _ := json.Marshal(env)
	dg, size := putBlob(t, dir, eb)
	l0["digest"], l0["size"] = dg, size
	mb, _ := json.Marshal(m)
	mdg, msize := putBlob(t, dir, mb)
	att.Digest, att.Size = mdg, msize
	setEntry(t, dir, "dev.cosignproject.cosign/atts", att)
}
