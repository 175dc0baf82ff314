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
	limits   limitFlags
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

SOURCE is named as for verify: oci:DIR, oci-archive:FILE, docker-archive:FILE,
docker://REF (the registry's manifests seen as a layout), or a path.

By default every MUST and SHOULD rule is reported, and only a MUST failure
sets the exit code: a SHOULD failure is a finding, not a verdict.
--level should reports the same rules and makes SHOULD failures fail too;
--level must reports MUST rules only.

Exit codes: 0 when no gating rule fails (MUST rules; MUST and SHOULD rules
with --level should), 1 when one does, 2 when SOURCE cannot be read,
64 usage error.`,
	Args: exactArgs(1),
	RunE: runConformance,
}

func init() {
	f := conformanceCmd.Flags()
	f.StringVar(&conformanceFlags.level, "level", "", "rules that fail the run: must (the default: SHOULD failures are reported only) or should (SHOULD failures fail too; --level must also hides SHOULD rules)")
	f.StringVarP(&conformanceFlags.output, "output", "o", "text", "output format: text, json, junit or sarif")
	f.StringVar(&conformanceFlags.platform, "platform", "", "select the image for `os/arch[/variant]` from an index")
	addLimitFlag(f, &conformanceFlags.limits)
	rootCmd.AddCommand(conformanceCmd)
}

func runConformance(cmd *cobra.Command, args []string) error {
	// report is the level of the rules shown, gate that of the rules
	// whose failure sets the exit code.
	report, gate := conformance.Should, conformance.Must
	if conformanceFlags.level != "" {
		level, ok := conformance.ParseLevel(conformanceFlags.level)
		if !ok || level == conformance.May {
			return usageError{fmt.Errorf("--level must be must or should, not %q", conformanceFlags.level)}
		}
		report, gate = level, level
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
	if vopts.Limits, err = conformanceFlags.limits.apply(); err != nil {
		return err
	}
	opts := &conformance.Options{Verify: *vopts}
	src, err := parseSource(args[0])
	if err != nil {
		return err
	}
	if src.Ref != "" && src.local() {
		return usageError{fmt.Errorf("%s: conformance checks the whole source; select an image with --platform, not a name after the path", src.Arg)}
	}
	var rep *conformance.Report
	switch st, err := os.Stat(src.Path); {
	case !src.local():
		if registryFS == nil {
			return usageError{fmt.Errorf("%s: this build cannot read registries", src.Arg)}
		}
		fsys, err := registryFS(cmd.Context(), src.Ref, vopts)
		if err != nil {
			return err
		}
		rep = conformance.CheckFS(cmd.Context(), fsys, src.Ref, opts)
	case err != nil:
		return err
	case st.IsDir():
		rep = conformance.CheckFS(cmd.Context(), os.DirFS(src.Path), src.Path, opts)
	default:
		f, err := os.Open(src.Path)
		if err != nil {
			return err
		}
		defer f.Close()
		rep = conformance.CheckArchive(cmd.Context(), f, st.Size(), src.Path, opts)
	}
	rep = rep.Filter(report)
	if err := write(rep); err != nil {
		return err
	}
	if rep.Failed(gate) {
		return exitError{1}
	}
	return nil
}
