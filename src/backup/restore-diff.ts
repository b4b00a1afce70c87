// After a restore: how the restored copy differs from the live locations it was taken from (per manifest item),
// so the user sees what copying it into place would change. Size and mtime decide, like rsync's quick check.
//
// Cost. The live side is a walk of ~as many entries as the snapshot holds, taken while the restore runs (from its first
// bytes of file data, through an idle gate: it fills the main thread's waits instead of adding a walk at the end), and
// it skips the restore's own folders. The restored side is what the writer reports as it puts each file and symlink in place
// (restoredSignature: the size it wrote and checked, the times it set), not a second walk: an lstat of 20,000
// restored files cost ~0.15 s at the end of a 1 GiB restore (docs/performance.md).
import path from "node:path";
import { type Excluder, makeExcluder } from "../rclone/glob.js";
import type { IdleGate } from "../util/idle-gate.js";
import type { RestoreEntry } from "./restore/index.js";
import { walkItems, type WalkEntry } from "./tree-walk.js";

export interface DiffSummary {
  same: number;
  changed: string[];
  onlyInSnapshot: string[];
  onlyLive: string[];
}

/** Where an item lies in the snapshot (`path`) and where it came from (`livePath`). */
export interface LayoutItem {
  item: string;
  path: string;
  livePath: string;
}

type Sig = string;

/** What the quick check compares: type, size, mtime in whole seconds, a symlink's target. */
export const signatureOf = (e: Pick<WalkEntry, "type" | "size" | "mtimeMs" | "linkTarget">): Sig =>
  `${e.type} ${e.size} ${Math.floor(e.mtimeMs / 1000)} ${e.linkTarget ?? ""}`;

/**
 * The signature of a file or symlink the writer put in place, as signatureOf would give for its lstat (the size
 * written, the mtime it set). An entry without an mtime got the time of its writing, which no live file is compared
 * equal to (NaN seconds).
 */
export const restoredSignature = (e: RestoreEntry): Sig =>
  signatureOf({
    type: e.type === "symlink" ? "symlink" : "file",
    size: e.type === "file" ? e.size : 0,
    mtimeMs: e.mtime ? e.mtime.sec * 1000 : Number.NaN,
    ...(e.linkTarget !== undefined ? { linkTarget: e.linkTarget } : {}),
  });

/** Entries walked between two passes through the gate (~2 ms of lstat and bookkeeping). */
const GATE_EVERY = 256;

/** Files the backup never holds, so they are not reported as "only live". */
const NOT_BACKED_UP = ["*.sqlite-shm", "*.sqlite-wal", "*.sqlite-journal"];

/** The live side: per layout item, its files' signatures by snapshot path. */
export type LiveSignatures = Map<LayoutItem, Map<string, Sig>>;

const isUnder = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

/**
 * Walks the live locations of `layout` (with the config's excludes). Entries under `skip` (the restore's staging
 * folder, should it lie inside a live location) are left out, so the picture does not depend on how far the restore
 * got while the walk ran. Restoring with --force into a live location compares the snapshot with what was there
 * before the restore wrote. `signal` stops the walk (a restore that failed or was cancelled does not wait for it);
 * `descend` (restore --path) turns down folders whose contents the comparison does not look at.
 */
export async function liveSignatures(
  layout: readonly LayoutItem[],
  exclude: readonly string[],
  skip: readonly string[] = [],
  signal?: AbortSignal,
  opts: { descend?: (snapshotPath: string) => boolean; gate?: IdleGate } = {},
): Promise<LiveSignatures> {
  const out: LiveSignatures = new Map();
  const excl = [...exclude, ...NOT_BACKED_UP];
  const skipped = skip.map((s) => path.resolve(s));
  let sinceTurn = 0;
  for (const item of layout) {
    const sigs = new Map<string, Sig>();
    out.set(item, sigs);
    const itemExclude = item.item === "extensions" ? [...excl, "node_modules/**"] : excl;
    for await (const e of walkItems([{ name: item.path, root: item.livePath, exclude: itemExclude }], opts.descend ? { descend: opts.descend } : {})) {
      if (opts.gate && ++sinceTurn >= GATE_EVERY) {
        sinceTurn = 0;
        await opts.gate.turn();
      }
      signal?.throwIfAborted();
      if (e.type === "dir" || skipped.some((s) => isUnder(e.absPath, s))) continue;
      sigs.set(e.archivePath, signatureOf(e));
    }
  }
  return out;
}

/**
 * True when the excludes leave out `rel` (relative to its item's root): the path itself or a folder on its way (the
 * walk prunes an excluded folder whole). `folders` remembers each folder's answer: siblings share their parents.
 */
function excludedWithin(excluder: Excluder, rel: string, folders: Map<string, boolean>): boolean {
  if (rel === "") return false;
  const slash = rel.lastIndexOf("/");
  if (slash >= 0) {
    const dir = rel.slice(0, slash);
    let out = folders.get(dir);
    if (out === undefined) {
      out = excludedWithin(excluder, dir, folders) || excluder.dir(dir);
      folders.set(dir, out);
    }
    if (out) return true;
  }
  return excluder.file(rel);
}

/**
 * `restored`: the signature of every file and symlink this restore wrote, by snapshot path. `include`: the --path
 * selection (a live file outside it is not "only live").
 */
export function compareWithLive(
  layout: readonly LayoutItem[],
  restored: ReadonlyMap<string, Sig>,
  live: LiveSignatures,
  exclude: readonly string[],
  include: (archivePath: string) => boolean,
): DiffSummary {
  const summary: DiffSummary = { same: 0, changed: [], onlyInSnapshot: [], onlyLive: [] };
  const excluder = makeExcluder([...exclude, ...NOT_BACKED_UP]);
  for (const item of layout) {
    const liveSigs = live.get(item) ?? new Map<string, Sig>();
    const below = `${item.path}/`;
    const folders = new Map<string, boolean>();
    for (const [p, sig] of restored) {
      if (p !== item.path && !p.startsWith(below)) continue;
      const l = liveSigs.get(p);
      // The live walk applied the excludes: a path it holds is not excluded, so only the others are matched.
      if (l === undefined) {
        if (!excludedWithin(excluder, p.slice(below.length), folders)) summary.onlyInSnapshot.push(p);
      } else if (l === sig) summary.same++;
      else summary.changed.push(p);
    }
    // A live path is never excluded (the walk left those out): restored or not is all that tells.
    for (const p of liveSigs.keys()) if (!restored.has(p) && include(p)) summary.onlyLive.push(p);
  }
  return summary;
}
