package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/imgproof/imgproof/internal/limits"
)

// limitFlags collects repeated --limit kind=value flags.
type limitFlags []string

func (l *limitFlags) String() string     { return strings.Join(*l, ",") }
func (l *limitFlags) Set(s string) error { *l = append(*l, s); return nil }
func (l *limitFlags) Type() string       { return "kind=value" }

func addLimitFlag(f *pflag.FlagSet, l *limitFlags) {
	var kinds []string
	for _, k := range limits.Kinds() {
		kinds = append(kinds, string(k))
	}
	f.Var(l, "limit", "override a limit, e.g. manifest-document-bytes=8MiB (repeatable); kinds: "+strings.Join(kinds, ", "))
}

// apply returns the default limits with the overrides applied.
func (l limitFlags) apply() (*limits.Limits, error) {
	lim := limits.Default()
	for _, s := range l {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, usageError{fmt.Errorf("--limit %q: want kind=value", s)}
		}
		n, err := parseSize(v)
		if err != nil {
			return nil, usageError{fmt.Errorf("--limit %q: %v", s, err)}
		}
		if err := lim.Set(limits.Kind(k), n); err != nil {
			return nil, usageError{err}
		}
	}
	return &lim, nil
}

// parseSize reads an integer with an optional KiB, MiB or GiB suffix.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive size", s)
	}
	return n * mult, nil
}
