//go:build !js

package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// Descriptor is one entry of the synthesized index.json.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// Annotations written on the synthesized index.json entries. The "kind"
// values are the ones cosign save writes in an OCI layout.
const (
	AnnotationKind    = "kind"
	KindImage         = "dev.cosignproject.cosign/image"
	KindImageIndex    = "dev.cosignproject.cosign/imageIndex"
	KindSignatures    = "dev.cosignproject.cosign/sigs"
	KindAttestations  = "dev.cosignproject.cosign/atts"
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationDiscovery says how an entry was found: reference,
	// cosign-tag, referrers-api or referrers-tag.
	AnnotationDiscovery = "dev.imgproof.registry.discovery"
	// AnnotationSubject names the digest whose discovery found the entry.
	AnnotationSubject = "dev.imgproof.registry.subject"
)

// ErrReference is returned for a string that is not a valid image reference.
var ErrReference = errors.New("invalid image reference")

// ErrSchema1 is returned when the reference names a Docker schema 1 manifest.
var ErrSchema1 = errors.New("docker schema 1 manifests are not supported")

// ParseReference parses and validates an image reference such as
// registry.example/repo:tag or registry.example/repo@sha256:<hex>.
func ParseReference(ref string, o *Options) (name.Reference, error) {
	var opts []name.Option
	if o != nil && o.InsecureUnsafe {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrReference, ref, err)
	}
	if d, ok := r.(name.Digest); ok {
		if _, err := digest.Parse(d.DigestStr()); err != nil {
			return nil, fmt.Errorf("%w %q: %w", ErrReference, ref, err)
		}
	}
	return r, nil
}

// Open resolves ref and returns the registry as an OCI layout. The root
// manifest is fetched, hashed and, for a digest reference, compared with
// the digest asked for; signatures and attestations are discovered unless
// o.NoDiscovery is set. ctx bounds every later fetch through the FS.
func Open(ctx context.Context, ref string, lim limits.Limits, o *Options) (*FS, error) {
	r, err := ParseReference(ref, o)
	if err != nil {
		return nil, err
	}
	c, err := newClient(ctx, r.Context(), lim, o)
	if err != nil {
		return nil, err
	}
	f := &FS{ctx: ctx, c: c, lim: withRegistryDefaults(lim), docs: map[digest.Digest][]byte{}, nodes: map[digest.Digest]node{}}
	path := "registry:" + r.Name()
	resp, err := c.get(ctx, "manifests", r.Identifier(), f.docLimit(), r.Name())
	if err != nil {
		return nil, err
	}
	doc := parseLoose(resp.body)
	ct := mediaTypeOnly(resp.contentType)
	if isSchema1(ct, doc) {
		return nil, fmt.Errorf("%s: %w", r.Name(), ErrSchema1)
	}
	computed := digest.FromBytes(resp.body)
	root := computed
	if dr, ok := r.(name.Digest); ok {
		want := digest.Digest(dr.DigestStr())
		if want.Algorithm() != digest.SHA256 && want.Algorithm().Available() {
			computed = want.Algorithm().FromBytes(resp.body)
		}
		// The layout names the digest that was asked for, so the core
		// checks the served bytes against it exactly as for a local file.
		root = want
		if computed != want {
			f.addFinding(verify.Finding{Code: verify.CodeDigestMismatch, Path: path, Expected: want.String(),
				Actual: computed.String(), How: computed.Algorithm().String() + "(manifest bytes)",
				Message: "the registry served a manifest whose bytes do not hash to the pinned digest"})
		}
	}
	f.checkHeaders(resp, computed, path)
	f.remember(root, resp.body)
	mt := mediaTypeOf(doc, ct)
	kind := KindImage
	if isIndexType(mt) {
		kind = KindImageIndex
	}
	f.root = Descriptor{MediaType: mt, Digest: root.String(), Size: int64(len(resp.body)),
		Annotations: map[string]string{AnnotationKind: kind, AnnotationRefName: r.Name(), AnnotationDiscovery: "reference"}}
	if doc != nil {
		f.root.ArtifactType = doc.ArtifactType
	}
	entries := []Descriptor{f.root}
	if o == nil || !o.NoDiscovery {
		entries = append(entries, f.discover(ctx, root, doc)...)
	}
	f.index, err = json.Marshal(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []Descriptor `json:"manifests"`
	}{2, mtOCIIndex, entries})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Verify verifies the image that ref names, straight from its registry,
// with the same checks as a local layout. The report's source format is
// "registry". It returns an error only when ref is not a valid reference;
// a registry that cannot be reached or refuses gives an UNVERIFIABLE
// report, and one that serves wrong bytes gives a FAILED one.
func Verify(ctx context.Context, ref string, vopts *verify.Options, o *Options) (*verify.Result, error) {
	if _, err := ParseReference(ref, o); err != nil {
		return nil, err
	}
	lim := limits.Default()
	if vopts != nil && vopts.Limits != nil {
		lim = *vopts.Limits
	}
	f, err := Open(ctx, ref, lim, o)
	if err != nil {
		return failedResult(ctx, ref, vopts, openFinding(ref, err)), nil
	}
	// The source is named before the claims are checked: a Notary
	// Project trust policy scopes by its registry and repository.
	return verify.Dir(ctx, f, ref, amended(withFSCache(vopts, f), func(rep *verify.Report) {
		rep.Source.Path = ref
		rep.Source.Format = verify.FormatRegistry
		for _, x := range f.Findings() {
			rep.Add(x)
		}
	})), nil
}

// amended returns vopts with amend run before the verdict is drawn, after
// any amendment vopts already had.
func amended(vopts *verify.Options, amend func(*verify.Report)) *verify.Options {
	var o verify.Options
	if vopts != nil {
		o = *vopts
	}
	if prev := o.Amend; prev != nil {
		o.Amend = func(rep *verify.Report) { prev(rep); amend(rep) }
	} else {
		o.Amend = amend
	}
	return &o
}

// openFinding turns a failure to resolve the root into a finding.
func openFinding(ref string, err error) verify.Finding {
	path := "registry:" + ref
	switch {
	case errors.Is(err, ErrSchema1):
		return verify.Finding{Code: verify.CodeUnsupportedMediaType, Severity: verify.SeverityError, Path: path,
			Actual: mtSchema1, Message: "Docker schema 1 manifests are refused: their digest does not cover the served bytes"}
	case errors.Is(err, limits.ErrLimit):
		return verify.Finding{Code: verify.CodeLimitExceeded, Path: path, Message: err.Error()}
	case errors.Is(err, ErrPlainHTTP), errors.Is(err, ErrRedirect):
		return verify.Finding{Code: CodeCredentialPolicy, Severity: verify.SeverityUnverifiable, Path: path, Message: err.Error()}
	default:
		return verify.Finding{Code: CodeFetch, Severity: verify.SeverityUnverifiable, Path: path, Message: err.Error()}
	}
}

// failedResult is the result for a reference whose root could not be
// fetched: a real verify.Result over an empty layout, so that every method
// of Result works, whose report holds only the finding.
func failedResult(ctx context.Context, ref string, vopts *verify.Options, finding verify.Finding) *verify.Result {
	empty := &FS{index: []byte(`{"schemaVersion":2,"mediaType":"` + mtOCIIndex + `","manifests":[]}`)}
	return verify.Dir(ctx, empty, ref, amended(vopts, func(rep *verify.Report) {
		rep.Source = verify.Source{Path: ref, Format: verify.FormatRegistry}
		rep.Findings, rep.Images, rep.Indexes, rep.IndexDigest, rep.Checks = nil, nil, nil, nil, 0
		rep.Add(finding)
	}))
}
