// What each folder of a snapshot held when this install stored it: snapshot path → the folder's tree ID and a digest
// of its children's nodes as lstat gave them (node.ts nodeKey, subfolders with their tree IDs). The next backup with
// that snapshot as its parent keeps a folder's tree when the digest comes out the same, without reading the parent's
// tree (archiver.ts): an unchanged run then decodes no trees at all.
//
// Local only: <cacheDir>/<repository ID>/folders/<snapshot ID>, encrypted and authenticated with the repository's
// master key (the paths are names from the workspace), 0600, written after the snapshot is committed. Any doubt means
// no records and the run reads the parent's trees as before: a file that cannot be read or opened, or an index file it
// was made with that is gone (a prune or `restic repair index` rewrote the index: blobs may have gone with it).
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { type CryptoKey, open, seal } from "./crypto.js";
import { type Id, isId } from "./ids.js";

export interface FolderRecord {
  /** The folder's tree in the snapshot. */
  tree: Id;
  /** sha256 of its children's node keys; absent when a child was stored differently from its lstat (never reused). */
  digest?: string;
}

export type FolderRecords = ReadonlyMap<string, FolderRecord>;

interface RecordsDoc {
  v: 1;
  /** The index files the repository had when the records were written. */
  indexFiles: Id[];
  /** [path, tree, digest or ""]. */
  folders: [string, Id, string][];
}

/** Record files kept per repository (one per snapshot; several groups may back up from one install). */
const KEEP = 8;

const folderDir = (cacheDir: string, repoId: Id) => path.join(cacheDir, repoId, "folders");

/** The records of `snapshot`, or undefined when there are none this run may trust. */
export async function loadFolderRecords(cacheDir: string, repoId: Id, key: CryptoKey, snapshot: Id, indexFiles: ReadonlySet<Id>): Promise<FolderRecords | undefined> {
  try {
    const doc = JSON.parse(open(key, await readFile(path.join(folderDir(cacheDir, repoId), snapshot))).toString("utf8")) as RecordsDoc;
    if (doc.v !== 1 || !Array.isArray(doc.indexFiles) || !Array.isArray(doc.folders)) return undefined;
    if (!doc.indexFiles.every((id) => indexFiles.has(id))) return undefined;
    const records = new Map<string, FolderRecord>();
    for (const [p, tree, digest] of doc.folders) {
      if (typeof p !== "string" || !isId(tree) || typeof digest !== "string") return undefined;
      records.set(p, digest ? { tree, digest } : { tree });
    }
    return records;
  } catch {
    return undefined;
  }
}

/** Best effort (a record only saves time): keeps the newest few record files, drops the rest and any temporary file. */
export async function saveFolderRecords(cacheDir: string, repoId: Id, key: CryptoKey, snapshot: Id, records: FolderRecords, indexFiles: Iterable<Id>): Promise<void> {
  const dir = folderDir(cacheDir, repoId);
  const doc: RecordsDoc = { v: 1, indexFiles: [...indexFiles].sort(), folders: [...records].map(([p, r]) => [p, r.tree, r.digest ?? ""]) };
  const file = path.join(dir, snapshot);
  const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, seal(key, Buffer.from(JSON.stringify(doc), "utf8")), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, file);
    const names = await readdir(dir);
    // A temporary file is a killed run's (runs of one install never overlap: its backup lock).
    for (const n of names) if (n.endsWith(".tmp")) await rm(path.join(dir, n), { force: true });
    const dated = await Promise.all(names.filter(isId).map(async (n) => ({ n, t: (await stat(path.join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    dated.sort((a, b) => b.t - a.t);
    for (const { n } of dated.slice(KEEP)) await rm(path.join(dir, n), { force: true });
  } catch {
    await rm(tmp, { force: true }).catch(() => {});
  }
}
