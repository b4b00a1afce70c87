// The entries the tar stream archives: the live walk, except that each live SQLite database (OpenClaw keeps cron,
// sessions, transcripts and auth in WAL-mode SQLite) is replaced, as the walk reaches it, by a consistent copy
// made with SQLite's online backup, and its -wal/-journal are left out (the copy holds their committed content).
// Copies live in the run's transient folder — the only local disk a backup uses — one at a time: the packer has
// read a copy completely before it asks for the next entry, so the copy is deleted then.
import { lstat, rm } from "node:fs/promises";
import path from "node:path";
import { type ArchiveItem, walkItems, type WalkEntry } from "./tree-walk.js";
import type { TreeFingerprint } from "./scan.js";
import { captureDatabase, NotADatabaseError } from "./sqlite-capture.js";

export interface CaptureOptions {
  transientDir: string;
  /** Fed every live entry, for the fingerprint recorded with the snapshot. */
  fingerprint?: TreeFingerprint;
  onWarning?: (m: string) => void;
  /** Told the archive path of each database captured. */
  onDatabase?: (archivePath: string) => void;
  /** Hand each entry the walk's lstat (see WalkOptions.stats); a captured copy gets none (it is not the live file). */
  stats?: boolean;
}

const COMPANION = /^(.*\.sqlite)-(wal|journal)$/;

/** A copy and whatever SQLite may have put beside it. */
const removeCopy = (copy: string) => Promise.all(["", "-wal", "-shm", "-journal"].map((s) => rm(copy + s, { force: true })));

export async function* capturingEntries(items: ArchiveItem[], opts: CaptureOptions): AsyncGenerator<WalkEntry> {
  const captured = new Set<string>();
  let n = 0;
  let lastCopy: string | undefined;
  try {
    for await (const e of walkItems(items, { onWarning: opts.onWarning, stats: opts.stats })) {
      if (lastCopy) {
        await removeCopy(lastCopy);
        lastCopy = undefined;
      }
      opts.fingerprint?.update(e);
      if (e.type !== "file") {
        yield e;
        continue;
      }
      const companion = COMPANION.exec(e.absPath);
      if (companion && captured.has(companion[1]!)) continue;
      if (!e.absPath.endsWith(".sqlite")) {
        yield e;
        continue;
      }
      const copy = path.join(opts.transientDir, `db-${n++}.sqlite`);
      try {
        await captureDatabase(e.absPath, copy);
      } catch (err) {
        if (!(err instanceof NotADatabaseError)) throw err;
        opts.onWarning?.(`${e.absPath} is named .sqlite but is not a database: archived as a plain file`);
        yield e;
        continue;
      }
      captured.add(e.absPath);
      opts.onDatabase?.(e.archivePath);
      lastCopy = copy;
      const { stats: _live, ...rest } = e;
      yield { ...rest, absPath: copy, size: (await lstat(copy)).size, transient: true };
    }
  } finally {
    if (lastCopy) await removeCopy(lastCopy);
  }
}
