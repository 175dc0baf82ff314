//go:build !js

package registry

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/notary"
	"github.com/imgproof/imgproof/attest/notary/notarytest"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// notarySignature signs the fixture's image with notation-go in a layout
// and returns the signature manifest and its blobs, to be served.
func notarySignature(t *testing.T, b *fixtures.Built, mediaType string, ca *notarytest.CA) artifact {
	dir := filepath.Join(t.TempDir(), "app")
	if err := b.WriteLayoutDir(dir); err != nil {
		t.Fatal(err)
	}
	key, chain := ca.Leaf(t, "signer.example", time.Now().Add(time.Hour))
	d := notarytest.Sign(t, dir, b.Expected.Images[0].ManifestDigest, mediaType, key, chain)
	read := func(dg string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(dg, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	a := artifact{manifest: read(d.Digest.String()), digest: d.Digest.String(), blobs: map[string][]byte{}}
	var m ocispec.Manifest
	if err := json.Unmarshal(a.manifest, &m); err != nil {
		t.Fatal(err)
	}
	for _, x := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		a.blobs[x.Digest.String()] = read(x.Digest.String())
	}
	return a
}

// TestDiscoverNotarySignatures: a notation signature listed by the
// referrers API, or only under the referrers fallback tag, is found and
// verified against the trust policy; without trust it is listed unchecked.
func TestDiscoverNotarySignatures(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	man := b.Expected.Images[0].ManifestDigest
	ca := notarytest.NewCA(t, "imgproof test root")
	pol, err := notary.LoadPolicy(notarytest.Policy(t, "strict", []string{"ca:test"}, []string{"*"}))
	if err != nil {
		t.Fatal(err)
	}
	store, err := notary.OpenStore(notarytest.Store(t, "test", ca))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ mode, mediaType string }{{"referrers-api", attest.MediaTypeJWS}, {"referrers-tag", attest.MediaTypeCOSE}} {
		t.Run(c.mode, func(t *testing.T) {
			sig := notarySignature(t, b, c.mediaType, ca)
			f := newFakeRegistry(t, b)
			f.add(sig)
			list, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageIndex,
				"manifests": []any{map[string]any{"mediaType": ocispec.MediaTypeImageManifest, "digest": sig.digest,
					"size": len(sig.manifest), "artifactType": attest.ArtifactTypeNotary}}})
			if c.mode == "referrers-api" {
				f.lie = func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
					if kind != "referrers" || ref != man {
						return false
					}
					w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
					_, _ = w.Write(list)
					return true
				}
			} else {
				f.extra[sha(list)] = list
				f.tags[strings.Replace(man, ":", "-", 1)] = sha(list)
			}
			for _, trusted := range []bool{true, false} {
				ctx := context.Background()
				opts := &attest.Options{}
				if trusted {
					opts.Notary = (&notary.Trust{Policy: pol, Store: store, Scope: f.host() + "/test"}).Verifier()
				}
				rep, err := attest.Run(ctx, func(o *verify.Options) (*verify.Result, error) {
					return verify.Dir(ctx, openFake(t, f.ref("latest")), f.ref("latest"), o), nil
				}, nil, opts)
				if err != nil {
					t.Fatal(err)
				}
				var got []attest.Attestation
				for _, a := range rep.Attestations {
					if a.Kind == attest.KindNotary {
						got = append(got, a)
					}
				}
				want := attest.StatusVerified
				if !trusted {
					want = attest.StatusUnverifiable
				}
				if rep.Verdict != verify.Verified || len(got) != 1 || got[0].Status != want || got[0].Signature == nil || got[0].Signature.Envelope != c.mediaType {
					t.Fatalf("trusted=%v: verdict %s, Notary signatures %+v, findings %v", trusted, rep.Verdict, got, findingCodes(rep.Report))
				}
				if !trusted && !rep.Has(attest.CodeNotChecked) {
					t.Fatalf("no %s finding: %v", attest.CodeNotChecked, findingCodes(rep.Report))
				}
			}
		})
	}
}
