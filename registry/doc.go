//go:build !js

// Package registry reads an image straight from a registry and verifies it
// with the same core as a local OCI layout.
//
// The registry is exposed to the core as an fs.FS that looks like an OCI
// image layout: a synthesized oci-layout file, a synthesized index.json that
// lists the root descriptor (whose digest is computed here from the manifest
// bytes, never taken from a header) plus any signatures and attestations
// discovered for it, and blobs/<alg>/<hex> files that are fetched lazily by
// digest. Nothing the registry says decides an identity: every byte is
// re-hashed by the core, and headers such as Docker-Content-Digest and
// Content-Type are only compared.
//
// Fetch rules:
//   - Docker schema 1 manifests are refused;
//   - manifests are read under the manifest size limit, blob bodies stop at
//     the descriptor's size plus one byte, so a lying registry costs at most
//     one byte more than the claim;
//   - credentials are bound to the registry host and never sent to a
//     redirect target on another host;
//   - plain HTTP is used only for loopback registries, or when asked for
//     with Options.InsecureUnsafe;
//   - every response has a header deadline and an idle-read deadline.
//
// Attestations are discovered through cosign's sha256-<hex>.sig and .att
// tags, the OCI 1.1 referrers API and its sha256-<hex> fallback tag. They
// are added to the synthesized index.json with the annotations cosign save
// writes, so they are verified exactly as in a local layout.
//
// This package is native-only: it uses net/http and is not part of the
// WebAssembly build.
package registry
