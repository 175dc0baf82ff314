//go:build !js

package registry

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// The tests in this file put a fault-injecting proxy on 127.0.0.1 in front
// of a real distribution registry (Debian's docker-registry, started by
// startRegistry) and check what each fault does to the verdict, how many
// attempts it costs and how long it takes.

// Faults the proxy injects.
const (
	faultNone      = ""
	fault500       = "500"
	fault429       = "429"          // Retry-After: 1
	fault429Date   = "429-date"     // Retry-After as an HTTP-date
	fault429Long   = "429-long"     // Retry-After: 3600
	faultRedirect  = "redirect"     // a redirect to itself
	faultFirstByte = "first-byte"   // no response headers
	faultReset     = "reset"        // half the body, then a TCP reset
	faultShort     = "short"        // half the body, then the connection closes
	faultStall     = "stall"        // half the body, then nothing
	faultSlow      = "slow"         // the body in small pieces with pauses
	faultLonger    = "longer"       // the body with bytes appended
	faultDifferent = "different"    // the body with one byte changed
	faultBadCut    = "bad-then-cut" // half of a changed body, then the connection closes
	faultCutAt     = "cut-at"       // every body cut after cutAt bytes
)

// cutAt is where faultCutAt cuts every response.
const cutAt = 256 << 10

// faultProxy forwards to a registry and injects a fault into the first
// request for each path it targets, or into every such request.
type faultProxy struct {
	upstream string
	fault    string
	every    bool
	noRange  bool                   // drop Range headers: the registry always answers 200
	target   func(path string) bool // which requests get the fault
	client   *http.Client
	srv      *httptest.Server

	mu       sync.Mutex
	seen     map[string]int // requests per path
	ranges   int            // requests forwarded with a Range header
	inFlight int
	peak     int
}

func blobPaths(p string) bool { return strings.Contains(p, "/blobs/") }
func allPaths(string) bool    { return true }

func newFaultProxy(t *testing.T, upstream, fault string, every bool) *faultProxy {
	t.Helper()
	p := &faultProxy{upstream: upstream, fault: fault, every: every, target: blobPaths, seen: map[string]int{},
		client: &http.Client{Transport: &http.Transport{DisableCompression: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: p}}
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	return p
}

func (p *faultProxy) host() string { return p.srv.Listener.Addr().String() }

// requests returns how many requests each blob path received.
func (p *faultProxy) blobRequests() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.seen {
		if blobPaths(k) {
			out[k[strings.LastIndexByte(k, '/')+1:]] = v
		}
	}
	return out
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	n := p.seen[r.URL.Path]
	p.seen[r.URL.Path]++
	p.inFlight++
	p.peak = max(p.peak, p.inFlight)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()
	fault := faultNone
	if p.target(r.URL.Path) && (p.every || n == 0) {
		fault = p.fault
	}
	switch fault {
	case fault500:
		http.Error(w, "injected failure", http.StatusInternalServerError)
		return
	case fault429, fault429Date, fault429Long:
		ra := map[string]string{fault429: "1", fault429Long: "3600",
			fault429Date: time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)}[fault]
		w.Header().Set("Retry-After", ra)
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case faultRedirect:
		http.Redirect(w, r, r.URL.RequestURI(), http.StatusTemporaryRedirect)
		return
	case faultFirstByte:
		hold(r, 20*time.Second)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+p.upstream+r.URL.RequestURI(), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for _, h := range []string{"Accept", "Authorization", "Range"} {
		if h == "Range" && (p.noRange || r.Header.Get(h) == "") {
			continue
		}
		if h == "Range" {
			p.mu.Lock()
			p.ranges++
			p.mu.Unlock()
		}
		req.Header[h] = r.Header.Values(h)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for k, v := range resp.Header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	ok := resp.StatusCode/100 == 2 && len(body) > 0
	if !ok {
		fault = faultNone
	}
	switch fault {
	case faultLonger:
		body = append(body, "trailing bytes"...)
	case faultDifferent, faultBadCut:
		body = append([]byte(nil), body...)
		body[len(body)/4] ^= 0xff // inside the half a cut leaves
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	switch fault {
	case faultCutAt:
		_, _ = w.Write(body[:min(len(body), cutAt)])
		w.(http.Flusher).Flush()
		if len(body) > cutAt {
			panic(http.ErrAbortHandler) // closes the connection mid-body
		}
	case faultReset, faultShort, faultBadCut:
		_, _ = w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := conn.(*net.TCPConn); ok && fault == faultReset {
			_ = tc.SetLinger(0) // close with RST
		}
		conn.Close()
	case faultStall:
		_, _ = w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		hold(r, 20*time.Second)
	case faultSlow:
		for len(body) > 0 {
			k := min(len(body), 16)
			if _, err := w.Write(body[:k]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			body = body[k:]
			time.Sleep(10 * time.Millisecond)
		}
	default:
		_, _ = w.Write(body)
	}
}

// hold waits until the client gives up or d passes.
func hold(r *http.Request, d time.Duration) {
	select {
	case <-r.Context().Done():
	case <-time.After(d):
	}
}

// faultLimits are small, so that the suite runs in seconds.
func faultLimits() limits.Limits {
	lim := limits.Default()
	lim.RegistryAttempts = 4
	lim.RegistryRetryWaitMillis = 6000
	lim.RegistryRetryAfterMillis = 3000
	lim.RegistryFirstByteMillis = 1000
	lim.RegistryStallMillis = 500
	lim.RegistryBlobMillis = 20000
	return lim
}

func verifyThrough(t *testing.T, ref string, lim limits.Limits) (*verify.Report, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	res, err := Verify(ctx, ref, &verify.Options{Limits: &lim}, &Options{Keychain: authn.NewMultiKeychain(), BackoffBase: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return res.Report, time.Since(start)
}

// retried returns the I_FETCH_RETRIED notes by blob digest.
func retried(rep *verify.Report) map[string]verify.Finding {
	out := map[string]verify.Finding{}
	for _, f := range rep.Findings {
		if f.Code == CodeFetchRetried && strings.Contains(f.Path, "/blobs/") {
			out[f.Path[strings.LastIndexByte(f.Path, '/')+1:]] = f
		}
	}
	return out
}

func pushFaultImage(t *testing.T) (addr string, b *fixtures.Built) {
	t.Helper()
	addr = startRegistry(t)
	b = fixtures.MustBuild(fixtures.Default())
	skopeoCopy(t, nil, "oci:"+layoutDir(t, b)+":latest", "docker://"+addr+"/test/fault:v1")
	return addr, b
}

// TestFaultProxyTransient injects one fault into the first request of
// every blob (or of every path): each must cost one more attempt and end
// VERIFIED, and the report must say so per blob.
func TestFaultProxyTransient(t *testing.T) {
	addr, b := pushFaultImage(t)
	img := b.Expected.Images[0]
	blobs := []string{img.ConfigDigest}
	for _, l := range img.Layers {
		blobs = append(blobs, l.Digest)
	}
	for _, c := range []struct {
		fault   string
		all     bool // every path, not only blobs
		noRange bool
		how     string // what the note must say
		atLeast time.Duration
	}{
		{fault: fault500},
		{fault: fault500, all: true},
		{fault: fault429, atLeast: time.Second},
		{fault: fault429Date},
		{fault: faultReset, how: "resumed at byte"},
		{fault: faultShort, how: "resumed at byte"},
		{fault: faultShort, noRange: true, how: "restarted, first"},
		{fault: faultReset, all: true, how: "resumed at byte"},
	} {
		name := c.fault
		if c.all {
			name += "/all-paths"
		}
		if c.noRange {
			name += "/no-range"
		}
		t.Run(name, func(t *testing.T) {
			p := newFaultProxy(t, addr, c.fault, false)
			p.noRange = c.noRange
			if c.all {
				p.target = allPaths
			}
			rep, took := verifyThrough(t, p.host()+"/test/fault:v1", faultLimits())
			if rep.Verdict != verify.Verified {
				t.Fatalf("one %s per blob: verdict %s, findings %v", c.fault, rep.Verdict, rep.Err())
			}
			t.Logf("%s in %s", rep.Verdict, took.Round(time.Millisecond))
			if took < c.atLeast || took > 15*time.Second {
				t.Errorf("took %s; want between %s and 15s", took, c.atLeast)
			}
			notes, reqs := retried(rep), p.blobRequests()
			for _, d := range blobs {
				note, ok := notes[d]
				if !ok || !strings.HasPrefix(note.Actual, "2 attempts") || note.Severity != verify.SeverityInfo {
					t.Errorf("blob %s: note %+v; want 2 attempts", d, note)
				}
				if c.how != "" && !strings.Contains(note.Actual, c.how) {
					t.Errorf("blob %s: note %q does not say %q", d, note.Actual, c.how)
				}
				if reqs[d] != 2 {
					t.Errorf("blob %s: %d requests reached the registry; want 2", d, reqs[d])
				}
			}
			if c.how == "resumed at byte" && p.ranges == 0 {
				t.Error("no Range request was sent")
			}
		})
	}
}

// TestFaultProxyPersistent injects a fault into every blob request: it
// must end UNVERIFIABLE within the budget, or FAILED for wrong bytes, and
// never VERIFIED.
func TestFaultProxyPersistent(t *testing.T) {
	addr, b := pushFaultImage(t)
	lim := faultLimits()
	for _, c := range []struct {
		fault    string
		every    bool
		want     verify.Verdict
		code     verify.Code
		within   time.Duration
		attempts int    // requests per failed blob, when set
		says     string // a finding's message contains this
		once     bool   // after the config blob gave up, no other blob is asked for
	}{
		{fault: fault500, every: true, want: verify.Unverifiable, within: 10 * time.Second, attempts: 4, says: "4 attempts", once: true},
		{fault: faultReset, every: true, want: verify.Unverifiable, within: 10 * time.Second, attempts: 4, says: "4 attempts", once: true},
		{fault: faultShort, every: true, want: verify.Unverifiable, within: 10 * time.Second, attempts: 4, says: "4 attempts"},
		{fault: faultRedirect, every: true, want: verify.Unverifiable, within: 10 * time.Second},
		{fault: fault429Long, every: true, want: verify.Unverifiable, within: 5 * time.Second, attempts: 1, says: string(limits.RegistryRetryAfter)},
		{fault: faultStall, every: true, want: verify.Unverifiable, within: 5 * time.Second, says: string(limits.RegistryStall), once: true},
		{fault: faultStall, want: verify.Unverifiable, within: 5 * time.Second, says: string(limits.RegistryStall)},
		{fault: faultFirstByte, every: true, want: verify.Unverifiable, within: 8 * time.Second, says: string(limits.RegistryFirstByte), once: true},
		{fault: faultLonger, every: true, want: verify.Failed, code: verify.CodeSizeMismatch, within: 10 * time.Second},
		{fault: faultDifferent, every: true, want: verify.Failed, code: verify.CodeDigestMismatch, within: 10 * time.Second},
		{fault: faultDifferent, want: verify.Failed, code: verify.CodeDigestMismatch, within: 10 * time.Second},
		// The first response is wrong and cut; the resumed rest is right.
		// The digest covers the wrong half, so no retry can hide it.
		{fault: faultBadCut, want: verify.Failed, code: verify.CodeDigestMismatch, within: 10 * time.Second},
		{fault: faultSlow, every: true, want: verify.Verified, within: 30 * time.Second},
	} {
		name := c.fault
		if c.every {
			name += "/every"
		} else {
			name += "/first"
		}
		t.Run(name, func(t *testing.T) {
			p := newFaultProxy(t, addr, c.fault, c.every)
			rep, took := verifyThrough(t, p.host()+"/test/fault:v1", lim)
			if rep.Verdict != c.want {
				t.Fatalf("verdict %s, want %s; findings %v", rep.Verdict, c.want, findingCodes(rep))
			}
			if c.code != "" && !rep.Has(c.code) {
				t.Errorf("no %s finding: %v", c.code, findingCodes(rep))
			}
			t.Logf("%s in %s, blob requests %v", rep.Verdict, took.Round(time.Millisecond), p.blobRequests())
			if took > c.within {
				t.Errorf("took %s, more than %s", took, c.within)
			}
			if c.says != "" && !strings.Contains(reportText(rep), c.says) {
				t.Errorf("no finding says %q: %v", c.says, rep.Err())
			}
			if reqs := p.blobRequests(); c.once && len(reqs) != 1 {
				t.Errorf("blobs asked for after the first gave up: %v", reqs)
			}
			if c.once && !strings.Contains(reportText(rep), "not fetched: an earlier request") {
				t.Errorf("no finding says the other blobs were not fetched: %v", rep.Err())
			}
			if c.attempts > 0 {
				reqs := p.blobRequests()
				cfg := b.Expected.Images[0].ConfigDigest
				if reqs[cfg] != c.attempts {
					t.Errorf("config blob: %d requests, want %d (all: %v)", reqs[cfg], c.attempts, reqs)
				}
			}
		})
	}
}

func reportText(rep *verify.Report) string {
	var s strings.Builder
	for _, f := range rep.Findings {
		s.WriteString(f.Message + " " + f.Actual + "\n")
	}
	return s.String()
}

// TestFaultProxyLimits checks the blob time limit and the request cap.
func TestFaultProxyLimits(t *testing.T) {
	addr, _ := pushFaultImage(t)
	t.Run(string(limits.RegistryBlobTime), func(t *testing.T) {
		p := newFaultProxy(t, addr, faultSlow, true)
		lim := faultLimits()
		lim.RegistryBlobMillis = 100 // every blob takes more at 16 bytes per 10ms
		rep, took := verifyThrough(t, p.host()+"/test/fault:v1", lim)
		if rep.Verdict != verify.Unverifiable || !strings.Contains(reportText(rep), string(limits.RegistryBlobTime)) {
			t.Fatalf("slow blobs, 100ms per blob: %s %v", rep.Verdict, rep.Err())
		}
		if took > 10*time.Second {
			t.Errorf("took %s", took)
		}
	})
	t.Run(string(limits.RegistryParallel), func(t *testing.T) {
		// Three slow layers hashed by eight workers: without the cap three
		// requests are in flight at once, with a cap of two never more, and a
		// cap of one serializes every request without a deadlock.
		for _, c := range []struct{ cap, min, max int }{{64, 3, 64}, {2, 1, 2}, {1, 1, 1}} {
			p := newFaultProxy(t, addr, faultSlow, true)
			lim := faultLimits()
			lim.RegistryParallel = c.cap
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			res, err := Verify(ctx, p.host()+"/test/fault:v1", &verify.Options{Limits: &lim, Parallelism: 8}, &Options{Keychain: authn.NewMultiKeychain()})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if res.Report.Verdict != verify.Verified {
				t.Fatalf("%s %v", res.Report.Verdict, res.Report.Err())
			}
			p.mu.Lock()
			peak := p.peak
			p.mu.Unlock()
			t.Logf("cap %d: peak %d requests in flight", c.cap, peak)
			if peak < c.min || peak > c.max {
				t.Errorf("cap %d: %d requests in flight at once; want %d to %d", c.cap, peak, c.min, c.max)
			}
		}
	})
}

// TestFaultProxyManyResumes serves a 2 MiB layer whose every response is
// cut after 256 KiB: with Range it arrives in nine pieces and verifies;
// without Range each restart is cut at the same place, so it can never
// finish and ends UNVERIFIABLE after registry-attempts requests.
func TestFaultProxyManyResumes(t *testing.T) {
	addr := startRegistry(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 2<<20)
	for i := range raw {
		raw[i] = byte(rnd.Uint32())
	}
	b := fixtures.MustBuild(fixtures.Spec{Images: []fixtures.ImageSpec{{
		Platform: fixtures.Platform{OS: "linux", Architecture: "amd64"},
		Layers:   []fixtures.Layer{{Compression: fixtures.Gzip, Entries: []fixtures.Entry{fixtures.File("noise", string(raw))}}},
	}}})
	skopeoCopy(t, nil, "oci:"+layoutDir(t, b)+":latest", "docker://"+addr+"/test/big:v1")
	layer := b.Expected.Images[0].Layers[0].Digest
	size := len(b.Blobs[layer])
	pieces := (size + cutAt - 1) / cutAt
	lim := faultLimits()
	lim.RegistryAttempts = pieces + 1

	p := newFaultProxy(t, addr, faultCutAt, true)
	rep, took := verifyThrough(t, p.host()+"/test/big:v1", lim)
	t.Logf("%d-byte layer in %d pieces: %s in %s", size, pieces, rep.Verdict, took.Round(time.Millisecond))
	if rep.Verdict != verify.Verified {
		t.Fatalf("verdict %s: %v", rep.Verdict, rep.Err())
	}
	note := retried(rep)[layer]
	if !strings.HasPrefix(note.Actual, strconv.Itoa(pieces)+" attempts") || strings.Count(note.Actual, "resumed at byte") != pieces-1 ||
		!strings.Contains(note.Actual, "resumed at byte "+strconv.Itoa(cutAt)+",") {
		t.Errorf("note %q; want %d attempts and %d resumes", note.Actual, pieces, pieces-1)
	}
	if got := p.blobRequests()[layer]; got != pieces {
		t.Errorf("%d requests for the layer; want %d", got, pieces)
	}

	p = newFaultProxy(t, addr, faultCutAt, true)
	p.noRange = true
	rep, took = verifyThrough(t, p.host()+"/test/big:v1", lim)
	// The budget ends it: the attempts, or, when the jittered backoff of
	// those attempts adds up first, the total wait.
	text := reportText(rep)
	spent := strings.Contains(text, string(limits.RegistryAttempts)) || strings.Contains(text, string(limits.RegistryRetryWait))
	if rep.Verdict != verify.Unverifiable || !spent || took > 15*time.Second {
		t.Fatalf("no Range, every body cut at %d: %s in %s: %v", cutAt, rep.Verdict, took, rep.Err())
	}
	if got := p.blobRequests()[layer]; got < 2 || got > lim.RegistryAttempts {
		t.Errorf("%d requests for the layer; want 2 to %d", got, lim.RegistryAttempts)
	}
}

// TestFaultProxyCLI runs imgproof verify through the proxy: the registry
// limits are --limit kinds, a transient fault per blob exits 0, a stall
// exits 2 within the stall limit set on the command line.
func TestFaultProxyCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	addr, _ := pushFaultImage(t)
	bin := filepath.Join(t.TempDir(), "imgproof")
	run(t, "go", "build", "-o", bin, "../cmd/imgproof")
	for _, c := range []struct {
		fault  string
		every  bool
		exit   int
		within time.Duration
	}{
		{fault500, false, 0, 20 * time.Second},
		{faultReset, false, 0, 20 * time.Second},
		{faultStall, true, 2, 8 * time.Second},
		{faultDifferent, true, 1, 20 * time.Second},
	} {
		t.Run(c.fault, func(t *testing.T) {
			p := newFaultProxy(t, addr, c.fault, c.every)
			start := time.Now()
			cmd := exec.Command(bin, "verify", "--output", "json", "--limit", "registry-stall-ms=700",
				"--limit", "registry-attempts=3", p.host()+"/test/fault:v1")
			cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
			out, err := cmd.Output()
			took := time.Since(start)
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.exit || took > c.within {
				t.Fatalf("exit %d after %s; want %d within %s\n%s", code, took, c.exit, c.within, out)
			}
			var rep verify.Report
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatal(err)
			}
			if c.exit == 0 && !rep.Has(CodeFetchRetried) {
				t.Errorf("no %s in the report", CodeFetchRetried)
			}
			if c.exit == 2 && !strings.Contains(reportText(&rep), string(limits.RegistryStall)) {
				t.Errorf("no finding names %s: %s", limits.RegistryStall, out)
			}
		})
	}
}
