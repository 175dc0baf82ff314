package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgproof/imgproof/verify"
)

var digestCmd = &cobra.Command{
	Use:   "digest SOURCE",
	Short: "Print the top digest: the index digest, or else the manifest digest",
	Long: `digest prints the recomputed top digest of SOURCE, like crane digest: the
index digest if the image's root is an index, otherwise the manifest digest
(one per image, each followed by its platform, when a layout holds several
and no index). SOURCE is named as for verify. Unless SOURCE verifies it
prints nothing on stdout and exits as verify does: 1 FAILED,
2 UNVERIFIABLE, 64 usage error.`,
	Args: exactArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		r, err := verifiedReport(cmd, args[0])
		if err != nil {
			return err
		}
		if r.IndexDigest != nil {
			fmt.Fprintln(cmd.OutOrStdout(), *r.IndexDigest)
			return nil
		}
		var withDigest []*verify.Image
		for _, img := range runnableImages(r) {
			if img.ManifestDigest != nil {
				withDigest = append(withDigest, img)
			}
		}
		for _, img := range withDigest {
			printWithPlatform(cmd.OutOrStdout(), *img.ManifestDigest, img, len(withDigest))
		}
		printed := len(withDigest)
		if printed == 0 {
			return fmt.Errorf("%s has no manifest digest to print: a classic docker save archive keeps no registry manifest (its image ID is %s)", args[0], imageIDs(r))
		}
		return nil
	},
}

var idCmd = &cobra.Command{
	Use:   "id SOURCE",
	Short: "Print the image ID(s): the digest of each config",
	Long: `id prints the recomputed image ID of each image in SOURCE, one per line, like
docker inspect -f {{.Id}}; when there are several, each ID is followed by
its platform. The image ID is the digest of the config, so it stays the
same when an image moves between registries or formats. SOURCE is named as
for verify. Unless SOURCE verifies it prints nothing on stdout and exits as
verify does: 1 FAILED, 2 UNVERIFIABLE, 64 usage error.`,
	Args: exactArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		r, err := verifiedReport(cmd, args[0])
		if err != nil {
			return err
		}
		images := runnableImages(r)
		for _, img := range images {
			printWithPlatform(cmd.OutOrStdout(), img.ImageID, img, len(images))
		}
		return nil
	},
}

func init() {
	rootCmd.AddCommand(digestCmd, idCmd)
}

// verifiedReport verifies the source arg names and returns its report,
// or, unless it verifies, what mustVerify returns.
func verifiedReport(cmd *cobra.Command, arg string) (*verify.Report, error) {
	res, err := openSource(cmd.Context(), arg, nil)
	if err != nil {
		return nil, err
	}
	if err := mustVerify(cmd, arg, res.Report); err != nil {
		return nil, err
	}
	return res.Report, nil
}

// mustVerify returns nil for a VERIFIED report; otherwise it says on
// stderr what verify would have said and returns verify's exit code.
func mustVerify(cmd *cobra.Command, arg string, r *verify.Report) error {
	if r.Verdict == verify.Verified {
		return nil
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s  %s (%s)\n", r.Verdict, arg, formatName(r))
	for _, f := range r.Findings {
		if f.Severity == verify.SeverityError || f.Severity == verify.SeverityUnverifiable {
			fmt.Fprintf(cmd.ErrOrStderr(), "%-12s %s\n", f.Severity, f.Error())
		}
	}
	return exitError{r.Verdict.ExitCode()}
}

// printWithPlatform prints one value per line, followed by the image's
// platform when there are several images to tell apart.
func printWithPlatform(w io.Writer, value string, img *verify.Image, n int) {
	if n <= 1 {
		fmt.Fprintln(w, value)
		return
	}
	plat := "unknown"
	if img.Platform != nil {
		plat = img.Platform.String()
	}
	fmt.Fprintf(w, "%s  %s\n", value, plat)
}

// imageIDs lists the image IDs of a report's images, for messages.
func imageIDs(r *verify.Report) string {
	var ids []string
	for _, img := range r.Images {
		if img.Kind == "image" {
			ids = append(ids, img.ImageID)
		}
	}
	return strings.Join(ids, ", ")
}

// runnableImages returns a report's images that are runnable images, not
// attestations or artifacts.
func runnableImages(r *verify.Report) []*verify.Image {
	var out []*verify.Image
	for i := range r.Images {
		if k := r.Images[i].Kind; k == "" || k == "image" {
			out = append(out, &r.Images[i])
		}
	}
	return out
}

// plural says "1 image" or "2 images".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
