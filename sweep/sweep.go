//go:build !js

package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/registry"
	"github.com/imgproof/imgproof/verify"
)

// Schema names the sweep's own lines (summaries and skips); image lines
// are reports in the verify.SchemaVersion schema.
const Schema = "imgproof.sweep/v1"

// Scopes of blob sharing.
const (
	// ScopeRepository shares a blob's evidence only between the tags of
	// one repository, which is where a registry links the blob: the default.
	ScopeRepository = "repository"
	// ScopeRegistry shares it between every repository of one registry
	// host. It is a weakening: a repository that lacks a blob (a registry
	// links blobs per repository) or serves other bytes under its digest
	// is judged by another repository's read of it.
	ScopeRegistry = "registry"
)

// Config is one sweep.
type Config struct {
	// Verify is the template of every image's options; Limits also bound
	// the sweep (sweep-blobs, sweep-references). BlobCache is set per image.
	Verify verify.Options
	// Registry are the registry options of every fetch and listing.
	Registry registry.Options
	// Trust, if set, is the signature, attestation and policy trust
	// every image's claims are checked with by attest.Run. Without it
	// only the content is verified.
	Trust *attest.Options
	// Concurrency is the number of images verified at once; 0 means 4.
	Concurrency int
	// Shard selects the repositories of one shard; the zero value is All.
	Shard Shard
	// Scope is ScopeRepository (the default, also for "") or ScopeRegistry.
	Scope string
	// StateDir, if set, records images that verified and skips them when
	// their manifest digest is seen again with the same OptionsKey.
	StateDir string
	// OptionsKey identifies everything that decides a verdict besides the
	// image (flags, key and policy files, version); it keys the state.
	OptionsKey []byte
	// Listed is how many references or repositories were listed before
	// sharding; 0 means len(refs). When it is 0 nothing was verified and
	// the sweep is UNVERIFIABLE; an empty shard of a non-empty listing is
	// not.
	Listed int
	// Cache, if set, is used instead of a new one (to share it with other
	// sweeps of the same options, as benchmarks do).
	Cache *Cache
}

// Summary is the last line of a sweep, and the result of a merge.
type Summary struct {
	Schema string `json:"schema"`
	Kind   string `json:"kind"` // "summary"
	// Shard is the shard swept; a merge lists every shard it joined.
	Shard  *Shard  `json:"shard,omitempty"`
	Shards []Shard `json:"shards,omitempty"`
	// Images counts the images of the shard, skipped ones included.
	Images   int                    `json:"images"`
	Verdicts map[verify.Verdict]int `json:"verdicts"`
	// Skipped counts images whose verified manifest digest was in the state.
	Skipped     int       `json:"skipped"`
	Blobs       BlobStats `json:"blobs"`
	DedupFactor float64   `json:"dedupFactor"`
	Seconds     float64   `json:"seconds"`
	// Verdict is the sweep's: FAILED when any image FAILED, UNVERIFIABLE
	// when any is UNVERIFIABLE (or nothing was listed at all), VERIFIED
	// otherwise.
	Verdict verify.Verdict `json:"verdict"`
	// Problems are reasons the summary is UNVERIFIABLE beyond the images:
	// nothing listed, or shards missing from a merge.
	Problems []string `json:"problems,omitempty"`
}

// Skip is the line written for an image the state says was verified.
type Skip struct {
	Schema         string         `json:"schema"`
	Kind           string         `json:"kind"` // "skip"
	Reference      string         `json:"reference"`
	ManifestDigest string         `json:"manifestDigest"`
	Verdict        verify.Verdict `json:"verdict"`
}

// ErrUsage marks an error in the sweep's input, not in an image.
var ErrUsage = errors.New("sweep input")

// Run verifies refs (already listed, in any order) that fall in cfg.Shard
// and writes one line per image and a summary line to w.
func Run(ctx context.Context, refs []string, cfg *Config, w io.Writer) (*Summary, error) {
	start := time.Now()
	lim := limits.Default()
	if cfg.Verify.Limits != nil {
		lim = *cfg.Verify.Limits
	}
	if len(refs) > lim.SweepReferences {
		return nil, fmt.Errorf("%w: %w", ErrUsage, limits.Exceeded(limits.SweepReferences, int64(lim.SweepReferences), "the references"))
	}
	shard := cfg.Shard
	if shard.Count == 0 {
		shard = All
	}
	mine, err := selectShard(refs, shard, &cfg.Registry)
	if err != nil {
		return nil, err
	}
	cache := cfg.Cache
	if cache == nil {
		cache = NewCache(lim.SweepBlobs)
	}
	var st *state
	if cfg.StateDir != "" {
		if st, err = openState(cfg.StateDir, cfg.OptionsKey); err != nil {
			return nil, err
		}
	}
	sum := &Summary{Schema: Schema, Kind: "summary", Shard: &shard, Verdicts: map[verify.Verdict]int{}}
	before := cache.Stats()
	out := &lineWriter{w: w}
	// An error that ends the sweep stops the images not yet started.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	jobs := make(chan parsedRef)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	workers := cfg.Concurrency
	if workers <= 0 {
		workers = 4
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				line, verdict, skipped, err := one(ctx, r, cfg, cache, st)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					stop()
				}
				if err == nil {
					sum.Images++
					sum.Verdicts[verdict]++
					if skipped {
						sum.Skipped++
					}
				}
				mu.Unlock()
				if err == nil {
					if werr := out.write(line); werr != nil {
						mu.Lock()
						firstErr = cmpErr(firstErr, werr)
						mu.Unlock()
						stop()
					}
				}
			}
		}()
	}
	for _, r := range mine {
		if ctx.Err() != nil {
			break
		}
		jobs <- r
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sum.Blobs = diffStats(cache.Stats(), before)
	sum.DedupFactor = sum.Blobs.DedupFactor()
	sum.Seconds = time.Since(start).Seconds()
	if cfg.Listed == 0 && len(refs) == 0 {
		sum.Problems = append(sum.Problems, "no references were listed: nothing was verified")
	}
	sum.Verdict = sum.verdict()
	if err := out.write(sum); err != nil {
		return nil, err
	}
	return sum, nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func diffStats(a, b BlobStats) BlobStats {
	return BlobStats{Used: a.Used - b.Used, BytesUsed: a.BytesUsed - b.BytesUsed, Read: a.Read - b.Read,
		BytesRead: a.BytesRead - b.BytesRead, Evicted: a.Evicted - b.Evicted}
}

// verdict combines the image verdicts as a report combines findings.
func (s *Summary) verdict() verify.Verdict {
	switch {
	case s.Verdicts[verify.Failed] > 0:
		return verify.Failed
	case s.Verdicts[verify.Unverifiable] > 0 || len(s.Problems) > 0:
		return verify.Unverifiable
	}
	return verify.Verified
}

// parsedRef is a reference of the shard.
type parsedRef struct {
	text string
	ref  name.Reference
}

// selectShard parses refs, drops repeats and keeps the shard's.
func selectShard(refs []string, shard Shard, o *registry.Options) ([]parsedRef, error) {
	seen := map[string]bool{}
	var out []parsedRef
	for i, s := range refs {
		r, err := registry.ParseReference(s, o)
		if err != nil {
			return nil, fmt.Errorf("%w: reference %d: %w", ErrUsage, i+1, err)
		}
		if seen[r.Name()] {
			continue
		}
		seen[r.Name()] = true
		if shard.Owns(r.Context().Name()) {
			out = append(out, parsedRef{text: s, ref: r})
		}
	}
	return out, nil
}

// one verifies one image, or skips it when the state holds its digest.
func one(ctx context.Context, r parsedRef, cfg *Config, cache *Cache, st *state) (line any, v verify.Verdict, skipped bool, err error) {
	ref := r.text
	var pinnedDigest digest.Digest
	if st != nil {
		pinned, dg, rerr := resolve(ctx, r.ref, cfg)
		if rerr == nil {
			pinnedDigest = dg
			if st.has(dg) {
				return Skip{Schema: Schema, Kind: "skip", Reference: r.text, ManifestDigest: dg.String(), Verdict: verify.Verified},
					verify.Verified, true, nil
			}
			// Verify exactly the manifest the state will name.
			ref = pinned
		}
		// A reference that cannot be resolved is verified as it is: the
		// report says why the registry could not be read.
	}
	opts := cfg.Verify
	scope := r.ref.Context().Name()
	if cfg.Scope == ScopeRegistry {
		scope = r.ref.Context().RegistryStr()
	}
	opts.BlobCache = cache.Scope(scope)
	rep, verr := attest.Run(ctx, func(o *verify.Options) (*verify.Result, error) {
		return registry.Verify(ctx, ref, o, &cfg.Registry)
	}, &opts, cfg.Trust)
	if verr != nil {
		return nil, "", false, fmt.Errorf("%w: %s: %w", ErrUsage, r.text, verr)
	}
	rep.Source.Path = r.text
	rep.Source.Transport = "docker"
	if ref != r.text {
		rep.Source.Reference = ref
	}
	if st != nil && pinnedDigest != "" && rep.Verdict == verify.Verified {
		if err := st.record(pinnedDigest, r.text); err != nil {
			return nil, "", false, err
		}
	}
	return rep, rep.Verdict, false, nil
}

// lineWriter writes one JSON document per line, one writer at a time.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err = l.w.Write(append(b, '\n'))
	return err
}

// OptionsHash is the hex SHA-256 of an options key, as state directories
// are named.
func OptionsHash(key []byte) string {
	h := sha256.Sum256(key)
	return hex.EncodeToString(h[:])
}
