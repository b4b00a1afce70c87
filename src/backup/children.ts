// The rclone children of a backup run, recorded next to the backup lock as each one starts: a run killed with SIGKILL
// leaves them running in their own process groups, and the next run stops them (rclone/orphans.ts) before it looks
// at the folder.
import { appendFileSync } from "node:fs";
import os from "node:os";
import { processStartTime } from "../state/lock.js";

/** Records an rclone child before anything else can happen (stopOrphans of the next run reads this file). */
export function recordChildSync(file: string, pid: number): void {
  try {
    appendFileSync(file, `${JSON.stringify({ pid, host: os.hostname(), startTime: processStartTime(pid) })}\n`, { mode: 0o600 });
  } catch {
    // best effort: a format that can also find its stray writers another way does so (archive: a /proc scan)
  }
}
