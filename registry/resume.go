//go:build !js

package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/internal/limits"
)

// errBlobTime is the cause given when a blob takes longer than the
// registry-blob-ms limit, retries included.
var errBlobTime = errors.New("blob took too long")

// blobReader streams one blob and carries on where a cut left it. The
// bytes it returns are only ever appended: after a connection reset or a
// body that ended before its declared length at offset N, it asks for
// bytes N onwards with Range and continues when the registry answers 206
// from exactly N; otherwise it fetches the whole blob again and skips its
// first N bytes. The verifier's streaming hash above sees each offset once
// and in order, so the digest covers exactly the bytes verified, and a
// registry that serves other bytes the second time is caught by it. No
// byte is ever kept on disk.
type blobReader struct {
	c       *client
	ctx     context.Context
	cancel  context.CancelFunc
	b       *budget
	d       digest.Digest
	body    io.ReadCloser
	off     int64 // bytes returned so far
	noRange bool  // the registry does not resume from an offset
	err     error // the error every later Read returns
	closed  bool
}

// openBlob sends the first request for a blob. The response gives the
// caller its headers; the reader resumes from later cuts on its own.
func (c *client) openBlob(ctx context.Context, d digest.Digest) (*blobReader, *http.Response, error) {
	if err := c.earlierGiveUp(); err != nil {
		return nil, nil, err
	}
	b := &budget{p: c.policy}
	ctx, cancel := context.WithTimeoutCause(ctx, c.blobTime, errBlobTime)
	ctx = withBudget(ctx, b)
	body, resp, err := c.do(ctx, "blobs", d.String(), nil, 0)
	if err != nil {
		err = c.blobError(ctx, err)
		c.giveUp(err)
		cancel()
		c.note(c.path("blobs", d.String()), b)
		return nil, nil, err
	}
	return &blobReader{c: c, ctx: ctx, cancel: cancel, b: b, d: d, body: body}, resp, nil
}

// blobError names the blob time limit when it is what ended a fetch.
func (c *client) blobError(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errBlobTime) {
		return fmt.Errorf("%w: more than %s (limit %s): %w", errBlobTime, c.blobTime, limits.RegistryBlobTime, err)
	}
	return err
}

func (r *blobReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	for {
		if r.body == nil {
			if err := r.reopen(); err != nil {
				if r.retry(err) {
					continue
				}
				return 0, r.err
			}
		}
		n, err := r.body.Read(p)
		r.off += int64(n)
		if err == nil || err == io.EOF {
			return n, err
		}
		r.body.Close()
		r.body = nil
		if !r.retry(err) {
			return n, r.err
		}
		if n > 0 {
			return n, nil
		}
	}
}

// retry decides, after err, whether to fetch again; it waits out the
// backoff first. When it gives up, r.err says why.
func (r *blobReader) retry(err error) bool {
	if r.try(err) {
		return true
	}
	r.c.giveUp(r.err)
	return false
}

func (r *blobReader) try(err error) bool {
	what := fmt.Sprintf("blob %s cut at byte %d", r.d, r.off)
	if !retryError(err) || r.b.stopped() != nil {
		r.err = fmt.Errorf("%s: %w", what, r.c.blobError(r.ctx, err))
		return false
	}
	d, stop := r.b.next(fmt.Sprintf("cut at byte %d: %v", r.off, err), -1)
	if stop != nil {
		r.err = fmt.Errorf("%s: %w (%w)", what, err, stop)
		return false
	}
	if err := sleep(r.ctx, d); err != nil {
		r.err = fmt.Errorf("%s: %w", what, r.c.blobError(r.ctx, err))
		return false
	}
	return true
}

// reopen fetches the rest of the blob from r.off.
func (r *blobReader) reopen() error {
	from := r.off
	if r.noRange {
		from = 0
	}
	body, resp, err := r.c.do(r.ctx, "blobs", r.d.String(), nil, from)
	if errors.Is(err, errRangeRefused) {
		r.noRange, from = true, 0
		body, resp, err = r.c.do(r.ctx, "blobs", r.d.String(), nil, 0)
	}
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusPartialContent {
		if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != from {
			// A range other than the one asked for: start over.
			body.Close()
			r.noRange = true
			return r.reopen()
		}
		r.b.noteResume(from, true)
		r.body = body
		return nil
	}
	// A full body: skip what was already returned.
	if r.off > 0 {
		if _, err := io.CopyN(io.Discard, body, r.off); err != nil {
			body.Close()
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("skipping the %d bytes already read: %w", r.off, err)
		}
		r.b.noteResume(r.off, false)
	}
	r.body = body
	return nil
}

// Close ends the fetch and records how it went.
func (r *blobReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	if r.body != nil {
		err = r.body.Close()
	}
	r.cancel()
	r.c.note(r.c.path("blobs", r.d.String()), r.b)
	return err
}

// contentRangeStart reads the first offset of "bytes first-last/length"
// (RFC 9110, section 14.4).
func contentRangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes ")
	if !ok {
		return 0, false
	}
	first, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(first, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
