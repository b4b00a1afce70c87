// After a restore: how the restored copy differs from the live locations it was taken from (per manifest item),
// so the user sees what copying it into place would change. Size and mtime decide, like rsync's quick check.
//
// Cost. Both sides are walks of ~as many entries as the snapshot holds. The live side is taken while the restore
// runs (started before it, it fills the wait for the key's derivation and the first reads instead of adding a walk
// at the end), and skips the restore's own folders; the restored side comes from the walk restore.ts already makes
// of the staging folder to check it, instead of a walk of its own.
import path from "node:path";
import { type Excluder, makeExcluder } from "../rclone/glob.js";
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
  opts: { descend?: (snapshotPath: string) => boolean } = {},
): Promise<LiveSignatures> {
  const out: LiveSignatures = new Map();
  const excl = [...exclude, ...NOT_BACKED_UP];
  const skipped = skip.map((s) => path.resolve(s));
  for (const item of layout) {
    const sigs = new Map<string, Sig>();
    out.set(item, sigs);
    const itemExclude = item.item === "extensions" ? [...excl, "node_modules/**"] : excl;
    for await (const e of walkItems([{ name: item.path, root: item.livePath, exclude: itemExclude }], opts.descend ? { descend: opts.descend } : {})) {
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
 * `restored`: the signature of every file and symlink in the restored copy, by snapshot path. `wasRestored` tells the
 * paths this restore wrote: a target restored into with --force may hold other files, which are not the snapshot's.
 * `include`: the --path selection (a live file outside it is not "only live").
 */
export function compareWithLive(
  layout: readonly LayoutItem[],
  restored: ReadonlyMap<string, Sig>,
  live: LiveSignatures,
  exclude: readonly string[],
  include: (archivePath: string) => boolean,
  wasRestored: (archivePath: string) => boolean = () => true,
): DiffSummary {
  const summary: DiffSummary = { same: 0, changed: [], onlyInSnapshot: [], onlyLive: [] };
  const excluder = makeExcluder([...exclude, ...NOT_BACKED_UP]);
  for (const item of layout) {
    const liveSigs = live.get(item) ?? new Map<string, Sig>();
    const restoredHere = new Set<string>();
    const folders = new Map<string, boolean>();
    for (const [p, sig] of restored) {
      if (p !== item.path && !p.startsWith(`${item.path}/`)) continue;
      if (!wasRestored(p) || excludedWithin(excluder, p.slice(item.path.length + 1), folders)) continue;
      restoredHere.add(p);
      const l = liveSigs.get(p);
      if (l === undefined) summary.onlyInSnapshot.push(p);
      else if (l === sig) summary.same++;
      else summary.changed.push(p);
    }
    for (const p of liveSigs.keys()) if (!restoredHere.has(p) && include(p)) summary.onlyLive.push(p);
  }
  return summary;
}
