// Writes a snapshot's entries into a (staging) folder, whatever format they come from. Nothing is ever written
// outside the target: unsafe paths (entry-rules.ts), paths through symlinks (including ones written earlier from the
// same snapshot) and special files are refused and reported. Each file is written to a temporary name and renamed
// when complete, so a cut stream never leaves a complete-looking file. Folder modes and times are set last.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { chmod, lstat, lutimes, mkdir, open, rename, rm, symlink, utimes } from "node:fs/promises";
import path from "node:path";
import { type Counts, count, isSnapshotRoot, judge, noCounts } from "./entry-rules.js";
import type { SnapshotEntry } from "./formats/format.js";

export interface WriterOptions {
  target: string;
  /** Snapshot paths to restore (a --path glob); others are skipped. */
  filter?: (rel: string) => boolean;
  /** Keep setuid/setgid/sticky bits (off by default). */
  keepSpecialBits?: boolean;
}

export interface WriteResult extends Counts {
  refused: { path: string; reason: string }[];
  skipped: number;
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

async function writeFile(entry: SnapshotEntry, dest: string, mode: number): Promise<number> {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest).slice(0, 40)}.ws-partial-${randomBytes(4).toString("hex")}`);
  const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let written = 0;
  try {
    for await (const chunk of entry.content()) {
      await handle.write(chunk);
      written += chunk.length;
    }
    if (written !== entry.size) throw new Error(`${entry.path}: the snapshot ended inside this file`);
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await chmod(tmp, mode);
  if (entry.mtime) await utimes(tmp, entry.mtime, entry.mtime);
  // rename() replaces a symlink at dest itself; it never writes through it.
  await rename(tmp, dest);
  return written;
}

export class EntryWriter {
  readonly result: WriteResult = { ...noCounts(), refused: [], skipped: 0 };
  /** Restorable entries refused while writing (a path through a symlink, a folder in the way), counted. */
  readonly refusedCounts: Counts = noCounts();
  private readonly target: string;
  private readonly dirTimes: { dest: string; mode: number; mtime?: Date }[] = [];

  constructor(private readonly opts: WriterOptions) {
    this.target = path.resolve(opts.target);
  }

  private modeOf(m: number | undefined, fallback: number): number {
    return (m ?? fallback) & (this.opts.keepSpecialBits ? 0o7777 : 0o777);
  }

  private refuse(entry: SnapshotEntry, reason: string): void {
    this.result.refused.push({ path: entry.path, reason });
    count(this.refusedCounts, entry);
  }

  /** Writes one entry (its content is read here, or left unread when it is skipped or refused). */
  async write(entry: SnapshotEntry): Promise<void> {
    if (isSnapshotRoot(entry)) return;
    const verdict = judge(entry);
    if (verdict.rel !== undefined && this.opts.filter && !this.opts.filter(verdict.rel)) {
      this.result.skipped++;
      return;
    }
    if (verdict.refused !== undefined) return void this.result.refused.push({ path: entry.path, reason: verdict.refused });
    const rel = verdict.rel;
    if (!(await parentsAreRealDirs(this.target, rel))) return this.refuse(entry, "path leads through a symlink");
    const dest = path.join(this.target, rel);
    if (entry.type === "dir") {
      await ensureDirs(this.target, `${rel}/x`);
      this.dirTimes.push({ dest, mode: this.modeOf(entry.mode, 0o755), mtime: entry.mtime });
      this.result.dirs++;
      return;
    }
    await ensureDirs(this.target, rel);
    if (entry.type === "symlink") {
      await rm(dest, { force: true });
      await symlink(entry.linkTarget ?? "", dest);
      if (entry.mtime) await lutimes(dest, entry.mtime, entry.mtime).catch(() => {});
      this.result.symlinks++;
      return;
    }
    const existing = await lstat(dest).catch(() => undefined);
    if (existing?.isDirectory()) return this.refuse(entry, "a folder already exists at this path");
    this.result.bytes += await writeFile(entry, dest, this.modeOf(entry.mode, 0o644));
    this.result.files++;
  }

  /** Folder modes and times last, deepest first, once their contents are in place. */
  async finish(): Promise<WriteResult> {
    for (const d of this.dirTimes.reverse()) {
      await chmod(d.dest, d.mode).catch(() => {});
      if (d.mtime) await utimes(d.dest, d.mtime, d.mtime).catch(() => {});
    }
    this.dirTimes.length = 0;
    return this.result;
  }
}
