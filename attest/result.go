package attest

import (
	"context"

	"github.com/imgproof/imgproof/verify"
)

// FromResult makes a Target of a finished content verification.
func FromResult(res *verify.Result) Target {
	t := Target{Report: res.Report, Blobs: res}
	for _, r := range res.Roots() {
		t.Roots = append(t.Roots, Root{Descriptor: r.Descriptor, Path: r.Path})
	}
	return t
}

// VerifyResult is Verify on a verify.Result.
func VerifyResult(ctx context.Context, res *verify.Result, opts *Options) {
	Verify(ctx, FromResult(res), opts)
}

// Run is the one run both faces call once the source was verified: it
// checks the signatures and attestations of res with opts, the trust the
// face assembled, and then finalizes res.Report once and returns it. With
// nil opts no claim is checked and the verdict rests on the content alone.
func Run(ctx context.Context, res *verify.Result, opts *Options) *verify.Report {
	if opts == nil {
		finish(ctx, Target{Report: res.Report}, nil)
	} else {
		finish(ctx, FromResult(res), opts)
	}
	return res.Report
}
