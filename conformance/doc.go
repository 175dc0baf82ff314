// Package conformance checks an image source against named rules, one for
// each MUST and SHOULD of the OCI image spec (descriptor, manifest, index,
// config, image layout, annotations, layer changesets) and of the docker
// save format (manifest.json, repositories, legacy layer directories).
//
// Each Rule has a stable ID, a level, the clause it enforces quoted with its
// section, and the check that implements it. Digest, size, diff_id,
// platform and strict-JSON rules are the verify core's checks: its finding
// codes map to rules (Rule.Codes). Structure rules parse the documents the
// verifier read (Result.ReadBlob) and check each field. Layer-content rules
// (CheckLayer) run on the decompressed stream that the verifier hands to
// its LayerContent hook in the same pass that hashes the layer: nothing is
// extracted and nothing is written to disk.
//
// The package is wasm-safe: it reads through fs.FS and io.ReaderAt only.
package conformance
