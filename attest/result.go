package attest

import (
	"context"

	"github.com/imgproof/imgproof/verify"
)

// FromResult makes a Target of a verified source.
func FromResult(res *verify.Result) Target {
	t := Target{Report: res.Report, Blobs: res}
	for _, r := range res.Roots() {
		t.Roots = append(t.Roots, Root{Descriptor: r.Descriptor, Path: r.Path})
	}
	return t
}

// Source verifies one source with the options it is given: verify.Dir,
// verify.Archive or verify.Stream over a face's input, or registry.Verify.
// An error is the face's (a reference that is no reference, a source that
// is not what its transport names); findings are never errors.
type Source func(vopts *verify.Options) (*verify.Result, error)

// Run is the one run both faces call: source, content, claims, verdict.
// It verifies src with vopts and, when opts is set, checks the signatures
// and attestations of what was verified with that trust as the last stage
// of the verifier's run (verify.Options.Claims); the run then finalizes
// the report once, so the claims' findings weigh on its verdict. A source
// that must act on the content before the claims (cmd keeps the images
// oci:DIR:REF names) wraps that stage. With nil opts no claim is checked
// and the verdict rests on the content alone.
func Run(ctx context.Context, src Source, vopts *verify.Options, opts *Options) (*Report, error) {
	o := verify.Options{}
	if vopts != nil {
		o = *vopts
	}
	var atts []Attestation
	if opts != nil {
		before := o.Claims
		o.Claims = func(ctx context.Context, res *verify.Result) {
			if before != nil {
				before(ctx, res)
			}
			atts = append(atts, check(ctx, FromResult(res), opts)...)
		}
	}
	res, err := src(&o)
	if err != nil || res == nil {
		return nil, err
	}
	return &Report{Report: res.Report, Attestations: atts}, nil
}
