// Command image builds the imgproof container image as an OCI layout,
// without a Docker daemon and offline: one layer holding a static binary,
// CA certificates and a passwd entry for an unprivileged user, on an empty
// base. Every timestamp is SOURCE_DATE_EPOCH, so the same inputs give the
// same digest.
//
//	go run ./deploy/image -binary bin/image/imgproof -ca /etc/ssl/certs/ca-certificates.crt -out bin/imgproof.oci
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The user the image runs as: not root, with no home and no shell.
const (
	uid     = 65532
	binPath = "usr/local/bin/imgproof"
	caPath  = "etc/ssl/certs/ca-certificates.crt"
)

func main() {
	binary := flag.String("binary", "", "the static imgproof `file` (linux, CGO_ENABLED=0)")
	ca := flag.String("ca", "/etc/ssl/certs/ca-certificates.crt", "the CA certificates `file`")
	out := flag.String("out", "", "write the OCI layout to `DIR` (replaced)")
	arch := flag.String("arch", "amd64", "the binary's GOARCH")
	flag.Parse()
	if *binary == "" || *out == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(64)
	}
	epoch, err := sourceDateEpoch()
	if err == nil {
		var d v1.Hash
		d, err = build(*binary, *ca, *out, *arch, epoch)
		if err == nil {
			fmt.Printf("%s %s\n", *out, d)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "image:", err)
	os.Exit(1)
}

func sourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Time{}, errors.New("SOURCE_DATE_EPOCH is not set (make image sets it to the commit time)")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
	}
	return time.Unix(n, 0).UTC(), nil
}

// build writes the image to a fresh OCI layout at out and returns the
// manifest digest.
func build(binary, ca, out, arch string, epoch time.Time) (v1.Hash, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading the binary: %w", err)
	}
	certs, err := os.ReadFile(ca)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading the CA certificates: %w", err)
	}
	rootfs, err := rootTar(bin, certs, epoch)
	if err != nil {
		return v1.Hash{}, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rootfs)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "imgproof deploy/image", Comment: "static imgproof, CA certificates, user 65532"},
	})
	if err != nil {
		return v1.Hash{}, fmt.Errorf("appending the layer: %w", err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: epoch}
	cf.Config.User = strconv.Itoa(uid) + ":" + strconv.Itoa(uid)
	cf.Config.Entrypoint = []string{"/" + binPath}
	cf.Config.Env = []string{"PATH=/usr/local/bin", "SSL_CERT_FILE=/" + caPath}
	cf.Config.WorkingDir = "/"
	cf.Config.Labels = map[string]string{"org.opencontainers.image.source": "https://github.com/imgproof/imgproof"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return v1.Hash{}, fmt.Errorf("config: %w", err)
	}
	if err := os.RemoveAll(out); err != nil {
		return v1.Hash{}, err
	}
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("layout %s: %w", out, err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "imgproof"})); err != nil {
		return v1.Hash{}, fmt.Errorf("layout %s: %w", out, err)
	}
	return img.Digest()
}

// rootTar is the image's one layer, every header fixed but the content.
func rootTar(bin, certs []byte, epoch time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	entries := []struct {
		name string
		mode int64
		data []byte
	}{
		{"etc/", 0o755, nil},
		{"etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{"etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n")},
		{"etc/ssl/", 0o755, nil},
		{"etc/ssl/certs/", 0o755, nil},
		{caPath, 0o644, certs},
		{"home/", 0o755, nil},
		{"home/nonroot/", 0o700, nil},
		{"tmp/", 0o1777, nil},
		{"usr/", 0o755, nil},
		{"usr/local/", 0o755, nil},
		{"usr/local/bin/", 0o755, nil},
		{binPath, 0o755, bin},
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: epoch, Format: tar.FormatPAX, Typeflag: tar.TypeReg, Size: int64(len(e.data))}
		if e.data == nil {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if e.name == "home/nonroot/" {
			h.Uid, h.Gid = uid, uid
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("layer %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
