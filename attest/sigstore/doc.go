// Package sigstore verifies sigstore bundles (v0.1 to v0.3), raw blob
// signatures and DSSE envelopes fully offline, against a pinned
// trusted_root.json or a PEM public key.
//
// The cryptography is sigstore-go's pkg/verify; this package chooses a
// strict policy, fails closed on every parse error, and reports each check
// that ran so the result can become an attest.Attestation.
//
// A keyless bundle is VERIFIED only when all of these hold:
//   - the bundle parses (protobuf JSON, unknown fields rejected) and its
//     media type names a known version;
//   - at least one transparency log entry verifies against a log in the
//     trusted root: its signed entry timestamp (Rekor v1) or its inclusion
//     proof with a checkpoint signed by the log (Rekor v1 and v2);
//   - at least one observer timestamp verifies (a log's integrated time or
//     an RFC 3161 timestamp from a trusted authority), and every RFC 3161
//     timestamp present verifies;
//   - the Fulcio chain leads to a trusted certificate authority and is
//     valid at every verified timestamp, with an embedded SCT from a trusted
//     CT log;
//   - the certificate's subject alternative name and OIDC issuer match the
//     policy, each exactly or by a fully anchored regular expression;
//   - the signature verifies over the artifact (or, for DSSE, over the
//     envelope, with a statement subject equal to the artifact's digest).
//
// The package uses sigstore-go's bundle and verify packages, which do not
// build for js/wasm; every file that imports them carries //go:build !js.
package sigstore
