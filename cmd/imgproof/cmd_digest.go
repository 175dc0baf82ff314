package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgproof/imgproof/verify"
)

var digestCmd = &cobra.Command{
	Use:   "digest SOURCE",
	Short: "Print the top digest: the index digest, or else the manifest digest",
	Long: `digest prints the recomputed top digest of SOURCE, like crane digest: the
index digest if the image's root is an index, otherwise the manifest digest
(one per image when a layout holds several). It fails unless SOURCE verifies.`,
	Args: exactArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		res, err := openSource(cmd.Context(), args[0], nil)
		if err != nil {
			return err
		}
		r := res.Report
		if code := r.Verdict.ExitCode(); code != 0 {
			return fmt.Errorf("%s is %s: %w", args[0], r.Verdict, r.Err())
		}
		if r.IndexDigest != nil {
			fmt.Fprintln(cmd.OutOrStdout(), *r.IndexDigest)
			return nil
		}
		printed := 0
		for _, img := range r.Images {
			if img.ManifestDigest != nil && img.Kind == "image" {
				fmt.Fprintln(cmd.OutOrStdout(), *img.ManifestDigest)
				printed++
			}
		}
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
docker inspect -f {{.Id}}. The image ID is the digest of the config, so it
stays the same when an image moves between registries or formats. It fails
unless SOURCE verifies.`,
	Args: exactArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		res, err := openSource(cmd.Context(), args[0], nil)
		if err != nil {
			return err
		}
		r := res.Report
		if code := r.Verdict.ExitCode(); code != 0 {
			return fmt.Errorf("%s is %s: %w", args[0], r.Verdict, r.Err())
		}
		for _, img := range r.Images {
			if img.Kind == "image" {
				fmt.Fprintln(cmd.OutOrStdout(), img.ImageID)
			}
		}
		return nil
	},
}

func init() {
	rootCmd.AddCommand(digestCmd, idCmd)
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
