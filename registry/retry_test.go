//go:build !js

package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", -1},
		{"1", time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-3", -1},
		{"1.5", -1},
		{"soon", -1},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(90 * time.Second).Format(time.RFC850), 90 * time.Second},
		{"99999999999999999999", -1},
		{"9999999", 24 * time.Hour},
	} {
		if got := parseRetryAfter(c.in, now); got != c.want {
			t.Errorf("Retry-After %q: %s, want %s", c.in, got, c.want)
		}
	}
}

func TestContentRangeStart(t *testing.T) {
	for in, want := range map[string]int64{"bytes 100-199/200": 100, "bytes 0-9/*": 0, " bytes 5-9/10": 5,
		"bytes */200": -1, "items 1-2/3": -1, "bytes -1-2/3": -1, "": -1} {
		got, ok := contentRangeStart(in)
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("Content-Range %q: %d, want %d", in, got, want)
		}
	}
}

func TestRetryErrorClassifies(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{io.ErrUnexpectedEOF, true},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{syscall.EPIPE, true},
		{io.EOF, true},
		{fmt.Errorf("%w: %w", errIdle, io.ErrUnexpectedEOF), false},
		{fmt.Errorf("x: %w", ErrFirstByte), false},
		{context.DeadlineExceeded, false},
		{context.Canceled, false},
		{ErrRedirect, false},
		{ErrPlainHTTP, false},
		{errors.New("tls: bad certificate"), false},
	} {
		if got := retryError(c.err); got != c.want {
			t.Errorf("retryError(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	for code, want := range map[int]bool{408: true, 429: true, 500: true, 502: true, 503: true, 504: true,
		400: false, 401: false, 403: false, 404: false, 416: false, 501: false, 200: false} {
		if retryStatus(code) != want {
			t.Errorf("retryStatus(%d) != %v", code, want)
		}
	}
}

func TestBudgetBoundsAttemptsAndWaits(t *testing.T) {
	p := policy{attempts: 4, waitTotal: time.Second, waitCap: 300 * time.Millisecond, base: 100 * time.Millisecond}
	// Backoff doubles from base, jittered into [d/2, d], capped.
	b := &budget{p: p}
	var waits []time.Duration
	for {
		b.begin()
		d, err := b.next("500", -1)
		if err != nil {
			if !strings.Contains(err.Error(), "4 attempts") || !strings.Contains(err.Error(), string(limits.RegistryAttempts)) {
				t.Fatalf("stop reason %q", err)
			}
			break
		}
		waits = append(waits, d)
	}
	if len(waits) != 3 {
		t.Fatalf("%d waits for 4 attempts: %v", len(waits), waits)
	}
	for i, max := range []time.Duration{100, 200, 300} {
		max *= time.Millisecond
		if waits[i] < max/2 || waits[i] > max {
			t.Errorf("wait %d is %s, want within [%s, %s]", i+1, waits[i], max/2, max)
		}
	}
	if !errors.Is(b.stopped(), errBudget) {
		t.Error("the budget does not remember why it stopped")
	}
	// Retry-After is honoured exactly, up to the cap.
	b = &budget{p: p}
	b.begin()
	if d, err := b.next("429", 250*time.Millisecond); err != nil || d != 250*time.Millisecond {
		t.Fatalf("Retry-After 250ms: %s %v", d, err)
	}
	b.begin()
	if _, err := b.next("429", time.Hour); err == nil || !strings.Contains(err.Error(), string(limits.RegistryRetryAfter)) {
		t.Fatalf("Retry-After of an hour was accepted: %v", err)
	}
	// The total wait is bounded.
	b = &budget{p: policy{attempts: 100, waitTotal: 500 * time.Millisecond, waitCap: 300 * time.Millisecond}}
	var total time.Duration
	for i := 0; ; i++ {
		b.begin()
		d, err := b.next("503", 200*time.Millisecond)
		if err != nil {
			if !strings.Contains(err.Error(), string(limits.RegistryRetryWait)) {
				t.Fatalf("stop reason %q", err)
			}
			break
		}
		total += d
	}
	if total != 400*time.Millisecond {
		t.Fatalf("waited %s in total; want 400ms under a 500ms budget", total)
	}
}

func TestHostLimiterCapsAndThrottles(t *testing.T) {
	old := throttleCooldown
	throttleCooldown = 200 * time.Millisecond
	defer func() { throttleCooldown = old }()
	l := limiterFor(fmt.Sprintf("limiter-test-%d.invalid", time.Now().UnixNano()), 4)
	ctx := context.Background()
	for range 4 {
		if err := l.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := l.acquire(short); err == nil {
		t.Fatal("a fifth request got a slot under a cap of 4")
	}
	l.throttle()
	if c, _ := l.state(); c != 2 {
		t.Fatalf("after a 429 the cap is %d, want 2", c)
	}
	l.throttle()
	if c, _ := l.state(); c != 1 {
		t.Fatalf("after two 429s the cap is %d, want 1", c)
	}
	for range 4 {
		l.release()
	}
	// Throttled: one at a time, until the cooldown ends.
	if err := l.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan time.Time, 1)
	start := time.Now()
	go func() {
		if l.acquire(ctx) == nil {
			got <- time.Now()
		}
	}()
	select {
	case at := <-got:
		if at.Sub(start) < 100*time.Millisecond {
			t.Fatalf("a second request got a slot after %s while throttled to 1", at.Sub(start))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the cap was never restored after the cooldown")
	}
	if c, peak := l.state(); c != 4 || peak != 4 {
		t.Fatalf("cap %d, peak %d; want 4 and 4", c, peak)
	}
}

// TestEveryRequestKindIsRetried fails the first token, ping, manifest, tag
// and blob request of a registry with bearer authentication, each with a
// 503: the image still verifies, and each path was asked twice.
func TestEveryRequestKindIsRetried(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	f := newFakeRegistry(t, b)
	f.auth = "Basic dXNlcjpwYXNz"
	f.bearer = "tok"
	inner := f.srv.Config.Handler
	var mu sync.Mutex
	seen := map[string]int{}
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		n := seen[r.URL.Path]
		mu.Unlock()
		if n == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		inner.ServeHTTP(w, r)
	})
	rep := verifyFake(t, f.ref("latest"), &Options{Keychain: staticKeychain{"user", "pass"}, BackoffBase: time.Millisecond})
	if rep.Verdict != verify.Verified {
		t.Fatalf("verdict %s: %v", rep.Verdict, rep.Err())
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range []string{"/token", "/v2/", "/v2/test/img/manifests/latest", "/v2/test/img/blobs/" + layerDigest(b, 0)} {
		if seen[p] < 2 {
			t.Errorf("%s asked %d times; want a retry", p, seen[p])
		}
	}
	notes := 0
	for _, x := range rep.Findings {
		if x.Code == CodeFetchRetried {
			notes++
		}
	}
	if notes == 0 {
		t.Errorf("no %s note: %v", CodeFetchRetried, findingCodes(rep))
	}
}

// TestThrottledRegistryLowersTheCap checks that a 429 lowers the shared
// cap of the registry's host.
func TestThrottledRegistryLowersTheCap(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	f := newFakeRegistry(t, b)
	var once sync.Once
	f.lie = func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
		hit := false
		if kind == "blobs" {
			once.Do(func() { hit = true })
		}
		if hit {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		}
		return hit
	}
	rep := verifyFake(t, f.ref("latest"), &Options{BackoffBase: time.Millisecond})
	if rep.Verdict != verify.Verified {
		t.Fatalf("verdict %s: %v", rep.Verdict, rep.Err())
	}
	full := limits.Default().RegistryParallel
	if c, _ := limiterFor(f.host(), full).state(); c != full/2 {
		t.Fatalf("cap %d after a 429; want %d", c, full/2)
	}
}

func TestUnsetRegistryLimitsTakeTheirDefaults(t *testing.T) {
	p := newPolicy(limits.Limits{}, nil)
	d := limits.Default()
	if p.attempts != d.RegistryAttempts || p.firstByte != millis(d.RegistryFirstByteMillis) || p.waitTotal != millis(d.RegistryRetryWaitMillis) ||
		p.waitCap != millis(d.RegistryRetryAfterMillis) || p.base != 500*time.Millisecond {
		t.Fatalf("policy from zero limits: %+v", p)
	}
	p = newPolicy(limits.Default(), &Options{HeaderTimeout: time.Second, BackoffBase: time.Millisecond})
	if p.firstByte != time.Second || p.base != time.Millisecond {
		t.Fatalf("options do not replace the limits: %+v", p)
	}
}
