// A member of the page worker's pool of blob workers (see blobPool in
// engines.js): it hashes and gunzips whole layers with the browser's
// DecompressionStream and hash-wasm, so that layers are digested in as many
// threads as the machine has while the Go module checks what they prove.
"use strict";
importScripts("vendor/hash-wasm-sha256.umd.min.js", "vendor/hash-wasm-crc32.umd.min.js", "engines.js");

imgproofEngines().serveBlobs();
postMessage({ type: "ready" });
