// Package verify recomputes every content-addressed identity of a container
// image from its bytes and checks each link between them.
//
// An image is a graph of content-addressed nodes:
//
//	index ──► manifest (per platform) ──► config ──► rootfs.diff_ids[i] ══ sha256(uncompressed layer i)
//	                │                        └─ image ID = digest(config bytes)
//	                └──► layers[i] ══ digest(stored blob i), size
//
// The verifier builds this graph from bytes only. Small documents (indexes,
// manifests, configs) are read whole under a size cap, hashed, and parsed
// from the same bytes by a strict decoder (package strictjson), so a digest
// can only ever mean one document. Layer blobs stream once through a size
// limiter, the blob hash, a decompressor chosen by magic bytes (and checked
// against the media type) and the diff_id hash; memory does not depend on
// blob size, and layers are hashed in parallel.
//
// Every broken or unverifiable link becomes a Finding that names the node
// (for example index.json/manifests[1]/layers[2]), the expected and actual
// values and how the actual value was computed. The Report's verdict is
// VERIFIED only when every required check ran on the exact bytes and passed;
// zero checks is never VERIFIED.
//
// The package is safe for GOOS=js GOARCH=wasm: it takes an fs.FS, an
// io.ReaderAt or an io.Reader and never opens files or sockets itself.
package verify
