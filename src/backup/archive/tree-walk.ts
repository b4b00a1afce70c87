// Walks the backup items (each a folder or a single file) in a deterministic order, never following
// symlinks, with rclone-style excludes. Items whose root lies inside another item are archived once.
import { createHash } from "node:crypto";
import { lstat, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { makeExcluder } from "../../sync/rclone-glob.js";

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
}

const inside = (child: string, parent: string) => child !== parent && child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** Drops items whose root lies inside another item's root (the outer item already holds it). */
export function dedupItems(items: ArchiveItem[]): ArchiveItem[] {
  const roots = items.map((i) => path.resolve(i.root));
  return items.filter((_, idx) => !roots.some((r, j) => j !== idx && (inside(roots[idx]!, r) || (r === roots[idx] && j < idx))));
}

export async function* walkItems(items: ArchiveItem[], onWarning: (msg: string) => void = () => {}): AsyncGenerator<WalkEntry> {
  for (const item of dedupItems(items)) {
    const excluder = makeExcluder(item.exclude ?? []);
    const rootStat = await lstat(item.root).catch(() => undefined);
    if (!rootStat) continue;
    async function* visit(abs: string, rel: string, st: Awaited<ReturnType<typeof lstat>>): AsyncGenerator<WalkEntry> {
      const archivePath = rel ? `${item.name}/${rel}` : item.name;
      const base = { archivePath, absPath: abs, mode: Number(st.mode) & 0o7777, mtimeMs: Number(st.mtimeMs) };
      if (st.isSymbolicLink()) {
        yield { ...base, type: "symlink", size: 0, linkTarget: await readlink(abs) };
      } else if (st.isFile()) {
        yield { ...base, type: "file", size: Number(st.size) };
      } else if (st.isDirectory()) {
        yield { ...base, type: "dir", size: 0 };
        let names: string[];
        try {
          names = (await readdir(abs)).sort();
        } catch (err) {
          onWarning(`cannot read folder ${abs}: ${(err as Error).message}`);
          return;
        }
        for (const name of names) {
          const childRel = rel ? `${rel}/${name}` : name;
          const childAbs = path.join(abs, name);
          const cst = await lstat(childAbs).catch(() => undefined);
          if (!cst) continue; // vanished
          if (cst.isDirectory() ? excluder.dir(childRel) || excluder.file(childRel) : excluder.file(childRel)) continue;
          yield* visit(childAbs, childRel, cst);
        }
      } else {
        onWarning(`skipped ${abs}: not a regular file, folder or symlink`);
      }
    }
    yield* visit(item.root, "", rootStat);
  }
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
