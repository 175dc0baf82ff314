// imgproofEngines makes the engines that the verifier's module may use
// instead of its own Go code (options.engines; see verify.Engines in the
// Go sources): the runtime's DecompressionStream for gzip, a SHA-256 such
// as hash-wasm's, and a sequential File reader over Blob.stream(). The report is the same with them or without: when an
// engine fails (DecompressionStream rejects multi-member gzip, for one), the
// module verifies the input again with its Go code.
//
// A classic script, so that a worker can importScripts it and an ES module
// can import it; it sets globalThis.imgproofEngines.
"use strict";

(function () {
  // gunzip returns a maker of gzip decoders over DecompressionStream, or
  // undefined when the runtime has none. A decoder takes compressed bytes
  // with write(bytes) (resolving once the stream took them, so the caller
  // may reuse the buffer) and close(), and hands out what it decompressed
  // with readInto(target), which fills a caller's buffer and resolves to the
  // byte count, 0 at the end. Each call crosses between the module and
  // JavaScript, so the module passes large buffers, and no buffer is
  // allocated per call.
  function gunzip() {
    if (typeof DecompressionStream !== "function") return undefined;
    return () => {
      const ds = new DecompressionStream("gzip");
      const writer = ds.writable.getWriter();
      const reader = ds.readable.getReader();
      let rest = null; // the part of a decompressed chunk not yet handed out
      let ended = false;
      return {
        write: (bytes) => writer.write(bytes),
        close: () => writer.close(),
        abort: (reason) => writer.abort(reason).catch(() => {}),
        cancel: () => { ended = true; reader.cancel().catch(() => {}); },
        async readInto(target) {
          let n = 0;
          while (n < target.length) {
            if (!rest) {
              if (ended) break;
              const { done, value } = await reader.read();
              if (done) {
                ended = true;
                break;
              }
              rest = value;
            }
            const m = Math.min(rest.length, target.length - n);
            target.set(m === rest.length ? rest : rest.subarray(0, m), n);
            n += m;
            rest = m === rest.length ? null : rest.subarray(m);
          }
          return n;
        },
      };
    };
  }

  // read opens a sequential reader of blob from byte start, over
  // Blob.stream(): one request for the whole rest of the file instead of one
  // per slice, read with a BYOB reader into one reused buffer where the
  // runtime allows it. fill(max) resolves to a view of up to max bytes (fewer
  // only at the end), valid until the next call; cancel() stops it.
  function read(blob, start) {
    const stream = blob.slice(start).stream();
    let reader;
    let byob = true;
    try {
      reader = stream.getReader({ mode: "byob" });
    } catch {
      reader = stream.getReader();
      byob = false;
    }
    let buf = new ArrayBuffer(readBytes);
    let rest = null;
    let ended = false;
    return {
      async fill(max) {
        max = Math.min(max, readBytes);
        let n = 0;
        while (n < max && !ended) {
          if (byob) {
            const { done, value } = await reader.read(new Uint8Array(buf, n, max - n));
            if (value) {
              buf = value.buffer;
              n += value.byteLength;
            }
            if (done) ended = true;
            continue;
          }
          if (!rest) {
            const { done, value } = await reader.read();
            if (done) {
              ended = true;
              break;
            }
            rest = value;
          }
          const m = Math.min(rest.length, max - n);
          new Uint8Array(buf, n, m).set(m === rest.length ? rest : rest.subarray(0, m));
          n += m;
          rest = m === rest.length ? null : rest.subarray(m);
        }
        return new Uint8Array(buf, 0, n);
      },
      cancel() {
        ended = true;
        reader.cancel().catch(() => {});
      },
    };
  }
  const readBytes = 4 << 20;

  // hashWasmSHA256 adapts hash-wasm's createSHA256 to the module's hasher
  // interface: update(Uint8Array) and digest() -> Uint8Array.
  function hashWasmSHA256(createSHA256) {
    return async () => {
      const h = await createSHA256();
      return { update: (bytes) => { h.update(bytes); }, digest: () => h.digest("binary") };
    };
  }

  // imgproofEngines({sha256}) returns the engines: the gzip engine, and
  // sha256 if given, or hash-wasm's when globalThis.hashwasm is loaded.
  globalThis.imgproofEngines = function imgproofEngines(opts = {}) {
    let sha256 = opts.sha256;
    if (!sha256 && globalThis.hashwasm && typeof globalThis.hashwasm.createSHA256 === "function") {
      sha256 = hashWasmSHA256(globalThis.hashwasm.createSHA256);
    }
    return { gunzip: gunzip(), sha256, read };
  };
})();
