// Safe streaming restore of a tar stream into a target folder. Nothing is ever written outside the
// target: absolute paths, ".." segments, paths through symlinks (including ones created earlier in the
// same archive), hard links, devices and fifos are refused and reported. Each file is written to a
// temporary name and renamed when complete, so a cut stream never leaves a complete-looking file.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { chmod, lstat, lutimes, mkdir, open, rename, rm, symlink, utimes } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { Parser, type ReadEntry } from "tar";

export interface ExtractOptions {
  target: string;
  /** Archive paths to restore (e.g. a --path glob); others are skipped. */
  filter?: (archivePath: string) => boolean;
  dryRun?: boolean;
  onEntry?: (archivePath: string, type: string, size: number) => void;
  /** Keep setuid/setgid/sticky bits (off by default). */
  keepSpecialBits?: boolean;
}

export interface ExtractResult {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  refused: { path: string; reason: string }[];
  skipped: number;
}

/** Cleans an archive path; returns undefined with a reason when it must not be restored. */
export function safeRelative(p: string): { rel?: string; reason?: string } {
  if (p.includes("\0")) return { reason: "NUL in path" };
  if (p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith("\\")) return { reason: "absolute path" };
  const parts = p.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
  if (parts.includes("..")) return { reason: '".." segment' };
  if (parts.length === 0) return { reason: "empty path" };
  return { rel: parts.join("/") };
}

async function parentsAreRealDirs(target: string, rel: string): Promise<boolean> {
  const parts = rel.split("/").slice(0, -1);
  let cur = target;
  for (const part of parts) {
    cur = path.join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (!st) return true; // the rest will be created by us as real folders
    if (!st.isDirectory()) return false; // a symlink (or file) in the way: never write through it
  }
  return true;
}

async function ensureDirs(target: string, rel: string): Promise<void> {
  const parts = rel.split("/").slice(0, -1);
  let cur = target;
  for (const part of parts) {
    cur = path.join(cur, part);
    try {
      await mkdir(cur);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const st = await lstat(cur);
      if (!st.isDirectory()) throw new Error(`refusing to write through ${cur}: not a real folder`);
    }
  }
}

function drain(entry: ReadEntry): Promise<void> {
  return new Promise((resolve, reject) => {
    entry.on("end", resolve);
    entry.on("error", reject);
    entry.resume();
  });
}

async function writeFileEntry(entry: ReadEntry, dest: string, mode: number, mtime: Date | undefined): Promise<number> {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest).slice(0, 40)}.ws-partial-${randomBytes(4).toString("hex")}`);
  const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let written = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let chain = Promise.resolve();
      entry.on("data", (chunk: Buffer) => {
        entry.pause();
        chain = chain
          .then(() => handle.write(chunk))
          .then(() => {
            written += chunk.length;
            entry.resume();
          })
          .catch(reject);
      });
      entry.on("end", () => chain.then(resolve, reject));
      entry.on("error", reject);
    });
    if (written !== entry.size) throw new Error(`${entry.path}: archive ended inside this file`);
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await chmod(tmp, mode);
  if (mtime) await utimes(tmp, mtime, mtime);
  // rename() replaces a symlink at dest itself; it never writes through it.
  await rename(tmp, dest);
  return written;
}

export async function extractTar(stream: Readable, opts: ExtractOptions): Promise<ExtractResult> {
  const result: ExtractResult = { files: 0, dirs: 0, symlinks: 0, bytes: 0, refused: [], skipped: 0 };
  const target = path.resolve(opts.target);
  const dirTimes: { dest: string; mode: number; mtime?: Date }[] = [];
  const modeOf = (m: number | undefined, fallback: number) => (m ?? fallback) & (opts.keepSpecialBits ? 0o7777 : 0o777);
  if (!opts.dryRun) await mkdir(target, { recursive: true });

  const parser = new Parser({ strict: true });
  let queue: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const handle = async (entry: ReadEntry) => {
    const { rel, reason } = safeRelative(entry.path);
    const refuse = async (why: string) => {
      result.refused.push({ path: entry.path, reason: why });
      await drain(entry);
    };
    if (!rel) return refuse(reason!);
    if (opts.filter && !opts.filter(rel)) {
      result.skipped++;
      return drain(entry);
    }
    const type = entry.type;
    opts.onEntry?.(rel, type, entry.size ?? 0);
    if (!["File", "OldFile", "ContiguousFile", "Directory", "SymbolicLink"].includes(type)) return refuse(`${type} entries are not restored`);
    if (opts.dryRun) {
      if (type === "Directory") result.dirs++;
      else if (type === "SymbolicLink") result.symlinks++;
      else {
        result.files++;
        result.bytes += entry.size ?? 0;
      }
      return drain(entry);
    }
    if (!(await parentsAreRealDirs(target, rel))) return refuse("path leads through a symlink");
    const dest = path.join(target, rel);
    if (type === "Directory") {
      await ensureDirs(target, `${rel}/x`);
      dirTimes.push({ dest, mode: modeOf(entry.mode, 0o755), mtime: entry.mtime });
      result.dirs++;
      return drain(entry);
    }
    await ensureDirs(target, rel);
    if (type === "SymbolicLink") {
      await rm(dest, { force: true });
      await symlink(entry.linkpath ?? "", dest);
      if (entry.mtime) await lutimes(dest, entry.mtime, entry.mtime).catch(() => {});
      result.symlinks++;
      return drain(entry);
    }
    const existing = await lstat(dest).catch(() => undefined);
    if (existing?.isDirectory()) return refuse("a folder already exists at this path");
    result.bytes += await writeFileEntry(entry, dest, modeOf(entry.mode, 0o644), entry.mtime);
    result.files++;
  };

  parser.on("entry", (entry: ReadEntry) => {
    // Entries are handled strictly in order; the parser is paused while one is written.
    stream.pause();
    queue = queue
      .then(() => (failure ? drain(entry) : handle(entry)))
      .catch((err: Error) => {
        failure ??= err;
        // A write that failed (disk full, permissions) ends the restore: stop reading instead of downloading the
        // rest of the snapshot for nothing.
        stream.destroy(failure);
        return drain(entry).catch(() => {});
      })
      .finally(() => stream.resume());
  });

  await new Promise<void>((resolve, reject) => {
    parser.on("error", (err: Error) => {
      failure ??= err;
    });
    parser.on("warn", (_code: string, message: string | Error) => {
      failure ??= new Error(`corrupt archive: ${typeof message === "string" ? message : message.message}`);
    });
    stream.on("error", (err) => {
      failure ??= err;
      reject(err);
    });
    parser.on("end", () => resolve());
    parser.on("close", () => resolve());
    stream.pipe(parser);
  });
  await queue;
  if (failure) throw failure;
  // Folder modes and times last, deepest first, once their contents are in place.
  for (const d of dirTimes.reverse()) {
    await chmod(d.dest, d.mode).catch(() => {});
    if (d.mtime) await utimes(d.dest, d.mtime, d.mtime).catch(() => {});
  }
  return result;
}

/** Reads a tar stream to its end without writing anything (verify). */
export async function listTar(stream: Readable): Promise<{ files: number; dirs: number; symlinks: number; bytes: number }> {
  const r = await extractTar(stream, { target: "/nonexistent-dry-run", dryRun: true });
  return { files: r.files, dirs: r.dirs, symlinks: r.symlinks, bytes: r.bytes };
}
