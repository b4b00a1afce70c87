// Cross-process single-flight lock: one run at a time per workspace across service, hooks, CLI and cron.
// An O_EXCL lock file names its owner (host, pid, process start time); a lock whose owner is gone is
// taken over, a live owner's never is.
import { BusyFailure } from "../util/errors.js";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { writeFailure } from "../util/atomic-file.js";
import os from "node:os";
import path from "node:path";

export interface LockInfo {
  pid: number;
  host: string;
  /** Linux process start time (clock ticks since boot) to tell a reused pid from the owner. */
  startTime?: string;
  purpose: string;
  since: string;
  nonce: string;
}

export class BusyError extends BusyFailure {
  constructor(readonly holder: LockInfo | undefined) {
    super(
      holder
        ? `another run is in progress (${holder.purpose}, pid ${holder.pid} on ${holder.host} since ${holder.since})`
        : "another run is in progress",
    );
    this.name = "BusyError";
  }
}

export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime) after the parenthesised command name, which may itself contain spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** True unless we can prove the owner is gone (same host only; another host's lock is never broken). */
export function ownerAlive(info: LockInfo): boolean {
  if (info.host !== os.hostname()) return true;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    return true; // EPERM: exists, owned by someone else
  }
  const now = processStartTime(info.pid);
  return !(info.startTime && now && now !== info.startTime);
}

async function readInfo(file: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as LockInfo;
  } catch {
    return undefined;
  }
}

export interface Lock {
  file: string;
  info: LockInfo;
  release(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function tryCreate(file: string, info: LockInfo): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw writeFailure(file, err);
  }
  try {
    try {
      await handle.writeFile(JSON.stringify(info));
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    // A lock we could not fill (disk full) must not stay behind looking like someone else's.
    await rm(file, { force: true }).catch(() => {});
    throw writeFailure(file, err);
  }
}

/** Removes a dead owner's lock. A short-lived guard file makes the check-and-remove one process's job. */
async function breakIfStale(file: string): Promise<void> {
  const guard = `${file}.takeover`;
  const guardInfo: LockInfo = { pid: process.pid, host: os.hostname(), purpose: "takeover", since: new Date().toISOString(), nonce: "" };
  if (!(await tryCreate(guard, guardInfo))) {
    // A guard left by a process killed mid-takeover is harmless after a few seconds.
    const st = await stat(guard).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 10_000) await rm(guard, { force: true });
    return;
  }
  try {
    const info = await readInfo(file);
    if (info && ownerAlive(info)) return;
    if (!info) {
      // Unreadable: a writer may be between create and write; only break it once it is clearly old.
      const st = await stat(file).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs < 5_000) return;
    }
    const aside = `${file}.stale-${randomBytes(4).toString("hex")}`;
    await rename(file, aside).catch(() => {});
    await rm(aside, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

/**
 * Acquires the lock, waiting up to waitMs for a live holder to finish; throws BusyError after that.
 */
export async function acquireLock(file: string, purpose: string, waitMs = 0): Promise<Lock> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const info: LockInfo = {
    pid: process.pid,
    host: os.hostname(),
    startTime: processStartTime(process.pid),
    purpose,
    since: new Date().toISOString(),
    nonce: randomBytes(8).toString("hex"),
  };
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await tryCreate(file, info)) break;
    const holder = await readInfo(file);
    if (!holder || !ownerAlive(holder)) {
      await breakIfStale(file);
      continue;
    }
    if (Date.now() >= deadline) throw new BusyError(holder);
    await sleep(Math.min(250, Math.max(10, deadline - Date.now())));
  }
  let released = false;
  return {
    file,
    info,
    async release() {
      if (released) return;
      released = true;
      // Only remove the file if it is still ours.
      const current = await readInfo(file);
      if (current?.nonce === info.nonce) await rm(file, { force: true });
    },
  };
}

export async function readLockHolder(file: string): Promise<LockInfo | undefined> {
  const info = await readInfo(file);
  return info && ownerAlive(info) ? info : undefined;
}
