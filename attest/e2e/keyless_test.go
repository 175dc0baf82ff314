//go:build !js

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/imgproof/imgproof/attest/sigstore/sigstoretest"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// TestKeylessLegacyAgainstCosign: a cosign save layout whose image carries
// a keyless signature and attestation made offline (test CA, CT log and
// Rekor) is accepted by cosign verify and verify-attestation, given the
// same trust, and imgproof gives VERIFIED with the same identity; with
// another identity both refuse.
func TestKeylessLegacyAgainstCosign(t *testing.T) {
	cosign := tool(t, "cosign")
	e := &env{t: t, dir: t.TempDir(), cosign: cosign}
	e.imgproof = buildImgproof(t, e.dir)
	const identity, issuer = "release@example.com", "https://accounts.example.com"

	ca, root := sigstoretest.ForTest(t)
	rekorPEM, err := ca.RekorPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	ctPEM, err := ca.CTPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	leaf := ca.MustLeaf(t, sigstoretest.LeafOptions{Identity: identity, Issuer: issuer})
	rootPath := e.write("trusted_root.json", string(root))
	chainPath := e.write("fulcio.pem", ca.Chain())
	rekorPath := e.write("rekor.pub", string(rekorPEM))
	ctPath := e.write("ctlog.pub", string(ctPEM))

	manifest := fixtures.MustBuild(fixtures.Default()).Expected.Images[0].ManifestDigest
	payload := []byte(`{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":"` +
		manifest + `"},"type":"cosign container image signature"},"optional":null}`)
	sigAnn, err := ca.Sign(leaf, payload, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	statement := []byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v1","subject":[{"name":"registry.example/app","digest":{"sha256":"` +
		manifest[len("sha256:"):] + `"}}],"predicate":` + predicate + `}`)
	env, attAnn, err := ca.Attest(leaf, "application/vnd.in-toto+json", statement, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	attAnn["predicateType"] = "https://slsa.dev/provenance/v1"

	spec := fixtures.Default()
	spec.Referrers = []fixtures.Referrer{
		{Subject: 0, MediaType: "application/vnd.dev.cosign.simplesigning.v1+json", Payload: payload, LayerAnnotations: sigAnn, RefName: "{subject}.sig"},
		{Subject: 0, MediaType: "application/vnd.dsse.envelope.v1+json", Payload: env, LayerAnnotations: attAnn, RefName: "{subject}.att"},
	}
	dir := filepath.Join(e.dir, "layout")
	if err := fixtures.MustBuild(spec).WriteLayoutDir(dir); err != nil {
		t.Fatal(err)
	}
	// Mark the entries as cosign save does.
	ix, ds := entries(t, dir)
	for i, kind := range []string{"dev.cosignproject.cosign/image", "dev.cosignproject.cosign/sigs", "dev.cosignproject.cosign/atts"} {
		ds[i].Annotations = map[string]string{"kind": kind}
		raw, err := json.Marshal(ds[i])
		if err != nil {
			t.Fatal(err)
		}
		ix.Manifests[i] = raw
	}
	b, err := json.Marshal(ix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}

	cosignEnv := []string{"SIGSTORE_ROOT_FILE=" + chainPath, "SIGSTORE_REKOR_PUBLIC_KEY=" + rekorPath, "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE=" + ctPath}
	trust := func(id string) []string {
		return []string{"--local-image", "--offline", "--certificate-identity", id, "--certificate-oidc-issuer", issuer, dir}
	}
	e.runEnv(cosignEnv, 0, cosign, append([]string{"verify"}, trust(identity)...)...)
	e.runEnv(cosignEnv, 0, cosign, append([]string{"verify-attestation", "--type", "slsaprovenance1"}, trust(identity)...)...)
	rep := e.verify(0, "--certificate-identity", identity, "--certificate-oidc-issuer", issuer, "--trusted-root", rootPath, dir)
	verified := 0
	for _, a := range rep.Attestations {
		if a.Status == "verified" {
			verified++
		}
	}
	if rep.Verdict != verify.Verified || verified != 2 {
		t.Fatalf("verdict %s, %d verified claims; findings:\n%s", rep.Verdict, verified, findings(rep))
	}

	e.runEnv(cosignEnv, 1, cosign, append([]string{"verify"}, trust("mallory@example.com")...)...)
	rep = e.verify(1, "--certificate-identity", "mallory@example.com", "--certificate-oidc-issuer", issuer, "--trusted-root", rootPath, dir)
	requireCode(t, rep, verify.Failed, "E_IDENTITY_MISMATCH")
}
