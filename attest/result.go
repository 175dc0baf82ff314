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
