//go:build !js

package sweep

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/imgproof/imgproof/verify"
)

// Output is one shard's output to merge.
type Output struct {
	Name string
	R    io.Reader
}

// maxOutputLine bounds one line of a sweep output: a report with every
// finding of a large image. The outputs are what imgproof's own shards
// wrote, not input from an image, so this is not a limit kind.
const maxOutputLine = 64 << 20

// Failure is an image that did not verify, with the findings that decided
// its verdict (at most maxFailureFindings).
type Failure struct {
	Reference string
	Verdict   verify.Verdict
	Findings  []verify.Finding
}

// maxFailureFindings bounds the findings kept per image for SARIF: the
// size of the summary, not a bound on input.
const maxFailureFindings = 20

// Merge joins the outputs of a sweep's shards into one summary, and lists
// the images that did not verify. Verdicts
// are counted again from the image lines, not taken from the shards'
// summaries. The merged verdict is UNVERIFIABLE when a shard is missing,
// repeated or has no summary line (it did not finish), or when a
// reference appears in two outputs.
func Merge(outs []Output) (*Summary, []Failure, error) {
	sum := &Summary{Schema: Schema, Kind: "summary", Verdicts: map[verify.Verdict]int{}}
	seenRef := map[string]string{}
	seenShard := map[Shard]string{}
	var failures []Failure
	count := 0
	for _, o := range outs {
		sc := bufio.NewScanner(o.R)
		sc.Buffer(make([]byte, 0, 64<<10), maxOutputLine)
		var shardSum *Summary
		line := 0
		for sc.Scan() {
			line++
			var head struct {
				Schema string `json:"schema"`
				Kind   string `json:"kind"`
			}
			if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: not a sweep line: %w", o.Name, line, err)
			}
			var ref string
			var verdict verify.Verdict
			switch {
			case head.Schema == verify.SchemaVersion:
				var rep verify.Report
				if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
					return nil, nil, fmt.Errorf("%s:%d: %w", o.Name, line, err)
				}
				ref, verdict = rep.Source.Path, rep.Verdict
				if rep.Verdict != verify.Verified {
					failures = append(failures, failureOf(&rep))
				}
			case head.Schema == Schema && head.Kind == "skip":
				var sk Skip
				if err := json.Unmarshal(sc.Bytes(), &sk); err != nil {
					return nil, nil, fmt.Errorf("%s:%d: %w", o.Name, line, err)
				}
				ref, verdict = sk.Reference, sk.Verdict
				sum.Skipped++
			case head.Schema == Schema && head.Kind == "summary":
				shardSum = &Summary{}
				if err := json.Unmarshal(sc.Bytes(), shardSum); err != nil {
					return nil, nil, fmt.Errorf("%s:%d: %w", o.Name, line, err)
				}
				continue
			default:
				return nil, nil, fmt.Errorf("%s:%d: unknown line (schema %q, kind %q)", o.Name, line, head.Schema, head.Kind)
			}
			switch verdict {
			case verify.Verified, verify.Failed, verify.Unverifiable:
			default:
				return nil, nil, fmt.Errorf("%s:%d: verdict %q", o.Name, line, verdict)
			}
			if prev, dup := seenRef[ref]; dup {
				sum.Problems = append(sum.Problems, fmt.Sprintf("%s is in both %s and %s", ref, prev, o.Name))
			}
			seenRef[ref] = o.Name
			sum.Images++
			sum.Verdicts[verdict]++
		}
		if err := sc.Err(); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", o.Name, err)
		}
		if shardSum == nil || shardSum.Shard == nil {
			sum.Problems = append(sum.Problems, o.Name+" has no summary line: that shard did not finish")
			continue
		}
		sh := *shardSum.Shard
		if prev, dup := seenShard[sh]; dup {
			sum.Problems = append(sum.Problems, fmt.Sprintf("shard %s is in both %s and %s", sh, prev, o.Name))
		}
		seenShard[sh] = o.Name
		if count != 0 && sh.Count != count {
			sum.Problems = append(sum.Problems, fmt.Sprintf("%s is shard %s, but another output has %d shards", o.Name, sh, count))
		}
		count = sh.Count
		sum.Shards = append(sum.Shards, sh)
		sum.Problems = append(sum.Problems, shardSum.Problems...)
		b := shardSum.Blobs
		sum.Blobs.Used += b.Used
		sum.Blobs.BytesUsed += b.BytesUsed
		sum.Blobs.Read += b.Read
		sum.Blobs.BytesRead += b.BytesRead
		sum.Blobs.Evicted += b.Evicted
		sum.Seconds = max(sum.Seconds, shardSum.Seconds)
	}
	for i := 0; i < count; i++ {
		if _, ok := seenShard[Shard{Index: i, Count: count}]; !ok {
			sum.Problems = append(sum.Problems, fmt.Sprintf("shard %d/%d is missing", i, count))
		}
	}
	if len(outs) == 0 {
		sum.Problems = append(sum.Problems, "no outputs to merge")
	}
	sort.Slice(sum.Shards, func(i, j int) bool { return sum.Shards[i].Index < sum.Shards[j].Index })
	sum.DedupFactor = sum.Blobs.DedupFactor()
	sum.Verdict = sum.verdict()
	return sum, failures, nil
}

// failureOf keeps the findings of a report that weigh on its verdict.
func failureOf(rep *verify.Report) Failure {
	f := Failure{Reference: rep.Source.Path, Verdict: rep.Verdict}
	for _, x := range rep.Findings {
		if x.Severity == verify.SeverityError || x.Severity == verify.SeverityUnverifiable {
			f.Findings = append(f.Findings, x)
			if len(f.Findings) == maxFailureFindings {
				break
			}
		}
	}
	return f
}

// ExitCode is the exit status of a sweep or merge: 0 VERIFIED, 1 FAILED,
// 2 UNVERIFIABLE.
func (s *Summary) ExitCode() int { return s.Verdict.ExitCode() }
