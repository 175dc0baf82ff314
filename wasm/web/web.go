// Package web holds the verifier's static page, embedded for `imgproof
// serve`. imgproof.wasm and wasm_exec.js are build outputs (`make
// wasm-web`); when they are missing, Ready reports it and the page cannot
// run.
package web

import (
	"embed"
	"io/fs"
	"strings"
)

//go:embed *
var files embed.FS

// Files returns the page's files: everything in this directory but Go
// sources.
func Files() fs.FS { return pageFS{files} }

// Ready reports whether the WebAssembly module and its loader were built
// into this binary.
func Ready() bool {
	for _, name := range []string{"imgproof.wasm", "wasm_exec.js"} {
		if fi, err := fs.Stat(files, name); err != nil || fi.Size() == 0 {
			return false
		}
	}
	return true
}

// pageFS hides Go sources and tests from the served tree.
type pageFS struct{ fs.FS }

func (p pageFS) Open(name string) (fs.File, error) {
	if strings.HasSuffix(name, ".go") {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return p.FS.Open(name)
}
