// Persisted backup state (0600, atomic) for `backup status`, the plugin's /sync-status and skip-unchanged; plus
// the ownership journal: what this install started writing (or deleting) and has not finished, with the run that
// did it, so the next run can prove which leftovers are its own (see leftovers.ts).
import os from "node:os";
import path from "node:path";
import { backupStateFile, productDir } from "../state/paths.js";
import { readJson, updateJson } from "../state/state-store.js";

export interface BackupRunRecord {
  trigger: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  ok: boolean;
  skipped?: boolean;
  reason?: string;
  error?: string;
  snapshot?: string;
  shortId?: string;
  files?: number;
  bytes?: number;
  storedBytes?: number;
  pruned?: string[];
  cleaned?: string[];
  warnings?: string[];
}

/** One journal record: a format's key (archive: the snapshot object name) and the run that began writing it. */
export interface PendingWrite {
  key: string;
  format: string;
  host: string;
  pid: number;
  /** Process start time (Linux), to tell a reused pid from the writer. */
  startTime?: string;
  at: string;
}

export interface BackupState {
  lastRun?: BackupRunRecord;
  lastSuccess?: BackupRunRecord;
  lastSkipped?: { at: string; reason: string; trigger: string };
  skippedCount?: number;
  /** The last committed snapshot's tree fingerprint, tied to the settings that produced it. */
  fingerprint?: { settings: string; value: string; snapshot: string };
  /** Writes (and deletions) begun here and not finished: their leftovers are provably this install's. */
  pending: PendingWrite[];
  /** Recent failures (newest last), for status. */
  errors: { at: string; message: string }[];
}

const EMPTY: BackupState = { pending: [], errors: [] };
const MAX_ERRORS = 10;

export function backupLockFile(stateDir: string): string {
  return path.join(productDir(stateDir), "locks", "backup.lock");
}

export function manifestCacheFile(stateDir: string): string {
  return path.join(productDir(stateDir), "backup-manifests.json");
}

/** Transient folder of one run (SQLite captures): the only local disk a backup uses. */
export function transientRoot(stateDir: string): string {
  return path.join(productDir(stateDir), "backup-tmp");
}

/**
 * Earlier versions kept bare object names. Those were recorded by a run that has ended (this version now holds the
 * lock), so they read as records of a writer that is gone (pid 0).
 */
function normalizePending(pending: unknown): PendingWrite[] {
  if (!Array.isArray(pending)) return [];
  return pending.flatMap((p): PendingWrite[] => {
    if (typeof p === "string") return [{ key: p, format: "archive", host: os.hostname(), pid: 0, at: "" }];
    if (p && typeof p === "object" && typeof (p as PendingWrite).key === "string") return [p as PendingWrite];
    return [];
  });
}

export async function readBackupState(stateDir: string): Promise<BackupState> {
  const s = await readJson<BackupState>(backupStateFile(stateDir), { ...EMPTY });
  return { ...s, pending: normalizePending(s.pending), errors: s.errors ?? [] };
}

/** Whether this install has committed a snapshot before: its next backup is likely incremental (cli/heap-tuning.ts). */
export async function hasCommittedSnapshot(stateDir: string): Promise<boolean> {
  return !!(await readBackupState(stateDir)).lastSuccess?.snapshot;
}

export async function updateBackupState(stateDir: string, change: (s: BackupState) => void): Promise<BackupState> {
  return updateJson<BackupState>(backupStateFile(stateDir), { ...EMPTY, pending: [], errors: [] }, (s) => {
    s.pending = normalizePending(s.pending);
    s.errors ??= [];
    change(s);
    s.errors = s.errors.slice(-MAX_ERRORS);
  });
}
