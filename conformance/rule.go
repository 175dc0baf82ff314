package conformance

import (
	"sort"
	"strings"

	"github.com/imgproof/imgproof/verify"
)

// Level is the requirement level of a rule, as RFC 2119 defines it.
type Level string

// The levels.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
	May    Level = "MAY"
)

// rank orders levels from strictest to loosest.
func (l Level) rank() int {
	switch l {
	case Must:
		return 0
	case Should:
		return 1
	default:
		return 2
	}
}

// Includes reports whether a run at level l evaluates rules of level other:
// a "should" run covers MUST and SHOULD rules, a "must" run only MUST rules.
func (l Level) Includes(other Level) bool { return other.rank() <= l.rank() }

// ParseLevel reads "must", "should" or "may" in any case.
func ParseLevel(s string) (Level, bool) {
	switch strings.ToUpper(s) {
	case "MUST":
		return Must, true
	case "SHOULD":
		return Should, true
	case "MAY":
		return May, true
	}
	return "", false
}

// Rule is one requirement of a specification, with the check that enforces it.
type Rule struct {
	// ID is stable: it never changes meaning once published.
	ID    string `json:"id"`
	Level Level  `json:"level"`
	// Spec names the document and section, for example
	// "image-spec v1.1.1 descriptor.md §Properties".
	Spec string `json:"spec"`
	// URL points at the section.
	URL string `json:"url"`
	// Quote is the clause the rule enforces, verbatim.
	Quote string `json:"quote"`
	// Check says how the rule is checked.
	Check string `json:"check"`
	// Codes lists the verify finding codes that count as a failure of the rule.
	Codes []verify.Code `json:"codes,omitempty"`
	// Derived is true for rules that follow from the spec's definitions
	// rather than from one RFC 2119 keyword (for example path safety).
	Derived bool `json:"derived,omitempty"`
}

var byID = func() map[string]*Rule {
	m := make(map[string]*Rule, len(catalog))
	for i := range catalog {
		r := &catalog[i]
		if _, dup := m[r.ID]; dup {
			panic("conformance: duplicate rule " + r.ID)
		}
		m[r.ID] = r
	}
	return m
}()

// Rules returns every rule, sorted by ID.
func Rules() []Rule {
	out := append([]Rule(nil), catalog...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup returns the rule with the given ID.
func Lookup(id string) (Rule, bool) {
	r, ok := byID[id]
	if !ok {
		return Rule{}, false
	}
	return *r, true
}
