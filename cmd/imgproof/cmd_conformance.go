package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/imgproof/imgproof/conformance"
)

var conformanceFlags struct {
	level    string
	output   string
	platform string
}

var conformanceCmd = &cobra.Command{
	Use:   "conformance [flags] SOURCE",
	Short: "Check an image against every rule of the OCI image spec and docker save format",
	Long: `conformance checks SOURCE against a catalog of rules, one for each MUST
and SHOULD of the OCI image spec (descriptor, manifest, index, config, image
layout, annotations, layer changesets) and of the docker save format
(manifest.json, repositories, legacy layer directories), and reports every
rule's result with the spec clause it enforces. Layer contents are checked
as they stream past; nothing is extracted.

SOURCE is an OCI image layout directory, or an OCI archive or docker save
tarball (plain or gzipped).

--level must reports MUST rules only; --level should (the default) reports
MUST and SHOULD rules.

Exit codes: 0 when no rule at the chosen level fails, 1 when one does,
64 usage error, 2 when SOURCE cannot be opened.`,
	Args: exactArgs(1),
	RunE: runConformance,
}

func init() {
	f := conformanceCmd.Flags()
	f.StringVar(&conformanceFlags.level, "level", "should", "rules to enforce: must or should")
	f.StringVarP(&conformanceFlags.output, "output", "o", "text", "output format: text, json, junit or sarif")
	f.StringVar(&conformanceFlags.platform, "platform", "", "select the image for `os/arch[/variant]` from an index")
	rootCmd.AddCommand(conformanceCmd)
}

func runConformance(cmd *cobra.Command, args []string) error {
	level, ok := conformance.ParseLevel(conformanceFlags.level)
	if !ok || level == conformance.May {
		return usageError{fmt.Errorf("--level must be must or should, not %q", conformanceFlags.level)}
	}
	write := map[string]func(*conformance.Report) error{
		"text":  func(r *conformance.Report) error { return conformance.WriteText(cmd.OutOrStdout(), r) },
		"json":  func(r *conformance.Report) error { return conformance.WriteJSON(cmd.OutOrStdout(), r) },
		"junit": func(r *conformance.Report) error { return conformance.WriteJUnit(cmd.OutOrStdout(), r) },
		"sarif": func(r *conformance.Report) error { return conformance.WriteSARIF(cmd.OutOrStdout(), r) },
	}[conformanceFlags.output]
	if write == nil {
		return usageError{fmt.Errorf("--output must be text, json, junit or sarif, not %q", conformanceFlags.output)}
	}
	vopts, err := commonOptions(conformanceFlags.platform)
	if err != nil {
		return err
	}
	opts := &conformance.Options{Verify: *vopts}
	src := args[0]
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	var rep *conformance.Report
	if st.IsDir() {
		rep = conformance.CheckFS(cmd.Context(), os.DirFS(src), src, opts)
	} else {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		rep = conformance.CheckArchive(cmd.Context(), f, st.Size(), src, opts)
	}
	rep = rep.Filter(level)
	if err := write(rep); err != nil {
		return err
	}
	if rep.Failed(level) {
		return exitError{1}
	}
	return nil
}
