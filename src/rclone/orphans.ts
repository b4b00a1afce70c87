// rclone children run in their own process group so a timeout can end the whole tree. The flip side:
// if this process is killed with SIGKILL, its rclone keeps running. Each run records its children next
// to the lock; the next run stops any that are still alive before touching the same files.
import { appendFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import os from "node:os";
import { ownerAlive, processStartTime } from "../state/lock.js";
import type { Logger } from "../util/logger.js";

/** Synchronous on purpose: the record must be on disk before this process can be killed after the spawn. */
export function recordChild(file: string, pid: number): void {
  try {
    appendFileSync(file, `${JSON.stringify({ pid, host: os.hostname(), startTime: processStartTime(pid) })}\n`, { mode: 0o600 });
  } catch {
    // the state dir vanished or is full: the child still runs under this process's control
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function stopOrphans(file: string, log: Logger): Promise<void> {
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch {
    return;
  }
  for (const line of text.split("\n").filter(Boolean)) {
    let rec: { pid: number; host: string; startTime?: string };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      continue;
    }
    const info = { ...rec, purpose: "rclone", since: "", nonce: "" };
    if (rec.host !== os.hostname() || !rec.startTime || !ownerAlive(info)) continue;
    log.warn(`stopping rclone (pid ${rec.pid}) left running by an interrupted run`);
    try {
      process.kill(-rec.pid, "SIGTERM");
    } catch {
      // gone
    }
    for (let i = 0; i < 50 && ownerAlive(info); i++) await sleep(100);
    if (ownerAlive(info)) {
      try {
        process.kill(-rec.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
  await rm(file, { force: true });
}
