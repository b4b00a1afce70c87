// Puts a finished file from staging into its destination folder without ever overwriting: a clash gets a unique
// name ("report (1).pdf"). link() fails with EEXIST instead of replacing, which makes the no-clobber check and
// the placement one atomic step.
//
// Names come from the remote, so they are hostile input: every folder below the destination root is created or
// entered one component at a time with lstat, so a symlink or a file standing where a folder should be is never
// followed or written through (the arrival goes to a sibling "name (1)" folder instead), and a name that a suffix
// would push past the file system's 255-byte limit is shortened.
import { copyFile, constants, link, lstat, mkdir, readdir, rm, rmdir, unlink } from "node:fs/promises";
import path from "node:path";

const NAME_MAX = 255;

export function candidateName(name: string, n: number): string {
  if (n === 0) return name;
  const ext = path.extname(name);
  const hasExt = ext !== "" && ext !== name && Buffer.byteLength(ext) <= 32;
  const stem = hasExt ? name.slice(0, -ext.length) : name;
  const suffix = ` (${n})${hasExt ? ext : ""}`;
  return `${fitBytes(stem, NAME_MAX - Buffer.byteLength(suffix))}${suffix}`;
}

/** The longest prefix of `s` that fits in `max` UTF-8 bytes (never splitting a character). */
function fitBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = "";
  let used = 0;
  for (const ch of s) {
    const len = Buffer.byteLength(ch);
    if (used + len > max) break;
    out += ch;
    used += len;
  }
  return out;
}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** Enters (or creates) `name` inside `dir` as a real folder; a symlink or non-folder there yields "name (1)" etc. */
async function realSubdir(dir: string, name: string): Promise<string> {
  for (let n = 0; n < 10_000; n++) {
    const candidate = path.join(dir, candidateName(name, n));
    const st = await lstat(candidate).catch((err) => {
      if (code(err) === "ENOENT") return undefined;
      throw err;
    });
    if (st?.isDirectory()) return candidate;
    if (st) continue; // a file, a symlink, a device: never go through it
    try {
      await mkdir(candidate);
      return candidate;
    } catch (err) {
      if (code(err) !== "EEXIST") throw err;
      n--; // raced with another writer: look again
    }
  }
  throw new Error(`no free folder name for ${path.join(dir, name)}`);
}

/** The real folder for `relDir` (POSIX or native separators) below `root`; `root` itself is created if missing. */
export async function safeDir(root: string, relDir: string): Promise<string> {
  await mkdir(root, { recursive: true });
  let dir = root;
  for (const part of relDir.split(/[\\/]/).filter((p) => p !== "" && p !== "." && p !== "..")) dir = await realSubdir(dir, part);
  return dir;
}

/**
 * Links `staged` at `rel` below `root` (or a unique sibling name); returns the path used. The staged file stays:
 * its link count tells a later run that it was placed (see drain.ts). Filesystems without hard links get an
 * exclusive copy (COPYFILE_EXCL also refuses to overwrite).
 */
export async function linkNoClobber(staged: string, root: string, rel: string): Promise<string> {
  const dir = await safeDir(root, path.dirname(rel));
  const base = path.basename(rel);
  for (let n = 0; n < 10_000; n++) {
    const candidate = path.join(dir, candidateName(base, n));
    try {
      await link(staged, candidate);
      return candidate;
    } catch (err) {
      const c = code(err);
      if (c === "EEXIST") continue;
      if (c !== "EPERM" && c !== "ENOTSUP" && c !== "EXDEV" && c !== "EMLINK") throw err;
    }
    try {
      await copyFile(staged, candidate, constants.COPYFILE_EXCL);
      return candidate;
    } catch (copyErr) {
      if (code(copyErr) === "EEXIST") continue;
      await rm(candidate, { force: true });
      throw copyErr;
    }
  }
  throw new Error(`no free name for ${path.join(dir, base)}`);
}

/** Moves `staged` to `rel` below `root` (or a unique sibling name); returns the path used. */
export async function placeNoClobber(staged: string, root: string, rel: string): Promise<string> {
  const landed = await linkNoClobber(staged, root, rel);
  await unlink(staged);
  return landed;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * All regular files under dir, relative, sorted. A name that is not valid UTF-8 (possible on Linux, rclone copies
 * such names byte for byte) cannot be handled as a JS string: it is handed to `undecodable` as a raw path instead.
 */
export async function walkFiles(dir: string, opts: { undecodable?: (raw: Buffer) => void | Promise<void> } = {}): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    const abs = Buffer.from(path.join(dir, rel));
    let entries;
    try {
      entries = await readdir(abs, { withFileTypes: true, encoding: "buffer" });
    } catch (err) {
      if (code(err) === "ENOENT") return;
      throw err;
    }
    for (const e of entries) {
      let name: string;
      try {
        name = utf8.decode(e.name);
      } catch {
        await opts.undecodable?.(Buffer.concat([abs, Buffer.from(path.sep), e.name]));
        continue;
      }
      const childRel = rel ? path.join(rel, name) : name;
      if (e.isDirectory()) await walk(childRel);
      else if (e.isFile()) out.push(childRel);
    }
  }
  await walk("");
  return out.sort();
}

/** Removes empty folders below dir (not dir itself). */
export async function pruneEmptyDirs(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const child = path.join(dir, e.name);
    await pruneEmptyDirs(child);
    await rmdir(child).catch(() => {});
  }
}
