// The verifier's Web Worker: it loads the Go WebAssembly module once and
// runs each request off the page's main thread, posting progress events.
//
// The worker hands the module faster engines (see verify.Engines): a pool
// of blob workers that digest whole layers with the browser's
// DecompressionStream and hash-wasm's SHA-256 and CRC-32, and the same
// engines fed by the module for the rest. When an engine fails (a
// multi-member gzip stream, which DecompressionStream rejects, or corrupt
// data), the module verifies the input again with its own Go code, so the
// report never depends on them.
"use strict";
importScripts("wasm_exec.js", "vendor/hash-wasm-sha256.umd.min.js", "vendor/hash-wasm-crc32.umd.min.js", "engines.js");

const engines = imgproofEngines();

// pool digests whole layers in one blob worker per core (at least two), so
// that layers are hashed and gunzipped in parallel; undefined if workers
// cannot start here, and then this worker's engines do the work.
let pool = engines.blobPool("blob-worker.js", Math.max(2, Math.min(navigator.hardwareConcurrency || 2, 8)));
const poolReady = pool ? pool.ready.catch(() => { pool.terminate(); pool = undefined; }) : Promise.resolve();

// pickEngines maps the page's choice ("go", "gunzip", "sha256", "inline"
// for the whole-blob engine in this worker, "stream" for no whole-blob
// engine; unset means all, with the pool) to the engines handed to the
// module and the number of blobs it digests at once. blobMin, if a
// number, is the smallest blob given to the whole-blob engine.
function pickEngines(choice, blobMin, blobs) {
  const { gunzip, sha256, read } = engines;
  // counted counts what the whole-blob engine f is offered and digests,
  // and gives it blobMin.
  const counted = (f) => {
    if (!f) return f;
    const g = async (...a) => {
      blobs.offered++;
      const r = await f(...a);
      if (r) blobs.digested++;
      return r;
    };
    return blobMin >= 0 ? Object.assign(g, { minSize: blobMin }) : g;
  };
  const blob = counted(engines.blob);
  switch (choice) {
    case "go": return { engines: false };
    case "gunzip": return { engines: { gunzip } };
    case "sha256": return { engines: { sha256 } };
    case "stream": return { engines: { gunzip, sha256, read } };
    case "inline": return { engines: { gunzip, sha256, read, blob } };
    default: return pool
      ? { engines: { gunzip, sha256, read, blob: counted(pool) }, parallelism: pool.size }
      : { engines: { gunzip, sha256, read, blob } };
  }
}

let memory = null; // the module's linear memory, for the bench's report

const api = new Promise((resolve, reject) => {
  globalThis.imgproofReady = resolve;
  const go = new Go();
  const load = async () => {
    const resp = fetch("imgproof.wasm");
    let result;
    try {
      result = await WebAssembly.instantiateStreaming(resp, go.importObject);
    } catch (err) {
      // Some static hosts serve .wasm without application/wasm.
      const bytes = await (await fetch("imgproof.wasm")).arrayBuffer();
      result = await WebAssembly.instantiate(bytes, go.importObject);
    }
    memory = result.instance.exports.mem;
    go.run(result.instance).then(() => reject(new Error("the verifier exited")));
  };
  load().catch(reject);
});

Promise.all([api, poolReady]).then(
  ([a]) => postMessage({ type: "ready", version: a.version }),
  (err) => postMessage({ type: "fatal", message: String(err && err.message || err) }),
);

onmessage = async (ev) => {
  const { id, op, input, options } = ev.data;
  try {
    const a = await api;
    const blobs = { offered: 0, digested: 0 };
    const picked = pickEngines(options && options.engines, options && options.blobMin, blobs);
    const opts = Object.assign({ parallelism: picked.parallelism }, options, {
      engines: picked.engines,
      onProgress: (name, done, total) => postMessage({ id, type: "progress", name, done, total }),
    });
    const json = await (op === "inspect" ? a.inspect(input, opts) : a.verify(input, opts));
    postMessage({ id, type: "result", json, blobs, wasmMemory: memory ? memory.buffer.byteLength : 0 });
  } catch (err) {
    postMessage({ id, type: "error", message: String(err && err.message || err) });
  }
};
