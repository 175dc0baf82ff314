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

  // blob makes the whole-blob engine (verify.Engines.Blob in the Go
  // sources) over the given hashers: sha256() and crc32() return a hasher
  // (or a Promise of one) with update(Uint8Array); sha256's digest()
  // returns a Uint8Array, crc32's a number. The engine reads
  // blob.slice(start, end) through Blob.stream() in this thread, hashes the
  // stored bytes and, when they are gzip, pipes them through
  // DecompressionStream into the second SHA-256 and the CRC-32 of the
  // output, under the request's bomb guard. It resolves to the result that
  // the Go module checks, or to null for compressions it leaves to the Go
  // code (zstd, xz, bzip2).
  function blob(hashers) {
    if (typeof DecompressionStream !== "function" || !hashers.sha256 || !hashers.crc32) return undefined;
    return async (file, start, end, req = {}) => {
      const reader = file.slice(start, end).stream().getReader();
      let first = await readSome(reader, 8);
      if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) return gunzipBlob(reader, first, hashers, req);
      if (otherCompression(first)) {
        reader.cancel().catch(() => {});
        return null;
      }
      return plainBlob(reader, first, hashers, req);
    };
  }

  // readSome reads until it has at least n bytes or the stream ends.
  async function readSome(reader, n) {
    const parts = [];
    let got = 0;
    while (got < n) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      got += value.length;
    }
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(got);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  // otherCompression matches the magic numbers of zstd (and its skippable
  // frames), xz and bzip2, which the Go code decompresses or reports.
  function otherCompression(b) {
    const has = (m) => b.length >= m.length && m.every((x, i) => b[i] === x);
    const skippable = b.length >= 4 && (b[0] & 0xf0) === 0x50 && b[1] === 0x2a && b[2] === 0x4d && b[3] === 0x18;
    return skippable || has([0x28, 0xb5, 0x2f, 0xfd]) || has([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) || has([0x42, 0x5a, 0x68]);
  }

  // storedSide hashes the stored bytes and keeps their first and last 8
  // bytes, and reports progress every few MiB.
  async function storedSide(hashers, first, req) {
    const h = await hashers.sha256();
    const side = {
      size: 0,
      magic: first.slice(0, 8),
      tail: new Uint8Array(8),
      nextProgress: progressStep,
      add(chunk) {
        h.update(chunk);
        side.size += chunk.length;
        if (chunk.length >= 8) side.tail = chunk.slice(chunk.length - 8);
        else if (chunk.length > 0) {
          const t = new Uint8Array(8);
          t.set(side.tail.subarray(chunk.length));
          t.set(chunk, 8 - chunk.length);
          side.tail = t;
        }
        if (req.onProgress && side.size >= side.nextProgress) {
          side.nextProgress = side.size + progressStep;
          req.onProgress(side.size);
        }
      },
      digest: () => h.digest(),
    };
    return side;
  }
  const progressStep = 4 << 20;

  // firstBlock keeps the first 512 bytes of what it is given.
  function firstBlock() {
    let head = new Uint8Array(0);
    return {
      add(chunk) {
        if (head.length >= 512) return;
        const m = Math.min(512 - head.length, chunk.length);
        const h = new Uint8Array(head.length + m);
        h.set(head);
        h.set(chunk.subarray(0, m), head.length);
        head = h;
      },
      get: () => head,
    };
  }

  async function plainBlob(reader, first, hashers, req) {
    const side = await storedSide(hashers, first, req);
    const head = firstBlock();
    for (let chunk = first; ;) {
      head.add(chunk);
      side.add(chunk);
      const { done, value } = await reader.read();
      if (done) break;
      chunk = value;
    }
    return { size: side.size, sha256: side.digest(), magic: side.magic, tail: side.tail, gzip: false, head: head.get() };
  }

  async function gunzipBlob(reader, first, hashers, req) {
    const side = await storedSide(hashers, first, req);
    const out = await hashers.sha256();
    const crc = await hashers.crc32();
    const ds = new DecompressionStream("gzip");
    const writer = ds.writable.getWriter();
    const dsReader = ds.readable.getReader();
    const maxOutput = req.maxOutput ?? Infinity;
    const ratio = req.ratio ?? 0;
    const floor = req.ratioFloor ?? 0;
    const lookahead = req.lookahead ?? 0;
    let output = 0;
    const head = firstBlock();
    let failed = null;
    const fail = (err) => {
      if (failed) return;
      failed = err;
      reader.cancel().catch(() => {});
      writer.abort(err).catch(() => {});
      dsReader.cancel(err).catch(() => {});
    };
    // The decoder inflates each write whole before the guard sees its
    // output, so writes are small: a bomb queues at most about a thousand
    // times feedBytes.
    const feed = async () => {
      let chunk = first;
      while (!failed) {
        for (let at = 0; at < chunk.length && !failed; at += feedBytes) {
          const part = chunk.subarray(at, at + feedBytes);
          side.add(part);
          await writer.write(part);
        }
        const { done, value } = await reader.read();
        if (done) break;
        chunk = value;
      }
      if (!failed) await writer.close();
    };
    const drain = async () => {
      for (;;) {
        const { done, value } = await dsReader.read();
        if (done) return;
        output += value.length;
        if (output > maxOutput || (ratio > 0 && output > floor && output > ratio * Math.max(side.size - lookahead, 1))) {
          throw new Error(`${req.name || "blob"}: past the bomb guard's limits`);
        }
        out.update(value);
        crc.update(value);
        head.add(value);
      }
    };
    // The first failure on either side stops both and is the one thrown.
    await Promise.all([feed().catch(fail), drain().catch(fail)]);
    if (failed) throw failed;
    return {
      size: side.size, sha256: side.digest(), magic: side.magic, tail: side.tail, gzip: true,
      output, outputSHA256: out.digest(), outputCRC32: crc.digest() >>> 0, head: head.get(),
    };
  }

  const feedBytes = 128 << 10;

  // blobPool spreads a blob engine's calls over n workers that run
  // workerURL (web/blob-worker.js), each call to the least busy one. The
  // pool has the engine's signature; a File or Blob is passed to a worker
  // without copying its bytes.
  function blobPool(workerURL, n) {
    if (typeof Worker !== "function" || !(n > 0)) return undefined;
    const workers = [];
    const calls = new Map();
    let nextID = 0;
    const started = [];
    for (let i = 0; i < n; i++) {
      const w = new Worker(workerURL);
      const entry = { w, busy: 0 };
      let ready, failed;
      started.push(new Promise((resolve, reject) => { ready = resolve; failed = reject; }));
      w.onmessage = (ev) => {
        const { id, type } = ev.data;
        if (type === "ready") return ready();
        const call = calls.get(id);
        if (!call) return;
        if (type === "progress") {
          if (call.onProgress) call.onProgress(ev.data.done);
          return;
        }
        calls.delete(id);
        entry.busy--;
        if (type === "result") call.resolve(ev.data.result);
        else call.reject(new Error(ev.data.message));
      };
      w.onerror = (ev) => {
        ev.preventDefault();
        failed(new Error(`blob worker: ${ev.message || "failed to start"}`));
        for (const [id, call] of calls) {
          if (call.entry === entry) {
            calls.delete(id);
            call.reject(new Error(`blob worker: ${ev.message || "failed"}`));
          }
        }
        entry.busy = 0;
      };
      workers.push(entry);
    }
    const run = (file, start, end, req = {}) => new Promise((resolve, reject) => {
      const entry = workers.reduce((a, b) => (b.busy < a.busy ? b : a));
      const id = nextID++;
      const { onProgress, ...plain } = req;
      calls.set(id, { resolve, reject, onProgress, entry });
      entry.busy++;
      entry.w.postMessage({ id, file, start, end, req: plain, progress: typeof onProgress === "function" });
    });
    run.size = n;
    // ready resolves once every worker has loaded its scripts, so that no
    // request is made after the caller says it is ready.
    run.ready = Promise.all(started);
    run.terminate = () => workers.forEach((e) => e.w.terminate());
    return run;
  }

  // serveBlobs makes this worker a member of a blobPool, running calls on
  // its whole-blob engine.
  function serveBlobs(engine) {
    onmessage = async (ev) => {
      const { id, file, start, end, req, progress } = ev.data;
      if (progress) req.onProgress = (done) => postMessage({ id, type: "progress", done });
      try {
        postMessage({ id, type: "result", result: await engine(file, start, end, req) });
      } catch (err) {
        postMessage({ id, type: "error", message: String((err && err.message) || err) });
      }
    };
  }

  // hashWasm adapts hash-wasm's createSHA256 or createCRC32 to the hashers
  // above: update(Uint8Array), and digest() returning a Uint8Array for
  // SHA-256 and a number for CRC-32.
  function hashWasm(create, crc) {
    return async () => {
      const h = await create();
      return {
        update: (bytes) => { h.update(bytes); },
        digest: crc ? () => parseInt(h.digest("hex"), 16) : () => h.digest("binary"),
      };
    };
  }

  // imgproofEngines({sha256, crc32}) returns the engines: the gzip engine,
  // the whole-blob engine and sha256, from the hashers given or hash-wasm's
  // when globalThis.hashwasm is loaded; plus blobPool and serveBlobs.
  globalThis.imgproofEngines = function imgproofEngines(opts = {}) {
    const hw = globalThis.hashwasm || {};
    const sha256 = opts.sha256 || (typeof hw.createSHA256 === "function" ? hashWasm(hw.createSHA256, false) : undefined);
    const crc32 = opts.crc32 || (typeof hw.createCRC32 === "function" ? hashWasm(hw.createCRC32, true) : undefined);
    const engine = blob({ sha256, crc32 });
    return { gunzip: gunzip(), sha256, read, blob: engine, blobPool, serveBlobs: () => serveBlobs(engine) };
  };
})();
