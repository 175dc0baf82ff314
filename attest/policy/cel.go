//go:build !nocel

package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
)

// Rule is a compiled CEL expression over one statement.
type Rule struct {
	Name string
	Expr string
	prg  cel.Program
}

var celEnv = sync1(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("statement", cel.DynType),
		cel.Variable("predicate", cel.DynType),
		cel.Variable("predicateType", cel.StringType),
		cel.Variable("subject", cel.ListType(cel.DynType)),
		cel.ParserExpressionSizeLimit(MaxExprBytes),
		cel.ParserRecursionLimit(100),
	)
})

// CompileRule checks that expr is a CEL expression that yields a bool.
func CompileRule(name, expr string) (*Rule, error) {
	env, err := celEnv()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	if len(expr) > MaxExprBytes {
		return nil, fmt.Errorf("rule %q: expression longer than %d bytes", name, MaxExprBytes)
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("rule %q: %w", name, iss.Err())
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("rule %q: expression yields %s, not bool", name, ast.OutputType())
	}
	prg, err := env.Program(ast, cel.CostLimit(MaxCELCost), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, fmt.Errorf("rule %q: %w", name, err)
	}
	return &Rule{Name: name, Expr: expr, prg: prg}, nil
}

// Eval runs the rule on a statement given as its verified JSON bytes. A
// rule that does not yield true, or fails, does not pass.
func (r *Rule) Eval(ctx context.Context, statement []byte) (bool, error) {
	v, err := Decode(statement)
	if err != nil {
		return false, fmt.Errorf("rule %q: %w", r.Name, err)
	}
	m, _ := v.(map[string]any)
	pt, _ := m["predicateType"].(string)
	subj, _ := m["subject"].([]any)
	if subj == nil {
		subj = []any{}
	}
	out, _, err := r.prg.ContextEval(ctx, map[string]any{
		"statement": m, "predicate": orNull(m["predicate"]), "predicateType": pt, "subject": subj,
	})
	if err != nil {
		return false, fmt.Errorf("rule %q: %w", r.Name, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("rule %q: yielded %v, not bool", r.Name, out.Type())
	}
	return bool(b), nil
}

func orNull(v any) any {
	if v == nil {
		return types.NullValue
	}
	return v
}

// Decode turns JSON into CEL-friendly values without going through float64
// for integers: integral numbers within ±2^53 become int64, others float64.
// The same bytes give the same values natively and in WebAssembly.
func Decode(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return convert(v), nil
}

func convert(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = convert(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = convert(e)
		}
		return x
	case json.Number:
		s := x.String()
		if !strings.ContainsAny(s, ".eE") {
			if n, err := x.Int64(); err == nil && n <= 1<<53 && n >= -(1<<53) {
				return n
			}
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return s
		}
		return f
	case nil:
		return types.NullValue
	}
	return v
}
