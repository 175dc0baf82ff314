//go:build !js

package registry

import (
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/imgproof/imgproof/internal/limits"
)

// Transport returns a transport for requests to reg other than image
// fetches, such as catalog and tag listings: it refuses plain HTTP off
// loopback, keeps credentials off redirects that leave the host, retries
// within the limits' budget and counts every request against the host's
// cap, shared with every fetch of the process. It adds no credentials;
// go-containerregistry's remote package does, from its keychain.
func Transport(reg name.Registry, lim limits.Limits, o *Options) http.RoundTripper {
	if o == nil {
		o = &Options{}
	}
	lim = withRegistryDefaults(lim)
	base := o.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	g := &guard{inner: base, allowHTTP: o.InsecureUnsafe, registryHost: reg.RegistryStr()}
	return &retrier{inner: g, p: newPolicy(lim, o), host: limiterFor(reg.RegistryStr(), lim.RegistryParallel)}
}
