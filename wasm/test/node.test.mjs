// Runs the npm package under Node.js: its CLI must print byte for byte the
// native CLI's JSON and exit with the same code, and its API must accept
// every documented input form.
import assert from "node:assert/strict";
import { mkdirSync, openAsBlob, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { before, describe, test } from "node:test";
import { exitCode, inspect, load, verify, verifyJSON } from "../npm/index.mjs";
import { buildCorpus, buildGzipCases, comparable, nativeJSON, nodeJSON, tamper, tempDir } from "./lib.mjs";

const root = tempDir("imgproof-node-test-");
let corpus = [];
let twins = [];
let gzipCases = [];

before(async () => {
  corpus = await buildCorpus(root);
  mkdirSync(join(root, "twins"));
  twins = corpus.map((c) => tamper(c, join(root, "twins")));
  gzipCases = await buildGzipCases(root);
});

async function folderMap(dir) {
  const map = {};
  const walk = async (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else map[relative(dir, p).split(sep).join("/")] = await openAsBlob(p);
    }
  };
  await walk(dir);
  return map;
}

describe("cli.mjs", () => {
  // Each run of the CLI loads the module afresh, so a sample of the corpus
  // is run here; the API test below covers every input in one process.
  test("prints the native CLI's JSON and exit code", async (t) => {
    const sample = ["skopeo-docker-archive.tar.gz", "docker25-archive.tar", "umoci-gzip", "crane-tarball.tar"];
    const inputs = [...corpus, ...twins].filter((c) => sample.includes(c.name));
    assert.equal(inputs.length, 2 * sample.length);
    for (const input of inputs) {
      await t.test(input.path.slice(root.length + 1), async () => {
        const [native, node] = await Promise.all([nativeJSON(input), nodeJSON(input)]);
        assert.ok(native.stdout.startsWith("{"), `native CLI printed no JSON: ${native.stderr}`);
        if (node.stdout !== native.stdout) assert.deepEqual(comparable(JSON.parse(node.stdout)), comparable(JSON.parse(native.stdout)));
        assert.equal(node.code, native.code);
      });
    }
  });

  test("passes --platform through", async () => {
    for (const name of ["crane-multiarch", "skopeo-multiarch-oci-archive.tar"]) {
      const input = corpus.find((c) => c.name === name);
      const [native, node] = await Promise.all([
        nativeJSON(input, ["--platform", "linux/arm64"]),
        nodeJSON(input, ["--platform", "linux/arm64"]),
      ]);
      assert.equal(node.stdout, native.stdout);
      const report = JSON.parse(node.stdout);
      assert.ok(report.images.some((i) => i.platform?.architecture === "arm64"));
      assert.ok(!report.images.some((i) => i.platform?.architecture === "amd64"), "--platform did not select");
    }
  });

  test("rejects bad usage with exit code 64", async () => {
    const input = corpus[0];
    const { execFile } = await import("node:child_process");
    for (const args of [[], ["frobnicate", input.path], ["verify"], ["verify", "--output", "text", input.path], ["verify", "--bogus", input.path]]) {
      const code = await new Promise((res) => execFile(process.execPath, [new URL("../npm/cli.mjs", import.meta.url).pathname, ...args], (err) => res(err ? err.code : 0)));
      assert.equal(code, 64, `args ${JSON.stringify(args)}`);
    }
  });
});

describe("the JS API", () => {
  test("verifyJSON gives the native CLI's exact JSON for every image and twin", async (t) => {
    assert.ok(corpus.length >= 10);
    for (const input of [...corpus, ...twins]) {
      await t.test(input.path.slice(root.length + 1), async () => {
        const native = await nativeJSON(input);
        assert.ok(native.stdout.startsWith("{"), `native CLI printed no JSON: ${native.stderr}`);
        const blob = input.dir ? await folderMap(input.path) : await openAsBlob(input.path);
        const got = await verifyJSON(blob, { name: input.name });
        if (got + "\n" !== native.stdout) assert.deepEqual(comparable(JSON.parse(got)), comparable(JSON.parse(native.stdout)));
        assert.equal(exitCode(JSON.parse(got)), native.code);
      });
    }
  });

  test("the default engines, engines: false and custom engines give the CLI's JSON on every gzip case", async (t) => {
    assert.ok(gzipCases.length >= 10);
    let gunzips = 0;
    let hashed = 0;
    const { createHash } = await import("node:crypto");
    const counting = {
      gunzip: () => { gunzips++; return globalThis.imgproofEngines().gunzip(); },
      sha256: () => {
        const h = createHash("sha256");
        return { update: (b) => { hashed += b.length; h.update(b); }, digest: () => new Uint8Array(h.digest()) };
      },
    };
    for (const input of gzipCases) {
      await t.test(input.name, async () => {
        const native = await nativeJSON(input);
        const want = comparable(JSON.parse(native.stdout));
        const blob = input.dir ? await folderMap(input.path) : await openAsBlob(input.path);
        for (const engines of [undefined, false, counting]) {
          const got = await verifyJSON(blob, { name: input.name, engines });
          assert.deepEqual(comparable(JSON.parse(got)), want, `engines: ${engines === counting ? "custom" : engines}`);
        }
      });
    }
    assert.ok(gunzips > 0 && hashed > 0, `custom engines unused: ${gunzips} gunzips, ${hashed} bytes hashed`);
  });

  // The whole-blob engine, given every blob (minSize 0), digests what it
  // can and declines or fails the rest, and the reports stay the CLI's: on
  // the gzip cases and on the whole corpus.
  test("the whole-blob engine gives the CLI's JSON on every gzip case and corpus image", async (t) => {
    await load();
    const { createHash } = await import("node:crypto");
    const zlib = await import("node:zlib");
    const base = globalThis.imgproofEngines({
      sha256: () => {
        const h = createHash("sha256");
        return { update: (b) => { h.update(b); }, digest: () => new Uint8Array(h.digest()) };
      },
      crc32: () => {
        let c = 0;
        return { update: (b) => { c = zlib.crc32(b, c); }, digest: () => c };
      },
    });
    let calls = 0;
    let digested = 0;
    let failed = 0;
    const blob = Object.assign(async (...a) => {
      calls++;
      try {
        const r = await base.blob(...a);
        if (r) digested++;
        return r;
      } catch (err) {
        failed++;
        throw err;
      }
    }, { minSize: 0 });
    for (const input of [...gzipCases, ...corpus]) {
      await t.test(input.name, async () => {
        const native = await nativeJSON(input);
        const want = comparable(JSON.parse(native.stdout));
        const src = input.dir ? await folderMap(input.path) : await openAsBlob(input.path);
        for (const engines of [{ blob }, { blob, sha256: base.sha256, gunzip: base.gunzip }]) {
          const got = await verifyJSON(src, { name: input.name, engines, parallelism: 3 });
          assert.deepEqual(comparable(JSON.parse(got)), want);
        }
      });
    }
    assert.ok(digested > 20 && failed > 0 && calls > digested, `${calls} calls, ${digested} digested, ${failed} failed`);
  });

  test("bad engines are refused", async () => {
    const blob = await openAsBlob(corpus[0].dir ? join(corpus[0].path, "index.json") : corpus[0].path);
    await assert.rejects(verifyJSON(blob, { engines: 1 }), /engines must be false or an object/);
    await assert.rejects(verifyJSON(blob, { engines: { sha256: 1 } }), /engines.sha256 must be a function/);
    await assert.rejects(verifyJSON(blob, { engines: { blob: {} } }), /engines.blob must be a function/);
  });

  test("verify takes a Blob, a one-element array and a folder map, with the same result as the CLI", async () => {
    const archive = corpus.find((c) => c.name === "skopeo-oci-archive.tar");
    const layout = corpus.find((c) => c.name === "umoci-gzip");
    const wantArchive = JSON.parse((await nativeJSON(archive)).stdout);
    const wantLayout = JSON.parse((await nativeJSON(layout)).stdout);

    const blob = await openAsBlob(archive.path);
    assert.deepEqual(await verify(blob, { name: archive.name }), wantArchive);
    assert.deepEqual(await verify([new File([await blob.arrayBuffer()], archive.name)]), wantArchive);

    const map = await folderMap(layout.path);
    assert.deepEqual(await verify(map, { name: layout.name }), wantLayout);
    // A picked folder's paths carry the folder's name; it is stripped, and names the source.
    const prefixed = Object.fromEntries(Object.entries(map).map(([k, v]) => [`${layout.name}/${k}`, v]));
    assert.deepEqual(await verify(prefixed), wantLayout);

    assert.equal(await verifyJSON(blob, { name: archive.name }), (await nativeJSON(archive)).stdout.trimEnd());
    assert.deepEqual(await inspect(blob, { name: archive.name }), wantArchive);
    assert.equal(exitCode(wantArchive), 0);
  });

  test("reports progress up to each blob's full size", async () => {
    const input = corpus.find((c) => c.name === "skopeo-docker-archive.tar");
    const events = [];
    const report = await verify(await openAsBlob(input.path), { onProgress: (e) => events.push(e) });
    assert.equal(report.verdict, "VERIFIED");
    assert.ok(events.length > 0, "no progress events");
    const last = new Map();
    for (const e of events) {
      // A total of 0 means the size was not known in advance.
      assert.ok(e.total === 0 || e.done <= e.total, `${e.name}: done ${e.done} > total ${e.total}`);
      assert.ok(e.done >= (last.get(e.name) ?? 0), `${e.name}: progress went backwards`);
      last.set(e.name, e.done);
    }
    const sizes = new Map(events.map((e) => [e.name, e.total]));
    for (const [name, done] of last) if (sizes.get(name) > 0) assert.equal(done, sizes.get(name), `${name} never reached 100%`);
    // Every layer's bytes were reported as read, to the last byte.
    const layerSizes = report.images.flatMap((i) => i.layers.map((l) => l.size));
    const finals = [...last.values()];
    for (const s of layerSizes) assert.ok(finals.includes(s), `no progress reached ${s} bytes (a layer's size)`);
  });

  test("rejects inputs it cannot read, and bad options", async () => {
    const blob = new Blob(["x"]);
    await assert.rejects(verify(42), /input must be/);
    await assert.rejects(verify([]), /no files/);
    await assert.rejects(verify({}), /empty folder/);
    await assert.rejects(verify({ "a/../b": blob }), /invalid path/);
    await assert.rejects(verify([new File(["x"], "a/b"), 7]), /item 1 is not a Blob/);
    await assert.rejects(verify([blob, blob]), /item 0 has no name/);
    await assert.rejects(verify(blob, { platform: "linux" }), /platform/);
  });

  test("a blob that is not an image is UNVERIFIABLE or FAILED, never VERIFIED", async () => {
    for (const bytes of [new Uint8Array(0), new Uint8Array(1024), new TextEncoder().encode("not a tar at all"), new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0])]) {
      const report = await verify(new Blob([bytes]), { name: "junk" });
      assert.notEqual(report.verdict, "VERIFIED");
      assert.ok(report.findings.length > 0);
      assert.equal(report.source.path, "junk");
    }
  });

  // The outer stream is evidence: a gzipped archive whose trailer is
  // damaged or cut, or that has bytes after its last member, and a tar cut
  // at a block boundary, are FAILED whichever engines decompress them.
  test("a damaged outer gzip stream or a cut tar is FAILED with every engine setting", async () => {
    const { readFileSync } = await import("node:fs");
    const gz = readFileSync(corpus.find((c) => c.name === "skopeo-docker-archive.tar.gz").path);
    // The example ends right after its end-of-archive marker (no record padding).
    const tar = readFileSync(corpus.find((c) => c.name === "hello.docker.tar").path);
    const n = gz.length;
    const flip = (i, m) => { const b = Buffer.from(gz); b[i] ^= m; return b; };
    const cases = [
      ["crc", flip(n - 8, 1), "E_DECOMPRESS"],
      ["isize", flip(n - 1, 0x80), "E_DECOMPRESS"],
      ["cut 4", gz.subarray(0, n - 4), "E_ARCHIVE_TRUNCATED"],
      ["cut 8", gz.subarray(0, n - 8), "E_ARCHIVE_TRUNCATED"],
      ["trailing garbage", Buffer.concat([gz, Buffer.from("garbage!")]), "E_DECOMPRESS"],
      ["trailing zeros", Buffer.concat([gz, Buffer.alloc(512)]), "E_DECOMPRESS"],
      ["tar without its marker", tar.subarray(0, tar.length - 1024), "E_ARCHIVE_TRUNCATED"],
      ["tar cut in a header", tar.subarray(0, 1000), "E_ARCHIVE_TRUNCATED"],
    ];
    for (const [name, bytes, code] of cases) {
      for (const engines of [undefined, false]) {
        const report = await verify(new Blob([bytes]), { name, engines });
        assert.equal(report.verdict, "FAILED", `${name}, engines ${engines}: ${JSON.stringify(report.findings)}`);
        assert.ok(report.findings.some((f) => f.code === code), `${name}, engines ${engines}: no ${code} in ${JSON.stringify(report.findings)}`);
      }
    }
  });

  test("large files are read in slices, never whole", async () => {
    const input = corpus.find((c) => c.name === "skopeo-docker-archive.tar");
    const real = await openAsBlob(input.path);
    let biggest = 0;
    // A Blob whose slices are counted: the adapter must only ever slice it.
    class Watched extends Blob {
      slice(start, end, type) {
        biggest = Math.max(biggest, (end ?? this.size) - (start ?? 0));
        return real.slice(start, end, type);
      }
      arrayBuffer() { throw new Error("read whole"); }
      stream() { throw new Error("read whole"); }
    }
    const w = new Watched([await real.arrayBuffer()]);
    assert.equal(w.size, statSync(input.path).size);
    const report = await verify(w, { name: input.name });
    assert.equal(report.verdict, "VERIFIED");
    assert.ok(biggest > 0 && biggest <= 1 << 20, `largest slice ${biggest}`);
  });
});
