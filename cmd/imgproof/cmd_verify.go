package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/verify"
)

// verifyExtension lets a file add flags to `verify`, for example those of
// the signatures and attestations bound to the recomputed digests.
type verifyExtension struct {
	flags func(*pflag.FlagSet)
}

// trustOptions, when set, builds from the flags the trust that attest.Run
// checks an image's claims with. An error is a usage error. Without it
// only the content is verified.
var trustOptions func() (*attest.Options, error)

// trust builds the trust the flags give, nil in a build without it.
func trust() (*attest.Options, error) {
	if trustOptions == nil {
		return nil, nil
	}
	t, err := trustOptions()
	if err != nil {
		return nil, usageError{err}
	}
	return t, nil
}

var verifyExtensions []verifyExtension

var verifyFlags struct {
	platform string
	output   string
	limits   limitFlags
}

var verifyCmd = &cobra.Command{
	Use:   "verify [flags] SOURCE",
	Short: "Recompute every identity of an image and check every link",
	Long: `verify recomputes, from the bytes of SOURCE, every layer digest and size,
every diff_id (by decompressing gzip, zstd or uncompressed layers), the chain
IDs, the image ID (config digest), and the manifest and index digests, and
checks each link between them.

SOURCE is named as skopeo names it:
  oci:DIR[:REF]              an OCI image layout directory (REF picks the
                             images named REF)
  oci-archive:FILE[:REF]     an OCI archive, plain or gzipped
  docker-archive:FILE[:REF]  a docker save tarball, plain or gzipped
  docker://REF, registry:REF an image in a registry
or bare: a path when it exists or looks like one (it starts with /, . or ~,
has a / before any : or @, or ends in .tar, .tgz or .tar.gz), its format
detected from its content; else a registry reference when it can only be one
(a tag, digest or port before any /, as in alpine:3 or localhost:5000/app).
A missing path is a usage error and never reaches the network. The report
names the transport used.

Signatures and attestations found with the image (cosign tags, OCI
referrers) or given with --attestation are checked against --key, keyless
identities (--certificate-identity, --certificate-oidc-issuer,
--trusted-root, which may be repeated) or, for GitHub artifact
attestations, gh attestation verify's options: --owner ORG or --repo
ORG/NAME, with --signer-repo or --signer-workflow for a reusable workflow,
--cert-oidc-issuer, --predicate-type (SLSA provenance v1 by default) and
--deny-self-hosted-runners.

Exit codes: 0 VERIFIED, 1 FAILED, 2 UNVERIFIABLE, 64 usage error.`,
	Args: exactArgs(1),
	RunE: runVerify,
}

func init() {
	f := verifyCmd.Flags()
	f.StringVar(&verifyFlags.platform, "platform", "", "select the image for `os/arch[/variant]` from an index")
	f.StringVarP(&verifyFlags.output, "output", "o", "text", "output format: text or json")
	addLimitFlag(f, &verifyFlags.limits)
	rootCmd.AddCommand(verifyCmd)
}

// addExtensionFlags adds the extensions' flags; main calls it once every
// file's init has registered its extensions.
func addExtensionFlags() {
	for _, e := range verifyExtensions {
		if e.flags != nil {
			e.flags(verifyCmd.Flags())
		}
	}
}

func runVerify(cmd *cobra.Command, args []string) error {
	if verifyFlags.output != "text" && verifyFlags.output != "json" {
		return usageError{fmt.Errorf("--output must be text or json, not %q", verifyFlags.output)}
	}
	opts, err := commonOptions(verifyFlags.platform)
	if err != nil {
		return err
	}
	if opts.Limits, err = verifyFlags.limits.apply(); err != nil {
		return err
	}
	s, err := parseSource(args[0])
	if err != nil {
		return err
	}
	t, err := trust()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	done := startProgress(opts)
	rep, err := attest.Run(ctx, func(o *verify.Options) (*verify.Result, error) { return openSpec(ctx, s, o) }, opts, t)
	done()
	if err != nil {
		return err
	}
	if verifyFlags.output == "json" {
		if err := writeJSON(cmd.OutOrStdout(), rep); err != nil {
			return err
		}
	} else {
		writeText(cmd.OutOrStdout(), rep)
	}
	return exitError{rep.Verdict.ExitCode()}
}

// commonOptions builds verify options from shared flags.
func commonOptions(platform string) (*verify.Options, error) {
	opts := &verify.Options{}
	if platform != "" {
		p, ok := verify.ParsePlatform(platform)
		if !ok {
			return nil, usageError{fmt.Errorf("--platform must be os/arch[/variant], not %q", platform)}
		}
		opts.Platform = &p
	}
	return opts, nil
}

// writeJSON writes the report as indented JSON: the same bytes the browser
// module produces.
func writeJSON(w io.Writer, r *attest.Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func writeText(w io.Writer, r *attest.Report) {
	fmt.Fprintf(w, "%s  %s (%s)\n", r.Verdict, r.Source.Path, formatName(r.Report))
	fmt.Fprintf(w, "transport %s\n", transportName(r.Report))
	if r.Source.Reference != "" {
		fmt.Fprintf(w, "reference %s\n", r.Source.Reference)
	}
	if r.IndexDigest != nil {
		fmt.Fprintf(w, "index     %s\n", *r.IndexDigest)
	}
	for _, img := range r.Images {
		fmt.Fprintf(w, "\n%s %s\n", img.Kind, img.Path)
		if img.ManifestDigest != nil {
			fmt.Fprintf(w, "  manifest  %s\n", *img.ManifestDigest)
		} else {
			fmt.Fprintf(w, "  manifest  (not recoverable from this format)\n")
		}
		fmt.Fprintf(w, "  image ID  %s\n", img.ImageID)
		if img.Platform != nil {
			fmt.Fprintf(w, "  platform  %s\n", img.Platform)
		}
		for i, l := range img.Layers {
			fmt.Fprintf(w, "  layer %d   %s  %s  %d bytes\n", i, l.Digest, l.Compression, l.Size)
			if l.DiffID != "" {
				fmt.Fprintf(w, "   diff_id  %s\n", l.DiffID)
			}
		}
	}
	fmt.Fprintf(w, "\n%d checks passed\n", r.Checks)
	for _, a := range r.Attestations {
		fmt.Fprintf(w, "attestation %s from %s: %s\n", a.Kind, a.Origin, a.Status)
		if b := a.Build; b != nil {
			fmt.Fprintf(w, "  built from %s at %s (%s) by %s\n", b.Repository, b.Commit, b.Ref, b.Workflow)
		}
		writeSignatureInfo(w, a)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(w, "%-12s %s\n", f.Severity, f.Error())
	}
}

// transportName names the transport a report's source was read with: a
// bare path has none in the report.
func transportName(r *verify.Report) string {
	if r.Source.Transport == "" {
		return transportPath
	}
	return r.Source.Transport
}

// formatName names a report's source format, says that the input is none
// of the formats, or that reading stopped before the format was known (a
// truncated or unreadable archive).
func formatName(r *verify.Report) string {
	switch r.Source.Format {
	case verify.FormatUnknown:
		return "unknown format"
	case "":
		return "format not determined"
	}
	return string(r.Source.Format)
}

// startProgress shows a byte counter on stderr when it is a terminal.
// It returns a function that clears it.
func startProgress(opts *verify.Options) func() {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return func() {}
	}
	bar := progressbar.DefaultBytes(-1, "hashing")
	var mu sync.Mutex
	last := map[string]int64{}
	opts.Progress = func(p verify.Progress) {
		mu.Lock()
		delta := p.Done - last[p.Name]
		last[p.Name] = p.Done
		mu.Unlock()
		_ = bar.Add64(delta)
	}
	return func() { _ = bar.Finish(); _ = bar.Clear() }
}
