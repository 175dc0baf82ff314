package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

func inputs(t *testing.T) (bin, ca string) {
	t.Helper()
	dir := t.TempDir()
	bin, ca = filepath.Join(dir, "imgproof"), filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(bin, []byte("\x7fELF not really a binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, ca
}

func TestBuildIsReproducible(t *testing.T) {
	bin, ca := inputs(t)
	epoch := time.Unix(1796624790, 0).UTC()
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	da, err := build(bin, ca, a, "amd64", epoch)
	if err != nil {
		t.Fatal(err)
	}
	// Files written later have later mtimes: only the bytes may count.
	if err := os.Chtimes(bin, time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	db, err := build(bin, ca, b, "amd64", epoch)
	if err != nil {
		t.Fatal(err)
	}
	if da != db {
		t.Fatalf("two builds of the same inputs: %s and %s", da, db)
	}
	ia, _ := os.ReadFile(filepath.Join(a, "index.json"))
	ib, _ := os.ReadFile(filepath.Join(b, "index.json"))
	if !bytes.Equal(ia, ib) || !bytes.Contains(ia, []byte(da.String())) {
		t.Fatalf("index.json differs or lacks %s:\n%s\n%s", da, ia, ib)
	}
	dc, err := build(bin, ca, filepath.Join(t.TempDir(), "c"), "amd64", epoch.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if dc == da {
		t.Fatal("SOURCE_DATE_EPOCH does not reach the image")
	}
}

func TestImageContent(t *testing.T) {
	bin, ca := inputs(t)
	out := filepath.Join(t.TempDir(), "img")
	d, err := build(bin, ca, out, "arm64", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := p.Image(d)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" || cf.Architecture != "arm64" || cf.OS != "linux" ||
		len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/usr/local/bin/imgproof" {
		t.Errorf("config: user %q, %s/%s, entrypoint %q", cf.Config.User, cf.OS, cf.Architecture, cf.Config.Entrypoint)
	}
	ls, err := img.Layers()
	if err != nil || len(ls) != 1 {
		t.Fatalf("layers: %d, %v", len(ls), err)
	}
	rc, err := ls[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]*tar.Header{}
	bodies := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = h
		bodies[h.Name], _ = io.ReadAll(tr)
	}
	if h := files["usr/local/bin/imgproof"]; h == nil || h.Mode != 0o755 || !bytes.HasPrefix(bodies[h.Name], []byte("\x7fELF")) {
		t.Error("the binary is missing or not executable")
	}
	if !bytes.Contains(bodies["etc/passwd"], []byte("nonroot:x:65532:65532:")) {
		t.Errorf("passwd has no user 65532: %q", bodies["etc/passwd"])
	}
	if !bytes.Contains(bodies["etc/ssl/certs/ca-certificates.crt"], []byte("BEGIN CERTIFICATE")) {
		t.Error("no CA certificates")
	}
	for name, h := range files {
		if !h.ModTime.Equal(time.Unix(0, 0)) {
			t.Errorf("%s: mtime %v, not SOURCE_DATE_EPOCH", name, h.ModTime)
		}
	}
}
