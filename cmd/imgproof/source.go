package main

import (
	"context"
	"fmt"
	"os"

	"github.com/imgproof/imgproof/verify"
)

// registrySource, when set by a native-only file, verifies a registry
// reference. It is nil when registry support is not built in.
var registrySource func(ctx context.Context, ref string, opts *verify.Options) (*verify.Result, error)

// openSource verifies SOURCE: a directory (an OCI layout or an unpacked
// docker save), a file (a tar or tar.gz: OCI archive or docker save), or
// else a registry reference.
func openSource(ctx context.Context, src string, opts *verify.Options) (*verify.Result, error) {
	st, err := os.Stat(src)
	switch {
	case err == nil && st.IsDir():
		// The root and the file below stay open until the process exits:
		// verify extensions (attestations, policies) read blobs through
		// the Result after verification has returned.
		root, err := os.OpenRoot(src)
		if err != nil {
			return nil, err
		}
		return verify.Dir(ctx, root.FS(), src, opts), nil
	case err == nil:
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		return verify.Archive(ctx, f, st.Size(), src, opts), nil
	case os.IsNotExist(err) && registrySource != nil && looksLikeReference(src):
		return registrySource(ctx, src, opts)
	default:
		return nil, usageError{fmt.Errorf("%s: no such file or directory, and not a registry reference", src)}
	}
}

// looksLikeReference reports whether s could be a registry reference
// rather than a mistyped path.
func looksLikeReference(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' || s[i] == ':' || s[i] == '@' {
			return true
		}
	}
	return false
}
