// Persisted backup state (0600, atomic) for `backup status`, the plugin's /sync-status and skip-unchanged; plus
// the names of data objects this state dir started uploading and has not committed yet, so the next run can
// remove what a killed run left behind without waiting for the grace period that protects other hosts' uploads.
import path from "node:path";
import { productDir } from "../state/paths.js";
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
  files?: number;
  bytes?: number;
  storedBytes?: number;
  pruned?: string[];
  cleaned?: string[];
  warnings?: string[];
}

export interface BackupState {
  lastRun?: BackupRunRecord;
  lastSuccess?: BackupRunRecord;
  lastSkipped?: { at: string; reason: string; trigger: string };
  skippedCount?: number;
  /** The last committed snapshot's tree fingerprint, tied to the settings that produced it. */
  fingerprint?: { settings: string; value: string; snapshot: string };
  /** Data objects started here and not committed yet (cleaned by the next run). */
  pending: string[];
  /** Recent failures (newest last), for status. */
  errors: { at: string; message: string }[];
}

const EMPTY: BackupState = { pending: [], errors: [] };
const MAX_ERRORS = 10;

export function backupStateFile(stateDir: string): string {
  return path.join(productDir(stateDir), "backup-state.json");
}

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

export async function readBackupState(stateDir: string): Promise<BackupState> {
  const s = await readJson<BackupState>(backupStateFile(stateDir), { ...EMPTY });
  return { ...s, pending: s.pending ?? [], errors: s.errors ?? [] };
}

export async function updateBackupState(stateDir: string, change: (s: BackupState) => void): Promise<BackupState> {
  return updateJson<BackupState>(backupStateFile(stateDir), { ...EMPTY, pending: [], errors: [] }, (s) => {
    s.pending ??= [];
    s.errors ??= [];
    change(s);
    s.errors = s.errors.slice(-MAX_ERRORS);
  });
}
