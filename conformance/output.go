package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// WriteJSON writes the report as indented JSON:
// {"source", "format", "results": [{"rule","level","status","path","message","spec","url"}], "summary"}.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes failures first, then one line per passed or skipped
// rule, then a summary line.
func WriteText(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, st := range []Status{Fail, Pass, Skip} {
		for _, res := range r.Results {
			if res.Status != st {
				continue
			}
			if st == Fail {
				fmt.Fprintf(tw, "FAIL\t%s\t%s\t%s: %s\n", res.Rule, res.Level, res.Path, res.Message)
			} else {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", map[Status]string{Pass: "pass", Skip: "skip"}[st], res.Rule, res.Level, res.Message)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s: %d rules: %d passed, %d failed (%d MUST), %d skipped\n",
		r.Source, r.Summary.Rules, r.Summary.Passed, r.Summary.Failed, r.Summary.MustFailed, r.Summary.Skip)
	return err
}

// JUnit XML: one testsuite, one testcase per rule.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failures  []junitDetail `xml:"failure,omitempty"`
	Skipped   *junitDetail  `xml:"skipped,omitempty"`
}

type junitDetail struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes JUnit XML for CI test reports: one test case per rule,
// with a failure element for each place the rule fails.
func WriteJUnit(w io.Writer, r *Report) error {
	s := junitSuite{Name: "imgproof conformance: " + r.Source}
	idx := map[string]int{}
	for _, res := range r.Results {
		i, ok := idx[res.Rule]
		if !ok {
			i = len(s.Cases)
			idx[res.Rule] = i
			s.Cases = append(s.Cases, junitCase{Name: res.Rule + " (" + string(res.Level) + ")", Classname: "conformance." + string(res.Level)})
		}
		switch res.Status {
		case Fail:
			s.Cases[i].Failures = append(s.Cases[i].Failures, junitDetail{Message: res.Message, Type: string(res.Level),
				Text: res.Path + ": " + res.Message + "\n" + res.Spec + "\n" + res.URL})
		case Skip:
			s.Cases[i].Skipped = &junitDetail{Message: res.Message}
		}
	}
	s.Tests = len(s.Cases)
	for _, c := range s.Cases {
		if len(c.Failures) > 0 {
			s.Failures++
		} else if c.Skipped != nil {
			s.Skipped++
		}
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// SARIF 2.1.0, the subset code-scanning views read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifText    `json:"shortDescription"`
	FullDescription  sarifText    `json:"fullDescription"`
	HelpURI          string       `json:"helpUri"`
	Default          sarifDefault `json:"defaultConfiguration"`
	Properties       sarifProps   `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifDefault struct {
	Level string `json:"level"`
}

type sarifProps struct {
	Tags []string `json:"tags"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	Physical sarifPhysical  `json:"physicalLocation"`
	Logical  []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	Artifact sarifArtifact `json:"artifactLocation"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
}

func sarifLevel(l Level) string {
	switch l {
	case Must:
		return "error"
	case Should:
		return "warning"
	}
	return "note"
}

// WriteSARIF writes a SARIF 2.1.0 log: every rule of the catalog in the
// tool's driver, and one result for each place a rule fails. The artifact
// is the source; the logical location is the path inside it.
func WriteSARIF(w io.Writer, r *Report) error {
	rules := Rules()
	index := map[string]int{}
	driver := sarifDriver{Name: "imgproof conformance", InformationURI: "https://github.com/imgproof/imgproof"}
	for i, rule := range rules {
		index[rule.ID] = i
		driver.Rules = append(driver.Rules, sarifRule{ID: rule.ID, ShortDescription: sarifText{rule.Check},
			FullDescription: sarifText{rule.Spec + ": " + rule.Quote}, HelpURI: rule.URL,
			Default: sarifDefault{sarifLevel(rule.Level)}, Properties: sarifProps{Tags: []string{string(rule.Level)}}})
	}
	run := sarifRun{Tool: sarifTool{driver}, Results: []sarifResult{}}
	for _, res := range r.Results {
		if res.Status != Fail {
			continue
		}
		run.Results = append(run.Results, sarifResult{RuleID: res.Rule, RuleIndex: index[res.Rule], Level: sarifLevel(res.Level),
			Message: sarifText{res.Message},
			Locations: []sarifLocation{{Physical: sarifPhysical{sarifArtifact{r.Source}},
				Logical: []sarifLogical{{FullyQualifiedName: res.Path}}}}})
	}
	sort.SliceStable(run.Results, func(i, j int) bool { return run.Results[i].RuleIndex < run.Results[j].RuleIndex })
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
