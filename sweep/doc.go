// Package sweep verifies many images in one process, reading each distinct
// blob once.
//
// A sweep takes references from a list or from a registry's catalog and
// tag listings, keeps those of one shard (all tags of a repository go to
// the same shard, so that their shared layers are read by one process),
// verifies each image exactly as registry.Verify does, and writes one
// imgproof.report/v1 report per image as a line of JSON, then a summary
// line.
//
// Blob evidence is shared through a verify.BlobCache: a bounded,
// least-recently-used set keyed by the blob's digest within one registry
// host (or one repository). Each image still checks its own claims (size,
// digest, media type, diff_id) against the shared evidence, so a blob that
// failed to hash to its digest fails every image that names it, and an
// image can only get the verdict a fresh read of the same bytes gives it.
package sweep
