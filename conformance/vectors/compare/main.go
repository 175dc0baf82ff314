//go:build !js

// Command compare runs imgproof and third-party tools (crane validate,
// skopeo copy, umoci unpack) on every vector of the conformance corpus and
// prints a markdown table of who catches what.
//
//	go run ./conformance/vectors/compare -corpus conformance/vectors/corpus
//
// A tool that is not installed, or that cannot read a vector's format,
// gets "n/a". For a broken vector a non-zero exit is a catch; for a valid
// vector a non-zero exit is a false alarm.
package main

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/imgproof/imgproof/conformance"
	"github.com/imgproof/imgproof/conformance/vectors"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

type outcome int

const (
	na outcome = iota
	caught
	missed
	ok
	falseAlarm
)

func (o outcome) String() string {
	return [...]string{"n/a", "caught", "**missed**", "ok", "**false alarm**"}[o]
}

func main() {
	dir := flag.String("corpus", "conformance/vectors/corpus", "corpus directory")
	flag.Parse()
	if err := run(*dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

type tool struct {
	name string
	run  func(ctx context.Context, v vectors.Vector, file string) (outcome, error)
}

func run(dir string, w io.Writer) error {
	b, err := os.ReadFile(filepath.Join(dir, "vectors.json"))
	if err != nil {
		return err
	}
	var idx struct{ Vectors []vectors.Vector }
	if err := json.Unmarshal(b, &idx); err != nil {
		return err
	}
	tools := []tool{
		{"imgproof conformance", imgproofConformance},
		{"imgproof verify", imgproofVerify},
		{"crane validate", crane},
		{"skopeo copy", skopeo},
		{"umoci unpack", umoci},
	}
	fmt.Fprintf(w, "| vector | rule | expect |")
	for _, t := range tools {
		fmt.Fprintf(w, " %s |", t.name)
	}
	fmt.Fprintf(w, "\n|---|---|---|%s\n", strings.Repeat("---|", len(tools)))
	type tally struct{ caught, broken, ok, valid int }
	totals := make([]tally, len(tools))
	for _, v := range idx.Vectors {
		file := filepath.Join(dir, v.File)
		fmt.Fprintf(w, "| %s | %s | %s |", v.Name, v.Rule, v.Expect)
		for i, t := range tools {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			o, err := t.run(ctx, v, file)
			cancel()
			if err != nil {
				o = na
			}
			fmt.Fprintf(w, " %s |", o)
			switch o {
			case caught:
				totals[i].caught++
				totals[i].broken++
			case missed:
				totals[i].broken++
			case ok:
				totals[i].ok++
				totals[i].valid++
			case falseAlarm:
				totals[i].valid++
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "| **broken vectors caught** | | |")
	for _, t := range totals {
		fmt.Fprintf(w, " %d/%d |", t.caught, t.broken)
	}
	fmt.Fprintf(w, "\n| **valid vectors accepted** | | |")
	for _, t := range totals {
		fmt.Fprintf(w, " %d/%d |", t.ok, t.valid)
	}
	fmt.Fprintln(w)
	return nil
}

func judge(v vectors.Vector, rejected bool) outcome {
	switch {
	case v.Expect == "pass" && rejected:
		return falseAlarm
	case v.Expect == "pass":
		return ok
	case rejected:
		return caught
	}
	return missed
}

func open(file string) (*os.File, int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// imgproofConformance: a broken vector is caught when its declared rule
// fails; a valid one is accepted when no MUST rule fails.
func imgproofConformance(ctx context.Context, v vectors.Vector, file string) (outcome, error) {
	f, size, err := open(file)
	if err != nil {
		return na, err
	}
	defer f.Close()
	rep := conformance.CheckArchive(ctx, f, size, v.File, nil)
	if v.Expect == "pass" {
		return judge(v, rep.Failed(conformance.Must)), nil
	}
	for _, id := range rep.FailedRules() {
		if id == v.Rule {
			return caught, nil
		}
	}
	return missed, nil
}

// imgproofVerify: caught when the verdict is not VERIFIED.
func imgproofVerify(ctx context.Context, v vectors.Vector, file string) (outcome, error) {
	f, size, err := open(file)
	if err != nil {
		return na, err
	}
	defer f.Close()
	res := verify.Archive(ctx, f, size, v.File, nil)
	return judge(v, res.Report.Verdict != verify.Verified), nil
}

// exitStatus runs a command and reports whether it failed. A missing
// binary is an error (n/a).
func exitStatus(ctx context.Context, name string, args ...string) (bool, error) {
	bin, err := exec.LookPath(name)
	if err != nil {
		if home, herr := os.UserHomeDir(); herr == nil {
			if p := filepath.Join(home, "go", "bin", name); fileExists(p) {
				bin, err = p, nil
			}
		}
		if err != nil {
			return false, err
		}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return true, nil
	}
	if ctx.Err() != nil {
		return true, nil // a hang counts as a rejection, not a pass
	}
	return false, err
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// crane validate reads docker save tarballs only.
func crane(ctx context.Context, v vectors.Vector, file string) (outcome, error) {
	if v.Format != "docker-archive" {
		return na, nil
	}
	failed, err := exitStatus(ctx, "crane", "validate", "--tarball", file)
	if err != nil {
		return na, err
	}
	return judge(v, failed), nil
}

// skopeo copy reads the archive and writes an OCI layout, checking digests.
func skopeo(ctx context.Context, v vectors.Vector, file string) (outcome, error) {
	tmp, err := os.MkdirTemp("", "imgproof-skopeo-")
	if err != nil {
		return na, err
	}
	defer os.RemoveAll(tmp)
	transport := "oci-archive:"
	if v.Format == "docker-archive" {
		transport = "docker-archive:"
	}
	failed, err := exitStatus(ctx, "skopeo", "copy", "--quiet", transport+file, "oci:"+filepath.Join(tmp, "out")+":x")
	if err != nil {
		return na, err
	}
	return judge(v, failed), nil
}

// umoci unpack reads an OCI layout: the archive is extracted first.
func umoci(ctx context.Context, v vectors.Vector, file string) (outcome, error) {
	if v.Format != "oci-archive" {
		return na, nil
	}
	tmp, err := os.MkdirTemp("", "imgproof-umoci-")
	if err != nil {
		return na, err
	}
	defer os.RemoveAll(tmp)
	layout := filepath.Join(tmp, "layout")
	if err := extract(file, layout); err != nil {
		return judge(v, true), nil // not even a readable archive
	}
	ref := "latest"
	if b, err := os.ReadFile(filepath.Join(layout, "index.json")); err == nil {
		var idx struct {
			Manifests []struct{ Annotations map[string]string }
		}
		if json.Unmarshal(b, &idx) == nil && len(idx.Manifests) > 0 {
			if n := idx.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; n != "" {
				ref = n
			}
		}
	}
	failed, err := exitStatus(ctx, "umoci", "unpack", "--rootless", "--image", layout+":"+ref, filepath.Join(tmp, "bundle"))
	if err != nil {
		return na, err
	}
	return judge(v, failed), nil
}

// extract unpacks regular files and directories of a tar into dir,
// refusing names that leave it.
func extract(file, dir string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	lim := limits.Default()
	r, _, err := verify.Decompress(f, &lim)
	if err != nil {
		return err
	}
	defer r.Close()
	tr := verify.NewTarReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(h.Name)
		if !filepath.IsLocal(name) {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			out, err := os.Create(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			out.Close()
			if err != nil {
				return err
			}
		}
	}
}
