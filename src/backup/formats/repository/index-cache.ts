// A local copy of the repository's index files under the state dir (the caller passes the folder), so an
// incremental run downloads only index files it has not seen. Files are stored exactly as in the repository
// (encrypted, named by their SHA-256), folders 0700 and files 0600; a cached file whose bytes no longer hash to its
// name is dropped and fetched again. Files the repository no longer lists are removed from the cache.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { hashId, type Id, isId } from "./ids.js";

export class FileCache {
  private readonly dir: string;

  /** `root` is the caller's cache folder; each repository gets its own subfolder by repository ID. */
  constructor(root: string, repoId: Id, type: "index" | "snapshots" | "tree-packs" | "key-files") {
    this.dir = path.join(root, repoId, type);
  }

  /** Key files of every repository (opened before the repository ID is known): `<root>/key-files/`. */
  static keyFiles(root: string): FileCache {
    return new FileCache(root, "", "key-files");
  }

  async get(id: Id): Promise<Buffer | undefined> {
    try {
      const bytes = await readFile(path.join(this.dir, id));
      if (hashId(bytes) === id) return bytes;
      await rm(path.join(this.dir, id), { force: true });
    } catch {
      // not cached
    }
    return undefined;
  }

  /** A cached file that still hashes to its name, read synchronously (a small file, needed before anything else). */
  getSync(id: Id): Buffer | undefined {
    try {
      const bytes = readFileSync(path.join(this.dir, id));
      return hashId(bytes) === id ? bytes : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Best effort: the cache only saves downloads, so a full disk or a read-only state dir must not fail a backup or a
   * restore. Returns false when the file could not be kept (no temporary file is left behind).
   */
  async put(id: Id, bytes: Buffer): Promise<boolean> {
    const file = path.join(this.dir, id);
    const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFile(tmp, bytes, { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, file);
      return true;
    } catch {
      await rm(tmp, { force: true }).catch(() => {});
      return false;
    }
  }

  /** Drops cached files that are not in `keep` (deleted from the repository by prune, ours or restic's). */
  async retain(keep: ReadonlySet<Id>): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const ours = isId(name);
      if ((ours && keep.has(name)) || (!ours && !String(name).endsWith(".tmp"))) continue;
      await rm(path.join(this.dir, name), { force: true });
    }
  }
}
