//go:build !js

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/pflag"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/registry"
	"github.com/imgproof/imgproof/verify"
)

// regFlags holds the global registry flags.
var regFlags registryFlags

func init() {
	addRegistryFlags(rootCmd.PersistentFlags(), &regFlags)
	registrySource = func(ctx context.Context, ref string, opts *verify.Options) (*verify.Result, error) {
		return openRegistry(ctx, ref, opts, regFlags)
	}
	registryFS = func(ctx context.Context, ref string, opts *verify.Options) (fs.FS, error) {
		lim := limits.Default()
		if opts != nil && opts.Limits != nil {
			lim = *opts.Limits
		}
		f, err := registry.Open(ctx, ref, lim, &registry.Options{InsecureUnsafe: regFlags.Insecure, NoDiscovery: regFlags.NoDiscovery})
		if errors.Is(err, registry.ErrReference) {
			return nil, usageError{err}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		return f, nil
	}
}

// registryFlags are the flags of every command that can read a registry.
type registryFlags struct {
	// Insecure allows plain HTTP to a registry that is not on loopback.
	Insecure bool
	// NoDiscovery skips the search for signatures and attestations.
	NoDiscovery bool
}

// addRegistryFlags registers the registry flags on a command's flag set.
func addRegistryFlags(fs *pflag.FlagSet, f *registryFlags) {
	fs.BoolVar(&f.Insecure, "insecure", false, "allow plain HTTP to a registry that is not on loopback (loopback registries may always use it)")
	fs.BoolVar(&f.NoDiscovery, "no-discovery", false, "do not look for signatures and attestations in the registry")
}

// openRegistry verifies the image that ref names, straight from its
// registry. It is called for a SOURCE that is neither a file nor a
// directory. An invalid reference is a usage error; a registry that cannot
// be reached gives an UNVERIFIABLE report, not an error.
func openRegistry(ctx context.Context, ref string, opts *verify.Options, flags registryFlags) (*verify.Result, error) {
	res, err := registry.Verify(ctx, ref, opts, &registry.Options{InsecureUnsafe: flags.Insecure, NoDiscovery: flags.NoDiscovery})
	if errors.Is(err, registry.ErrReference) {
		return nil, usageError{err}
	}
	return res, err
}
