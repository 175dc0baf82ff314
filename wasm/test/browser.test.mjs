// Drives the page in headless Chromium: every image of a third-party corpus
// and its tampered twin must give exactly the native CLI's JSON report, and
// no request may leave the page once it has loaded.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildCorpus, buildGzipCases, comparable, launch, nativeJSON, serve, tamper, tempDir } from "./lib.mjs";

const root = tempDir("imgproof-browser-test-");
let corpus = [];
let twins = [];
let gzipCases = [];
let server;
let browser;
let page;
const requests = [];
let requestsAtReady = -1;

before(async () => {
  corpus = await buildCorpus(root);
  gzipCases = await buildGzipCases(root);
  const twinDir = join(root, "twins");
  await import("node:fs").then((fs) => fs.mkdirSync(twinDir));
  twins = corpus.map((c) => tamper(c, twinDir));
  server = await serve();
  browser = await launch();
  browser.context.on("request", (r) => requests.push(r.url()));
  page = browser.context.pages()[0] || (await browser.context.newPage());
  page.on("request", (r) => { if (!requests.includes(r.url())) requests.push(r.url()); });
  page.on("pageerror", (err) => { throw err; });
  await page.goto(server.url);
  await page.waitForSelector("body[data-state=ready]", { timeout: 60_000 });
  requestsAtReady = requests.length;
});

after(async () => {
  await browser?.close();
  server?.close();
});

// verifyInPage picks the input with the page's file or folder input and
// returns the report the page computed, and the requests made meanwhile.
async function verifyInPage(input) {
  const n = requests.length;
  await page.evaluate(() => { delete document.body.dataset.verdict; });
  await page.setInputFiles(input.dir ? "#folder" : "#image", input.path);
  await page.waitForSelector("body[data-verdict]", { timeout: 120_000 });
  const verdict = await page.evaluate(() => document.body.dataset.verdict);
  const report = await page.evaluate(() => window.imgproofReport);
  return { verdict, report, newRequests: requests.slice(n) };
}

describe("the page", () => {
  test("loads only its own files, including the module fetched by its worker", () => {
    const own = new Set(["", "app.js", "style.css", "worker.js", "wasm_exec.js", "engines.js", "vendor/hash-wasm-sha256.umd.min.js",
      "vendor/hash-wasm-crc32.umd.min.js", "blob-worker.js",
      "imgproof.wasm"].map((f) => server.url + f));
    assert.ok(requestsAtReady > 0);
    for (const u of requests.slice(0, requestsAtReady)) assert.ok(own.has(u), `unexpected request ${u}`);
    assert.ok(requests.includes(server.url + "imgproof.wasm"), "the worker's fetch of the module was not recorded");
  });

  test("every corpus image gives the CLI's report", async (t) => {
    assert.ok(corpus.length >= 10, `corpus has only ${corpus.length} inputs`);
    for (const input of corpus) {
      await t.test(input.name, async () => {
        const native = await nativeJSON(input);
        const want = JSON.parse(native.stdout);
        const got = await verifyInPage(input);
        assert.deepEqual(got.newRequests, [], "requests during verification");
        assert.deepEqual(comparable(got.report), comparable(want));
        assert.equal(got.verdict, want.verdict);
        assert.equal(native.code, { VERIFIED: 0, FAILED: 1, UNVERIFIABLE: 2 }[want.verdict]);
        if (want.verdict === "VERIFIED") {
          assert.equal(await page.locator("#checks li[data-status=bad]").count(), 0);
          assert.ok((await page.locator("#checks li[data-status=ok]").count()) > 0);
          for (const img of want.images) await page.locator("#tree").getByText(img.imageID, { exact: true }).first().waitFor();
        }
      });
    }
  });

  test("every tampered twin shows FAILED with the CLI's findings", async (t) => {
    for (const input of twins) {
      await t.test(input.name, async () => {
        const native = await nativeJSON(input);
        const want = JSON.parse(native.stdout);
        assert.equal(want.verdict, "FAILED", `the CLI did not fail the twin ${input.name}`);
        const got = await verifyInPage(input);
        assert.deepEqual(got.newRequests, []);
        assert.equal(got.verdict, "FAILED");
        assert.deepEqual(comparable(got.report), comparable(want));
        assert.ok((await page.locator("#checks li[data-status=bad]").count()) > 0, "no ✗ shown");
        assert.equal(await page.locator("#verdict").textContent(), "FAILED");
      });
    }
  });

  test("the downloaded report is byte for byte the CLI's output", async () => {
    const input = corpus.find((c) => c.name === "skopeo-oci-archive.tar.gz") || corpus[0];
    const native = await nativeJSON(input);
    await verifyInPage(input);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    const saved = join(root, "downloaded.json");
    await download.saveAs(saved);
    assert.equal(readFileSync(saved, "utf8"), native.stdout);
  });

  test("a file dropped on the page is verified", async () => {
    const input = corpus.find((c) => c.name === "hello.oci.tar");
    assert.ok(input, "examples/hello.oci.tar missing");
    const native = JSON.parse((await nativeJSON(input)).stdout);
    const bytes = readFileSync(input.path).toString("base64");
    await page.evaluate(() => { delete document.body.dataset.verdict; });
    await page.evaluate(([b64, name]) => {
      const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([raw], name));
      document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [bytes, input.name]);
    await page.waitForSelector("body[data-verdict]");
    assert.deepEqual(await page.evaluate(() => window.imgproofReport), native);
  });

  test("the platform field selects one image of an index, as --platform does", async () => {
    const input = corpus.find((c) => c.name === "crane-multiarch");
    assert.ok(input, "crane-multiarch missing");
    const want = JSON.parse((await nativeJSON(input, ["--platform", "linux/arm64"])).stdout);
    await page.fill("#platform", "linux/arm64");
    try {
      const got = await verifyInPage(input);
      assert.deepEqual(got.report, want);
    } finally {
      await page.fill("#platform", "");
    }
  });

  // The page digests layers in its pool of blob workers and uses the
  // browser's gzip and hash-wasm's SHA-256 for the rest (engines); with
  // ?blobmin=0 every blob goes to the pool, with ?engines=stream none does,
  // and with ?engines=go the Go code runs alone. All must give the CLI's
  // report on the gzip cases that DecompressionStream rejects or words
  // differently, and the pool and the Go code on the whole corpus.
  test("the engines and the Go code give the CLI's report on every gzip case and corpus image", async (t) => {
    assert.ok(gzipCases.length >= 10, `only ${gzipCases.length} gzip cases`);
    // Loading the page again is a request; none came before.
    assert.deepEqual(requests.slice(requestsAtReady), []);
    const verdicts = new Set();
    const digested = {};
    try {
      for (const [label, query, all] of [["pool", "?blobmin=0", true], ["stream", "?engines=stream", false], ["go", "?engines=go", true]]) {
        await page.goto(server.url + query);
        await page.waitForSelector("body[data-state=ready]");
        for (const input of [...gzipCases, ...(all ? corpus : [])]) {
          await t.test(`${label} ${input.name}`, async () => {
            const want = JSON.parse((await nativeJSON(input)).stdout);
            const got = await verifyInPage(input);
            assert.deepEqual(got.newRequests, []);
            assert.deepEqual(comparable(got.report), comparable(want));
            verdicts.add(want.verdict);
            digested[label] = (digested[label] || 0) + (await page.evaluate(() => window.imgproofBlobs.digested));
          });
        }
      }
    } finally {
      await page.goto(server.url);
      await page.waitForSelector("body[data-state=ready]");
      requestsAtReady = requests.length;
    }
    assert.deepEqual([...verdicts].sort(), ["FAILED", "UNVERIFIABLE", "VERIFIED"]);
    // The pool digested layers; the other runs never used it.
    assert.ok(digested.pool > 20, `the pool digested ${digested.pool} blobs`);
    assert.equal(digested.stream + digested.go, 0);
  });

  test("no request left the page after it loaded", () => {
    assert.deepEqual(requests.slice(requestsAtReady), []);
    for (const u of requests) assert.ok(u.startsWith(server.url), `request to ${u}`);
  });
});
