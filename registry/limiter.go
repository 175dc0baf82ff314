//go:build !js

package registry

import (
	"context"
	"strings"
	"sync"
	"time"
)

// throttleCooldown is how long a 429 answer lowers a registry's limit.
var throttleCooldown = 30 * time.Second

// hostLimiter caps the requests in flight to one registry host. A 429
// answer halves the cap (down to one) until throttleCooldown has passed
// without another 429. One limiter per host is shared by every client in
// the process, so verifying many images at once still asks each registry
// for at most its cap.
type hostLimiter struct {
	mu      sync.Mutex
	max     int       // the configured cap
	low     int       // the cap while throttled
	until   time.Time // throttled until then
	inUse   int
	peak    int           // the most requests in flight seen, for tests
	changed chan struct{} // closed and replaced when a slot frees
}

var (
	limitersMu sync.Mutex
	limiters   = map[string]*hostLimiter{}
)

// limiterFor returns the limiter of a registry host, creating it with cap
// n, or setting its cap to n when it exists.
func limiterFor(host string, n int) *hostLimiter {
	host = strings.ToLower(stripDefaultPort(host))
	n = max(n, 1)
	limitersMu.Lock()
	defer limitersMu.Unlock()
	l := limiters[host]
	if l == nil {
		l = &hostLimiter{changed: make(chan struct{})}
		limiters[host] = l
	}
	l.mu.Lock()
	l.max = n
	l.low = min(max(l.low, 1), n)
	l.mu.Unlock()
	return l
}

func (l *hostLimiter) capLocked(now time.Time) int {
	if now.Before(l.until) {
		return l.low
	}
	return l.max
}

// acquire waits for a slot or for ctx to end.
func (l *hostLimiter) acquire(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := time.Now()
		if l.inUse < l.capLocked(now) {
			l.inUse++
			l.peak = max(l.peak, l.inUse)
			l.mu.Unlock()
			return nil
		}
		wake := l.changed
		var t *time.Timer
		var expire <-chan time.Time
		if now.Before(l.until) {
			t = time.NewTimer(l.until.Sub(now))
			expire = t.C
		}
		l.mu.Unlock()
		var err error
		select {
		case <-ctx.Done():
			err = context.Cause(ctx)
		case <-wake:
		case <-expire:
		}
		if t != nil {
			t.Stop()
		}
		if err != nil {
			return err
		}
	}
}

// release gives a slot back.
func (l *hostLimiter) release() {
	l.mu.Lock()
	l.inUse--
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// throttle halves the cap for throttleCooldown.
func (l *hostLimiter) throttle() {
	l.mu.Lock()
	now := time.Now()
	l.low = max(l.capLocked(now)/2, 1)
	l.until = now.Add(throttleCooldown)
	l.mu.Unlock()
}

// state returns the cap in force and the peak in flight.
func (l *hostLimiter) state() (limit, peak int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.capLocked(time.Now()), l.peak
}
