// Turns the live sources into the tar stream's items: live SQLite databases are captured into the run's
// transient folder and archived from there under their live archive path, while the live files (and their WAL
// and journal) are excluded from the folder walk.
import path from "node:path";
import type { ArchiveItem } from "./archive/index.js";
import { escapeGlob } from "./codec.js";
import type { ItemSource } from "./items.js";
import type { ScanResult } from "./scan.js";
import { sourceExcludes } from "./scan.js";
import { captureDatabase, NotADatabaseError } from "./sqlite-capture.js";

export interface ArchivePlan {
  items: ArchiveItem[];
  /** Archive paths of the captured databases. */
  databases: string[];
  warnings: string[];
}

export async function planArchive(
  sources: readonly ItemSource[],
  scan: ScanResult,
  userExclude: readonly string[],
  transientDir: string,
  signal?: AbortSignal,
): Promise<ArchivePlan> {
  const warnings: string[] = [];
  const captured = new Map<ItemSource, { rel: string; copy: string }[]>();
  const databases: string[] = [];
  let n = 0;
  for (const db of scan.databases) {
    signal?.throwIfAborted();
    const copy = path.join(transientDir, `db-${n++}.sqlite`);
    try {
      await captureDatabase(db.livePath, copy);
    } catch (err) {
      if (!(err instanceof NotADatabaseError)) throw err;
      warnings.push(`${db.livePath} is named .sqlite but is not a database: archived as a plain file`);
      continue;
    }
    const list = captured.get(db.source) ?? [];
    list.push({ rel: db.rel, copy });
    captured.set(db.source, list);
    databases.push(db.rel ? `${db.source.archivePath}/${db.rel}` : db.source.archivePath);
  }

  const items: ArchiveItem[] = [];
  for (const source of sources) {
    const dbs = captured.get(source) ?? [];
    const whole = dbs.find((d) => d.rel === "");
    if (whole) {
      items.push({ name: source.archivePath, root: whole.copy, exclude: [] });
      continue;
    }
    const exclude = sourceExcludes(source, userExclude);
    for (const d of dbs) for (const suffix of ["", "-wal", "-journal"]) exclude.push(`/${escapeGlob(d.rel + suffix)}`);
    items.push({ name: source.archivePath, root: source.root, exclude });
    for (const d of dbs) items.push({ name: `${source.archivePath}/${d.rel}`, root: d.copy, exclude: [] });
  }
  return { items, databases, warnings };
}
