//go:build !js

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/attest/notary/notarytest"
	"github.com/imgproof/imgproof/fixtures"
)

// notationCLI finds the notation CLI (.ci/install.d/35-notation.sh).
func notationCLI(t *testing.T) string {
	if p, err := exec.LookPath("notation"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "notation")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("notation CLI not installed (.ci/install.d/35-notation.sh)")
	return ""
}

// TestNotationCLIAgreement signs layouts with `notation sign --oci-layout`
// (notation 1.3.2, keys from `notation cert generate-test`) and checks
// that imgproof agrees with `notation verify --oci-layout` on the same
// trust policy and trust store, except where notation does not look: a
// changed layer under a validly signed manifest, which imgproof FAILs.
func TestNotationCLIAgreement(t *testing.T) {
	bin := notationCLI(t)
	cfg := t.TempDir()
	env := append(os.Environ(), "XDG_CONFIG_HOME="+cfg, "NOTATION_EXPERIMENTAL=1")
	notation := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, args := range [][]string{{"cert", "generate-test", "--default", "signer.test"}, {"cert", "generate-test", "stranger.test"}} {
		if out, err := notation(args...); err != nil {
			t.Fatalf("notation %v: %v\n%s", args, err, out)
		}
	}
	conf := filepath.Join(cfg, "notation")
	setPolicy := func(stores, identities []string) {
		data := notarytest.Policy(t, "strict", stores, identities)
		for _, name := range []string{"trustpolicy.json", "trustpolicy.oci.json"} {
			if err := os.WriteFile(filepath.Join(conf, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}

	type layout struct{ dir, a, b string }
	newLayout := func(t *testing.T) layout {
		spec := fixtures.MultiPlatform()
		spec.Index = false
		b := fixtures.MustBuild(spec)
		dir := filepath.Join(t.TempDir(), "app")
		if err := b.WriteLayoutDir(dir); err != nil {
			t.Fatal(err)
		}
		return layout{dir, b.Expected.Images[0].ManifestDigest, b.Expected.Images[1].ManifestDigest}
	}
	sign := func(t *testing.T, l layout, digest string, args ...string) {
		args = append(append([]string{"sign", "--oci-layout"}, args...), l.dir+"@"+digest)
		if out, err := notation(args...); err != nil {
			t.Fatalf("notation %v: %v\n%s", args, err, out)
		}
	}
	signer := "x509.subject: CN=signer.test,O=Notary,L=Seattle,ST=WA,C=US"
	cases := []struct {
		name       string
		prepare    func(t *testing.T, l layout)
		stores     []string
		identities []string
		notationOK bool
		exit       int
	}{
		{"JWS", func(t *testing.T, l layout) { sign(t, l, l.a) }, nil, nil, true, 0},
		{"COSE", func(t *testing.T, l layout) { sign(t, l, l.a, "--signature-format", "cose") }, nil, []string{signer}, true, 0},
		{"one untrusted signature of two", func(t *testing.T, l layout) {
			sign(t, l, l.a, "--key", "stranger.test")
			sign(t, l, l.a, "--signature-format", "cose")
		}, nil, nil, true, 0},
		{"only an untrusted signature", func(t *testing.T, l layout) { sign(t, l, l.a, "--key", "stranger.test") }, nil, nil, false, 2},
		{"wrong identity", func(t *testing.T, l layout) { sign(t, l, l.a) }, nil,
			[]string{"x509.subject: CN=mallory.test,O=Notary,L=Seattle,ST=WA,C=US"}, false, 2},
		{"wrong trust store", func(t *testing.T, l layout) { sign(t, l, l.a) }, []string{"ca:stranger.test"}, nil, false, 2},
		{"signature over another manifest", func(t *testing.T, l layout) {
			sign(t, l, l.b)
			moveSignatures(t, l.dir, l.b, l.a)
		}, nil, nil, false, 1},
		// notation verify reads the manifest and the signature only.
		{"changed layer", func(t *testing.T, l layout) {
			sign(t, l, l.a)
			notarytest.FlipFirstLayer(t, l.dir, l.a)
		}, nil, nil, true, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLayout(t)
			c.prepare(t, l)
			stores, ids := c.stores, c.identities
			if stores == nil {
				stores = []string{"ca:signer.test"}
			}
			if ids == nil {
				ids = []string{"*"}
			}
			setPolicy(stores, ids)
			nout, nerr := notation("verify", "--oci-layout", "--scope", "local/app", l.dir+"@"+l.a)
			if (nerr == nil) != c.notationOK {
				t.Fatalf("notation verify: ok=%v, want %v\n%s", nerr == nil, c.notationOK, nout)
			}
			out, code := runImgproof(t, "verify", "--output", "json", "--trust-policy", filepath.Join(conf, "trustpolicy.json"),
				"--trust-store", filepath.Join(conf, "truststore"), "--notary-scope", "local/app", l.dir)
			if code != c.exit {
				t.Fatalf("imgproof exit %d, want %d (notation: %s)\n%s", code, c.exit, strings.TrimSpace(nout), out)
			}
		})
	}
}

// moveSignatures attaches copies of from's signature manifests to to.
func moveSignatures(t *testing.T, dir, from, to string) {
	var ix ocispec.Index
	notarytest.ReadJSON(t, filepath.Join(dir, "index.json"), &ix)
	var target *ocispec.Descriptor
	for _, e := range ix.Manifests {
		if e.Digest.String() == to {
			target = &ocispec.Descriptor{MediaType: e.MediaType, Digest: e.Digest, Size: e.Size}
		}
	}
	for _, e := range ix.Manifests {
		var m ocispec.Manifest
		notarytest.ReadJSON(t, filepath.Join(dir, "blobs", "sha256", e.Digest.Encoded()), &m)
		if m.Subject == nil || m.Subject.Digest.String() != from {
			continue
		}
		m.Subject = target
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		d := digest.FromBytes(raw)
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		e.Digest, e.Size, e.Annotations = d, int64(len(raw)), nil
		ix.Manifests = append(ix.Manifests, e)
	}
	raw, err := json.Marshal(ix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
