// Atomic file replacement: readers see the old file or the new one, never half of it.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { OperationError } from "./errors.js";

/** Temp files of this process still being written (a sibling cleanup must not take them). */
const inFlight = new Set<string>();
/** Targets whose dead writers' temp files were looked for already in this process. */
const swept = new Set<string>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
}

/**
 * Temp files `<name>.<pid>.<hex>.tmp` a killed writer left beside `file` (a kill -9, or a full disk before this
 * version removed its own): removed when their writer is gone. Best effort; once per file and process.
 */
async function sweepStaleTemps(file: string): Promise<void> {
  if (swept.has(file)) return;
  swept.add(file);
  const dir = path.dirname(file);
  const base = path.basename(file);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(`${base}.`) || !name.endsWith(".tmp")) continue;
    const m = /^\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(base.length));
    if (!m) continue;
    const full = path.join(dir, name);
    const pid = Number(m[1]);
    if (inFlight.has(full) || (pid !== process.pid && pidAlive(pid))) continue;
    await rm(full, { force: true }).catch(() => {});
  }
}

/** The write failed: say which file, and for a full disk what to do (the bare "ENOSPC: write" names neither). */
export function writeFailure(file: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const dir = path.dirname(file);
  if (code === "ENOSPC" || code === "EDQUOT") {
    const what = code === "ENOSPC" ? "the disk is full (ENOSPC)" : "the disk quota is used up (EDQUOT)";
    return new OperationError(
      `could not write ${file}: ${what}. Free space on the file system that holds ${dir} (the OpenClaw state dir), then run again; the previous version of the file is unchanged`,
      { cause: err },
    );
  }
  if (code === "EROFS" || code === "EACCES" || code === "EPERM") {
    return new OperationError(`could not write ${file} (${code}): make ${dir} writable for this user, then run again; the previous version of the file is unchanged`, {
      cause: err,
    });
  }
  return new OperationError(`could not write ${file}: ${(err as Error).message}`, { cause: err });
}

/** Writes text to file via a temp file + fsync + rename, so readers see the old or the new file, never half. */
export async function writeFileAtomic(file: string, text: string, mode = 0o600): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  inFlight.add(tmp);
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const handle = await open(tmp, "wx", mode);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw writeFailure(file, err);
  } finally {
    inFlight.delete(tmp);
  }
  await sweepStaleTemps(file);
}
