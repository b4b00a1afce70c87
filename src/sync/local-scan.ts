// Walks the local side of a pair with rclone's exclude semantics and returns size + mtime per file:
// the ground truth the change-driven push compares against its index.
import { type Dirent, lstatSync, readdirSync, type Stats, statSync } from "node:fs";
import path from "node:path";
import type { Excluder } from "./rclone-glob.js";

export type FileStamp = [size: number, mtimeMs: number];

/**
 * Synchronous fs calls on purpose: for tens of thousands of small stats they are several times faster than
 * the promise API (no thread-pool round trip per file); a 40k-file scan blocks for ~0.1-0.2 s.
 */
export async function scanLocal(root: string, excluder: Excluder, opts: { followSymlinks: boolean }): Promise<Map<string, FileStamp>> {
  const out = new Map<string, FileStamp>();
  const stack: { rel: string; depth: number }[] = [{ rel: "", depth: 0 }];
  while (stack.length) {
    const { rel, depth } = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(rel ? path.join(root, rel) : root, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") continue; // vanished while walking
      throw err;
    }
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(root, childRel);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      let st: Stats | undefined;
      if (e.isSymbolicLink()) {
        if (!opts.followSymlinks) continue; // rclone --skip-links
        st = statSync(abs, { throwIfNoEntry: false });
        if (!st) continue;
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (isDir) {
        if (!excluder.dir(childRel) && depth < 200) stack.push({ rel: childRel, depth: depth + 1 });
        continue;
      }
      if (!isFile || excluder.file(childRel)) continue;
      st ??= lstatSync(abs, { throwIfNoEntry: false });
      if (st) out.set(childRel, [st.size, st.mtimeMs]);
    }
  }
  return out;
}
