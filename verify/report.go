package verify

import (
	"errors"
	"fmt"
	"strings"
)

// SchemaVersion is the version of the JSON report. It changes when a field
// is removed or its meaning changes; new fields may appear at any time.
const SchemaVersion = "imgproof.report/v1"

// Verdict is the outcome of a verification.
type Verdict string

// The verdicts, in order of severity.
const (
	// Verified: every required check ran on the exact bytes and passed.
	Verified Verdict = "VERIFIED"
	// Failed: a check ran and disproved a claim.
	Failed Verdict = "FAILED"
	// Unverifiable: a required check could not run.
	Unverifiable Verdict = "UNVERIFIABLE"
)

// Severity says how a finding weighs on the verdict.
type Severity string

// The severities.
const (
	SeverityError        Severity = "error"        // makes the verdict FAILED
	SeverityUnverifiable Severity = "unverifiable" // makes the verdict UNVERIFIABLE
	SeverityWarning      Severity = "warning"      // reported, verdict unchanged
	SeverityInfo         Severity = "info"         // reported, verdict unchanged
)

// Finding is one broken or unverifiable link in the graph, or a note.
type Finding struct {
	Code     Code     `json:"code"`
	Severity Severity `json:"severity"`
	// Path locates the node, for example index.json/manifests[1]/layers[2].
	Path     string `json:"path"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	// How says how Actual was computed, for example sha256(gunzip(blob)).
	How     string `json:"how,omitempty"`
	Message string `json:"message"`
}

func (f Finding) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s", f.Path, f.Code, f.Message)
	switch {
	case f.Expected != "" && f.Actual != "":
		fmt.Fprintf(&b, " (expected %s, got %s", f.Expected, f.Actual)
	case f.Expected != "":
		fmt.Fprintf(&b, " (expected %s", f.Expected)
	case f.Actual != "":
		fmt.Fprintf(&b, " (got %s", f.Actual)
	default:
		return b.String()
	}
	if f.How != "" {
		fmt.Fprintf(&b, " by %s", f.How)
	}
	b.WriteString(")")
	return b.String()
}

// Source describes what was read.
type Source struct {
	Path   string `json:"path"`
	Format Format `json:"format"`
	// Compressed is true when the whole archive was gzip-compressed.
	Compressed bool `json:"compressed,omitempty"`
	// Views lists the views of a docker-save archive that were verified:
	// "manifest.json" and, for Docker 25+, "index.json".
	Views []string `json:"views,omitempty"`
	// Transport is the transport the command line named the source with:
	// oci, oci-archive, docker-archive or docker (a registry). Empty for
	// a bare local path, whose format was detected from its content, and
	// for a source not named on a command line (the browser's files).
	Transport string `json:"transport,omitempty"`
	// Reference is the image name that selected the reported images
	// (oci:DIR:REF), when one was given.
	Reference string `json:"reference,omitempty"`
}

// Format is the container format of a source.
type Format string

// The formats.
const (
	FormatOCILayout     Format = "oci-layout"
	FormatOCIArchive    Format = "oci-archive"
	FormatDockerArchive Format = "docker-archive"
	FormatRegistry      Format = "registry"
	// FormatUnknown is input that is none of the formats above.
	FormatUnknown Format = "unknown"
)

// Platform is an image's os, architecture and variant.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
	OSVersion    string `json:"os.version,omitempty"`
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Layer is one recomputed layer.
type Layer struct {
	Digest string `json:"digest"`
	// DiffID is the digest of the uncompressed stream, recomputed; empty
	// when the blob could not be read.
	DiffID      string `json:"diffID"`
	Size        int64  `json:"size"`
	MediaType   string `json:"mediaType"`
	Compression string `json:"compression"` // gzip, zstd, none, or unknown
	// UncompressedSize is the number of bytes the decompressor produced.
	UncompressedSize int64 `json:"uncompressedSize,omitempty"`
}

// Image is one image found in the source: a manifest and its config.
type Image struct {
	// Path locates the manifest in the graph.
	Path string `json:"path"`
	// ManifestDigest is null when it cannot be recovered (classic docker save).
	ManifestDigest *string `json:"manifestDigest"`
	// ManifestMediaType is the manifest's media type as found.
	ManifestMediaType string `json:"manifestMediaType,omitempty"`
	// ImageID is the digest of the config bytes.
	ImageID  string    `json:"imageID"`
	Platform *Platform `json:"platform,omitempty"`
	Layers   []Layer   `json:"layers"`
	ChainIDs []string  `json:"chainIDs"`
	// Kind is "image" for runnable images, "attestation" for BuildKit
	// attestation manifests and "artifact" for other artifacts.
	Kind string `json:"kind"`
	// RefNames are the names the source gives the image (unverified metadata).
	RefNames []string `json:"refNames,omitempty"`
	// Subject is the digest named by the manifest's subject field, if any.
	Subject string `json:"subject,omitempty"`
	// AttestsTo is, for a BuildKit attestation manifest, the digest that
	// its vnd.docker.reference.digest annotation names (a hint only).
	AttestsTo string `json:"attestsTo,omitempty"`
}

// Index is a recomputed image index.
type Index struct {
	Path      string `json:"path"`
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType,omitempty"`
	Manifests int    `json:"manifests"`
}

// Report is the result of one verification of the content. It is the same
// in the CLI and the browser module; when claims are checked, package
// attest's Report embeds it and adds them.
type Report struct {
	Schema  string  `json:"schema"`
	Verdict Verdict `json:"verdict"`
	Source  Source  `json:"source"`
	// IndexDigest is the digest of the top content-addressed index, if the
	// image's root is one.
	IndexDigest *string `json:"indexDigest,omitempty"`
	// Indexes lists every content-addressed index that was verified.
	Indexes []Index `json:"indexes,omitempty"`
	Images  []Image `json:"images"`
	// Checks counts the checks that ran and passed.
	Checks   int       `json:"checks"`
	Findings []Finding `json:"findings"`
}

// Add records a finding.
func (r *Report) Add(f Finding) {
	if f.Severity == "" {
		f.Severity = f.Code.DefaultSeverity()
	}
	r.Findings = append(r.Findings, f)
}

// Pass records that a check ran and passed.
func (r *Report) Pass() { r.Checks++ }

// Finalize computes the verdict from the findings: any error gives FAILED,
// else any unverifiable finding, or no check at all, gives UNVERIFIABLE.
// The verifier's run calls it once, as its last stage (see
// Options.Claims).
func (r *Report) Finalize() {
	r.Schema = SchemaVersion
	if r.Images == nil {
		r.Images = []Image{}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	r.requireVerified()
	r.Verdict = r.Outcome()
}

// Outcome is the verdict the findings so far give. It is what Finalize
// records, for a stage of the run that must know it before the report is
// finalized (a source that is damaged is reported as it is).
func (r *Report) Outcome() Verdict {
	v := Verified
	for _, f := range r.Findings {
		switch f.Severity {
		case SeverityError:
			return Failed
		case SeverityUnverifiable:
			v = Unverifiable
		}
	}
	return v
}

// requireVerified adds E_NOTHING_VERIFIED when the findings would give
// VERIFIED but no check ran or no image was found: zero checks are never
// VERIFIED.
func (r *Report) requireVerified() {
	if r.Outcome() == Verified && (r.Checks == 0 || len(r.Images) == 0) {
		r.Findings = append(r.Findings, Finding{Code: CodeNothingVerified, Severity: SeverityUnverifiable,
			Path: r.Source.Path, Message: "no image was found to verify"})
	}
}

// Err joins every error and unverifiable finding, or returns nil.
func (r *Report) Err() error {
	var errs []error
	for _, f := range r.Findings {
		if f.Severity == SeverityError || f.Severity == SeverityUnverifiable {
			errs = append(errs, f)
		}
	}
	return errors.Join(errs...)
}

// Has reports whether the report holds a finding with the given code.
func (r *Report) Has(code Code) bool {
	for _, f := range r.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

// ExitCode maps the verdict to the CLI's exit code: 0, 1 or 2.
func (v Verdict) ExitCode() int {
	switch v {
	case Verified:
		return 0
	case Failed:
		return 1
	default:
		return 2
	}
}
