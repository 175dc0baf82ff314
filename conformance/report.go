package conformance

import "sort"

// Status is the outcome of one rule on one source.
type Status string

// The statuses.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Skip: nothing in the source was subject to the rule.
	Skip Status = "skip"
)

// Result is one rule's outcome, or one failure of it: a rule that fails at
// several places gives one Result per place.
type Result struct {
	Rule    string `json:"rule"`
	Level   Level  `json:"level"`
	Status  Status `json:"status"`
	Path    string `json:"path"`
	Message string `json:"message"`
	Spec    string `json:"spec"`
	URL     string `json:"url,omitempty"`
}

// Report holds every rule's result for one source.
type Report struct {
	Source  string   `json:"source"`
	Format  string   `json:"format,omitempty"`
	Results []Result `json:"results"`
	// Summary counts results by level and status.
	Summary Summary `json:"summary"`
}

// Summary counts rules, not failure places.
type Summary struct {
	Rules  int `json:"rules"`
	Passed int `json:"passed"`
	Failed int `json:"failed"`
	Skip   int `json:"skipped"`
	// MustFailed counts MUST rules that failed.
	MustFailed int `json:"mustFailed"`
}

// Failed reports whether any rule at or above level failed.
func (r *Report) Failed(level Level) bool {
	for _, res := range r.Results {
		if res.Status == Fail && level.Includes(res.Level) {
			return true
		}
	}
	return false
}

// FailedRules lists the IDs of failed rules, sorted, once each.
func (r *Report) FailedRules() []string {
	seen := map[string]bool{}
	var out []string
	for _, res := range r.Results {
		if res.Status == Fail && !seen[res.Rule] {
			seen[res.Rule] = true
			out = append(out, res.Rule)
		}
	}
	sort.Strings(out)
	return out
}

// Filter returns a copy that keeps only rules at or above level.
func (r *Report) Filter(level Level) *Report {
	out := &Report{Source: r.Source, Format: r.Format}
	for _, res := range r.Results {
		if level.Includes(res.Level) {
			out.Results = append(out.Results, res)
		}
	}
	out.summarize()
	return out
}

func (r *Report) summarize() {
	status := map[string]Status{}
	level := map[string]Level{}
	for _, res := range r.Results {
		level[res.Rule] = res.Level
		if res.Status == Fail || status[res.Rule] == "" {
			status[res.Rule] = res.Status
		}
	}
	r.Summary = Summary{Rules: len(status)}
	for id, st := range status {
		switch st {
		case Pass:
			r.Summary.Passed++
		case Fail:
			r.Summary.Failed++
			if level[id] == Must {
				r.Summary.MustFailed++
			}
		default:
			r.Summary.Skip++
		}
	}
}
