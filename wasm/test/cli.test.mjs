// The npm CLI's own messages: --help prints the usage and exits 0, and a
// copy of the package without its build outputs (an unbuilt clone) exits
// 69 with the command that builds them, not with a missing module's error.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const npm = join(dirname(fileURLToPath(import.meta.url)), "..", "npm");
const example = join(npm, "..", "..", "examples", "hello.oci.tar");

function run(cli, ...args) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
}

test("--help prints the usage and exits 0", () => {
  for (const flag of ["--help", "-h", "help"]) {
    const r = run(join(npm, "cli.mjs"), flag);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^usage: cli\.mjs verify /);
    assert.equal(r.stderr, "");
  }
});

test("an unbuilt package says how to build it", () => {
  const dir = mkdtempSync(join(tmpdir(), "imgproof-unbuilt-"));
  for (const f of ["cli.mjs", "index.mjs", "package.json"]) copyFileSync(join(npm, f), join(dir, f));
  const r = run(join(dir, "cli.mjs"), "verify", example);
  assert.equal(r.status, 69, r.stderr);
  assert.match(r.stderr, /this package is not built: imgproof\.wasm, wasm_exec\.js, engines\.js missing/);
  assert.match(r.stderr, /make wasm-web/);
  assert.doesNotMatch(r.stderr, /ERR_MODULE_NOT_FOUND|Cannot find module/);
  assert.equal(r.stdout, "");
});

test("a missing path is a usage error that names it; a registry is refused", () => {
  const cli = join(npm, "cli.mjs");
  let r = run(cli, "verify", "./nonexist.tar");
  assert.equal(r.status, 64, r.stderr);
  assert.equal(r.stderr, "imgproof: ./nonexist.tar: no such file or directory\n");
  r = run(cli, "verify", "oci-archive:x.tar");
  assert.equal(r.status, 64, r.stderr);
  assert.match(r.stderr, /^imgproof: x\.tar: no such file or directory$/m);
  r = run(cli, "verify", "docker://alpine");
  assert.equal(r.status, 64, r.stderr);
  assert.match(r.stderr, /reads local files only/);
});
