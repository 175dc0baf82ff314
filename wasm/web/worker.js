// The verifier's Web Worker: it loads the Go WebAssembly module once and
// runs each request off the page's main thread, posting progress events.
// Inside a worker the module reads files synchronously with FileReaderSync.
"use strict";
importScripts("wasm_exec.js");

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
      onProgress: (name, done, total) => postMessage({ id, type: "progress", name, done, total }),
    });
    const json = await (op === "inspect" ? a.inspect(input, opts) : a.verify(input, opts));
    postMessage({ id, type: "result", json, wasmMemory: memory ? memory.buffer.byteLength : 0 });
  } catch (err) {
    postMessage({ id, type: "error", message: String(err && err.message || err) });
  }
};
