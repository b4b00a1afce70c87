// After a restore: how the restored copy differs from the live locations it was taken from (per manifest item),
// so the user sees what copying it into place would change. Size and mtime decide, like rsync's quick check.
import { lstat, readlink } from "node:fs/promises";
import path from "node:path";
import { walkItems } from "./tree-walk.js";

export interface DiffSummary {
  same: number;
  changed: string[];
  onlyInSnapshot: string[];
  onlyLive: string[];
}

type Sig = string;

async function signatures(root: string, prefix: string, exclude: string[]): Promise<Map<string, Sig>> {
  const out = new Map<string, Sig>();
  const st = await lstat(root).catch(() => undefined);
  if (!st) return out;
  for await (const e of walkItems([{ name: prefix, root, exclude }])) {
    if (e.type === "dir") continue;
    const link = e.type === "symlink" ? await readlink(e.absPath).catch(() => "") : "";
    out.set(e.archivePath, `${e.type} ${e.size} ${Math.floor(e.mtimeMs / 1000)} ${link}`);
  }
  return out;
}

/** Files the backup never holds, so they are not reported as "only live". */
const NOT_BACKED_UP = ["*.sqlite-shm", "*.sqlite-wal", "*.sqlite-journal"];

/**
 * `layout`: where each item lies in the snapshot (`path`) and where it came from (`livePath`). `wasRestored` tells the
 * paths this restore wrote: a target restored into with --force may hold other files, which are not the snapshot's.
 */
export async function diffWithLive(
  layout: readonly { item: string; path: string; livePath: string }[],
  restoredRoot: string,
  exclude: readonly string[],
  include: (archivePath: string) => boolean,
  wasRestored: (archivePath: string) => boolean = () => true,
): Promise<DiffSummary> {
  const summary: DiffSummary = { same: 0, changed: [], onlyInSnapshot: [], onlyLive: [] };
  const excl = [...exclude, ...NOT_BACKED_UP];
  for (const item of layout) {
    const restored = await signatures(path.join(restoredRoot, ...item.path.split("/")), item.path, excl);
    const live = await signatures(item.livePath, item.path, item.item === "extensions" ? [...excl, "node_modules/**"] : excl);
    for (const [p, sig] of restored) {
      if (!wasRestored(p)) continue;
      const l = live.get(p);
      if (l === undefined) summary.onlyInSnapshot.push(p);
      else if (l === sig) summary.same++;
      else summary.changed.push(p);
    }
    for (const p of live.keys()) if (!(restored.has(p) && wasRestored(p)) && include(p)) summary.onlyLive.push(p);
  }
  return summary;
}
