// rclone runs in its own process group, so a backup killed with SIGKILL leaves its `rclone rcat` running: it sees
// end-of-input and completes a truncated upload, possibly after the next run looked at the repository. The next
// run (holding the backup lock) therefore stops any rcat of a snapshot name into this repository through this
// state dir's rclone.conf before it looks — including one spawned in the instant before it could be recorded.
import { readdir, readFile } from "node:fs/promises";
import type { ResolvedRemote } from "../../../rclone/remotes.js";
import type { Logger } from "../../../util/logger.js";
import { parseOurName, snapshotOfManifest } from "./naming.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function isOurUpload(argv: string[], remote: ResolvedRemote): boolean {
  if (!argv.includes("rcat")) return false;
  const conf = argv.indexOf("--config");
  if (conf < 0 || argv[conf + 1] !== remote.configPath) return false;
  const base = remote.path("");
  return argv.some((arg) => {
    if (!arg.startsWith(base)) return false;
    const name = arg.slice(base.length).replace(/^\//, "");
    return !name.includes("/") && (!!parseOurName(name) || !!snapshotOfManifest(name));
  });
}

async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills orphaned uploads of a previous run (Linux /proc; elsewhere the recorded children cover it). */
export async function stopOrphanUploads(remote: ResolvedRemote, log: Logger): Promise<number> {
  let pids: string[];
  try {
    pids = (await readdir("/proc")).filter((n) => /^\d+$/.test(n));
  } catch {
    return 0;
  }
  const found: number[] = [];
  for (const p of pids) {
    const pid = Number(p);
    if (pid === process.pid) continue;
    const argv = await readFile(`/proc/${p}/cmdline`, "utf8")
      .then((t) => t.split("\0"))
      .catch(() => [] as string[]);
    if (isOurUpload(argv, remote)) found.push(pid);
  }
  for (const pid of found) {
    log.warn(`stopping an upload left running by an interrupted backup (rclone pid ${pid})`);
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 50 && found.length; i++) {
    if (!(await Promise.all(found.map(alive))).some(Boolean)) break;
    await sleep(100);
  }
  return found.length;
}
