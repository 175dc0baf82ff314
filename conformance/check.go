package conformance

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// Options tunes a conformance run.
type Options struct {
	// Verify is passed to the verifier. Its LayerContent hook is replaced
	// by the layer-content rules. Its Limits bound the conformance rules'
	// own reading too (documents, index depth, archive entries, link hops,
	// layer entries, tar headers); nil means limits.Default().
	Verify verify.Options
}

// CheckFS checks a directory: an OCI image layout or an unpacked docker
// save archive. name is what the report calls the source.
func CheckFS(ctx context.Context, fsys fs.FS, name string, opts *Options) *Report {
	c := newChecker(name, opts)
	files, err := FromFS(fsys, &c.lim)
	if err != nil {
		c.fail(imgproofARCH003, name, err.Error())
		return c.finish()
	}
	c.files = files
	c.res = verify.Dir(ctx, fsys, name, c.verifyOptions(opts))
	c.graph = c.res.Graph(files.Listing)
	c.run()
	return c.finish()
}

// CheckArchive checks a tar archive, plain or gzipped: an OCI archive or a
// docker save archive. Nothing is written to disk.
func CheckArchive(ctx context.Context, r io.ReaderAt, size int64, name string, opts *Options) *Report {
	c := newChecker(name, opts)
	c.archive = true
	files, err := FromArchive(r, size, &c.lim)
	if err != nil {
		c.fail(imgproofARCH003, name, err.Error())
		return c.finish()
	}
	c.files = files
	c.res = verify.Archive(ctx, r, size, name, c.verifyOptions(opts))
	c.graph = c.res.Graph(files.Listing)
	c.run()
	return c.finish()
}

type checker struct {
	name    string
	archive bool
	files   *Files
	res     *verify.Result
	graph   *verify.Graph // what the verifier walked: the documents the rules read
	format  string
	lim     limits.Limits // from Options.Verify.Limits, or the defaults

	results []Result
	applied map[ruleID]bool
	seen    map[string]bool // fail results already recorded, by rule|path
	framing map[ruleID]bool // rules the archive reader failed for the whole archive
	// images records, for each manifest checked, whether it is a
	// runnable image, by path: an entry that names it again is judged by it.
	images map[string]bool
	// configs are the manifests whose config is to be checked, by path,
	// with the number of their layers.
	configs map[string]int
	blobs   map[string]bool // blob paths referenced by the graph
	// tarLayers are the blob paths the graph uses as tar layers; the
	// verifier may hand other blobs to the content hook (one-pass reads
	// cannot know which blobs are layers).
	tarLayers map[string]bool

	// inIndexJSON is true while index.json's own rules run (its fields,
	// its entries' descriptors and platforms): a MUST failure under
	// index.json is then a defect of index.json. rootRead records that
	// index.json was read as JSON.
	inIndexJSON, indexJSONBad, rootRead bool

	mu     sync.Mutex
	layers map[string][]Violation // layer-content violations, by blob name
}

func newChecker(name string, opts *Options) *checker {
	lim := limits.Default()
	if opts != nil && opts.Verify.Limits != nil {
		lim = *opts.Verify.Limits
	}
	return &checker{name: name, lim: lim, applied: map[ruleID]bool{}, seen: map[string]bool{}, framing: map[ruleID]bool{}, images: map[string]bool{}, configs: map[string]int{},
		blobs: map[string]bool{}, tarLayers: map[string]bool{}, layers: map[string][]Violation{}}
}

func (c *checker) verifyOptions(opts *Options) *verify.Options {
	var vo verify.Options
	if opts != nil {
		vo = opts.Verify
	}
	vo.LayerContent = func(blob string, r io.Reader) error {
		vs := checkLayer(r, &c.lim)
		c.mu.Lock()
		// Set, not appended: the verifier reads a blob again when it
		// verifies a source a second time without its engines.
		c.layers[blob] = vs
		c.mu.Unlock()
		return nil
	}
	return &vo
}

// apply records that a rule was evaluated.
func (c *checker) apply(ids ...ruleID) {
	for _, id := range ids {
		c.applied[id] = true
	}
}

// fail records a failure of a rule at path.
func (c *checker) fail(id ruleID, path, msg string) {
	r := id.rule()
	c.applied[id] = true
	// One finding per rule and path: a defect the checker and the
	// verifier both see is reported once, with the first message.
	key := r.ID + "|" + path
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	if c.inIndexJSON && r.Level == Must && (path == "index.json" || strings.HasPrefix(path, "index.json/")) {
		c.indexJSONBad = true
	}
	c.results = append(c.results, Result{Rule: r.ID, Level: r.Level, Status: Fail, Path: path, Message: msg, Spec: r.Spec, URL: r.URL})
}

// expect applies a rule and fails it unless ok.
func (c *checker) expect(id ruleID, ok bool, path, format string, args ...any) bool {
	c.apply(id)
	if !ok {
		c.fail(id, path, fmt.Sprintf(format, args...))
	}
	return ok
}

func (c *checker) has(name string) bool { return c.files.Has(name) }

func (c *checker) run() {
	for _, p := range c.files.Problems() {
		c.fail(p.Rule, p.Path, p.Message)
		if p.Path == wholeArchive {
			c.framing[p.Rule] = true
		}
	}
	if c.archive {
		c.apply(imgproofARCH001, imgproofARCH002, imgproofARCH003, imgproofARCH004)
	}
	c.apply(imgproofVERIFY001, imgproofLIMIT001)
	docker := c.has("manifest.json")
	oci := c.has("index.json") || c.has("oci-layout")
	switch {
	case docker && oci:
		c.format = "docker-archive+oci"
	case docker:
		c.format = "docker-archive"
	case oci:
		c.format = "oci-layout"
	}
	if oci || !docker {
		c.checkLayout(docker)
	}
	if docker {
		c.checkDocker()
		if oci {
			c.apply(dockerVIEW001)
		}
	}
	c.mapFindings()
	c.layerResults()
}

// wholeArchive is the path of a problem of the archive as a whole, as the
// verifier names it too.
const wholeArchive = "archive"

// allIn reports whether every id is in set.
func allIn(ids []ruleID, set map[ruleID]bool) bool {
	for _, id := range ids {
		if !set[id] {
			return false
		}
	}
	return len(ids) > 0
}

// mapFindings turns the verifier's findings into rule failures.
func (c *checker) mapFindings() {
	if c.res == nil || c.res.Report == nil {
		return
	}
	byCode := map[verify.Code][]ruleID{}
	for i, r := range catalog {
		for _, code := range r.Codes {
			byCode[code] = append(byCode[code], ruleID(i+1))
		}
	}
	for _, f := range c.res.Report.Findings {
		if f.Code == verify.CodeAbsentPlatforms {
			// A single-platform export: the layout lacks blobs it
			// references, which the spec allows (SHOULD be fetched).
			c.fail(ociLAYOUT009, f.Path, string(f.Code)+": "+f.Message)
			continue
		}
		if f.Severity == verify.SeverityInfo {
			continue
		}
		if c.followsFrom(f) {
			continue
		}
		ids := byCode[f.Code]
		path := f.Path
		switch f.Code {
		case verify.CodeInvalidDescriptor:
			// The verifier's descriptor checks are OCI-DESC rules on a
			// field of the descriptor, whatever list holds it.
			if strings.Contains(f.Message, "size") {
				ids, path = []ruleID{ociDESC005}, f.Path+"/size"
			} else {
				ids, path = []ruleID{ociDESC001}, f.Path+"/mediaType"
			}
		case verify.CodeNothingVerified, verify.CodeLayerContent, verify.CodeNoMatchingPlatform, verify.CodeAmbiguousPlatform:
			continue // an empty index is valid; content is checked here
		case verify.CodeInvalidDigest, verify.CodeUnsupportedAlgorithm:
			// Name the digest field, where this checker's grammar rules
			// report it, so one defect is one finding.
			if !strings.HasSuffix(f.Path, "/digest") && !strings.Contains(f.Path, "diff_ids[") && !strings.HasPrefix(f.Path, "manifest.json") {
				path = f.Path + "/digest"
			}
		case verify.CodeMediaTypeMismatch:
			switch {
			case strings.Contains(f.Path, "layers[") || strings.HasSuffix(f.Path, "layer.tar"):
				ids = []ruleID{ociLAYER003}
			case f.Expected == verify.MediaTypeOCIIndex || f.Expected == "index" || f.Path == "index.json/mediaType":
				ids = []ruleID{ociIDX003}
			default:
				ids = []ruleID{ociMAN003}
			}
		case verify.CodeDigestMismatch:
			if strings.HasSuffix(f.Path, "/config") || strings.HasSuffix(f.Path, "/Config") {
				ids = append(ids, ociCFG014)
			}
			if strings.HasPrefix(c.format, "oci") {
				ids = append(ids, ociLAYOUT007)
			}
			if strings.HasPrefix(f.Path, "manifest.json") {
				ids = append(ids, dockerMAN004)
			}
		case verify.CodeDiffIDMismatch, verify.CodeLayerCountMismatch:
			if f.Code == verify.CodeDiffIDMismatch {
				// Layers out of stack order (OCI-MAN-010) hash to
				// another layer's diff_id; other content breaks the
				// diff_id's definition (OCI-CFG-010).
				ids = []ruleID{ociCFG010}
				if reordered(c.res.Report.Findings, f) {
					ids = []ruleID{ociMAN010}
				}
			} else if strings.HasPrefix(f.Path, "manifest.json") {
				// docker save has no manifest: its Layers list is
				// DOCKER-MAN-004's.
				ids = []ruleID{dockerMAN004}
			}
		case verify.CodeBlobMissing:
			// A blob that index.json names may be missing from a layout,
			// also from the OCI view of a docker-save archive (a
			// one-platform export keeps the whole index).
			if strings.HasPrefix(f.Path, "manifest.json") || c.format == "docker-archive" {
				ids = []ruleID{dockerMAN003}
			}
		case verify.CodeConfigNameMismatch:
			if f.Severity == verify.SeverityWarning {
				// A name with no digest in it (Jib's config.json): the
				// description asks only that Config names the config file,
				// which checkDocker checks.
				continue
			}
		case verify.CodeArchiveUnsafePath:
			// The archive's names are checked here too (files.go); a
			// "./" root entry is safe although the verifier flags it.
			if n, _ := verify.CleanName(f.Path); n == "." {
				continue
			}
		case verify.CodeLayoutInvalid:
			if strings.HasSuffix(f.Path, "imageLayoutVersion") {
				// "MUST contain an imageLayoutVersion field": a string
				// other than 1.0.0 is there, but not one verify reads.
				ids = []ruleID{ociLAYOUT004}
				if !c.seen[ociLAYOUT004.String()+"|"+f.Path] {
					ids = []ruleID{imgproofVERIFY001}
				}
			}
		case verify.CodeInternal:
			ids = []ruleID{imgproofLIMIT001}
		}
		if len(ids) == 0 {
			if f.Severity == verify.SeverityWarning {
				continue
			}
			ids = []ruleID{imgproofVERIFY001}
		}
		// The verifier names input of no known format by the source's
		// name, the framing findings by "archive".
		whole := f.Path == wholeArchive || f.Code == verify.CodeUnknownFormat && f.Path == c.name
		if (f.Code == verify.CodeArchiveTruncated || f.Code == verify.CodeArchiveTrailingData || f.Code == verify.CodeUnknownFormat) && whole &&
			allIn(ids, c.framing) {
			continue // the archive reader here already failed the rule for the whole archive
		}
		if f.Code == verify.CodeLimitExceeded && (f.Path == wholeArchive || f.Path == c.name) && c.framing[imgproofLIMIT001] &&
			sameLimit(f.Message, c.files.Problems()) {
			continue // the same archive-level limit, already failed by the listing
		}
		msg := f.Message + expectedActual(f)
		for _, id := range ids {
			c.fail(id, path, string(f.Code)+": "+msg)
		}
	}
}

// reordered reports whether a diff_id mismatch is one of layers out of
// order: the layer hashes to the diff_id another mismatch of the same
// config expects.
func reordered(fs []verify.Finding, f verify.Finding) bool {
	cfg, _, _ := strings.Cut(f.Path, "/rootfs/diff_ids[")
	for _, o := range fs {
		if o.Code == verify.CodeDiffIDMismatch && o.Path != f.Path && o.Expected == f.Actual &&
			strings.HasPrefix(o.Path, cfg+"/rootfs/diff_ids[") {
			return true
		}
	}
	return false
}

// expectedActual prints a finding's expected and actual values, leaving
// out the one it does not state rather than printing it empty.
func expectedActual(f verify.Finding) string {
	switch {
	case f.Expected != "" && f.Actual != "":
		return fmt.Sprintf(" (expected %s, got %s)", f.Expected, f.Actual)
	case f.Expected != "":
		return fmt.Sprintf(" (expected %s)", f.Expected)
	case f.Actual != "":
		return fmt.Sprintf(" (got %s)", f.Actual)
	}
	return ""
}

// layerResults reports the layer-content violations.
func (c *checker) layerResults() {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.layers))
	for n := range c.layers {
		if c.tarLayers[n] {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return
	}
	c.apply(layerRules...)
	c.apply(ociMAN018)
	sort.Strings(names)
	for _, n := range names {
		for _, v := range c.layers[n] {
			p := n
			if v.Entry != "" {
				p += "!" + v.Entry
			}
			c.fail(v.id, p, v.Message)
			if v.id.rule().Level == Must {
				c.fail(ociMAN018, n, "layer "+n+" cannot be applied: "+v.Rule)
			}
		}
	}
}

// finish adds pass and skip results and sorts the report.
func (c *checker) finish() *Report {
	failed := map[string]bool{}
	for _, r := range c.results {
		failed[r.Rule] = true
	}
	for i, r := range catalog {
		if failed[r.ID] {
			continue
		}
		st, msg := Skip, "nothing in the source is subject to this rule"
		if c.applied[ruleID(i+1)] {
			st, msg = Pass, r.Check
		}
		c.results = append(c.results, Result{Rule: r.ID, Level: r.Level, Status: st, Path: c.name, Message: msg, Spec: r.Spec, URL: r.URL})
	}
	sort.SliceStable(c.results, func(i, j int) bool { return c.results[i].Rule < c.results[j].Rule })
	rep := &Report{Source: c.name, Format: c.format, Results: c.results}
	rep.summarize()
	return rep
}

// followsFrom reports whether a verifier finding only follows from a
// defect this checker already failed a MUST rule for inside the same
// document or descriptor, or at the same field: a document that does not
// decode because one field has the wrong type or bad base64, a field that
// fails its own rule (rootfs.type), a layout file that is no JSON object,
// a size mismatch against a descriptor without a size, a digest the
// grammar check rejected.
func (c *checker) followsFrom(f verify.Finding) bool {
	var ids []ruleID
	switch f.Code {
	case verify.CodeJSONSyntax, verify.CodeInvalidDocument:
		// any MUST failure on a field of the document
	case verify.CodeSizeMismatch:
		ids = []ruleID{ociDESC005}
	case verify.CodeInvalidDigest, verify.CodeUnsupportedAlgorithm:
		ids = []ruleID{ociDESC003, ociDESC004, ociDESC015, ociDESC016}
	default:
		return false
	}
	for _, r := range c.results {
		// A document or field that fails a rule of its own at the very
		// path (rootfs.type, an oci-layout that is no JSON object) is
		// that rule's defect too.
		same := ids == nil && r.Path == f.Path
		if r.Status != Fail || r.Level != Must || !strings.HasPrefix(r.Path, f.Path+"/") && !same {
			continue
		}
		if ids == nil || slices.ContainsFunc(ids, func(id ruleID) bool { return id.String() == r.Rule }) {
			return true
		}
	}
	return false
}

// sameLimit reports whether a verifier's limit message names the same
// limit kind as an archive-level limit problem of the listing.
func sameLimit(msg string, probs []Problem) bool {
	kind := limitKindRE.FindStringSubmatch(msg)
	if kind == nil {
		return false
	}
	for _, p := range probs {
		if k := limitKindRE.FindStringSubmatch(p.Message); p.Rule == imgproofLIMIT001 && p.Path == wholeArchive && k != nil && k[1] == kind[1] {
			return true
		}
	}
	return false
}

// limitKindRE finds the kind in a *limits.Error's message.
var limitKindRE = regexp.MustCompile(`([a-z][a-z-]*) limit of \d+ exceeded`)
