package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgproof/imgproof/verify"
)

var inspectPlatform string

var inspectCmd = &cobra.Command{
	Use:   "inspect SOURCE",
	Short: "Show the image graph as a tree, explained",
	Long: `inspect prints the image graph of SOURCE as a tree: index, then one manifest
per platform, then each manifest's config (whose digest is the image ID), then
its layers with their stored digest and their diff_id. Every value is
recomputed from the bytes. SOURCE is named as for verify.`,
	Args: exactArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		opts, err := commonOptions(inspectPlatform)
		if err != nil {
			return err
		}
		res, err := openSource(cmd.Context(), args[0], opts)
		if err != nil {
			return err
		}
		writeTree(cmd.OutOrStdout(), res.Report)
		return exitError{res.Report.Verdict.ExitCode()}
	},
}

func init() {
	inspectCmd.Flags().StringVar(&inspectPlatform, "platform", "", "show only the image for `os/arch[/variant]`")
	rootCmd.AddCommand(inspectCmd)
}

// writeTree prints the graph for a person learning how images work.
func writeTree(w io.Writer, r *verify.Report) {
	format := formatName(r)
	format += ", transport " + transportName(r)
	fmt.Fprintf(w, "%s (%s)  verdict: %s\n", r.Source.Path, format, r.Verdict)
	indent := ""
	if r.IndexDigest != nil {
		fmt.Fprintf(w, "└─ index %s\n", *r.IndexDigest)
		fmt.Fprintln(w, "   An index lists one manifest per platform. Each platform is a different")
		fmt.Fprintln(w, "   image with its own manifest digest and image ID; the index digest names them all.")
		indent = "   "
	}
	images := r.Images
	for i, img := range images {
		last := i == len(images)-1
		branch, cont := "├─ ", "│  "
		if last {
			branch, cont = "└─ ", "   "
		}
		plat := "no platform"
		if img.Platform != nil {
			plat = img.Platform.String()
		}
		md := "(not recoverable: docker save keeps no registry manifest)"
		if img.ManifestDigest != nil {
			md = *img.ManifestDigest
		}
		kind := "manifest"
		if img.Kind != "image" {
			kind = img.Kind + " manifest"
		}
		fmt.Fprintf(w, "%s%s%s %s  [%s]\n", indent, branch, kind, md, plat)
		p := indent + cont
		if len(img.RefNames) > 0 {
			fmt.Fprintf(w, "%s   names (unverified): %s\n", p, strings.Join(img.RefNames, ", "))
		}
		fmt.Fprintf(w, "%s└─ config = image ID %s\n", p, img.ImageID)
		for j, l := range img.Layers {
			lb := "├─ "
			if j == len(img.Layers)-1 {
				lb = "└─ "
			}
			fmt.Fprintf(w, "%s   %slayer %d  %s (%s, %d bytes)\n", p, lb, j, l.Digest, l.Compression, l.Size)
			if l.DiffID != "" {
				lc := "│  "
				if j == len(img.Layers)-1 {
					lc = "   "
				}
				fmt.Fprintf(w, "%s   %s  diff_id %s\n", p, lc, l.DiffID)
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The layer digest hashes the blob as stored (compressed); the diff_id hashes it")
	fmt.Fprintln(w, "uncompressed and is what the config lists, so recompressing a layer changes the")
	fmt.Fprintln(w, "manifest digest but not the image ID.")
	for _, f := range r.Findings {
		if f.Severity == verify.SeverityError || f.Severity == verify.SeverityUnverifiable {
			fmt.Fprintf(w, "%-12s %s\n", f.Severity, f.Error())
		}
	}
}
