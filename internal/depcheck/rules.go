package depcheck

import "strings"

// Module is the import path of this module.
const Module = "github.com/imgproof/imgproof"

// A Rule forbids packages in the dependencies of some roots built for one
// platform.
type Rule struct {
	Name   string   // what the rule keeps true
	GOOS   string   // the platform the roots are listed for ("" means the host's)
	GOARCH string   //
	Roots  []string // package patterns, as `go list` takes them
	// Forbidden lists import paths. An entry ending in "/..." forbids the
	// package and every package below it; any other entry forbids that
	// exact package.
	Forbidden []string
	// Direct, when set, applies Forbidden to the roots' own imports only:
	// for standard packages such as os that the standard library itself
	// imports transitively.
	Direct bool
}

// nativeOnly are the packages that do not build for js/wasm or that reach
// the network or the process table, which the browser build must never
// contain.
var nativeOnly = []string{
	"net/http",
	"net/http/...",
	"os/exec",
	"github.com/sigstore/sigstore-go/...",
	"github.com/sigstore/cosign/v2/...",
	"github.com/sigstore/cosign/v3/...",
	"github.com/open-policy-agent/opa/...",
	"cuelang.org/go/...",
	"github.com/in-toto/in-toto-golang/in_toto",
	"github.com/google/go-containerregistry/pkg/v1/remote/...",
	// notation-go's verifier reads trust stores from disk and starts
	// plugins; its revocation checks use net/http.
	"github.com/notaryproject/notation-go/...",
	"github.com/notaryproject/notation-core-go/revocation/...",
	Module + "/cmd/...",
	Module + "/registry/...",
	Module + "/imagecopy/...",
	Module + "/attest/sigstore/...",
	Module + "/attest/cosignpolicy/...",
	Module + "/attest/intotolayout/...",
	Module + "/attest/notary/...",
	Module + "/attest/e2e/...",
}

// Rules are the import rules of the module.
var Rules = []Rule{
	{
		Name:      "the browser module and the core build for js/wasm without native-only code",
		GOOS:      "js",
		GOARCH:    "wasm",
		Roots:     []string{"./wasm/...", "./verify/...", "./internal/limits/..."},
		Forbidden: nativeOnly,
	},
	{
		Name:  "verify imports nothing above it",
		Roots: []string{"./verify/..."},
		Forbidden: []string{
			Module + "/attest/...",
			Module + "/conformance/...",
			Module + "/compare/...",
			Module + "/cmd/...",
			Module + "/wasm/...",
			Module + "/registry/...",
			Module + "/imagecopy/...",
			Module + "/fixtures/...",
			Module + "/bench/...",
			"net/http/...",
			"net/http",
			"os/exec",
		},
	},
	{
		Name:      "verify takes fs.FS and io.ReaderAt, never the file system or the network itself",
		Roots:     []string{"./verify/...", "./internal/limits/..."},
		Forbidden: []string{"os", "net", "os/exec", "syscall"},
		Direct:    true,
	},
}

// Forbids reports whether the rule forbids the package path.
func (r Rule) Forbids(path string) bool {
	for _, f := range r.Forbidden {
		if prefix, ok := strings.CutSuffix(f, "/..."); ok {
			if path == prefix || strings.HasPrefix(path, prefix+"/") {
				return true
			}
			continue
		}
		if path == f {
			return true
		}
	}
	return false
}
