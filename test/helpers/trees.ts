// Test harness, trees: build files from a spec, read a tree back (hashes, modes, symlinks), seeded random trees,
// and the plain helpers for small byte-exact comparisons (writeTree, readTreeContents, fingerprint).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";

// ---------------------------------------------------------------------------------------------------------
// Trees
// ---------------------------------------------------------------------------------------------------------

export type TreeSpecEntry =
  | string
  | Uint8Array
  | { content: string | Uint8Array; mode?: number; mtime?: Date | number }
  | { symlink: string }
  | { dir: true; mode?: number };
export type TreeSpec = Record<string, TreeSpecEntry>;

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function toPosix(rel: string): string {
  return rel.split(path.sep).join("/");
}

function safeJoin(dir: string, rel: string): string {
  const full = path.resolve(dir, rel);
  if (full !== path.resolve(dir) && !full.startsWith(path.resolve(dir) + path.sep)) throw new Error(`tree path escapes its root: ${rel}`);
  return full;
}

/** Creates files (parents included) from a spec; strings are written as UTF-8. mtime: Date or epoch ms. */
export async function makeTree(dir: string, spec: TreeSpec): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [rel, entry] of Object.entries(spec)) {
    const full = safeJoin(dir, rel);
    await mkdir(path.dirname(full), { recursive: true });
    if (typeof entry === "string" || entry instanceof Uint8Array) {
      await writeFile(full, entry);
    } else if ("symlink" in entry) {
      await rm(full, { force: true });
      await symlink(entry.symlink, full);
    } else if ("dir" in entry) {
      await mkdir(full, { recursive: true });
      if (entry.mode !== undefined) await chmod(full, entry.mode);
    } else {
      await writeFile(full, entry.content);
      if (entry.mode !== undefined) await chmod(full, entry.mode);
      if (entry.mtime !== undefined) {
        const t = entry.mtime instanceof Date ? entry.mtime : new Date(entry.mtime);
        await utimes(full, t, t);
      }
    }
  }
  return dir;
}

/** What readTree() would return for a tree made from `spec` (files and symlinks; dirs only with emptyDirs). */
export function specDigest(spec: TreeSpec, opts: { emptyDirs?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rel, entry] of Object.entries(spec)) {
    const key = toPosix(path.normalize(rel));
    if (typeof entry === "string" || entry instanceof Uint8Array) out[key] = sha256(entry);
    else if ("symlink" in entry) out[key] = `symlink:${entry.symlink}`;
    else if ("dir" in entry) {
      if (opts.emptyDirs) out[key] = "dir";
    } else out[key] = sha256(entry.content);
  }
  return out;
}

export interface TreeEntry {
  type: "file" | "symlink" | "dir";
  size?: number;
  sha256?: string;
  /** Permission bits (st_mode & 0o7777). */
  mode: number;
  mtimeMs: number;
  /** Symlink target. */
  target?: string;
}

export interface ReadTreeOptions {
  /** Include empty directories (value "dir"). */
  emptyDirs?: boolean;
  /** Decode s3rver's store layout: "<key>._S3rver_object" => key; metadata/md5 files and uploads skipped. */
  s3rver?: boolean;
  /** Skip relative paths (POSIX separators) for which this returns true. */
  ignore?: (rel: string) => boolean;
}

const S3RVER_OBJECT = "._S3rver_object";

async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Every entry under dir (symlinks not followed): relpath => details. Missing dir => {}. */
export async function readTreeDetailed(dir: string, opts: ReadTreeOptions = {}): Promise<Record<string, TreeEntry>> {
  const out: Record<string, TreeEntry> = {};
  const walk = async (abs: string, rel: string): Promise<boolean> => {
    let entries;
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && rel === "") return false;
      throw err;
    }
    let any = false;
    for (const ent of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      let name = ent.name;
      if (opts.s3rver) {
        if (ent.isDirectory() && name === "._S3rver_uploads") continue;
        if (!ent.isDirectory()) {
          if (!name.endsWith(S3RVER_OBJECT)) continue; // ._S3rver_metadata.json, ._S3rver_object.md5
          name = name.slice(0, -S3RVER_OBJECT.length);
        }
      }
      const childAbs = path.join(abs, ent.name);
      const childRel = rel ? `${rel}/${name}` : name;
      if (opts.ignore?.(childRel)) continue;
      const st = await lstat(childAbs);
      const common = { mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
      if (st.isSymbolicLink()) {
        out[childRel] = { type: "symlink", target: await readlink(childAbs), ...common };
        any = true;
      } else if (st.isDirectory()) {
        const nonEmpty = await walk(childAbs, childRel);
        if (!nonEmpty && opts.emptyDirs) out[childRel] = { type: "dir", ...common };
        any = true;
      } else if (st.isFile()) {
        out[childRel] = { type: "file", size: st.size, sha256: await hashFile(childAbs), ...common };
        any = true;
      }
    }
    return any;
  };
  await walk(dir, "");
  return out;
}

/** relpath => sha256 of content; symlinks => "symlink:<target>"; empty dirs => "dir" with emptyDirs. */
export async function readTree(dir: string, opts: ReadTreeOptions = {}): Promise<Record<string, string>> {
  const detailed = await readTreeDetailed(dir, opts);
  const out: Record<string, string> = {};
  for (const [rel, e] of Object.entries(detailed)) out[rel] = e.type === "file" ? e.sha256! : e.type === "symlink" ? `symlink:${e.target}` : "dir";
  return out;
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` deterministic pseudo-random bytes for `seed`. */
export function randomBytesSeeded(size: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf.writeUInt32LE(x, i);
  }
  for (; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

export interface RandomTreeOptions {
  files: number;
  maxSize: number;
  minSize?: number;
  seed: number;
  /** Maximum directory depth (default 3). */
  maxDepth?: number;
}

/** Writes a deterministic random tree (same options => same names and bytes) and returns its spec. */
export async function randomTree(dir: string, opts: RandomTreeOptions): Promise<Record<string, Buffer>> {
  const rnd = prng(opts.seed);
  const minSize = opts.minSize ?? 0;
  const maxDepth = opts.maxDepth ?? 3;
  const spec: Record<string, Buffer> = {};
  for (let i = 0; i < opts.files; i++) {
    const depth = Math.floor(rnd() * (maxDepth + 1));
    const dirs: string[] = [];
    for (let d = 0; d < depth; d++) dirs.push(`d${Math.floor(rnd() * 4)}`);
    const size = minSize + Math.floor(rnd() * (opts.maxSize - minSize + 1));
    const rel = [...dirs, `f${String(i).padStart(4, "0")}-${Math.floor(rnd() * 1e6).toString(36)}.bin`].join("/");
    spec[rel] = randomBytesSeeded(size, (opts.seed * 1_000_003 + i) >>> 0);
  }
  await makeTree(dir, spec);
  return spec;
}

/** Writes text files (parents included): the short form of makeTree for tests that need only contents. */
export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
}

/** relpath → content (files only), optionally skipping a top-level folder. */
export async function readTreeContents(root: string, skip: string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string) {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip.some((s) => r === s || r.startsWith(`${s}/`))) continue;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) out[r] = await readFile(path.join(root, r), "utf8");
    }
  }
  await walk("");
  return out;
}

/** Snapshot of everything observable: type, mode, size, mtime, sha256 — for "byte-identical" checks. */
export async function fingerprint(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string) {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = await lstat(path.join(root, r));
      if (e.isDirectory()) {
        out[r] = `dir ${st.mode.toString(8)}`;
        await walk(r);
      } else {
        const hash = e.isFile() ? createHash("sha256").update(await readFile(path.join(root, r))).digest("hex") : "";
        out[r] = `${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${hash}`;
      }
    }
  }
  await walk("");
  return out;
}
