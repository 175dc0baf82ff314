//go:build !js

package sweep

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/registry"
)

// ReadList reads references, one a line; blank lines and lines starting
// with # are skipped. At most lim.SweepReferences are read, each line at
// most lim.SweepReference bytes long.
func ReadList(r io.Reader, lim limits.Limits) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(512, lim.SweepReference)), lim.SweepReference)
	var out []string
	n := 0
	for sc.Scan() {
		n++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if len(out) >= lim.SweepReferences {
			return nil, fmt.Errorf("%w: %w", ErrUsage, limits.Exceeded(limits.SweepReferences, int64(lim.SweepReferences), "the reference list"))
		}
		out = append(out, s)
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return nil, fmt.Errorf("%w: %w", ErrUsage, limits.Exceeded(limits.SweepReference, int64(lim.SweepReference), fmt.Sprintf("the reference list, line %d", n+1)))
	} else if err != nil {
		return nil, fmt.Errorf("%w: reading the reference list at line %d: %w", ErrUsage, n+1, err)
	}
	return out, nil
}

// catalogPage is how many repositories one catalog request asks for.
const catalogPage = 1000

// ListCatalog lists every tag of every repository of a registry whose
// name starts with prefix, through the catalog and tag-listing APIs,
// keeping only the repositories of shard (so a shard lists only its own
// tags). target is HOST or HOST/PREFIX. Requests go through
// registry.Transport: retried, and counted against the host's cap. At most
// lim.SweepReferences repositories and tags are listed. repositories
// counts those of every shard.
func ListCatalog(ctx context.Context, target string, shard Shard, lim limits.Limits, o *registry.Options) (refs []string, repositories int, err error) {
	host, prefix, _ := strings.Cut(target, "/")
	var nopts []name.Option
	if o != nil && o.InsecureUnsafe {
		nopts = append(nopts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, nopts...)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: --catalog %q: %w", ErrUsage, target, err)
	}
	var kc authn.Keychain = authn.DefaultKeychain
	if o != nil && o.Keychain != nil {
		kc = o.Keychain
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc),
		remote.WithTransport(registry.Transport(reg, lim, o))}
	over := func(what string) error {
		return limits.Exceeded(limits.SweepReferences, int64(lim.SweepReferences), what)
	}
	var repos []string
	last := ""
	for {
		page, err := remote.CatalogPage(reg, last, catalogPage, ropts...)
		if err != nil {
			return nil, 0, fmt.Errorf("listing the catalog of %s: %w", host, err)
		}
		for _, r := range page {
			if strings.HasPrefix(r, prefix) {
				repos = append(repos, r)
			}
		}
		if len(repos) > lim.SweepReferences {
			return nil, 0, over("the catalog of " + host)
		}
		if len(page) < catalogPage || page[len(page)-1] <= last {
			break
		}
		last = page[len(page)-1]
	}
	for _, r := range repos {
		repo, err := name.NewRepository(host+"/"+r, nopts...)
		if err != nil {
			return nil, 0, fmt.Errorf("the catalog of %s names %q: %w", host, r, err)
		}
		if !shard.Owns(repo.Name()) {
			continue
		}
		tags, err := remote.List(repo, ropts...)
		if err != nil {
			return nil, 0, fmt.Errorf("listing the tags of %s: %w", repo.Name(), err)
		}
		for _, t := range tags {
			refs = append(refs, repo.Name()+":"+t)
		}
		if len(refs) > lim.SweepReferences {
			return nil, 0, over("the tags of " + host)
		}
	}
	return refs, len(repos), nil
}
