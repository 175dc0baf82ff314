// imgproof's verifier as a JavaScript module, for browsers and Node.js.
//
//   import { verify } from "imgproof";
//   const report = await verify(file);              // a File or Blob: tar or tar.gz
//   const report = await verify({ "index.json": b1, "blobs/sha256/…": b2 }); // a layout folder
//   report.verdict; // "VERIFIED" | "FAILED" | "UNVERIFIABLE"
//
// The report is the same object that `imgproof verify --output json`
// prints. Files are read in chunks with Blob.slice, never whole.

let loading = null;

function isNode() {
  return typeof process !== "undefined" && process.versions != null && process.versions.node != null;
}

async function wasmSource(wasm) {
  if (wasm instanceof WebAssembly.Module) return { module: wasm };
  if (wasm instanceof ArrayBuffer || ArrayBuffer.isView(wasm)) return { bytes: wasm };
  const url = wasm ?? new URL("./imgproof.wasm", import.meta.url);
  if (isNode() && (typeof url === "string" ? !/^https?:/.test(url) : url.protocol === "file:")) {
    const { readFile } = await import("node:fs/promises");
    return { bytes: await readFile(url) };
  }
  return { response: fetch(url) };
}

/**
 * Loads and starts the WebAssembly module once; later calls return the same
 * instance. Call it early to take the load off the first verify().
 * @param {{wasm?: string | URL | ArrayBuffer | ArrayBufferView | WebAssembly.Module}} [options]
 */
export function load(options = {}) {
  if (loading) return loading;
  loading = (async () => {
    if (typeof globalThis.Go !== "function") await import("./wasm_exec.js");
    if (typeof globalThis.imgproofEngines !== "function") await import("./engines.js");
    defaultEngines = await nativeEngines();
    const go = new globalThis.Go();
    const src = await wasmSource(options.wasm);
    let instance;
    if (src.module) instance = await WebAssembly.instantiate(src.module, go.importObject);
    else if (src.bytes) instance = (await WebAssembly.instantiate(src.bytes, go.importObject)).instance;
    else {
      try {
        instance = (await WebAssembly.instantiateStreaming(src.response, go.importObject)).instance;
      } catch {
        const bytes = await (await fetch(options.wasm ?? new URL("./imgproof.wasm", import.meta.url))).arrayBuffer();
        instance = (await WebAssembly.instantiate(bytes, go.importObject)).instance;
      }
    }
    const ready = new Promise((resolve) => { globalThis.imgproofReady = resolve; });
    go.run(instance);
    return ready;
  })();
  loading.catch(() => { loading = null; });
  return loading;
}

let defaultEngines;
const blobParallelism = 4;

// nativeEngines makes the default engines: the runtime's DecompressionStream
// for gzip, with node:crypto's SHA-256 and node:zlib's CRC-32 in Node.js
// and hash-wasm's in browsers; the whole-blob engine runs on them in this
// thread.
async function nativeEngines() {
  if (isNode()) {
    const { createHash } = await import("node:crypto");
    const zlib = await import("node:zlib");
    return globalThis.imgproofEngines({
      sha256: () => {
        const h = createHash("sha256");
        return { update: (bytes) => { h.update(bytes); }, digest: () => new Uint8Array(h.digest()) };
      },
      crc32: typeof zlib.crc32 === "function" ? () => {
        let c = 0;
        return { update: (bytes) => { c = zlib.crc32(bytes, c); }, digest: () => c };
      } : undefined,
    });
  }
  if (!globalThis.hashwasm?.createSHA256) await import("./hash-wasm-sha256.umd.min.js");
  if (!globalThis.hashwasm?.createCRC32) await import("./hash-wasm-crc32.umd.min.js");
  return globalThis.imgproofEngines();
}

function goOptions(options) {
  const o = {};
  if (options.engines === undefined) {
    const { gunzip, sha256, read, blob } = defaultEngines;
    o.engines = { gunzip, sha256, read, blob };
    // Whole layers are digested by the runtime's code, which waits on
    // reads and, in Node.js, gunzips off the main thread: several layers
    // at once keep it busy.
    if (blob) o.parallelism = blobParallelism;
  } else o.engines = options.engines;
  if (options.name != null) o.name = String(options.name);
  if (options.platform != null) o.platform = String(options.platform);
  if (options.parallelism != null) o.parallelism = Number(options.parallelism);
  for (const k of ["attestations", "keys", "policy", "threshold", "certificateIdentity", "certificateIdentityRegexp",
    "certificateOidcIssuer", "certificateOidcIssuerRegexp", "limits"]) {
    if (options[k] != null) o[k] = options[k];
  }
  if (typeof options.onProgress === "function") {
    const cb = options.onProgress;
    o.onProgress = (name, done, total) => cb({ name, done, total });
  }
  return o;
}

/**
 * Verifies an image and resolves to the report's exact JSON text, byte for
 * byte what `imgproof verify --output json` prints (without the final
 * newline).
 * @param {Blob | Blob[] | FileList | Record<string, Blob>} input
 * @param {import("./index.d.ts").VerifyOptions} [options]
 * @returns {Promise<string>}
 */
export async function verifyJSON(input, options = {}) {
  const api = await load(options);
  return api.verify(input, goOptions(options));
}

/**
 * Verifies an image and resolves to the report.
 * @param {Blob | Blob[] | FileList | Record<string, Blob>} input
 * @param {import("./index.d.ts").VerifyOptions} [options]
 * @returns {Promise<import("./index.d.ts").Report>}
 */
export async function verify(input, options = {}) {
  return JSON.parse(await verifyJSON(input, options));
}

/**
 * Like verify, without progress events: reads the image graph and its
 * recomputed identities.
 * @param {Blob | Blob[] | FileList | Record<string, Blob>} input
 * @param {import("./index.d.ts").VerifyOptions} [options]
 * @returns {Promise<import("./index.d.ts").Report>}
 */
export async function inspect(input, options = {}) {
  const api = await load(options);
  return JSON.parse(await api.inspect(input, goOptions(options)));
}

/** The verdict's exit code, as the CLI uses it: 0, 1 or 2. */
export function exitCode(report) {
  return report.verdict === "VERIFIED" ? 0 : report.verdict === "FAILED" ? 1 : 2;
}
