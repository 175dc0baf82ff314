package verify

// Code is a stable finding code. Tests and policies match on codes, never on
// messages. The codes here are the verifier's own; the packages above it
// define theirs beside the code that raises them (attest/codes.go,
// registry/codes.go) and set the severity when it is not error.
type Code string

// Content addressing.
const (
	CodeInvalidDigest        Code = "E_INVALID_DIGEST"
	CodeUnsupportedAlgorithm Code = "E_UNSUPPORTED_ALGORITHM"
	CodeDigestMismatch       Code = "E_DIGEST_MISMATCH"
	CodeSizeMismatch         Code = "E_SIZE_MISMATCH"
	CodeInvalidDescriptor    Code = "E_INVALID_DESCRIPTOR"
	CodeDataMismatch         Code = "E_DATA_MISMATCH"
	CodeBlobMissing          Code = "E_BLOB_MISSING"
	CodeDiffIDMismatch       Code = "E_DIFFID_MISMATCH"
	CodeLayerCountMismatch   Code = "E_LAYER_COUNT_MISMATCH"
	CodeForeignLayer         Code = "E_FOREIGN_LAYER"
)

// Documents.
const (
	CodeAmbiguousDocument    Code = "E_AMBIGUOUS_DOCUMENT"
	CodeMediaTypeMismatch    Code = "E_MEDIATYPE_MISMATCH"
	CodeUnsupportedMediaType Code = "E_UNSUPPORTED_MEDIATYPE"
	CodeJSONSyntax           Code = "E_JSON_SYNTAX"
	CodeJSONDuplicateKey     Code = "E_JSON_DUPLICATE_KEY"
	CodeJSONKeyAlias         Code = "E_JSON_KEY_ALIAS"
	CodeJSONInvalidUTF8      Code = "E_JSON_INVALID_UTF8"
	CodeJSONNumber           Code = "E_JSON_NUMBER"
	CodeInvalidDocument      Code = "E_INVALID_DOCUMENT"
	CodePlatformMismatch     Code = "E_PLATFORM_MISMATCH"
	CodeAmbiguousPlatform    Code = "E_AMBIGUOUS_PLATFORM"
	CodeNoMatchingPlatform   Code = "E_NO_MATCHING_PLATFORM"
)

// Archives, layouts and compression. docs/hostile.md ("Archive framing")
// lists which damage to an archive gives which code.
const (
	CodeArchiveUnsafePath Code = "E_ARCHIVE_UNSAFE_PATH"
	// CodeArchiveLink: a link where none may be (metadata files, layout
	// directories), a link that leaves the archive, a cycle, or a hard
	// link to an entry that comes later.
	CodeArchiveLink           Code = "E_ARCHIVE_LINK"
	CodeArchiveDuplicateEntry Code = "E_ARCHIVE_DUPLICATE_ENTRY"
	// CodeArchiveAmbiguous: tar readers disagree on where an entry ends.
	CodeArchiveAmbiguous    Code = "E_ARCHIVE_AMBIGUOUS"
	CodeArchiveViewMismatch Code = "E_ARCHIVE_VIEW_MISMATCH"
	// CodeArchiveTruncated: the archive, or its outer gzip stream, ends
	// before an entry's data, its padding, a header, the end-of-archive
	// marker or the gzip trailer.
	CodeArchiveTruncated Code = "E_ARCHIVE_TRUNCATED"
	// CodeArchiveTrailingData: non-zero bytes after the end-of-archive
	// marker; a warning.
	CodeArchiveTrailingData Code = "E_ARCHIVE_TRAILING_DATA"
	// CodeArchiveInvalid: an unreadable tar header, non-zero padding, an
	// unsupported entry type or an empty archive.
	CodeArchiveInvalid     Code = "E_ARCHIVE_INVALID"
	CodeLayoutInvalid      Code = "E_LAYOUT_INVALID"
	CodeConfigNameMismatch Code = "E_CONFIG_NAME_MISMATCH"
	// CodeUnknownFormat: the input is no layout and no tar archive,
	// gzipped or plain; the source's format is reported as unknown.
	CodeUnknownFormat Code = "E_UNKNOWN_FORMAT"
	// CodeDecompress: a layer or the outer gzip stream of an archive does
	// not decompress: corrupt data, a CRC-32 or ISIZE that does not match,
	// or bytes after the last gzip member.
	CodeDecompress          Code = "E_DECOMPRESS"
	CodeUnsupportedCompress Code = "E_UNSUPPORTED_COMPRESSION"
	CodeLimitExceeded       Code = "E_LIMIT_EXCEEDED"
	CodeLayerContent        Code = "E_LAYER_CONTENT"
	CodeLayerNotTar         Code = "E_LAYER_NOT_TAR"
	CodeRead                Code = "E_READ"
	CodeInternal            Code = "E_INTERNAL"
)

// Warnings about genuine producer output that verifies (docs/interop.md
// §Producer quirks).
const (
	// CodeJSONKeyCase: docker save metadata spells a key in other ASCII
	// case (Jib's "config" for "Config"); Docker reads it the same way.
	CodeJSONKeyCase Code = "W_JSON_KEY_CASE"
	// CodeArchiveViewEmpty: one view of a Docker 25+ archive (index.json or
	// manifest.json) names no image, so the other view decides.
	CodeArchiveViewEmpty Code = "W_ARCHIVE_VIEW_EMPTY"
)

// Notes: they never change the verdict on their own.
const (
	// CodeManifestDigestUnrecoverable: a classic docker-save archive keeps no
	// registry manifest, so the manifest digest cannot be recomputed.
	CodeManifestDigestUnrecoverable Code = "I_MANIFEST_DIGEST_UNRECOVERABLE"
	// CodeUnverifiedMetadata: data that no digest covers, such as RepoTags
	// or annotations in index.json.
	CodeUnverifiedMetadata Code = "I_UNVERIFIED_METADATA"
	// CodeUnusedBlob: a blob in a layout or archive that nothing references.
	CodeUnusedBlob Code = "I_UNUSED_BLOB"
	// CodeUnselectedPlatform: with a platform selected, the manifests of
	// the other platforms were verified by digest only.
	CodeUnselectedPlatform Code = "I_UNSELECTED_PLATFORM"
	// CodeAbsentPlatforms: an index lists manifests of platforms that the
	// source does not hold (a single-platform export); the note names them.
	CodeAbsentPlatforms Code = "I_ABSENT_PLATFORMS"
)

// The verdict's own floor.
const (
	// CodeNothingVerified: zero checks ran, which is never VERIFIED; the
	// verdict is UNVERIFIABLE.
	CodeNothingVerified Code = "E_NOTHING_VERIFIED"
)

// DefaultSeverity is the severity a code gets when a finding sets none.
func (c Code) DefaultSeverity() Severity {
	switch c {
	case CodeUnsupportedAlgorithm, CodeBlobMissing, CodeLimitExceeded, CodeForeignLayer,
		CodeNothingVerified, CodeUnsupportedCompress, CodeRead, CodeNoMatchingPlatform:
		return SeverityUnverifiable
	case CodeManifestDigestUnrecoverable, CodeUnverifiedMetadata, CodeUnusedBlob, CodeUnselectedPlatform, CodeAbsentPlatforms:
		return SeverityInfo
	case CodeArchiveTrailingData, CodeArchiveViewEmpty, CodeJSONKeyCase:
		return SeverityWarning
	default:
		return SeverityError
	}
}
