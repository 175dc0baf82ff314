//go:build !js

package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// fakeRegistry serves a fixtures.Built over the distribution API. Tests
// replace parts of its answers to make it lie.
type fakeRegistry struct {
	t      *testing.T
	srv    *httptest.Server
	built  *fixtures.Built
	tags   map[string]string // tag -> digest
	extra  map[string][]byte // digest -> extra manifests (signatures, referrers)
	auth   string            // required Authorization value, if any
	bearer string            // if set, a token service hands this token for auth
	lie    func(w http.ResponseWriter, r *http.Request, kind, ref string) bool
	mu     sync.Mutex
	gotReq []string
	auths  []string
}

func newFakeRegistry(t *testing.T, b *fixtures.Built) *fakeRegistry {
	t.Helper()
	f := &fakeRegistry{t: t, built: b, tags: map[string]string{}, extra: map[string][]byte{}}
	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(b.IndexJSON, &idx); err != nil || len(idx.Manifests) == 0 {
		t.Fatalf("fixture index.json: %v", err)
	}
	f.tags["latest"] = idx.Manifests[0].Digest
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRegistry) host() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func (f *fakeRegistry) ref(tagOrDigest string) string {
	sep := ":"
	if strings.Contains(tagOrDigest, ":") {
		sep = "@"
	}
	return f.host() + "/test/img" + sep + tagOrDigest
}

func (f *fakeRegistry) blob(d string) ([]byte, bool) {
	if b, ok := f.extra[d]; ok {
		return b, true
	}
	b, ok := f.built.Blobs[d]
	return b, ok
}

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.gotReq = append(f.gotReq, r.URL.Path)
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	f.mu.Unlock()
	if f.bearer != "" {
		if r.URL.Path == "/token" {
			if r.Header.Get("Authorization") != f.auth {
				http.Error(w, "bad credentials", http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"token":"` + f.bearer + `"}`))
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+f.bearer {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+f.srv.URL+`/token",service="fake"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	} else if f.auth != "" && r.Header.Get("Authorization") != f.auth {
		w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if r.URL.Path == "/v2/" {
		w.WriteHeader(http.StatusOK)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/test/img/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	kind, ref, _ := strings.Cut(rest, "/")
	if f.lie != nil && f.lie(w, r, kind, ref) {
		return
	}
	switch kind {
	case "manifests":
		d := ref
		if !strings.Contains(ref, ":") {
			var ok bool
			if d, ok = f.tags[ref]; !ok {
				http.NotFound(w, r)
				return
			}
		}
		b, ok := f.blob(d)
		if !ok {
			http.NotFound(w, r)
			return
		}
		var doc struct {
			MediaType string `json:"mediaType"`
		}
		_ = json.Unmarshal(b, &doc)
		w.Header().Set("Content-Type", doc.MediaType)
		w.Header().Set("Docker-Content-Digest", d)
		_, _ = w.Write(b)
	case "blobs":
		b, ok := f.blob(ref)
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Docker-Content-Digest", ref)
		_, _ = w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

func verifyFake(t *testing.T, ref string, o *Options) *verify.Report {
	t.Helper()
	if o == nil {
		o = &Options{}
	}
	if o.Keychain == nil {
		o.Keychain = authn.NewMultiKeychain() // anonymous: never read the host's credentials
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Verify(ctx, ref, nil, o)
	if err != nil {
		t.Fatalf("Verify(%s): %v", ref, err)
	}
	return res.Report
}

func findingCodes(r *verify.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, string(f.Code)+"@"+f.Path)
	}
	return out
}

func wantFinding(t *testing.T, r *verify.Report, verdict verify.Verdict, code verify.Code) {
	t.Helper()
	if r.Verdict != verdict || !r.Has(code) {
		t.Fatalf("verdict %s with findings %v; want %s with %s", r.Verdict, findingCodes(r), verdict, code)
	}
}

func layerDigest(b *fixtures.Built, i int) string { return b.Expected.Images[0].Layers[i].Digest }

func TestFakeRegistryHonest(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	f := newFakeRegistry(t, b)
	for _, ref := range []string{f.ref("latest"), f.ref(b.Expected.Images[0].ManifestDigest)} {
		rep := verifyFake(t, ref, nil)
		if rep.Verdict != verify.Verified {
			t.Fatalf("%s: verdict %s, findings %v", ref, rep.Verdict, findingCodes(rep))
		}
		if rep.Source.Format != verify.FormatRegistry || len(rep.Images) != 1 {
			t.Fatalf("source %+v, %d images", rep.Source, len(rep.Images))
		}
		im := rep.Images[0]
		if im.ImageID != b.Expected.Images[0].ConfigDigest || im.ManifestDigest == nil || *im.ManifestDigest != b.Expected.Images[0].ManifestDigest {
			t.Fatalf("image ID %s manifest %v; want %s %s", im.ImageID, im.ManifestDigest, b.Expected.Images[0].ConfigDigest, b.Expected.Images[0].ManifestDigest)
		}
		for i, l := range im.Layers {
			if l.DiffID != b.Expected.Images[0].DiffIDs[i] {
				t.Fatalf("layer %d diff_id %s, want %s", i, l.DiffID, b.Expected.Images[0].DiffIDs[i])
			}
		}
	}
}

func TestFakeRegistryLies(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	man := b.Expected.Images[0].ManifestDigest
	other := fixtures.MustBuild(fixtures.Spec{Images: []fixtures.ImageSpec{{
		Platform: fixtures.Platform{OS: "linux", Architecture: "amd64"},
		Layers:   fixtures.DefaultLayers("amd64", fixtures.Zstd),
	}}})
	if other.Expected.Images[0].ManifestDigest == man {
		t.Fatal("the two fixtures must differ")
	}
	cases := []struct {
		name    string
		ref     string
		lie     func(f *fakeRegistry) func(w http.ResponseWriter, r *http.Request, kind, ref string) bool
		verdict verify.Verdict
		code    verify.Code
	}{
		{
			name: "wrong layer bytes under the right digest header",
			lie: func(f *fakeRegistry) func(http.ResponseWriter, *http.Request, string, string) bool {
				return func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
					if kind != "blobs" || ref != layerDigest(b, 1) {
						return false
					}
					body := append([]byte(nil), b.Blobs[ref]...)
					body[len(body)/2] ^= 0xff
					w.Header().Set("Docker-Content-Digest", ref)
					_, _ = w.Write(body)
					return true
				}
			},
			verdict: verify.Failed, code: verify.CodeDigestMismatch,
		},
		{
			name: "another manifest under a pinned digest",
			ref:  man,
			lie: func(f *fakeRegistry) func(http.ResponseWriter, *http.Request, string, string) bool {
				return func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
					if kind != "manifests" || ref != man {
						return false
					}
					w.Header().Set("Docker-Content-Digest", man)
					w.Header().Set("Content-Type", other.Expected.Images[0].ManifestMediaType)
					_, _ = w.Write(other.Blobs[other.Expected.Images[0].ManifestDigest])
					return true
				}
			},
			verdict: verify.Failed, code: verify.CodeDigestMismatch,
		},
		{
			name: "Docker-Content-Digest header that names another manifest",
			lie: func(f *fakeRegistry) func(http.ResponseWriter, *http.Request, string, string) bool {
				return func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
					if kind != "manifests" {
						return false
					}
					w.Header().Set("Docker-Content-Digest", other.Expected.Images[0].ManifestDigest)
					w.Header().Set("Content-Type", b.Expected.Images[0].ManifestMediaType)
					_, _ = w.Write(b.Blobs[man])
					return true
				}
			},
			verdict: verify.Failed, code: verify.CodeDigestMismatch,
		},
		{
			name: "Content-Type that disagrees with the manifest",
			lie: func(f *fakeRegistry) func(http.ResponseWriter, *http.Request, string, string) bool {
				return func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
					if kind != "manifests" || ref != "latest" {
						return false
					}
					w.Header().Set("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
					_, _ = w.Write(b.Blobs[man])
					return true
				}
			},
			verdict: verify.Failed, code: verify.CodeMediaTypeMismatch,
		},
		{
			name: "layer body longer than its descriptor",
			lie: func(f *fakeRegistry) func(http.ResponseWriter, *http.Request, string, string) bool {
				return func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
					if kind != "blobs" || ref != layerDigest(b, 0) {
						return false
					}
					_, _ = w.Write(append(append([]byte(nil), b.Blobs[ref]...), strings.Repeat("x", 4096)...))
					return true
				}
			},
			verdict: verify.Failed, code: verify.CodeSizeMismatch,
		},
		{
			name: "endless layer body",
			lie: func(f *fakeRegistry) func(http.ResponseWriter, *http.Request, string, string) bool {
				return func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
					if kind != "blobs" || ref != layerDigest(b, 2) {
						return false
					}
					_, _ = w.Write(b.Blobs[ref])
					endless(w, r)
					return true
				}
			},
			verdict: verify.Failed, code: verify.CodeSizeMismatch,
		},
		{
			name: "endless manifest body",
			lie: func(f *fakeRegistry) func(http.ResponseWriter, *http.Request, string, string) bool {
				return func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
					if kind != "manifests" {
						return false
					}
					w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
					_, _ = w.Write([]byte(`{"schemaVersion":2,"annotations":{"a":"`))
					endless(w, r)
					return true
				}
			},
			verdict: verify.Unverifiable, code: verify.CodeLimitExceeded,
		},
		{
			name: "Docker schema 1 manifest",
			lie: func(f *fakeRegistry) func(http.ResponseWriter, *http.Request, string, string) bool {
				return func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
					if kind != "manifests" {
						return false
					}
					w.Header().Set("Content-Type", "application/vnd.docker.distribution.manifest.v1+prettyjws")
					_, _ = w.Write([]byte(`{"schemaVersion":1,"name":"test/img","tag":"latest","fsLayers":[{"blobSum":"` + layerDigest(b, 0) + `"}],"history":[{"v1Compatibility":"{}"}]}`))
					return true
				}
			},
			verdict: verify.Failed, code: verify.CodeUnsupportedMediaType,
		},
		{
			name: "config blob missing",
			lie: func(f *fakeRegistry) func(http.ResponseWriter, *http.Request, string, string) bool {
				return func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
					if kind != "blobs" || ref != b.Expected.Images[0].ConfigDigest {
						return false
					}
					http.NotFound(w, r)
					return true
				}
			},
			verdict: verify.Unverifiable, code: verify.CodeBlobMissing,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeRegistry(t, b)
			f.lie = c.lie(f)
			ref := c.ref
			if ref == "" {
				ref = "latest"
			}
			start := time.Now()
			rep := verifyFake(t, f.ref(ref), nil)
			wantFinding(t, rep, c.verdict, c.code)
			if d := time.Since(start); d > 20*time.Second {
				t.Fatalf("took %s", d)
			}
		})
	}
}

// endless writes until the client goes away.
func endless(w http.ResponseWriter, r *http.Request) {
	chunk := []byte(strings.Repeat("A", 32<<10))
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func TestStalledBodyTimesOut(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	f := newFakeRegistry(t, b)
	f.lie = func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
		if kind != "blobs" || ref != layerDigest(b, 0) {
			return false
		}
		w.Header().Set("Content-Length", "100000")
		_, _ = w.Write(b.Blobs[ref][:10])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return true
	}
	start := time.Now()
	rep := verifyFake(t, f.ref("latest"), &Options{IdleTimeout: 300 * time.Millisecond})
	if rep.Verdict == verify.Verified {
		t.Fatalf("a stalled layer verified: %v", findingCodes(rep))
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("stalled body held the verification for %s", d)
	}
}

type staticKeychain struct{ user, pass string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return &authn.Basic{Username: k.user, Password: k.pass}, nil
}

func TestRedirectDoesNotForwardCredentials(t *testing.T) {
	for _, scheme := range []string{"basic", "bearer"} {
		t.Run(scheme, func(t *testing.T) { testRedirect(t, scheme) })
	}
}

func testRedirect(t *testing.T, scheme string) {
	b := fixtures.MustBuild(fixtures.Default())
	f := newFakeRegistry(t, b)
	f.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	want := f.auth
	if scheme == "bearer" {
		f.bearer = "tok-for-registry"
		want = "Bearer " + f.bearer
	}

	// The blob store lives on another loopback host.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("127.0.0.2 is not available: %v", err)
	}
	var mu sync.Mutex
	var leaked []string
	store := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if a := r.Header.Get("Authorization"); a != "" {
			leaked = append(leaked, a)
		}
		if c := r.Header.Get("Cookie"); c != "" {
			leaked = append(leaked, c)
		}
		mu.Unlock()
		d := strings.TrimPrefix(r.URL.Path, "/store/")
		_, _ = w.Write(b.Blobs[d])
	}))
	store.Listener.Close()
	store.Listener = ln
	store.Start()
	t.Cleanup(store.Close)

	redirected := 0
	f.lie = func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
		if kind != "blobs" {
			return false
		}
		redirected++
		http.Redirect(w, r, store.URL+"/store/"+ref, http.StatusTemporaryRedirect)
		return true
	}
	rep := verifyFake(t, f.ref("latest"), &Options{Keychain: staticKeychain{"alice", "s3cret"}})
	if rep.Verdict != verify.Verified {
		t.Fatalf("verdict %s, findings %v", rep.Verdict, findingCodes(rep))
	}
	if redirected == 0 {
		t.Fatal("no blob was redirected; the test proves nothing")
	}
	sawAuth := false
	for _, a := range f.auths {
		sawAuth = sawAuth || a == want
	}
	if !sawAuth {
		t.Fatal("the registry never received the credentials; the test proves nothing")
	}
	if len(leaked) > 0 {
		t.Fatalf("credentials were forwarded to another host: %q", leaked)
	}
}

func TestGuardStripsRegistryCredentialsOnCrossHostRedirect(t *testing.T) {
	var got []string
	inner := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = append(got, r.URL.Host+" "+r.Header.Get("Authorization"))
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	g := &guard{inner: inner, registryHost: "reg.example"}
	first, _ := http.NewRequest("GET", "https://reg.example/v2/x/blobs/sha256:00", nil)
	first.Header.Set("Authorization", "Basic secret")
	// A redirect hop that (wrongly) still carries the registry's header.
	hop, _ := http.NewRequest("GET", "https://cdn.example/blob", nil)
	hop.Header.Set("Authorization", "Basic secret")
	hop.Response = &http.Response{StatusCode: 307, Request: first}
	// A hop with a credential minted for the other host is left alone.
	own, _ := http.NewRequest("GET", "https://cdn.example/blob", nil)
	own.Header.Set("Authorization", "Bearer for-cdn")
	own.Response = &http.Response{StatusCode: 307, Request: first}
	for _, r := range []*http.Request{first, hop, own} {
		if _, err := g.RoundTrip(r); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"reg.example Basic secret", "cdn.example ", "cdn.example Bearer for-cdn"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sent %q, want %q", got, want)
	}
}

func TestGuardRefusesPlainHTTPOffLoopback(t *testing.T) {
	called := false
	inner := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		called = true
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	for _, c := range []struct {
		url      string
		insecure bool
		ok       bool
	}{
		{"http://10.1.2.3:5000/v2/", false, false},
		{"http://registry.example/v2/", false, false},
		{"http://registry.example/v2/", true, true},
		{"http://127.0.0.1:5000/v2/", false, true},
		{"http://[::1]:5000/v2/", false, true},
		{"http://localhost:5000/v2/", false, true},
		{"https://registry.example/v2/", false, true},
	} {
		called = false
		g := &guard{inner: inner, allowHTTP: c.insecure, registryHost: "registry.example"}
		req, _ := http.NewRequest("GET", c.url, nil)
		_, err := g.RoundTrip(req)
		if (err == nil) != c.ok || called != c.ok {
			t.Errorf("%s insecure=%v: err=%v sent=%v, want ok=%v", c.url, c.insecure, err, called, c.ok)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestBlobDigestHeaderIsCompared(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	f := newFakeRegistry(t, b)
	f.lie = func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
		if kind != "blobs" || ref != layerDigest(b, 0) {
			return false
		}
		// Right bytes, wrong header: a registry this confused is not trusted.
		w.Header().Set("Docker-Content-Digest", layerDigest(b, 1))
		_, _ = w.Write(b.Blobs[ref])
		return true
	}
	rep := verifyFake(t, f.ref("latest"), nil)
	wantFinding(t, rep, verify.Failed, verify.CodeDigestMismatch)
}

// A root that cannot be fetched gives a Result whose methods all work.
func TestUnreachableRootGivesUsableResult(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	f := newFakeRegistry(t, b)
	res, err := Verify(context.Background(), f.ref("missing"), nil, &Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Verdict != verify.Unverifiable || !res.Report.Has(CodeFetch) || len(res.Report.Findings) != 1 {
		t.Fatalf("verdict %s findings %v", res.Report.Verdict, findingCodes(res.Report))
	}
	if roots := res.Roots(); len(roots) != 0 {
		t.Fatalf("roots %v", roots)
	}
	if _, err := Verify(context.Background(), "Not A Reference::", nil, nil); !errors.Is(err, ErrReference) {
		t.Fatalf("invalid reference: %v", err)
	}
}

// TestRedirectLimit sends every blob through three redirects: the default
// registry-redirects follows them; a limit of 2 refuses the chain, and
// the report is UNVERIFIABLE with a finding that names the limit.
func TestRedirectLimit(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	f := newFakeRegistry(t, b)
	f.lie = func(w http.ResponseWriter, r *http.Request, kind, ref string) bool {
		hop := len(r.URL.Query()["hop"])
		if kind != "blobs" || hop == 3 {
			return false
		}
		http.Redirect(w, r, r.URL.Path+"?"+strings.Repeat("hop=1&", hop+1), http.StatusTemporaryRedirect)
		return true
	}
	run := func(lim *limits.Limits) *verify.Report {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := Verify(ctx, f.ref("latest"), &verify.Options{Limits: lim}, &Options{Keychain: authn.NewMultiKeychain()})
		if err != nil {
			t.Fatal(err)
		}
		return res.Report
	}
	def := limits.Default()
	if rep := run(&def); rep.Verdict != verify.Verified {
		t.Fatalf("default limits: %s %v", rep.Verdict, findingCodes(rep))
	}
	lim := limits.Default()
	lim.RegistryRedirects = 2
	rep := run(&lim)
	if rep.Verdict != verify.Unverifiable || !strings.Contains(reportText(rep), string(limits.RegistryRedirects)) {
		t.Fatalf("registry-redirects=2: %s %v", rep.Verdict, rep.Err())
	}
}
