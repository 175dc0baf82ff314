// The page: it hands files to the verifier's worker, shows progress per
// blob, then draws the recomputed graph and every check. It makes no network
// request after the worker has loaded the module.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const worker = new Worker("worker.js");
  let nextID = 0;
  let current = null; // id of the running request
  let reportJSON = null;
  const bars = new Map();

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c == null) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  function setStatus(text, isError) {
    $("status").textContent = text;
    if (isError) $("status").dataset.error = "1";
    else delete $("status").dataset.error;
  }

  worker.onmessage = (ev) => {
    const m = ev.data;
    if (m.type === "ready") {
      body.dataset.state = "ready";
      $("version").textContent = "imgproof " + m.version + " (WebAssembly)";
      setStatus("Ready. Choose or drop an image.");
      return;
    }
    if (m.type === "fatal") {
      body.dataset.state = "error";
      setStatus("The verifier could not start: " + m.message, true);
      return;
    }
    if (m.id !== current) return;
    if (m.type === "progress") progress(m.name, m.done, m.total);
    else if (m.type === "result") {
      window.imgproofWasmMemory = m.wasmMemory; // bytes of the module's memory, which never shrinks: its peak
      window.imgproofBlobs = m.blobs; // {offered, digested}: the blobs the whole-blob engine was offered and digested
      done(m.json);
    }
    else if (m.type === "error") failed(m.message);
  };
  worker.onerror = (ev) => {
    body.dataset.state = "error";
    setStatus("The verifier's worker failed: " + (ev.message || "unknown error"), true);
  };

  function start(input, label) {
    current = ++nextID;
    reportJSON = null;
    delete body.dataset.verdict;
    delete window.imgproofReport;
    body.dataset.state = "running";
    bars.clear();
    $("bars").replaceChildren();
    $("progress").hidden = false;
    $("result").hidden = true;
    setStatus("Verifying " + label + "…");
    const options = {};
    // ?engines=go runs the Go code only, ?engines=gunzip or sha256 one
    // engine, ?engines=stream both without the pool of blob workers and
    // ?engines=inline the whole-blob engine in the page's worker, for
    // comparison with the default (all, with the pool); ?blobmin=N hands
    // blobs of N bytes and more to the whole-blob engine (default 1 MiB).
    // All give the same report.
    const query = new URLSearchParams(location.search);
    const engines = query.get("engines");
    if (engines) options.engines = engines;
    if (query.has("blobmin")) options.blobMin = Number(query.get("blobmin"));
    const platform = $("platform").value.trim();
    if (platform) options.platform = platform;
    // DSSE envelopes, JSON lines or bundles, and PEM keys, as --attestation and --key.
    const atts = [...$("attestations").files];
    if (atts.length) options.attestations = atts;
    const keys = [...$("keys").files];
    if (keys.length) options.keys = keys;
    worker.postMessage({ id: current, op: "verify", input, options });
  }

  function progress(name, done, total) {
    let b = bars.get(name);
    if (!b) {
      const p = el("progress", { max: String(total || 1), value: "0" });
      const pct = el("span");
      const row = el("div", { class: "bar" }, el("span", { class: "digest", title: name }, name), p, pct);
      $("bars").append(row);
      b = { p, pct };
      bars.set(name, b);
    }
    b.done = done;
    if (total) {
      b.p.max = total;
      b.p.value = done;
      b.pct.textContent = Math.floor((100 * done) / total) + "%";
    } else {
      b.p.removeAttribute("value"); // size unknown until the end
      b.pct.textContent = fmtBytes(done);
    }
  }

  function failed(message) {
    body.dataset.state = "error";
    body.dataset.verdict = "ERROR";
    setStatus("Verification could not run: " + message, true);
  }

  function done(json) {
    for (const b of bars.values()) {
      if (!b.p.hasAttribute("value")) {
        b.p.max = b.done || 1;
        b.p.value = b.done || 1;
      }
    }
    reportJSON = json;
    const report = JSON.parse(json);
    window.imgproofReport = report;
    render(report);
    setStatus("Done: " + report.verdict + ".");
    body.dataset.verdict = report.verdict;
    body.dataset.state = "done";
  }

  function fmtBytes(n) {
    if (n < 1024) return n + " B";
    const u = ["KiB", "MiB", "GiB", "TiB"];
    let i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
    return n.toFixed(1) + " " + u[i];
  }

  // findingsAt returns the findings about the node at path or below it.
  function findingsAt(report, path) {
    return report.findings.filter((f) => f.path === path || f.path.startsWith(path + "/"));
  }

  function markFor(findings) {
    if (findings.some((f) => f.severity === "error")) return el("span", { class: "mark bad", title: "failed" }, "✗");
    if (findings.some((f) => f.severity === "unverifiable")) return el("span", { class: "mark warn", title: "unverifiable" }, "?");
    return el("span", { class: "mark ok", title: "recomputed and matched" }, "✓");
  }

  function digestSpan(d) {
    return el("span", { class: "digest" }, d == null || d === "" ? "—" : d);
  }

  function render(report) {
    $("result").hidden = false;
    const v = $("verdict");
    v.textContent = report.verdict;
    v.dataset.verdict = report.verdict;
    const errs = report.findings.filter((f) => f.severity === "error").length;
    const unv = report.findings.filter((f) => f.severity === "unverifiable").length;
    $("summary").textContent = `${report.source.path} (${report.source.format}${report.source.compressed ? ", gzipped" : ""}): ` +
      `${report.checks} checks passed, ${errs} failed, ${unv} could not run; ${report.images.length} image(s).`;
    $("tree").replaceChildren(renderTree(report));
    $("checks").replaceChildren(...renderChecks(report));
    const atts = report.attestations || [];
    $("attestations-section").hidden = atts.length === 0;
    $("attestations").replaceChildren(...atts.map(renderAttestation));
  }

  function renderTree(report) {
    const root = el("ul", { class: "tree" });
    const imageItems = report.images.map((img) => renderImage(report, img));
    if (report.indexes && report.indexes.length) {
      // Nest images under the index whose path prefixes theirs; the rest go
      // under the top.
      const items = new Map();
      const sorted = [...report.indexes].sort((a, b) => a.path.length - b.path.length);
      for (const ix of sorted) {
        const ul = el("ul");
        const li = el("li", null, markFor(findingsAt(report, ix.path)),
          el("span", { class: "node-kind" }, "index"), digestSpan(ix.digest),
          el("div", { class: "info" }, `${ix.path} · ${ix.mediaType || "no mediaType"} · ${ix.manifests} manifest(s)`), ul);
        let parent = null;
        for (const [p, v] of items) if (ix.path.startsWith(p + "/")) parent = v;
        (parent ? parent.ul : root).append(li);
        items.set(ix.path, { ul });
      }
      report.images.forEach((img, i) => {
        let parent = null;
        for (const [p, v] of items) if (img.path.startsWith(p + "/")) parent = v;
        (parent ? parent.ul : root).append(imageItems[i]);
      });
    } else {
      root.append(...imageItems);
    }
    if (!root.children.length) root.append(el("li", { class: "info" }, "No image was found."));
    return root;
  }

  function renderImage(report, img) {
    const plat = img.platform ? [img.platform.os, img.platform.architecture, img.platform.variant].filter(Boolean).join("/") : "no platform";
    const layers = el("ul");
    img.layers.forEach((l, i) => {
      const path = `${img.path}/layers[${i}]`;
      layers.append(el("li", null, markFor(findingsAt(report, path)),
        el("span", { class: "node-kind" }, `layer ${i}`), digestSpan(l.digest),
        el("dl", { class: "kv" },
          el("dt", null, "diff_id"), el("dd", null, digestSpan(l.diffID)),
          el("dt", null, "size"), el("dd", null, `${l.size} bytes (${fmtBytes(l.size)})`),
          el("dt", null, "compression"), el("dd", null, `${l.compression}${l.uncompressedSize ? ", " + fmtBytes(l.uncompressedSize) + " uncompressed" : ""}`),
          el("dt", null, "mediaType"), el("dd", null, l.mediaType))));
    });
    const config = el("li", null, el("span", { class: "node-kind" }, "config"), "image ID ", digestSpan(img.imageID),
      el("ul", null, ...layers.children.length ? [...layers.children] : [el("li", { class: "info" }, "no layers")]));
    const extra = [];
    if (img.refNames && img.refNames.length) extra.push("names (unverified): " + img.refNames.join(", "));
    if (img.subject) extra.push("subject " + img.subject);
    if (img.attestsTo) extra.push("attests to " + img.attestsTo);
    return el("li", null, markFor(findingsAt(report, img.path)),
      el("span", { class: "node-kind" }, `${img.kind} manifest`), digestSpan(img.manifestDigest ?? "(not recoverable from this archive)"),
      el("div", { class: "info" }, `${plat} · ${img.path}${img.manifestMediaType ? " · " + img.manifestMediaType : ""}`),
      extra.length ? el("div", { class: "info" }, extra.join(" · ")) : null,
      el("ul", null, config));
  }

  function check(ok, title, rows) {
    const kv = el("dl", { class: "kv" });
    for (const [k, v] of rows) if (v) kv.append(el("dt", null, k), el("dd", null, k === "message" || k === "how" ? v : digestSpan(v)));
    const cls = ok === true ? "ok" : ok === "warn" ? "warn" : ok === "info" ? "info" : "bad";
    const sym = ok === true ? "✓" : ok === "warn" ? "?" : ok === "info" ? "i" : "✗";
    return el("li", { "data-status": cls }, el("span", { class: "mark " + cls }, sym), el("strong", null, title), kv);
  }

  function renderChecks(report) {
    const out = [];
    // Broken or unverifiable links first, with what was claimed and what was recomputed.
    for (const f of report.findings) {
      const s = f.severity === "error" ? false : f.severity === "unverifiable" ? "warn" : "info";
      out.push(check(s, `${f.code} at ${f.path}`, [["expected", f.expected], ["recomputed", f.actual], ["how", f.how], ["message", f.message]]));
    }
    // Then every recomputed identity whose links held.
    for (const ix of report.indexes || []) {
      if (findingsAt(report, ix.path).some((f) => f.severity === "error")) continue;
      out.push(check(true, `index digest at ${ix.path}`, [["recomputed", ix.digest], ["how", "sha256(index bytes)"]]));
    }
    for (const img of report.images) {
      const bad = (p) => findingsAt(report, p).some((f) => f.severity === "error" || f.severity === "unverifiable");
      if (img.manifestDigest && !bad(img.path)) out.push(check(true, `manifest digest at ${img.path}`, [["recomputed", img.manifestDigest], ["how", "sha256(manifest bytes)"]]));
      if (img.imageID && !bad(img.path)) out.push(check(true, `image ID (config digest) at ${img.path}`, [["recomputed", img.imageID], ["how", "sha256(config bytes)"]]));
      img.layers.forEach((l, i) => {
        const p = `${img.path}/layers[${i}]`;
        if (bad(p) || bad(img.path)) return;
        out.push(check(true, `layer ${i} digest and size at ${p}`, [["recomputed", l.digest], ["how", `sha256(blob), ${l.size} bytes`]]));
        out.push(check(true, `layer ${i} diff_id at ${p}`, [["recomputed", l.diffID], ["how", l.compression === "none" ? "sha256(blob)" : `sha256(${l.compression === "gzip" ? "gunzip" : l.compression}(blob))`]]));
      });
    }
    out.push(el("li", { class: "info" }, `${report.checks} checks ran and passed in all.`));
    return out;
  }

  function renderAttestation(a) {
    const checks = el("ul", { class: "checks" }, ...(a.checks || []).map((c) =>
      check(c.status === "pass" ? true : c.status === "skip" ? "warn" : false, c.name, [["message", c.message]])));
    const binds = (a.binds || []).map((b) => `${b.node} ${b.digest} (${b.path})`).join("; ");
    return el("div", { class: "att" },
      el("div", null, el("span", { class: "mark " + (a.status === "verified" ? "ok" : a.status === "failed" ? "bad" : "warn") },
        a.status === "verified" ? "✓" : a.status === "failed" ? "✗" : "?"),
        el("strong", null, `${a.kind}: ${a.status}`)),
      el("dl", { class: "kv" },
        el("dt", null, "origin"), el("dd", null, a.origin),
        el("dt", null, "predicate"), el("dd", null, a.predicateType || a.payloadType || "—"),
        el("dt", null, "signers"), el("dd", null, (a.signers || []).join(", ") || "none verified"),
        el("dt", null, "binds"), el("dd", null, binds || "nothing in this image")),
      checks);
  }

  $("download").addEventListener("click", () => {
    if (reportJSON == null) return;
    const url = URL.createObjectURL(new Blob([reportJSON + "\n"], { type: "application/json" }));
    const a = el("a", { href: url, download: "imgproof-report.json" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });

  $("image").addEventListener("change", (ev) => {
    const f = ev.target.files[0];
    if (f) start(f, f.name);
    ev.target.value = ""; // picking the same file again verifies it again
  });

  $("folder").addEventListener("change", (ev) => {
    const files = [...ev.target.files];
    if (!files.length) return;
    const map = {};
    for (const f of files) map[f.webkitRelativePath || f.name] = f;
    const top = (files[0].webkitRelativePath || "").split("/")[0] || "folder";
    start(map, top);
    ev.target.value = "";
  });

  // Drops: one file is an archive; a folder (or several files) is a layout.
  const drop = $("drop");
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    const items = [...(ev.dataTransfer.items || [])];
    const entries = items.map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    try {
      if (entries.length === 1 && entries[0].isFile) {
        const f = ev.dataTransfer.files[0];
        start(f, f.name);
        return;
      }
      if (!entries.length) {
        const f = ev.dataTransfer.files[0];
        if (f) start(f, f.name);
        return;
      }
      const map = {};
      for (const e of entries) await walk(e, "", map);
      start(map, entries.length === 1 ? entries[0].name : "dropped files");
    } catch (err) {
      failed("reading the dropped folder: " + err.message);
    }
  });

  async function walk(entry, prefix, map) {
    const path = prefix + entry.name;
    if (entry.isFile) {
      map[path] = await new Promise((res, rej) => entry.file(res, rej));
      return;
    }
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
      if (!batch.length) break;
      for (const e of batch) await walk(e, path + "/", map);
    }
  }
})();
