// Shared helpers for the browser and Node.js tests: a corpus of images made
// by third-party tools, tampered twins, the native CLI as the reference, a
// local server for the page and a headless Chromium.
import { execFile, spawn } from "node:child_process";
import { cpSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileP = promisify(execFile);
export const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const bin = process.env.IMGPROOF_BIN || join(repo, "bin/imgproof");

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

// buildCorpus makes images with umoci, skopeo, crane, tar and gzip
// (fixtures/thirdparty/build.sh), adds images with attestations and
// referrers from package fixtures (wasm/internal/gencorpus) and the
// committed examples, and returns every input as {name, path, dir}.
export async function buildCorpus(root) {
  const out = join(root, "corpus");
  await execFileP("bash", [join(repo, "fixtures/thirdparty/build.sh"), out], { maxBuffer: 1 << 26 });
  await execFileP("go", ["run", "./wasm/internal/gencorpus", out], { cwd: repo, maxBuffer: 1 << 26 });
  for (const f of readdirSync(join(repo, "examples"))) {
    if (f.endsWith(".tar")) cpSync(join(repo, "examples", f), join(out, f));
  }
  return inputsIn(out);
}

// buildGzipCases writes the hostile corpus's gzip cases (multi-member
// streams, which the browser's DecompressionStream rejects, trailing bytes,
// bad trailers) and returns them as buildCorpus does.
export async function buildGzipCases(root) {
  const out = join(root, "gzip-cases");
  await execFileP("go", ["run", "./wasm/internal/gencorpus", "-gzip", out], { cwd: repo, maxBuffer: 1 << 26 });
  return inputsIn(out);
}

function inputsIn(dir) {
  return readdirSync(dir).sort().map((name) => {
    const path = join(dir, name);
    return { name, path, dir: statSync(path).isDirectory() };
  });
}

// tarEntries lists the regular files in a plain tar: name, data offset, size.
export function tarEntries(buf) {
  const out = [];
  let off = 0;
  let longName = null;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a, b) => h.subarray(a, b).toString("latin1").replace(/\0.*$/s, "");
    let name = str(0, 100);
    const prefix = str(345, 500);
    if (prefix) name = prefix + "/" + name;
    const size = parseInt(str(124, 136).trim() || "0", 8);
    const type = String.fromCharCode(h[156] || 48);
    const data = off + 512;
    if (type === "x") {
      const pax = buf.subarray(data, data + size).toString("utf8");
      const m = /\d+ path=([^\n]*)\n/.exec(pax);
      if (m) longName = m[1];
    } else if (type === "L") {
      longName = buf.subarray(data, data + size).toString("utf8").replace(/\0.*$/s, "");
    } else {
      if (type === "0" || type === "\0") out.push({ name: longName ?? name, offset: data, size });
      longName = null;
    }
    off = data + Math.ceil(size / 512) * 512;
  }
  return out;
}

function flipAt(path, offset) {
  const fd = openSync(path, "r+");
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset);
    b[0] ^= 0x01;
    writeSync(fd, b, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

// metadata names files that no digest covers, which a twin must not touch.
const metadata = /(^|\/)(index\.json|manifest\.json|oci-layout|repositories)$/;

// tamper writes a twin of input under dir with one bit flipped in the
// middle of its largest content-addressed file (a layer, in most images
// here), and returns it.
export function tamper(input, dir) {
  const path = join(dir, input.name);
  cpSync(input.path, path, { recursive: true });
  if (input.dir) {
    let best = null;
    const walk = (d) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (!metadata.test(p) && (!best || statSync(p).size > best.size)) best = { p, size: statSync(p).size };
      }
    };
    walk(path);
    flipAt(best.p, Math.floor(best.size / 2));
  } else if (input.name.endsWith(".gz")) {
    flipAt(path, Math.floor(statSync(path).size / 2));
  } else {
    const largest = tarEntries(readFileSync(path)).filter((e) => !metadata.test(e.name)).sort((a, b) => b.size - a.size)[0];
    flipAt(path, largest.offset + Math.floor(largest.size / 2));
  }
  return { ...input, path };
}

async function run(cmd, args, cwd) {
  try {
    const { stdout } = await execFileP(cmd, args, { cwd, maxBuffer: 1 << 28 });
    return { code: 0, stdout };
  } catch (err) {
    if (typeof err.code !== "number") throw err;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

// nativeJSON runs `imgproof verify --output json NAME` in the input's
// folder, so that source.path is the bare name, as in the browser.
export function nativeJSON(input, extra = []) {
  return run(bin, ["verify", ...extra, "--output", "json", basename(input.path)], dirname(input.path));
}

// nodeJSON runs the npm package's CLI the same way.
export function nodeJSON(input, extra = []) {
  return run(process.execPath, [join(repo, "wasm/npm/cli.mjs"), "verify", ...extra, basename(input.path)], dirname(input.path));
}

// serve starts `imgproof serve` on a free loopback port.
export async function serve() {
  const p = spawn(bin, ["serve", "--addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((res, rej) => {
    let out = "";
    p.stdout.on("data", (d) => {
      out += d;
      const m = /http:\/\/(127\.0\.0\.1:\d+)\//.exec(out);
      if (m) res(`http://${m[1]}/`);
    });
    p.on("exit", (code) => rej(new Error(`imgproof serve exited with ${code}: ${out}`)));
  });
  return { url, close: () => p.kill("SIGINT") };
}

export const chromiumArgs = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

// launch starts headless Chromium with a fresh profile.
export async function launch(extraArgs = []) {
  const { chromium } = await import("playwright-core");
  const profile = tempDir("imgproof-chromium-");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [...chromiumArgs, ...extraArgs],
    acceptDownloads: true,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// comparable returns a copy of a report in which the text that a
// decompressor library adds to an E_DECOMPRESS message is cut: the native
// CLI may inflate with ISA-L (-tags isal) and the browser with Go, and
// their error texts differ. Everything else must be equal.
export function comparable(report) {
  const r = structuredClone(report);
  for (const f of r.findings || []) {
    if (f.code === "E_DECOMPRESS") f.message = f.message.replace(/^(decompressing the layer failed after \d+ bytes): .*$/s, "$1: …");
  }
  return r;
}
