//go:build nocel

package policy

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoCEL is returned for a policy with CEL rules by a build without the
// CEL engine (the browser page's smaller module, built with -tags nocel).
var ErrNoCEL = errors.New("CEL rules are not built into this module; use the full module (the npm package or the CLI)")

// Rule is a CEL rule; this build cannot compile one.
type Rule struct {
	Name string
	Expr string
}

// CompileRule refuses every rule: CEL is not built in.
func CompileRule(name, _ string) (*Rule, error) {
	return nil, fmt.Errorf("rule %q: %w", name, ErrNoCEL)
}

// Eval is never reached: no Rule is ever compiled.
func (r *Rule) Eval(context.Context, []byte) (bool, error) {
	return false, fmt.Errorf("rule %q: %w", r.Name, ErrNoCEL)
}
