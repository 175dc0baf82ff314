package conformance

//go:generate go run ./internal/rulegen/cmd/rulegen

// ruleID names a rule of the catalog. Its constants are generated from
// catalog.go (ruleids_gen.go), in catalog order, so code can name only a
// rule the catalog holds: an unknown ID is a compile error, not a panic.
type ruleID uint16

// String returns the rule's published ID, such as ociIDX016.
func (id ruleID) String() string { return ruleNames[id] }

// rule returns the catalog entry of id.
func (id ruleID) rule() *Rule { return &catalog[id-1] }
