package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/imgproof/imgproof/fixtures"
)

// TestMain lets the scripts run the real imgproof main as a command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"imgproof": func() {
			// A binary without the page, as go install builds it, for
			// the serve script; the test binary may embed a built one.
			if os.Getenv("IMGPROOF_TEST_NO_PAGE") == "1" {
				pageReady = func() bool { return false }
			}
			main()
		},
	})
}

// TestScripts runs testdata/script/*.txtar. Each script gets EXAMPLES, the
// bundled examples' directory, ROOT, the repository's, and proxies on a closed local port, so that
// a request that should never be made cannot reach the network.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			env.Setenv("ROOT", filepath.Dir(examples))
			for _, k := range []string{"HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"} {
				env.Setenv(k, "http://127.0.0.1:9")
			}
			env.Setenv("NO_PROXY", "")
			env.Setenv("no_proxy", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"fixture":  cmdFixture,
			"exits":    cmdExits,
			"freeport": cmdFreePort,
			"waitport": cmdWaitPort,
			"cutfile":  cmdCutFile,
			"flipbyte": cmdFlipByte,
			"gzipfile": cmdGzipFile,
		},
	})
}

// cmdFixture writes a generated image:
// `fixture single|onelayer|multi layout|oci-archive|docker-archive PATH`.
// single is one linux/amd64 image of three layers, unrelated to the bundled
// examples; onelayer is the same with its first layer only; multi is an
// index over linux/amd64 and linux/arm64/v8. A docker-archive is a classic
// docker save, which keeps no manifest.
func cmdFixture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: fixture single|onelayer|multi layout|oci-archive|docker-archive PATH")
	}
	spec := fixtures.Default()
	spec.Images[0].Layers = fixtures.DefaultLayers("unrelated", fixtures.Gzip)
	switch args[0] {
	case "single":
	case "onelayer":
		spec.Images[0].Layers = spec.Images[0].Layers[:1]
	case "multi":
		spec = fixtures.MultiPlatform()
	default:
		ts.Fatalf("fixture: unknown spec %q", args[0])
	}
	b := fixtures.MustBuild(spec)
	path := ts.MkAbs(args[2])
	var err error
	switch args[1] {
	case "layout":
		err = b.WriteLayoutDir(path)
	case "oci-archive":
		err = b.WriteOCIArchiveFile(path, false)
	case "docker-archive":
		err = b.WriteDockerArchiveFile(path, fixtures.Classic, false)
	default:
		ts.Fatalf("fixture: unknown format %q", args[1])
	}
	ts.Check(err)
}

// cmdExits runs a command and checks its exact exit status, keeping its
// stdout and stderr for the next stdout and stderr commands:
// `exits 64 imgproof verify x.tar`.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE COMMAND [ARG]...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %q is not an exit code", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// cmdFreePort sets an environment variable to a free loopback port:
// `freeport PORT`.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport NAME")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := ln.Addr().(*net.TCPAddr).Port
	ts.Check(ln.Close())
	ts.Setenv(args[0], strconv.Itoa(port))
}

// cmdWaitPort waits up to ten seconds for a loopback port to accept
// connections: `waitport 5000`.
func cmdWaitPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitport PORT")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+args[0], time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("port %s did not open: %v", args[0], err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// offsetIn turns a byte offset into an index of data; a negative one counts
// from the end.
func offsetIn(ts *testscript.TestScript, arg string, data []byte) int {
	n, err := strconv.Atoi(arg)
	if err != nil {
		ts.Fatalf("%q is not an offset", arg)
	}
	if n < 0 {
		n += len(data)
	}
	if n < 0 || n > len(data) {
		ts.Fatalf("offset %s is outside a file of %d bytes", arg, len(data))
	}
	return n
}

// cmdCutFile writes the first N bytes of SRC to DST, as head -c does (a
// negative N drops that many bytes from the end): `cutfile 15000 a.tar b.tar`.
func cmdCutFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: cutfile N SRC DST")
	}
	data, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), data[:offsetIn(ts, args[0], data)], 0o644))
}

// cmdFlipByte writes SRC to DST with the byte at OFFSET inverted (a
// negative OFFSET counts from the end): `flipbyte -8 a.tar.gz b.tar.gz`.
func cmdFlipByte(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: flipbyte OFFSET SRC DST")
	}
	data, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	i := offsetIn(ts, args[0], data)
	if i == len(data) {
		ts.Fatalf("flipbyte: offset %s is past the last byte", args[0])
	}
	data[i] ^= 0xff
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), data, 0o644))
}

// cmdGzipFile writes SRC gzipped to DST: `gzipfile a.tar a.tar.gz`.
func cmdGzipFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gzipfile SRC DST")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err = zw.Write(data)
	ts.Check(err)
	ts.Check(zw.Close())
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), buf.Bytes(), 0o644))
}
