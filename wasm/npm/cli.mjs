#!/usr/bin/env node
// A Node.js front end to imgproof's WebAssembly verifier:
//
//   node cli.mjs verify [--platform os/arch[/variant]] [--output json]
//       [--attestation FILE]... [--key FILE]... [--policy FILE] [--threshold N]
//       [--certificate-identity[-regexp] X --certificate-oidc-issuer[-regexp] Y]
//       SOURCE
//
// SOURCE is a tar or tar.gz file, or an OCI layout directory. It prints the
// same JSON report as the native `imgproof verify --output json` and exits
// 0 (VERIFIED), 1 (FAILED), 2 (UNVERIFIABLE) or 64 (usage); `--help` prints
// the usage and exits 0, and a package whose WebAssembly files were not
// built exits 69 with the command that builds them.
import { existsSync, openAsBlob } from "node:fs";
import { fileURLToPath } from "node:url";
import { readFile, readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { exitCode, verifyJSON } from "./index.mjs";

const usage = "usage: cli.mjs verify [--platform os/arch[/variant]] [--output json] [--attestation FILE]... [--key FILE]...\n" +
  "         [--policy FILE] [--threshold N] [--certificate-identity[-regexp] X --certificate-oidc-issuer[-regexp] Y] SOURCE";

// small reads a claim file (attestation, key, policy) whole, named as given.
async function small(path) {
  try {
    return new File([await readFile(path)], path);
  } catch (err) {
    process.stderr.write(`imgproof: ${err.message}\n`);
    process.exit(64);
  }
}

// built checks the build outputs that load() imports, so that an unbuilt
// clone says how to build them instead of failing on a missing module.
function requireBuilt() {
  const missing = ["imgproof.wasm", "wasm_exec.js", "engines.js"]
    .filter((f) => !existsSync(fileURLToPath(new URL("./" + f, import.meta.url))));
  if (missing.length === 0) return;
  process.stderr.write(`imgproof: this package is not built: ${missing.join(", ")} missing beside cli.mjs.\n` +
    "They are build outputs: run `make wasm-web` (or `make build`) at the top of the repository, then run this again.\n");
  process.exit(69);
}

function die(msg) {
  process.stderr.write(msg + "\n" + usage + "\n");
  process.exit(64);
}

// localPath takes the path out of a SOURCE named as the native CLI names
// it (oci:DIR, oci-archive:FILE, docker-archive:FILE or a bare path). This
// front end reads local files only, so a registry is a usage error.
function localPath(source) {
  for (const t of ["oci:", "oci-archive:", "docker-archive:"]) {
    if (source.startsWith(t)) {
      const rest = source.slice(t.length);
      if (rest === "") die(`${source}: no path after ${t}`);
      if (rest.includes(":")) die(`${source}: this front end takes no image name after the path`);
      return rest;
    }
  }
  if (/^(docker:\/\/|registry:)/.test(source)) die(`${source}: this front end reads local files only; the native imgproof verify reads registries`);
  return source;
}

async function folder(root) {
  const map = {};
  async function walk(dir) {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) map[relative(root, p).split(sep).join("/")] = await openAsBlob(p);
    }
  }
  await walk(root);
  return map;
}

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd === "--help" || cmd === "-h" || cmd === "help" || rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(usage + "\n");
    return;
  }
  if (cmd !== "verify" && cmd !== "inspect") die(cmd ? `unknown command ${JSON.stringify(cmd)}` : "no command");
  const opts = {};
  let source;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const [flag, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => inline ?? (++i < rest.length ? rest[i] : die(`${flag} needs a value`));
    if (flag === "--platform") opts.platform = value();
    else if (flag === "--attestation") (opts.attestations ??= []).push(await small(value()));
    else if (flag === "--key") (opts.keys ??= []).push(await small(value()));
    else if (flag === "--policy") opts.policy = await small(value());
    else if (flag === "--threshold") {
      const v = value();
      if (!/^\d+$/.test(v)) die(`--threshold ${v}: not a number`);
      opts.threshold = Number(v);
    } else if (flag === "--certificate-identity") opts.certificateIdentity = value();
    else if (flag === "--certificate-identity-regexp") opts.certificateIdentityRegexp = value();
    else if (flag === "--certificate-oidc-issuer") opts.certificateOidcIssuer = value();
    else if (flag === "--certificate-oidc-issuer-regexp") opts.certificateOidcIssuerRegexp = value();
    else if (flag === "--output" || flag === "-o") {
      const v = value();
      if (v !== "json") die(`--output ${v}: this front end prints json only`);
    } else if (a.startsWith("-") && a !== "-") die(`unknown flag ${a}`);
    else if (source === undefined) source = a;
    else die("more than one SOURCE");
  }
  if (source === undefined) die("no SOURCE");
  source = localPath(source);
  let st;
  try {
    st = await stat(source);
  } catch (err) {
    // A missing path is a usage error, as in the native CLI.
    process.stderr.write(err.code === "ENOENT" ? `imgproof: ${source}: no such file or directory\n` : `imgproof: ${err.message}\n`);
    process.exit(err.code === "ENOENT" ? 64 : 2);
  }
  requireBuilt();
  const input = st.isDirectory() ? await folder(source) : await openAsBlob(source);
  let json;
  try {
    json = await verifyJSON(input, { ...opts, name: source });
  } catch (err) {
    // Unusable options are usage errors, as in the native CLI.
    process.stderr.write(`imgproof: ${err.message}\n`);
    process.exit(64);
  }
  process.stdout.write(json + "\n");
  process.exitCode = exitCode(JSON.parse(json));
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`imgproof: ${err && err.message || err}\n`);
  process.exit(2);
});
