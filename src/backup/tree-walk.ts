// Walks the backup items (each a folder or a single file) in a deterministic order, never following
// symlinks, with rclone-style excludes. Items whose root lies inside another item are archived once.
import { createHash } from "node:crypto";
import { type BigIntStats, lstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import path from "node:path";
import { makeExcluder } from "../rclone/glob.js";

export interface ArchiveItem {
  /** Prefix inside the archive ("workspace", "config", …). */
  name: string;
  /** Absolute folder or file on disk. */
  root: string;
  exclude?: string[];
}

export interface WalkEntry {
  archivePath: string;
  absPath: string;
  type: "file" | "dir" | "symlink";
  size: number;
  mode: number;
  mtimeMs: number;
  linkTarget?: string;
  /** The walk's own lstat of absPath, when the walk was asked for it (`stats: true`). */
  stats?: EntryStats;
  /** absPath is a transient copy (a captured database) removed when the next entry is pulled: read it before that. */
  transient?: boolean;
}

/**
 * What a backup keeps of an entry's lstat: exact where the repository format needs it (nanosecond times, inode and
 * device as 64-bit numbers), plain numbers for the rest. A BigIntStats holds 18 BigInts (~630 bytes on the heap); this
 * ~290, which counts while the walk reads ahead (up to 20,000 entries, read-ahead.ts).
 */
export interface EntryStats {
  /** File type and permission bits (st_mode). */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  ino: bigint;
  dev: bigint;
  rdev: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export function entryStats(st: BigIntStats): EntryStats {
  return {
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    nlink: Number(st.nlink),
    size: Number(st.size),
    ino: st.ino,
    dev: st.dev,
    rdev: st.rdev,
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
  };
}

const S_IFMT = 0o170000;
/** Is it a regular file / a folder / a symlink (EntryStats keeps the mode, not BigIntStats' methods). */
export const isRegularFile = (st: EntryStats): boolean => (st.mode & S_IFMT) === 0o100000;
export const isFolder = (st: EntryStats): boolean => (st.mode & S_IFMT) === 0o040000;
export const isSymlink = (st: EntryStats): boolean => (st.mode & S_IFMT) === 0o120000;

/**
 * The compact lstat of a path, or undefined when it is gone. Synchronous on purpose (as the walk's own): one stat is a
 * few microseconds, while an awaited one waits for a thread-pool round trip — for thousands of unchanged files, most
 * of an incremental run.
 */
export function entryStatsOf(p: string): EntryStats | undefined {
  try {
    const st = lstatSync(p, { bigint: true, throwIfNoEntry: false });
    return st && entryStats(st);
  } catch {
    return undefined;
  }
}

export interface WalkOptions {
  onWarning?: (msg: string) => void;
  /** Hand each entry its lstat (BigInt: nanosecond times, inode), for a consumer that would stat it again. */
  stats?: boolean;
  /** Folders only, by the same rules (walkFolders). */
  foldersOnly?: boolean;
  /** Folders whose contents the walk reads (by archive path); one turned down is handed out, its contents not read. */
  descend?: (archivePath: string) => boolean;
}

const inside = (child: string, parent: string) => child !== parent && child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** True when `root` lies in a folder `outer` leaves out (the state dir inside the workspace item). */
function excludedFrom(outer: ArchiveItem, outerRoot: string, root: string): boolean {
  const excluder = makeExcluder(outer.exclude ?? []);
  const parts = path.relative(outerRoot, root).split(path.sep);
  for (let i = 1; i <= parts.length; i++) if (excluder.dir(parts.slice(0, i).join("/"))) return true;
  return false;
}

/** Drops items whose root lies inside another item's root (the outer item already holds it, unless it excludes it). */
export function dedupItems(items: ArchiveItem[]): ArchiveItem[] {
  const roots = items.map((i) => path.resolve(i.root));
  return items.filter(
    (_, idx) =>
      !roots.some((r, j) => j !== idx && ((inside(roots[idx]!, r) && !excludedFrom(items[j]!, r, roots[idx]!)) || (r === roots[idx] && j < idx))),
  );
}

const YIELD_EVERY = 500;
const NS = 1_000_000_000n;

/**
 * mtimeMs exactly as Node computes it for a plain lstat (seconds × 1000 + nanoseconds / 10^6): a BigInt lstat's own
 * mtimeMs is truncated to whole milliseconds, and the fingerprint that skips unchanged runs must not depend on which
 * kind of walk made it.
 */
function mtimeMsOf(st: Stats | BigIntStats): number {
  if (typeof st.mtimeMs === "number") return st.mtimeMs;
  const ns = (st as BigIntStats).mtimeNs;
  let sec = ns / NS;
  let nsec = ns % NS;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NS;
  }
  return Number(sec) * 1e3 + Number(nsec) / 1e6;
}
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function lstatOrUndefined(p: string, bigint: true): BigIntStats | undefined;
function lstatOrUndefined(p: string, bigint: boolean): Stats | BigIntStats | undefined;
function lstatOrUndefined(p: string, bigint: boolean): Stats | BigIntStats | undefined {
  try {
    return bigint ? lstatSync(p, { bigint: true }) : lstatSync(p);
  } catch {
    return undefined; // vanished
  }
}

/** A folder the walk is inside of: its sorted names and the next one to visit. */
interface OpenFolder {
  abs: string;
  rel: string;
  names: string[];
  next: number;
}

/**
 * Synchronous fs calls on purpose (as in the sync engine's local scan): tens of thousands of small stats are several
 * times faster without a thread-pool round trip each; one folder's worth blocks for well under a millisecond.
 * Depth-first, each folder's names in sorted order, a folder before its contents. The open folders are an explicit
 * stack, not recursive generators: an entry passes through one generator instead of one per folder level (each level
 * cost a promise and a result object per entry, most of an unchanged run's walk).
 */
export async function* walkItems(items: ArchiveItem[], opts: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const onWarning = opts.onWarning ?? (() => {});
  const bigint = !!opts.stats;
  let sinceTurn = 0;
  for (const item of dedupItems(items)) {
    const excluder = makeExcluder(item.exclude ?? []);
    const rootStat = lstatOrUndefined(item.root, bigint);
    if (!rootStat) continue;
    const open: OpenFolder[] = [];
    let abs = item.root;
    let rel = "";
    let st: Stats | BigIntStats | undefined = rootStat;
    for (;;) {
      if (st) {
        const archivePath = rel ? `${item.name}/${rel}` : item.name;
        const mode = Number(st.mode) & 0o7777;
        const mtimeMs = mtimeMsOf(st);
        let entry: WalkEntry | undefined;
        if (st.isSymbolicLink()) {
          try {
            entry = { archivePath, absPath: abs, type: "symlink", size: 0, mode, mtimeMs, linkTarget: readlinkSync(abs) };
          } catch {
            // vanished
          }
        } else if (st.isFile()) {
          entry = { archivePath, absPath: abs, type: "file", size: Number(st.size), mode, mtimeMs };
        } else if (st.isDirectory()) {
          entry = { archivePath, absPath: abs, type: "dir", size: 0, mode, mtimeMs };
          try {
            if (!opts.descend || opts.descend(archivePath)) {
              open.push({ abs, rel, names: opts.foldersOnly ? folderNames(abs, st) : readdirSync(abs).sort(), next: 0 });
            }
          } catch (err) {
            onWarning(`cannot read folder ${abs}: ${(err as Error).message}`);
          }
        } else {
          onWarning(`skipped ${abs}: not a regular file, folder or symlink`);
        }
        if (entry && (!opts.foldersOnly || entry.type === "dir")) {
          if (bigint) entry.stats = entryStats(st as BigIntStats);
          yield entry;
        }
        st = undefined;
      }
      const folder = open[open.length - 1];
      if (!folder) break;
      if (folder.next >= folder.names.length) {
        open.pop();
        continue;
      }
      const name = folder.names[folder.next++]!;
      rel = folder.rel ? `${folder.rel}/${name}` : name;
      // Below the root's own children a path is built by concatenation (path.join normalises every time): readdir's
      // names hold no separator and are never "." or "..", and a folder's path from path.join is already normal.
      abs = open.length === 1 ? path.join(folder.abs, name) : folder.abs + path.sep + name;
      // An async generator fed by sync calls runs on microtasks only: give the event loop (timers, sockets — the
      // gateway's, in plugin mode) a turn every so often.
      if (++sinceTurn >= YIELD_EVERY) {
        sinceTurn = 0;
        await turn();
      }
      const cst = lstatOrUndefined(abs, bigint);
      if (!cst || (opts.foldersOnly && !cst.isDirectory())) continue;
      if (cst.isDirectory() ? excluder.dir(rel) || excluder.file(rel) : excluder.file(rel)) continue;
      st = cst;
    }
  }
}

/**
 * A folder's names that may be folders (the file system says so, or does not say), sorted: no lstat per file. A
 * folder whose link count is 2 holds no folders where link counts count them (ext4, XFS, tmpfs; btrfs says 1 and is
 * read): it is not read at all. Reading entries with their types costs memory (~8 MiB of RSS for 20,000 files, early
 * in a backup, beside the key derivation's 64 MiB), and where the count misleads, a folder missed here is only stored
 * where the entries reach it.
 */
function folderNames(abs: string, st: Stats | BigIntStats): string[] {
  if (Number(st.nlink) === 2) return [];
  return readdirSync(abs, { withFileTypes: true })
    .filter((d) => d.isDirectory() || !(d.isFile() || d.isSymbolicLink() || d.isFIFO() || d.isSocket() || d.isCharacterDevice() || d.isBlockDevice()))
    .map((d) => d.name)
    .sort();
}

/**
 * The folders walkItems would hand out (same items, exclusions and order; each folder lstat'ed for its mode and time),
 * without a stat per file. The archive writer stores them ahead of the files, so a restore makes every folder before any file, as restic
 * does: on ext4 without a journal, files created between folders made a 1 GiB restore 2–3x slower right after a mass
 * delete (docs/performance.md).
 */
export function walkFolders(items: ArchiveItem[]): AsyncGenerator<WalkEntry> {
  return walkItems(items, { foldersOnly: true }); // no warnings: the walk of the entries gives them
}

export async function scanTotals(items: ArchiveItem[]): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for await (const e of walkItems(items)) {
    if (e.type === "file") {
      files++;
      bytes += e.size;
    }
  }
  return { files, bytes };
}

/** Cheap fingerprint of the tree (paths, sizes, mtimes, modes, link targets) to skip unchanged backups. */
export async function fingerprintTree(items: ArchiveItem[]): Promise<{ fingerprint: string; files: number; bytes: number }> {
  const hash = createHash("sha256");
  let files = 0;
  let bytes = 0;
  for await (const e of walkItems(items)) {
    hash.update(`${e.type}\0${e.archivePath}\0${e.size}\0${e.mtimeMs}\0${e.mode}\0${e.linkTarget ?? ""}\n`);
    if (e.type === "file") {
      files++;
      bytes += e.size;
    }
  }
  return { fingerprint: hash.digest("hex"), files, bytes };
}
