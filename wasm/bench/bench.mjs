#!/usr/bin/env node
// bench.mjs measures the browser verifier's budgets (make bench-wasm):
//
//   - the .wasm sizes, raw and gzipped: the page's module, the npm
//     package's and, with --core FILE, a module that links only the core
//     (make wasm-core);
//   - throughput in headless Chromium on a synthetic image (bench/gen) as a
//     ratio to the native CLI on the same file in the same run, and the same
//     for the npm package under Node.js;
//   - memory as the image grows: the module's linear memory (its peak, since
//     it never shrinks) and the largest resident size of Chromium's processes.
//
// The page runs as shipped (its pool of blob workers digests the layers with
// DecompressionStream and hash-wasm), with ?engines=stream (the same engines
// in the module's worker, fed by the Go code, no pool) and with
// ?engines=go, the Go code alone.
//
// Usage: node bench.mjs [--sizes 64MiB,256MiB] [--runs 2] [--dir DIR] [--core FILE]
// Images are generated once into DIR (default: a folder in the temp dir) and
// reused. It prints a table and writes results.json beside the images.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, openAsBlob, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { bin, launch, repo, serve } from "../test/lib.mjs";

const execFileP = promisify(execFile);
const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith("--") ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const sizes = (args.sizes || "64MiB,256MiB").split(",");
const runs = Number(args.runs || 2);
const dir = args.dir || join(tmpdir(), "imgproof-bench-wasm");
const MB = 1e6;

function image(size) {
  const out = join(dir, size);
  const archive = join(out, "gzip.oci.tar");
  if (!existsSync(archive)) {
    process.stderr.write(`generating a ${size} image in ${out}\n`);
    execFileSync("go", ["run", "./bench/gen", "-size", size, "-out", out, "-variants", "gzip", "-oci-archive"], { cwd: repo, stdio: "inherit" });
  }
  return archive;
}

// uncompressedBytes is what the verifier decompresses and hashes: the sum
// of the layers' uncompressed sizes, read from the native report.
function uncompressedBytes(report) {
  return report.images.flatMap((i) => i.layers).reduce((s, l) => s + (l.uncompressedSize || l.size), 0);
}

async function native(archive, env = {}) {
  let best = Infinity;
  let stdout;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    ({ stdout } = await execFileP(bin, ["verify", "--output", "json", archive], { maxBuffer: 1 << 28, env: { ...process.env, ...env } }));
    best = Math.min(best, performance.now() - t);
  }
  return { ms: best, report: JSON.parse(stdout) };
}

// rssOf sums the resident set of every process whose command line names
// Chromium, sampled while fn runs; it returns fn's result and the peak.
async function withPeakRSS(fn) {
  let peak = 0;
  const sample = () => {
    try {
      const out = execFileSync("ps", ["-eo", "rss,args"], { encoding: "utf8" });
      const kb = out.split("\n").filter((l) => /chromium/.test(l) && !/ps -eo/.test(l)).reduce((s, l) => s + (parseInt(l) || 0), 0);
      peak = Math.max(peak, kb * 1024);
    } catch { /* ps may race with exiting processes */ }
  };
  const timer = setInterval(sample, 250);
  try {
    const result = await fn();
    sample();
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

// browser verifies archive on the page at url: the page as shipped, or
// with a query that picks its engines. Timed runs are not sampled: ps would
// take CPU from the page. With sampleRSS, one more run samples Chromium's
// resident size.
async function browser(page, url, archive, sampleRSS = false) {
  let best = Infinity;
  let report;
  let memory = 0;
  let peakRSS = 0;
  const once = async () => {
    await page.goto(url);
    await page.waitForSelector("body[data-state=ready]");
    const t = performance.now();
    await page.setInputFiles("#image", archive);
    await page.waitForSelector("body[data-verdict]", { timeout: 30 * 60_000 });
    const ms = performance.now() - t;
    report = await page.evaluate(() => window.imgproofReport);
    memory = Math.max(memory, await page.evaluate(() => window.imgproofWasmMemory));
    return ms;
  };
  for (let i = 0; i < runs; i++) best = Math.min(best, await once());
  if (sampleRSS) peakRSS = (await withPeakRSS(once)).peak;
  return { ms: best, report, memory, peakRSS };
}

async function node(archive) {
  const { verifyJSON, load } = await import("../npm/index.mjs");
  await load();
  let best = Infinity;
  let json;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    json = await verifyJSON(await openAsBlob(archive), { name: archive });
    best = Math.min(best, performance.now() - t);
  }
  return { ms: best, report: JSON.parse(json) };
}

// The page's module is built without CEL; the npm package's has it. The
// core-only module is package verify alone, without the adapter and attest.
const wasm = readFileSync(join(repo, "wasm/web/imgproof.wasm"));
const npmWasm = readFileSync(join(repo, "wasm/npm/imgproof.wasm"));
const coreWasm = args.core ? readFileSync(args.core) : null;
const results = {
  wasmBytes: wasm.length,
  wasmGzipBytes: gzipSync(wasm, { level: 9 }).length,
  npmWasmBytes: npmWasm.length,
  npmWasmGzipBytes: gzipSync(npmWasm, { level: 9 }).length,
  coreWasmBytes: coreWasm?.length,
  coreWasmGzipBytes: coreWasm ? gzipSync(coreWasm, { level: 9 }).length : undefined,
  chromium: execFileSync("/usr/bin/chromium", ["--version"], { encoding: "utf8" }).trim(),
  node: process.version,
  runs,
  images: [],
};
const megabytes = (raw, gz) => `${(raw / MB).toFixed(2)} MB raw, ${(gz / MB).toFixed(2)} MB gzipped`;
console.log(`imgproof.wasm (page, no CEL): ${megabytes(results.wasmBytes, results.wasmGzipBytes)}; ` +
  `npm package (with CEL): ${megabytes(results.npmWasmBytes, results.npmWasmGzipBytes)}` +
  (coreWasm ? `; core only (package verify): ${megabytes(results.coreWasmBytes, results.coreWasmGzipBytes)}` : ""));

const srv = await serve();
const b = await launch();
const page = b.context.pages()[0] || (await b.context.newPage());
await page.goto(srv.url);
try {
  for (const size of sizes) {
    const archive = image(size);
    const nat = await native(archive);
    const nat1 = await native(archive, { GOMAXPROCS: "1" });
    const br = await browser(page, srv.url, archive, true);
    const brStream = await browser(page, srv.url + "?engines=stream", archive);
    const brGo = await browser(page, srv.url + "?engines=go", archive);
    const nd = await node(archive);
    const same = (r) => JSON.stringify({ ...r, source: null }) === JSON.stringify({ ...nat.report, source: null });
    if (nat.report.verdict !== "VERIFIED" || !same(br.report) || !same(brStream.report) || !same(brGo.report) || !same(nd.report)) {
      throw new Error(`${size}: reports differ or not VERIFIED (native ${nat.report.verdict}, browser ${br.report.verdict}, browser Go-only ${brGo.report.verdict}, node ${nd.report.verdict})`);
    }
    const bytes = uncompressedBytes(nat.report);
    const r = {
      size,
      archiveBytes: statSync(archive).size,
      uncompressedBytes: bytes,
      nativeMBps: bytes / MB / (nat.ms / 1000),
      native1MBps: bytes / MB / (nat1.ms / 1000),
      browserMBps: bytes / MB / (br.ms / 1000),
      browserStreamMBps: bytes / MB / (brStream.ms / 1000),
      browserGoOnlyMBps: bytes / MB / (brGo.ms / 1000),
      nodeMBps: bytes / MB / (nd.ms / 1000),
      wasmMemoryBytes: br.memory,
      chromiumPeakRSSBytes: br.peakRSS,
    };
    r.browserToNative = r.browserMBps / r.nativeMBps;
    r.browserToNative1 = r.browserMBps / r.native1MBps;
    results.images.push(r);
    console.log(`${size}: archive ${(r.archiveBytes / MB).toFixed(0)} MB, ${(bytes / MB).toFixed(0)} MB uncompressed | ` +
      `native ${r.nativeMBps.toFixed(0)} MB/s (1 core ${r.native1MBps.toFixed(0)}) | chromium ${r.browserMBps.toFixed(1)} MB/s ` +
      `= ${(100 * r.browserToNative).toFixed(0)}% of native (${(100 * r.browserToNative1).toFixed(0)}% of 1 core) | ` +
      `chromium without the pool ${r.browserStreamMBps.toFixed(1)} MB/s, Go-only ${r.browserGoOnlyMBps.toFixed(1)} MB/s | ` +
      `node ${r.nodeMBps.toFixed(1)} MB/s | wasm memory ${(r.wasmMemoryBytes / MB).toFixed(0)} MB, chromium RSS peak ${(r.chromiumPeakRSSBytes / MB).toFixed(0)} MB`);
  }
} finally {
  await b.close();
  srv.close();
}
writeFileSync(join(dir, "results.json"), JSON.stringify(results, null, 2) + "\n");
console.log(`results: ${join(dir, "results.json")}`);
process.exit(0);
