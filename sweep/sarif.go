//go:build !js

package sweep

import (
	"encoding/json"
	"io"
	"sort"

	"github.com/imgproof/imgproof/verify"
)

// WriteSARIF writes a merged sweep as SARIF 2.1.0: one result per finding
// of each image that did not verify (rule: the finding code; level error
// for FAILED, warning for UNVERIFIABLE; logical location: the reference),
// and one result per problem of the merge itself (rule
// IMGPROOF-SWEEP-INCOMPLETE).
func WriteSARIF(w io.Writer, sum *Summary, failures []Failure) error {
	type text struct {
		Text string `json:"text"`
	}
	type logical struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	}
	type location struct {
		Logical []logical `json:"logicalLocations"`
	}
	type result struct {
		RuleID    string     `json:"ruleId"`
		Level     string     `json:"level"`
		Message   text       `json:"message"`
		Locations []location `json:"locations,omitempty"`
	}
	type rule struct {
		ID               string `json:"id"`
		ShortDescription text   `json:"shortDescription"`
	}
	const incomplete = "IMGPROOF-SWEEP-INCOMPLETE"
	ruleSet := map[string]bool{}
	var results []result
	for _, f := range failures {
		loc := []location{{Logical: []logical{{Name: f.Reference, Kind: "resource"}}}}
		level := "warning"
		if f.Verdict == verify.Failed {
			level = "error"
		}
		for _, x := range f.Findings {
			ruleSet[string(x.Code)] = true
			results = append(results, result{RuleID: string(x.Code), Level: level,
				Message: text{f.Reference + ": " + x.Error()}, Locations: loc})
		}
		if len(f.Findings) == 0 {
			ruleSet[string(f.Verdict)] = true
			results = append(results, result{RuleID: string(f.Verdict), Level: level, Message: text{f.Reference + ": " + string(f.Verdict)}, Locations: loc})
		}
	}
	for _, p := range sum.Problems {
		ruleSet[incomplete] = true
		results = append(results, result{RuleID: incomplete, Level: "warning", Message: text{p}})
	}
	var rules []rule
	for id := range ruleSet {
		desc := "an image finding with this code"
		if id == incomplete {
			desc = "the merged sweep is incomplete: a shard is missing, repeated or unfinished, or an image is in two outputs"
		}
		rules = append(rules, rule{ID: id, ShortDescription: text{desc}})
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	if results == nil {
		results = []result{}
	}
	if rules == nil {
		rules = []rule{}
	}
	log := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool": map[string]any{"driver": map[string]any{
				"name": "imgproof sweep", "informationUri": "https://github.com/imgproof/imgproof", "rules": rules}},
			"results":    results,
			"properties": map[string]any{"summary": sum},
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}
