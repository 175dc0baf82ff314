//go:build !js

package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/imgproof/imgproof/internal/limits"
)

// Options tunes registry access. The zero value is the strictest setting.
// Retries, timeouts and the per-registry request cap come from the limits
// (the registry-* kinds of internal/limits).
type Options struct {
	// InsecureUnsafe allows plain HTTP to a registry that is not on
	// loopback. Loopback registries may always use plain HTTP.
	InsecureUnsafe bool
	// Keychain resolves credentials; nil means authn.DefaultKeychain, which
	// reads ~/.docker/config.json and credential helpers.
	Keychain authn.Keychain
	// Transport is the base HTTP transport; nil means a dedicated
	// http.Transport.
	Transport http.RoundTripper
	// HeaderTimeout, when set, replaces the registry-first-byte-ms limit.
	HeaderTimeout time.Duration
	// IdleTimeout, when set, replaces the registry-stall-ms limit.
	IdleTimeout time.Duration
	// BackoffBase is the first wait before a retry, doubled for each
	// further one; 0 means 500ms.
	BackoffBase time.Duration
	// NoDiscovery turns off the search for signatures and attestations.
	NoDiscovery bool
}

// The manifest media types this package asks for. Docker schema 1 is
// deliberately absent.
var acceptManifests = []string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}

// errNotFound marks a 404 answer; it matches fs.ErrNotExist.
var errNotFound error = notFoundError{}

type notFoundError struct{}

func (notFoundError) Error() string        { return "404 Not Found" }
func (notFoundError) Is(target error) bool { return target == fs.ErrNotExist }

// client fetches manifests and blobs of one repository.
type client struct {
	repo     name.Repository
	http     *http.Client
	policy   policy
	idle     time.Duration // the stall limit
	blobTime time.Duration // the total time for one blob
	host     *hostLimiter
	events   *events

	mu     sync.Mutex
	broken error // why a fetch gave up; later fetches are then not tried
}

// giveUp remembers err when it ended a fetch on a timeout or a spent
// retry budget: the verdict is then UNVERIFIABLE whatever else happens, so
// the fetches that follow fail at once instead of each spending the same
// limits again. A stall costs the stall limit once, not once per blob.
func (c *client) giveUp(err error) {
	var ne net.Error
	if errors.Is(err, errBudget) || errors.Is(err, errIdle) || errors.Is(err, ErrFirstByte) || errors.Is(err, errBlobTime) ||
		errors.As(err, &ne) && ne.Timeout() {
		c.mu.Lock()
		if c.broken == nil {
			c.broken = err
		}
		c.mu.Unlock()
	}
}

// earlierGiveUp returns an error when an earlier fetch gave up.
func (c *client) earlierGiveUp() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken == nil {
		return nil
	}
	return fmt.Errorf("not fetched: an earlier request to %s gave up: %w", c.repo.RegistryStr(), c.broken)
}

// events collects what the transport layer saw, for the report.
type events struct {
	mu       sync.Mutex
	stripped []string
	refused  []string
	retried  []retryNote
}

// retryNote records a fetch that took more than one attempt.
type retryNote struct {
	path     string
	attempts int
	summary  string
	resumed  bool
}

// note records how a fetch went when it took more than one attempt.
func (c *client) note(path string, b *budget) {
	attempts, s := b.summary()
	if s == "" {
		return
	}
	b.mu.Lock()
	resumed := len(b.resumed)+len(b.restarts) > 0
	b.mu.Unlock()
	c.events.mu.Lock()
	c.events.retried = append(c.events.retried, retryNote{path: path, attempts: attempts, summary: s, resumed: resumed})
	c.events.mu.Unlock()
}

func (e *events) strip(host string) {
	e.mu.Lock()
	e.stripped = append(e.stripped, host)
	e.mu.Unlock()
}

func (e *events) refuse(host string) {
	e.mu.Lock()
	e.refused = append(e.refused, host)
	e.mu.Unlock()
}

func newClient(ctx context.Context, repo name.Repository, lim limits.Limits, o *Options) (*client, error) {
	if o == nil {
		o = &Options{}
	}
	lim = withRegistryDefaults(lim)
	p := newPolicy(lim, o)
	idle := millis(lim.RegistryStallMillis)
	if o.IdleTimeout > 0 {
		idle = o.IdleTimeout
	}
	base := o.Transport
	if base == nil {
		base = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          32,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   30 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	ev := &events{}
	g := &guard{inner: base, allowHTTP: o.InsecureUnsafe, registryHost: repo.RegistryStr(),
		onStripped: ev.strip, onPlainRefuse: ev.refuse}
	// Every request, the ping and token requests included, is retried
	// and counted against the registry's request cap.
	host := limiterFor(repo.RegistryStr(), lim.RegistryParallel)
	rt := &retrier{inner: g, p: p, host: host}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	auth, err := kc.Resolve(repo)
	if err != nil {
		return nil, fmt.Errorf("resolving credentials for %s: %w", repo.RegistryStr(), err)
	}
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, rt, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", repo.RegistryStr(), err)
	}
	return &client{
		repo:     repo,
		http:     &http.Client{Transport: tr, CheckRedirect: checkRedirect(o.InsecureUnsafe, lim.RegistryRedirects)},
		policy:   p,
		idle:     idle,
		blobTime: millis(lim.RegistryBlobMillis),
		host:     host,
		events:   ev,
	}, nil
}

func (c *client) url(kind, ref string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s/%s", c.repo.Scheme(), c.repo.RegistryStr(), c.repo.RepositoryStr(), kind, ref)
}

// response is a fetched manifest or referrers list.
type response struct {
	body         []byte
	contentType  string
	headerDigest string
}

func (c *client) path(kind, ref string) string {
	return "registry:/v2/" + c.repo.RepositoryStr() + "/" + kind + "/" + ref
}

// get fetches a small document under a byte limit. kind is "manifests" or
// "referrers". A body cut short is fetched again, within the retry budget.
func (c *client) get(ctx context.Context, kind, ref string, limit int64, what string) (*response, error) {
	b := &budget{p: c.policy}
	ctx = withBudget(ctx, b)
	defer c.note(c.path(kind, ref), b)
	for {
		body, resp, err := c.do(ctx, kind, ref, acceptManifests, 0)
		if err != nil {
			return nil, err
		}
		if resp.ContentLength > limit {
			body.Close()
			return nil, limits.Exceeded(limits.ManifestDocument, limit, what+" (Content-Length "+strconv.FormatInt(resp.ContentLength, 10)+")")
		}
		data, err := io.ReadAll(io.LimitReader(body, limit+1))
		body.Close()
		if err != nil {
			if !retryError(err) {
				return nil, fmt.Errorf("reading %s: %w", what, err)
			}
			d, stop := b.next(err.Error(), -1)
			if stop != nil {
				return nil, fmt.Errorf("reading %s: %w (%w)", what, err, stop)
			}
			if err := sleep(ctx, d); err != nil {
				return nil, fmt.Errorf("reading %s: %w", what, err)
			}
			continue
		}
		if int64(len(data)) > limit {
			return nil, limits.Exceeded(limits.ManifestDocument, limit, what)
		}
		return &response{body: data, contentType: resp.Header.Get("Content-Type"), headerDigest: resp.Header.Get("Docker-Content-Digest")}, nil
	}
}

// errRangeRefused is returned for a 416 answer to a Range request.
var errRangeRefused = errors.New("the registry refused the byte range")

// do sends one GET, retried by the transport, and returns a body guarded
// by the stall limit. With from > 0 it asks for the bytes from that offset
// on; the answer is then 206 or 200.
func (c *client) do(ctx context.Context, kind, ref string, accept []string, from int64) (io.ReadCloser, *http.Response, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(kind, ref), nil)
	if err != nil {
		cancel(nil)
		return nil, nil, err
	}
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	if from > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(from, 10)+"-")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel(nil)
		return nil, nil, fmt.Errorf("GET %s: %w", req.URL.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK && (from == 0 || resp.StatusCode != http.StatusPartialContent) {
		resp.Body.Close()
		cancel(nil)
		switch {
		case resp.StatusCode == http.StatusNotFound:
			return nil, nil, fmt.Errorf("GET %s: %w", req.URL.Redacted(), errNotFound)
		case from > 0 && resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
			return nil, nil, fmt.Errorf("GET %s: %w", req.URL.Redacted(), errRangeRefused)
		}
		if b := budgetFrom(ctx); b != nil && b.stopped() != nil {
			return nil, nil, fmt.Errorf("GET %s: %s (%w)", req.URL.Redacted(), resp.Status, b.stopped())
		}
		return nil, nil, fmt.Errorf("GET %s: %s", req.URL.Redacted(), resp.Status)
	}
	return newIdleBody(ctx, resp.Body, c.idle, cancel), resp, nil
}

// errIdle is the cause given when a body stalls for longer than the idle
// timeout.
var errIdle = errors.New("registry response stalled")

// idleBody cancels the request when no bytes arrive for the idle timeout.
type idleBody struct {
	ctx    context.Context
	rc     io.ReadCloser
	timer  *time.Timer
	idle   time.Duration
	cancel context.CancelCauseFunc
}

func newIdleBody(ctx context.Context, rc io.ReadCloser, idle time.Duration, cancel context.CancelCauseFunc) *idleBody {
	b := &idleBody{ctx: ctx, rc: rc, idle: idle, cancel: cancel}
	b.timer = time.AfterFunc(idle, func() { cancel(errIdle) })
	return b
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	if err != nil && err != io.EOF && errors.Is(context.Cause(b.ctx), errIdle) {
		err = fmt.Errorf("%w for %s (limit %s): %w", errIdle, b.idle, limits.RegistryStall, err)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}
