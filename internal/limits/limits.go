// Package limits holds every bound that imgproof places on attacker-controlled
// input, in one place, with documented defaults and a typed error.
//
// The zero value of Limits is not usable; call Default and override fields.
// Every limit that is hit produces an *Error, which the verifier maps to
// the UNVERIFIABLE verdict: a check that could not run is never a pass.
package limits

import (
	"errors"
	"fmt"
)

// Kind names one limit.
type Kind string

// The limits.
const (
	IndexDocument       Kind = "index-document-bytes"       // an image index or docker manifest list
	ManifestDocument    Kind = "manifest-document-bytes"    // an image manifest
	ConfigDocument      Kind = "config-document-bytes"      // an image config
	ArchiveMetadata     Kind = "archive-metadata-bytes"     // manifest.json, index.json, repositories, oci-layout
	AttestationDocument Kind = "attestation-document-bytes" // a DSSE envelope, statement or bundle
	JSONDepth           Kind = "json-depth"                 // nesting depth of any JSON document
	IndexDepth          Kind = "index-depth"                // nesting of indexes inside indexes
	Descriptors         Kind = "descriptors"                // descriptors visited in one graph
	LayerDecompressed   Kind = "layer-decompressed-bytes"   // bytes out of one layer's decompressor
	CompressionRatio    Kind = "compression-ratio"          // decompressed:compressed for one layer
	ZstdWindow          Kind = "zstd-window-bytes"          // the largest zstd window accepted
	ArchiveEntries      Kind = "archive-entries"            // entries in an outer archive
	TarHeader           Kind = "tar-header-bytes"           // one tar header with its PAX records
	Signatures          Kind = "signatures"                 // signatures on one envelope
	Subjects            Kind = "subjects"                   // subjects of one statement
	Attestations        Kind = "attestations"               // attestations considered for one image
	LinkHops            Kind = "link-hops"                  // symlink hops resolved inside an archive
	LayerEntries        Kind = "layer-entries"              // entries of one layer tar checked for content rules

	// Registry requests. Times are in milliseconds.
	RegistryAttempts   Kind = "registry-attempts"       // attempts for one request or blob, the first included
	RegistryRetryWait  Kind = "registry-retry-wait-ms"  // total wait between the attempts of one request or blob
	RegistryRetryAfter Kind = "registry-retry-after-ms" // the longest single wait, Retry-After included
	RegistryFirstByte  Kind = "registry-first-byte-ms"  // from sending a request to its response headers
	RegistryStall      Kind = "registry-stall-ms"       // the longest pause between body bytes
	RegistryBlobTime   Kind = "registry-blob-ms"        // everything spent on one blob, retries included
	RegistryParallel   Kind = "registry-parallel"       // requests in flight to one registry host

	// Sweeps over many images.
	SweepBlobs      Kind = "sweep-blobs"      // blob results one sweep remembers (least recently used go first)
	SweepReferences Kind = "sweep-references" // references one sweep reads or lists
)

// Limits bounds a verification. Use Default to get sensible values.
type Limits struct {
	IndexDocument       int64
	ManifestDocument    int64
	ConfigDocument      int64
	ArchiveMetadata     int64
	AttestationDocument int64
	JSONDepth           int
	IndexDepth          int
	Descriptors         int
	LayerDecompressed   int64
	// CompressionRatio caps decompressed/compressed once a layer has produced
	// more than RatioFloor bytes, which stops decompression bombs early.
	CompressionRatio int64
	RatioFloor       int64
	ZstdWindow       uint64
	ArchiveEntries   int
	TarHeader        int64
	Signatures       int
	Subjects         int
	Attestations     int
	LinkHops         int
	LayerEntries     int

	// The registry bounds: what a slow, failing or throttling registry
	// may cost. Millisecond fields are named so.
	RegistryAttempts         int
	RegistryRetryWaitMillis  int64
	RegistryRetryAfterMillis int64
	RegistryFirstByteMillis  int64
	RegistryStallMillis      int64
	RegistryBlobMillis       int64
	RegistryParallel         int

	// The sweep bounds: memory that grows with the number of images.
	SweepBlobs      int
	SweepReferences int
}

const (
	mib = 1 << 20
	gib = 1 << 30
)

// Default returns the default limits. They admit every image seen in
// practice (containerd caps manifests near 4 MiB; registries near 4 MiB too)
// while keeping memory and time bounded.
func Default() Limits {
	return Limits{
		IndexDocument:       4 * mib,
		ManifestDocument:    4 * mib,
		ConfigDocument:      16 * mib,
		ArchiveMetadata:     20 * mib,
		AttestationDocument: 16 * mib,
		JSONDepth:           200,
		IndexDepth:          8,
		Descriptors:         10000,
		LayerDecompressed:   64 * gib,
		CompressionRatio:    500,
		RatioFloor:          64 * mib,
		ZstdWindow:          128 * mib,
		ArchiveEntries:      100000,
		TarHeader:           1 * mib,
		Signatures:          32,
		Subjects:            1024,
		Attestations:        256,
		LinkHops:            8,
		LayerEntries:        1 << 20,
		// A CI gate rides out a registry's bad minute, and a dead one
		// costs it about a minute and a half, not an hour.
		RegistryAttempts:         5,
		RegistryRetryWaitMillis:  60_000,
		RegistryRetryAfterMillis: 30_000,
		RegistryFirstByteMillis:  30_000,
		RegistryStallMillis:      30_000,
		RegistryBlobMillis:       30 * 60_000,
		RegistryParallel:         8,
		// About 1 KiB each: 64 MiB of blob results, and the references of
		// a large registry's shard.
		SweepBlobs:      65536,
		SweepReferences: 2_000_000,
	}
}

// Document is the largest image document (index, manifest or config) that
// may be read whole, for readers that meet a blob before its type is known.
func (l *Limits) Document() int64 {
	return max(l.IndexDocument, l.ManifestDocument, l.ConfigDocument)
}

// DocumentKind is the kind of the limit Document returns.
func (l *Limits) DocumentKind() Kind {
	switch l.Document() {
	case l.ConfigDocument:
		return ConfigDocument
	case l.ManifestDocument:
		return ManifestDocument
	}
	return IndexDocument
}

// ErrLimit is the sentinel matched by every *Error.
var ErrLimit = errors.New("limit exceeded")

// Error reports that a limit was hit.
type Error struct {
	Kind  Kind
	Limit int64
	What  string // what hit the limit, for example a file name
}

func (e *Error) Error() string {
	if e.What != "" {
		return fmt.Sprintf("%s: %s limit of %d exceeded", e.What, e.Kind, e.Limit)
	}
	return fmt.Sprintf("%s limit of %d exceeded", e.Kind, e.Limit)
}

// Is makes errors.Is(err, ErrLimit) true for every *Error.
func (e *Error) Is(target error) bool { return target == ErrLimit }

// Exceeded returns a new *Error.
func Exceeded(kind Kind, limit int64, what string) error {
	return &Error{Kind: kind, Limit: limit, What: what}
}

// field returns a pointer to the limit of a kind, as int64 or int.
func (l *Limits) field(k Kind) (i64 *int64, i *int, u64 *uint64) {
	switch k {
	case IndexDocument:
		return &l.IndexDocument, nil, nil
	case ManifestDocument:
		return &l.ManifestDocument, nil, nil
	case ConfigDocument:
		return &l.ConfigDocument, nil, nil
	case ArchiveMetadata:
		return &l.ArchiveMetadata, nil, nil
	case AttestationDocument:
		return &l.AttestationDocument, nil, nil
	case JSONDepth:
		return nil, &l.JSONDepth, nil
	case IndexDepth:
		return nil, &l.IndexDepth, nil
	case Descriptors:
		return nil, &l.Descriptors, nil
	case LayerDecompressed:
		return &l.LayerDecompressed, nil, nil
	case CompressionRatio:
		return &l.CompressionRatio, nil, nil
	case ZstdWindow:
		return nil, nil, &l.ZstdWindow
	case ArchiveEntries:
		return nil, &l.ArchiveEntries, nil
	case TarHeader:
		return &l.TarHeader, nil, nil
	case Signatures:
		return nil, &l.Signatures, nil
	case Subjects:
		return nil, &l.Subjects, nil
	case Attestations:
		return nil, &l.Attestations, nil
	case LinkHops:
		return nil, &l.LinkHops, nil
	case LayerEntries:
		return nil, &l.LayerEntries, nil
	case RegistryAttempts:
		return nil, &l.RegistryAttempts, nil
	case RegistryRetryWait:
		return &l.RegistryRetryWaitMillis, nil, nil
	case RegistryRetryAfter:
		return &l.RegistryRetryAfterMillis, nil, nil
	case RegistryFirstByte:
		return &l.RegistryFirstByteMillis, nil, nil
	case RegistryStall:
		return &l.RegistryStallMillis, nil, nil
	case RegistryBlobTime:
		return &l.RegistryBlobMillis, nil, nil
	case RegistryParallel:
		return nil, &l.RegistryParallel, nil
	case SweepBlobs:
		return nil, &l.SweepBlobs, nil
	case SweepReferences:
		return nil, &l.SweepReferences, nil
	}
	return nil, nil, nil
}

// Kinds lists every limit kind, for documentation and flags.
func Kinds() []Kind {
	return []Kind{IndexDocument, ManifestDocument, ConfigDocument, ArchiveMetadata, AttestationDocument,
		JSONDepth, IndexDepth, Descriptors, LayerDecompressed, CompressionRatio, ZstdWindow,
		ArchiveEntries, TarHeader, Signatures, Subjects, Attestations, LinkHops, LayerEntries,
		RegistryAttempts, RegistryRetryWait, RegistryRetryAfter, RegistryFirstByte, RegistryStall,
		RegistryBlobTime, RegistryParallel, SweepBlobs, SweepReferences}
}

// Registry reports whether a kind bounds registry requests rather than
// input bytes. Those limits end in an E_FETCH finding, not E_LIMIT_EXCEEDED.
func (k Kind) Registry() bool {
	switch k {
	case RegistryAttempts, RegistryRetryWait, RegistryRetryAfter, RegistryFirstByte, RegistryStall,
		RegistryBlobTime, RegistryParallel:
		return true
	}
	return false
}

// Sweep reports whether a kind bounds a sweep over many images rather
// than one verification; package sweep tests them end to end.
func (k Kind) Sweep() bool { return k == SweepBlobs || k == SweepReferences }

// Get returns the value of a limit.
func (l *Limits) Get(k Kind) (int64, bool) {
	i64, i, u64 := l.field(k)
	switch {
	case i64 != nil:
		return *i64, true
	case i != nil:
		return int64(*i), true
	case u64 != nil:
		return int64(*u64), true
	}
	return 0, false
}

// Set changes one limit. Values must be positive.
func (l *Limits) Set(k Kind, v int64) error {
	if v <= 0 {
		return fmt.Errorf("limit %s must be positive, not %d", k, v)
	}
	i64, i, u64 := l.field(k)
	switch {
	case i64 != nil:
		*i64 = v
	case i != nil:
		*i = int(v)
	case u64 != nil:
		*u64 = uint64(v)
	default:
		return fmt.Errorf("unknown limit %q", k)
	}
	return nil
}
