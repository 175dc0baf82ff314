//go:build !js

package registry

import (
	"strings"

	"github.com/imgproof/imgproof/verify"
)

// fsCache passes blob evidence to a shared verify.BlobCache only when
// fetching the blob gave no finding of its own, such as a
// Docker-Content-Digest header naming another digest: such a finding is
// not in the evidence, so every image that names the blob fetches it
// again and gets the finding itself, as a verification of its own would.
type fsCache struct {
	inner verify.BlobCache
	f     *FS
}

func (c fsCache) Do(key string, compute func() (*verify.BlobEvidence, bool)) *verify.BlobEvidence {
	return c.inner.Do(key, func() (*verify.BlobEvidence, bool) {
		r, keep := compute()
		return r, keep && !c.f.blobFinding(key)
	})
}

// blobFinding reports whether fetching the blob at name (blobs/<alg>/<hex>)
// gave a finding that weighs on the verdict.
func (f *FS) blobFinding(name string) bool {
	rest, ok := strings.CutPrefix(name, "blobs/")
	if !ok {
		return true
	}
	suffix := "/blobs/" + strings.Replace(rest, "/", ":", 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, x := range f.findings {
		if strings.HasSuffix(x.Path, suffix) && x.Severity != verify.SeverityInfo && x.Severity != verify.SeverityWarning {
			return true
		}
	}
	return false
}

// withFSCache returns vopts with its blob cache, if any, wrapped for f.
func withFSCache(vopts *verify.Options, f *FS) *verify.Options {
	if vopts == nil || vopts.BlobCache == nil {
		return vopts
	}
	o := *vopts
	o.BlobCache = fsCache{inner: vopts.BlobCache, f: f}
	return &o
}
