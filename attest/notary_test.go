package attest_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// notarySig adds a Notary Project signature manifest (notation's form:
// the artifact type as config media type) with the given layers.
func (l *layout) notarySig(subject ocispec.Descriptor, layers ...layer) {
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Subject: &subject,
		Config: l.blob(attest.ArtifactTypeNotary, []byte("{}"), nil)}
	m.SchemaVersion = 2
	for _, ly := range layers {
		m.Layers = append(m.Layers, l.blob(ly.mediaType, ly.data, ly.ann))
	}
	raw, err := json.Marshal(m)
	if err != nil {
		l.t.Fatal(err)
	}
	l.index.Manifests = append(l.index.Manifests, l.blob(ocispec.MediaTypeImageManifest, raw, nil))
}

// stubNotary stands in for attest/notary: it records what it was given
// and answers with res, whose Target defaults to the descriptor given.
type stubNotary struct {
	got []attest.NotarySignature
	res attest.NotaryResult
	// target, if set, is the descriptor the "payload" signs.
	target *ocispec.Descriptor
}

func (s *stubNotary) verify(_ context.Context, sig attest.NotarySignature) attest.NotaryResult {
	s.got = append(s.got, sig)
	res := s.res
	if res.Verified && res.Target == nil {
		t := sig.Target
		if s.target != nil {
			t = *s.target
		}
		res.Target = &t
	}
	return res
}

// TestNotaryRequiredWithoutVerifier: a policy that requires a Notary
// signature where no Notary verifier exists (the browser build) is
// UNVERIFIABLE and says why.
func TestNotaryRequiredWithoutVerifier(t *testing.T) {
	l := newLayout(t, fixtures.Default())
	subject := l.index.Manifests[0]
	subject.Annotations, subject.Platform = nil, nil
	l.notarySig(subject, layer{attest.MediaTypeJWS, []byte(`{"payload":"x"}`), nil})
	p, err := policy.Parse([]byte("apiVersion: imgproof.dev/policy/v1\nrequireNotarySignature: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep := l.run(&attest.Options{Keys: []*keys.Key{newSigner(t, "k").key}, Policy: p})
	found := false
	for _, f := range rep.Findings {
		found = found || f.Code == attest.CodeUnsigned && strings.Contains(f.Message, "browser build cannot verify Notary Project signatures")
	}
	if rep.Verdict != verify.Unverifiable || !found {
		t.Fatalf("want UNVERIFIABLE naming the missing Notary verifier: %v", codes(rep))
	}
}

func TestNotaryDiscoveryAndBinding(t *testing.T) {
	ok := attest.NotaryResult{BundleResult: attest.BundleResult{Verified: true, Signers: []string{"x509.subject: CN=s"},
		Checks: []attest.Check{{Name: "integrity", Status: "pass"}}}}
	bad := attest.NotaryResult{BundleResult: attest.BundleResult{
		Finding: &verify.Finding{Code: attest.CodeSignatureInvalid, Message: "integrity: bad signature"}}}
	other := &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("another manifest"), Size: 16}
	env := layer{attest.MediaTypeJWS, []byte(`{"payload":"x"}`), nil}
	for _, c := range []struct {
		name     string
		layers   []layer
		stub     *stubNotary
		policy   string
		verdict  verify.Verdict
		status   string
		want     verify.Code
		verifier bool // the stub must have been called
	}{
		{name: "verified", layers: []layer{env}, stub: &stubNotary{res: ok}, verdict: verify.Verified, status: attest.StatusVerified, verifier: true},
		{name: "required by the policy", layers: []layer{env}, stub: &stubNotary{res: ok}, policy: "requireNotarySignature: true",
			verdict: verify.Verified, status: attest.StatusVerified, verifier: true},
		{name: "required but absent", stub: &stubNotary{res: ok}, policy: "requireNotarySignature: true",
			verdict: verify.Unverifiable, want: attest.CodeUnsigned},
		{name: "bad signature", layers: []layer{env}, stub: &stubNotary{res: bad}, verdict: verify.Failed, status: attest.StatusFailed,
			want: attest.CodeSignatureInvalid, verifier: true},
		{name: "signs another manifest", layers: []layer{env}, stub: &stubNotary{res: ok, target: other}, verdict: verify.Failed,
			status: attest.StatusFailed, want: attest.CodeSubjectMismatch, verifier: true},
		{name: "no trust", layers: []layer{env}, verdict: verify.Verified, status: attest.StatusUnverifiable, want: attest.CodeNotChecked},
		{name: "two layers", layers: []layer{env, env}, stub: &stubNotary{res: ok}, verdict: verify.Failed, status: attest.StatusFailed,
			want: attest.CodeEnvelopeInvalid},
		{name: "not an envelope", layers: []layer{{"text/plain", []byte("x"), nil}}, stub: &stubNotary{res: ok}, verdict: verify.Failed,
			status: attest.StatusFailed, want: attest.CodeEnvelopeInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLayout(t, fixtures.Default())
			subject := l.index.Manifests[0]
			subject.Annotations, subject.Platform = nil, nil
			if c.layers != nil {
				l.notarySig(subject, c.layers...)
			}
			opts := &attest.Options{}
			if c.stub != nil {
				opts.Notary = c.stub.verify
			}
			if c.policy != "" {
				p, err := policy.Parse([]byte("apiVersion: imgproof.dev/policy/v1\n" + c.policy + "\n"))
				if err != nil {
					t.Fatal(err)
				}
				opts.Policy = p
			}
			rep := l.run(opts)
			var sigs []attest.Attestation
			for _, a := range rep.Attestations {
				if a.Kind == attest.KindNotary {
					sigs = append(sigs, a)
				}
			}
			if rep.Verdict != c.verdict || (c.status == "") != (len(sigs) == 0) || len(sigs) > 0 && sigs[0].Status != c.status {
				t.Fatalf("want %s, signature %q; got %s %+v\n%v", c.verdict, c.status, rep.Verdict, sigs, codes(rep))
			}
			if c.want != "" && !rep.Has(c.want) {
				t.Fatalf("no %s: %v", c.want, codes(rep))
			}
			if called := c.stub != nil && len(c.stub.got) > 0; called != c.verifier {
				t.Fatalf("verifier called: %v, want %v", called, c.verifier)
			}
			if c.verifier {
				g := c.stub.got[0]
				if g.MediaType != attest.MediaTypeJWS || string(g.Envelope) != string(env.data) ||
					g.Target.Digest != l.manifest || g.Target.Size != subject.Size || g.Target.MediaType != ocispec.MediaTypeImageManifest {
					t.Fatalf("verifier got %+v, want the recomputed manifest %s (%d bytes)", g, l.manifest, subject.Size)
				}
			}
		})
	}
}

func TestDefaultNotaryScope(t *testing.T) {
	for _, c := range []struct {
		src  verify.Source
		want string
	}{
		{verify.Source{Format: verify.FormatRegistry, Path: "localhost:5000/team/app:v1"}, "localhost:5000/team/app"},
		{verify.Source{Format: verify.FormatRegistry, Path: "localhost:5000/team/app@sha256:" + strings.Repeat("a", 64)}, "localhost:5000/team/app"},
		{verify.Source{Format: verify.FormatRegistry, Path: "registry.example/app"}, "registry.example/app"},
		{verify.Source{Format: verify.FormatOCILayout, Path: "/tmp/x/My Image_1"}, "local/my-image_1"},
		{verify.Source{Format: verify.FormatOCIArchive, Path: "app.tar"}, "local/app.tar"},
		{verify.Source{Format: verify.FormatOCILayout, Path: "/"}, "local/image"},
	} {
		if got := attest.DefaultScope(c.src); got != c.want {
			t.Errorf("DefaultScope(%+v) = %q, want %q", c.src, got, c.want)
		}
	}
}
