package verify

import (
	"errors"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/internal/limits"
)

// BlobCache lets verifications in one process share what streaming a
// blob recomputed, so that a blob many images name is read and hashed
// once. The key is the blob's content-addressed path (blobs/<alg>/<hex>)
// in one source: a cache must only be shared by sources that serve the
// same bytes for a path (one registry host, say) and by runs with the same
// Limits.
//
// What is shared is the evidence, never a verdict: every run still checks
// its own claims (size, digest, media type, diff_id) against the evidence,
// so bytes that did not hash to their digest FAIL every image that names
// them, and a hit can only give the verdict a fresh read of the same bytes
// gives. Evidence is kept only from a complete read that nothing but the
// bytes decided: never after a read error, a read cut at a descriptor's
// size, a limit hit, a failed engine or with a LayerContent visitor.
type BlobCache interface {
	// Do returns the result cached under key, or calls compute and caches
	// its result when keep is true. A call may wait for another call's
	// compute of the same key. The result is nil only when compute
	// returned nil.
	Do(key string, compute func() (r *BlobEvidence, keep bool)) *BlobEvidence
}

// BlobEvidence is what one streaming pass over a blob recomputed. It is
// read-only.
type BlobEvidence struct {
	ev *evidence
}

// Size is the number of stored bytes that were read.
func (r *BlobEvidence) Size() int64 {
	if r == nil || r.ev == nil {
		return 0
	}
	return r.ev.size
}

// streamCached streams a scheduled blob, through the cache when there is
// one and the blob may be shared.
func (v *verifier) streamCached(p *pendingBlob) (*evidence, error) {
	var c BlobCache
	if v.opts != nil {
		c = v.opts.BlobCache
	}
	if c == nil || p.job.content != nil || !isBlobPath(p.job.name) {
		return v.st.blob(v.ctx, p.job)
	}
	var ownErr error
	r := c.Do(p.job.name, func() (*BlobEvidence, bool) {
		ev, err := v.st.blob(v.ctx, p.job)
		if err != nil {
			ownErr = err
			return nil, false
		}
		return &BlobEvidence{ev: ev}, keepEvidence(ev, p.job) && v.eng.failed() == nil
	})
	if ownErr != nil {
		return nil, ownErr
	}
	if r == nil || r.ev == nil || !covers(r.ev, p.job) {
		// Another run's evidence lacks an algorithm this one needs.
		return v.st.blob(v.ctx, p.job)
	}
	return r.ev, nil
}

// isBlobPath reports whether name is blobs/<alg>/<hex> with a valid digest.
func isBlobPath(name string) bool {
	rest, ok := strings.CutPrefix(name, "blobs/")
	if !ok {
		return false
	}
	alg, hx, ok := strings.Cut(rest, "/")
	if !ok {
		return false
	}
	_, err := digest.Parse(alg + ":" + hx)
	return err == nil
}

// keepEvidence reports whether evidence depends on the bytes alone: read
// to their end, without a read error and without a limit that another run
// might set differently.
func keepEvidence(ev *evidence, job blobJob) bool {
	if ev == nil || ev.readErr != nil {
		return false
	}
	if job.max >= 0 && ev.size >= job.max {
		return false // cut at the descriptor's size: a prefix, not the blob
	}
	var le *limits.Error
	return !errors.As(ev.decompressErr, &le)
}

// covers reports whether evidence holds every digest job asks for.
func covers(ev *evidence, job blobJob) bool {
	for _, a := range job.algs {
		if _, ok := ev.digests[a]; !ok {
			return false
		}
	}
	switch ev.compression {
	case CompressionNone, CompressionGzip, CompressionZstd:
	default:
		return true // no diff_id is computed for other formats
	}
	diffAlgs := job.diffAlgs
	if len(diffAlgs) == 0 {
		diffAlgs = []digest.Algorithm{digest.SHA256}
	}
	return !slices.ContainsFunc(diffAlgs, func(a digest.Algorithm) bool {
		_, ok := ev.diffIDs[a]
		return !ok
	})
}
