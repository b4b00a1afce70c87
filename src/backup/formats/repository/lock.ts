// Repository locks compatible with restic (v0.14 internal/restic/lock.go; HEAD internal/repository/lock*.go).
// A lock is an unpacked file in locks/: {"time","exclusive","hostname","username","pid","uid"?,"gid"?}.
// - Backup holds a shared (non-exclusive) lock; prune and check take an exclusive one. Shared locks coexist;
//   an exclusive lock excludes every other lock.
// - Acquire: look for conflicting locks, write ours, wait 200 ms, look again (a racing writer may have appeared);
//   on a conflict ours is removed and the error names the holder (host, pid, user, time) and the way out.
// - Refresh every 5 minutes: a new lock file with a new time, then the old one is deleted. A lock that cannot be
//   refreshed for 22.5 minutes, or that someone removed, is lost: `lock.signal` aborts so the caller stops writing.
// - Stale = older than 30 minutes, or made on this host by a process that no longer exists. restic tests the
//   latter by sending SIGHUP to the pid (only `restic unlock` does); a Node process dies of SIGHUP by default, so
//   while a lock is held this module keeps a SIGHUP listener installed (see holdSighup). A caller that treats
//   SIGHUP as "stop" (src/cli/interrupt.ts does today) must not do so while it holds a repository lock, or a
//   `restic unlock` on the same host stops the backup.
import os from "node:os";
import type { CryptoKey } from "./crypto.js";
import { IntegrityError, RepositoryLockedError } from "./errors.js";
import { type Id, isId, shortId } from "./ids.js";
import { goTimeUtc } from "./key.js";
import type { CallOptions, Storage } from "./storage.js";
import { loadUnpacked, parseDocument, saveUnpacked } from "./unpacked.js";

export interface LockDoc {
  time: string;
  exclusive: boolean;
  hostname: string;
  username: string;
  pid: number;
  uid?: number;
  gid?: number;
}

export interface LockTimings {
  /** Pause between writing our lock and the second conflict check (restic: 200 ms). */
  waitBeforeCheckMs: number;
  /** restic: 5 min. */
  refreshMs: number;
  /** Older than this = stale (restic: 30 min). */
  staleMs: number;
  /** Give up refreshing after this long without success (restic HEAD: 30 − 7.5 min). */
  refreshGiveUpMs: number;
  /** Delays between attempts to read a lock file that failed to load (restic HEAD: 5 s, doubling, 4 tries). */
  unreadableRetryMs: number[];
}

export const RESTIC_LOCK_TIMINGS: LockTimings = {
  waitBeforeCheckMs: 200,
  refreshMs: 5 * 60_000,
  staleMs: 30 * 60_000,
  refreshGiveUpMs: 22.5 * 60_000,
  unreadableRetryMs: [5_000, 10_000, 20_000],
};

export interface RepoAccess {
  storage: Storage;
  key: CryptoKey;
  version: number;
}

export interface LockEntry {
  id: Id;
  lock: LockDoc;
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0); // signal 0: existence check only (restic sends SIGHUP; the answer is the same)
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface StaleCheck {
  now?: number;
  hostname?: string;
  alive?: (pid: number) => boolean;
  staleMs?: number;
}

/** Why a lock is stale ("expired" / "dead-process"), or undefined when it is live (restic Lock.Stale). */
export function staleness(lock: LockDoc, check: StaleCheck = {}): "expired" | "dead-process" | undefined {
  if (lock.hostname === (check.hostname ?? os.hostname()) && !(check.alive ?? processAlive)(lock.pid)) return "dead-process";
  const t = Date.parse(lock.time);
  const now = check.now ?? Date.now();
  if (!Number.isFinite(t) || now - t > (check.staleMs ?? RESTIC_LOCK_TIMINGS.staleMs)) return "expired";
  return undefined;
}

export function describeLock(entry: LockEntry, now = Date.now()): string {
  const { lock } = entry;
  const t = Date.parse(lock.time);
  const ago = Number.isFinite(t) ? ` (${Math.max(0, Math.round((now - t) / 60_000))} min ago)` : "";
  return `PID ${lock.pid} on ${lock.hostname || "?"} by ${lock.username || "?"}, created at ${lock.time}${ago}, lock file locks/${shortId(entry.id)}`;
}

function parseLock(doc: unknown, id: Id): LockDoc {
  const l = doc as Partial<LockDoc> | null;
  if (!l || typeof l.time !== "string" || typeof l.exclusive !== "boolean" || typeof l.pid !== "number") {
    throw new IntegrityError(`locks/${id} is not a lock document`, `locks/${id}`);
  }
  return { time: l.time, exclusive: l.exclusive, hostname: String(l.hostname ?? ""), username: String(l.username ?? ""), pid: l.pid, uid: l.uid, gid: l.gid };
}

export async function loadLock(repo: RepoAccess, id: Id, opts?: CallOptions): Promise<LockDoc> {
  return parseLock(parseDocument("locks", id, await loadUnpacked(repo.storage, repo.key, repo.version, "locks", id, opts)), id);
}

/**
 * Every lock in locks/ (0-byte files skipped, as restic does). A lock that vanishes while being read was released
 * and is skipped; one that cannot be read is retried (a writer may be mid-upload), then reported.
 */
export async function listLocks(repo: RepoAccess, opts: CallOptions & { exclude?: Id; retryMs?: number[] } = {}): Promise<LockEntry[]> {
  const delays = opts.retryMs ?? RESTIC_LOCK_TIMINGS.unreadableRetryMs;
  for (let attempt = 0; ; attempt++) {
    const files = (await repo.storage.list("locks", opts)).filter((f) => f.size > 0 && isId(f.name) && f.name !== opts.exclude);
    const out: LockEntry[] = [];
    let unreadable: Error | undefined;
    for (const f of files) {
      try {
        out.push({ id: f.name, lock: await loadLock(repo, f.name, opts) });
      } catch (err) {
        if ((err as { status?: number }).status === 404) continue;
        unreadable = err as Error;
      }
    }
    if (!unreadable) return out;
    if (attempt >= delays.length) {
      throw new IntegrityError(`a lock file cannot be read, so it is unclear whether the repository is in use: ${unreadable.message}; if no other backup or prune runs, remove it with \`restic unlock --remove-all\``, "locks/");
    }
    await new Promise((r) => setTimeout(r, delays[attempt]));
  }
}

/** Removes stale locks as `restic unlock` does; returns the removed ones. */
export async function removeStaleLocks(repo: RepoAccess, opts: CallOptions & StaleCheck & { only?: "dead-process" } = {}): Promise<LockEntry[]> {
  const removed: LockEntry[] = [];
  for (const entry of await listLocks(repo, { ...opts, retryMs: [] }).catch(() => [] as LockEntry[])) {
    const why = staleness(entry.lock, opts);
    if (!why || (opts.only && why !== opts.only)) continue;
    await repo.storage.remove("locks", entry.id, opts);
    removed.push(entry);
  }
  return removed;
}

let sighupHolds = 0;
const ignoreSighup = () => {};

/**
 * Keeps the process alive through SIGHUP while a lock with our real pid exists (restic probes lock holders on the
 * same host with SIGHUP). Returns the release function. Refcounted: several locks may be held.
 */
export function holdSighup(): () => void {
  if (sighupHolds++ === 0) process.on("SIGHUP", ignoreSighup);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--sighupHolds === 0) process.off("SIGHUP", ignoreSighup);
  };
}

export interface AcquireOptions extends CallOptions {
  exclusive: boolean;
  timings?: Partial<LockTimings>;
  /** Remove locks of dead processes on this host first (certainly stale; default true). */
  removeDeadLocalLocks?: boolean;
  /** Called when refreshing fails (the lock is kept while it can still be refreshed in time). */
  onRefreshError?: (err: Error) => void;
  /**
   * Return once the lock file is written; the second conflict check (after waitBeforeCheckMs) runs meanwhile and
   * settles `confirmed`. For a backup: it may read and upload packs at once (nothing refers to them yet), but must
   * await `confirmed` before its first index or snapshot file.
   */
  confirmLater?: boolean;
}

export class RepositoryLock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  /** Settles when no conflicting lock showed up in the second check (at once unless acquired with confirmLater). */
  confirmed: Promise<void> = Promise.resolve();
  private lastRefresh = Date.now();
  private readonly lost = new AbortController();
  private readonly releaseSighup: () => void;

  private constructor(
    private readonly repo: RepoAccess,
    private currentId: Id,
    readonly doc: LockDoc,
    private readonly timings: LockTimings,
    private readonly onRefreshError?: (err: Error) => void,
  ) {
    this.releaseSighup = holdSighup();
    this.schedule(timings.refreshMs);
  }

  /** Name of the current lock file (changes on every refresh). */
  get id(): Id {
    return this.currentId;
  }

  /** Aborts when the lock is lost (removed by someone else, or not refreshed in time): stop writing then. */
  get signal(): AbortSignal {
    return this.lost.signal;
  }

  static async acquire(repo: RepoAccess, opts: AcquireOptions): Promise<RepositoryLock> {
    const timings = { ...RESTIC_LOCK_TIMINGS, ...opts.timings };
    const doc = newLockDoc(opts.exclusive);
    const conflict = async (exclude?: Id) => {
      const locks = await listLocks(repo, { signal: opts.signal, exclude, retryMs: timings.unreadableRetryMs });
      return locks.find((l) => opts.exclusive || l.lock.exclusive);
    };
    // Locks of dead processes on this host (a killed run) go first, conflicting or not: restic 0.14's own check and
    // prune refuse to start while any lock exists, so a dead shared lock would block them for 30 minutes.
    // One listing serves both (a request less on every run).
    const present: LockEntry[] = [];
    for (const entry of await listLocks(repo, { signal: opts.signal, retryMs: timings.unreadableRetryMs })) {
      if ((opts.removeDeadLocalLocks ?? true) && staleness(entry.lock, { staleMs: timings.staleMs }) === "dead-process") await repo.storage.remove("locks", entry.id, opts);
      else present.push(entry);
    }
    const before = present.find((l) => opts.exclusive || l.lock.exclusive);
    if (before) throw lockedError(repo, before, opts.exclusive, timings);
    const id = await saveLock(repo, doc, opts);
    const confirm = async () => {
      try {
        await new Promise((r) => setTimeout(r, timings.waitBeforeCheckMs));
        const after = await conflict(id);
        if (after) throw lockedError(repo, after, opts.exclusive, timings);
      } catch (err) {
        await repo.storage.remove("locks", id).catch(() => {});
        throw err;
      }
    };
    if (!opts.confirmLater) {
      await confirm();
      return new RepositoryLock(repo, id, doc, timings, opts.onRefreshError);
    }
    const lock = new RepositoryLock(repo, id, doc, timings, opts.onRefreshError);
    lock.confirmed = confirm().catch((err: Error) => {
      lock.released = true;
      clearTimeout(lock.timer);
      lock.releaseSighup();
      throw err;
    });
    lock.confirmed.catch(() => {}); // awaited by the holder before its first visible write
    return lock;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.refreshNow().catch(() => {}), ms);
    this.timer.unref();
  }

  /** Writes a fresh lock file and deletes the previous one (also runs on its own every refreshMs). */
  async refreshNow(): Promise<void> {
    if (this.released || this.lost.signal.aborted) return;
    clearTimeout(this.timer);
    try {
      if ((await this.repo.storage.stat("locks", this.currentId)) === undefined) {
        this.lose(new Error(`the repository lock locks/${shortId(this.currentId)} was removed by someone else (restic unlock?)`));
        return;
      }
      this.doc.time = goTimeUtc(new Date());
      const fresh = await saveLock(this.repo, this.doc);
      const old = this.currentId;
      this.currentId = fresh;
      this.lastRefresh = Date.now();
      await this.repo.storage.remove("locks", old).catch(() => {});
      this.schedule(this.timings.refreshMs);
    } catch (err) {
      this.onRefreshError?.(err as Error);
      if (Date.now() - this.lastRefresh > this.timings.refreshGiveUpMs) {
        this.lose(new Error(`the repository lock could not be refreshed for ${Math.round((Date.now() - this.lastRefresh) / 60_000)} min: ${(err as Error).message}`));
      } else {
        this.schedule(Math.min(60_000, this.timings.refreshMs));
      }
    }
  }

  private lose(reason: Error): void {
    clearTimeout(this.timer);
    this.lost.abort(reason);
  }

  /** Deletes the lock file and stops refreshing. Safe to call twice. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.timer);
    try {
      await this.repo.storage.remove("locks", this.currentId);
    } finally {
      this.releaseSighup();
    }
  }
}

function newLockDoc(exclusive: boolean): LockDoc {
  const doc: LockDoc = { time: goTimeUtc(new Date()), exclusive, hostname: os.hostname(), username: "", pid: process.pid };
  try {
    const u = os.userInfo();
    doc.username = u.username;
    if (u.uid > 0) doc.uid = u.uid;
    if (u.gid > 0) doc.gid = u.gid;
  } catch {
    // no passwd entry: restic leaves these empty too
  }
  return doc;
}

async function saveLock(repo: RepoAccess, doc: LockDoc, opts?: CallOptions): Promise<Id> {
  const json: Record<string, unknown> = { time: doc.time, exclusive: doc.exclusive, hostname: doc.hostname, username: doc.username, pid: doc.pid };
  if (doc.uid) json.uid = doc.uid;
  if (doc.gid) json.gid = doc.gid;
  return saveUnpacked(repo.storage, repo.key, repo.version, "locks", JSON.stringify(json), opts);
}

function lockedError(repo: RepoAccess, other: LockEntry, wantExclusive: boolean, timings: LockTimings): RepositoryLockedError {
  const how = other.lock.exclusive ? "exclusively " : "";
  const stale = staleness(other.lock, { staleMs: timings.staleMs });
  const hint =
    stale === "expired"
      ? "The lock is older than 30 minutes and was not refreshed, so its holder is most likely gone: remove it with `restic unlock` (it removes only stale locks)."
      : stale === "dead-process"
        ? `Process ${other.lock.pid} no longer runs on this host: remove the stale lock with \`restic unlock\`.`
        : wantExclusive
          ? "Wait until that run finishes (prune and check need the repository to themselves), then try again."
          : "Wait until that run (a prune or check) finishes, then try again.";
  return new RepositoryLockedError(`the repository at ${repo.storage.location} is already locked ${how}by ${describeLock(other)}. ${hint}`);
}
