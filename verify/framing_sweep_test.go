//go:build !js

package verify_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// sweepSource is a valid archive of one producer.
type sweepSource struct {
	name string
	data []byte
}

// sweepSources are OCI archives and docker saves of several producers: the
// README examples, the fixture generator, and, when they are installed,
// GNU tar (which pads to 10240-byte records) and skopeo.
func sweepSources(t *testing.T) []sweepSource {
	t.Helper()
	out := []sweepSource{
		{"examples/hello.oci.tar", readExample(t, "hello.oci.tar")},
		{"examples/hello.docker.tar", readExample(t, "hello.docker.tar")},
	}
	gen := func(name string, write func(b *fixtures.Built, w io.Writer) error, spec fixtures.Spec) {
		var buf bytes.Buffer
		if err := write(fixtures.MustBuild(spec), &buf); err != nil {
			t.Fatal(err)
		}
		out = append(out, sweepSource{name, buf.Bytes()})
	}
	oci := func(b *fixtures.Built, w io.Writer) error { return b.WriteOCIArchive(w, false) }
	docker := func(f fixtures.DockerFormat, link bool) func(b *fixtures.Built, w io.Writer) error {
		return func(b *fixtures.Built, w io.Writer) error {
			a, err := b.Docker(fixtures.DockerOptions{Format: f, LinkDuplicateLayers: link})
			if err != nil {
				return err
			}
			return a.WriteTo(w, false)
		}
	}
	gen("generator oci default", oci, fixtures.Default())
	gen("generator oci multi-platform", oci, fixtures.MultiPlatform())
	gen("generator docker classic", docker(fixtures.Classic, false), fixtures.Default())
	gen("generator docker classic linked layers", docker(fixtures.Classic, true), fixtures.MultiPlatform())
	gen("generator docker 25", docker(fixtures.V25, false), fixtures.Default())

	layout := filepath.Join(t.TempDir(), "layout")
	if err := fixtures.MustBuild(fixtures.MultiPlatform()).WriteLayoutDir(layout); err != nil {
		t.Fatal(err)
	}
	tool := func(name string, args ...string) {
		if _, err := exec.LookPath(args[0]); err != nil {
			t.Logf("%s: %s is not installed; left out", name, args[0])
			return
		}
		dst := filepath.Join(t.TempDir(), "out.tar")
		for i, a := range args {
			args[i] = strings.ReplaceAll(strings.ReplaceAll(a, "DST", dst), "LAYOUT", layout)
		}
		if b, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		data, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sweepSource{name, data})
	}
	tool("GNU tar of a layout", "tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-cf", "DST", "-C", "LAYOUT", ".")
	tool("skopeo oci-archive", "skopeo", "copy", "--all", "-q", "oci:LAYOUT", "oci-archive:DST")
	tool("skopeo docker-archive", "skopeo", "copy", "-q", "--override-arch", "amd64", "oci:LAYOUT", "docker-archive:DST:hello:latest")
	return out
}

// sweepTally counts the outcomes of a sweep.
type sweepTally struct {
	runs, equivalent int
	codes            map[string]int
}

// TestFramingSweep mutates the framing of archives of several producers:
// cuts at every 512-byte boundary and at seeded random offsets, flipped
// bytes in tar headers, padding and the end-of-archive marker, and a
// damaged outer gzip stream (CRC-32, ISIZE, a cut trailer, bytes after
// it, flipped bytes in it). No mutation may VERIFY, and every cut must be
// E_ARCHIVE_TRUNCATED. It runs through verify.Archive and verify.Stream,
// and gzipped ones also through engines. It runs when FRAMING_SWEEP is set
// (make framing-sweep sets it to ci; long makes 16 times as many random
// mutations); FRAMING_SWEEP_SEED sets the seed.
func TestFramingSweep(t *testing.T) {
	if os.Getenv("FRAMING_SWEEP") == "" {
		t.Skip("set FRAMING_SWEEP=ci or long, or run make framing-sweep")
	}
	seed := uint64(20261207)
	if s := os.Getenv("FRAMING_SWEEP_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("FRAMING_SWEEP_SEED: %v", err)
		}
		seed = v
	}
	random := 24
	if os.Getenv("FRAMING_SWEEP") == "long" {
		random *= 16
	}
	tally := &sweepTally{codes: map[string]int{}}
	for _, src := range sweepSources(t) {
		t.Run(src.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(len(src.data))))
			for via, r := range both(src.data, nil) {
				if r.Verdict != verify.Verified {
					t.Fatalf("%s: the undamaged archive is %s %v", via, r.Verdict, r.Findings)
				}
			}
			sweepTar(t, src.data, rng, random, tally)
			sweepGzip(t, gzipped(t, src.data), rng, random, tally)
		})
	}
	var cs []string
	for c, n := range tally.codes {
		cs = append(cs, fmt.Sprintf("%s %d", c, n))
	}
	sort.Strings(cs)
	t.Logf("seed %d: %d verifications, %d mutations left out as equivalent; outcomes: %s", seed, tally.runs, tally.equivalent, strings.Join(cs, ", "))
}

// run verifies one mutation and checks its outcome: never VERIFIED, always
// FAILED with code when code is set.
func (s *sweepTally) run(t *testing.T, what string, data []byte, code verify.Code, engines bool) {
	t.Helper()
	reps := both(data, nil)
	if engines {
		eng := &strictEngines{zeroPadding: true}
		reps["Archive with engines"] = verify.Archive(context.Background(), bytes.NewReader(data), int64(len(data)), "x.tar.gz",
			&verify.Options{Engines: eng.engines()}).Report
	}
	// The two tar readers apply one model: they agree on the outcome.
	if a, st := reps["Archive"], reps["Stream"]; a.Verdict != st.Verdict || !slices.Equal(errorCodes(a), errorCodes(st)) {
		t.Fatalf("%s: Archive gives %s %v, Stream %s %v", what, a.Verdict, a.Findings, st.Verdict, st.Findings)
	}
	for via, r := range reps {
		s.runs++
		first := ""
		if len(r.Findings) > 0 {
			first = string(r.Findings[0].Code)
		}
		s.codes[string(r.Verdict)+" "+first]++
		if r.Verdict == verify.Verified {
			t.Fatalf("%s (%s): VERIFIED", what, via)
		}
		if code == "" {
			continue
		}
		if _, ok := lookupFinding(r, code); !ok || r.Verdict != verify.Failed {
			t.Fatalf("%s (%s): %s %v, want FAILED %s", what, via, r.Verdict, r.Findings, code)
		}
	}
}

func sweepTar(t *testing.T, data []byte, rng *rand.Rand, random int, s *sweepTally) {
	entries, end := tarLayout(t, data)
	// Cuts before the first name's NUL leave a few printable bytes that
	// are no archive to tell by: E_UNKNOWN_FORMAT there is right.
	firstNUL := int64(bytes.IndexByte(data[:100], 0))
	cut := func(at int64) {
		code := verify.CodeArchiveTruncated
		if at <= firstNUL {
			code = ""
		}
		s.run(t, fmt.Sprintf("cut at %d of %d", at, end), data[:at], code, false)
	}
	// Past the marker there is only zero record padding: a whole archive.
	for at := int64(512); at < end; at += 512 {
		cut(at)
	}
	for range random {
		cut(1 + rng.Int64N(end-1))
	}
	flip := func(what string, at int64) {
		m := append([]byte(nil), data...)
		m[at] ^= byte(1 + rng.IntN(255))
		if what == "header" && at%512 >= 148 && at%512 < 156 && sameChecksum(data[at-at%512+148:][:8], m[at-at%512+148:][:8]) {
			s.equivalent++ // the checksum field reads the same: no change
			return
		}
		s.run(t, fmt.Sprintf("%s byte %d flipped", what, at), m, "", false)
	}
	for _, e := range entries {
		flip("header", e.header+rng.Int64N(512))
		flip("header", e.data-512+rng.Int64N(512))
		if e.end > e.dataEnd {
			flip("padding", e.dataEnd+rng.Int64N(e.end-e.dataEnd))
		}
	}
	for range 4 {
		flip("marker", end-1024+rng.Int64N(1024))
	}
}

// sameChecksum reports whether two checksum fields read as the same
// number, as archive/tar reads them: spaces and NULs trimmed at both ends,
// then octal digits up to the first NUL (what follows it is ignored).
func sameChecksum(a, b []byte) bool {
	x, errA := readChecksum(a)
	y, errB := readChecksum(b)
	return errA == nil && errB == nil && x == y
}

func readChecksum(field []byte) (uint64, error) {
	s := strings.Trim(string(field), " \x00")
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return strconv.ParseUint(s, 8, 64)
}

func sweepGzip(t *testing.T, gz []byte, rng *rand.Rand, random int, s *sweepTally) {
	for name, d := range gzipDamage(gz) {
		s.run(t, "gzip "+name, d.data, d.code, true)
	}
	n := len(gz)
	for range random {
		at := 10 + rng.IntN(n-10)
		s.run(t, fmt.Sprintf("gzip cut at %d of %d", at, n), gz[:at], verify.CodeArchiveTruncated, true)
	}
	plain, _ := gunzipAll(gz)
	for range random {
		m := append([]byte(nil), gz...)
		at := rng.IntN(n)
		m[at] ^= byte(1 + rng.IntN(255))
		// A flip that the reference decoder reads to the same archive (in
		// the header's MTIME, XFL or OS, or in the unused bits of the
		// last deflate byte) changes nothing that is verified.
		if out, err := gunzipAll(m); err == nil && bytes.Equal(out, plain) {
			s.equivalent++
			continue
		}
		s.run(t, fmt.Sprintf("gzip byte %d of %d flipped", at, n), m, "", true)
	}
}

// errorCodes lists the codes of a report's error findings, sorted.
func errorCodes(r *verify.Report) []verify.Code {
	var out []verify.Code
	for _, f := range r.Findings {
		if f.Severity == verify.SeverityError {
			out = append(out, f.Code)
		}
	}
	slices.Sort(out)
	return out
}

// gunzipAll is the reference decoder: the standard library's, multistream.
func gunzipAll(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
