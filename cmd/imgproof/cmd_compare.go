package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/imgproof/imgproof/compare"
	"github.com/imgproof/imgproof/verify"
)

func init() {
	var (
		output   string
		platform string
	)
	cmd := &cobra.Command{
		Use:   "compare [flags] A B",
		Short: "Tell whether two images are the same image, and why their digests differ",
		Long: `compare verifies two sources, each named as for verify (oci:DIR,
oci-archive:FILE, docker-archive:FILE, docker://REF or a path), and
compares them at every level: index digest, manifest digest, image ID
(config digest), diff_ids, and layer blobs with their compression. It explains why digests differ when the image is the
same: layers recompressed, manifest media type converted, a platform picked
out of an index. An identity that cannot be compared (a classic docker
save keeps no manifest digest; nothing is compared between unverified
sources) is "unknown", not "different".

Exit status: 0 when the image IDs and the content (diff_ids) are the same,
1 when they differ, 2 when a side does not verify, 64 on usage errors.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("--output must be text or json, not %q", output)}
			}
			opts, err := commonOptions(platform)
			if err != nil {
				return err
			}
			copts := compare.Options{Platform: opts.Platform}
			ctx := cmd.Context()
			// Both arguments are checked before either is read, so a
			// mistyped second path costs no verification of the first.
			sa, err := parseSource(args[0])
			if err != nil {
				return err
			}
			sb, err := parseSource(args[1])
			if err != nil {
				return err
			}
			ra, err := openSpec(ctx, sa, opts)
			if err != nil {
				return err
			}
			rb, err := openSpec(ctx, sb, opts)
			if err != nil {
				return err
			}
			res := compare.Reports(ra.Report, rb.Report, &copts)
			if err := writeComparison(cmd.OutOrStdout(), res, ra.Report, rb.Report, output); err != nil {
				return err
			}
			return compareExit(res)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&platform, "platform", "", "compare only the image of this platform (os/arch[/variant])")
	rootCmd.AddCommand(cmd)
}

// compareExit maps a comparison to the exit status: 0 same image, 1
// different, 2 a side did not verify.
func compareExit(res *compare.Result) error {
	switch {
	case !res.Verified:
		return exitError{2}
	case res.SameImage:
		return nil
	default:
		return exitError{1}
	}
}

func writeComparison(w io.Writer, res *compare.Result, a, b *verify.Report, output string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*compare.Result
			ReportA *verify.Report `json:"reportA"`
			ReportB *verify.Report `json:"reportB"`
		}{res, a, b})
	}
	yn := func(v bool, identity string) string {
		switch {
		case v:
			return "same"
		case res.IsUnknown(identity):
			return "unknown"
		}
		return "different"
	}
	fmt.Fprintf(w, "A: %s (%s, transport %s) %s\n", res.A.Source, formatName(a), transportName(a), res.A.Verdict)
	fmt.Fprintf(w, "B: %s (%s, transport %s) %s\n", res.B.Source, formatName(b), transportName(b), res.B.Verdict)
	fmt.Fprintf(w, "image ID:        %s\n", yn(res.SameImageID, compare.IdentityImageID))
	fmt.Fprintf(w, "content:         %s\n", yn(res.SameContent, compare.IdentityContent))
	fmt.Fprintf(w, "manifest digest: %s\n", yn(res.SameManifestDigest, compare.IdentityManifestDigest))
	fmt.Fprintf(w, "layer blobs:     %s\n", yn(res.SameLayerBlobs, compare.IdentityLayerBlobs))
	for _, r := range res.Reasons {
		fmt.Fprintf(w, "  - %s\n", r)
	}
	for _, s := range []struct {
		name string
		rep  *verify.Report
	}{{"A", a}, {"B", b}} {
		if s.rep.Verdict == verify.Verified {
			continue
		}
		for _, f := range s.rep.Findings {
			if f.Severity == verify.SeverityError || f.Severity == verify.SeverityUnverifiable {
				fmt.Fprintf(w, "%s: %s\n", s.name, f.Error())
			}
		}
	}
	return nil
}
