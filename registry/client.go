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
	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/internal/limits"
)

// Options tunes registry access. The zero value is the strictest setting.
type Options struct {
	// InsecureUnsafe allows plain HTTP to a registry that is not on
	// loopback. Loopback registries may always use plain HTTP.
	InsecureUnsafe bool
	// Keychain resolves credentials; nil means authn.DefaultKeychain, which
	// reads ~/.docker/config.json and credential helpers.
	Keychain authn.Keychain
	// Transport is the base HTTP transport; nil means a dedicated
	// http.Transport with the timeouts below.
	Transport http.RoundTripper
	// HeaderTimeout bounds the wait for response headers; 0 means 60s.
	HeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next body bytes; 0 means 60s.
	IdleTimeout time.Duration
	// NoDiscovery turns off the search for signatures and attestations.
	NoDiscovery bool
}

func (o *Options) headerTimeout() time.Duration {
	if o == nil || o.HeaderTimeout <= 0 {
		return 60 * time.Second
	}
	return o.HeaderTimeout
}

func (o *Options) idleTimeout() time.Duration {
	if o == nil || o.IdleTimeout <= 0 {
		return 60 * time.Second
	}
	return o.IdleTimeout
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
	repo   name.Repository
	http   *http.Client
	idle   time.Duration
	events *events
}

// events collects what the transport layer saw, for the report.
type events struct {
	mu       sync.Mutex
	stripped []string
	refused  []string
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

func newClient(ctx context.Context, repo name.Repository, o *Options) (*client, error) {
	if o == nil {
		o = &Options{}
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
			ResponseHeaderTimeout: o.headerTimeout(),
			ExpectContinueTimeout: time.Second,
		}
	}
	ev := &events{}
	g := &guard{inner: base, allowHTTP: o.InsecureUnsafe, registryHost: repo.RegistryStr(),
		onStripped: ev.strip, onPlainRefuse: ev.refuse}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	auth, err := kc.Resolve(repo)
	if err != nil {
		return nil, fmt.Errorf("resolving credentials for %s: %w", repo.RegistryStr(), err)
	}
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, g, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", repo.RegistryStr(), err)
	}
	return &client{
		repo:   repo,
		http:   &http.Client{Transport: tr, CheckRedirect: checkRedirect(o.InsecureUnsafe)},
		idle:   o.idleTimeout(),
		events: ev,
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

// get fetches a small document under a byte limit. kind is "manifests" or
// "referrers".
func (c *client) get(ctx context.Context, kind, ref string, limit int64, what string) (*response, error) {
	body, resp, err := c.do(ctx, kind, ref, acceptManifests)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	if resp.ContentLength > limit {
		return nil, limits.Exceeded(limits.ManifestDocument, limit, what+" (Content-Length "+strconv.FormatInt(resp.ContentLength, 10)+")")
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if int64(len(b)) > limit {
		return nil, limits.Exceeded(limits.ManifestDocument, limit, what)
	}
	return &response{body: b, contentType: resp.Header.Get("Content-Type"), headerDigest: resp.Header.Get("Docker-Content-Digest")}, nil
}

// blob opens a blob's body. The reader stops after max bytes, so a body
// longer than the descriptor claims is seen as exactly one byte too long.
func (c *client) blob(ctx context.Context, d digest.Digest, max int64) (io.ReadCloser, *http.Response, error) {
	body, resp, err := c.do(ctx, "blobs", d.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(body, max), body}, resp, nil
}

// do sends one GET and returns a body guarded by the idle timeout.
func (c *client) do(ctx context.Context, kind, ref string, accept []string) (io.ReadCloser, *http.Response, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(kind, ref), nil)
	if err != nil {
		cancel(nil)
		return nil, nil, err
	}
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel(nil)
		return nil, nil, fmt.Errorf("GET %s: %w", req.URL.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel(nil)
		if resp.StatusCode == http.StatusNotFound {
			return nil, nil, fmt.Errorf("GET %s: %w", req.URL.Redacted(), errNotFound)
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
		err = fmt.Errorf("%w for %s: %w", errIdle, b.idle, err)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}
