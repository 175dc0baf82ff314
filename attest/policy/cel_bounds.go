package policy

// CEL bounds: the size of an expression and the cost of one evaluation.
const (
	MaxExprBytes = 4096
	MaxCELCost   = 1_000_000
)
