package policy

// CEL bounds: the size of an expression and the cost of one evaluation.
// They stay here rather than in internal/limits: an expression is the
// verifier's own trusted policy, not input, and the cost is fixed into the
// program when the policy is compiled, before any limits apply. What the
// program reads, a statement, is bounded by limits.AttestationDocument.
const (
	MaxExprBytes = 4096
	MaxCELCost   = 1_000_000
)
