//go:build !js

package sweep

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/registry"
)

// state records the manifest digests that verified, one empty-ish file
// per digest under a directory named by the options' hash: a rerun with
// other options (another key, policy, limit or version) starts afresh.
// Only VERIFIED images are recorded, so a rerun verifies again every image
// that failed or could not be verified.
type state struct {
	dir string
}

func openState(dir string, optionsKey []byte) (*state, error) {
	d := filepath.Join(dir, OptionsHash(optionsKey))
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, fmt.Errorf("--state: %w", err)
	}
	return &state{dir: d}, nil
}

func (s *state) path(d digest.Digest) string {
	return filepath.Join(s.dir, string(d.Algorithm())+"-"+d.Encoded())
}

func (s *state) has(d digest.Digest) bool {
	st, err := os.Stat(s.path(d))
	return err == nil && st.Mode().IsRegular()
}

// record notes that the manifest d verified, written whole or not at all.
func (s *state) record(d digest.Digest, ref string) error {
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	_, werr := tmp.WriteString(strings.ReplaceAll(ref, "\n", " ") + "\n")
	cerr := tmp.Close()
	if werr == nil && cerr == nil {
		werr = os.Rename(tmp.Name(), s.path(d))
	}
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("--state: recording %s: %w", d, cmpErr(werr, cerr))
	}
	return nil
}

// resolve fetches the root manifest of ref (under the manifest limits,
// hashing the bytes itself rather than trusting a header) and returns a
// reference pinned to that digest, with the tag kept for the reader.
func resolve(ctx context.Context, ref name.Reference, cfg *Config) (string, digest.Digest, error) {
	if d, ok := ref.(name.Digest); ok {
		dg, err := digest.Parse(d.DigestStr())
		return ref.String(), dg, err
	}
	lim := limits.Default()
	if cfg.Verify.Limits != nil {
		lim = *cfg.Verify.Limits
	}
	o := cfg.Registry
	o.NoDiscovery = true
	f, err := registry.Open(ctx, ref.String(), lim, &o)
	if err != nil {
		return "", "", err
	}
	dg, err := digest.Parse(f.Root().Digest)
	if err != nil {
		return "", "", err
	}
	return ref.String() + "@" + dg.String(), dg, nil
}
