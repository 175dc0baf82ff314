// Package limits holds every bound that imgproof places on attacker-controlled
// input, in one place, with documented defaults and a typed error.
//
// The zero value of Limits is not usable; call Default and override fields.
// Every limit that is hit produces an *Error, which the verifier maps to
// the UNVERIFIABLE verdict: a check that could not run is never a pass.
// The registry-* limits, which bound requests and time rather than input,
// end in a failed fetch that names them instead (see Kind.Registry).
// Concurrency and cache sizes are not limits: they change how fast a
// verification runs, never what it accepts.
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
	ArchiveTail         Kind = "archive-tail-bytes"         // bytes after a tar's end-of-archive marker, decompressed
	StreamDocuments     Kind = "stream-document-bytes"      // JSON documents kept from a one-pass (gzipped) archive for the walk

	// Signed material and the files of trust.
	SubjectDigests Kind = "subject-digests"    // digests of one statement subject
	SignatureFile  Kind = "signature-bytes"    // one detached signature
	ClaimFile      Kind = "claim-file-bytes"   // one attestation, bundle or envelope file (in the browser, any file of trust), read whole before it is parsed
	KeyFile        Kind = "key-file-bytes"     // one public key file, PEM or securesystemslib JSON
	PolicyFile     Kind = "policy-file-bytes"  // one policy file
	TrustedRoot    Kind = "trusted-root-bytes" // one sigstore trusted root
	// CertificateFile bounds one X.509 file of trust: a Notary Project
	// trust store certificate (or bundle of them) or a local CRL.
	CertificateFile Kind = "certificate-file-bytes"

	// Registry requests. Times are in milliseconds.
	RegistryAttempts   Kind = "registry-attempts"       // attempts for one request or blob, the first included
	RegistryRetryWait  Kind = "registry-retry-wait-ms"  // total wait between the attempts of one request or blob
	RegistryRetryAfter Kind = "registry-retry-after-ms" // the longest single wait, Retry-After included
	RegistryFirstByte  Kind = "registry-first-byte-ms"  // from sending a request to its response headers
	RegistryStall      Kind = "registry-stall-ms"       // the longest pause between body bytes
	RegistryBlobTime   Kind = "registry-blob-ms"        // everything spent on one blob, retries included
	RegistryParallel   Kind = "registry-parallel"       // requests in flight to one registry host
	RegistryRedirects  Kind = "registry-redirects"      // redirects followed for one request
	// RegistryDiscovery bounds the manifests of an index, besides the
	// root, whose signatures and attestations are looked for; the rest
	// are not searched.
	RegistryDiscovery Kind = "registry-discovery-subjects"

	// Sweeps over many images.
	SweepBlobs      Kind = "sweep-blobs"           // blob results one sweep remembers (least recently used go first)
	SweepReferences Kind = "sweep-references"      // references one sweep reads or lists
	SweepReference  Kind = "sweep-reference-bytes" // one line of a reference list
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
	ArchiveTail      int64
	StreamDocuments  int64

	SubjectDigests int
	SignatureFile  int64
	ClaimFile      int64
	KeyFile        int64
	PolicyFile     int64
	TrustedRoot    int64
	// CertificateFile is one Notary Project trust store certificate
	// file or CRL, read whole.
	CertificateFile int64

	// The registry bounds: what a slow, failing or throttling registry
	// may cost. Millisecond fields are named so.
	RegistryAttempts         int
	RegistryRetryWaitMillis  int64
	RegistryRetryAfterMillis int64
	RegistryFirstByteMillis  int64
	RegistryStallMillis      int64
	RegistryBlobMillis       int64
	RegistryParallel         int
	RegistryRedirects        int
	RegistryDiscovery        int

	// The sweep bounds: memory that grows with the number of images.
	SweepBlobs      int
	SweepReferences int
	SweepReference  int
}

const (
	kib = 1 << 10
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
		// Tar writers pad to a record (10 KiB) or a little more; zeros
		// past that are a gzip bomb's tail, read only to check the trailer.
		ArchiveTail:     64 * mib,
		StreamDocuments: 256 * mib,
		// The files of trust are small; a whole claim file is bounded
		// again, when parsed, by AttestationDocument.
		SubjectDigests: 32,
		SignatureFile:  64 * kib,
		ClaimFile:      64 * mib,
		KeyFile:        64 * kib,
		PolicyFile:     1 * mib,
		TrustedRoot:    16 * mib,
		// A trust store certificate is a few KiB and a CA bundle a few
		// hundred, but the CRLs of large CAs reach tens of MiB.
		CertificateFile: 64 * mib,
		// A CI gate rides out a registry's bad minute, and a dead one
		// costs it about a minute and a half, not an hour.
		RegistryAttempts:         5,
		RegistryRetryWaitMillis:  60_000,
		RegistryRetryAfterMillis: 30_000,
		RegistryFirstByteMillis:  30_000,
		RegistryStallMillis:      30_000,
		RegistryBlobMillis:       30 * 60_000,
		RegistryParallel:         8,
		RegistryRedirects:        10, // as net/http's default client
		RegistryDiscovery:        64,
		// About 1 KiB each: 64 MiB of blob results, and the references of
		// a large registry's shard.
		SweepBlobs:      65536,
		SweepReferences: 2_000_000,
		SweepReference:  4096, // no reference is longer
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
	case ArchiveTail:
		return &l.ArchiveTail, nil, nil
	case StreamDocuments:
		return &l.StreamDocuments, nil, nil
	case SubjectDigests:
		return nil, &l.SubjectDigests, nil
	case SignatureFile:
		return &l.SignatureFile, nil, nil
	case ClaimFile:
		return &l.ClaimFile, nil, nil
	case KeyFile:
		return &l.KeyFile, nil, nil
	case PolicyFile:
		return &l.PolicyFile, nil, nil
	case TrustedRoot:
		return &l.TrustedRoot, nil, nil
	case CertificateFile:
		return &l.CertificateFile, nil, nil
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
	case RegistryRedirects:
		return nil, &l.RegistryRedirects, nil
	case RegistryDiscovery:
		return nil, &l.RegistryDiscovery, nil
	case SweepBlobs:
		return nil, &l.SweepBlobs, nil
	case SweepReferences:
		return nil, &l.SweepReferences, nil
	case SweepReference:
		return nil, &l.SweepReference, nil
	}
	return nil, nil, nil
}

// Kinds lists every limit kind, for documentation and flags.
func Kinds() []Kind {
	return []Kind{IndexDocument, ManifestDocument, ConfigDocument, ArchiveMetadata, AttestationDocument,
		JSONDepth, IndexDepth, Descriptors, LayerDecompressed, CompressionRatio, ZstdWindow,
		ArchiveEntries, TarHeader, Signatures, Subjects, Attestations, LinkHops, LayerEntries, ArchiveTail, StreamDocuments,
		SubjectDigests, SignatureFile, ClaimFile, KeyFile, PolicyFile, TrustedRoot, CertificateFile,
		RegistryAttempts, RegistryRetryWait, RegistryRetryAfter, RegistryFirstByte, RegistryStall,
		RegistryBlobTime, RegistryParallel, RegistryRedirects, RegistryDiscovery,
		SweepBlobs, SweepReferences, SweepReference}
}

// Registry reports whether a kind bounds registry requests rather than
// input bytes. Those limits end in an E_FETCH finding, not E_LIMIT_EXCEEDED,
// or, for RegistryDiscovery, in subjects that are not searched.
func (k Kind) Registry() bool {
	switch k {
	case RegistryAttempts, RegistryRetryWait, RegistryRetryAfter, RegistryFirstByte, RegistryStall,
		RegistryBlobTime, RegistryParallel, RegistryRedirects, RegistryDiscovery:
		return true
	}
	return false
}

// Sweep reports whether a kind bounds a sweep over many images rather
// than one verification; package sweep tests them end to end.
func (k Kind) Sweep() bool { return k == SweepBlobs || k == SweepReferences || k == SweepReference }

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
