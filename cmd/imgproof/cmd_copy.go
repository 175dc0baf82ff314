//go:build !js

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgproof/imgproof/imagecopy"
	"github.com/imgproof/imgproof/verify"
)

func init() {
	var (
		output   string
		format   string
		platform string
		gz       bool
		tags     []string
	)
	cmd := &cobra.Command{
		Use:   "copy [flags] SOURCE DEST",
		Short: "Copy an image into a local format without changing its image ID",
		Long: `copy copies an image into an OCI layout directory, an OCI archive or a
docker-save tarball, from any of those or from a registry. It verifies the source before writing, re-hashes every
blob while copying, then verifies the destination and compares it with the
source. The config bytes are copied exactly, so the image ID never changes.

Between an OCI layout and an OCI archive every manifest is copied byte for
byte and every digest stays the same. A docker-save destination stores the
layers uncompressed, with both the classic manifest.json and the Docker 25+
index.json views, so its manifest digest differs while its image ID and
diff_ids do not; "imgproof compare SOURCE DEST" shows it.

SOURCE is named as for verify: oci:DIR, oci-archive:FILE, docker-archive:FILE,
docker://REF (a registry), or a path. With --platform only that platform's
image is copied: its manifest, config and layers byte for byte, listed alone
in the destination's index.json, as skopeo and crane copy one platform.

DEST may carry a prefix that names the format: oci:DIR, oci-archive:FILE or
docker-archive:FILE. Without one, --format decides; without that, a name
ending in .tar, .tar.gz or .tgz is an OCI archive and anything else an OCI
layout directory. DEST must not exist.

Exit status: 0 copied and verified, 1 the source or the copy failed
verification, 2 the source could not be verified, 64 usage errors (among
them an existing DEST, and --tag for a source of several images).`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("--output must be text or json, not %q", output)}
			}
			dst, f, err := copyDest(args[1], format)
			if err != nil {
				return usageError{err}
			}
			if _, err := os.Lstat(dst); err == nil {
				return usageError{fmt.Errorf("%s: %w: copy never overwrites", dst, imagecopy.ErrDestExists)}
			}
			vopts, err := commonOptions(platform)
			if err != nil {
				return err
			}
			src, err := parseSource(args[0])
			if err != nil {
				return err
			}
			if src.local() && src.Ref != "" {
				return usageError{fmt.Errorf("%s: copy takes the whole source; select an image with --platform, not a name after the path", src.Arg)}
			}
			opts := &imagecopy.Options{Format: f, Tags: tags, Verify: vopts,
				Gzip: gz || strings.HasSuffix(dst, ".gz") || strings.HasSuffix(dst, ".tgz")}
			name := src.Path
			if !src.local() {
				if registryFS == nil {
					return usageError{fmt.Errorf("%s: this build cannot read registries", src.Arg)}
				}
				if opts.SourceFS, err = registryFS(cmd.Context(), src.Ref, vopts); err != nil {
					return err
				}
				name = src.Ref
			}
			res, err := imagecopy.Copy(cmd.Context(), name, dst, opts)
			if res != nil && src.Transport != transportPath {
				res.Source.Source.Transport = src.Transport
				if !src.local() {
					res.Source.Source.Format = verify.FormatRegistry
				}
			}
			switch {
			case errors.Is(err, imagecopy.ErrDestExists), errors.Is(err, imagecopy.ErrTagNeedsOneImage):
				return usageError{err}
			case res == nil:
				return err
			}
			if werr := writeCopy(cmd.OutOrStdout(), res, dst, f, err, output); werr != nil {
				return werr
			}
			switch {
			case err == nil:
				return nil
			case errors.Is(err, imagecopy.ErrSourceNotVerified):
				return exitError{res.Source.Verdict.ExitCode()}
			default:
				if output == "text" {
					fmt.Fprintln(cmd.ErrOrStderr(), "imgproof:", err)
				}
				return exitError{1}
			}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&format, "format", "", "destination format: oci-layout, oci-archive or docker-archive")
	cmd.Flags().StringVar(&platform, "platform", "", "copy only the image of this platform (os/arch[/variant]); the destination holds that image alone")
	cmd.Flags().BoolVar(&gz, "gzip", false, "gzip an archive destination (implied by a .gz or .tgz name)")
	cmd.Flags().StringArrayVar(&tags, "tag", nil, "repo:tag names for a docker-save destination (repeatable)")
	rootCmd.AddCommand(cmd)
}

// copyDest splits an optional format prefix off DEST.
func copyDest(dest, flag string) (string, imagecopy.Format, error) {
	for _, p := range []struct {
		prefix string
		f      imagecopy.Format
	}{{"oci:", imagecopy.Layout}, {"oci-archive:", imagecopy.OCIArchive}, {"docker-archive:", imagecopy.DockerArchive}} {
		if rest, ok := strings.CutPrefix(dest, p.prefix); ok {
			if flag != "" && imagecopy.Format(flag) != p.f {
				return "", "", fmt.Errorf("--format %s contradicts the prefix %q", flag, p.prefix)
			}
			return rest, p.f, nil
		}
	}
	switch imagecopy.Format(flag) {
	case imagecopy.Layout, imagecopy.OCIArchive, imagecopy.DockerArchive:
		return dest, imagecopy.Format(flag), nil
	case "":
	default:
		return "", "", fmt.Errorf("--format must be oci-layout, oci-archive or docker-archive, not %q", flag)
	}
	for _, ext := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(dest, ext) {
			return dest, imagecopy.OCIArchive, nil
		}
	}
	return dest, imagecopy.Layout, nil
}

func writeCopy(w io.Writer, res *imagecopy.Result, dst string, f imagecopy.Format, cerr error, output string) error {
	if output == "json" {
		out := struct {
			*imagecopy.Result
			Destination string           `json:"destination"`
			Format      imagecopy.Format `json:"format"`
			Error       string           `json:"error,omitempty"`
		}{Result: res, Destination: dst, Format: f}
		if cerr != nil {
			out.Error = cerr.Error()
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	src := res.Source.Source
	fmt.Fprintf(w, "source: %s (%s, transport %s) %s\n", src.Path, formatName(res.Source), transportName(res.Source), res.Source.Verdict)
	if res.Source.Verdict != verify.Verified {
		for _, x := range res.Source.Findings {
			if x.Severity == verify.SeverityError || x.Severity == verify.SeverityUnverifiable {
				fmt.Fprintf(w, "  %s\n", x.Error())
			}
		}
		return nil
	}
	if res.Dest == nil {
		return nil
	}
	images := runnableImages(res.Dest)
	held := plural(len(images), "image")
	if res.Picked {
		held += " of the picked platform; the source's other platforms were not copied"
	}
	fmt.Fprintf(w, "dest:   %s (%s) %s, holding %s\n", dst, f, res.Dest.Verdict, held)
	for _, im := range images {
		md := "(none)"
		if im.ManifestDigest != nil {
			md = *im.ManifestDigest
		}
		plat := "platform unknown"
		if im.Platform != nil {
			plat = im.Platform.String()
		}
		fmt.Fprintf(w, "  %s  image ID %s  manifest %s\n", plat, im.ImageID, md)
	}
	if res.Compare != nil {
		for _, r := range res.Compare.Reasons {
			fmt.Fprintf(w, "  - %s\n", r)
		}
	}
	return nil
}
