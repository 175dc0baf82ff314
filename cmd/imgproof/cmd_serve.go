package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"time"

	"github.com/spf13/cobra"

	"github.com/imgproof/imgproof/wasm/web"
)

// pageReady reports whether the page's WebAssembly module is embedded.
var pageReady = web.Ready

// servePolicy keeps the page offline: it may load only its own files, and
// nothing it computes can be sent anywhere.
const servePolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func init() {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080]",
		Short: "Serve the in-browser verifier page",
		Long: "serve serves the verifier's page, embedded in this binary, over HTTP. The page verifies\n" +
			"images inside the browser with the WebAssembly build of imgproof: nothing is uploaded.\n\n" +
			"The page's WebAssembly module is a build output: `make build` in a clone of the\n" +
			"repository builds it and embeds it. A binary built without it (as `go install`\n" +
			"builds it) cannot serve the page and says so.\n\n" +
			"Exit status: 0 when stopped with Ctrl-C, 69 when the page is not in this binary or the\n" +
			"address cannot be listened on, 64 usage error.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !pageReady() {
				fmt.Fprintln(cmd.ErrOrStderr(), "imgproof serve: this binary holds no verifier page: the page's WebAssembly\n"+
					"module is built from a clone of the repository (git clone, then `make build`,\n"+
					"which embeds it), and `go install` cannot build it. `imgproof verify SOURCE`\n"+
					"runs the same checks natively.")
				return exitError{exitUnavailable}
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "imgproof serve:", err)
				return exitError{exitUnavailable}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imgproof: serving the verifier on http://%s/ (Ctrl-C to stop)\n", ln.Addr())
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return servePage(ctx, ln)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	rootCmd.AddCommand(cmd)
}

// servePage serves the embedded page on ln until ctx ends.
func servePage(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           pageHandler(web.Files()),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// pageHandler serves the files of fsys with strict headers. It answers GET
// and HEAD only and lists no directories.
func pageHandler(fsys fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := path.Clean("/" + r.URL.Path)[1:]
		if name == "" {
			name = "index.html"
		}
		f, err := fsys.Open(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil || fi.IsDir() {
			http.NotFound(w, r)
			return
		}
		rs, ok := f.(io.ReadSeeker)
		if !ok {
			http.Error(w, "unreadable file", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", servePolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-cache")
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			h.Set("Content-Type", ct)
		}
		switch path.Ext(name) {
		case ".wasm":
			h.Set("Content-Type", "application/wasm")
		case ".js", ".mjs":
			h.Set("Content-Type", "text/javascript; charset=utf-8")
		}
		http.ServeContent(w, r, name, fi.ModTime(), rs)
	})
}
