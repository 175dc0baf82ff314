package attest_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/dsse"
	"github.com/imgproof/imgproof/attest/keys"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// signer is a test signing key.
type signer struct {
	priv *ecdsa.PrivateKey
	key  *keys.Key
}

func newSigner(t testing.TB, name string) *signer {
	t.Helper()
	p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.New(&p.PublicKey, name)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{priv: p, key: k}
}

func (s *signer) sign(t testing.TB, msg []byte) []byte {
	t.Helper()
	h := sha256.Sum256(msg)
	sig, err := s.priv.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// envelope signs payload as a DSSE envelope.
func (s *signer) envelope(t testing.TB, payloadType string, payload []byte) []byte {
	t.Helper()
	sig := s.sign(t, dsse.PAE(payloadType, payload))
	b, err := json.Marshal(dsse.Envelope{PayloadType: payloadType, Payload: base64.StdEncoding.EncodeToString(payload),
		Signatures: []dsse.Signature{{Sig: base64.StdEncoding.EncodeToString(sig)}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func simplePayload(d string) []byte {
	return []byte(`{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":"` +
		d + `"},"type":"cosign container image signature"},"optional":null}`)
}

func statement(predicateType string, predicate string, subjects ...string) []byte {
	var subs []string
	for _, s := range subjects {
		d := digest.Digest(s)
		subs = append(subs, fmt.Sprintf(`{"name":"registry.example/app","digest":{%q:%q}}`, d.Algorithm(), d.Encoded()))
	}
	if predicate == "" {
		predicate = "{}"
	}
	return []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[%s],"predicateType":%q,"predicate":%s}`,
		join(subs), predicateType, predicate))
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// layout is an OCI layout under construction: a fixture image plus
// signature manifests added the way cosign save adds them.
type layout struct {
	t        testing.TB
	files    map[string][]byte
	index    ocispec.Index
	built    *fixtures.Built
	manifest digest.Digest // the image's manifest digest
	config   digest.Digest
}

func newLayout(t testing.TB, spec fixtures.Spec) *layout {
	t.Helper()
	b, err := fixtures.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	l := &layout{t: t, files: b.LayoutFiles(), built: b}
	if err := json.Unmarshal(l.files["index.json"], &l.index); err != nil {
		t.Fatal(err)
	}
	l.manifest = digest.Digest(b.Expected.Images[0].ManifestDigest)
	l.config = digest.Digest(b.Expected.Images[0].ConfigDigest)
	return l
}

func (l *layout) blob(mediaType string, data []byte, ann map[string]string) ocispec.Descriptor {
	d := digest.FromBytes(data)
	l.files["blobs/sha256/"+d.Encoded()] = data
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data)), Annotations: ann}
}

type layer struct {
	mediaType string
	data      []byte
	ann       map[string]string
}

// addManifest adds an artifact manifest holding layers, listed in
// index.json with entryAnn; subject, if set, becomes its subject field.
func (l *layout) addManifest(layers []layer, entryAnn map[string]string, subject *ocispec.Descriptor) ocispec.Descriptor {
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Subject: subject}
	m.SchemaVersion = 2
	var diffIDs []string
	for _, ly := range layers {
		d := l.blob(ly.mediaType, ly.data, ly.ann)
		m.Layers = append(m.Layers, d)
		diffIDs = append(diffIDs, d.Digest.String())
	}
	if subject != nil {
		m.ArtifactType = "application/vnd.dev.cosign.artifact.sig.v1+json"
		m.Config = l.blob("application/vnd.oci.empty.v1+json", []byte("{}"), nil)
	} else {
		// The config cosign writes for .sig and .att images.
		cfg := mustMarshal(l.t, map[string]any{"architecture": "", "created": "0001-01-01T00:00:00Z",
			"history": []any{map[string]any{"created": "0001-01-01T00:00:00Z"}}, "os": "",
			"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}, "config": map[string]any{}})
		m.Config = l.blob(ocispec.MediaTypeImageConfig, cfg, nil)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		l.t.Fatal(err)
	}
	d := l.blob(ocispec.MediaTypeImageManifest, raw, nil)
	e := d
	e.Annotations = entryAnn
	l.index.Manifests = append(l.index.Manifests, e)
	return d
}

func (l *layout) cosignSig(s *signer, payload []byte) {
	l.addManifest([]layer{{attest.MediaTypeSimpleSigning, payload,
		map[string]string{attest.AnnotationCosignSignature: base64.StdEncoding.EncodeToString(s.sign(l.t, payload))}}},
		map[string]string{"kind": "dev.cosignproject.cosign/sigs"}, nil)
}

func (l *layout) cosignAtt(env []byte) {
	l.addManifest([]layer{{attest.MediaTypeDSSE, env, map[string]string{"predicateType": "x", attest.AnnotationCosignSignature: ""}}},
		map[string]string{"kind": "dev.cosignproject.cosign/atts"}, nil)
}

func (l *layout) fs() fstest.MapFS {
	// cosign save marks the image entry.
	if l.index.Manifests[0].Annotations == nil {
		l.index.Manifests[0].Annotations = map[string]string{}
	}
	l.index.Manifests[0].Annotations["kind"] = "dev.cosignproject.cosign/image"
	raw, err := json.Marshal(l.index)
	if err != nil {
		l.t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for p, b := range l.files {
		fsys[p] = &fstest.MapFile{Data: b}
	}
	fsys["index.json"] = &fstest.MapFile{Data: raw}
	return fsys
}

// run verifies the layout's content and then its claims; nil opts trust
// nothing.
func (l *layout) run(opts *attest.Options) *attest.Report {
	l.t.Helper()
	if opts == nil {
		opts = &attest.Options{}
	}
	return l.runWith(nil, opts)
}

// runWith is run with verify options.
func (l *layout) runWith(vopts *verify.Options, opts *attest.Options) *attest.Report {
	l.t.Helper()
	ctx := context.Background()
	res, err := attest.Run(ctx, func(o *verify.Options) (*verify.Result, error) {
		return verify.Dir(ctx, l.fs(), "layout", o), nil
	}, vopts, opts)
	if err != nil {
		l.t.Fatal(err)
	}
	return res
}

func codes(r *attest.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, fmt.Sprintf("%s(%s)@%s: %s", f.Code, f.Severity, f.Path, f.Message))
	}
	return out
}

func mustJSON(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
