// Types for imgproof's WebAssembly verifier. The Report mirrors the JSON
// report of `imgproof verify --output json` (schema imgproof.report/v1).

export type Verdict = "VERIFIED" | "FAILED" | "UNVERIFIABLE";
export type Severity = "error" | "unverifiable" | "warning" | "info";

/** A layout folder: slash-separated paths relative to the layout root (a common top folder is stripped). */
export type Folder = { [path: string]: Blob };

/** A tar or tar.gz archive, the Files of a folder picker, or a layout folder. */
export type Input = Blob | File | Blob[] | File[] | FileList | Folder;

export interface ProgressEvent {
  /** The blob's file name in the source. */
  name: string;
  /** Bytes read so far. */
  done: number;
  /** The blob's stored size. */
  total: number;
}

export interface VerifyOptions {
  /** What the report calls the source (source.path); defaults to the File's name or the folder's top directory. */
  name?: string;
  /** Selects one platform of a multi-platform image: "os/arch[/variant]", as the CLI's --platform. */
  platform?: string;
  /** Blobs hashed at once; default 4 with the default engines (whose whole-blob engine waits on reads and, in Node.js, inflates off the main thread), else 1. */
  parallelism?: number;
  /** Called as blobs are read, at most about once per 1% of each blob. */
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Faster engines than the module's Go code: by default the runtime's
   * DecompressionStream for gzip and a native SHA-256 and CRC-32
   * (node:crypto and node:zlib in Node.js, hash-wasm in browsers), also
   * used to digest whole layers at once. false runs the Go code only. The report
   * is the same either way: after any engine failure, the input is verified
   * again with the Go code.
   */
  engines?: false | Engines;
  /**
   * Overrides limits as the CLI's --limit does: a limit kind, such as
   * "manifest-document-bytes" or "key-file-bytes", to a positive whole number.
   */
  limits?: { [kind: string]: number };
  /** Where to load the module from; defaults to imgproof.wasm beside this file. Used by the first call only. */
  wasm?: string | URL | ArrayBuffer | ArrayBufferView | WebAssembly.Module;
}

/** A hasher: update() takes bytes, digest() returns the 32-byte SHA-256. */
export interface Hasher {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

export interface Engines {
  /** Returns a new SHA-256 hasher, or a Promise of one. */
  sha256?: () => Hasher | Promise<Hasher>;
  /** Returns a gzip decoder, as engines.js makes over DecompressionStream. */
  gunzip?: () => GzipDecoder;
  /**
   * Digests one whole stored blob, blob.slice(start, end): SHA-256 of its
   * bytes and, for gzip, of the decompressed ones, with their CRC-32 and
   * first 512 bytes. Resolves to null for compressions left to the Go code.
   * The module checks the result against the gzip trailer and its limits.
   */
  blob?: (blob: Blob, start: number, end: number, request: BlobRequest) => Promise<BlobResult | null>;
}

/** A gzip decoder: compressed bytes in with write and close, decompressed out with readInto. */
export interface GzipDecoder {
  /** Resolves once the decoder took the bytes, which the caller may then reuse. */
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): void;
  cancel(): void;
  /** Fills target; resolves to the bytes written, 0 at the end. */
  readInto(target: Uint8Array): Promise<number>;
}

export interface BlobRequest {
  name: string;
  /** Bomb guard: stop past maxOutput decompressed bytes, or past ratioFloor and ratio times (stored bytes read - lookahead). */
  maxOutput: number;
  ratio: number;
  ratioFloor: number;
  lookahead: number;
  onProgress?: (storedBytesRead: number) => void;
}

export interface BlobResult {
  size: number;
  sha256: Uint8Array;
  /** The first 8 and last 8 stored bytes. */
  magic: Uint8Array;
  tail: Uint8Array;
  gzip: boolean;
  output?: number;
  outputSHA256?: Uint8Array;
  outputCRC32?: number;
  /** The first 512 bytes of the decompressed (or stored, if not compressed) bytes. */
  head: Uint8Array;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
}

export interface Layer {
  digest: string;
  /** sha256 of the uncompressed stream, recomputed; empty when the blob could not be read. */
  diffID: string;
  size: number;
  mediaType: string;
  compression: "gzip" | "zstd" | "none" | "unknown" | string;
  uncompressedSize?: number;
}

export interface Image {
  path: string;
  /** null when it cannot be recovered (classic docker save). */
  manifestDigest: string | null;
  manifestMediaType?: string;
  /** The digest of the config bytes. */
  imageID: string;
  platform?: Platform;
  layers: Layer[];
  chainIDs: string[];
  kind: "image" | "attestation" | "artifact" | string;
  refNames?: string[];
  subject?: string;
  attestsTo?: string;
}

export interface Index {
  path: string;
  digest: string;
  mediaType?: string;
  manifests: number;
}

export interface Finding {
  code: string;
  severity: Severity;
  path: string;
  expected?: string;
  actual?: string;
  how?: string;
  message: string;
}

export interface Binding {
  digest: string;
  node: "index" | "manifest" | "config" | string;
  path: string;
}

export interface Check {
  name: string;
  status: "pass" | "fail" | "skip" | string;
  message?: string;
}

export interface Attestation {
  kind: string;
  origin: string;
  payloadType?: string;
  predicateType?: string;
  signers: string[];
  binds: Binding[];
  checks: Check[];
  status: "verified" | "failed" | "unsigned" | "unverifiable" | string;
  /** The build a verified keyless signer's Fulcio certificate names. */
  build?: Build;
}

/** Fulcio certificate extensions (OID 1.3.6.1.4.1.57264.1.*) of a build. */
export interface Build {
  repository?: string;
  ref?: string;
  commit?: string;
  workflow?: string;
  workflowDigest?: string;
  runner?: string;
  issuer?: string;
  invocation?: string;
}

export interface Report {
  schema: string;
  verdict: Verdict;
  source: {
    path: string;
    format: "oci-layout" | "oci-archive" | "docker-archive" | "registry" | string;
    compressed?: boolean;
    views?: string[];
  };
  indexDigest?: string;
  indexes?: Index[];
  images: Image[];
  checks: number;
  findings: Finding[];
  attestations?: Attestation[];
}

/** Loads the WebAssembly module once (later calls reuse it). */
export function load(options?: Pick<VerifyOptions, "wasm">): Promise<unknown>;
/** Verifies an image and resolves to its report. Rejects only when the input is unusable (not a Blob, no files). */
export function verify(input: Input, options?: VerifyOptions): Promise<Report>;
/** Verifies an image and resolves to the report's JSON text, identical to `imgproof verify --output json` without the final newline. */
export function verifyJSON(input: Input, options?: VerifyOptions): Promise<string>;
/** Like verify, without progress events. */
export function inspect(input: Input, options?: VerifyOptions): Promise<Report>;
/** 0 for VERIFIED, 1 for FAILED, 2 for UNVERIFIABLE: the CLI's exit codes. */
export function exitCode(report: Report): 0 | 1 | 2;
