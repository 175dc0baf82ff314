package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionText describes this binary from its build information: the
// module version (a tag for go install …@version, "(devel)" for a build in
// a clone), the VCS revision when the build recorded one, and the Go
// version.
func versionText() string {
	s := "imgproof (unknown version)"
	info, ok := debug.ReadBuildInfo()
	if ok {
		v := info.Main.Version
		if v == "" {
			v = "(devel)"
		}
		s = "imgproof " + v
		var rev, modified string
		for _, kv := range info.Settings {
			switch kv.Key {
			case "vcs.revision":
				rev = kv.Value
			case "vcs.modified":
				modified = kv.Value
			}
		}
		if rev != "" {
			s += " revision " + rev
			if modified == "true" {
				s += " (modified)"
			}
		}
	}
	return fmt.Sprintf("%s %s %s/%s", s, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func init() {
	rootCmd.Version = "set"
	rootCmd.SetVersionTemplate("{{printVersion}}\n")
	cobra.AddTemplateFunc("printVersion", versionText)
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version, the VCS revision and the Go version of this binary",
		Args:  exactArgs(0),
		Run: func(cmd *cobra.Command, _ []string) {
			printVersion(cmd.OutOrStdout())
		},
	})
}

func printVersion(w io.Writer) { fmt.Fprintln(w, versionText()) }
