// Consistent copies of live SQLite databases (OpenClaw keeps cron, sessions, transcripts and auth in WAL-mode
// SQLite): SQLite's online backup API reads committed state, WAL included, never a torn file copy. The copy lands
// in the run's transient folder — the only local disk a backup uses — and takes the live file's mode and mtime.
import { chmod, lstat, utimes } from "node:fs/promises";

export class NotADatabaseError extends Error {
  constructor(file: string) {
    super(`${file} is not an SQLite database`);
    this.name = "NotADatabaseError";
  }
}

const SQLITE_NOTADB = 26;
// One step copies every page inside a single read transaction: in WAL mode that never blocks the writer, and it
// cannot restart forever the way page-by-page steps do while the gateway keeps writing.
const ALL_PAGES = 0x7fffffff;

export async function captureDatabase(livePath: string, copyPath: string): Promise<void> {
  const { DatabaseSync, backup } = await import("node:sqlite");
  const st = await lstat(livePath);
  let db: InstanceType<typeof DatabaseSync> | undefined;
  try {
    db = new DatabaseSync(livePath, { readOnly: true, timeout: 10_000 });
    await backup(db, copyPath, { rate: ALL_PAGES });
  } catch (err) {
    if ((err as { errcode?: number }).errcode === SQLITE_NOTADB) throw new NotADatabaseError(livePath);
    throw new Error(`cannot capture the SQLite database ${livePath}: ${(err as Error).message}`, { cause: err });
  } finally {
    db?.close();
  }
  await chmod(copyPath, st.mode & 0o7777);
  await utimes(copyPath, st.atime, st.mtime);
}
