//go:build !js

package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// discoveryParallelism bounds the subjects searched at once.
const discoveryParallelism = 8

// discover looks for signatures and attestations of the root and of the
// image manifests a root index lists: cosign's .sig and .att tags, the
// referrers API and, when the registry has no referrers API, its fallback
// tag. Everything found only nominates a manifest; the core verifies it.
func (f *FS) discover(ctx context.Context, root digest.Digest, doc *looseDoc) []Descriptor {
	subjects := []digest.Digest{root}
	if doc != nil {
		for _, m := range doc.Manifests {
			if len(subjects) > f.lim.RegistryDiscovery {
				break
			}
			if m.Annotations["vnd.docker.reference.type"] != "" {
				continue // a BuildKit attestation manifest, not an image
			}
			if d, err := digest.Parse(m.Digest); err == nil {
				subjects = append(subjects, d)
			}
		}
	}
	seen := map[string]bool{root.String(): true}
	var out []Descriptor
	add := func(d Descriptor) {
		if seen[d.Digest] || len(out) >= f.lim.Attestations {
			return
		}
		seen[d.Digest] = true
		out = append(out, d)
	}
	// Ask for every subject at once, a few requests at a time, and keep
	// the results in subject order.
	found := make([][]Descriptor, len(subjects))
	sem := make(chan struct{}, discoveryParallelism)
	var wg sync.WaitGroup
	for i, s := range subjects {
		if s.Algorithm() != digest.SHA256 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			tag := string(s.Algorithm()) + "-" + s.Encoded()
			for _, t := range []struct{ suffix, kind string }{{".sig", KindSignatures}, {".att", KindAttestations}} {
				if d, ok := f.discoverTag(ctx, tag+t.suffix, s); ok {
					d.Annotations[AnnotationKind] = t.kind
					found[i] = append(found[i], d)
				}
			}
			found[i] = append(found[i], f.discoverReferrers(ctx, s, tag)...)
		}()
	}
	wg.Wait()
	for _, ds := range found {
		for _, d := range ds {
			add(d)
		}
	}
	return out
}

// discoverTag fetches a tag and returns its descriptor, digest computed
// from the bytes.
func (f *FS) discoverTag(ctx context.Context, tag string, subject digest.Digest) (Descriptor, bool) {
	r, err := f.c.get(ctx, "manifests", tag, f.docLimit(), "tag "+tag)
	if err != nil {
		f.discoveryError(tag, err)
		return Descriptor{}, false
	}
	d := digest.FromBytes(r.body)
	f.checkHeaders(r, d, "registry:"+f.c.repo.Name()+":"+tag)
	f.remember(d, r.body)
	doc := parseLoose(r.body)
	desc := Descriptor{MediaType: mediaTypeOf(doc, mediaTypeOnly(r.contentType)), Digest: d.String(), Size: int64(len(r.body)),
		Annotations: map[string]string{AnnotationRefName: tag, AnnotationDiscovery: "cosign-tag", AnnotationSubject: subject.String()}}
	if doc != nil {
		desc.ArtifactType = doc.ArtifactType
	}
	return desc, true
}

// discoverReferrers asks the referrers API, then the fallback tag.
func (f *FS) discoverReferrers(ctx context.Context, subject digest.Digest, tag string) []Descriptor {
	how := "referrers-api"
	r, err := f.c.get(ctx, "referrers", subject.String(), f.lim.IndexDocument, "referrers of "+subject.String())
	if err != nil || !strings.Contains(mediaTypeOnly(r.contentType), "index") && !hasManifests(r.body) {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			f.discoveryError("referrers/"+subject.String(), err)
		}
		how = "referrers-tag"
		r, err = f.c.get(ctx, "manifests", tag, f.lim.IndexDocument, "tag "+tag)
		if err != nil {
			f.discoveryError(tag, err)
			return nil
		}
		// The fallback tag is an ordinary index; remember its bytes so a
		// reader of the layout can find it by digest too.
		f.remember(digest.FromBytes(r.body), r.body)
	}
	doc := parseLoose(r.body)
	if doc == nil {
		f.addFinding(verify.Finding{Code: CodeDiscovery, Severity: verify.SeverityWarning, Path: "registry:" + how + ":" + subject.String(),
			Message: "the referrers list is not valid JSON and was ignored"})
		return nil
	}
	var out []Descriptor
	for i, m := range doc.Manifests {
		if i >= f.lim.Attestations {
			f.addFinding(verify.Finding{Code: CodeDiscovery, Severity: verify.SeverityWarning, Path: "registry:" + how + ":" + subject.String(),
				Message: fmt.Sprintf("%d referrers listed; only the first %d were considered (limit %s)", len(doc.Manifests), f.lim.Attestations, limits.Attestations)})
			break
		}
		d, err := digest.Parse(m.Digest)
		if err != nil || m.Size < 0 {
			continue
		}
		ann := map[string]string{AnnotationDiscovery: how, AnnotationSubject: subject.String()}
		for k, v := range m.Annotations {
			if _, ours := ann[k]; !ours && k != AnnotationKind {
				ann[k] = v
			}
		}
		f.mu.Lock()
		if _, ok := f.nodes[d]; !ok {
			f.nodes[d] = node{manifest: true, size: m.Size}
		}
		f.mu.Unlock()
		out = append(out, Descriptor{MediaType: m.MediaType, ArtifactType: m.ArtifactType, Digest: d.String(), Size: m.Size, Annotations: ann})
	}
	return out
}

func hasManifests(b []byte) bool {
	d := parseLoose(b)
	return d != nil && d.Manifests != nil
}

// discoveryError records a failed discovery request other than "not found".
func (f *FS) discoveryError(what string, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	f.addFinding(verify.Finding{Code: CodeDiscovery, Severity: verify.SeverityWarning, Path: "registry:" + what,
		Message: "searching for signatures and attestations failed: " + err.Error()})
}
