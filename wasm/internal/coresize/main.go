// Command coresize is the verifier's core alone (package verify and what it
// imports), built for GOOS=js GOARCH=wasm to measure how much of the
// browser's module the core is and how much the adapter, package attest and
// their dependencies add (make wasm-size). It verifies one archive or
// layout directory with the core's defaults and prints its JSON report; it
// checks no signature or attestation:
//
//	GOOS=js GOARCH=wasm go build -o core.wasm ./wasm/internal/coresize
//	go_js_wasm_exec core.wasm SOURCE
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/imgproof/imgproof/verify"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: coresize SOURCE")
		os.Exit(64)
	}
	res, err := run(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out, err := json.MarshalIndent(res.Report, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Stdout.Write(append(out, '\n'))
}

func run(src string) (*verify.Result, error) {
	ctx := context.Background()
	opts := &verify.Options{}
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return verify.Dir(ctx, os.DirFS(src), src, opts), nil
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return verify.Archive(ctx, f, st.Size(), src, opts), nil
}
