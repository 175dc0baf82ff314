//go:build !js

package notary_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/notary"
	"github.com/imgproof/imgproof/attest/notary/notarytest"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

func trust(t *testing.T, policyJSON []byte, storeDir string) *notary.Trust {
	t.Helper()
	p, err := notary.LoadPolicy(policyJSON)
	if err != nil {
		t.Fatal(err)
	}
	s, err := notary.OpenStore(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	return &notary.Trust{Policy: p, Store: s, Scope: "local/app"}
}

// writeLayout writes a fixture OCI layout and returns its directory and
// the manifest digests of its images.
func writeLayout(t *testing.T, spec fixtures.Spec) (string, []string) {
	t.Helper()
	b, err := fixtures.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range b.LayoutFiles() {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var ds []string
	for _, im := range b.Expected.Images {
		ds = append(ds, im.ManifestDigest)
	}
	return dir, ds
}

func run(t *testing.T, dir string, tr *notary.Trust) *attest.Report {
	t.Helper()
	ctx := context.Background()
	opts := &attest.Options{}
	if tr != nil {
		opts.Notary = tr.Verifier()
	}
	rep, err := attest.Run(ctx, func(o *verify.Options) (*verify.Result, error) {
		return verify.Dir(ctx, os.DirFS(dir), dir, o), nil
	}, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func notarySigs(r *attest.Report) []attest.Attestation {
	var out []attest.Attestation
	for _, a := range r.Attestations {
		if a.Kind == attest.KindNotary {
			out = append(out, a)
		}
	}
	return out
}

func has(r *attest.Report, code verify.Code) bool {
	return slices.ContainsFunc(r.Findings, func(f verify.Finding) bool { return f.Code == code })
}

func dump(t *testing.T, r *attest.Report) string {
	b, _ := json.MarshalIndent(struct {
		V verify.Verdict
		F []verify.Finding
		A []attest.Attestation
	}{r.Verdict, r.Findings, r.Attestations}, "", " ")
	return string(b)
}

func TestValidSignatures(t *testing.T) {
	root := notarytest.NewCA(t, "imgproof test root")
	key, chain := root.Leaf(t, "signer.example", time.Now().Add(time.Hour))
	st := notarytest.Store(t, "test", root)
	for _, mt := range []string{jws.MediaTypeEnvelope, cose.MediaTypeEnvelope} {
		t.Run(mt, func(t *testing.T) {
			dir, ds := writeLayout(t, fixtures.Default())
			notarytest.Sign(t, dir, ds[0], mt, key, chain)
			rep := run(t, dir, trust(t, notarytest.Policy(t, "strict", []string{"ca:test"}, []string{"x509.subject: " + notarytest.Subject("signer.example")}), st))
			sigs := notarySigs(rep)
			if rep.Verdict != verify.Verified || len(sigs) != 1 || sigs[0].Status != attest.StatusVerified {
				t.Fatalf("want VERIFIED with one verified Notary signature:\n%s", dump(t, rep))
			}
			s := sigs[0]
			if s.Signature == nil || s.Signature.Envelope != mt || s.Signature.SigningScheme != "notary.x509" || len(s.Signature.Chain) != 2 ||
				s.Signature.SigningTime == "" || !strings.Contains(s.Signature.SigningAgent, "notation-go") {
				t.Fatalf("signature info: %+v", s.Signature)
			}
			if len(s.Signers) != 1 || !strings.Contains(s.Signers[0], "CN=signer.example") || len(s.Binds) != 1 || s.Binds[0].Digest != ds[0] {
				t.Fatalf("signers %v binds %v", s.Signers, s.Binds)
			}
			if !strings.Contains(s.Signature.Revocation, "no certificate names an OCSP or CRL endpoint") {
				t.Fatalf("revocation: %q", s.Signature.Revocation)
			}
		})
	}
}

func findingCodes(r *attest.Report) []verify.Code {
	var out []verify.Code
	for _, f := range r.Findings {
		out = append(out, f.Code)
	}
	return out
}

// TestOutcomes runs one signed layout per case through imgproof and
// compares the verdict with what notation verify decides (in comments).
func TestOutcomes(t *testing.T) {
	root := notarytest.NewCA(t, "imgproof test root")
	other := notarytest.NewCA(t, "another root")
	key, chain := root.Leaf(t, "signer.example", time.Now().Add(time.Hour))
	okStore := notarytest.Store(t, "test", root)
	strict := notarytest.Policy(t, "strict", []string{"ca:test"}, []string{"*"})
	type tc struct {
		name string
		// prepare signs the layout and may alter it.
		prepare func(t *testing.T, dir string, ds []string)
		policy  []byte
		store   string
		spec    func() fixtures.Spec
		verdict verify.Verdict
		want    []verify.Code
		// statuses of the Notary signatures, in any order.
		statuses []string
	}
	signWith := func(k crypto.Signer, c []*x509.Certificate, mt string) func(*testing.T, string, []string) {
		return func(t *testing.T, dir string, ds []string) { notarytest.Sign(t, dir, ds[0], mt, k, c) }
	}
	cases := []tc{
		{name: "untrusted and trusted signatures", // notation verify: success (one signature verifies)
			prepare: func(t *testing.T, dir string, ds []string) {
				k2, c2 := other.Leaf(t, "stranger.example", time.Now().Add(time.Hour))
				notarytest.Sign(t, dir, ds[0], jws.MediaTypeEnvelope, k2, c2)
				notarytest.Sign(t, dir, ds[0], cose.MediaTypeEnvelope, key, chain)
			},
			verdict: verify.Verified, want: []verify.Code{attest.CodeSignerUntrusted},
			statuses: []string{attest.StatusUnverifiable, attest.StatusVerified}},
		{name: "only an untrusted signature", // notation verify: failure
			prepare: func(t *testing.T, dir string, ds []string) {
				k2, c2 := other.Leaf(t, "stranger.example", time.Now().Add(time.Hour))
				notarytest.Sign(t, dir, ds[0], jws.MediaTypeEnvelope, k2, c2)
			},
			verdict: verify.Unverifiable, want: []verify.Code{attest.CodeSignerUntrusted, attest.CodeUnsigned},
			statuses: []string{attest.StatusUnverifiable}},
		{name: "wrong identity", prepare: signWith(key, chain, jws.MediaTypeEnvelope), // notation verify: failure
			policy:  notarytest.Policy(t, "strict", []string{"ca:test"}, []string{"x509.subject: " + notarytest.Subject("someone.else")}),
			verdict: verify.Unverifiable, want: []verify.Code{attest.CodeSignerUntrusted, attest.CodeUnsigned},
			statuses: []string{attest.StatusUnverifiable}},
		{name: "wrong trust store", prepare: signWith(key, chain, jws.MediaTypeEnvelope), // notation verify: failure
			store:   notarytest.Store(t, "test", other),
			verdict: verify.Unverifiable, want: []verify.Code{attest.CodeSignerUntrusted, attest.CodeUnsigned},
			statuses: []string{attest.StatusUnverifiable}},
		{name: "expired certificate", prepare: expiredSignature(root), // notation verify: failure
			verdict: verify.Failed, want: []verify.Code{attest.CodeSigningTimeInvalid},
			statuses: []string{attest.StatusFailed}},
		{name: "expired certificate, permissive", prepare: expiredSignature(root), // notation verify: success, expiry logged
			policy:  notarytest.Policy(t, "permissive", []string{"ca:test"}, []string{"*"}),
			verdict: verify.Verified, want: []verify.Code{attest.CodeSigningTimeInvalid},
			statuses: []string{attest.StatusVerified}},
		{name: "signature over another manifest", // notation verify: failure (content descriptor mismatch)
			spec: twoImages,
			prepare: func(t *testing.T, dir string, ds []string) {
				d := notarytest.Sign(t, dir, ds[0], jws.MediaTypeEnvelope, key, chain)
				reattach(t, dir, d, ds[1])
			},
			verdict: verify.Failed, want: []verify.Code{attest.CodeSubjectMismatch},
			statuses: []string{attest.StatusVerified, attest.StatusFailed}},
		{name: "invalid signature", // notation verify: failure (integrity)
			prepare: func(t *testing.T, dir string, ds []string) {
				d := notarytest.Sign(t, dir, ds[0], jws.MediaTypeEnvelope, key, chain)
				corruptJWS(t, dir, d)
			},
			verdict: verify.Failed, want: []verify.Code{attest.CodeSignatureInvalid},
			statuses: []string{attest.StatusFailed}},
		{name: "changed layer under an unchanged manifest", // notation verify: success; it never reads layers
			prepare: func(t *testing.T, dir string, ds []string) {
				notarytest.Sign(t, dir, ds[0], jws.MediaTypeEnvelope, key, chain)
				notarytest.FlipFirstLayer(t, dir, ds[0])
			},
			verdict: verify.Failed, want: []verify.Code{verify.CodeDigestMismatch},
			statuses: []string{attest.StatusVerified}},
		{name: "level skip", prepare: signWith(key, chain, jws.MediaTypeEnvelope), // notation verify: skipped
			policy:  []byte(`{"version":"1.0","trustPolicies":[{"name":"s","registryScopes":["*"],"signatureVerification":{"level":"skip"}}]}`),
			verdict: verify.Unverifiable, want: []verify.Code{attest.CodeNotChecked, attest.CodeUnsigned},
			statuses: []string{attest.StatusUnverifiable}},
		{name: "no statement for the scope", prepare: signWith(key, chain, jws.MediaTypeEnvelope),
			policy:  []byte(`{"version":"1.0","trustPolicies":[{"name":"o","registryScopes":["registry.example/other"],"signatureVerification":{"level":"strict"},"trustStores":["ca:test"],"trustedIdentities":["*"]}]}`),
			verdict: verify.Unverifiable, want: []verify.Code{attest.CodeNoTrustPolicy, attest.CodeUnsigned},
			statuses: []string{attest.StatusUnverifiable}},
		{name: "revocation endpoint, strict", prepare: revocableSignature(root), // needs OCSP: cannot run offline
			verdict: verify.Unverifiable, want: []verify.Code{attest.CodeRevocationUnavailable, attest.CodeUnsigned},
			statuses: []string{attest.StatusUnverifiable}},
		{name: "revocation endpoint, revocation skipped", prepare: revocableSignature(root),
			policy:  []byte(`{"version":"1.0","trustPolicies":[{"name":"r","registryScopes":["*"],"signatureVerification":{"level":"strict","override":{"revocation":"skip"}},"trustStores":["ca:test"],"trustedIdentities":["*"]}]}`),
			verdict: verify.Verified, statuses: []string{attest.StatusVerified}},
		{name: "revocation endpoint, permissive", prepare: revocableSignature(root),
			policy:  notarytest.Policy(t, "permissive", []string{"ca:test"}, []string{"*"}),
			verdict: verify.Verified, want: []verify.Code{attest.CodeRevocationUnavailable},
			statuses: []string{attest.StatusVerified}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := fixtures.Default()
			if c.spec != nil {
				spec = c.spec()
			}
			dir, ds := writeLayout(t, spec)
			c.prepare(t, dir, ds)
			p, s := c.policy, c.store
			if p == nil {
				p = strict
			}
			if s == "" {
				s = okStore
			}
			rep := run(t, dir, trust(t, p, s))
			var statuses []string
			for _, a := range notarySigs(rep) {
				statuses = append(statuses, a.Status)
			}
			// notation's layout writer does not keep the signing order.
			slices.Sort(statuses)
			want := slices.Sorted(slices.Values(c.statuses))
			if rep.Verdict != c.verdict || !slices.Equal(statuses, want) {
				t.Fatalf("want %s with signatures %v, got %s %v:\n%s", c.verdict, c.statuses, rep.Verdict, statuses, dump(t, rep))
			}
			for _, w := range c.want {
				if !has(rep, w) {
					t.Errorf("no %s finding: %v", w, findingCodes(rep))
				}
			}
		})
	}
}

func twoImages() fixtures.Spec {
	s := fixtures.MultiPlatform()
	s.Index = false
	return s
}

// expiredSignature signs with a certificate that expires a second later,
// and waits until it has.
func expiredSignature(root *notarytest.CA) func(*testing.T, string, []string) {
	return func(t *testing.T, dir string, ds []string) {
		end := time.Now().Add(1500 * time.Millisecond)
		k, c := root.Leaf(t, "short.example", end)
		notarytest.Sign(t, dir, ds[0], jws.MediaTypeEnvelope, k, c)
		time.Sleep(time.Until(end.Truncate(time.Second).Add(1100 * time.Millisecond)))
	}
}

// revocableSignature signs with a certificate that names an OCSP server.
func revocableSignature(root *notarytest.CA) func(*testing.T, string, []string) {
	return func(t *testing.T, dir string, ds []string) {
		k, c := root.Leaf(t, "ocsp.example", time.Now().Add(time.Hour), "http://ocsp.invalid/")
		notarytest.Sign(t, dir, ds[0], jws.MediaTypeEnvelope, k, c)
	}
}

// writeBlob stores data in the layout and returns its digest.
func writeBlob(t *testing.T, dir string, data []byte) ocispec.Descriptor {
	t.Helper()
	d := ocispec.Descriptor{Digest: digestOf(data), Size: int64(len(data))}
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// rewriteSignature rewrites a signature manifest with edit, stores it and
// lists it in index.json in place of the original.
func rewriteSignature(t *testing.T, dir string, sig ocispec.Descriptor, edit func(*ocispec.Manifest)) {
	t.Helper()
	var m ocispec.Manifest
	notarytest.ReadJSON(t, filepath.Join(dir, "blobs", "sha256", sig.Digest.Encoded()), &m)
	edit(&m)
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	nd := writeBlob(t, dir, raw)
	var ix ocispec.Index
	notarytest.ReadJSON(t, filepath.Join(dir, "index.json"), &ix)
	found := false
	for i := range ix.Manifests {
		if ix.Manifests[i].Digest == sig.Digest {
			ix.Manifests[i].Digest, ix.Manifests[i].Size = nd.Digest, nd.Size
			found = true
		}
	}
	if !found {
		t.Fatalf("signature %s not in index.json", sig.Digest)
	}
	b, err := json.Marshal(ix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "blobs", "sha256", sig.Digest.Encoded())); err != nil {
		t.Fatal(err)
	}
}

// reattach points the signature manifest at another manifest.
func reattach(t *testing.T, dir string, sig ocispec.Descriptor, to string) {
	var ix ocispec.Index
	notarytest.ReadJSON(t, filepath.Join(dir, "index.json"), &ix)
	var target ocispec.Descriptor
	for _, m := range ix.Manifests {
		if m.Digest.String() == to {
			target = ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size}
		}
	}
	if target.Digest == "" {
		t.Fatalf("%s not in index.json", to)
	}
	// Keep the original (a valid signature of the first image) and add a
	// copy attached to the second.
	var m ocispec.Manifest
	notarytest.ReadJSON(t, filepath.Join(dir, "blobs", "sha256", sig.Digest.Encoded()), &m)
	m.Subject = &target
	raw, _ := json.Marshal(m)
	nd := writeBlob(t, dir, raw)
	nd.MediaType = ocispec.MediaTypeImageManifest
	ix.Manifests = append(ix.Manifests, nd)
	b, _ := json.Marshal(ix)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// corruptJWS changes one byte of the JWS signature value.
func corruptJWS(t *testing.T, dir string, sig ocispec.Descriptor) {
	rewriteSignature(t, dir, sig, func(m *ocispec.Manifest) {
		var env map[string]any
		notarytest.ReadJSON(t, filepath.Join(dir, "blobs", "sha256", m.Layers[0].Digest.Encoded()), &env)
		s := env["signature"].(string)
		flip := "A"
		if s[10] == 'A' {
			flip = "B"
		}
		env["signature"] = s[:10] + flip + s[11:]
		raw, _ := json.Marshal(env)
		nd := writeBlob(t, dir, raw)
		m.Layers[0].Digest, m.Layers[0].Size = nd.Digest, nd.Size
	})
}

// swapLayer replaces the bytes of the image's first layer file, leaving

func digestOf(b []byte) digest.Digest { return digest.FromBytes(b) }

// TestOCIArchive: the signed layout as an OCI archive (tar) verifies the
// same way.
func TestOCIArchive(t *testing.T) {
	root := notarytest.NewCA(t, "imgproof test root")
	key, chain := root.Leaf(t, "signer.example", time.Now().Add(time.Hour))
	dir, ds := writeLayout(t, fixtures.Default())
	notarytest.Sign(t, dir, ds[0], jws.MediaTypeEnvelope, key, chain)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tr := trust(t, notarytest.Policy(t, "strict", []string{"ca:test"}, []string{"*"}), notarytest.Store(t, "test", root))
	rep, err := attest.Run(ctx, func(o *verify.Options) (*verify.Result, error) {
		return verify.Archive(ctx, bytes.NewReader(buf.Bytes()), int64(buf.Len()), "app.tar", o), nil
	}, nil, &attest.Options{Notary: tr.Verifier()})
	if err != nil {
		t.Fatal(err)
	}
	sigs := notarySigs(rep)
	if rep.Source.Format != verify.FormatOCIArchive || rep.Verdict != verify.Verified || len(sigs) != 1 || sigs[0].Status != attest.StatusVerified {
		t.Fatalf("want a VERIFIED OCI archive with one verified Notary signature:\n%s", dump(t, rep))
	}
}
