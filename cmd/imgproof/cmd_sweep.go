//go:build !js

package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/registry"
	"github.com/imgproof/imgproof/sweep"
)

var sweepFlags struct {
	file        string
	catalog     string
	shard       string
	state       string
	out         string
	concurrency int
	scope       string
	platform    string
	sarif       string
}

// sweepOnlyFlags do not change an image's verdict, so they are left out
// of the options key that --state is kept under.
var sweepOnlyFlags = map[string]bool{"file": true, "catalog": true, "shard": true, "state": true, "out": true,
	"concurrency": true, "cpuprofile": true}

// sweepFileFlags name files whose content decides verdicts: the options
// key holds their hashes, not only their names. sweepDirFlags name
// directories whose files do: the key holds a hash of every file.
var (
	sweepFileFlags = map[string]bool{"key": true, "attestation": true, "policy": true, "trusted-root": true,
		"trust-policy": true, "crl": true}
	sweepDirFlags = map[string]bool{"trust-store": true}
)

var sweepCmd = &cobra.Command{
	Use:   "sweep [flags] (--file FILE | --catalog HOST[/PREFIX])",
	Short: "Verify many registry images in one process, each distinct blob once",
	Long: `sweep verifies many images of registries, as verify does one, and reads
each distinct blob once: images that share base layers cost their unique
bytes, not the sum of their sizes.

The images are the references of --file (one a line, - for stdin; blank
lines and # comments skipped) or every tag of every repository of a
registry, or of the repositories under a prefix, listed through the
catalog (--catalog HOST[/PREFIX]).

--shard INDEX/COUNT keeps the repositories of one shard; INDEX defaults to
$JOB_COMPLETION_INDEX (--shard /COUNT), as a Kubernetes Indexed Job sets it.
All tags of a repository are on one shard.

Every flag of verify that decides a verdict (--platform, --limit, --key,
--policy, --attestation, keyless identities) applies to every image.

Output: JSON Lines, one imgproof.report/v1 report per image (source.path is
the reference), then a summary line (schema imgproof.sweep/v1, kind
summary): counts by verdict, blobs used and read, bytes, dedup factor.
--state DIR skips images whose manifest digest verified before with the
same options, so a failed shard can be rerun cheaply.

Exit codes: 0 all VERIFIED, 1 any FAILED, 2 any UNVERIFIABLE (or nothing
listed), 64 usage error.`,
	Args: cobra.NoArgs,
	RunE: runSweep,
}

var sweepMergeCmd = &cobra.Command{
	Use:   "merge FILE...",
	Short: "Join the outputs of a sweep's shards into one summary",
	Long: `merge reads the JSON Lines outputs of the shards of one sweep, counts their
verdicts again and writes one summary line. It is UNVERIFIABLE when a shard
is missing or did not finish, or an image is in two outputs. --sarif also
writes each finding of the images that did not verify as SARIF.

Exit codes: 0 all VERIFIED, 1 any FAILED, 2 any UNVERIFIABLE, 64 usage error.`,
	Args: func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usageError{errors.New("merge takes the shards' output files")}
		}
		return nil
	},
	RunE: runSweepMerge,
}

func init() {
	f := sweepCmd.Flags()
	f.StringVarP(&sweepFlags.file, "file", "f", "", "read references from `FILE`, one a line (- for stdin)")
	f.StringVar(&sweepFlags.catalog, "catalog", "", "sweep every tag of every repository of `HOST[/PREFIX]`")
	f.StringVar(&sweepFlags.shard, "shard", "", "sweep shard `INDEX/COUNT` only (INDEX defaults to $JOB_COMPLETION_INDEX)")
	f.StringVar(&sweepFlags.state, "state", "", "skip images recorded as verified in `DIR`, and record new ones")
	f.StringVar(&sweepFlags.out, "out", "", "write the JSON Lines to `FILE` instead of stdout")
	f.IntVar(&sweepFlags.concurrency, "concurrency", 4, "images verified at once")
	f.StringVar(&sweepFlags.scope, "dedup-scope", sweep.ScopeRepository, "share blob results within one repository (repository), or across a registry host's repositories (registry: a repository that lacks a blob or serves other bytes is then judged by another's read)")
	f.StringVar(&sweepFlags.platform, "platform", "", "select the image for `os/arch[/variant]` from each index")
	// The same limits as verify's: the attestation checks read them there.
	addLimitFlag(f, &verifyFlags.limits)
	for _, e := range verifyExtensions {
		if e.flags != nil {
			e.flags(f)
		}
	}
	sweepMergeCmd.Flags().StringVar(&sweepFlags.sarif, "sarif", "", "also write the images that did not verify as SARIF 2.1.0 to `FILE`")
	sweepCmd.AddCommand(sweepMergeCmd)
	rootCmd.AddCommand(sweepCmd)
}

func runSweep(cmd *cobra.Command, _ []string) error {
	ctx := cmd.Context()
	if (sweepFlags.file == "") == (sweepFlags.catalog == "") {
		return usageError{errors.New("sweep needs one of --file and --catalog")}
	}
	if sweepFlags.scope != sweep.ScopeRegistry && sweepFlags.scope != sweep.ScopeRepository {
		return usageError{fmt.Errorf("--dedup-scope must be %s or %s, not %q", sweep.ScopeRegistry, sweep.ScopeRepository, sweepFlags.scope)}
	}
	if sweepFlags.concurrency < 1 {
		return usageError{errors.New("--concurrency must be at least 1")}
	}
	shard := sweep.All
	if sweepFlags.shard != "" {
		s, err := sweep.ParseShard(sweepFlags.shard, os.Getenv("JOB_COMPLETION_INDEX"))
		if err != nil {
			return usageError{err}
		}
		shard = s
	}
	opts, err := commonOptions(sweepFlags.platform)
	if err != nil {
		return err
	}
	if opts.Limits, err = verifyFlags.limits.apply(); err != nil {
		return err
	}
	tr, err := trust()
	if err != nil {
		return err
	}
	var keyDocs [][]byte
	if tr != nil {
		keyDocs = tr.KeyDocuments
	}
	key, err := sweepOptionsKey(cmd, keyDocs)
	if err != nil {
		return usageError{err}
	}
	cfg := &sweep.Config{
		Verify:      *opts,
		Registry:    registry.Options{InsecureUnsafe: regFlags.Insecure, NoDiscovery: regFlags.NoDiscovery},
		Concurrency: sweepFlags.concurrency,
		Shard:       shard,
		Scope:       sweepFlags.scope,
		StateDir:    sweepFlags.state,
		OptionsKey:  key,
		Trust:       tr,
	}
	refs, err := sweepInput(ctx, cfg, *opts.Limits, cmd.InOrStdin())
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if sweepFlags.out != "" {
		f, err := os.Create(sweepFlags.out)
		if err != nil {
			return usageError{fmt.Errorf("--out: %w", err)}
		}
		defer f.Close()
		w = f
	}
	sum, err := sweep.Run(ctx, refs, cfg, w)
	if errors.Is(err, sweep.ErrUsage) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	return exitError{sum.ExitCode()}
}

// sweepInput reads the references of --file or lists those of --catalog.
func sweepInput(ctx context.Context, cfg *sweep.Config, lim limits.Limits, stdin io.Reader) ([]string, error) {
	if sweepFlags.catalog != "" {
		refs, repos, err := sweep.ListCatalog(ctx, sweepFlags.catalog, cfg.Shard, lim, &cfg.Registry)
		if errors.Is(err, sweep.ErrUsage) {
			return nil, usageError{err}
		}
		cfg.Listed = repos
		return refs, err
	}
	r := stdin
	if sweepFlags.file != "-" {
		f, err := os.Open(sweepFlags.file)
		if err != nil {
			return nil, usageError{fmt.Errorf("--file: %w", err)}
		}
		defer f.Close()
		r = f
	}
	refs, err := sweep.ReadList(r, lim)
	if err != nil {
		return nil, usageError{err}
	}
	return refs, nil
}

// sweepOptionsKey names everything besides the image that decides a
// verdict: this binary's version, every flag set that is not about the
// sweep itself, the content of the files and directories those flags
// name, and the trusted key documents, which include the key files a
// policy names. The files are hashed as they stream, never held whole.
func sweepOptionsKey(cmd *cobra.Command, keyDocs [][]byte) ([]byte, error) {
	var lines []string
	lines = append(lines, "version "+versionText())
	var ferr error
	visit := func(fl *pflag.Flag) {
		if sweepOnlyFlags[fl.Name] {
			return
		}
		vals := []string{fl.Value.String()}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			vals = sv.GetSlice()
		}
		for _, v := range vals {
			line := "flag " + fl.Name + "=" + v
			var sum string
			var err error
			switch {
			case sweepFileFlags[fl.Name]:
				sum, err = fileSHA256(v)
			case sweepDirFlags[fl.Name]:
				sum, err = treeSHA256(v)
			}
			if err != nil {
				ferr = fmt.Errorf("--%s: %w", fl.Name, err)
				return
			}
			if sum != "" {
				line += " " + sum
			}
			lines = append(lines, line)
		}
	}
	cmd.Flags().Visit(visit)
	cmd.InheritedFlags().Visit(visit)
	if root := os.Getenv(trustedRootEnv); root != "" && !cmd.Flags().Changed("trusted-root") {
		if sum, err := fileSHA256(root); err == nil {
			lines = append(lines, "env "+trustedRootEnv+" "+sum)
		}
	}
	for _, d := range keyDocs {
		lines = append(lines, fmt.Sprintf("trusted key sha256:%x", sha256.Sum256(d)))
	}
	sort.Strings(lines)
	return []byte(strings.Join(lines, "\n")), ferr
}

// fileSHA256 is "sha256:HEX" of a file's content.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil)), nil
}

// treeSHA256 is "sha256:HEX" over the names and content hashes of every
// file under dir, in WalkDir's lexical order; a link is named with its
// target, never followed.
func treeSHA256(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			fmt.Fprintf(h, "dir %q\n", rel)
		case d.Type().IsRegular():
			sum, err := fileSHA256(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "file %q %s\n", rel, sum)
		default:
			target, _ := os.Readlink(path)
			fmt.Fprintf(h, "other %q %v %q\n", rel, d.Type(), target)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil)), nil
}

func runSweepMerge(cmd *cobra.Command, args []string) error {
	var outs []sweep.Output
	for _, p := range args {
		f, err := os.Open(p)
		if err != nil {
			return usageError{err}
		}
		defer f.Close()
		outs = append(outs, sweep.Output{Name: p, R: f})
	}
	sum, failures, err := sweep.Merge(outs)
	if err != nil {
		return usageError{err}
	}
	if sweepFlags.sarif != "" {
		f, err := os.Create(sweepFlags.sarif)
		if err != nil {
			return usageError{fmt.Errorf("--sarif: %w", err)}
		}
		err = sweep.WriteSARIF(f, sum, failures)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("--sarif: %w", err)
		}
	}
	if err := writeJSONLine(cmd.OutOrStdout(), sum); err != nil {
		return err
	}
	return exitError{sum.ExitCode()}
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
