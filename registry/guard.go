//go:build !js

package registry

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/imgproof/imgproof/internal/limits"
)

// ErrPlainHTTP is returned when a request would go over plain HTTP to a
// host that is not on loopback and InsecureUnsafe is not set.
var ErrPlainHTTP = errors.New("plain HTTP refused for a non-loopback host")

// ErrRedirect is returned when a redirect breaks the redirect policy.
var ErrRedirect = errors.New("redirect refused")

// guard is the innermost RoundTripper: it refuses plain HTTP to hosts that
// are not on loopback, and it strips the registry's credentials from any
// redirect hop that leaves the host of the first request. Go's http.Client
// and go-containerregistry's transports already avoid forwarding
// credentials across hosts; guard makes that a property of this package.
type guard struct {
	inner         http.RoundTripper
	allowHTTP     bool
	registryHost  string
	onStripped    func(host string)
	onPlainRefuse func(host string)
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.allowHTTP && !isLoopback(req.URL.Hostname()) {
		if g.onPlainRefuse != nil {
			g.onPlainRefuse(req.URL.Host)
		}
		return nil, fmt.Errorf("%w: %s", ErrPlainHTTP, req.URL.Redacted())
	}
	if req.Response != nil && !sameHost(req.URL.Host, g.registryHost) {
		// A redirect hop to another host: it may carry only credentials
		// that were minted for that host, never the registry's.
		if h := req.Header.Get("Authorization"); h != "" && sentBefore(req, h) {
			req = req.Clone(req.Context())
			req.Header.Del("Authorization")
			if g.onStripped != nil {
				g.onStripped(req.URL.Host)
			}
		}
		if req.Header.Get("Cookie") != "" {
			req = req.Clone(req.Context())
			req.Header.Del("Cookie")
		}
	}
	return g.inner.RoundTrip(req)
}

// sentBefore reports whether an earlier hop of req's redirect chain carried
// the same Authorization value, which means it is the registry's credential.
func sentBefore(req *http.Request, auth string) bool {
	for r := req.Response; r != nil && r.Request != nil; r = r.Request.Response {
		if r.Request.Header.Get("Authorization") == auth {
			return true
		}
	}
	return false
}

// checkRedirect bounds redirect chains to maxRedirects hops
// (limits.RegistryRedirects) and refuses a downgrade from HTTPS to plain
// HTTP. Like the other registry limits, a long chain is a failed fetch
// whose message names the limit, not a *limits.Error.
func checkRedirect(allowHTTP bool, maxRedirects int) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: more than %d redirects (limit %s)", ErrRedirect, maxRedirects, limits.RegistryRedirects)
		}
		if req.URL.Scheme == "http" && via[0].URL.Scheme == "https" && !allowHTTP && !isLoopback(req.URL.Hostname()) {
			return fmt.Errorf("%w: HTTPS to plain HTTP downgrade to %s", ErrRedirect, req.URL.Host)
		}
		return nil
	}
}

// isLoopback reports whether host names the local machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// sameHost compares host[:port] values, treating default ports as absent.
func sameHost(a, b string) bool {
	return strings.EqualFold(stripDefaultPort(a), stripDefaultPort(b))
}

func stripDefaultPort(h string) string {
	if host, port, err := net.SplitHostPort(h); err == nil && (port == "443" || port == "80") {
		return host
	}
	return h
}
