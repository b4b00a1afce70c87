// The live tree as a backup sees it: one archive item per source (with its excludes), and the tree fingerprint
// (paths, sizes, mtimes, modes, link targets) that lets a scheduled run skip when nothing changed.
import { createHash, type Hash } from "node:crypto";
import { type ArchiveItem, walkItems, type WalkEntry } from "./tree-walk.js";
import type { ItemSource } from "./items.js";

/** SQLite's shared-memory index changes on every read: never part of the fingerprint or the archive. */
const VOLATILE = ["*.sqlite-shm"];

export function sourceItems(sources: readonly ItemSource[], userExclude: readonly string[]): ArchiveItem[] {
  return sources.map((s) => ({ name: s.archivePath, root: s.root, exclude: [...userExclude, ...s.exclude, ...VOLATILE] }));
}

export class TreeFingerprint {
  private readonly hash: Hash = createHash("sha256");
  /** Lines not hashed yet: one update per ~64 KiB instead of one per entry (the digest is the same). */
  private pending = "";
  files = 0;
  bytes = 0;

  update(e: WalkEntry): void {
    // Opening a WAL database (our own capture included) leaves an empty -wal file behind: no content, no change.
    if (e.type === "file" && e.size === 0 && e.archivePath.endsWith(".sqlite-wal")) return;
    // A folder's mtime only says an entry came or went, which the entries themselves show (SQLite's -shm does not).
    const mtime = e.type === "dir" ? 0 : e.mtimeMs;
    this.pending += `${e.type}\0${e.archivePath}\0${e.size}\0${mtime}\0${e.mode}\0${e.linkTarget ?? ""}\n`;
    if (this.pending.length >= 65536) {
      this.hash.update(this.pending);
      this.pending = "";
    }
    if (e.type === "file") {
      this.files++;
      this.bytes += e.size;
    }
  }

  digest(): string {
    this.hash.update(this.pending);
    this.pending = "";
    return this.hash.digest("hex");
  }
}

/** Walks the live items once for the fingerprint and the totals (the pre-scan of a scheduled run). */
export async function scanItems(items: ArchiveItem[], onWarning: (m: string) => void = () => {}): Promise<{ fingerprint: string; files: number; bytes: number }> {
  const fp = new TreeFingerprint();
  for await (const e of walkItems(items, { onWarning })) fp.update(e);
  return { fingerprint: fp.digest(), files: fp.files, bytes: fp.bytes };
}
