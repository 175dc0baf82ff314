//go:build !js

package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

type artifact struct {
	manifest []byte
	digest   string
	blobs    map[string][]byte
}

// cosignSignature builds a manifest shaped like the ones cosign pushes to
// sha256-<hex>.sig (unsigned here: discovery is under test, not signatures).
func cosignSignature(subject string) artifact {
	payload := []byte(`{"critical":{"identity":{"docker-reference":"example.test/img"},"image":{"docker-manifest-digest":"` + subject + `"},"type":"cosign container image signature"},"optional":null}`)
	cfg := []byte(`{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["` + sha(payload) + `"]},"config":{}}`)
	man, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(cfg), "size": len(cfg)},
		"layers": []map[string]any{{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": sha(payload), "size": len(payload),
			"annotations": map[string]string{"dev.cosignproject.cosign/signature": "MEUCIQ=="}}},
	})
	return artifact{manifest: man, digest: sha(man), blobs: map[string][]byte{sha(cfg): cfg, sha(payload): payload}}
}

// referrer builds an OCI 1.1 artifact whose subject is the image.
func referrer(subject string, size int) artifact {
	empty := []byte("{}")
	body := []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`)
	man, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
		"config":       map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha(empty), "size": 2},
		"layers":       []map[string]any{{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "digest": sha(body), "size": len(body)}},
		"subject":      map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": size},
	})
	return artifact{manifest: man, digest: sha(man), blobs: map[string][]byte{sha(empty): empty, sha(body): body}}
}

func (f *fakeRegistry) add(a artifact) {
	f.extra[a.digest] = a.manifest
	for d, b := range a.blobs {
		f.extra[d] = b
	}
}

func referrersList(as ...artifact) []byte {
	var ms []map[string]any
	for _, a := range as {
		ms = append(ms, map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": a.digest, "size": len(a.manifest),
			"artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json"})
	}
	b, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": ms})
	return b
}

func openFake(t *testing.T, ref string) *FS {
	t.Helper()
	f, err := Open(context.Background(), ref, limits.Default(), &Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

type indexEntry struct {
	Digest      string            `json:"digest"`
	Annotations map[string]string `json:"annotations"`
}

func entries(t *testing.T, f *FS) map[string]indexEntry {
	t.Helper()
	var idx struct{ Manifests []indexEntry }
	if err := json.Unmarshal(f.IndexJSON(), &idx); err != nil {
		t.Fatal(err)
	}
	out := map[string]indexEntry{}
	for _, e := range idx.Manifests {
		out[e.Digest] = e
	}
	return out
}

func TestDiscoverCosignTagsAndReferrers(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	man := b.Expected.Images[0].ManifestDigest
	tag := strings.Replace(man, ":", "-", 1)
	sig := cosignSignature(man)
	att := cosignSignature(man) // the same shape serves for .att here
	att.manifest = append(att.manifest, ' ')
	att.digest = sha(att.manifest)
	viaAPI := referrer(man, len(b.Blobs[man]))
	viaTag := referrer(man, len(b.Blobs[man])+0)
	viaTag.manifest = append(viaTag.manifest, '\n')
	viaTag.digest = sha(viaTag.manifest)

	for _, mode := range []string{"referrers-api", "referrers-tag"} {
		t.Run(mode, func(t *testing.T) {
			f := newFakeRegistry(t, b)
			for _, a := range []artifact{sig, att, viaAPI, viaTag} {
				f.add(a)
			}
			f.tags[tag+".sig"] = sig.digest
			f.tags[tag+".att"] = att.digest
			want := viaAPI
			if mode == "referrers-api" {
				f.lie = func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
					if kind != "referrers" || ref != man {
						return false
					}
					w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
					_, _ = w.Write(referrersList(viaAPI))
					return true
				}
			} else {
				want = viaTag
				list := referrersList(viaTag)
				f.extra[sha(list)] = list
				f.tags[tag] = sha(list)
			}
			fsys := openFake(t, f.ref("latest"))
			got := entries(t, fsys)
			checks := map[string][2]string{
				man:         {KindImage, "reference"},
				sig.digest:  {KindSignatures, "cosign-tag"},
				att.digest:  {KindAttestations, "cosign-tag"},
				want.digest: {"", mode},
			}
			for d, w := range checks {
				e, ok := got[d]
				if !ok {
					t.Fatalf("index.json lacks %s (%s): %s", d, w[1], fsys.IndexJSON())
				}
				if e.Annotations[AnnotationKind] != w[0] || e.Annotations[AnnotationDiscovery] != w[1] {
					t.Fatalf("%s annotations %v, want kind %q discovery %q", d, e.Annotations, w[0], w[1])
				}
			}
			if len(got) != len(checks) {
				t.Fatalf("index.json has %d entries, want %d: %s", len(got), len(checks), fsys.IndexJSON())
			}
			rep := verify.Dir(context.Background(), fsys, f.ref("latest"), nil).Report
			if rep.Verdict != verify.Verified {
				t.Fatalf("verdict %s: %v", rep.Verdict, findingCodes(rep))
			}
			seen := map[string]bool{}
			for _, im := range rep.Images {
				if im.ManifestDigest != nil {
					seen[*im.ManifestDigest] = true
				}
			}
			for d := range checks {
				if !seen[d] {
					t.Errorf("%s was not verified as an image of the report", d)
				}
			}
		})
	}
}

// A referrers list is only a hint: an entry whose bytes do not match the
// digest it lists fails like any other descriptor.
func TestLyingReferrerFails(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	man := b.Expected.Images[0].ManifestDigest
	good := referrer(man, len(b.Blobs[man]))
	f := newFakeRegistry(t, b)
	f.add(good)
	f.lie = func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
		switch {
		case kind == "referrers" && ref == man:
			w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
			_, _ = w.Write(referrersList(good))
			return true
		case kind == "manifests" && ref == good.digest:
			w.Header().Set("Docker-Content-Digest", good.digest)
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			_, _ = w.Write(referrer(man, 1).manifest) // same size class, other bytes
			return true
		}
		return false
	}
	rep := verifyFake(t, f.ref("latest"), nil)
	wantFinding(t, rep, verify.Failed, verify.CodeDigestMismatch)
}

// A registry that lists thousands of referrers costs a bounded amount of
// work: only the first limits.Attestations are considered.
func TestManyReferrersAreBounded(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	man := b.Expected.Images[0].ManifestDigest
	f := newFakeRegistry(t, b)
	var many []artifact
	for i := range 3000 {
		a := referrer(man, len(b.Blobs[man]))
		a.manifest = append(a.manifest, []byte(strings.Repeat(" ", i))...)
		a.digest = sha(a.manifest)
		many = append(many, a)
	}
	list := referrersList(many...)
	f.lie = func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
		if kind != "referrers" {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
		_, _ = w.Write(list)
		return true
	}
	lim := limits.Default()
	fsys, err := Open(context.Background(), f.ref("latest"), lim, &Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(entries(t, fsys)); n != 1+lim.Attestations {
		t.Fatalf("index.json has %d entries, want the root and %d referrers", n, lim.Attestations)
	}
	warned := false
	for _, x := range fsys.Findings() {
		warned = warned || (x.Code == CodeDiscovery && strings.Contains(x.Message, "only the first"))
	}
	if !warned {
		t.Fatalf("no finding says referrers were dropped: %v", fsys.Findings())
	}
}

// TestDiscoverySubjectsAreBounded signs every platform manifest of an
// index with a cosign .sig tag: by default each signature is found; with
// registry-discovery-subjects=1 only the first manifest is searched.
func TestDiscoverySubjectsAreBounded(t *testing.T) {
	b := fixtures.MustBuild(fixtures.MultiPlatform())
	if len(b.Expected.Images) < 2 {
		t.Fatalf("%d images; the test needs an index of several", len(b.Expected.Images))
	}
	f := newFakeRegistry(t, b)
	var sigs []artifact
	for _, im := range b.Expected.Images {
		s := cosignSignature(im.ManifestDigest)
		f.add(s)
		f.tags[strings.Replace(im.ManifestDigest, ":", "-", 1)+".sig"] = s.digest
		sigs = append(sigs, s)
	}
	found := func(lim limits.Limits) []bool {
		fsys, err := Open(context.Background(), f.ref("latest"), lim, &Options{Keychain: authn.NewMultiKeychain()})
		if err != nil {
			t.Fatal(err)
		}
		got := entries(t, fsys)
		var out []bool
		for _, s := range sigs {
			_, ok := got[s.digest]
			out = append(out, ok)
		}
		return out
	}
	for i, ok := range found(limits.Default()) {
		if !ok {
			t.Fatalf("default limits: the signature of image %d was not found", i)
		}
	}
	lim := limits.Default()
	lim.RegistryDiscovery = 1
	for i, ok := range found(lim) {
		if ok != (i == 0) {
			t.Fatalf("registry-discovery-subjects=1: image %d's signature found: %v", i, ok)
		}
	}
}
