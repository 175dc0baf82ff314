// Command imgproof proves that a container image is what it claims to be:
// it recomputes every content-addressed identity from the image's bytes and
// checks each link between them.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes beyond the verdicts' 0, 1 and 2, from sysexits.h: a usage
// error, and a service this binary cannot provide (serve without its page).
const (
	exitUsage       = 64
	exitUnavailable = 69
)

// usageError marks an error in how the command was called.
type usageError struct{ error }

// exitError carries an exit code chosen by a command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

var rootCmd = &cobra.Command{
	Use:           "imgproof",
	Short:         "Prove a container image is what it claims to be",
	Long:          "imgproof recomputes every identity of a container image (layer digests, diff_ids, chain IDs, image ID, manifest and index digests) from its bytes, checks every link between them, and verifies the attestations and signatures bound to them.",
	SilenceUsage:  true,
	SilenceErrors: true,
}

// memoryLimit is the soft heap limit: verification streams, so its live
// heap is small, and a low limit keeps peak RSS flat (GOMEMLIMIT overrides).
const memoryLimit = 32 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	addExtensionFlags()
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	err := rootCmd.ExecuteContext(ctx)
	stopProfile()
	stop()
	os.Exit(exitCode(err))
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "imgproof:", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return exitUsage
	}
	return 2
}

// isCobraUsage recognises cobra's own command-line errors, which it
// returns as plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag")
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s), got %d", cmd.Name(), n, len(args))}
		}
		return nil
	}
}
