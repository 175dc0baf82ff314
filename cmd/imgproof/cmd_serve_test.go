package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/imgproof/imgproof/wasm/web"
)

func TestPageHandler(t *testing.T) {
	h := pageHandler(fstest.MapFS{
		"index.html":    {Data: []byte("<!doctype html>page")},
		"imgproof.wasm": {Data: []byte("\x00asm")},
		"worker.js":     {Data: []byte("onmessage=1")},
		"sub/x.css":     {Data: []byte("a{}")},
	})
	for _, tc := range []struct {
		method, path string
		code         int
		ctype, body  string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", "<!doctype html>page"},
		{"GET", "/imgproof.wasm", 200, "application/wasm", "\x00asm"},
		{"GET", "/worker.js", 200, "text/javascript; charset=utf-8", "onmessage=1"},
		{"GET", "/sub/x.css", 200, "text/css; charset=utf-8", "a{}"},
		{"HEAD", "/worker.js", 200, "text/javascript; charset=utf-8", ""},
		{"GET", "/sub", 404, "", ""},
		{"GET", "/sub/", 404, "", ""},
		{"GET", "/missing.js", 404, "", ""},
		{"GET", "/../index.html", 200, "text/html; charset=utf-8", "<!doctype html>page"},
		{"POST", "/", 405, "", ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.code {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, rec.Code, tc.code)
			continue
		}
		if tc.code != 200 {
			continue
		}
		if got := rec.Header().Get("Content-Type"); got != tc.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", tc.method, tc.path, got, tc.ctype)
		}
		if got := rec.Body.String(); got != tc.body {
			t.Errorf("%s %s: body %q, want %q", tc.method, tc.path, got, tc.body)
		}
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "connect-src 'self'") || !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s %s: CSP %q does not keep the page offline", tc.method, tc.path, csp)
		}
	}
}

func TestEmbeddedPageHidesGoSources(t *testing.T) {
	h := pageHandler(web.Files())
	for path, code := range map[string]int{"/": 200, "/app.js": 200, "/worker.js": 200, "/style.css": 200, "/web.go": 404} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != code {
			t.Errorf("GET %s: status %d, want %d", path, rec.Code, code)
		}
	}
}

func TestServePageStopsWithContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- servePage(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `id="image"`) {
		t.Fatalf("GET /: %d, page without the file input", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("servePage: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("servePage did not stop when its context ended")
	}
}
