// The safety net: files a run deletes or overwrites go to a dated trash folder on the same side
// (rclone --backup-dir) and are purged after trashDays.
import type { RcloneBinary } from "../rclone/binary.js";
import { runRclone } from "../rclone/runner.js";
import type { Logger } from "../util/logger.js";
import { listFiles } from "../rclone/listing.js";
import type { RcloneCallOptions } from "./job.js";

/**
 * Trash folder name of one run: UTC time to the millisecond (20261127T154145.123Z). Runs never share a folder:
 * after a kill, the next run moves the half-written copy it replaces into the trash, and in a folder shared
 * with the killed run (same second) that copy would overwrite the original the killed run had saved there.
 */
export function trashStamp(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, "");
}

export function stampDate(name: string): Date | undefined {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z/.exec(name);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

/** Purges trash folders older than `days`; a failure here never fails the cycle. */
export async function purgeTrash(
  bin: RcloneBinary,
  trashRoot: string,
  days: number,
  opts: RcloneCallOptions & { log: Logger; now?: Date },
): Promise<number> {
  const cutoff = (opts.now ?? new Date()).getTime() - days * 86_400_000;
  const { log, now: _now, ...call } = opts;
  let purged = 0;
  try {
    const dirs = await listFiles(bin, trashRoot, { ...call, dirs: true, recursive: false });
    for (const dir of dirs.keys()) {
      const date = stampDate(dir);
      if (!date || date.getTime() >= cutoff) continue;
      const res = await runRclone(bin, { args: ["purge", `${trashRoot}/${dir}`], ...call });
      if (res.code === 0) purged++;
    }
  } catch (err) {
    log.warn(`could not purge old trash in ${trashRoot}: ${(err as Error).message}`);
  }
  return purged;
}
