// Walks the local side of a pair with rclone's exclude semantics and returns size + mtime per file:
// the ground truth the change-driven push compares against its index.
import { lstat, readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Excluder } from "./rclone-glob.js";

export type FileStamp = [size: number, mtimeMs: number];

export async function scanLocal(root: string, excluder: Excluder, opts: { followSymlinks: boolean }): Promise<Map<string, FileStamp>> {
  const out = new Map<string, FileStamp>();
  async function walk(rel: string, depth: number): Promise<void> {
    let entries;
    try {
      entries = await readdir(rel ? path.join(root, rel) : root, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return; // vanished while walking
      throw err;
    }
    const subdirs: string[] = [];
    await Promise.all(
      entries.map(async (e) => {
        const childRel = rel ? `${rel}/${e.name}` : e.name;
        let isDir = e.isDirectory();
        let isFile = e.isFile();
        if (e.isSymbolicLink()) {
          if (!opts.followSymlinks) return; // rclone --skip-links
          const st = await stat(path.join(root, childRel)).catch(() => undefined);
          if (!st) return;
          isDir = st.isDirectory();
          isFile = st.isFile();
        }
        if (isDir) {
          if (!excluder.dir(childRel) && depth < 200) subdirs.push(childRel);
          return;
        }
        if (!isFile || excluder.file(childRel)) return;
        const st = await (opts.followSymlinks ? stat : lstat)(path.join(root, childRel)).catch(() => undefined);
        if (st) out.set(childRel, [st.size, st.mtimeMs]);
      }),
    );
    for (const d of subdirs) await walk(d, depth + 1);
  }
  await walk("", 0);
  return out;
}
