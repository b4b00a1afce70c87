// One walk over the live sources before a backup: the tree fingerprint (skip-unchanged), the totals (progress
// ETA) and the SQLite databases that must be captured with the online backup API instead of copied.
import { createHash } from "node:crypto";
import path from "node:path";
import { walkItems } from "./archive/index.js";
import type { ItemSource } from "./items.js";

export interface LiveDatabase {
  source: ItemSource;
  /** Path below the source's root ("" when the source is the database file itself). */
  rel: string;
  livePath: string;
}

export interface ScanResult {
  fingerprint: string;
  files: number;
  bytes: number;
  databases: LiveDatabase[];
}

/** SQLite's shared-memory index changes on every read: never part of the fingerprint or the archive. */
const VOLATILE = ["*.sqlite-shm"];

export function isDatabaseName(name: string): boolean {
  return name.endsWith(".sqlite");
}

export function sourceExcludes(source: ItemSource, userExclude: readonly string[]): string[] {
  return [...userExclude, ...source.exclude, ...VOLATILE];
}

export async function scanSources(sources: readonly ItemSource[], userExclude: readonly string[], onWarning: (m: string) => void = () => {}): Promise<ScanResult> {
  const hash = createHash("sha256");
  let files = 0;
  let bytes = 0;
  const databases: LiveDatabase[] = [];
  for (const source of sources) {
    const items = [{ name: source.archivePath, root: source.root, exclude: sourceExcludes(source, userExclude) }];
    for await (const e of walkItems(items, onWarning)) {
      // Opening a WAL database (our own capture included) leaves an empty -wal file behind: no content, no change.
      if (e.type === "file" && e.size === 0 && e.archivePath.endsWith(".sqlite-wal")) continue;
      // A folder's mtime only says an entry came or went, which the entries themselves show (SQLite's -shm does not).
      const mtime = e.type === "dir" ? 0 : e.mtimeMs;
      hash.update(`${e.type}\0${e.archivePath}\0${e.size}\0${mtime}\0${e.mode}\0${e.linkTarget ?? ""}\n`);
      if (e.type !== "file") continue;
      files++;
      bytes += e.size;
      if (isDatabaseName(path.basename(e.archivePath))) {
        const rel = e.archivePath === source.archivePath ? "" : e.archivePath.slice(source.archivePath.length + 1);
        databases.push({ source, rel, livePath: e.absPath });
      }
    }
  }
  return { fingerprint: hash.digest("hex"), files, bytes, databases };
}
