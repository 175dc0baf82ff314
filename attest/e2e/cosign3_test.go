//go:build !js

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/verify"
)

// TestCosignV3 signs and attests with the cosign v3 CLI (cosign3), whose
// default is a sigstore bundle pushed as an OCI 1.1 referrer (behind the
// referrers fallback tag on crane's registry), and checks that imgproof
// verifies what cosign v3 verifies, in the registry and in layouts, and
// fails the tampered twins.
func TestCosignV3(t *testing.T) {
	e := setup(t)
	e.cosign = tool(t, "cosign3")
	e.run(0, e.cosign, "generate-key-pair")
	e.run(0, e.cosign, "generate-key-pair", "--output-key-prefix", "other")
	pred := e.write("predicate.json", predicate)
	offline := []string{"--key", "cosign.key", "--use-signing-config=false", "--tlog-upload=false", "--yes"}

	app := e.push("app3", "amd64")
	dg := app[strings.Index(app, "@")+1:]
	e.run(0, e.cosign, append([]string{"sign", "--bundle", "sign.bundle.json"}, append(offline, app)...)...)
	e.run(0, e.cosign, append([]string{"attest", "--type", "slsaprovenance1", "--predicate", pred}, append(offline, app)...)...)
	other := e.push("other3", "arm64")
	e.run(0, e.cosign, append([]string{"sign"}, append(offline, other)...)...)

	// cosign v3 accepts its own work.
	e.run(0, e.cosign, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", app)
	e.run(0, e.cosign, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "slsaprovenance1", app)

	// checkBundles wants one verified bundle of each predicate type, bound
	// to the image's manifest.
	checkBundles := func(t *testing.T, r *attest.Report) {
		t.Helper()
		got := map[string]bool{}
		for _, a := range r.Attestations {
			if a.Kind != "sigstore-bundle" || a.Status != "verified" || len(a.Binds) != 1 || a.Binds[0].Digest != dg || a.Binds[0].Node != "manifest" {
				t.Fatalf("claim not verified on %s: %+v", dg, a)
			}
			got[a.PredicateType] = true
		}
		if !got["https://sigstore.dev/cosign/sign/v1"] || !got["https://slsa.dev/provenance/v1"] || len(r.Attestations) != 2 {
			t.Fatalf("want the signature and the provenance bundles: %+v", r.Attestations)
		}
	}

	t.Run("registry", func(t *testing.T) {
		checkBundles(t, e.verify(0, "--key", "cosign.pub", app))
		requireCode(t, e.verify(1, "--key", "other.pub", app), verify.Failed, "E_SIGNATURE_INVALID")
	})

	// The layout of the image and its referrers fallback index, as crane pulls them.
	e.run(0, e.crane, "pull", "--format", "oci", app, "app3")
	e.run(0, e.crane, "pull", "--format", "oci", e.registry+"/app3:"+strings.Replace(dg, ":", "-", 1), "app3")

	t.Run("layout", func(t *testing.T) {
		checkBundles(t, e.verify(0, "--key", "cosign.pub", "app3"))
	})

	t.Run("cosign save", func(t *testing.T) {
		// cosign v3 save leaves the referrers as blobs that index.json does
		// not list; cosign v3 finds them by their subject, and so does imgproof.
		e.run(0, e.cosign, "save", app, "--dir", "saved3")
		if _, ds := entries(t, filepath.Join(e.dir, "saved3")); len(ds) != 1 {
			t.Fatalf("cosign save listed %d entries; the layout form under test has the image alone", len(ds))
		}
		e.run(0, e.cosign, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "--local-image", "saved3")
		e.run(0, e.cosign, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "slsaprovenance1", "--local-image", "saved3")
		checkBundles(t, e.verify(0, "--key", "cosign.pub", "saved3"))
		requireCode(t, e.verify(1, "--key", "other.pub", "saved3"), verify.Failed, "E_SIGNATURE_INVALID")
		dir := copyDir(t, filepath.Join(e.dir, "saved3"), filepath.Join(e.dir, "saved3-flipped"))
		flipLayer3(t, dir, dg)
		requireCode(t, e.verify(1, "--key", "cosign.pub", dir), verify.Failed, verify.CodeDigestMismatch)
	})

	t.Run("policy", func(t *testing.T) {
		sig := e.write("sig3.yaml", "apiVersion: imgproof.dev/policy/v1\nkeys: [{path: cosign.pub}]\nrequireSignature: true\n")
		e.verify(0, "--policy", sig, "app3")
		p := e.write("v3.rego", "package signature\n\nallow {\n  input.predicate.runDetails.builder.id == \"https://github.com/imgproof/builder@v1\"\n}\n")
		e.run(0, e.cosign, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "slsaprovenance1", "--policy", p, app)
		e.verify(0, "--key", "cosign.pub", "--policy", p, "--type", "slsaprovenance1", "app3")
		// Without --type the policy applies to every attestation, and the
		// signature's cosign/sign/v1 statement is none.
		e.verify(0, "--key", "cosign.pub", "--policy", p, "app3")
		bad := e.write("v3bad.rego", strings.Replace(string(mustRead(t, p)), "builder@v1", "builder@v2", 1))
		e.run(1, e.cosign, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "slsaprovenance1", "--policy", bad, app)
		requireCode(t, e.verify(1, "--key", "cosign.pub", "--policy", bad, "--type", "slsaprovenance1", "app3"), verify.Failed, "E_POLICY_VIOLATION")
	})

	t.Run("bundle file", func(t *testing.T) {
		e.run(0, e.crane, "pull", "--format", "oci", app, "plain3")
		r := e.verify(0, "--key", "cosign.pub", "--attestation", "sign.bundle.json", "plain3")
		if len(r.Attestations) != 1 || r.Attestations[0].Status != "verified" || r.Attestations[0].PredicateType != "https://sigstore.dev/cosign/sign/v1" {
			t.Fatalf("bundle file not verified: %+v", r.Attestations)
		}
		requireCode(t, e.verify(1, "--key", "other.pub", "--attestation", "sign.bundle.json", "plain3"), verify.Failed, "E_SIGNATURE_INVALID")
	})

	t.Run("flipped layer byte", func(t *testing.T) {
		dir := copyDir(t, filepath.Join(e.dir, "app3"), filepath.Join(e.dir, "flipped3"))
		flipLayer3(t, dir, dg)
		requireCode(t, e.verify(1, "--key", "cosign.pub", dir), verify.Failed, verify.CodeDigestMismatch)
	})

	t.Run("signature of another image", func(t *testing.T) {
		// The other image's signature bundle, re-attached to this image
		// (its manifest's subject rewritten): the signature still
		// verifies, but names the other image.
		odg := other[strings.Index(other, "@")+1:]
		e.run(0, e.crane, "pull", "--format", "oci", e.registry+"/other3:"+strings.Replace(odg, ":", "-", 1), "other3")
		e.run(0, e.crane, "pull", "--format", "oci", app, "moved3")
		dir := filepath.Join(e.dir, "moved3")
		reattach(t, filepath.Join(e.dir, "other3"), dir, odg, dg)
		requireCode(t, e.verify(1, "--key", "cosign.pub", dir), verify.Failed, "E_SUBJECT_MISMATCH")
	})
}

// flipLayer3 flips a byte of the first layer of the image manifest dg in
// a layout.
func flipLayer3(t *testing.T, dir, dg string) {
	t.Helper()
	var m struct{ Layers []desc }
	readJSON(t, blobPath(dir, dg), &m)
	p := blobPath(dir, m.Layers[0].Digest)
	b := mustRead(t, p)
	b[len(b)/2] ^= 1
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// reattach copies every referrer of from in src's referrers fallback
// index into dst as a referrer of to: its manifest's subject is
// rewritten, its blobs copied, and it is listed in index.json.
func reattach(t *testing.T, src, dst, from, to string) {
	t.Helper()
	_, ds := entries(t, src)
	n := 0
	for _, d := range ds {
		if d.MediaType != "application/vnd.oci.image.index.v1+json" {
			continue
		}
		var fallback struct{ Manifests []desc }
		readJSON(t, blobPath(src, d.Digest), &fallback)
		for _, r := range fallback.Manifests {
			var m map[string]any
			readJSON(t, blobPath(src, r.Digest), &m)
			subject := m["subject"].(map[string]any)
			if subject["digest"] != from {
				t.Fatalf("referrer %s names %v, want %s", r.Digest, subject["digest"], from)
			}
			subject["digest"] = to
			var parts struct {
				Config desc
				Layers []desc
			}
			readJSON(t, blobPath(src, r.Digest), &parts)
			for _, b := range append(parts.Layers, parts.Config) {
				putBlob(t, dst, mustRead(t, blobPath(src, b.Digest)))
			}
			raw, _ := json.Marshal(m)
			mdg, size := putBlob(t, dst, raw)
			ix, _ := entries(t, dst)
			entry, _ := json.Marshal(desc{MediaType: r.MediaType, Digest: mdg, Size: size})
			ix.Manifests = append(ix.Manifests, entry)
			b, _ := json.Marshal(ix)
			if err := os.WriteFile(filepath.Join(dst, "index.json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no referrer of %s in %s", from, src)
	}
}
