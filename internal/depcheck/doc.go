// Package depcheck holds the import guard: tests that fail when the
// WebAssembly build of the core or of the browser module reaches native-only
// code, or when package verify imports a package above it.
//
// The rules live in Rules; the test lists each root's dependencies with
// `go list -deps` for the root's GOOS and GOARCH and reports every package
// that a rule forbids, with the root that pulls it in.
package depcheck
