// The verifier's Web Worker: it loads the Go WebAssembly module once and
// runs each request off the page's main thread, posting progress events.
//
// The worker hands the module two faster engines (see verify.Engines): the
// browser's DecompressionStream for gzip, and hash-wasm's SHA-256. When an
// engine fails (a multi-member gzip stream, which DecompressionStream
// rejects, or corrupt data), the module verifies the input again with its
// own Go code, so the report never depends on them.
"use strict";
importScripts("wasm_exec.js", "vendor/hash-wasm-sha256.umd.min.js", "engines.js");

const engines = imgproofEngines();

// pickEngines maps the page's choice ("go", "gunzip", "sha256"; unset
// means both) to the engines handed to the module.
function pickEngines(choice) {
  switch (choice) {
    case "go": return false;
    case "gunzip": return { gunzip: engines.gunzip };
    case "sha256": return { sha256: engines.sha256 };
    default: return engines;
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

api.then(
  (a) => postMessage({ type: "ready", version: a.version }),
  (err) => postMessage({ type: "fatal", message: String(err && err.message || err) }),
);

onmessage = async (ev) => {
  const { id, op, input, options } = ev.data;
  try {
    const a = await api;
    const opts = Object.assign({}, options, {
      engines: pickEngines(options && options.engines),
      onProgress: (name, done, total) => postMessage({ id, type: "progress", name, done, total }),
    });
    const json = await (op === "inspect" ? a.inspect(input, opts) : a.verify(input, opts));
    postMessage({ id, type: "result", json, wasmMemory: memory ? memory.buffer.byteLength : 0 });
  } catch (err) {
    postMessage({ id, type: "error", message: String(err && err.message || err) });
  }
};
