//go:build !js

package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/imgproof/imgproof/internal/limits"
)

// errBudget marks a fetch that gave up because its retry budget was spent.
var errBudget = errors.New("retry budget spent")

// ErrFirstByte is returned when a response's headers do not arrive within
// the first-byte limit.
var ErrFirstByte = errors.New("registry did not answer in time")

// retryStatus reports whether an HTTP status is transient: the same
// request may succeed later.
func retryStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryError reports whether a transport or body error is transient: a
// connection reset or a connection closed before the declared length.
// Timeouts are not: a registry that stalls is not asked again, so a stall
// costs the stall limit once.
func retryError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, errIdle) || errors.Is(err, ErrFirstByte) || errors.Is(err, errBlobTime) {
		return false
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE)
}

// policy is how hard one client tries.
type policy struct {
	attempts  int           // attempts per fetch, the first included
	waitTotal time.Duration // total wait between the attempts of one fetch
	waitCap   time.Duration // the longest single wait
	base      time.Duration // the first backoff wait, doubled each time
	firstByte time.Duration // send to response headers
}

func newPolicy(lim limits.Limits, o *Options) policy {
	lim = withRegistryDefaults(lim)
	p := policy{
		attempts:  lim.RegistryAttempts,
		waitTotal: millis(lim.RegistryRetryWaitMillis),
		waitCap:   millis(lim.RegistryRetryAfterMillis),
		base:      500 * time.Millisecond,
		firstByte: millis(lim.RegistryFirstByteMillis),
	}
	if o != nil && o.BackoffBase > 0 {
		p.base = o.BackoffBase
	}
	if o != nil && o.HeaderTimeout > 0 {
		p.firstByte = o.HeaderTimeout
	}
	return p
}

// withRegistryDefaults fills registry limits that are not set (a Limits
// built field by field) with their defaults.
func withRegistryDefaults(lim limits.Limits) limits.Limits {
	d := limits.Default()
	for _, k := range limits.Kinds() {
		if v, _ := lim.Get(k); k.Registry() && v <= 0 {
			dv, _ := d.Get(k)
			_ = lim.Set(k, dv)
		}
	}
	return lim
}

func millis(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

// budget is shared by every attempt of one fetch: a document with its
// re-reads, or a blob with its resumes. It counts attempts and the time
// waited between them, and remembers how the fetch went for the report.
type budget struct {
	p policy

	mu       sync.Mutex
	attempts int
	waited   time.Duration
	resumed  []int64 // offsets continued from with a 206 answer
	restarts []int64 // offsets reached again from a full answer
	reasons  []string
	gaveUp   error
}

type budgetKey struct{}

func withBudget(ctx context.Context, b *budget) context.Context {
	return context.WithValue(ctx, budgetKey{}, b)
}

func budgetFrom(ctx context.Context) *budget {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	return b
}

// begin counts an attempt.
func (b *budget) begin() {
	b.mu.Lock()
	b.attempts++
	b.mu.Unlock()
}

// next decides whether another attempt may follow the one that failed
// with reason, and how long to wait first. retryAfter is the registry's
// Retry-After, or negative when it gave none. When no attempt may follow,
// the error says why, and the budget keeps it for the report.
func (b *budget) next(reason string, retryAfter time.Duration) (time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reasons = append(b.reasons, reason)
	d, err := b.delay(retryAfter)
	if err != nil {
		err = fmt.Errorf("%w: %w", errBudget, err)
		b.gaveUp = err
		return 0, err
	}
	b.waited += d
	return d, nil
}

func (b *budget) delay(retryAfter time.Duration) (time.Duration, error) {
	if b.attempts >= b.p.attempts {
		return 0, fmt.Errorf("gave up after %d attempts (limit %s)", b.attempts, limits.RegistryAttempts)
	}
	var d time.Duration
	if retryAfter >= 0 {
		if retryAfter > b.p.waitCap {
			return 0, fmt.Errorf("gave up after %d attempts: Retry-After %s is longer than the %s limit of %s",
				b.attempts, retryAfter, limits.RegistryRetryAfter, b.p.waitCap)
		}
		d = retryAfter
	} else {
		// Exponential backoff with jitter: between half and all of
		// base·2^(n-1), so that clients that failed together spread out.
		d = b.p.base << min(b.attempts-1, 20)
		d = min(d, b.p.waitCap)
		d = d/2 + rand.N(d/2+1)
	}
	if b.waited+d > b.p.waitTotal {
		return 0, fmt.Errorf("gave up after %d attempts: waiting %s more would pass the %s limit of %s",
			b.attempts, d.Round(time.Millisecond), limits.RegistryRetryWait, b.p.waitTotal)
	}
	return d, nil
}

// stopped returns why the fetch gave up, or nil.
func (b *budget) stopped() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gaveUp
}

func (b *budget) noteResume(off int64, ranged bool) {
	b.mu.Lock()
	if ranged {
		b.resumed = append(b.resumed, off)
	} else {
		b.restarts = append(b.restarts, off)
	}
	b.mu.Unlock()
}

// summary says how the fetch went, or "" when it took one attempt.
func (b *budget) summary() (attempts int, s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.attempts <= 1 {
		return b.attempts, ""
	}
	var parts []string
	parts = append(parts, fmt.Sprintf("%d attempts", b.attempts))
	for _, off := range b.resumed {
		parts = append(parts, fmt.Sprintf("resumed at byte %d", off))
	}
	for _, off := range b.restarts {
		parts = append(parts, fmt.Sprintf("restarted, first %d bytes skipped", off))
	}
	if len(b.reasons) > 0 {
		parts = append(parts, "after: "+strings.Join(b.reasons, "; "))
	}
	return b.attempts, strings.Join(parts, ", ")
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP-date (RFC 9110, section 10.2.3). It returns -1 when there is none
// or it cannot be read.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return -1
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n < 0 {
			return -1
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

// retrier retries the idempotent requests of this read-only source:
// every GET and HEAD, and a token request whose body can be sent again.
// It also bounds the wait for response headers and holds a slot of the
// registry's request limiter for each attempt, until its body is closed
// or read to the end.
//
// go-containerregistry's transport.NewRetry does not fit here: its waits
// ignore the request's context, it never reads Retry-After, it bounds
// attempts but not the time waited, and a retried response is dropped
// without closing its body.
type retrier struct {
	inner http.RoundTripper
	p     policy
	host  *hostLimiter
}

func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodPost:
		// The only POST this source sends is an OAuth2 token request.
		return req.Body == nil || req.GetBody != nil
	}
	return false
}

func (r *retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	b := budgetFrom(req.Context())
	if b == nil {
		b = &budget{p: r.p}
	}
	if !idempotent(req) {
		b.begin()
		return r.once(req)
	}
	for {
		b.begin()
		resp, err := r.once(req)
		var reason string
		retryAfter := time.Duration(-1)
		switch {
		case err != nil && !retryError(err):
			return nil, err
		case err != nil:
			reason = err.Error()
		case !retryStatus(resp.StatusCode):
			return resp, nil
		default:
			reason = resp.Status
			if resp.StatusCode == http.StatusTooManyRequests {
				r.host.throttle()
			}
			// Retry-After comes with 429 and 503 (RFC 9110, section
			// 10.2.3), and is honoured on any transient answer.
			retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		d, stop := b.next(reason, retryAfter)
		if stop != nil {
			if resp != nil {
				return resp, nil // the caller turns the status into an error
			}
			return nil, fmt.Errorf("%w (%w)", err, stop)
		}
		if resp != nil {
			// Drain a little so that the connection can be reused; the
			// rest is dropped with it (a cost bound, not an input cap).
			_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
			resp.Body.Close()
		}
		if err := sleep(req.Context(), d); err != nil {
			return nil, err
		}
		if req.GetBody != nil && req.Body != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}

// once sends one attempt under the request limiter and the first-byte
// limit.
func (r *retrier) once(req *http.Request) (*http.Response, error) {
	if err := r.host.acquire(req.Context()); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(r.p.firstByte, func() { cancel(ErrFirstByte) })
	resp, err := r.inner.RoundTrip(req.WithContext(ctx))
	timer.Stop()
	if err == nil && errors.Is(context.Cause(ctx), ErrFirstByte) {
		resp.Body.Close()
		resp, err = nil, context.Cause(ctx)
	}
	if err != nil {
		cancel(nil)
		r.host.release()
		if errors.Is(context.Cause(ctx), ErrFirstByte) {
			err = fmt.Errorf("%w: no response headers within %s (limit %s)", ErrFirstByte, r.p.firstByte, limits.RegistryFirstByte)
		}
		return nil, err
	}
	resp.Body = &slotBody{rc: resp.Body, done: func() { cancel(nil); r.host.release() }}
	return resp, nil
}

// slotBody gives the attempt's limiter slot back once, when the body ends
// or is closed.
type slotBody struct {
	rc   io.ReadCloser
	once sync.Once
	done func()
}

func (s *slotBody) Read(p []byte) (int, error) {
	n, err := s.rc.Read(p)
	if err != nil {
		s.once.Do(s.done)
	}
	return n, err
}

func (s *slotBody) Close() error {
	err := s.rc.Close()
	s.once.Do(s.done)
	return err
}
